"""Load and faults through a real clockify-proxy process: nothing lost or mixed up, clean errors.

Loopback only; every loop is bounded in count and time.
"""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from tests.support import DIAGNOSIS_HEADER, new_session

CLIENTS = 200
REQUESTS_PER_CLIENT = 3
TIMEOUT = 30


@pytest.fixture(scope="module")
def proxy(module_proxy_factory, _plain_fake):
    return module_proxy_factory.start(
        ["--mode", f"reverse:http://127.0.0.1:{_plain_fake.port}", "--set", "clockify_timezone=Europe/Brussels"]
    )


def test_200_concurrent_clients_each_get_their_own_answer(proxy, fake_upstream):
    def client(n: int) -> list[tuple[str, dict, str]]:
        seen = []
        with new_session() as session:
            for k in range(REQUESTS_PER_CLIENT):
                path = f"/api/v1/workspaces/w{n % 25}/time-entries?client={n}&k={k}"
                hour = (n + k) % 24
                body = {"start": f"2024-05-01T{hour:02d}:00:00+02:00", "description": f"client {n} request {k}"}
                r = session.post(proxy.url + path, json=body, timeout=TIMEOUT)
                seen.append((path, r.json(), r.headers.get("X-Clockify-Proxy-Fixed")))
        return seen

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = [item for batch in pool.map(client, range(CLIENTS)) for item in batch]

    assert len(results) == CLIENTS * REQUESTS_PER_CLIENT
    for path, echo, fixed in results:
        assert echo.get("path") == path, echo  # the answer is the one to this very request
        assert fixed == "start"
    received = {r.path: r.json() for r in fake_upstream.wait_for_requests(CLIENTS * REQUESTS_PER_CLIENT, timeout=TIMEOUT)}
    assert len(received) == CLIENTS * REQUESTS_PER_CLIENT  # nothing lost, nothing sent twice
    for path, body in received.items():
        n, k = (int(part.split("=")[1]) for part in path.split("?")[1].split("&"))
        assert body["description"] == f"client {n} request {k}"
        sent = datetime(2024, 5, 1, (n + k) % 24, tzinfo=timezone(timedelta(hours=2)))
        assert body["start"] == sent.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    proxy.assert_alive()


class FaultyUpstream:
    """A raw TCP server on 127.0.0.1 that misbehaves by path: /reset, /garbage, /stall, else 200."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            try:
                head = b""
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    head += chunk
                path = head.split(b" ", 2)[1].decode()
                if path.startswith("/api/v1/reset"):
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                elif path.startswith("/api/v1/garbage"):
                    conn.sendall(b"THIS IS NOT HTTP\r\n\r\n")
                elif path.startswith("/api/v1/stall"):
                    self.stop.wait(4)  # bounded: the connection closes after 4 s without an answer
                else:
                    body = json.dumps({"ok": path}).encode()
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
            except OSError:
                return


@pytest.fixture(scope="module")
def faulty():
    with FaultyUpstream() as upstream:
        yield upstream


@pytest.fixture(scope="module")
def faulty_proxy(module_proxy_factory, faulty):
    return module_proxy_factory.start(
        ["--mode", f"reverse:http://127.0.0.1:{faulty.port}", "--set", "clockify_upstream_timeout=1"]
    )


@pytest.mark.parametrize("path", ["/api/v1/reset", "/api/v1/garbage"])
def test_broken_upstream_answers_become_a_clean_502_and_the_proxy_goes_on(faulty_proxy, path):
    with new_session() as session:
        r = session.get(faulty_proxy.url + path, timeout=TIMEOUT)
        assert r.status_code == 502
        assert r.headers[DIAGNOSIS_HEADER] == "upstream-unreachable"
        assert r.headers["X-Clockify-Proxy-Hint"]
        assert r.json()["message"].startswith("clockify-proxy: ")
        ok = session.get(faulty_proxy.url + "/api/v1/fine", timeout=TIMEOUT)
        assert ok.status_code == 200 and ok.json() == {"ok": "/api/v1/fine"}
    faulty_proxy.assert_alive()


def test_refused_upstream_is_a_clean_502(proxy_factory):
    with socket.create_server(("127.0.0.1", 0)) as s:
        closed_port = s.getsockname()[1]  # closed again before the proxy connects: refused
    refused = proxy_factory.start(["--mode", f"reverse:http://127.0.0.1:{closed_port}"])
    with new_session() as session:
        for _ in range(3):
            r = session.get(refused.url + "/api/v1/user", timeout=TIMEOUT)
            assert r.status_code == 502
            assert r.headers[DIAGNOSIS_HEADER] == "upstream-unreachable"
    assert refused.wait_for_events("response.failed", count=3, timeout=10)
    refused.assert_alive()


def test_a_stalled_upstream_does_not_hold_up_other_clients(faulty_proxy):
    stalled = {}

    def call_stall():
        with new_session() as session:
            try:
                stalled["status"] = session.get(faulty_proxy.url + "/api/v1/stall", timeout=TIMEOUT).status_code
            except Exception as e:  # noqa: BLE001 - any outcome but a hang is acceptable here
                stalled["status"] = type(e).__name__

    thread = threading.Thread(target=call_stall)
    thread.start()
    with new_session() as session:
        for i in range(5):
            r = session.get(faulty_proxy.url + f"/api/v1/fine{i}", timeout=5)
            assert r.status_code == 200
    thread.join(timeout=TIMEOUT)
    assert not thread.is_alive()
    assert stalled["status"] == 504


def test_an_upstream_that_does_not_answer_in_time_is_a_clean_504(faulty_proxy):
    with new_session() as session:
        r = session.get(faulty_proxy.url + "/api/v1/stall", timeout=TIMEOUT)
        assert r.status_code == 504
        assert r.headers[DIAGNOSIS_HEADER] == "upstream-timeout"
        assert "did not answer in time" in r.headers["X-Clockify-Proxy-Hint"]
        assert r.json() == {"message": "clockify-proxy: no answer within 1 s (clockify_upstream_timeout)", "code": 504}
        assert session.get(faulty_proxy.url + "/api/v1/fine", timeout=TIMEOUT).status_code == 200
    faulty_proxy.wait_for_events("response.failed", diagnosis="upstream-timeout")
