"""Fixes beyond times and keys, through a real proxy: rate limits, content type, misrouted calls;
each one switched off again."""

from __future__ import annotations

import json
import threading

import pytest

from tests.support import FIXED_HEADER, new_session

TIMEOUT = 20


def start(proxy_factory, fake, *extra):
    return proxy_factory.start(["--mode", f"reverse:http://127.0.0.1:{fake.port}", *extra])


def test_429_to_a_get_is_retried_and_the_client_never_sees_it(proxy_factory, fake_upstream):
    fake_upstream.add_rule("GET", r"/projects$", status=429, body="", headers={"Retry-After": "0"}, times=2)
    proxy = start(proxy_factory, fake_upstream)
    with new_session() as s:
        r = s.get(proxy.url + "/api/v1/workspaces/w/projects", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["X-Clockify-Proxy-Retried"] == "429 x2"
    assert len(fake_upstream.wait_for_requests(3)) == 3


def test_429_to_a_post_is_never_retried(proxy_factory, fake_upstream):
    fake_upstream.add_rule("POST", r"/time-entries$", status=429, body="", headers={"Retry-After": "0"}, times=1)
    proxy = start(proxy_factory, fake_upstream)
    with new_session() as s:
        r = s.post(proxy.url + "/api/v1/workspaces/w/time-entries", json={"start": "2024-05-01T07:00:00Z"}, timeout=TIMEOUT)
    assert r.status_code == 429
    assert r.headers["X-Clockify-Proxy-Diagnosis"] == "rate-limited"
    assert len(fake_upstream.requests) == 1


def test_retries_switched_off(proxy_factory, fake_upstream):
    fake_upstream.add_rule("GET", r"/projects$", status=429, body="", headers={"Retry-After": "0"}, times=1)
    proxy = start(proxy_factory, fake_upstream, "--set", "clockify_rate_retries=0")
    with new_session() as s:
        assert s.get(proxy.url + "/api/v1/workspaces/w/projects", timeout=TIMEOUT).status_code == 429
    assert len(fake_upstream.requests) == 1


def test_concurrent_clients_are_held_to_the_rate_not_failed(proxy_factory, fake_upstream):
    proxy = start(proxy_factory, fake_upstream, "--set", "clockify_rate_limit=10")
    statuses = []

    def client(n):
        with new_session() as s:
            statuses.append(s.get(proxy.url + f"/api/v1/workspaces/w/projects?n={n}", timeout=TIMEOUT).status_code)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert statuses == [200] * 20
    arrivals = sorted(r.received_at for r in fake_upstream.wait_for_requests(20))
    # 20 requests of one workspace and key at 10 per second: at least 19 intervals of 0.1 s.
    assert arrivals[-1] - arrivals[0] >= 1.7
    other = start(proxy_factory, fake_upstream, "--set", "clockify_rate_limit=0")
    with new_session() as s:
        assert all(s.get(other.url + "/api/v1/workspaces/w/projects", timeout=TIMEOUT).status_code == 200 for _ in range(5))


@pytest.mark.parametrize("content_type", [None, "text/plain"])
def test_json_sent_without_json_content_type_gets_it(proxy_factory, fake_upstream, content_type):
    proxy = start(proxy_factory, fake_upstream)
    headers = {"Content-Type": content_type} if content_type else {}
    with new_session() as s:
        r = s.post(proxy.url + "/api/v1/workspaces/w/projects", data=b'{"name": "Acme"}', headers=headers, timeout=TIMEOUT)
    assert r.headers[FIXED_HEADER] == "Content-Type"
    got = fake_upstream.only_request()
    assert got.header("Content-Type") == "application/json" and got.body == b'{"name": "Acme"}'


def test_content_type_fix_switched_off_and_non_json_left_alone(proxy_factory, fake_upstream):
    off = start(proxy_factory, fake_upstream, "--set", "clockify_fix_content_type=false")
    on = start(proxy_factory, fake_upstream)
    with new_session() as s:
        s.post(off.url + "/api/v1/workspaces/w/projects", data=b'{"name": "Acme"}', headers={"Content-Type": "text/plain"}, timeout=TIMEOUT)
        s.post(on.url + "/api/v1/workspaces/w/projects", data=b"name=Acme", headers={"Content-Type": "text/plain"}, timeout=TIMEOUT)
    first, second = fake_upstream.wait_for_requests(2)
    assert first.header("Content-Type") == "text/plain" and second.header("Content-Type") == "text/plain"


def test_reports_sent_to_the_core_host_reach_the_reports_service(proxy_factory, fake_upstream):
    proxy = proxy_factory.start(["--set", f"clockify_upstream=http://127.0.0.1:{fake_upstream.port}"])
    body = {"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": "2024-05-31T23:59:59", "timeZone": "UTC"}
    with new_session() as s:
        s.proxies = {"http": proxy.url}
        r = s.post("http://api.clockify.me/api/v1/workspaces/w/reports/detailed", json=body, timeout=TIMEOUT)
        pto = s.get("http://pto.api.clockify.me/v1/workspaces/w/policies?status=ALL", timeout=TIMEOUT)
    assert r.status_code == 200 and "route" in r.headers[FIXED_HEADER]
    assert pto.status_code == 200 and pto.headers[FIXED_HEADER] == "route"
    report, policies = fake_upstream.wait_for_requests(2)
    assert report.path == "/report/v1/workspaces/w/reports/detailed" and json.loads(report.body) == body
    assert policies.path == "/api/v1/workspaces/w/time-off/policies?status=ALL"


def test_route_fixing_switched_off(proxy_factory, fake_upstream):
    proxy = proxy_factory.start(["--set", f"clockify_upstream=http://127.0.0.1:{fake_upstream.port}", "--set", "clockify_fix_routes=false"])
    with new_session() as s:
        s.proxies = {"http": proxy.url}
        s.post("http://api.clockify.me/api/v1/workspaces/w/reports/detailed", json={}, timeout=TIMEOUT)
    assert fake_upstream.only_request().path == "/api/v1/workspaces/w/reports/detailed"
