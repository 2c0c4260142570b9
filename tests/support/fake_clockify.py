"""A fake Clockify upstream for end-to-end tests.

It listens on 127.0.0.1 (port chosen by the OS), plain HTTP or TLS, serves each connection in
its own thread, records every request exactly as it arrived (method, request target with its
query, headers in order, raw body bytes) and answers by rules:

- default: 200 with a small JSON echo of what it received;
- `add_rule(method, path_regex, status=..., body=..., headers=...)`: the first rule whose method
  matches (None: any) and whose regex matches the request target (path and query, `re.search`)
  answers instead.

Everything is bounded: recorded requests (oldest dropped first), body size (larger bodies get a
413 and are recorded truncated), socket timeouts, and the time `stop()` waits.
"""

from __future__ import annotations

import collections
import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str  # the request target as sent on the request line: path and raw query
    headers: tuple[tuple[str, str], ...]  # in order, duplicates kept
    body: bytes  # raw bytes as received (still compressed if the request was)
    tls: bool
    received_at: float

    def header(self, name: str) -> str | None:
        """The first value of a header (case-insensitive), or None."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_names(self) -> list[str]:
        return [key.lower() for key, _ in self.headers]

    @property
    def path_only(self) -> str:
        return self.path.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.path.partition("?")[2]

    def json(self):
        return json.loads(self.body.decode("utf-8"))


@dataclass
class Rule:
    method: str | None
    path: re.Pattern
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    remaining: int | None = None  # None: unlimited uses

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path.search(path) is not None


def _as_bytes(body) -> tuple[bytes, str | None]:
    """A rule body as bytes, and the content type it implies (None: leave to the caller)."""
    if body is None:
        return b"", None
    if isinstance(body, bytes):
        return body, None
    if isinstance(body, str):
        return body.encode("utf-8"), "text/plain; charset=utf-8"
    return json.dumps(body).encode("utf-8"), "application/json"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() closes open connections itself, with bounded waits
    allow_reuse_address = True
    request_queue_size = 512  # the listen backlog: the load test opens 200 connections at once

    def __init__(self, fake: "FakeClockify", ssl_context: ssl.SSLContext | None) -> None:
        self.fake = fake
        self.ssl_context = ssl_context
        self.open_sockets: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request, client_address) -> None:
        # Runs in the connection's own thread, so a slow TLS handshake never blocks accept().
        request.settimeout(FakeClockify.SOCKET_TIMEOUT)
        tracked = [request]
        with self.open_lock:
            self.open_sockets.add(request)
        try:
            if self.ssl_context is not None:
                try:
                    request = self.ssl_context.wrap_socket(request, server_side=True)
                except (ssl.SSLError, OSError) as e:
                    self.fake._note_tls_failure(repr(e))
                    return
                tracked.append(request)
                with self.open_lock:
                    self.open_sockets.add(request)
            super().finish_request(request, client_address)
        finally:
            with self.open_lock:
                for sock in tracked:
                    self.open_sockets.discard(sock)
            if len(tracked) > 1:  # the TLS socket owns the descriptor now; close it here
                try:
                    tracked[-1].close()
                except OSError:
                    pass

    def handle_error(self, request, client_address) -> None:
        # A client hanging up mid-request is normal in these tests; keep stderr quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format, *args) -> None:  # noqa: A002 - signature from the base class
        pass

    def _read_body(self) -> tuple[bytes, bool]:
        """The body and whether it was cut at the size limit."""
        limit = self.server.fake.max_body_bytes
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, size, truncated = [], 0, False
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    break
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(n)
                self.rfile.readline(16)
                if size + len(data) > limit:
                    truncated = True
                else:
                    chunks.append(data)
                size += len(data)
            return b"".join(chunks), truncated
        length = int(self.headers.get("Content-Length") or 0)
        if length > limit:
            remaining, kept = length, []
            while remaining > 0:
                data = self.rfile.read(min(remaining, 1 << 16))
                if not data:
                    break
                if sum(map(len, kept)) < limit:
                    kept.append(data)
                remaining -= len(data)
            return b"".join(kept)[:limit], True
        return (self.rfile.read(length) if length else b""), False

    def _handle(self) -> None:
        fake = self.server.fake
        body, truncated = self._read_body()
        recorded = RecordedRequest(
            method=self.command,
            path=self.path,
            headers=tuple(self.headers.items()),
            body=body,
            tls=self.server.ssl_context is not None,
            received_at=time.time(),
        )
        fake._record(recorded)
        if truncated:
            status, headers, payload = 413, {"Content-Type": "application/json"}, b'{"message":"too large","code":413}'
        else:
            status, headers, payload = fake._answer(recorded)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle


class FakeClockify:
    """A threaded fake upstream; use as a context manager or call start()/stop()."""

    SOCKET_TIMEOUT = 15.0

    def __init__(
        self,
        *,
        certfile: Path | str | None = None,
        keyfile: Path | str | None = None,
        max_requests: int = 1000,
        max_body_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        ssl_context = None
        if certfile is not None:
            ssl_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ssl_context.load_cert_chain(str(certfile), str(keyfile) if keyfile else None)
            ssl_context.set_alpn_protocols(["http/1.1"])
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Condition()
        self._requests: collections.deque[RecordedRequest] = collections.deque(maxlen=max_requests)
        self._total = 0
        self._rules: list[Rule] = []
        self._tls_failures: collections.deque[str] = collections.deque(maxlen=100)
        self._server = _Server(self, ssl_context)
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def tls(self) -> bool:
        return self._server.ssl_context is not None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self) -> "FakeClockify":
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"fake-clockify-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout)
            self._thread = None
        with self._server.open_lock:
            sockets = list(self._server.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()

    def __enter__(self) -> "FakeClockify":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- recording ---------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._total += 1
            self._lock.notify_all()

    def _note_tls_failure(self, text: str) -> None:
        with self._lock:
            self._tls_failures.append(text)

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    @property
    def tls_failures(self) -> list[str]:
        with self._lock:
            return list(self._tls_failures)

    def wait_for_requests(self, count: int = 1, timeout: float = 10.0) -> list[RecordedRequest]:
        """Wait until at least `count` requests are recorded; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"fake upstream got {len(self._requests)} request(s) within {timeout}s, expected {count}: "
                        f"{[(r.method, r.path) for r in self._requests]}"
                    )
                self._lock.wait(left)
            return list(self._requests)

    def only_request(self, timeout: float = 10.0) -> RecordedRequest:
        """The single request recorded since the last clear(); fails if there are more."""
        found = self.wait_for_requests(1, timeout)
        assert len(found) == 1, f"expected exactly one upstream request, got {[(r.method, r.path) for r in found]}"
        return found[0]

    def clear(self) -> None:
        """Forget recorded requests and rules."""
        with self._lock:
            self._requests.clear()
            self._rules.clear()
            self._tls_failures.clear()

    # -- answering ---------------------------------------------------------------------------

    def add_rule(
        self,
        method: str | None,
        path_regex: str,
        *,
        status: int = 200,
        body: bytes | str | dict | list | None = None,
        headers: dict[str, str] | None = None,
        times: int | None = None,
    ) -> Rule:
        payload, implied_type = _as_bytes(body)
        all_headers = dict(headers or {})
        if implied_type and not any(k.lower() == "content-type" for k in all_headers):
            all_headers["Content-Type"] = implied_type
        rule = Rule(method, re.compile(path_regex), status, payload, all_headers, times)
        with self._lock:
            self._rules.append(rule)
        return rule

    def _answer(self, request: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            for rule in self._rules:
                if rule.matches(request.method, request.path) and rule.remaining != 0:
                    if rule.remaining is not None:
                        rule.remaining -= 1
                    return rule.status, dict(rule.headers), rule.body
        echo = {
            "fake": "clockify",
            "method": request.method,
            "path": request.path,
            "bodyBytes": len(request.body),
        }
        return 200, {"Content-Type": "application/json"}, json.dumps(echo).encode()
