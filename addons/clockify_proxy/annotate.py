"""Failing Clockify responses explain themselves.

The status and body pass unchanged; the response gains X-Clockify-Proxy-Diagnosis (a stable slug)
and X-Clockify-Proxy-Hint (one line of ASCII), the flow's log event says the same, and with
clockify_support_dir set, a redacted record of the request and response is written for support.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from collections.abc import Awaitable

from mitmproxy import ctx, http
from mitmproxy.net.http import http1
from mitmproxy.proxy.layers.http import _http1

from . import credentials, events, jsonsplice, logs, resend
from .diagnose import Diagnosis, Facts, diagnose
from .keys import API_KEY_HEADER, INJECTED, credential_headers
from .events import API_PATH, CLOCKIFY_HOST, SERVICE, is_clockify_flow
from .settings import ClockifySettings

AMOUNT_SHOWN = "clockify.amount_shown"

MAX_RECORD_BODY = 256 * 1024


def sent_credentials(flow: http.HTTPFlow) -> list[str]:
    """The credentials the request left with: the client's own, and an injected key (dropped from the flow once sent)."""
    present = credential_headers(flow.request.headers)
    if flow.metadata.get(INJECTED):
        present.setdefault("x-api-key", "")
    return credentials.kinds_sent(present)


def amount_shown(request: http.Request) -> str | None:
    if request.raw_content is None or len(request.raw_content) > MAX_RECORD_BODY:
        return None
    try:
        body = request.json()
    except (ValueError, TypeError):
        return None
    if not isinstance(body, dict):
        return None
    holder = body["filter"] if "amountShown" not in body and isinstance(body.get("filter"), dict) else body
    value = holder.get("amountShown")
    return value if isinstance(value, str) else None


def hide_amounts(request: http.Request) -> bytes | None:
    """The report body with amountShown set to HIDE_AMOUNT (in `filter` for shared reports)."""
    if request.method not in ("POST", "PUT") or request.raw_content is None:
        return None
    try:
        text = request.get_content(strict=True).decode("utf-8")
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    parent = ("filter",) if isinstance(doc.get("filter"), dict) and "dateRangeStart" not in doc else ()
    target = doc["filter"] if parent else doc
    try:
        if "amountShown" in target:
            return jsonsplice.splice(text, {parent + ("amountShown",): "HIDE_AMOUNT"}).encode()
        return jsonsplice.splice(text, {}, {parent: ("amountShown", "HIDE_AMOUNT")}).encode()
    except jsonsplice.SpliceError:
        return None


def redacted_headers(headers: http.Headers) -> list[list[str]]:
    return [
        [name, credentials.masked(value) if name.lower() in credentials.SECRET_HEADERS else value]
        for name, value in headers.items(multi=True)
    ]


def body_text(message: http.Message) -> str | None:
    if message.raw_content is None:
        return None
    content = message.get_content(strict=False) or b""
    text = content[:MAX_RECORD_BODY].decode("utf-8", "replace")
    return text + ("... (truncated)" if len(content) > MAX_RECORD_BODY else "")


def support_record(flow: http.HTTPFlow, diagnosis: Diagnosis) -> dict:
    """What support asks for: the request, the response and the error, with every credential masked."""
    request, response = flow.request, flow.response
    sent_headers = redacted_headers(request.headers)
    if flow.metadata.get(INJECTED):  # dropped from the flow once sent; it did leave with the request
        sent_headers.append([API_KEY_HEADER, flow.metadata[INJECTED]])
    return {
        "what": "clockify-proxy support record: the request as it left the proxy and the response it got. "
        "Credentials are masked. Add your role in the workspace when you send it to Clockify support.",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(flow.timestamp_created)),
        "diagnosis": diagnosis.slug,
        "hint": diagnosis.hint,
        "request": {
            "method": request.method,
            "url": request.url,
            "asked_for": flow.metadata.get(events.ORIGINAL_URL),
            "headers": sent_headers,
            "body": body_text(request),
            "changed_by_proxy": flow.metadata.get(events.CHANGES, []),
        },
        "response": {
            "status": response.status_code,
            "headers": redacted_headers(response.headers),
            "body": body_text(response),
        },
    }


def write_record(folder: str, flow: http.HTTPFlow, record: dict) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(flow.timestamp_created))
    name = f"{stamp}-{flow.response.status_code}-{record['diagnosis']}-{flow.id[:8]}.json"
    path = os.path.join(folder, re.sub(r"[^A-Za-z0-9._-]", "_", name))
    with open(path, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, ensure_ascii=False)
    return path


class ClockifyAnnotations:
    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings

    def response(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        # Something to await only for a failure: most responses should not pay for a coroutine.
        if not is_clockify_flow(flow) or flow.response is None or flow.response.status_code < 400:
            return None
        if flow.metadata.get(events.REJECTED):  # the proxy's own answer already says what is wrong
            return None
        return self._annotate(flow)

    async def _annotate(self, flow: http.HTTPFlow) -> None:
        if flow.metadata.get(SERVICE) == "reports":  # read here, not for every report: only failures need it
            flow.metadata[AMOUNT_SHOWN] = amount_shown(flow.request)
        diagnosis = diagnose(self.facts(flow))
        if diagnosis.slug == "amounts-forbidden" and self.settings.current.retry_hide_amount:
            if await self.retry_hiding_amounts(flow):
                if flow.response.status_code < 400:
                    return
                diagnosis = diagnose(self.facts(flow))
        headers = flow.response.headers
        headers[events.DIAGNOSIS_HEADER] = diagnosis.slug
        headers[events.HINT_HEADER] = diagnosis.hint
        flow.metadata[events.DIAGNOSIS] = {
            "diagnosis": diagnosis.slug,
            "hint": diagnosis.hint,
            "clockify_code": diagnosis.code,
            "clockify_message": diagnosis.message,
        }
        folder = self.settings.current.support_dir
        if folder:
            try:
                path = await asyncio.to_thread(write_record, folder, flow, support_record(flow, diagnosis))
                flow.metadata[events.DIAGNOSIS]["support_record"] = path
            except OSError as e:
                logs.get().warning("support_record.not_written", folder=folder, error=e.strerror)

    async def retry_hiding_amounts(self, flow: http.HTTPFlow) -> bool:
        """Send the report once more with "amountShown": "HIDE_AMOUNT"; the client gets that answer."""
        body = hide_amounts(flow.request)
        if body is None:
            return False
        try:
            flow.response = await resend.resend(flow, self.settings.current, body)
        except (OSError, ValueError) as e:
            events.record(flow, events.NOTES, f"retry with HIDE_AMOUNT failed: {e.__class__.__name__}")
            return False
        flow.response.headers[resend.RETRIED_HEADER] = "amountShown=HIDE_AMOUNT"
        events.record_change(flow, "amountShown", flow.metadata.get(AMOUNT_SHOWN), "HIDE_AMOUNT", "hide-amount-retry")
        return True

    def facts(self, flow: http.HTTPFlow) -> Facts:
        host = flow.metadata.get(CLOCKIFY_HOST, flow.request.host)
        keys = self.settings.current.keys
        scope = keys.scope_for(host)
        key = keys.by_scope[scope] if scope else None
        return Facts(
            status=flow.response.status_code,
            body=flow.response.get_content(strict=False) or b"",
            method=flow.request.method,
            api_path=flow.metadata.get(API_PATH, ""),
            service=flow.metadata.get(SERVICE, "core"),
            host=host,
            region=credentials.region_of(host),
            sent=frozenset(sent_credentials(flow)),
            key=credentials.masked(key) if key else None,
            key_scope=scope,
            key_injected=bool(flow.metadata.get(INJECTED)),
            changes=tuple(flow.metadata.get(events.CHANGES, ())),
            amount_shown=flow.metadata.get(AMOUNT_SHOWN),
            retry_after=flow.response.headers.get("retry-after"),
        )


def proxy_error_response(status: int, message: str, failing: dict | None = None) -> bytes:
    """mitmproxy's own 502 (upstream unreachable, or given up on: then 504), made to explain itself.

    mitmproxy builds these below the addon layer: a response set in the `error` hook never reaches
    the client, so the builder itself is wrapped. The body becomes Clockify's JSON envelope and the
    diagnosis headers are added; `failing` is what the `error` hook learnt of the flow.
    """
    failing = failing or {}
    slug = failing.get("diagnosis") or ("upstream-timeout" if status == 504 or "timed out" in message.lower() else "upstream-unreachable")
    if slug == "upstream-timeout":
        status = 504
        if failing.get("timeout"):
            message = f"no answer within {failing['timeout']:g} s (clockify_upstream_timeout)"
    diagnosis = diagnose(Facts(status=status, from_proxy=slug.split("-")[1], host=failing.get("host") or "the upstream server"))
    body = json.dumps({"message": f"clockify-proxy: {message}", "code": status}).encode()
    response = http.Response.make(
        status,
        body,
        {
            "Content-Type": "application/json",
            "Connection": "close",
            events.DIAGNOSIS_HEADER: diagnosis.slug,
            events.HINT_HEADER: diagnosis.hint,
        },
    )
    return http1.assemble_response(response)


class ClockifyUpstreamTimeout:
    """Give up on an upstream that has not answered within clockify_upstream_timeout: a 504.

    mitmproxy itself waits as long as the connection lives. Closing the server connection makes
    mitmproxy fail the flow (error hook, then its error response, turned into a 504 above).
    One task sweeps the waiting flows every tenth of the timeout (between 50 ms and 1 s): cheaper
    than a timer per request, which every request would pay for.
    """

    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings
        self.waiting: dict[str, tuple[float, float, http.HTTPFlow]] = {}  # flow id: (deadline, timeout, flow)
        self.sweeper: asyncio.Task | None = None

    def request(self, flow: http.HTTPFlow) -> None:
        timeout = self.settings.current.upstream_timeout
        if flow.response or flow.error or not flow.live or not is_clockify_flow(flow) or not timeout:
            return
        self.waiting[flow.id] = (time.monotonic() + timeout, timeout, flow)
        if self.sweeper is None:
            self.sweeper = asyncio.get_running_loop().create_task(self.sweep())

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self.waiting.pop(flow.id, None)

    def error(self, flow: http.HTTPFlow) -> None:
        self.waiting.pop(flow.id, None)

    def done(self) -> None:
        if self.sweeper is not None:
            self.sweeper.cancel()

    async def sweep(self) -> None:
        try:
            while self.waiting:
                await asyncio.sleep(max(0.05, min(1.0, min(t for _, t, _ in self.waiting.values()) / 10)))
                now = time.monotonic()
                for flow_id, (deadline, timeout, flow) in list(self.waiting.items()):
                    if deadline <= now:
                        del self.waiting[flow_id]
                        try:
                            self.expire(flow, timeout)
                        except Exception as e:  # noqa: BLE001 - one flow must not end the timeouts of all
                            logs.get().warning("upstream_timeout.not_applied", url=flow.request.url, error=repr(e))
        finally:
            self.sweeper = None

    def expire(self, flow: http.HTTPFlow, timeout: float) -> None:
        if flow.response or flow.error or not flow.live:
            return
        flow.metadata[events.TIMED_OUT] = timeout
        server = ctx.master.addons.get("proxyserver")
        handler = server.connections.get(flow.client_conn.id) if server else None
        transport = handler.transports.get(flow.server_conn) if handler else None
        if transport is not None and transport.writer is not None:
            transport.writer.close()


_original_error_response = _http1.make_error_response


def _error_response(status_code: int, message: str = "") -> bytes:
    if status_code in (502, 504):
        failing = events.FAILING.get()
        events.FAILING.set(None)
        return proxy_error_response(status_code, message, failing)
    return _original_error_response(status_code, message)


def install_error_responses() -> None:
    _http1.make_error_response = _error_response

