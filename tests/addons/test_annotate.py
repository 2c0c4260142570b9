"""Failure annotation on mitmproxy test flows, with Clockify's real error bodies (api-facts section 2)."""

import json

import pytest
from mitmproxy import http
from mitmproxy.test import tflow

from clockify_proxy import annotate

KEY = "TESTKEY-global-000000000000000000000000000000Zz99"
CORE = "https://api.clockify.me/api/v1/workspaces/w1"
EU = "https://euc1.clockify.me/api/v1/workspaces/w1"
REPORTS = "https://reports.api.clockify.me/v1/workspaces/w1/reports/detailed"


def call(proxy, method, url, status, body, req_body=b"", req_headers=None, resp_headers=None):
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    if isinstance(req_body, dict):
        req_body = json.dumps(req_body).encode()
    f = tflow.tflow(req=http.Request.make(method, url, req_body, {"content-type": "application/json", **(req_headers or {})}))
    return proxy.send(f, http.Response.make(status, body, {"content-type": "application/json", **(resp_headers or {})})), body


CASES = [
    ("GET", f"{CORE}/user", {}, 401, {"message": "Multiple or none auth tokens present", "code": 1000}, "missing-credentials"),
    ("GET", f"{CORE}/user", {"X-Api-Key": "a", "X-Addon-Token": "b"}, 401, {"message": "Multiple or none auth tokens present", "code": 1000}, "two-credentials"),
    ("GET", f"{CORE}/user", {"Authorization": "Bearer abc"}, 401, {"message": "Multiple or none auth tokens present", "code": 1000}, "bearer-not-supported"),
    ("GET", f"{CORE}/user", {}, 403, {"message": "Full authentication is required to access this resource", "code": 1000}, "missing-credentials"),
    ("GET", f"{CORE}/user", {"X-Api-Key": "x"}, 401, {"message": "Api key does not exist", "code": 4003}, "unknown-api-key"),
    ("GET", f"{CORE}/user", {"X-Addon-Token": "x"}, 401, {"message": "Token is not valid", "code": 4017}, "invalid-addon-token"),
    ("GET", f"{CORE}/users", {"X-Api-Key": "x"}, 403, {"message": "Access Denied", "code": 501}, "forbidden"),
    ("POST", f"{CORE}/time-entries", {"X-Api-Key": "x"}, 400, {"message": "Start datetime 2024-10-31T22:00:00Z is greater than end datetime 2024-10-31T16:00:00Z.", "code": 501}, "start-after-end"),
    ("POST", f"{CORE}/time-entries", {"X-Api-Key": "x"}, 400, {"message": "Time entry couldn't be created. Project is either required field or given project is archived. Please change your input or update your workspace settings.", "code": 501}, "project-required"),
    ("PATCH", f"{CORE}/user/u1/time-entries", {"X-Api-Key": "x"}, 404, {"message": "Currently running time entry doesn't exist on workspace w1 for user u1.", "code": 404}, "no-running-timer"),
    ("GET", f"{CORE}/balance", {"X-Api-Key": "x"}, 404, {"message": "No static resource v1/workspaces/w1/balance.", "code": 3000}, "no-such-route"),
    ("PUT", f"{CORE}/user", {"X-Api-Key": "x"}, 405, {"message": "Request method 'PUT' is not supported", "code": 3000}, "method-not-allowed"),
    ("GET", f"{CORE}/user", {"X-Api-Key": "x"}, 429, b"", "rate-limited"),
    ("GET", f"{CORE}/user", {"X-Api-Key": "x"}, 503, b"<html>down</html>", "server-error"),
    ("GET", f"{CORE}/scheduling/assignments/all", {"X-Api-Key": "x"}, 400, {"message": "Required request parameter 'start' for method parameter type String is not present"}, "missing-parameter"),
    ("POST", "https://reports.api.clockify.me/v1/workspaces/w1/reports/weekly", {"X-Api-Key": "x"}, 400, {"message": "Please select date range of exactly 7 days for weekly report", "code": 501}, "weekly-range-not-7-days"),
    ("POST", f"{CORE}/time-off/policies/p/requests", {"X-Api-Key": "x"}, 400, {"message": "invalid date format"}, "invalid-date-format"),
]


@pytest.mark.parametrize("method, url, headers, status, body, slug", CASES)
def test_failing_response_keeps_status_and_body_and_explains_itself(proxy, method, url, headers, status, body, slug):
    f, raw = call(proxy, method, url, status, body, req_headers=headers)
    assert f.response.status_code == status
    assert f.response.content == raw
    assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == slug
    hint = f.response.headers["X-Clockify-Proxy-Hint"]
    assert hint and hint.isascii() and "\n" not in hint


def test_missing_credentials_names_the_configured_key_by_its_last_four(proxy):
    proxy.configure(clockify_api_key=KEY, clockify_key_mode="off")
    f, _ = call(proxy, "GET", f"{CORE}/user", 401, {"message": "Multiple or none auth tokens present", "code": 1000})
    hint = f.response.headers["X-Clockify-Proxy-Hint"]
    assert "...Zz99" in hint and KEY not in hint and "X-Api-Key" in hint


def test_unknown_key_on_a_region_host_says_keys_are_region_bound(proxy):
    proxy.configure(clockify_api_key=KEY)
    f, _ = call(proxy, "GET", f"{EU}/user", 401, {"message": "Api key does not exist", "code": 4003})
    hint = f.response.headers["X-Clockify-Proxy-Hint"]
    assert "region-bound" in hint and "euc1" in hint and "...Zz99" in hint
    assert "Preferences > Advanced > Generate" in hint


def test_report_asking_for_amounts_gets_the_hide_amount_advice(proxy):
    body = {"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": "2024-05-31T23:59:59", "timeZone": "UTC", "amountShown": "EARNED"}
    f, _ = call(proxy, "POST", REPORTS, 403, b"", req_body=body, req_headers={"X-Api-Key": "x"})
    assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "amounts-forbidden"
    assert '"amountShown": "HIDE_AMOUNT"' in f.response.headers["X-Clockify-Proxy-Hint"]
    body["amountShown"] = "HIDE_AMOUNT"
    f, _ = call(proxy, "POST", REPORTS, 403, b"", req_body=body, req_headers={"X-Api-Key": "x"})
    assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "forbidden"


def test_start_after_end_hint_says_what_the_proxy_rewrote(proxy):
    f, _ = call(
        proxy, "POST", f"{CORE}/time-entries", 400,
        {"message": "Start datetime 2024-05-01T07:00:00Z is greater than end datetime 2024-05-01T06:00:00Z.", "code": 501},
        req_body={"start": "2024-05-01T09:00:00+02:00"}, req_headers={"X-Api-Key": "x"},
    )
    hint = f.response.headers["X-Clockify-Proxy-Hint"]
    assert "start sent as 2024-05-01T09:00:00+02:00, forwarded as 2024-05-01T07:00:00Z" in hint
    assert "UTC" in hint


def test_retry_after_is_quoted(proxy):
    f, _ = call(proxy, "GET", f"{CORE}/user", 429, b"", req_headers={"X-Api-Key": "x"}, resp_headers={"Retry-After": "3"})
    assert "3 s" in f.response.headers["X-Clockify-Proxy-Hint"]


def test_successful_responses_are_not_annotated(proxy):
    f, _ = call(proxy, "GET", f"{CORE}/user", 200, {"id": "u"}, req_headers={"X-Api-Key": "x"})
    assert "X-Clockify-Proxy-Diagnosis" not in f.response.headers


def test_support_record_is_written_with_credentials_masked(proxy, tmp_path):
    proxy.configure(clockify_api_key=KEY, clockify_support_dir=str(tmp_path / "support"))
    f, _ = call(proxy, "GET", f"{CORE}/users", 403, {"message": "Access Denied", "code": 501},
                req_headers={"Cookie": "session=SECRETCOOKIE123456"})
    files = list((tmp_path / "support").iterdir())
    assert len(files) == 1 and "403-forbidden" in files[0].name
    text = files[0].read_text()
    assert KEY not in text and "SECRETCOOKIE123456" not in text
    record = json.loads(text)
    assert record["response"]["status"] == 403
    assert record["response"]["body"] == '{"message": "Access Denied", "code": 501}'
    assert record["diagnosis"] == "forbidden"
    assert ["X-Api-Key", "...Zz99"] in record["request"]["headers"]


def test_proxy_made_502_is_json_with_the_same_headers():
    raw = annotate.proxy_error_response(502, "Connection refused")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 502")
    assert b"X-Clockify-Proxy-Diagnosis: upstream-unreachable" in head
    assert b"X-Clockify-Proxy-Hint: " in head
    assert json.loads(body) == {"message": "clockify-proxy: Connection refused", "code": 502}


class AmountsServer:
    """A reports endpoint on 127.0.0.1 that refuses amounts (403) and records what it receives."""

    def __enter__(self):
        import http.server
        import threading

        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                received.append((dict(self.headers), body))
                hidden = body.get("amountShown") == "HIDE_AMOUNT"
                payload = json.dumps({"totals": []} if hidden else {"message": "Forbidden", "code": 501}).encode()
                self.send_response(200 if hidden else 403)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/report/v1/workspaces/w1/reports/summary"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_opt_in_retry_hides_amounts_once_and_says_so(proxy):
    proxy.configure(clockify_retry_hide_amount="true", clockify_api_key=KEY, clockify_upstream="")
    body = {"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": "2024-05-31T23:59:59", "timeZone": "UTC", "amountShown": "EARNED"}
    with AmountsServer() as server:
        f = tflow.tflow(req=http.Request.make("POST", server.url, json.dumps(body).encode(), {"content-type": "application/json", "host": "x"}))
        from mitmproxy.proxy import mode_specs

        f.client_conn.proxy_mode = mode_specs.ProxyMode.parse(f"reverse:{server.url.split('/report')[0]}")
        proxy.send(f, http.Response.make(403, b'{"message":"Forbidden","code":501}', {"content-type": "application/json"}))
        assert f.response.status_code == 200
        assert f.response.headers["X-Clockify-Proxy-Retried"] == "amountShown=HIDE_AMOUNT"
        assert json.loads(f.response.content) == {"totals": []}
        assert len(server.received) == 1  # the first try was the flow's own; one retry only
        headers, retried = server.received[0]
        assert retried == {**body, "amountShown": "HIDE_AMOUNT"}
        assert headers["X-Api-Key"] == KEY


def test_without_the_option_nothing_is_retried(proxy):
    body = {"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": "2024-05-31T23:59:59", "timeZone": "UTC"}
    with AmountsServer() as server:
        f = tflow.tflow(req=http.Request.make("POST", server.url, json.dumps(body).encode(), {"content-type": "application/json"}))
        from mitmproxy.proxy import mode_specs

        f.client_conn.proxy_mode = mode_specs.ProxyMode.parse(f"reverse:{server.url.split('/report')[0]}")
        proxy.send(f, http.Response.make(403, b"", {}))
        assert f.response.status_code == 403
        assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "amounts-forbidden"
        assert server.received == []


def test_health_and_metrics_are_answered_by_the_proxy(proxy):
    proxy.send(tflow.tflow(req=http.Request.make("POST", f"{CORE}/time-entries", b'{"start":"2024-05-01T09:00:00"}', {"content-type": "application/json"})),
               http.Response.make(201, b"{}", {}))
    call(proxy, "GET", f"{CORE}/user", 401, {"message": "Api key does not exist", "code": 4003}, req_headers={"X-Api-Key": "x"})
    for host in ("https://api.clockify.me", "http://127.0.0.1:8080"):
        health = proxy.send(tflow.tflow(req=http.Request.make("GET", f"{host}/__clockify-proxy/health")))
        assert health.response.status_code == 200
        assert json.loads(health.response.content)["status"] == "ok"
    metrics = proxy.send(tflow.tflow(req=http.Request.make("GET", "http://127.0.0.1:8080/__clockify-proxy/metrics"))).response
    text = metrics.content.decode()
    assert 'clockify_proxy_requests_total{service="core"} 2' in text
    assert 'clockify_proxy_fixes_total{kind="instant"} 1' in text
    assert 'clockify_proxy_failures_total{diagnosis="unknown-api-key"} 1' in text
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
