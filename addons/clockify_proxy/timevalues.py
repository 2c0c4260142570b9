"""Parsing and writing the time values of Clockify requests.

Pure functions, no mitmproxy. Zones come from python-dateutil; DST gaps and folds are
decided here on purpose rather than left to whatever the tz library does by default.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from datetime import datetime, timedelta, timezone, tzinfo

from dateutil import tz

from . import zones

UTC = timezone.utc
# Naive UTC <-> aware UTC by arithmetic: datetime.replace(tzinfo=...) costs several times more,
# and every request with a time value goes through here.
_UTC_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)

# ISO 8601 / RFC 3339 as clients really send it: `T` or a space between date and time,
# optional seconds and fraction, `Z`, `±HH:MM`, `±HHMM` or `±HH`. A space before the offset
# digits is what a raw `+02:00` turns into when a query string is form-decoded. A zone name in
# brackets may follow (RFC 9557; what Java's ZonedDateTime.toString() writes).
_ISO = re.compile(
    r"""(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})
    (?:[Tt\x20](?P<h>\d{2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<frac>\d{1,9}))?)?
       (?:(?P<z>[Zz])|(?P<sign>[+\-\x20])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?
       (?:\[(?P<zone>[A-Za-z][A-Za-z0-9_+\-/]*)\])?
    )?""",
    re.VERBOSE | re.ASCII,  # ASCII: "\d" must not accept other scripts' digits
)


class NotATime(ValueError):
    """The text is not a date or date-time that can be read without guessing."""


class NonexistentLocalTime(ValueError):
    """A wall-clock time that the zone skips (spring-forward gap)."""


# The form nearly every client sends (RFC 3339 with `Z` or `±HH:MM`), read by the C parser;
# anything else, including what this form would accept but the C parser refuses, by _parse_any.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T(?:[01]\d|2[0-3]):\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+\-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


class TimeText(NamedTuple):
    """A date or date-time string, split into what the client wrote."""

    text: str
    wall: datetime  # naive, as written (fraction cut to microseconds)
    frac: str  # fraction digits as written, "" when none
    offset: timedelta | None  # None for a naive value; zero for `Z` and `+00:00`
    date_only: bool
    zone_name: str | None = None  # from a `[Europe/Brussels]` suffix

    @property
    def zulu(self) -> bool:
        return self.text[-1] in "Zz"


_ZERO = timedelta(0)
_OFFSETS: dict[str, timedelta] = {}  # "+02:00" -> 2 hours; at most 2 x 24 x 60 entries


def _offset(suffix: str) -> timedelta:
    offset = _OFFSETS.get(suffix)
    if offset is None:
        offset = timedelta(hours=int(suffix[1:3]), minutes=int(suffix[4:6]))
        offset = _OFFSETS[suffix] = -offset if suffix[0] == "-" else offset
    return offset


def parse(text: str) -> TimeText:
    """Split a date or date-time string; raise NotATime for anything else."""
    if isinstance(text, str) and _RFC3339.fullmatch(text):
        zulu = text[-1] == "Z"
        written = text[:-1] if zulu else text[:-6]
        try:
            wall = datetime.fromisoformat(written)
        except ValueError:  # e.g. February 30th: the full reading below says what is wrong
            pass
        else:
            return TimeText(text, wall, written[20:], _ZERO if zulu else _offset(text[-6:]), False)
    return _parse_any(text)


def _parse_any(text: str) -> TimeText:
    """Every form that _ISO describes, and the errors."""
    m = _ISO.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise NotATime(f"{text!r} is not an ISO 8601 date or date-time")
    y, mo, d, h, mi, sec, frac, z, sign, oh, om, zone_name = m.groups()
    frac = frac or ""
    # ISO 8601's end of day, 24:00:00, is the next day's midnight.
    end_of_day = h == "24" and int(mi) == 0 and int(sec or 0) == 0 and not frac.strip("0")
    try:
        wall = datetime(
            int(y), int(mo), int(d), 0 if end_of_day else int(h or 0), int(mi or 0), int(sec or 0),
            int(frac[:6].ljust(6, "0")) if frac else 0,
        )
        if end_of_day:
            wall += timedelta(days=1)
    except (ValueError, OverflowError) as e:
        raise NotATime(f"{text!r} is not a valid date or time: {e}") from None
    offset = None
    if z:
        offset = timedelta(0)
    elif sign:
        hours, minutes = int(oh), int(om or 0)
        if hours > 23 or minutes > 59:
            raise NotATime(f"{text!r} has an invalid UTC offset")
        offset = timedelta(hours=hours, minutes=minutes)
        if sign == "-":
            offset = -offset
    return TimeText(text, wall, frac, offset, date_only=h is None, zone_name=zone_name)


class Instant(NamedTuple):
    """The UTC instant a value stands for, and how it was read."""

    utc: datetime  # aware, UTC
    note: str | None = None  # e.g. why an ambiguous wall clock was read one way


def instant(value: TimeText, zone: tzinfo, zone_name: str) -> Instant:
    """The instant a date-time means: its offset if it has one, else its wall clock in its own
    bracketed zone, else in `zone`.

    A wall clock that the zone skips raises NonexistentLocalTime; one that happens twice is read
    as the first occurrence (the earlier instant), and the note says so.
    """
    if value.offset is not None:
        return Instant(offset_utc(value)[0])
    if value.zone_name:
        try:
            zone, zone_name = zones.zone(value.zone_name), value.zone_name
        except zones.UnknownZone as e:
            raise NotATime(f"{value.text!r}: {e}") from None
    local = value.wall.replace(tzinfo=zone)
    try:  # at the ends of the datetime range, the zone's offset overflows
        exists, ambiguous = tz.datetime_exists(local), tz.datetime_ambiguous(local)
        if not exists:
            raise NonexistentLocalTime(
                f"{value.text} does not exist in {zone_name}: the clocks skip it (daylight saving "
                f"time starts). Send the time with an explicit offset or in UTC."
            )
        note = None
        if ambiguous:
            local = tz.enfold(local, fold=0)
            note = (
                f"{value.text} happens twice in {zone_name} (daylight saving time ends); "
                f"read as the first occurrence, {format_offset_time(local)}"
            )
        return Instant(local.astimezone(UTC), note)
    except OverflowError:
        raise NotATime(f"{value.text!r} is out of range") from None


def offset_utc(value: TimeText) -> tuple[datetime, str]:
    """The instant of a value with an offset, and its `format_utc` text: the path most values take."""
    try:
        naive = value.wall - value.offset
        return _UTC_EPOCH + (naive - _NAIVE_EPOCH), naive.isoformat()[:19] + "Z"
    except OverflowError:
        raise NotATime(f"{value.text!r} is out of range") from None


def format_utc(moment: datetime) -> str:
    """Clockify's instant form: `YYYY-MM-DDTHH:MM:SSZ`, second precision."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return (moment - _UTC_EPOCH + _NAIVE_EPOCH).isoformat()[:19] + "Z"  # [:19]: no fraction


def format_offset_time(moment: datetime) -> str:
    """A time with its offset, for messages: `2024-10-27T02:30:00+02:00`."""
    text = moment.isoformat(timespec="seconds")
    return text.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else text


def format_wall(moment: datetime, frac: str) -> str:
    """A wall clock without zone, keeping the fraction digits the client wrote."""
    text = moment.isoformat()[:19]  # [:19]: the fraction is the client's digits, not microseconds
    return f"{text}.{frac}" if frac else text


def wall_clock(moment: datetime, zone: tzinfo) -> datetime:
    """The naive wall clock that an instant shows in `zone`."""
    return moment.astimezone(zone).replace(tzinfo=None)
