"""feedpub.articles.dates: front matter and header dates -> aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedpub.articles.dates import DateError, ZoneError, date_from_filename, parse_date

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # ISO 8601
        ("2024-03-05", utc(2024, 3, 4, 23)),
        ("2024-07-05", utc(2024, 7, 4, 22)),
        ("2024-03-05T10:20:00", utc(2024, 3, 5, 9, 20)),
        ("2024-03-05T10:20:00+01:00", utc(2024, 3, 5, 9, 20)),
        ("2024-03-05T10:20:00-05:00", utc(2024, 3, 5, 15, 20)),
        ("2024-03-05T10:20:00Z", utc(2024, 3, 5, 10, 20)),
        ("2024-03-05t10:20z", utc(2024, 3, 5, 10, 20)),
        ("2024-03-05T10:20:00.123456+00:00", utc(2024, 3, 5, 10, 20, 0, 123456)),
        ("  2024-03-05T10:20Z  ", utc(2024, 3, 5, 10, 20)),
        ("20240305", utc(2024, 3, 4, 23)),
        # "YYYY-MM-DD HH:MM[:SS] [zone]", one-digit parts allowed
        ("2024-03-05 10:20", utc(2024, 3, 5, 9, 20)),
        ("2024-3-5", utc(2024, 3, 4, 23)),
        ("2024-3-5 9:05", utc(2024, 3, 5, 8, 5)),
        ("2024-03-05 10:20:30.5 UTC", utc(2024, 3, 5, 10, 20, 30)),
        ("2024-03-05 10:20 GMT", utc(2024, 3, 5, 10, 20)),
        ("2024-03-05 10:20 +02:00", utc(2024, 3, 5, 8, 20)),
        ("2024-03-05 10:20 Z", utc(2024, 3, 5, 10, 20)),
        # RFC 2822
        ("Tue, 05 Mar 2024 10:20:00 +0100", utc(2024, 3, 5, 9, 20)),
        ("Tue, 05 Mar 2024 10:20:00 GMT", utc(2024, 3, 5, 10, 20)),
        ("05 Mar 2024 10:20:00 -0500", utc(2024, 3, 5, 15, 20)),
        ("Tue, 05 Mar 2024 10:20:00 -0000", utc(2024, 3, 5, 9, 20)),  # -0000: zone unknown
        ("Tue, 05 Mar 2024 10:20:00", utc(2024, 3, 5, 9, 20)),
        ("Fri, 05 Jul 2024 10:20:00 EDT", utc(2024, 7, 5, 14, 20)),
    ],
)
def test_strings(value: str, expected: datetime) -> None:
    result = parse_date(value, BERLIN)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 3, 5), utc(2024, 3, 4, 23)),
        (datetime(2024, 7, 1, 12), utc(2024, 7, 1, 10)),
        (datetime(2024, 1, 1, 12), utc(2024, 1, 1, 11)),
        (datetime(2024, 7, 1, 12, tzinfo=UTC), utc(2024, 7, 1, 12)),
        (datetime(2024, 7, 1, 12, tzinfo=timezone(timedelta(hours=-3))), utc(2024, 7, 1, 15)),
        (datetime(2024, 7, 1, 12, tzinfo=NEW_YORK), utc(2024, 7, 1, 16)),
    ],
)
def test_date_and_datetime_objects(value: date, expected: datetime) -> None:
    result = parse_date(value, BERLIN)
    assert result == expected
    assert result.tzinfo is UTC


def test_naive_values_take_the_given_zone() -> None:
    assert parse_date("2024-07-01 12:00", NEW_YORK) == utc(2024, 7, 1, 16)
    assert parse_date("2024-07-01 12:00", UTC) == utc(2024, 7, 1, 12)
    assert parse_date(date(2024, 1, 1), NEW_YORK) == utc(2024, 1, 1, 5)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-03-31 01:59", utc(2024, 3, 31, 0, 59)),  # CET
        ("2024-03-31 03:00", utc(2024, 3, 31, 1)),  # CEST
        ("2024-10-27 03:00", utc(2024, 10, 27, 2)),  # CET again
    ],
)
def test_around_dst_changes(value: str, expected: datetime) -> None:
    assert parse_date(value, BERLIN) == expected


@pytest.mark.parametrize("value", ["2024-03-31 02:30", "2024-10-27 02:30"])
def test_gap_and_fold_times_are_accepted_and_deterministic(value: str) -> None:
    first = parse_date(value, BERLIN)
    assert first == parse_date(value, BERLIN)
    assert first.tzinfo is UTC
    assert first.date() in (date(2024, 3, 31), date(2024, 10, 27))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("tomorrow", "not a date"),
        ("05.03.2024", "not a date"),
        ("2024-02-30", "impossible"),
        ("2023-02-29 10:00", "impossible"),
        ("2024-13-01", "impossible"),
        ("2024-03-05 25:00", "impossible"),
        ("2024-03-05 10:20 CET", "time zone"),
        ("2024-03-05 10:20 Europe/Berln", "unknown time zone 'Europe/Berln'.*`Europe/Berlin`"),
        ("2024-03-05 10:20 europe/berlin", "did you mean `Europe/Berlin`"),
        ("2024-03-05 10:20 Mars/Olympus", "an IANA name such as Europe/Berlin"),
        ("2024-03-05 10:20 Europe/../Europe/Berlin", "time zone"),
        ("2024-03-05 10:20 America", "time zone"),
        ("Sun, 31 Feb 2024 10:00:00 +0000", "not a date"),
        ("1899-12-31", "year 1899"),
        ("1800-05-01T10:00:00+01:00", "year 1800"),
        ("0001-01-01", "year 1"),
        ("9001-01-01", "year 9001"),
        (datetime(1, 1, 1), "year 1"),
        (date(1800, 1, 1), "year 1800"),
        (datetime(9999, 12, 31, tzinfo=UTC), "year 9999"),
        (20240305, "bare number"),
        (1.5, "bare number"),
        (True, "not a date"),
        (None, "not a date"),
        ([2024, 3, 5], "not a date"),
        ({"y": 2024}, "not a date"),
        (time(10, 30), "time without a date"),
    ],
)
def test_errors(value: object, match: str) -> None:
    with pytest.raises(DateError, match=match):
        parse_date(value, BERLIN)


def test_date_error_is_a_value_error() -> None:
    assert issubclass(DateError, ValueError)


@pytest.mark.parametrize("year", ["0001", "0050", "0099"])
def test_rfc2822_far_past_year_is_an_error(year: str) -> None:
    with pytest.raises(DateError):
        parse_date(f"Mon, 01 Jan {year} 00:00:00 +0000", BERLIN)


def test_year_bounds_are_checked_in_the_writers_zone() -> None:
    # 1900-01-01 00:30 in Berlin is still 1899 in UTC: the year as written counts.
    assert parse_date("1900-01-01 00:30", BERLIN) == utc(1899, 12, 31, 23, 30)
    assert parse_date("9000-12-31T23:00:00-05:00", BERLIN) == utc(9001, 1, 1, 4)


# --- date_from_filename -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2024-03-05-hello.md", utc(2024, 3, 4, 23)),
        ("2024-07-01-summer.txt", utc(2024, 6, 30, 22)),
        ("2024-03-05-", utc(2024, 3, 4, 23)),
        ("2024-02-30-impossible.md", None),
        ("1800-01-01-old.md", None),
        ("9999-01-01-far.md", None),
        ("2024-3-5-short.md", None),
        ("2024-03-05.md", None),
        ("20240305-x.md", None),
        ("x-2024-03-05-y.md", None),
        ("hello.md", None),
        ("", None),
    ],
)
def test_date_from_filename(name: str, expected: datetime | None) -> None:
    result = date_from_filename(name, BERLIN)
    assert result == expected
    if result is not None:
        assert result.tzinfo is UTC


def test_date_from_filename_is_midnight_in_the_zone() -> None:
    assert date_from_filename("2024-01-01-x.md", NEW_YORK) == utc(2024, 1, 1, 5)


# --- properties ---------------------------------------------------------------------------------

FIXED_OFFSETS = st.builds(
    timezone, st.integers(-23 * 60 + 1, 23 * 60 - 1).map(lambda m: timedelta(minutes=m))
)
AWARE = st.datetimes(
    min_value=datetime(1900, 1, 2),
    max_value=datetime(8999, 12, 30),
    timezones=st.timezones() | FIXED_OFFSETS,
)
# RFC 2822 offsets are whole minutes (old zones had offsets in seconds, e.g. +01:44:24)
AWARE_MINUTES = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(8999, 12, 30), timezones=FIXED_OFFSETS
)
ZONES = st.sampled_from(
    [BERLIN, NEW_YORK, UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("Pacific/Chatham")]
)


@given(AWARE, ZONES)
def test_isoformat_round_trips_to_the_same_instant(dt: datetime, tz: ZoneInfo) -> None:
    result = parse_date(dt.isoformat(), tz)
    # compare in UTC: PEP 495 makes inter-zone == False for ambiguous (fold) times
    assert result == dt.astimezone(UTC)
    assert result.tzinfo is UTC


@given(AWARE, ZONES)
def test_datetime_objects_round_trip(dt: datetime, tz: ZoneInfo) -> None:
    result = parse_date(dt, tz)
    assert result == dt.astimezone(UTC)
    assert result.tzinfo is UTC


@given(AWARE_MINUTES)
def test_rfc2822_round_trips_to_the_second(dt: datetime) -> None:
    dt = dt.replace(microsecond=0)
    result = parse_date(format_datetime(dt), BERLIN)
    assert result == dt.astimezone(UTC)


@given(st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(8999, 12, 30)), ZONES)
def test_naive_isoformat_is_in_the_given_zone(dt: datetime, tz: ZoneInfo) -> None:
    dt = dt.replace(fold=0)  # (an ISO string has no fold: an ambiguous time is the first)
    result = parse_date(dt.isoformat(), tz)
    assert result == dt.replace(tzinfo=tz).astimezone(UTC)


@given(st.dates(min_value=date(1900, 1, 2), max_value=date(8999, 12, 30)), ZONES)
def test_dates_are_midnight_in_the_zone(d: date, tz: ZoneInfo) -> None:
    result = parse_date(d.isoformat(), tz)
    assert result == parse_date(d, tz)
    assert result.astimezone(tz).date() == d
    assert result.astimezone(tz).time() in (time(0), time(1))  # 01:00 when midnight is skipped


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none(), st.booleans()))
def test_results_are_utc_aware_or_a_date_error(value: object) -> None:
    try:
        result = parse_date(value, BERLIN)
    except DateError:
        return
    assert result.tzinfo is UTC
    assert result.utcoffset() == timedelta(0)


@given(st.text(max_size=40))
def test_filename_dates_are_utc_midnight_in_the_zone_or_none(name: str) -> None:
    result = date_from_filename(name, BERLIN)
    if result is not None:
        assert result.tzinfo is UTC
        assert result.astimezone(BERLIN).time() == time(0)


# --- IANA zone names in dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected", "warning"),
    [
        ("2024-03-05 10:20 Europe/Berlin", utc(2024, 3, 5, 9, 20), None),
        ("2024-07-05T10:20:00 Europe/Berlin", utc(2024, 7, 5, 8, 20), None),
        ("2024-03-05 10:20 America/Argentina/Buenos_Aires", utc(2024, 3, 5, 13, 20), None),
        ("2024-03-05 10:20 Etc/GMT+1", utc(2024, 3, 5, 11, 20), None),  # (POSIX: sign flipped)
        (
            "2024-03-31 02:30 Europe/Berlin",  # the clocks skip it: read as 03:30 summer time
            utc(2024, 3, 31, 1, 30),
            "2024-03-31 02:30 does not exist in Europe/Berlin (the clocks were put forward); "
            "read as 03:30 (+02:00)",
        ),
        (
            "2024-10-27 02:30 Europe/Berlin",  # twice: the first (summer time)
            utc(2024, 10, 27, 0, 30),
            "2024-10-27 02:30 happens twice in Europe/Berlin (the clocks were put back); read "
            "as the first, 02:30 (+02:00)",
        ),
        (
            "2024-11-03 01:30",  # naive: in the site's zone, by the same rule
            utc(2024, 11, 3, 5, 30),
            "2024-11-03 01:30 happens twice in America/New_York (the clocks were put back); "
            "read as the first, 01:30 (-04:00)",
        ),
    ],
)
def test_a_zone_name_after_the_time(value: str, expected: datetime, warning: str | None) -> None:
    notes: list[str] = []
    assert parse_date(value, NEW_YORK, notes.append) == expected
    assert notes == ([warning] if warning else [])


ZONE_NAMES = sorted(name for name in available_timezones() if "/" in name)


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(8999, 12, 30)),
    st.sampled_from(ZONE_NAMES),
    ZONES,
)
def test_a_wall_time_in_a_named_zone_is_that_zones_first_reading(
    dt: datetime, name: str, site_zone: ZoneInfo
) -> None:
    """``YYYY-MM-DD HH:MM:SS Area/Location`` is that wall time in that zone, whatever the
    site's zone; a time the zone's clocks skip or repeat is fold=0's, with one warning."""
    dt = dt.replace(microsecond=0, fold=0)
    zone = ZoneInfo(name)
    notes: list[str] = []
    result = parse_date(f"{dt:%Y-%m-%d %H:%M:%S} {name}", site_zone, notes.append)
    assert result == dt.replace(tzinfo=zone).astimezone(UTC)
    assert result.tzinfo is UTC
    changes = dt.replace(tzinfo=zone).utcoffset() != dt.replace(tzinfo=zone, fold=1).utcoffset()
    assert len(notes) == (1 if changes else 0)
    if changes:
        assert notes[0].startswith(f"{dt:%Y-%m-%d %H:%M} ") and name in notes[0]
    else:  # (an existing, single wall time reads back as itself)
        assert result.astimezone(zone).replace(tzinfo=None) == dt


@given(st.sampled_from(ZONE_NAMES), st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", max_size=3))
def test_a_zone_name_that_does_not_exist_is_a_zone_error(name: str, extra: str) -> None:
    wrong = name + "x" + extra
    if wrong in ZONE_NAMES:
        return
    with pytest.raises(ZoneError, match="unknown time zone"):
        parse_date(f"2024-03-05 10:20 {wrong}", BERLIN)
