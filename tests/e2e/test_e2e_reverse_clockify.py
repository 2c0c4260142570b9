"""Reverse mode aimed at the real Clockify host, with `clockify_upstream` sending everything to a
local fake: must work with no network at all (the real host is never resolved or contacted)."""

from __future__ import annotations

import pytest

from tests.support import FIXED_HEADER, header_list, new_session

JSON = {"Content-Type": "application/json"}
TIMEOUT = 15


@pytest.fixture(scope="module")
def plain_proxy(module_proxy_factory, _plain_fake):
    return module_proxy_factory.start(
        [
            "--mode", "reverse:https://api.clockify.me",
            "--set", f"clockify_upstream=http://127.0.0.1:{_plain_fake.port}",
            "--set", "clockify_timezone=Europe/Brussels",
        ]
    )


@pytest.fixture(scope="module")
def tls_proxy(module_proxy_factory, _tls_fake, certs):
    return module_proxy_factory.start(
        [
            "--mode", "reverse:https://api.clockify.me",
            "--set", f"clockify_upstream=https://127.0.0.1:{_tls_fake.port}",
            "--set", f"ssl_verify_upstream_trusted_ca={certs.ca_cert}",
            "--set", "clockify_timezone=Europe/Brussels",
        ]
    )


def clockify_lookups(proxy) -> list[str]:
    return [name for name in proxy.dns_lookups() if name.lower().rstrip(".").endswith("clockify.me")]


def test_core_path_arrives_unchanged_at_the_upstream(plain_proxy, fake_upstream):
    with new_session() as client:
        response = client.post(
            plain_proxy.url + "/api/v1/workspaces/ws-rc/time-entries",
            data=b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T17:30:00+02:00"}',
            headers=JSON,
            timeout=TIMEOUT,
        )
    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    received = fake_upstream.only_request()
    assert received.path == "/api/v1/workspaces/ws-rc/time-entries"
    assert received.body == b'{"start":"2024-05-01T07:00:00Z","end":"2024-05-01T15:30:00Z"}'


def test_report_path_arrives_unchanged_at_the_upstream(plain_proxy, fake_upstream):
    with new_session() as client:
        response = client.post(
            plain_proxy.url + "/report/v1/workspaces/ws-rc/reports/detailed",
            data=b'{"dateRangeStart":"2024-05-01T00:00:00+02:00","dateRangeEnd":"2024-05-02T00:00:00+02:00","timeZone":"Europe/Brussels"}',
            headers=JSON,
            timeout=TIMEOUT,
        )
    assert response.status_code == 200
    received = fake_upstream.only_request()
    assert received.path == "/report/v1/workspaces/ws-rc/reports/detailed"
    assert received.body == (
        b'{"dateRangeStart":"2024-05-01T00:00:00","dateRangeEnd":"2024-05-02T00:00:00","timeZone":"Europe/Brussels"}'
    )


def test_query_arrives_at_the_upstream(plain_proxy, fake_upstream):
    with new_session() as client:
        response = client.get(
            plain_proxy.url + "/api/v1/workspaces/ws-rc/user/u1/time-entries?start=2024-05-01T00:00:00+02:00&page=2",
            timeout=TIMEOUT,
        )
    assert response.status_code == 200
    assert fake_upstream.only_request().path == "/api/v1/workspaces/ws-rc/user/u1/time-entries?start=2024-04-30T22:00:00Z&page=2"


def test_no_lookup_of_the_real_host(plain_proxy, fake_upstream):
    with new_session() as client:
        response = client.get(plain_proxy.url + "/api/v1/workspaces/ws-rc/projects", timeout=TIMEOUT)
    assert response.status_code == 200
    assert fake_upstream.only_request().path == "/api/v1/workspaces/ws-rc/projects"
    assert clockify_lookups(plain_proxy) == [], plain_proxy.output()


def test_tls_upstream_gets_both_services(tls_proxy, fake_tls_upstream):
    with new_session() as client:
        first = client.post(
            tls_proxy.url + "/api/v1/workspaces/ws-rct/time-entries",
            data=b'{"start":"2024-05-01T09:00:00"}',
            headers=JSON,
            timeout=TIMEOUT,
        )
        second = client.post(
            tls_proxy.url + "/report/v1/workspaces/ws-rct/reports/summary",
            data=b'{"dateRangeStart":"2024-05-01T00:00:00","dateRangeEnd":"2024-05-02T00:00:00","timeZone":"UTC"}',
            headers=JSON,
            timeout=TIMEOUT,
        )
    assert (first.status_code, second.status_code) == (200, 200)
    received = fake_tls_upstream.wait_for_requests(2)
    assert [(r.tls, r.path) for r in received] == [
        (True, "/api/v1/workspaces/ws-rct/time-entries"),
        (True, "/report/v1/workspaces/ws-rct/reports/summary"),
    ]
    assert received[0].body == b'{"start":"2024-05-01T07:00:00Z"}'
    assert clockify_lookups(tls_proxy) == [], tls_proxy.output()
