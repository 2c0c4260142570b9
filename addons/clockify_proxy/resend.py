"""Send a request again from the proxy itself (retries), as mitmproxy would have sent it."""

from __future__ import annotations

import asyncio
import ssl
from http.client import HTTPConnection, HTTPSConnection
from urllib.parse import urlsplit

from mitmproxy import ctx, http

from .events import CLOCKIFY_HOST
from .keys import API_KEY_HEADER, INJECTED

RETRIED_HEADER = "X-Clockify-Proxy-Retried"
TIMEOUT_SECONDS = 30
_HOP_BY_HOP = {"transfer-encoding", "connection", "content-length", "keep-alive"}


def tls_context() -> ssl.SSLContext:
    """Verify the upstream as mitmproxy itself is told to (ssl_insecure, ssl_verify_upstream_trusted_ca)."""
    if ctx.options.ssl_insecure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(
        cafile=ctx.options.ssl_verify_upstream_trusted_ca or None,
        capath=ctx.options.ssl_verify_upstream_trusted_confdir or None,
    )


def send_once(method: str, url: str, headers: list, body: bytes, context: ssl.SSLContext) -> http.Response:
    parts = urlsplit(url)
    if parts.scheme == "https":
        conn = HTTPSConnection(parts.hostname, parts.port or 443, timeout=TIMEOUT_SECONDS, context=context)
    else:
        conn = HTTPConnection(parts.hostname, parts.port or 80, timeout=TIMEOUT_SECONDS)
    try:
        conn.putrequest(method, parts.path + (f"?{parts.query}" if parts.query else ""), skip_host=True, skip_accept_encoding=True)
        if not any(name.lower() == "host" for name, _ in headers):  # HTTP/2 requests carry :authority instead
            conn.putheader("Host", parts.netloc)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        answer = conn.getresponse()
        content = answer.read()
        kept = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.getheaders() if k.lower() not in _HOP_BY_HOP]
        response = http.Response.make(answer.status, content, http.Headers(kept))
        response.reason = answer.reason
        return response
    finally:
        conn.close()


async def resend(flow: http.HTTPFlow, settings, body: bytes | None = None) -> http.Response:
    """The answer to the flow's request sent once more (with `body` instead of its own, if given).

    The API key the proxy injected was dropped from the flow once sent; it is added back here.
    Raises OSError or ValueError when the upstream cannot be reached.
    """
    request = flow.request
    if body is None:
        body = request.raw_content or b""
        skip = ("content-length", "transfer-encoding")
    else:
        skip = ("content-length", "transfer-encoding", "content-encoding")
    headers = [(k, v) for k, v in request.headers.items(multi=True) if k.lower() not in skip]
    if flow.metadata.get(INJECTED):
        key = settings.keys.key_for(flow.metadata[CLOCKIFY_HOST])
        if key:
            headers.append((API_KEY_HEADER, key))
    return await asyncio.to_thread(send_once, request.method, request.url, headers, body, tls_context())
