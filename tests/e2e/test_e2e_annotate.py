"""Failing responses through a real proxy: status and body unchanged, diagnosis and hint headers,
the log event, the opt-in HIDE_AMOUNT retry and the support records; health and metrics."""

from __future__ import annotations

import json

import pytest

from tests.support import DIAGNOSIS_HEADER, GLOBAL_KEY, HINT_HEADER, new_session

TIMEOUT = 10
W = "/api/v1/workspaces/w1"

# Real error bodies (../shared/clockify/api-facts.md section 2) and what the proxy calls them.
CASES = [
    ("GET", f"{W}/users", 403, {"message": "Access Denied", "code": 501}, "forbidden"),
    ("GET", "/api/v1/user", 401, {"message": "Api key does not exist", "code": 4003}, "unknown-api-key"),
    ("GET", "/api/v1/user", 401, {"message": "Token is not valid", "code": 4017}, "invalid-addon-token"),
    ("POST", f"{W}/time-entries", 400, {"message": "Start datetime 2020-12-01T14:57:28Z is greater than end datetime 2020-12-01T14:57:27Z.", "code": 501}, "start-after-end"),
    ("PATCH", f"{W}/user/u1/time-entries", 404, {"message": "Currently running time entry doesn't exist on workspace w1 for user u1.", "code": 404}, "no-running-timer"),
    ("GET", f"{W}/balance", 404, {"message": "No static resource v1/workspaces/w1/balance.", "code": 3000}, "no-such-route"),
    ("PUT", "/api/v1/user", 405, {"message": "Request method 'PUT' is not supported", "code": 3000}, "method-not-allowed"),
    ("GET", f"{W}/projects", 429, "", "rate-limited"),
    ("GET", f"{W}/tags", 500, "<html>Internal Server Error</html>", "server-error"),
    ("GET", f"{W}/scheduling/assignments/all", 400, {"message": "Required request parameter 'start' for method parameter type String is not present"}, "missing-parameter"),
]


@pytest.fixture(scope="module")
def support_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("support")


@pytest.fixture(scope="module")
def proxy(module_proxy_factory, _plain_fake, support_dir):
    return module_proxy_factory.start(
        ["--mode", f"reverse:http://127.0.0.1:{_plain_fake.port}", "--set", f"clockify_api_key={GLOBAL_KEY}",
         "--set", f"clockify_support_dir={support_dir}", "--set", "clockify_rate_retries=0",
         "--set", "clockify_retry_hide_amount=true"]
    )


@pytest.mark.parametrize("method, path, status, body, slug", CASES, ids=[c[4] for c in CASES])
def test_failure_keeps_status_and_body_and_explains_itself(proxy, fake_upstream, method, path, status, body, slug):
    raw = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
    fake_upstream.add_rule(method, "^" + path.replace("/", r"\/") + "$", status=status, body=raw,
                           headers={"Content-Type": "application/json" if isinstance(body, dict) else "text/html"})
    with new_session() as s:
        r = s.request(method, proxy.url + path, json={} if method in ("POST", "PUT", "PATCH") else None, timeout=TIMEOUT)
    assert r.status_code == status
    assert r.content == raw
    assert r.headers[DIAGNOSIS_HEADER] == slug
    assert r.headers[HINT_HEADER].isascii() and len(r.headers[HINT_HEADER]) > 20
    event = proxy.wait_for_events("response.failed", diagnosis=slug)[-1]
    assert event["status"] == status and event["method"] == method
    assert event["clockify_code"] == (body.get("code") if isinstance(body, dict) else None)


def test_support_record_is_ready_to_attach_and_holds_no_credential(proxy, fake_upstream, support_dir):
    fake_upstream.add_rule("GET", r"/users$", status=403, body={"message": "Access Denied", "code": 501})
    with new_session() as s:
        r = s.get(proxy.url + f"{W}/users", headers={"Cookie": "session=COOKIE-SECRET-123456"}, timeout=TIMEOUT)
    assert r.status_code == 403
    event = proxy.wait_for_events("response.failed", diagnosis="forbidden")[-1]
    record_path = event["support_record"]
    text = open(record_path, encoding="utf-8").read()
    assert GLOBAL_KEY[:-4] not in text and "COOKIE-SECRET-123456" not in text
    record = json.loads(text)
    assert record["response"] == {**record["response"], "status": 403, "body": '{"message": "Access Denied", "code": 501}'}
    assert ["X-Api-Key", "...Gl0b"] in record["request"]["headers"]
    assert record["request"]["method"] == "GET" and record["diagnosis"] == "forbidden"


def test_amounts_forbidden_report_is_retried_once_with_hide_amount(proxy, fake_upstream):
    # 403 while amounts are asked for; the fake answers the retry (HIDE_AMOUNT) with 200.
    fake_upstream.add_rule("POST", r"/reports/summary$", status=403, body=b"", times=1)
    body = {"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": "2024-05-31T23:59:59.999", "timeZone": "Europe/Brussels",
            "amountShown": "EARNED", "summaryFilter": {"groups": ["PROJECT"]}}
    with new_session() as s:
        r = s.post(proxy.url + "/report/v1/workspaces/w1/reports/summary", json=body, timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["X-Clockify-Proxy-Retried"] == "amountShown=HIDE_AMOUNT"
    first, retry = fake_upstream.wait_for_requests(2)
    assert first.json()["amountShown"] == "EARNED"
    assert retry.json() == {**body, "amountShown": "HIDE_AMOUNT"}
    assert retry.header("X-Api-Key") == GLOBAL_KEY


@pytest.mark.parametrize("mode", ["reverse", "regular"])
def test_health_and_metrics_answer_without_reaching_clockify(proxy_factory, fake_upstream, mode):
    args = ["--mode", f"reverse:http://127.0.0.1:{fake_upstream.port}"] if mode == "reverse" else []
    proxy = proxy_factory.start(args)
    with new_session() as s:
        health = s.get(proxy.url + "/__clockify-proxy/health", timeout=TIMEOUT)
        metrics = s.get(proxy.url + "/__clockify-proxy/metrics", timeout=TIMEOUT)
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert metrics.status_code == 200 and "clockify_proxy_up 1" in metrics.text
    assert fake_upstream.requests == []
