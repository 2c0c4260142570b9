"""Reverse mode against a plain-HTTP fake Clockify: what a client sees, what Clockify receives.

One proxy for the module: `--mode reverse:http://127.0.0.1:<fake> --set clockify_timezone=Europe/Brussels`,
started with TZ=UTC so that only the option decides how naive times are read.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.support import (
    DIAGNOSIS_HEADER,
    FIXED_HEADER,
    NOTE_HEADER,
    WARNING_HEADER,
    ZONE_HEADER,
    header_list,
    new_session,
)

JSON = {"Content-Type": "application/json"}
TIMEOUT = 10


@pytest.fixture(scope="module")
def proxy(module_proxy_factory, _plain_fake):
    return module_proxy_factory.start(
        ["--mode", f"reverse:http://127.0.0.1:{_plain_fake.port}", "--set", "clockify_timezone=Europe/Brussels"]
    )


@pytest.fixture
def client(proxy):
    with new_session() as session:
        yield session
    proxy.assert_alive()


def post(client, proxy, path: str, body: bytes, headers=None):
    return client.post(proxy.url + path, data=body, headers={**JSON, **(headers or {})}, timeout=TIMEOUT)


def rejected_locally(response, fake_upstream, diagnosis: str) -> str:
    """Asserts the proxy answered with its own Clockify-shaped 400 and sent nothing on; the message."""
    assert response.status_code == 400
    assert response.headers.get(DIAGNOSIS_HEADER) == diagnosis
    error = response.json()
    assert error["code"] == 501
    assert fake_upstream.requests == []
    return error["message"]


# -- time entries ----------------------------------------------------------------------------

BRUSSELS_ENTRY = (
    '{\n'
    '  "start": "2024-05-01T09:00:00",\n'
    '  "billable" : true,\n'
    '  "description": "R\\u00e9union caf\u00e9 \u2615 \u65e5\u672c\u8a9e \\"quoted\\" \\\\ back",\n'
    '  "end":"2024-05-01T17:30:00+02:00",\n'
    '  "hourlyRate": 1.50, "quantity": 10, "big": 1e3, "negative": -0.0, "none": null,\n'
    '  "tagIds": [ "t1","t2" ],\n'
    '  "customFields": [{"customFieldId": "cf1", "value": {"nested": {"deep": [1, 2.0, null, "2024-05-01T09:00:00"]}}}],\n'
    '  "projectId": "p1"\n'
    '}'
).encode("utf-8")


def test_brussels_time_entry_arrives_in_utc_with_every_other_byte_identical(client, proxy, fake_upstream):
    fake_upstream.add_rule("POST", r"/time-entries$", status=201, body={"id": "te-1", "fake": True})
    path = "/api/v1/workspaces/ws-brussels/time-entries"

    response = post(client, proxy, path, BRUSSELS_ENTRY)

    # The client gets Clockify's answer, annotated with what the proxy changed.
    assert response.status_code == 201
    assert response.json() == {"id": "te-1", "fake": True}
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    # Clockify gets the same bytes, except the two instants, now UTC in its own format.
    received = fake_upstream.only_request()
    assert received.method == "POST"
    assert received.path == path
    expected = BRUSSELS_ENTRY.replace(b'"2024-05-01T09:00:00",\n  "billable"', b'"2024-05-01T07:00:00Z",\n  "billable"')
    expected = expected.replace(b'"2024-05-01T17:30:00+02:00"', b'"2024-05-01T15:30:00Z"')
    assert expected != BRUSSELS_ENTRY
    assert received.body == expected
    assert int(received.header("Content-Length")) == len(expected)
    assert received.header("Content-Type") == "application/json"
    # The nested naive string that is not a time field stays as it was.
    assert received.json()["customFields"][0]["value"]["nested"]["deep"][3] == "2024-05-01T09:00:00"
    # One structured event says what changed.
    (event,) = proxy.wait_for_events("request.fixed", contains="ws-brussels")
    assert sorted(event["changes"], key=lambda c: c["field"]) == [
        {"field": "end", "before": "2024-05-01T17:30:00+02:00", "after": "2024-05-01T15:30:00Z"},
        {"field": "start", "before": "2024-05-01T09:00:00", "after": "2024-05-01T07:00:00Z"},
    ]


def test_body_that_needs_no_change_arrives_byte_identical(client, proxy, fake_upstream):
    body = b'{ "start":"2024-05-01T07:00:00Z" ,"end" : "2024-05-01T15:30:00Z","description":"d\\u00e9j\\u00e0", "x":1.50 }'
    response = post(client, proxy, "/api/v1/workspaces/ws-clean/time-entries", body)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    assert fake_upstream.only_request().body == body
    assert proxy.events("request.fixed", contains="ws-clean") == []


def test_non_time_field_that_looks_like_a_time_is_left_alone(client, proxy, fake_upstream):
    body = b'{"name":"2024-05-01T09:00:00","note":"ends 2024-05-01T17:30:00+02:00"}'
    response = post(client, proxy, "/api/v1/workspaces/ws-tags/tags", body)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    assert fake_upstream.only_request().body == body


def test_bulk_update_array_has_every_item_fixed(proxy, fake_upstream):
    body = (
        b'[{"id":"a","start":"2024-05-01T09:00:00","end":"2024-05-01T10:00:00","description":"\xc3\xa9t\xc3\xa9"},\n'
        b' {"id":"b","start":"2024-05-01T08:00:00Z","end":"2024-05-01T12:00:00+02:00","billable":false}]'
    )
    path = "/api/v1/workspaces/ws-bulk/user/u1/time-entries"
    with httpx.Client(trust_env=False, timeout=TIMEOUT) as client:
        response = client.put(proxy.url + path, content=body, headers=JSON)

    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["[0].end", "[0].start", "[1].end"]
    received = fake_upstream.only_request()
    assert (received.method, received.path) == ("PUT", path)
    assert received.body == (
        b'[{"id":"a","start":"2024-05-01T07:00:00Z","end":"2024-05-01T08:00:00Z","description":"\xc3\xa9t\xc3\xa9"},\n'
        b' {"id":"b","start":"2024-05-01T08:00:00Z","end":"2024-05-01T10:00:00Z","billable":false}]'
    )


def test_range_that_only_looks_inverted_is_forwarded(client, proxy, fake_upstream):
    # 09:00 in Brussels is 07:00 UTC: before the 08:00 UTC end.
    response = post(
        client, proxy, "/api/v1/workspaces/ws-looks/time-entries",
        b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T08:00:00Z"}',
    )
    assert response.status_code == 200
    assert fake_upstream.only_request().body == b'{"start":"2024-05-01T07:00:00Z","end":"2024-05-01T08:00:00Z"}'


# -- reports ---------------------------------------------------------------------------------


def test_report_range_becomes_wall_clock_in_the_bodys_time_zone(client, proxy, fake_upstream):
    body = (
        b'{"dateRangeStart":"2024-05-01T00:00:00+02:00","dateRangeEnd":"2024-05-31T23:59:59.999+02:00",'
        b'"timeZone":"America/New_York","amountShown":"HIDE_AMOUNT","detailedFilter":{"page":1,"pageSize":50}}'
    )
    path = "/report/v1/workspaces/ws-report/reports/detailed"
    response = post(client, proxy, path, body)

    assert response.status_code == 200
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["dateRangeEnd", "dateRangeStart"]
    received = fake_upstream.only_request()
    assert received.path == path
    # The instants the client meant, as the wall clock Clockify reads in America/New_York (UTC-4).
    assert received.body == (
        b'{"dateRangeStart":"2024-04-30T18:00:00","dateRangeEnd":"2024-05-31T17:59:59.999",'
        b'"timeZone":"America/New_York","amountShown":"HIDE_AMOUNT","detailedFilter":{"page":1,"pageSize":50}}'
    )


def test_report_without_time_zone_gets_the_proxy_zone_added(client, proxy, fake_upstream):
    body = b'{"dateRangeStart":"2024-05-01T00:00:00Z","dateRangeEnd":"2024-05-01T23:59:59Z","summaryFilter":{"groups":["PROJECT"]}}'
    response = post(client, proxy, "/report/v1/workspaces/ws-report2/reports/summary", body)

    assert response.status_code == 200
    assert {"dateRangeStart", "dateRangeEnd", "timeZone"} <= set(header_list(response.headers.get(FIXED_HEADER)))
    sent = fake_upstream.only_request().json()
    assert list(sent) == ["dateRangeStart", "dateRangeEnd", "summaryFilter", "timeZone"]
    assert sent == {
        "dateRangeStart": "2024-05-01T02:00:00",
        "dateRangeEnd": "2024-05-02T01:59:59",
        "summaryFilter": {"groups": ["PROJECT"]},
        "timeZone": "Europe/Brussels",
    }


def test_report_wall_clock_range_with_zone_is_left_byte_identical(client, proxy, fake_upstream):
    body = b'{"dateRangeStart":"2024-05-01T00:00:00","dateRangeEnd":"2024-05-31T23:59:59.999","timeZone":"Europe/Budapest"}'
    response = post(client, proxy, "/report/v1/workspaces/ws-report3/reports/weekly", body)

    assert response.status_code == 200
    assert FIXED_HEADER not in response.headers
    assert fake_upstream.only_request().body == body


# -- query windows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            "start=2024-05-01T00:00:00+02:00&end=2024-05-01T23:59:59+02:00&hydrated=true&page-size=50",
            "start=2024-04-30T22:00:00Z&end=2024-05-01T21:59:59Z&hydrated=true&page-size=50",
            id="raw-plus-offset",
        ),
        pytest.param(
            "description=caf%C3%A9+au+lait&start=2024-05-01T00%3A00%3A00%2B02%3A00&end=2024-05-02T00:00:00Z",
            "description=caf%C3%A9+au+lait&start=2024-04-30T22:00:00Z&end=2024-05-02T00:00:00Z",
            id="percent-encoded",
        ),
        pytest.param(
            "start=2024-05-01T00:00:00&end=2024-05-01T23:59:59&in-progress=false",
            "start=2024-04-30T22:00:00Z&end=2024-05-01T21:59:59Z&in-progress=false",
            id="naive-in-brussels",
        ),
    ],
)
def test_time_entry_query_window_is_sent_in_utc(client, proxy, fake_upstream, query, expected):
    path = "/api/v1/workspaces/ws-query/user/u1/time-entries"
    response = client.get(f"{proxy.url}{path}?{query}", timeout=TIMEOUT)

    assert response.status_code == 200
    fixed = response.headers.get(FIXED_HEADER, "")
    assert "start" in fixed
    received = fake_upstream.only_request()
    assert received.method == "GET"
    assert received.path == f"{path}?{expected}"


def test_inverted_query_window_is_rejected_locally(client, proxy, fake_upstream):
    response = client.get(
        f"{proxy.url}/api/v1/workspaces/ws-qinv/user/u1/time-entries"
        "?start=2024-05-02T00:00:00%2B02:00&end=2024-05-01T00:00:00Z",
        timeout=TIMEOUT,
    )
    rejected_locally(response, fake_upstream, "start-after-end")


# -- per-request zone ------------------------------------------------------------------------


def test_zone_header_overrides_the_zone_and_never_reaches_upstream(proxy, fake_upstream):
    with httpx.Client(trust_env=False, timeout=TIMEOUT) as client:
        response = client.post(
            proxy.url + "/api/v1/workspaces/ws-zonehdr/time-entries",
            content=b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T10:00:00"}',
            headers={**JSON, ZONE_HEADER: "America/New_York"},
        )
        assert response.status_code == 200
        received = fake_upstream.only_request()
        assert received.body == b'{"start":"2024-05-01T13:00:00Z","end":"2024-05-01T14:00:00Z"}'
        assert ZONE_HEADER.lower() not in received.header_names()

        # A report without timeZone gets the header's zone.
        fake_upstream.clear()
        response = client.post(
            proxy.url + "/report/v1/workspaces/ws-zonehdr/reports/detailed",
            content=b'{"dateRangeStart":"2024-05-01T00:00:00Z","dateRangeEnd":"2024-05-02T00:00:00Z"}',
            headers={**JSON, ZONE_HEADER: "Asia/Tokyo"},
        )
        assert response.status_code == 200
        received = fake_upstream.only_request()
        assert received.json() == {
            "dateRangeStart": "2024-05-01T09:00:00",
            "dateRangeEnd": "2024-05-02T09:00:00",
            "timeZone": "Asia/Tokyo",
        }
        assert ZONE_HEADER.lower() not in received.header_names()

        # Also removed from a request that has nothing to fix.
        fake_upstream.clear()
        response = client.get(
            proxy.url + "/api/v1/workspaces/ws-zonehdr/projects", headers={ZONE_HEADER: "Asia/Tokyo"}
        )
        assert response.status_code == 200
        assert ZONE_HEADER.lower() not in fake_upstream.only_request().header_names()


def test_unknown_zone_header_is_answered_locally_with_400(client, proxy, fake_upstream):
    response = post(
        client, proxy, "/api/v1/workspaces/ws-badzone/time-entries",
        b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T10:00:00"}',
        headers={ZONE_HEADER: "Mars/Olympus"},
    )
    assert "Mars/Olympus" in rejected_locally(response, fake_upstream, "unknown-timezone")


# -- inverted ranges -------------------------------------------------------------------------


def test_start_after_end_never_reaches_upstream(client, proxy, fake_upstream):
    # 18:00 in Brussels is 16:00 UTC, after the end at 15:30 UTC.
    response = post(
        client, proxy, "/api/v1/workspaces/ws-inverted/time-entries",
        b'{"start":"2024-05-01T18:00:00","end":"2024-05-01T17:30:00+02:00","description":"late"}',
    )

    message = rejected_locally(response, fake_upstream, "start-after-end")
    assert response.headers.get("Content-Type", "").startswith("application/json")
    assert "2024-05-01T18:00:00" in message
    assert "2024-05-01T17:30:00+02:00" in message
    (event,) = proxy.wait_for_events("request.rejected", contains="ws-inverted")
    assert event["diagnosis"] == "start-after-end"


def test_inverted_report_range_never_reaches_upstream(client, proxy, fake_upstream):
    response = post(
        client, proxy, "/report/v1/workspaces/ws-rinv/reports/summary",
        b'{"dateRangeStart":"2024-05-02T00:00:00","dateRangeEnd":"2024-05-01T00:00:00","timeZone":"UTC"}',
    )
    rejected_locally(response, fake_upstream, "start-after-end")


# -- timers ----------------------------------------------------------------------------------


def test_timer_started_in_the_future_is_flagged_but_forwarded(client, proxy, fake_upstream):
    start = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({"start": start, "description": "timer"}).encode()
    response = post(client, proxy, "/api/v1/workspaces/ws-future/time-entries", body)

    assert response.status_code == 200
    assert "timer-starts-in-future" in header_list(response.headers.get(WARNING_HEADER))
    assert fake_upstream.only_request().body == body


def test_timer_started_in_the_past_is_not_flagged(client, proxy, fake_upstream):
    response = post(client, proxy, "/api/v1/workspaces/ws-past/time-entries", b'{"start":"2024-05-01T09:00:00"}')

    assert response.status_code == 200
    assert WARNING_HEADER not in response.headers
    assert fake_upstream.only_request().body == b'{"start":"2024-05-01T07:00:00Z"}'


# -- daylight saving time --------------------------------------------------------------------


def test_naive_time_in_the_spring_forward_gap_is_rejected(client, proxy, fake_upstream):
    # Brussels clocks jump from 02:00 to 03:00 on 2024-03-31: 02:30 never happens.
    response = post(
        client, proxy, "/api/v1/workspaces/ws-gap/time-entries",
        b'{"start":"2024-03-31T02:30:00","end":"2024-03-31T04:00:00"}',
    )
    assert "2024-03-31T02:30:00" in rejected_locally(response, fake_upstream, "nonexistent-local-time")


def test_naive_time_in_the_autumn_fold_is_read_as_first_occurrence_with_a_note(client, proxy, fake_upstream):
    # Brussels clocks go from 03:00 back to 02:00 on 2024-10-27: 02:30 happens twice.
    response = post(
        client, proxy, "/api/v1/workspaces/ws-fold/time-entries",
        b'{"start":"2024-10-27T02:30:00","end":"2024-10-27T03:30:00+01:00"}',
    )
    assert response.status_code == 200
    assert fake_upstream.only_request().body == b'{"start":"2024-10-27T00:30:00Z","end":"2024-10-27T02:30:00Z"}'
    note = response.headers.get(NOTE_HEADER, "")
    assert "2024-10-27T02:30:00" in note, response.headers


# -- the upstream's own answers --------------------------------------------------------------


def test_upstream_error_reaches_the_client_unchanged(client, proxy, fake_upstream):
    error = b'{"message":"Project archived","code":501}'
    fake_upstream.add_rule(
        "POST", r"/ws-upstream-error/", status=400, body=error, headers={"Content-Type": "application/json"}
    )
    response = post(client, proxy, "/api/v1/workspaces/ws-upstream-error/time-entries", b'{"start":"2024-05-01T09:00:00"}')

    # Status and body pass unchanged (the proxy may add its own explanatory headers).
    assert response.status_code == 400
    assert response.content == error
    assert response.headers.get("Content-Type") == "application/json"
    assert fake_upstream.only_request().body == b'{"start":"2024-05-01T07:00:00Z"}'
