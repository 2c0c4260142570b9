"""A JSON body sent without `Content-Type: application/json` (or as text/plain) gets that header."""

from __future__ import annotations

import json

from mitmproxy import http

from . import events
from .settings import ClockifySettings

JSON = "application/json"


def is_json_document(content: bytes) -> bool:
    try:
        return isinstance(json.loads(content), (dict, list))
    except (ValueError, UnicodeDecodeError):
        return False


class ClockifyContentType:
    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings

    def request(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or not events.is_clockify_flow(flow):
            return
        if not self.settings.current.fix_content_type or not flow.request.raw_content:
            return
        sent = flow.request.headers.get("content-type")
        if (sent or "").split(";", 1)[0].strip().lower() not in ("", "text/plain"):
            return
        try:
            content = flow.request.get_content(strict=True)
        except ValueError:
            return
        if is_json_document(content):
            flow.request.headers["Content-Type"] = JSON
            events.record_change(flow, "Content-Type", sent, JSON, "content-type")
