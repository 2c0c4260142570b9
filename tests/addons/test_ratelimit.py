"""429 retries against a real local server; holding per workspace and key."""

import http.server
import json
import threading

import pytest
from mitmproxy import http as mhttp
from mitmproxy.proxy import mode_specs
from mitmproxy.test import tflow


class Upstream:
    """Answers 429 (with Retry-After: 0) to the first `fail` requests, then 200; counts requests."""

    def __init__(self, fail):
        self.fail, self.seen = fail, []

    def __enter__(self):
        upstream = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("content-length") or 0)
                upstream.seen.append((self.command, self.rfile.read(length)))
                status = 429 if len(upstream.seen) <= upstream.fail else 200
                body = json.dumps({"n": len(upstream.seen)}).encode()
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _answer

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def first_attempt(proxy, upstream, method, body=b""):
    """The flow's own attempt goes to the server; the proxy then sees its 429."""
    f = tflow.tflow(req=mhttp.Request.make(method, upstream.base + "/api/v1/workspaces/w/user/u/time-entries", body, {"content-type": "application/json"}))
    f.client_conn.proxy_mode = mode_specs.ProxyMode.parse(f"reverse:{upstream.base}")
    upstream.seen.append((method, body))
    return proxy.send(f, mhttp.Response.make(429, b"{}", {"Retry-After": "0"}))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_idempotent_429_is_retried_until_it_succeeds(proxy, method):
    proxy.configure(clockify_rate_retries="3")
    with Upstream(fail=2) as upstream:
        f = first_attempt(proxy, upstream, method, b"[]" if method == "PUT" else b"")
        assert f.response.status_code == 200
        assert f.response.headers["X-Clockify-Proxy-Retried"] == "429 x2"
        assert [m for m, _ in upstream.seen] == [method] * 3
        assert "X-Clockify-Proxy-Diagnosis" not in f.response.headers


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_post_and_patch_are_never_retried(proxy, method):
    proxy.configure(clockify_rate_retries="3")
    with Upstream(fail=1) as upstream:
        f = first_attempt(proxy, upstream, method, b"{}")
        assert f.response.status_code == 429
        assert len(upstream.seen) == 1
        assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "rate-limited"


def test_retries_are_bounded_and_the_last_429_is_annotated(proxy):
    proxy.configure(clockify_rate_retries="2")
    with Upstream(fail=100) as upstream:
        f = first_attempt(proxy, upstream, "GET")
        assert f.response.status_code == 429
        assert len(upstream.seen) == 3
        assert f.response.headers["X-Clockify-Proxy-Retried"] == "429 x2"
        assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "rate-limited"


def test_holding_is_per_workspace_and_key(proxy):
    proxy.configure(clockify_rate_limit="1", clockify_rate_max_wait="0.5")

    def flow(workspace, key):
        f = tflow.tflow(req=mhttp.Request.make("GET", f"https://api.clockify.me/api/v1/workspaces/{workspace}/projects", b"", {"X-Api-Key": key}))
        return proxy.send(f, mhttp.Response.make(200))

    assert "X-Clockify-Proxy-Warning" not in flow("w1", "k1").response.headers
    assert "X-Clockify-Proxy-Warning" not in flow("w2", "k1").response.headers
    assert "X-Clockify-Proxy-Warning" not in flow("w1", "k2").response.headers
    # The same pair again within the second: its slot is 1 s away, more than the 0.5 s allowed.
    assert flow("w1", "k1").response.headers["X-Clockify-Proxy-Warning"] == "rate-limit-wait-exceeded"
