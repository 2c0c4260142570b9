"""ClockifyTimes and ClockifyRouter on mitmproxy test flows (no network)."""

import gzip
import json

import pytest
from mitmproxy import http
from mitmproxy.test import tflow

CORE = "https://api.clockify.me/api/v1/workspaces/w1"
REPORTS = "https://reports.api.clockify.me/v1/workspaces/w1"


def flow(method, url, body=b"", headers=None):
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    headers = {"content-type": "application/json", **(headers or {})}
    request = http.Request.make(method, url, b"", headers)
    request.raw_content = body  # as received: Request.make would encode it once more
    request.headers["content-length"] = str(len(body))
    return tflow.tflow(req=request)


def ok():
    return http.Response.make(201, b"{}", {"content-type": "application/json"})


def test_time_entry_in_brussels_time_becomes_utc(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T09:00:00", "end": "2024-05-01T17:30:00+02:00"}), ok())
    assert json.loads(f.request.content) == {"start": "2024-05-01T07:00:00Z", "end": "2024-05-01T15:30:00Z"}
    assert f.response.headers["X-Clockify-Proxy-Fixed"] == "start,end"


def test_body_needing_no_change_keeps_every_byte(proxy):
    raw = b'{ "end":"2024-05-01T15:30:00Z",\n  "start" : "2024-05-01T07:00:00.000Z", "n": 1.50 }'
    f = proxy.send(flow("POST", f"{CORE}/time-entries", raw), ok())
    assert f.request.raw_content == raw
    assert "X-Clockify-Proxy-Fixed" not in f.response.headers


def test_changed_body_differs_only_in_the_changed_value(proxy):
    raw = '{"description": "caf\\u00e9 é", "start":"2024-05-01T09:00:00+02:00" , "billable":true, "n":1.50, "tags":[]}'
    f = proxy.send(flow("POST", f"{CORE}/time-entries", raw.encode()), ok())
    assert f.request.content.decode() == raw.replace("2024-05-01T09:00:00+02:00", "2024-05-01T07:00:00Z")


def test_gzip_body_is_fixed_and_sent_gzip_again(proxy):
    body = gzip.compress(b'{"start":"2024-05-01T09:00:00+02:00"}')
    f = proxy.send(flow("POST", f"{CORE}/time-entries", body, {"content-encoding": "gzip"}), ok())
    assert f.request.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(f.request.raw_content)) == {"start": "2024-05-01T07:00:00Z"}
    assert int(f.request.headers["content-length"]) == len(f.request.raw_content)


@pytest.mark.parametrize(
    "body, headers, reason",
    [
        (b'{"start": "2024-05-01T09:00:00", ', {}, "not valid JSON"),
        (b"<start>2024-05-01T09:00:00</start>", {"content-type": "text/xml"}, "content type"),
        (b"\x1f\x8b not gzip at all", {"content-encoding": "gzip"}, "cannot be decoded"),
        ('{"start": "2024-05-01T09:00:00"}'.encode("utf-16"), {}, "not UTF-8"),
    ],
)
def test_unreadable_bodies_pass_unchanged_and_are_logged(proxy, body, headers, reason):
    proxy.capture_events()
    f = proxy.send(flow("POST", f"{CORE}/time-entries", body, headers), ok())
    assert f.request.raw_content == body
    assert f.response.status_code == 201
    (event,) = proxy.logged()
    assert event["event"] == "request.body_unchanged" and event["level"] == "warning"
    assert reason in event["reason"]


def test_value_that_is_not_a_time_is_left_alone_and_noted(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "yesterday", "end": "2024-05-01T17:30:00+02:00"}), ok())
    assert json.loads(f.request.content) == {"start": "yesterday", "end": "2024-05-01T15:30:00Z"}
    assert "start left unchanged" in f.response.headers["X-Clockify-Proxy-Note"]


def test_start_after_end_is_answered_locally(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T19:00:00", "end": "2024-05-01T16:30:00Z"}))
    assert f.response.status_code == 400
    assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "start-after-end"
    body = json.loads(f.response.content)
    assert body["code"] == 501
    assert body["message"].startswith("Start datetime 2024-05-01T17:00:00Z is greater than end datetime 2024-05-01T16:30:00Z.")
    assert "'2024-05-01T19:00:00'" in body["message"] and "Europe/Brussels" in body["message"]


def test_zone_header_overrides_zone_and_is_not_forwarded(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T09:00:00"}, {"X-Clockify-Proxy-Timezone": "America/New_York"}), ok())
    assert json.loads(f.request.content) == {"start": "2024-05-01T13:00:00Z"}
    assert "X-Clockify-Proxy-Timezone" not in f.request.headers


def test_unknown_zone_header_is_a_local_400(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T09:00:00"}, {"X-Clockify-Proxy-Timezone": "Mars/Olympus"}))
    assert f.response.status_code == 400
    assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "unknown-timezone"
    assert "Mars/Olympus" in json.loads(f.response.content)["message"]


def test_report_range_becomes_wall_clock_in_its_zone(proxy):
    body = {"dateRangeStart": "2024-04-30T22:00:00Z", "dateRangeEnd": "2024-05-31T23:59:59.999+02:00", "amountShown": "HIDE_AMOUNT"}
    f = proxy.send(flow("POST", f"{REPORTS}/reports/detailed", body), ok())
    assert json.loads(f.request.content) == {
        "dateRangeStart": "2024-05-01T00:00:00",
        "dateRangeEnd": "2024-05-31T23:59:59.999",
        "amountShown": "HIDE_AMOUNT",
        "timeZone": "Europe/Brussels",
    }


def test_report_range_uses_the_body_zone(proxy):
    body = {"dateRangeStart": "2024-05-01T00:00:00+02:00", "dateRangeEnd": "2024-05-02T00:00:00Z", "timeZone": "Pacific/Auckland"}
    f = proxy.send(flow("POST", f"{REPORTS}/reports/summary", body), ok())
    assert json.loads(f.request.content) == {**body, "dateRangeStart": "2024-05-01T10:00:00", "dateRangeEnd": "2024-05-02T12:00:00"}


def test_query_window_is_fixed_and_other_parameters_keep_their_bytes(proxy):
    url = f"{CORE}/user/u1/time-entries?description=a%20b+c&start=2024-05-01T00:00:00+02:00&end=2024-05-02T00%3A00%3A00%2B02%3A00&page-size=50"
    f = proxy.send(flow("GET", url), ok())
    assert f.request.path.split("?")[1] == "description=a%20b+c&start=2024-04-30T22:00:00Z&end=2024-05-01T22:00:00Z&page-size=50"
    assert f.response.headers["X-Clockify-Proxy-Fixed"] == "?start,?end"


def test_bulk_edit_array_fixes_every_item(proxy):
    body = [{"id": "a", "start": "2024-05-01T09:00:00", "end": "2024-05-01T10:00:00"}, {"id": "b", "start": "2024-05-01T10:00:00Z"}]
    f = proxy.send(flow("PUT", f"{CORE}/user/u1/time-entries", body), ok())
    assert json.loads(f.request.content) == [
        {"id": "a", "start": "2024-05-01T07:00:00Z", "end": "2024-05-01T08:00:00Z"},
        {"id": "b", "start": "2024-05-01T10:00:00Z"},
    ]


def test_expense_multipart_date_keeps_its_day_and_the_file_bytes(proxy):
    file_bytes = bytes(range(256)) * 4
    body = (
        b"--XyZ\r\nContent-Disposition: form-data; name=\"date\"\r\n\r\n2024-05-01T00:00:00+02:00\r\n"
        b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"r.png\"\r\nContent-Type: image/png\r\n\r\n"
        + file_bytes
        + b"\r\n--XyZ--\r\n"
    )
    f = proxy.send(flow("POST", f"{CORE}/expenses", body, {"content-type": "multipart/form-data; boundary=XyZ"}), ok())
    assert f.request.content == body.replace(b"2024-05-01T00:00:00+02:00", b"2024-05-01T00:00:00Z")


def test_time_off_hour_period_loses_its_milliseconds(proxy):
    body = {"timeOffPeriod": {"period": {"start": "2024-05-01T07:00:00.000Z", "end": "2024-05-01T11:00:00.000Z"}}}
    f = proxy.send(flow("POST", f"{CORE}/time-off/policies/p1/requests", body), ok())
    assert json.loads(f.request.content)["timeOffPeriod"]["period"] == {"start": "2024-05-01T07:00:00Z", "end": "2024-05-01T11:00:00Z"}


def test_future_timer_is_forwarded_and_flagged(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2999-01-01T00:00:00Z"}), ok())
    assert f.response.status_code == 201
    assert f.response.headers["X-Clockify-Proxy-Warning"] == "timer-starts-in-future"


def test_non_clockify_host_is_untouched(proxy):
    f = proxy.send(flow("POST", "https://example.com/api/v1/workspaces/w1/time-entries", {"start": "2024-05-01T09:00:00"}, {"X-Clockify-Proxy-Timezone": "Mars/Olympus"}), ok())
    assert json.loads(f.request.content) == {"start": "2024-05-01T09:00:00"}
    assert f.request.headers["X-Clockify-Proxy-Timezone"] == "Mars/Olympus"
    assert f.metadata == {}


def test_streamed_body_passes_unchanged(proxy):
    f = flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T09:00:00"})
    f.request.data.content = None  # what mitmproxy leaves when the body was streamed
    proxy.send(f, ok())
    assert f.response.status_code == 201


def test_report_range_with_z_is_read_as_an_instant_and_the_client_is_told(proxy):
    body = {"dateRangeStart": "2024-05-01T00:00:00.000Z", "dateRangeEnd": "2024-05-01T23:59:59.999Z", "timeZone": "Europe/Brussels"}
    f = proxy.send(flow("POST", f"{REPORTS}/reports/detailed", body), ok())
    assert json.loads(f.request.content) == {**body, "dateRangeStart": "2024-05-01T02:00:00.000", "dateRangeEnd": "2024-05-02T01:59:59.999"}
    assert "clockify_report_zulu=wall" in f.response.headers["X-Clockify-Proxy-Note"]


def test_report_zulu_wall_keeps_the_web_apps_wall_clock(proxy):
    proxy.configure(clockify_report_zulu="wall")
    body = {"dateRangeStart": "2024-05-01T00:00:00.000Z", "dateRangeEnd": "2024-05-01T23:59:59.999Z", "timeZone": "Europe/Brussels"}
    f = proxy.send(flow("POST", f"{REPORTS}/reports/detailed", body), ok())
    assert json.loads(f.request.content) == {**body, "dateRangeStart": "2024-05-01T00:00:00.000", "dateRangeEnd": "2024-05-01T23:59:59.999"}


def test_bulk_edit_of_many_entries_is_logged_in_one_bounded_event(proxy):
    proxy.capture_events()
    body = [{"id": str(i), "start": "2024-05-01T09:00:00+02:00"} for i in range(300)]
    f = proxy.send(flow("PUT", f"{CORE}/user/u1/time-entries", body), ok())
    assert all(item["start"] == "2024-05-01T07:00:00Z" for item in json.loads(f.request.content))
    events = proxy.logged()
    assert [e["event"] for e in events] == ["request.fixed"]
    assert len(events[0]["changes"]) == 200 and events[0]["changes_not_shown"] == 100
    assert len(f.response.headers["X-Clockify-Proxy-Fixed"]) <= 2000


def test_a_bulk_edit_too_big_for_the_event_loop_is_fixed_in_a_worker_thread(proxy):
    from clockify_proxy import timefix

    body = [{"id": f"{i:024x}", "start": "2024-05-01T09:00:00+02:00", "end": "2024-05-01T10:00:00+02:00"} for i in range(5000)]
    raw = json.dumps(body).encode()
    assert len(raw) > timefix.THREAD_BODY_BYTES
    f = proxy.send(flow("PUT", f"{CORE}/user/u1/time-entries", raw), ok())
    fixed = json.loads(f.request.content)
    assert len(fixed) == 5000
    assert all(e["start"] == "2024-05-01T07:00:00Z" and e["end"] == "2024-05-01T08:00:00Z" for e in fixed)


@pytest.mark.parametrize(
    "end, flagged",
    [("2024-05-07T23:59:59.999", False), ("2024-05-08T00:00:00", False), ("2024-05-07T23:59:59", False), ("2024-05-06T23:59:59", True), ("2024-05-31T23:59:59", True)],
)
def test_weekly_report_that_is_not_seven_days_is_flagged(proxy, end, flagged):
    body = {"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": end, "timeZone": "UTC"}
    f = proxy.send(flow("POST", f"{REPORTS}/reports/weekly", body), ok())
    assert ("weekly-range-not-7-days" in f.response.headers.get("X-Clockify-Proxy-Warning", "")) is flagged


def test_time_entry_over_999_hours_is_flagged_but_sent(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-01-01T00:00:00Z", "end": "2024-03-01T00:00:00Z"}), ok())
    assert f.response.status_code == 201
    assert f.response.headers["X-Clockify-Proxy-Warning"] == "duration-over-999-hours"


def test_a_long_list_window_is_not_an_entry_and_is_not_flagged(proxy):
    f = proxy.send(flow("GET", f"{CORE}/user/u1/time-entries?start=2024-01-01T00:00:00Z&end=2024-06-01T00:00:00Z"), ok())
    assert "X-Clockify-Proxy-Warning" not in f.response.headers


def test_java_zoned_date_time_strings_are_read_with_their_zone(proxy):
    # ZonedDateTime.toString(): offset plus the zone in brackets, which Clockify does not read.
    body = {"start": "2024-05-01T09:00:00+02:00[Europe/Brussels]", "end": "2024-05-01T12:00:00[America/New_York]"}
    f = proxy.send(flow("POST", f"{CORE}/time-entries", body), ok())
    assert json.loads(f.request.content) == {"start": "2024-05-01T07:00:00Z", "end": "2024-05-01T16:00:00Z"}
    report = {"dateRangeStart": "2024-05-01T00:00:00[Asia/Tokyo]", "dateRangeEnd": "2024-05-02T00:00:00+02:00[Europe/Paris]", "timeZone": "Europe/Brussels"}
    f = proxy.send(flow("POST", f"{REPORTS}/reports/detailed", report), ok())
    assert json.loads(f.request.content) == {**report, "dateRangeStart": "2024-04-30T17:00:00", "dateRangeEnd": "2024-05-02T00:00:00"}


def test_a_bracketed_zone_that_does_not_exist_leaves_the_value_alone(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T09:00:00[Mars/Olympus]"}), ok())
    assert json.loads(f.request.content) == {"start": "2024-05-01T09:00:00[Mars/Olympus]"}
    assert "Mars/Olympus" in f.response.headers["X-Clockify-Proxy-Note"]


def test_end_of_day_24_00_becomes_the_next_midnight(proxy):
    f = proxy.send(flow("POST", f"{CORE}/time-entries", {"start": "2024-05-01T22:00:00Z", "end": "2024-05-01T24:00:00Z"}), ok())
    assert json.loads(f.request.content) == {"start": "2024-05-01T22:00:00Z", "end": "2024-05-02T00:00:00Z"}
