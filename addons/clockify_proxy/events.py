"""What the proxy did to a flow: recorded by each addon, told once per flow.

Each addon records its changes in flow.metadata (primitives only, never a secret); this addon
turns them into response headers for the client and one structlog event per flow.
"""

from __future__ import annotations

import contextvars
import re

from mitmproxy import http

from . import logs
from .status import Metrics

FIXED_HEADER = "X-Clockify-Proxy-Fixed"
WARNING_HEADER = "X-Clockify-Proxy-Warning"
NOTE_HEADER = "X-Clockify-Proxy-Note"
DIAGNOSIS_HEADER = "X-Clockify-Proxy-Diagnosis"
HINT_HEADER = "X-Clockify-Proxy-Hint"

# Set by the router on every Clockify API flow (primitives only: metadata is saved with flows).
SERVICE = "clockify.service"
API_PATH = "clockify.api_path"
CLOCKIFY_HOST = "clockify.host"  # the Clockify host meant (the reverse target in reverse mode)
ORIGINAL_URL = "clockify.original_url"  # where the client sent it, when the proxy sent it elsewhere

CHANGES = "clockify.changes"  # [{"field", "before", "after"}]
KINDS = "clockify.change_kinds"  # [kind], one per change
WARNINGS = "clockify.warnings"  # [slug]
NOTES = "clockify.notes"  # [text]
UNCHANGED = "clockify.unchanged"  # why a body the proxy should have read was forwarded as it came
REJECTED = "clockify.rejected"  # {"diagnosis", "message"}
CONTEXT = "clockify.context"
DIAGNOSIS = "clockify.diagnosis"  # {"diagnosis", "hint", ...} of a failing response
TIMED_OUT = "clockify.timed_out"  # the proxy gave up waiting for the upstream's answer

# What the `error` hook learnt of a failing flow, for the error response mitmproxy builds right
# after it. mitmproxy runs a sync hook and then builds that response in the same asyncio task,
# so a context variable carries it there without crossing to other connections.
FAILING: contextvars.ContextVar[dict | None] = contextvars.ContextVar("clockify_failing", default=None)  # extra fields for the event, e.g. the zone

MAX_HEADER_CHARS = 2000
MAX_LOGGED_CHANGES = 200


def is_clockify_flow(flow: http.HTTPFlow) -> bool:
    return SERVICE in flow.metadata


def record_change(flow: http.HTTPFlow, field: str, before, after, kind: str) -> None:
    """`kind` counts the fix in the metrics: a catalogue kind, "time-zone", "api-key", ..."""
    flow.metadata.setdefault(CHANGES, []).append({"field": field, "before": before, "after": after})
    flow.metadata.setdefault(KINDS, []).append(kind)


def record(flow: http.HTTPFlow, key: str, *items) -> None:
    if items:  # a key is in the metadata only with something in it
        flow.metadata.setdefault(key, []).extend(items)


def header_text(items: list[str]) -> str:
    """Header-safe: printable ASCII, bounded length."""
    text = "; ".join(items)
    if not (text.isascii() and text.isprintable()):
        text = re.sub(r"[^\x20-\x7e]", "?", text)
    return text if len(text) <= MAX_HEADER_CHARS else text[: MAX_HEADER_CHARS - 3] + "..."


def changes_for_log(changes: list[dict]) -> dict:
    """The changes for the log event; a bulk edit of thousands of entries is cut, with a count."""
    if len(changes) <= MAX_LOGGED_CHANGES:
        return {"changes": changes}
    return {"changes": changes[:MAX_LOGGED_CHANGES], "changes_not_shown": len(changes) - MAX_LOGGED_CHANGES}


class ClockifyEvents:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def response(self, flow: http.HTTPFlow) -> None:
        if not is_clockify_flow(flow) or flow.response is None:
            return
        meta = flow.metadata
        headers = flow.response.headers
        if CHANGES in meta:
            headers[FIXED_HEADER] = header_text([",".join([c["field"] for c in meta[CHANGES]])])
        if WARNINGS in meta:
            headers[WARNING_HEADER] = ",".join(dict.fromkeys(meta[WARNINGS]))
        if NOTES in meta:
            headers[NOTE_HEADER] = header_text(meta[NOTES])
        self._log(flow, status=flow.response.status_code)

    def error(self, flow: http.HTTPFlow) -> None:
        if not (is_clockify_flow(flow) and flow.error):
            FAILING.set(None)
            return
        message = flow.error.msg
        timed_out = flow.metadata.get(TIMED_OUT) or "timed out" in message.lower()
        slug = "upstream-timeout" if timed_out else "upstream-unreachable"
        flow.metadata.setdefault(DIAGNOSIS, {"diagnosis": slug})
        FAILING.set({"diagnosis": slug, "host": flow.request.host, "timeout": flow.metadata.get(TIMED_OUT)})
        self._log(flow, error=message)

    def _log(self, flow: http.HTTPFlow, **outcome) -> None:
        meta = flow.metadata
        self.metrics.count(
            meta[SERVICE],
            meta.get(KINDS, []),
            (meta.get(REJECTED) or {}).get("diagnosis"),
            (meta.get(DIAGNOSIS) or {}).get("diagnosis"),
        )
        if meta.get(REJECTED):
            event, level = "request.rejected", "warning"
            fields = dict(meta[REJECTED])
        elif meta.get(DIAGNOSIS):
            event, level = "response.failed", "warning"
            fields = dict(meta[DIAGNOSIS])
            if meta.get(CHANGES):
                fields.update(changes_for_log(meta[CHANGES]))
        elif meta.get(CHANGES):
            event, level, fields = "request.fixed", "info", changes_for_log(meta[CHANGES])
        elif meta.get(UNCHANGED):
            event, level, fields = "request.body_unchanged", "warning", {"reason": meta[UNCHANGED]}
        elif meta.get(WARNINGS) or meta.get(NOTES):
            event, level, fields = "request.flagged", "info", {}
        else:
            return
        if meta.get(UNCHANGED) and event != "request.body_unchanged":
            fields["body_unchanged"] = meta[UNCHANGED]
        for key, name in ((NOTES, "notes"), (WARNINGS, "warnings")):
            if meta.get(key):
                fields[name] = meta[key]
        fields.update(meta.get(CONTEXT, {}))
        sent_to = flow.request.url.split("?")[0]
        asked = (meta.get(ORIGINAL_URL) or sent_to).split("?")[0]
        if asked != sent_to:
            fields["sent_to"] = sent_to
        getattr(logs.get(), level)(event, method=flow.request.method, url=asked, **outcome, **fields)
