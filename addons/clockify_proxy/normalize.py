"""Decide, for one request, what each time field must become for Clockify to read what the client meant.

Pure: takes parsed values and a zone, returns a plan of edits, notes and an optional rejection.
The mitmproxy glue applies the plan to the real body or query.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from functools import lru_cache
from typing import NamedTuple

from . import timevalues as tv
from . import zones
from .catalogue import Endpoint, Kind

# A timer that starts this far ahead of the proxy's clock is flagged; less is clock skew.
FUTURE_TIMER_TOLERANCE = timedelta(minutes=1)
MAX_ENTRY_DURATION = timedelta(hours=999)
# A weekly report's range: 7 days, written either as up to the next midnight or to 23:59:59(.999).
WEEK = timedelta(days=7)
WEEK_MIN = WEEK - timedelta(seconds=1)

# RFC 3339 in UTC as Clockify writes it, optionally with a fraction: kept byte for byte.
_RFC3339_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z")


@dataclass(frozen=True)
class Zone:
    """The zone a request's naive times are read in, and where that choice came from."""

    name: str
    tz: tzinfo
    source: str  # "header", "option", ...


class Edit(NamedTuple):
    where: str  # "body", "query" or "form"
    path: tuple  # keys and array indices from the body's root; (name,) for query and form
    before: object  # None for a field the proxy added
    after: str
    note: str | None = None
    added: bool = False  # a member the proxy adds to the object at path[:-1]
    kind: str = "time-zone"  # the catalogue kind of the field, or "time-zone" for an added report zone

    @property
    def label(self) -> str:
        return label(self.where, self.path)


class Rejection(NamedTuple):
    diagnosis: str  # stable slug, also sent as X-Clockify-Proxy-Diagnosis
    message: str


@dataclass
class Plan:
    edits: list[Edit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # worth telling the client (fold read, values left alone)
    warnings: list[str] = field(default_factory=list)  # diagnosis slugs of forwarded-but-suspect requests
    rejection: Rejection | None = None


def label(where: str, path: tuple) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return f"?{text}" if where == "query" else text


_KIND_NAMES = {kind: kind.value for kind in Kind}  # Kind.value is a slow descriptor, read per field


@lru_cache(maxsize=512)
def tokens(field_path: str) -> tuple[str, ...]:
    return tuple(t for t in field_path.replace("[]", ".[]").split(".") if t)


def values_at(doc: object, path_tokens: tuple[str, ...], prefix: tuple = ()) -> Iterator[tuple[tuple, object]]:
    """(concrete path, value) for each value a catalogue path names in a JSON document."""
    if not path_tokens:
        yield prefix, doc
        return
    head, rest = path_tokens[0], path_tokens[1:]
    if head == "[]":
        if isinstance(doc, list):
            for i, item in enumerate(doc):
                yield from values_at(item, rest, prefix + (i,))
    elif isinstance(doc, dict) and head in doc:
        yield from values_at(doc[head], rest, prefix + (head,))


class _Reading(NamedTuple):
    """One field as the proxy understood it."""

    sent: str
    after: str  # equal to `sent` when unchanged
    point: datetime | None  # comparable value for range checks (aware UTC, or naive wall clock for reports)
    note: str | None = None
    warning: str | None = None  # diagnosis slug of a reading worth flagging


def _read_instant(text: str, kind: Kind, zone: Zone) -> _Reading | None:
    value = tv.parse(text)
    if value.date_only:
        return None  # a calendar date in an instant field: not ours to guess
    if kind is Kind.CALENDAR_DAY:
        if value.zulu:
            return _Reading(text, text, None)
        day = value.wall
        return _Reading(text, f"{day.year:04d}-{day.month:02d}-{day.day:02d}T00:00:00Z", None)
    keep = (
        not value.offset  # zero or None: only `Z` and `+00:00` values can be kept as they are
        and _RFC3339_UTC.fullmatch(text)
        and text[11:13] != "24"  # 24:00:00 is written as the next day's 00:00:00
        and not (kind is Kind.INSTANT_SECONDS and value.frac)
    )
    if value.offset is not None:  # the instant it names, whatever the zone
        utc, written = tv.offset_utc(value)
        return _Reading(text, text if keep else written, utc)
    meant = tv.instant(value, zone.tz, zone.name)
    return _Reading(text, text if keep else tv.format_utc(meant.utc), meant.utc, meant.note, _fold(meant))


def _read_report(text: str, zone: Zone, zulu_is_wall: bool) -> _Reading | None:
    value = tv.parse(text)
    if value.date_only:
        return None
    if (value.offset is None and not value.zone_name) or (zulu_is_wall and value.zulu):
        # A wall clock, which Clockify reads in the report's zone: as the client meant.
        return _Reading(text, tv.format_wall(value.wall, value.frac), value.wall)
    meant = tv.instant(value, zone.tz, zone.name)
    wall = tv.wall_clock(meant.utc, zone.tz)
    note = meant.note
    if value.zulu and wall != value.wall:
        note = (
            f"{text} read as a UTC instant, sent as {zone.name} wall clock; if it was meant as "
            f"{zone.name} wall clock already, drop the Z (or set clockify_report_zulu=wall)"
        )
    return _Reading(text, tv.format_wall(wall, value.frac), wall, note, _fold(meant))


def _fold(meant: tv.Instant) -> str | None:
    # tv.instant notes only one thing: a wall clock that happens twice, read as its first occurrence.
    return "ambiguous-local-time" if meant.note else None


def _report_zone(endpoint: Endpoint, doc: object, zone: Zone, plan: Plan) -> Zone | None:
    """The zone a report body is read in; adds the field to the plan when the body has none."""
    *parent, key = tokens(endpoint.zone_field)
    containers = [c for _, c in values_at(doc, parent)]
    if len(containers) != 1 or not isinstance(containers[0], dict):
        return zone
    container = containers[0]
    named = container.get(key)
    if named is None:
        if any(f in container for f in ("dateRangeStart", "dateRangeEnd")):
            path = tuple(parent) + (key,)
            note = f"zone from {zone.source}"
            plan.edits.append(Edit("body", path, None, zone.name, note, added=key not in container))
        return zone
    try:
        return Zone(named, zones.zone(named), "body")
    except zones.UnknownZone:
        plan.notes.append(
            f"{label('body', tuple(parent) + (key,))} {named!r} is not an IANA zone: report range left unchanged"
        )
        return None


def plan_fields(
    endpoint: Endpoint,
    where: str,
    rules: dict[str, Kind],
    values: dict[tuple, object] | object,
    zone: Zone,
    now: datetime,
    report_zulu: str = "instant",
) -> Plan:
    """The plan for one location of a request.

    `report_zulu`: how a report range ending in Z is read: "instant" (the UTC moment it names)
    or "wall" (a wall clock in the report's zone, as Clockify's own web app writes them).

    `values` is the parsed JSON document for "body"; for "query" and "form", a dict from
    (name,) to the value (a name that occurs twice is not given: it is left alone).
    """
    plan = Plan()
    body = where == "body"
    read_zone = _report_zone(endpoint, values, zone, plan) if body and endpoint.zone_field is not None else zone
    zulu_is_wall = report_zulu == "wall"
    readings: dict[tuple, _Reading] = {}
    for field_path, kind in rules.items():
        if kind is Kind.DATE or kind is Kind.TIME_OF_DAY or (kind is Kind.REPORT_RANGE and read_zone is None):
            continue
        if not body:
            found = (((field_path,), values[(field_path,)]),) if (field_path,) in values else ()
        elif "." in field_path or "[" in field_path:
            found = values_at(values, tokens(field_path))
        else:  # a member of the top-level object: most fields of most requests
            found = (((field_path,), values[field_path]),) if isinstance(values, dict) and field_path in values else ()
        for path, value in found:
            if not isinstance(value, str):
                continue
            try:
                if kind is Kind.REPORT_RANGE:
                    reading = _read_report(value, read_zone, zulu_is_wall)
                else:
                    reading = _read_instant(value, kind, read_zone)
            except tv.NonexistentLocalTime as e:
                plan.rejection = Rejection("nonexistent-local-time", f"{label(where, path)}: {e}")
                return plan
            except tv.NotATime as e:
                plan.notes.append(f"{label(where, path)} left unchanged: {e}")
                continue
            if reading is None:
                continue
            readings[path] = reading
            if reading.note:
                plan.notes.append(f"{label(where, path)}: {reading.note}")
            if reading.warning and reading.warning not in plan.warnings:
                plan.warnings.append(reading.warning)
            if reading.after != reading.sent:
                plan.edits.append(Edit(where, path, reading.sent, reading.after, reading.note, kind=_KIND_NAMES[kind]))
    if endpoint.ranges and readings:
        _check_ranges(endpoint, where, readings, read_zone, plan)
    if where == "body" and endpoint.starts_timer and plan.rejection is None:
        _check_timer(values, readings, now, plan)
    return plan


@lru_cache(maxsize=256)
def _range_keys(ranges: tuple[tuple[str, str], ...]) -> tuple[tuple[int, str, str], ...]:
    """(depth, last key of the start field, last key of the end field) of each range."""
    return tuple((len(tokens(start)), tokens(start)[-1], tokens(end)[-1]) for start, end in ranges)


def _check_ranges(endpoint: Endpoint, where: str, readings: dict, zone: Zone | None, plan: Plan) -> None:
    for depth, start_key, end_key in _range_keys(endpoint.ranges):
        if depth == 1:
            starts = [((start_key,), readings[(start_key,)])] if (start_key,) in readings else []
        else:
            starts = [(p, r) for p, r in readings.items() if len(p) == depth and p[-1] == start_key]
        for path, start in starts:
            end_path = path[:-1] + (end_key,)
            end = readings.get(end_path)
            if end is None or start.point is None or end.point is None:
                continue
            if start.point <= end.point:
                _check_span(endpoint, where, end.point - start.point, plan)
                continue
            plan.rejection = Rejection(
                "start-after-end",
                f"Start datetime {start.after} is greater than end datetime {end.after}. "
                f"clockify-proxy did not send this request: {label(where, path)} was sent as "
                f"{start.sent!r} and {label(where, end_path)} as {end.sent!r}; "
                f"{_understood(start, end, zone)}. Send both in UTC "
                f"(YYYY-MM-DDTHH:MM:SSZ) or with their UTC offset, and check that the start comes first.",
            )
            return


def _check_span(endpoint: Endpoint, where: str, span: timedelta, plan: Plan) -> None:
    """Spans Clockify refuses (api-facts 2.3): flagged here, so the client knows before its 400."""
    if where == "body" and "/time-entries" in endpoint.pattern and span > MAX_ENTRY_DURATION:
        plan.warnings.append("duration-over-999-hours")
        plan.notes.append(f"the entry lasts {span}: Clockify refuses time entries longer than 999 hours")
    if endpoint.pattern.endswith("/reports/weekly") and not WEEK_MIN <= span <= WEEK:
        plan.warnings.append("weekly-range-not-7-days")
        plan.notes.append(f"the weekly report covers {span}: Clockify asks for a date range of exactly 7 days")


def _understood(start: _Reading, end: _Reading, zone: Zone | None) -> str:
    if start.point.tzinfo is None:  # report wall clocks
        where = f" in {zone.name}" if zone else ""
        return f"read as wall clock{where}: {start.after} to {end.after}"
    return (
        f"understood (naive times in {zone.name}, from {zone.source}) as "
        f"{tv.format_utc(start.point)} to {tv.format_utc(end.point)}"
    )


def _check_timer(doc: object, readings: dict, now: datetime, plan: Plan) -> None:
    if not isinstance(doc, dict) or doc.get("end") is not None:
        return
    start = readings.get(("start",))
    if start is not None and start.point is not None and start.point > now + FUTURE_TIMER_TOLERANCE:
        plan.warnings.append("timer-starts-in-future")
        plan.notes.append(
            f"start {tv.format_utc(start.point)} is later than now ({tv.format_utc(now)}): "
            f"the running timer would show a negative duration"
        )
