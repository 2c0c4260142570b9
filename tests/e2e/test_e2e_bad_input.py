"""Bodies the proxy cannot (or need not) fix: it never crashes, forwards what it cannot fix as it
came, and says so in its log. After every test a normal request must still be fixed."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.support import FIXED_HEADER, header_list, new_session

JSON = {"Content-Type": "application/json"}
TIMEOUT = 20


@pytest.fixture(scope="module")
def proxy(module_proxy_factory, _plain_fake):
    return module_proxy_factory.start(
        ["--mode", f"reverse:http://127.0.0.1:{_plain_fake.port}", "--set", "clockify_timezone=Europe/Brussels"]
    )


@pytest.fixture
def client(proxy, fake_upstream):
    with new_session() as session:
        yield session
    # Whatever the test sent, the proxy is still up and still fixes a normal request.
    proxy.assert_alive()
    fake_upstream.clear()
    with new_session() as session:
        response = session.post(
            proxy.url + "/api/v1/workspaces/ws-after/time-entries",
            data=b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T17:30:00+02:00"}',
            headers=JSON,
            timeout=TIMEOUT,
        )
    assert response.status_code == 200
    assert fake_upstream.only_request().body == b'{"start":"2024-05-01T07:00:00Z","end":"2024-05-01T15:30:00Z"}'
    proxy.assert_alive()


def post(client, proxy, path, body, headers):
    return client.post(proxy.url + path, data=body, headers=headers, timeout=TIMEOUT)


def test_malformed_json_is_forwarded_unchanged_and_logged(client, proxy, fake_upstream):
    body = b'{"start": "2024-05-01T09:00:00", "end": '
    response = post(client, proxy, "/api/v1/workspaces/ws-malformed/time-entries", body, JSON)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    assert fake_upstream.only_request().body == body
    (event,) = proxy.wait_for_events("request.body_unchanged", contains="ws-malformed")
    assert event.get("reason")


def test_xml_body_is_forwarded_unchanged_and_logged(client, proxy, fake_upstream):
    body = b'<?xml version="1.0"?><timeEntry><start>2024-05-01T09:00:00</start></timeEntry>'
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    response = post(client, proxy, "/api/v1/workspaces/ws-xml/time-entries", body, headers)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    received = fake_upstream.only_request()
    assert received.body == body
    assert received.header("Content-Type") == "text/xml; charset=utf-8"
    proxy.wait_for_events("request.body_unchanged", contains="ws-xml")


def test_gzip_json_is_fixed_and_sent_gzipped(client, proxy, fake_upstream):
    plain = b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T17:30:00+02:00","description":"gz \xc3\xa9"}'
    headers = {**JSON, "Content-Encoding": "gzip"}
    response = post(client, proxy, "/api/v1/workspaces/ws-gzip/time-entries", gzip.compress(plain), headers)

    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    received = fake_upstream.only_request()
    assert received.header("Content-Encoding") == "gzip"
    assert int(received.header("Content-Length")) == len(received.body)
    assert gzip.decompress(received.body) == (
        b'{"start":"2024-05-01T07:00:00Z","end":"2024-05-01T15:30:00Z","description":"gz \xc3\xa9"}'
    )


def test_invalid_gzip_is_forwarded_unchanged_and_logged(client, proxy, fake_upstream):
    body = b"this is not gzip at all \x00\x01\x02"
    headers = {**JSON, "Content-Encoding": "gzip"}
    response = post(client, proxy, "/api/v1/workspaces/ws-badgzip/time-entries", body, headers)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    received = fake_upstream.only_request()
    assert received.body == body
    assert received.header("Content-Encoding") == "gzip"
    proxy.wait_for_events("request.body_unchanged", contains="ws-badgzip")


def test_empty_body_is_forwarded(client, proxy, fake_upstream):
    response = post(client, proxy, "/api/v1/workspaces/ws-empty/time-entries", b"", JSON)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    received = fake_upstream.only_request()
    assert received.body == b""
    assert received.method == "POST"


def test_non_date_string_in_a_time_field_is_forwarded_unchanged(client, proxy, fake_upstream):
    body = b'{"start":"tomorrow morning","description":"timer"}'
    response = post(client, proxy, "/api/v1/workspaces/ws-notadate/time-entries", body, JSON)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    assert fake_upstream.only_request().body == body


def test_non_date_string_does_not_stop_the_other_field_being_fixed(client, proxy, fake_upstream):
    body = b'{"start":"2024-13-45T99:00:00","end":"2024-05-01T17:30:00+02:00"}'
    response = post(client, proxy, "/api/v1/workspaces/ws-halfdate/time-entries", body, JSON)

    assert response.status_code == 200
    assert header_list(response.headers.get(FIXED_HEADER)) == ["end"]
    assert fake_upstream.only_request().body == b'{"start":"2024-13-45T99:00:00","end":"2024-05-01T15:30:00Z"}'


def test_five_megabyte_body_is_fixed(client, proxy, fake_upstream):
    filler = "é" * (5 * 1024 * 1024 // 2)
    document = {"start": "2024-05-01T09:00:00", "description": filler, "end": "2024-05-01T17:30:00+02:00"}
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert len(body) > 5 * 1024 * 1024

    response = post(client, proxy, "/api/v1/workspaces/ws-big/time-entries", body, JSON)

    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    received = fake_upstream.only_request()
    expected = body.replace(b'"2024-05-01T09:00:00"', b'"2024-05-01T07:00:00Z"').replace(
        b'"2024-05-01T17:30:00+02:00"', b'"2024-05-01T15:30:00Z"'
    )
    assert len(received.body) == len(expected)
    assert received.body == expected


def test_five_megabyte_malformed_body_is_forwarded_unchanged(client, proxy, fake_upstream):
    body = b'{"start":"2024-05-01T09:00:00","description":"' + b"x" * (5 * 1024 * 1024)  # never closed
    response = post(client, proxy, "/api/v1/workspaces/ws-bigbad/time-entries", body, JSON)

    assert response.status_code == 200
    assert fake_upstream.only_request().body == body
    proxy.wait_for_events("request.body_unchanged", contains="ws-bigbad")


def test_json_array_where_an_object_is_expected_is_forwarded_unchanged(client, proxy, fake_upstream):
    body = b'["2024-05-01T09:00:00", {"start": "2024-05-01T09:00:00"}]'
    response = post(client, proxy, "/api/v1/workspaces/ws-array/time-entries", body, JSON)

    assert response.status_code == 200
    assert fake_upstream.only_request().body == body


def test_body_that_is_not_utf8_is_forwarded_unchanged(client, proxy, fake_upstream):
    body = b'{"start":"2024-05-01T09:00:00","description":"caf\xe9"}'  # latin-1, invalid UTF-8
    response = post(client, proxy, "/api/v1/workspaces/ws-latin1/time-entries", body, JSON)

    assert response.status_code == 200
    assert fake_upstream.only_request().body == body
    proxy.wait_for_events("request.body_unchanged", contains="ws-latin1")
