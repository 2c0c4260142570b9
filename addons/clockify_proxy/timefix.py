"""Rewrite the time fields of Clockify requests so that Clockify reads the instant the client meant."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timezone
from urllib.parse import quote, unquote, unquote_plus

from mitmproxy import http

from . import catalogue, events, jsonsplice, zones
from .normalize import Edit, Plan, Zone, plan_fields
from .events import API_PATH, is_clockify_flow
from .settings import ClockifySettings

ZONE_HEADER = "X-Clockify-Proxy-Timezone"
_ZONE_HEADER_NAME = ZONE_HEADER.lower().encode()

# Bodies above this are forwarded unchanged (and logged): parsing them would stall every
# connection of the proxy, and no Clockify request is this large.
MAX_BODY_BYTES = 32 * 1024 * 1024
# Bodies above this (bulk edits of thousands of entries) are rewritten in a worker thread, so the
# proxy's single event loop keeps serving other connections meanwhile.
THREAD_BODY_BYTES = 256 * 1024

ZONE_REQUESTED = "clockify.zone_header"  # flow.metadata key


class BodyUnchanged(Exception):
    """The body cannot be fixed safely; it is forwarded as it came, and the reason is logged."""


def is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "text/plain") or media.endswith("/json") or media.endswith("+json")


HINTS = {
    "start-after-end": "Send start and end in UTC (YYYY-MM-DDTHH:MM:SSZ) or with their offset, start first.",
    "nonexistent-local-time": "That wall-clock time is skipped by daylight saving time: send it with an offset or in UTC.",
    "unknown-timezone": "Name the zone as in the IANA database, e.g. Europe/Brussels.",
}


def reject(flow: http.HTTPFlow, diagnosis: str, message: str) -> None:
    """Answer the client instead of Clockify, with an error shaped like Clockify's."""
    body = json.dumps({"message": message, "code": 501}).encode()
    flow.response = http.Response.make(
        400,
        body,
        {"Content-Type": "application/json", events.DIAGNOSIS_HEADER: diagnosis, events.HINT_HEADER: HINTS[diagnosis]},
    )
    flow.metadata[events.REJECTED] = {"diagnosis": diagnosis, "message": message}


# -- query -----------------------------------------------------------------------------------


def fix_query(
    path: str, endpoint: catalogue.Endpoint, zone: Zone, now: datetime, report_zulu: str = "instant"
) -> tuple[str, Plan]:
    """The path with its query's time values rewritten; other parameters keep their exact bytes."""
    base, sep, query = path.partition("?")
    if not sep or not endpoint.query:
        return path, Plan()
    parts = query.split("&")
    positions: dict[str, list[int]] = {}
    values: dict[tuple, str] = {}
    for i, part in enumerate(parts):
        raw_name, _, raw_value = part.partition("=")
        name = unquote_plus(raw_name) if "%" in raw_name or "+" in raw_name else raw_name
        if name in endpoint.query:
            positions.setdefault(name, []).append(i)
            # `unquote`, not `unquote_plus`: a raw "+02:00" offset is a plus, not a space.
            values[(name,)] = _unquote(raw_value)
    for name, where in positions.items():
        if len(where) > 1:  # repeated: which one the server reads is not ours to guess
            del values[(name,)]
    plan = plan_fields(endpoint, "query", endpoint.query, values, zone, now, report_zulu)
    for edit in plan.edits:
        i = positions[edit.path[0]][0]
        parts[i] = parts[i].partition("=")[0] + "=" + quote(edit.after, safe=":")
    return (base + "?" + "&".join(parts)) if plan.edits else path, plan


_ASCII_ESCAPE = re.compile(r"%([0-7][0-9A-Fa-f])")


def _unquote(text: str) -> str:
    """urllib's unquote, quicker for what time values hold: ASCII escapes such as %2B and %3A."""
    if "%" not in text:
        return text
    quick = _ASCII_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return quick if "%" not in quick else unquote(text)  # other escapes, or a decoded "%"


# -- JSON body -------------------------------------------------------------------------------


def fix_json(
    content: bytes, endpoint: catalogue.Endpoint, zone: Zone, now: datetime, report_zulu: str = "instant"
) -> tuple[bytes, Plan]:
    """The body with its time values rewritten; raises BodyUnchanged where that is not safe."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyUnchanged("body is not UTF-8") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise BodyUnchanged(f"body is not valid JSON ({e})") from None
    plan = plan_fields(endpoint, "body", endpoint.body, doc, zone, now, report_zulu)
    if not plan.edits or plan.rejection:
        return content, plan
    replace, add = {}, {}
    for e in plan.edits:
        if e.added:
            add[e.path[:-1]] = (e.path[-1], e.after)
        else:
            replace[e.path] = (e.before, e.after)
    # Fast path first (each old value found by its text). Where that is not right by
    # construction, the re-parse proves it: never forward a body that says something else.
    new_text = jsonsplice.splice_unique(text, replace, add)
    if new_text is not None and jsonsplice.is_plain(text):
        return new_text.encode("utf-8"), plan
    _apply(doc, plan.edits)
    if new_text is None or json.loads(new_text) != doc:
        try:
            new_text = jsonsplice.splice(text, {path: after for path, (_, after) in replace.items()}, add)
        except jsonsplice.SpliceError as e:
            raise BodyUnchanged(f"body could not be edited safely ({e})") from None
        if json.loads(new_text) != doc:
            raise BodyUnchanged("edited body did not match the intended values")
    return new_text.encode("utf-8"), plan


def _apply(doc, edits: list[Edit]) -> None:
    for edit in edits:
        target = doc
        for part in edit.path[:-1]:
            target = target[part]
        target[edit.path[-1]] = edit.after


# -- multipart form --------------------------------------------------------------------------

_DISPOSITION_NAME = re.compile(rb'(?i)content-disposition:[^\r\n]*?;\s*name="([^"]*)"')
_FILENAME = re.compile(rb'(?i)content-disposition:[^\r\n]*filename')


def _boundary(content_type: str) -> bytes | None:
    m = re.search(r'boundary="?([^";]+)"?', content_type, re.IGNORECASE)
    return m.group(1).encode("latin-1") if m else None


def form_values(body: bytes, boundary: bytes) -> dict[str, list[tuple[int, int]]]:
    """Spans of the plain (non-file) parts' values, by part name."""
    delimiter = b"--" + boundary
    found: dict[str, list[tuple[int, int]]] = {}
    start = body.find(delimiter)
    while start != -1:
        head_start = start + len(delimiter)
        if body[head_start : head_start + 2] == b"--":
            break
        head_end = body.find(b"\r\n\r\n", head_start)
        end = body.find(b"\r\n" + delimiter, head_end + 4) if head_end != -1 else -1
        if end == -1:
            raise BodyUnchanged("multipart body is truncated")
        head = body[head_start:head_end]
        name = _DISPOSITION_NAME.search(head)
        if name and not _FILENAME.search(head):
            found.setdefault(name.group(1).decode("utf-8", "replace"), []).append((head_end + 4, end))
        start = end + 2
    return found


def fix_form(body: bytes, content_type: str, endpoint: catalogue.Endpoint, zone: Zone, now: datetime) -> tuple[bytes, Plan]:
    boundary = _boundary(content_type)
    if not boundary:
        raise BodyUnchanged("multipart body without boundary")
    spans = form_values(body, boundary)
    values = {}
    for name in endpoint.form:
        if len(spans.get(name, ())) == 1:
            start, end = spans[name][0]
            try:
                values[(name,)] = body[start:end].decode("utf-8")
            except UnicodeDecodeError:
                continue
    plan = plan_fields(endpoint, "form", endpoint.form, values, zone, now)
    for edit in sorted(plan.edits, key=lambda e: spans[e.path[0]][0][0], reverse=True):
        start, end = spans[edit.path[0]][0]
        body = body[:start] + edit.after.encode() + body[end:]
    return body, plan


# -- the addon -------------------------------------------------------------------------------


class ClockifyTimes:
    """Time normalisation for Clockify requests (see catalogue.py for the rules)."""

    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if not is_clockify_flow(flow):
            return
        # Removed before anything is forwarded, even for a streamed body: it is ours, not Clockify's.
        # A scan of the raw names first: few requests carry it, and Headers.get costs more.
        if not any(name.lower() == _ZONE_HEADER_NAME for name, _ in flow.request.headers.fields):
            return
        requested = flow.request.headers.get(ZONE_HEADER)
        if requested is not None:
            del flow.request.headers[ZONE_HEADER]
            flow.metadata[ZONE_REQUESTED] = requested.strip()

    async def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or not is_clockify_flow(flow):
            return
        zone = self.settings.current.zone
        requested = flow.metadata.get(ZONE_REQUESTED)
        if requested is not None:
            try:
                zone = Zone(requested, zones.zone(requested), f"{ZONE_HEADER} header")
            except zones.UnknownZone as e:
                reject(flow, "unknown-timezone", f"{ZONE_HEADER}: {e}. clockify-proxy did not send this request.")
                return
        endpoint = catalogue.find(flow.request.method, flow.metadata[API_PATH])
        if endpoint is None:
            return
        now = datetime.now(timezone.utc)
        zulu = self.settings.current.report_zulu
        request = flow.request
        new_path, plan = fix_query(request.path, endpoint, zone, now, zulu)
        plans = [plan]
        new_body = None
        if plan.rejection is None and (endpoint.body or endpoint.form) and request.raw_content != b"":
            try:
                args = (request, endpoint, zone, now, zulu)
                if len(request.raw_content or b"") > THREAD_BODY_BYTES:
                    new_body, body_plan = await asyncio.to_thread(self._fix_body, *args)
                else:
                    new_body, body_plan = self._fix_body(*args)
                plans.append(body_plan)
            except BodyUnchanged as e:
                flow.metadata[events.UNCHANGED] = str(e)
        flow.metadata[events.CONTEXT] = {"zone": zone.name, "zone_source": zone.source}
        for p in plans:
            events.record(flow, events.NOTES, *p.notes)
            events.record(flow, events.WARNINGS, *p.warnings)
        rejection = next((p.rejection for p in plans if p.rejection), None)
        if rejection:
            reject(flow, rejection.diagnosis, rejection.message)
            return
        if new_path != request.path:
            request.path = new_path
        if new_body is not None:
            request.content = new_body
        for p in plans:
            for edit in p.edits:
                events.record_change(flow, edit.label, edit.before, edit.after, edit.kind)

    def _fix_body(self, request: http.Request, endpoint: catalogue.Endpoint, zone: Zone, now: datetime, zulu: str):
        """(the new decoded body, or None when it stays as it came; the plan)."""
        if request.raw_content is None:
            raise BodyUnchanged("body was streamed (stream_large_bodies): forwarded as it came")
        content_type = request.headers.get("content-type", "")
        is_form = content_type.lower().startswith("multipart/form-data")
        if not (is_form and endpoint.form) and not (is_json_type(content_type) and endpoint.body):
            raise BodyUnchanged(f"content type {content_type!r} is not one this endpoint's times are read from")
        if len(request.raw_content) > MAX_BODY_BYTES:
            raise BodyUnchanged(f"body is larger than {MAX_BODY_BYTES} bytes")
        try:
            content = request.get_content(strict=True)
        except ValueError as e:
            raise BodyUnchanged(f"body cannot be decoded ({e})") from None
        if len(content) > MAX_BODY_BYTES:
            raise BodyUnchanged(f"decoded body is larger than {MAX_BODY_BYTES} bytes")
        if is_form:
            new, plan = fix_form(content, content_type, endpoint, zone, now)
        else:
            new, plan = fix_json(content, endpoint, zone, now, zulu)
        return (new if new != content else None), plan
