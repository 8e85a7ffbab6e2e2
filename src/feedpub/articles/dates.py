"""Dates in front matter and headers → timezone-aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, tzinfo

MIN_YEAR = 1900
MAX_YEAR = 9000

_FILENAME_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[-_]")  # Jekyll "-", others "_"
_SPACE_TIME = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(.*)$"
)


class DateError(ValueError):
    """A value that is not a usable date; the message says why."""


def _aware(dt: datetime, tz: tzinfo) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=tz)
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise DateError(f"year {dt.year} is not plausible (allowed: {MIN_YEAR} to {MAX_YEAR})")
    return dt.astimezone(UTC)


def _from_string(text: str, tz: tzinfo) -> datetime:
    s = text.strip()
    if not s:
        raise DateError("empty date")
    iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    try:
        return _aware(datetime.fromisoformat(iso), tz)
    except ValueError as e:
        if isinstance(e, DateError):
            raise
    m = _SPACE_TIME.match(s)
    if m:  # "2024-03-05 10:20" with one-digit parts or a zone name after it
        day, clock, rest = m.groups()
        try:
            y, mo, d = (int(x) for x in day.split("-"))
            parts = [int(float(x)) for x in clock.split(":")] + [0, 0]
            dt = datetime.combine(date(y, mo, d), time(parts[0], parts[1], parts[2]))
        except ValueError as e:
            raise DateError(f"impossible date {s!r}: {e}") from e
        if rest.upper() in ("UTC", "GMT", "Z"):
            dt = dt.replace(tzinfo=UTC)
        elif rest:
            try:
                dt = datetime.fromisoformat(f"{dt.isoformat()}{rest}")
            except ValueError as e:
                raise DateError(f"unknown time zone {rest!r} in {s!r}") from e
        return _aware(dt, tz)
    from email.utils import parsedate_to_datetime  # imported here: it pulls in the network

    written_year = re.search(r"(?<![\d+-])(\d{4})(?!\d)", s)  # (not a zone: "+0100")
    if written_year and int(written_year[1]) < MIN_YEAR:  # email.utils reads "0050" as 2050
        raise DateError(
            f"year {written_year[1]} is not plausible (allowed: {MIN_YEAR} to {MAX_YEAR})"
        )
    try:  # RFC 2822, as in RSS and e-mail: "Tue, 05 Mar 2024 10:20:00 +0100"
        return _aware(parsedate_to_datetime(s), tz)
    except (TypeError, ValueError, IndexError, OverflowError) as e:
        if isinstance(e, DateError):
            raise
    if re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", s):
        try:
            y, mo, d = (int(x) for x in s.split("-"))
            return _aware(datetime.combine(date(y, mo, d), time()), tz)
        except ValueError as e:
            raise DateError(f"impossible date {s!r}: {e}") from e
    raise DateError(f"not a date: {s!r} (use ISO 8601, e.g. 2024-03-05T10:20:00+01:00)")


def parse_date(value: object, tz: tzinfo) -> datetime:
    """A front matter or header value → aware UTC datetime; naive values are in ``tz``.

    Accepts ``datetime`` and ``date`` objects (as YAML and TOML produce them), ISO 8601,
    ``YYYY-MM-DD HH:MM[:SS] [zone]`` and RFC 2822 strings. Raises :class:`DateError`.
    """
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, date):
        return _aware(datetime.combine(value, time()), tz)
    if isinstance(value, time):
        raise DateError(f"a time without a date: {value}")
    if isinstance(value, str):
        return _from_string(value, tz)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DateError(f"not a date: {value!r}")
    raise DateError(f"a bare number is not a date: {value!r} (use ISO 8601)")


def date_from_filename(name: str, tz: tzinfo) -> datetime | None:
    """The date a ``YYYY-MM-DD-title.md`` (or ``YYYY-MM-DD_title.md``) file name gives
    (midnight in ``tz``), if any."""
    m = _FILENAME_DATE.match(name)
    if not m:
        return None
    try:
        return _aware(datetime(int(m[1]), int(m[2]), int(m[3])), tz)
    except ValueError:
        return None
