"""Regular (forward) proxy mode over TLS: clients use the proxy for HTTPS and trust the CA it
created in its confdir; Clockify hosts are intercepted and sent to `clockify_upstream`, every
other host is tunnelled untouched. No real host is ever resolved (the DNS guard records any try).
"""

from __future__ import annotations

import hashlib
import http.client
import ssl

import pytest

from tests.support import FIXED_HEADER, header_list, new_session

JSON = {"Content-Type": "application/json"}
TIMEOUT = 15
ENTRY = b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T17:30:00+02:00","note":"\xc3\xa9"}'
FIXED_ENTRY = b'{"start":"2024-05-01T07:00:00Z","end":"2024-05-01T15:30:00Z","note":"\xc3\xa9"}'
CLOCKIFY_NAMES = ("api.clockify.me", "reports.api.clockify.me")


@pytest.fixture(scope="module")
def tls_proxy(module_proxy_factory, _tls_fake, certs):
    """Regular mode; Clockify traffic goes to the TLS fake, verified against the test CA."""
    return module_proxy_factory.start(
        [
            "--set", f"clockify_upstream=https://127.0.0.1:{_tls_fake.port}",
            "--set", f"ssl_verify_upstream_trusted_ca={certs.ca_cert}",
            "--set", "clockify_timezone=Europe/Brussels",
        ]
    )


@pytest.fixture(scope="module")
def plain_proxy(module_proxy_factory, _plain_fake):
    """Regular mode; Clockify traffic goes to the plain-HTTP fake."""
    return module_proxy_factory.start(
        ["--set", f"clockify_upstream=http://127.0.0.1:{_plain_fake.port}", "--set", "clockify_timezone=Europe/Brussels"]
    )


def proxied_session(proxy):
    session = new_session()
    session.proxies = {"https": proxy.url, "http": proxy.url}
    session.verify = str(proxy.mitm_ca_cert)  # created by the proxy in its confdir at start-up
    return session


def clockify_lookups(proxy) -> list[str]:
    return [name for name in proxy.dns_lookups() if name.lower().rstrip(".").endswith("clockify.me")]


# -- Clockify hosts: intercepted and sent to the upstream -----------------------------------


def test_confdir_holds_the_ca_the_client_trusts(tls_proxy):
    assert tls_proxy.mitm_ca_cert.is_file()
    assert b"BEGIN CERTIFICATE" in tls_proxy.mitm_ca_cert.read_bytes()


def test_time_entry_to_api_clockify_me_is_fixed_and_reaches_the_tls_upstream(tls_proxy, fake_tls_upstream):
    with proxied_session(tls_proxy) as client:
        response = client.post(
            "https://api.clockify.me/api/v1/workspaces/ws-tls/time-entries", data=ENTRY, headers=JSON, timeout=TIMEOUT
        )

    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    received = fake_tls_upstream.only_request()
    assert received.tls
    assert (received.method, received.path) == ("POST", "/api/v1/workspaces/ws-tls/time-entries")
    assert received.body == FIXED_ENTRY
    tls_proxy.assert_alive()


def test_report_to_reports_host_reaches_the_upstream_under_report_v1(tls_proxy, fake_tls_upstream):
    with proxied_session(tls_proxy) as client:
        response = client.post(
            "https://reports.api.clockify.me/v1/workspaces/ws-tlsrep/reports/summary",
            data=b'{"dateRangeStart":"2024-05-01T00:00:00Z","dateRangeEnd":"2024-05-02T00:00:00Z","timeZone":"UTC"}',
            headers=JSON,
            timeout=TIMEOUT,
        )

    assert response.status_code == 200
    received = fake_tls_upstream.only_request()
    assert received.path == "/report/v1/workspaces/ws-tlsrep/reports/summary"
    assert received.body == (
        b'{"dateRangeStart":"2024-05-01T00:00:00","dateRangeEnd":"2024-05-02T00:00:00","timeZone":"UTC"}'
    )


def test_tls_upstream_mode_never_resolves_clockify_hosts(tls_proxy, fake_tls_upstream):
    with proxied_session(tls_proxy) as client:
        for url in (
            "https://api.clockify.me/api/v1/workspaces/ws-dns/time-entries",
            "https://reports.api.clockify.me/v1/workspaces/ws-dns/reports/detailed",
        ):
            response = client.post(url, data=b"{}", headers=JSON, timeout=TIMEOUT)
            assert response.status_code == 200
    assert len(fake_tls_upstream.requests) == 2
    assert clockify_lookups(tls_proxy) == [], tls_proxy.output()


def test_plain_http_upstream_receives_the_fix(plain_proxy, fake_upstream):
    with proxied_session(plain_proxy) as client:
        response = client.post(
            "https://api.clockify.me/api/v1/workspaces/ws-plainup/time-entries", data=ENTRY, headers=JSON,
            timeout=TIMEOUT,
        )

    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    received = fake_upstream.only_request()
    assert not received.tls
    assert received.path == "/api/v1/workspaces/ws-plainup/time-entries"
    assert received.body == FIXED_ENTRY


def test_plain_http_request_to_clockify_host_goes_to_the_upstream(plain_proxy, fake_upstream):
    with proxied_session(plain_proxy) as client:
        response = client.post(
            "http://api.clockify.me/api/v1/workspaces/ws-plainreq/time-entries", data=ENTRY, headers=JSON,
            timeout=TIMEOUT,
        )

    assert response.status_code == 200
    received = fake_upstream.only_request()
    assert received.path == "/api/v1/workspaces/ws-plainreq/time-entries"
    assert received.body == FIXED_ENTRY


def test_plain_upstream_mode_never_resolves_clockify_hosts(plain_proxy, fake_upstream):
    with proxied_session(plain_proxy) as client:
        response = client.post(
            "https://api.clockify.me/api/v1/workspaces/ws-dns2/time-entries", data=b"{}", headers=JSON, timeout=TIMEOUT
        )
    assert response.status_code == 200
    assert fake_upstream.only_request().path == "/api/v1/workspaces/ws-dns2/time-entries"
    assert clockify_lookups(plain_proxy) == [], plain_proxy.output()


# -- other hosts: tunnelled, not intercepted ------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_non_clockify_host_is_tunnelled_not_intercepted(tls_proxy, fake_tls_upstream, certs, host):
    # The TLS fake serves a time-entry path, but under a host that is not Clockify's.
    context = ssl.create_default_context(cafile=str(certs.ca_cert))  # the test CA only, not mitmproxy's
    conn = http.client.HTTPSConnection("127.0.0.1", tls_proxy.port, timeout=TIMEOUT, context=context)
    conn.set_tunnel(host, fake_tls_upstream.port)
    try:
        conn.request("POST", "/api/v1/workspaces/ws-tunnel/time-entries", body=ENTRY, headers=JSON)
        peer = conn.sock.getpeercert(binary_form=True)
        response = conn.getresponse()
        response_body = response.read()
    finally:
        conn.close()

    # The client saw the fake's own certificate: the proxy did not terminate TLS.
    assert hashlib.sha256(peer).digest() == certs.server_fingerprint_sha256
    assert response.status == 200
    assert response.getheader(FIXED_HEADER) is None
    assert b'"fake": "clockify"' in response_body
    received = fake_tls_upstream.only_request()
    assert received.body == ENTRY  # untouched
    assert received.path == "/api/v1/workspaces/ws-tunnel/time-entries"


def test_non_clockify_host_with_requests_verifies_against_the_test_ca(tls_proxy, fake_tls_upstream, certs):
    with new_session() as client:
        client.proxies = {"https": tls_proxy.url}
        client.verify = str(certs.ca_cert)
        response = client.post(
            f"https://127.0.0.1:{fake_tls_upstream.port}/api/v1/workspaces/ws-tunnel2/time-entries",
            data=ENTRY,
            headers=JSON,
            timeout=TIMEOUT,
        )
    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    assert fake_tls_upstream.only_request().body == ENTRY
