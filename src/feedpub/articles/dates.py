"""Dates in front matter and headers → timezone-aware UTC datetimes.

A wall time is read in a zone: the one written after it (an IANA name such as
``Europe/Berlin``), else the site's. Where that zone's clocks change, a wall time may not exist
(``02:30`` on the night the clocks go forward) or happen twice (the night they go back): both
are read as PEP 495's ``fold=0`` does (the offset before the change: a missing ``02:30`` is
``03:30`` summer time, a doubled one the first, summer-time ``02:30``), and the caller is told,
so that the file gets a warning saying which instant was taken.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

MIN_YEAR = 1900
MAX_YEAR = 9000

_FILENAME_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[-_]")  # Jekyll "-", others "_"
_SPACE_TIME = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2})[ T](\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(.*)$"
)


# an IANA zone name: "Area/Location" (Europe/Berlin, America/Argentina/Buenos_Aires, Etc/GMT+1)
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+-]{0,30}(?:/[A-Za-z0-9_+-]{1,30}){1,2}")

Warn = Callable[[str], None]


class DateError(ValueError):
    """A value that is not a usable date; the message says why."""


class ZoneError(DateError):
    """A date names a time zone that does not exist (``Europe/Berln``): always an error,
    never replaced by the date a file name gives."""


@functools.lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.casefold(): name for name in available_timezones()}


def _zone(name: str, text: str) -> ZoneInfo:
    """The IANA zone ``name``, or a :class:`ZoneError` naming the closest one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    names = _zone_names()
    meant = names.get(name.casefold()) or next(
        iter(difflib.get_close_matches(name, names.values(), n=1, cutoff=0.8)), None
    )
    hint = f"; did you mean `{meant}`?" if meant else " (an IANA name such as Europe/Berlin)"
    raise ZoneError(f"unknown time zone {name!r} in {text!r}{hint}")


def _wall_time(dt: datetime, tz: tzinfo, warn: Warn | None) -> datetime:
    """A naive ``dt`` read in ``tz``; a time the zone's clocks skip or repeat is read with
    ``fold=0`` (see the module's docstring), and ``warn`` is told which instant that is."""
    first, second = dt.replace(tzinfo=tz, fold=0), dt.replace(tzinfo=tz, fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    if warn is not None and before is not None and after is not None and before != after:
        name = getattr(tz, "key", None) or str(tz)
        shown = f"{dt:%Y-%m-%d %H:%M}"
        taken = first.astimezone(UTC).astimezone(tz)  # (the wall time of the instant taken)
        if before < after:
            warn(
                f"{shown} does not exist in {name} (the clocks were put forward); "
                f"read as {taken:%H:%M} ({_offset(taken)})"
            )
        else:
            warn(
                f"{shown} happens twice in {name} (the clocks were put back); read as the "
                f"first, {taken:%H:%M} ({_offset(taken)})"
            )
    return first


def _offset(dt: datetime) -> str:
    text = f"{dt:%z}"
    return f"{text[:3]}:{text[3:]}" if len(text) == 5 else text


def _aware(dt: datetime, tz: tzinfo, warn: Warn | None = None) -> datetime:
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = _wall_time(dt.replace(tzinfo=None), tz, warn)
    if not MIN_YEAR <= dt.year <= MAX_YEAR:
        raise DateError(f"year {dt.year} is not plausible (allowed: {MIN_YEAR} to {MAX_YEAR})")
    return dt.astimezone(UTC)


def _from_string(text: str, tz: tzinfo, warn: Warn | None) -> datetime:
    s = text.strip()
    if not s:
        raise DateError("empty date")
    iso = s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s
    try:
        return _aware(datetime.fromisoformat(iso), tz, warn)
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
        elif _ZONE_NAME.fullmatch(rest):  # "2024-03-05 10:20 Europe/Berlin"
            return _aware(dt, _zone(rest, s), warn)
        elif rest:
            try:
                dt = datetime.fromisoformat(f"{dt.isoformat()}{rest}")
            except ValueError as e:
                raise DateError(f"unknown time zone {rest!r} in {s!r}") from e
        return _aware(dt, tz, warn)
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
            return _aware(datetime.combine(date(y, mo, d), time()), tz, warn)
        except ValueError as e:
            raise DateError(f"impossible date {s!r}: {e}") from e
    raise DateError(f"not a date: {s!r} (use ISO 8601, e.g. 2024-03-05T10:20:00+01:00)")


def parse_date(value: object, tz: tzinfo, warn: Warn | None = None) -> datetime:
    """A front matter or header value → aware UTC datetime; naive values are in ``tz``.

    Accepts ``datetime`` and ``date`` objects (as YAML and TOML produce them), ISO 8601,
    ``YYYY-MM-DD HH:MM[:SS] [zone]`` (the zone ``UTC``, an offset, or an IANA name such as
    ``Europe/Berlin``) and RFC 2822 strings. Raises :class:`DateError` (:class:`ZoneError`
    for a zone name that does not exist). A wall time the zone's clocks skip or repeat is
    read with ``fold=0``, and ``warn`` (when given) is told.
    """
    if isinstance(value, datetime):
        return _aware(value, tz, warn)
    if isinstance(value, date):
        return _aware(datetime.combine(value, time()), tz, warn)
    if isinstance(value, time):
        raise DateError(f"a time without a date: {value}")
    if isinstance(value, str):
        return _from_string(value, tz, warn)
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
