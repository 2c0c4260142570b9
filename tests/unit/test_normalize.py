"""normalize.plan_fields: what each time field must become for Clockify to read what the client meant."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clockify_proxy import catalogue, normalize, zones
from clockify_proxy.catalogue import Kind
from clockify_proxy.normalize import Zone, label, plan_fields, tokens, values_at

UTC = timezone.utc
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
W = "/v1/workspaces/ws1"
FORMAT_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

PROPERTY = settings(
    max_examples=200, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def zone(name: str, source: str = "option") -> Zone:
    return Zone(name, zones.zone(name), source)


BRUSSELS = zone("Europe/Brussels")


def plan(method: str, path: str, where: str, values, z: Zone = BRUSSELS, now: datetime = NOW):
    endpoint = catalogue.find(method, path)
    assert endpoint is not None, (method, path)
    return plan_fields(endpoint, where, getattr(endpoint, where), values, z, now)


def written(p) -> dict:
    return {e.path: e.after for e in p.edits}


def described(p) -> list[tuple]:
    """The edits as (where, path, before, after, note, added)."""
    return [(e.where, e.path, e.before, e.after, e.note, e.added) for e in p.edits]


def entry(body, z: Zone = BRUSSELS, now: datetime = NOW):
    return plan("POST", f"{W}/time-entries", "body", body, z, now)


def report(body, z: Zone = BRUSSELS):
    return plan("POST", f"{W}/reports/detailed", "body", body, z)


# -- INSTANT ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent",
    [
        "2024-05-01T08:00:00Z",
        "2024-05-01T08:00:00.000Z",
        "2024-05-01T08:00:00.5Z",
        "2024-05-01T08:00:00.123456789Z",
    ],
)
def test_instant_keeps_rfc3339_utc_byte_for_byte(sent):
    p = entry({"start": sent, "end": "2024-05-01T09:00:00Z"})
    assert p.edits == [] and p.notes == [] and p.rejection is None


@pytest.mark.parametrize(
    "sent, z, expected",
    [
        ("2024-05-01T10:00:00+02:00", "Europe/Brussels", "2024-05-01T08:00:00Z"),
        ("2024-05-01T10:00:00+02:00", "America/New_York", "2024-05-01T08:00:00Z"),  # the offset wins
        ("2024-05-01T10:00:00+0200", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01T10:00:00+02", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01T03:30:00-05:30", "UTC", "2024-05-01T09:00:00Z"),
        ("2024-05-01T10:00:00.999+02:00", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01T08:00:00+00:00", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01t08:00:00z", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01T08:00Z", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01T08:00:00,5Z", "UTC", "2024-05-01T08:00:00Z"),
        ("2024-05-01T10:00:00", "Europe/Brussels", "2024-05-01T08:00:00Z"),
        ("2024-05-01 10:00:00", "Europe/Brussels", "2024-05-01T08:00:00Z"),
        ("2024-05-01T10:00", "Europe/Brussels", "2024-05-01T08:00:00Z"),
        ("2024-01-15T10:00:00", "Europe/Brussels", "2024-01-15T09:00:00Z"),
        ("2024-05-01T10:00:00", "America/New_York", "2024-05-01T14:00:00Z"),
        ("2024-05-01T10:00:00", "Asia/Kathmandu", "2024-05-01T04:15:00Z"),
        ("2024-05-01T10:00:00", "UTC", "2024-05-01T10:00:00Z"),
        ("2024-05-01T10:00:00.750", "UTC", "2024-05-01T10:00:00Z"),
    ],
)
def test_instant_converts_offsets_and_naive_times(sent, z, expected):
    p = entry({"start": sent}, zone(z), now=datetime(2030, 1, 1, tzinfo=UTC))
    assert described(p) == [("body", ("start",), sent, expected, None, False)]
    assert p.rejection is None and p.warnings == []


def test_instant_in_query():
    p = plan("GET", f"{W}/user/u1/time-entries", "query",
             {("start",): "2024-05-01T00:00:00+02:00", ("end",): "2024-05-02T00:00:00", ("page",): "1"})
    assert written(p) == {("start",): "2024-04-30T22:00:00Z", ("end",): "2024-05-01T22:00:00Z"}
    assert {e.where for e in p.edits} == {"query"}
    assert {e.label for e in p.edits} == {"?start", "?end"}


def test_instant_in_nested_and_array_fields():
    body = {
        "name": "p",
        "costRate": {"amount": 1, "since": "2024-05-01T00:00:00+02:00"},
        "memberships": [{"hourlyRate": {"since": "2024-05-01T00:00:00"}}, {"hourlyRate": {"since": "2024-05-01T00:00:00Z"}}],
        "tasks": [{"costRate": {"since": "2024-05-01", "sinceAsInstant": "2024-05-01T02:00:00+02:00"}}],
    }
    p = plan("POST", f"{W}/projects", "body", body)
    assert written(p) == {
        ("costRate", "since"): "2024-04-30T22:00:00Z",
        ("memberships", 0, "hourlyRate", "since"): "2024-04-30T22:00:00Z",
        ("tasks", 0, "costRate", "sinceAsInstant"): "2024-05-01T00:00:00Z",
    }
    assert {e.label for e in p.edits} == {
        "costRate.since", "memberships[0].hourlyRate.since", "tasks[0].costRate.sinceAsInstant"
    }


def test_date_only_value_in_instant_field_is_left_alone():
    p = entry({"start": "2024-05-01"})
    assert p.edits == [] and p.notes == [] and p.rejection is None


# -- INSTANT_SECONDS -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, expected",
    [
        ("2024-05-01T08:00:00.000Z", "2024-05-01T08:00:00Z"),
        ("2024-05-01T08:00:00.5Z", "2024-05-01T08:00:00Z"),
        ("2024-05-01T08:00:00.123456789Z", "2024-05-01T08:00:00Z"),
        ("2024-05-01T10:00:00.000+02:00", "2024-05-01T08:00:00Z"),
        ("2024-05-01T10:00:00", "2024-05-01T08:00:00Z"),
        ("2024-05-01T08:00:00Z", None),
        ("2024-05-01", None),
    ],
)
def test_instant_seconds_strips_fractions_even_on_z(sent, expected):
    p = plan("POST", f"{W}/invoices/inv1/payments", "body", {"amount": 1, "paymentDate": sent})
    assert written(p) == ({("paymentDate",): expected} if expected else {})


def test_time_off_period_hours_and_days():
    path = f"{W}/time-off/policies/pol1/requests"
    hours = plan("POST", path, "body", {"timeOffPeriod": {"period": {
        "start": "2024-05-02T09:00:00.000+02:00", "end": "2024-05-02T13:00:00.000Z"}}})
    assert written(hours) == {
        ("timeOffPeriod", "period", "start"): "2024-05-02T07:00:00Z",
        ("timeOffPeriod", "period", "end"): "2024-05-02T13:00:00Z",
    }
    days = plan("POST", path, "body", {"timeOffPeriod": {"period": {"start": "2024-05-02", "end": "2024-05-03"}}})
    assert days.edits == [] and days.rejection is None and days.notes == []


# -- CALENDAR_DAY ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, expected",
    [
        ("2024-05-01T00:00:00+02:00", "2024-05-01T00:00:00Z"),  # UTC would be 2024-04-30
        ("2024-05-01T23:30:00-05:00", "2024-05-01T00:00:00Z"),  # UTC would be 2024-05-02
        ("2024-05-01T00:30:00", "2024-05-01T00:00:00Z"),
        ("2024-05-01T08:00:00+00:00", "2024-05-01T00:00:00Z"),
        ("2024-03-31T02:30:00", "2024-03-31T00:00:00Z"),  # a day, so the Brussels DST gap does not matter
        ("2024-04-30T22:00:00Z", None),  # as the client wrote it
        ("2024-05-01T08:00:00.000Z", None),
        ("2024-05-01", None),
    ],
)
def test_calendar_day_keeps_the_written_date(sent, expected):
    p = plan("POST", f"{W}/invoices", "body", {"issuedDate": sent, "dueDate": "2024-06-01T00:00:00Z"})
    assert written(p) == ({("issuedDate",): expected} if expected else {})
    assert p.rejection is None


def test_calendar_day_in_multipart_form():
    p = plan("POST", f"{W}/expenses", "form", {("date",): "2024-05-01T00:00:00+02:00", ("amount",): "5"})
    assert described(p) == [("form", ("date",), "2024-05-01T00:00:00+02:00", "2024-05-01T00:00:00Z", None, False)]
    assert p.edits[0].label == "date"


def test_calendar_day_before_year_1000_is_still_four_digits():
    p = plan("POST", f"{W}/invoices", "body", {"issuedDate": "0999-05-01T10:00:00+02:00"})
    assert written(p) == {("issuedDate",): "0999-05-01T00:00:00Z"}


@PROPERTY
@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31)),
    st.one_of(st.none(), st.integers(-(23 * 60 + 59), 23 * 60 + 59)),
    st.sampled_from(["Europe/Brussels", "Pacific/Apia", "Pacific/Kiritimati", "America/St_Johns", "UTC"]),
)
def test_calendar_day_never_moves_the_date(wall, offset_minutes, z):
    sent = wall.replace(microsecond=0).isoformat()
    if offset_minutes is not None:
        sign = "-" if offset_minutes < 0 else "+"
        sent += f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"
    p = plan("PUT", f"{W}/invoices/inv1", "body", {"dueDate": sent}, zone(z))
    assert p.rejection is None
    assert written(p) == {("dueDate",): f"{wall:%Y-%m-%d}T00:00:00Z"}


# -- REPORT_RANGE ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sent, body_zone, expected",
    [
        ("2024-05-01T00:00:00+02:00", "Europe/Brussels", "2024-05-01T00:00:00"),
        ("2024-05-01T00:00:00Z", "Europe/Brussels", "2024-05-01T02:00:00"),
        ("2024-05-01T00:00:00.000Z", "Europe/Brussels", "2024-05-01T02:00:00.000"),
        ("2024-05-31T23:59:59.999Z", "Europe/Brussels", "2024-06-01T01:59:59.999"),
        ("2024-05-31T23:59:59.999999999Z", "Europe/Brussels", "2024-06-01T01:59:59.999999999"),
        ("2024-05-01T00:00:00+02:00", "America/New_York", "2024-04-30T18:00:00"),
        ("2024-05-01T00:00:00Z", "UTC", "2024-05-01T00:00:00"),
        ("2024-05-01T00:00:00-03:30", "America/St_Johns", "2024-05-01T01:00:00"),  # -02:30 in May
        ("2024-05-01T00:00:00", "Europe/Brussels", None),  # a wall clock already: as meant
        ("2024-05-01T00:00:00.000", "Europe/Brussels", None),
        ("2024-03-31T02:30:00", "Europe/Brussels", None),  # even in a gap: Clockify reads the wall clock
        ("2024-05-01", "Europe/Brussels", None),
    ],
)
def test_report_range_becomes_wall_clock_in_body_zone(sent, body_zone, expected):
    # The proxy's own zone is elsewhere: the body's timeZone decides.
    p = report({"dateRangeStart": sent, "timeZone": body_zone}, zone("Asia/Tokyo"))
    assert written(p) == ({("dateRangeStart",): expected} if expected else {})
    assert p.rejection is None


def test_report_range_adds_time_zone_when_absent():
    p = report({"dateRangeStart": "2024-05-01T00:00:00Z", "dateRangeEnd": "2024-05-02T00:00:00Z"},
               zone("Europe/Brussels", "X-Clockify-Proxy-Timezone header"))
    assert written(p) == {
        ("timeZone",): "Europe/Brussels",
        ("dateRangeStart",): "2024-05-01T02:00:00",
        ("dateRangeEnd",): "2024-05-02T02:00:00",
    }
    added = next(e for e in p.edits if e.path == ("timeZone",))
    assert added.added is True and added.before is None
    assert "X-Clockify-Proxy-Timezone header" in added.note
    assert all(not e.added for e in p.edits if e is not added)


def test_report_null_time_zone_is_replaced_not_added():
    p = report({"dateRangeStart": "2024-05-01T00:00:00", "dateRangeEnd": "2024-05-02T00:00:00", "timeZone": None})
    assert described(p) == [("body", ("timeZone",), None, "Europe/Brussels", "zone from option", False)]


def test_report_without_range_gets_no_time_zone():
    assert report({"amountShown": "HIDE_AMOUNT"}).edits == []


@pytest.mark.parametrize("bad", ["UTC+3", "Mars/Olympus", "", "../etc/localtime", 3, ["Europe/Brussels"], {"id": "x"}])
def test_report_with_invalid_time_zone_is_left_alone_with_a_note(bad):
    p = report({"dateRangeStart": "2024-05-01T00:00:00Z", "dateRangeEnd": "2024-04-01T00:00:00Z", "timeZone": bad})
    assert p.edits == [] and p.rejection is None
    assert len(p.notes) == 1
    assert "timeZone" in p.notes[0] and repr(bad) in p.notes[0]


def test_shared_report_filter_time_zone():
    p = plan("POST", f"{W}/shared-reports", "body",
             {"name": "r", "filter": {"dateRangeStart": "2024-05-01T00:00:00Z", "dateRangeEnd": "2024-05-01T12:00:00Z"}})
    assert written(p) == {
        ("filter", "timeZone"): "Europe/Brussels",
        ("filter", "dateRangeStart"): "2024-05-01T02:00:00",
        ("filter", "dateRangeEnd"): "2024-05-01T14:00:00",
    }
    assert next(e for e in p.edits if e.path == ("filter", "timeZone")).label == "filter.timeZone"
    kept = plan("PUT", f"{W}/shared-reports/r1", "body",
                {"filter": {"dateRangeStart": "2024-05-01T00:00:00+02:00", "timeZone": "Europe/Brussels"}})
    assert written(kept) == {("filter", "dateRangeStart"): "2024-05-01T00:00:00"}


def test_shared_report_query_range_in_proxy_zone():
    p = plan("GET", "/v1/shared-reports/r1", "query",
             {("dateRangeStart",): "2024-05-01T00:00:00Z", ("dateRangeEnd",): "2024-05-02T00:00:00"})
    assert written(p) == {("dateRangeStart",): "2024-05-01T02:00:00"}


# -- DATE and TIME_OF_DAY ----------------------------------------------------------------------------


def test_date_and_time_of_day_fields_are_never_touched():
    holidays = plan("POST", f"{W}/holidays", "body",
                    {"datePeriod": {"startDate": "2024-05-01T10:00:00+02:00", "endDate": "2024-04-01"}})
    assert holidays.edits == [] and holidays.notes == [] and holidays.rejection is None
    query = plan("GET", f"{W}/projects", "query", {("expense-date",): "2024-05-01T10:00:00+02:00"})
    assert query.edits == [] and query.notes == []
    recurring = plan("POST", f"{W}/scheduling/assignments/recurring", "body",
                     {"start": "2024-05-01T00:00:00", "end": "2024-05-31T00:00:00", "startTime": "10:00:00"})
    assert written(recurring) == {("start",): "2024-04-30T22:00:00Z", ("end",): "2024-05-30T22:00:00Z"}
    info = plan("POST", f"{W}/invoices/info", "body",
                {"issueDate": {"issue-date-start": "2024-05-31", "issue-date-end": "2024-05-01"}})
    assert info.edits == [] and info.rejection is None


# -- range checks ------------------------------------------------------------------------------------


def test_start_after_end_rejected_naming_both_values():
    p = entry({"start": "2024-05-01T10:00:00+02:00", "end": "2024-05-01T07:30:00"})
    assert p.rejection is not None
    assert p.rejection.diagnosis == "start-after-end"
    message = p.rejection.message
    # Clockify's own wording first, with the values as they would have been sent.
    assert message.startswith(
        "Start datetime 2024-05-01T08:00:00Z is greater than end datetime 2024-05-01T05:30:00Z."
    )
    assert "'2024-05-01T10:00:00+02:00'" in message and "'2024-05-01T07:30:00'" in message
    assert "start" in message and "end" in message
    assert "Europe/Brussels" in message and "option" in message


def test_naive_times_are_compared_as_read_in_the_zone():
    body = {"start": "2024-05-01T10:00:00", "end": "2024-05-01T09:30:00Z"}
    assert entry(body).rejection is None  # 10:00 in Brussels is 08:00Z
    rejected = entry(body, zone("UTC"))
    assert rejected.rejection is not None and rejected.rejection.diagnosis == "start-after-end"


def test_equal_start_and_end_allowed():
    p = entry({"start": "2024-05-01T10:00:00+02:00", "end": "2024-05-01T08:00:00Z"})
    assert p.rejection is None


def test_bulk_edit_checked_per_item():
    ok = {"id": "a", "start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"}
    inverted = {"id": "b", "start": "2024-05-01T12:00:00+02:00", "end": "2024-05-01T09:00:00Z"}
    only_start = {"id": "c", "start": "2024-05-01T23:00:00Z"}
    path = f"{W}/user/u1/time-entries"
    assert plan("PUT", path, "body", [ok, only_start, ok]).rejection is None
    p = plan("PUT", path, "body", [ok, only_start, inverted])
    assert p.rejection is not None and p.rejection.diagnosis == "start-after-end"
    assert "[2].start" in p.rejection.message and "[2].end" in p.rejection.message
    assert "'2024-05-01T12:00:00+02:00'" in p.rejection.message
    # Starts and ends of different items are never compared.
    crossed = [{"start": "2024-05-01T08:00:00Z", "end": "2024-05-01T09:00:00Z"},
               {"start": "2024-05-01T06:00:00Z", "end": "2024-05-01T07:00:00Z"}]
    assert plan("PUT", path, "body", crossed).rejection is None


def test_query_range_checked():
    p = plan("GET", f"{W}/holidays/in-period", "query",
             {("start",): "2024-05-02T00:00:00Z", ("end",): "2024-05-01T23:59:59.999Z"})
    assert p.rejection is not None and p.rejection.diagnosis == "start-after-end"
    assert "?start" in p.rejection.message and "?end" in p.rejection.message


def test_other_range_pairs_checked():
    imported = plan("POST", f"{W}/invoices/inv1/items/import", "body",
                    {"from": "2024-06-01T00:00:00Z", "to": "2024-05-01T00:00:00Z"})
    assert imported.rejection is not None and imported.rejection.diagnosis == "start-after-end"
    half_day = plan("POST", f"{W}/time-off/policies/p1/users/u1/requests", "body",
                    {"timeOffPeriod": {"halfDayHours": {"start": "2024-05-02T13:00:00Z", "end": "2024-05-02T09:00:00Z"}}})
    assert half_day.rejection is not None
    assert "timeOffPeriod.halfDayHours.start" in half_day.rejection.message


def test_report_range_compares_wall_clocks():
    # 00:00Z is 02:00 on the Brussels wall clock, later than the naive 01:00 end.
    p = report({"dateRangeStart": "2024-05-01T00:00:00Z", "dateRangeEnd": "2024-05-01T01:00:00",
                "timeZone": "Europe/Brussels"})
    assert p.rejection is not None and p.rejection.diagnosis == "start-after-end"
    assert "wall clock" in p.rejection.message and "Europe/Brussels" in p.rejection.message
    assert "'2024-05-01T00:00:00Z'" in p.rejection.message and "'2024-05-01T01:00:00'" in p.rejection.message
    # Read the other way round: 01:00 naive to 00:00Z (02:00 wall clock) is a valid range.
    fine = report({"dateRangeStart": "2024-05-01T01:00:00", "dateRangeEnd": "2024-05-01T00:00:00Z",
                   "timeZone": "Europe/Brussels"})
    assert fine.rejection is None


def test_invalid_report_zone_skips_the_range_check():
    p = report({"dateRangeStart": "2024-06-01T00:00:00", "dateRangeEnd": "2024-05-01T00:00:00", "timeZone": "UTC+3"})
    assert p.rejection is None


# -- timers ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, z, flagged",
    [
        ({"start": "2024-05-01T12:02:00Z"}, "UTC", True),
        ({"start": "2024-05-01T12:02:00Z", "end": None}, "UTC", True),
        ({"start": "2024-05-01T14:02:00+02:00"}, "UTC", True),
        ({"start": "2024-05-01T12:00:30Z"}, "UTC", False),  # within the clock-skew tolerance
        ({"start": "2024-05-01T11:00:00Z"}, "UTC", False),
        ({"start": "2024-05-01T12:02:00Z", "end": "2024-05-01T13:00:00Z"}, "UTC", False),  # not a timer
        ({"start": "2024-05-01T14:00:00"}, "Europe/Brussels", False),  # 12:00Z
        ({"start": "2024-05-01T14:00:00"}, "UTC", True),
        ({"start": "2024-05-01"}, "UTC", False),
    ],
)
def test_timer_starting_in_the_future_is_flagged(body, z, flagged):
    p = entry(body, zone(z))
    assert p.rejection is None
    assert p.warnings == (["timer-starts-in-future"] if flagged else [])
    assert any("later than now" in n for n in p.notes) is flagged


def test_timer_check_only_for_endpoints_that_start_timers():
    update = plan("PUT", f"{W}/time-entries/te1", "body", {"start": "2024-05-01T18:00:00Z"})
    assert update.warnings == []
    other_user = plan("POST", f"{W}/user/u1/time-entries", "body", {"start": "2024-05-01T18:00:00Z"})
    assert other_user.warnings == ["timer-starts-in-future"]


# -- DST gaps and folds -------------------------------------------------------------------------------


def test_nonexistent_local_time_rejected():
    p = entry({"start": "2024-03-31T02:30:00", "end": "2024-03-31T04:00:00"})
    assert p.rejection is not None
    assert p.rejection.diagnosis == "nonexistent-local-time"
    assert p.rejection.message.startswith("start: ")
    assert "2024-03-31T02:30:00" in p.rejection.message and "Europe/Brussels" in p.rejection.message


@pytest.mark.parametrize(
    "method, path, where, values, where_label",
    [
        ("GET", f"{W}/user/u1/time-entries", "query", {("end",): "2024-03-31T02:15:00"}, "?end"),
        ("PUT", f"{W}/user/u1/time-entries", "body",
         [{"start": "2024-03-31T01:00:00Z"}, {"start": "2024-03-31T02:15:00"}], "[1].start"),
        ("POST", f"{W}/invoices/inv1/payments", "body", {"paymentDate": "2024-03-31T02:15:00"}, "paymentDate"),
    ],
)
def test_nonexistent_local_time_rejected_everywhere(method, path, where, values, where_label):
    p = plan(method, path, where, values)
    assert p.rejection is not None and p.rejection.diagnosis == "nonexistent-local-time"
    assert p.rejection.message.startswith(where_label + ": ")


def test_ambiguous_local_time_read_as_first_occurrence_with_note():
    p = entry({"start": "2024-10-27T02:30:00", "end": "2024-10-27T03:30:00"})
    assert p.rejection is None
    assert written(p) == {("start",): "2024-10-27T00:30:00Z", ("end",): "2024-10-27T02:30:00Z"}
    start = next(e for e in p.edits if e.path == ("start",))
    assert start.note is not None and "happens twice" in start.note
    assert len(p.notes) == 1
    assert p.notes[0].startswith("start: ") and "2024-10-27T02:30:00+02:00" in p.notes[0]


# -- values that are not times -------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["tomorrow", "", "2024-02-30T10:00:00Z", "2024-05-01T10:00:00+25:00", "10:00"])
def test_non_time_strings_noted_and_unchanged(sent):
    p = entry({"start": sent, "end": "2024-05-01T10:00:00Z"})
    assert p.edits == [] and p.rejection is None
    assert len(p.notes) == 1
    assert p.notes[0].startswith("start left unchanged: ")


@pytest.mark.parametrize("value", [None, 1714557600, 1.5, True, ["2024-05-01T10:00:00+02:00"], {"t": "x"}])
def test_non_string_values_ignored(value):
    p = entry({"start": value, "end": "2024-05-01T10:00:00+02:00"})
    assert written(p) == {("end",): "2024-05-01T08:00:00Z"}
    assert p.notes == [] and p.rejection is None


def test_out_of_range_naive_time_is_noted_not_raised():
    # 0001-01-01T00:00 in Brussels (+00:17:30 then) is before the first representable UTC instant.
    p = entry({"start": "0001-01-01T00:00:00"})
    assert p.edits == [] and p.rejection is None
    assert len(p.notes) == 1 and p.notes[0].startswith("start left unchanged: ")


def test_missing_fields_and_wrong_shapes_are_ignored():
    assert entry({}).edits == []
    assert entry([]).edits == []
    assert entry("2024-05-01T10:00:00").edits == []
    assert plan("PUT", f"{W}/user/u1/time-entries", "body", {"start": "2024-05-01T10:00:00"}).edits == []
    assert plan("GET", f"{W}/user/u1/time-entries", "query", {}).edits == []


# -- property: INSTANT output is what zoneinfo says the client meant ------------------------------------

PROPERTY_ZONES = ["Europe/Brussels", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "Pacific/Apia",
                  "Europe/Dublin", "UTC"]


@st.composite
def sent_values(draw):
    wall = draw(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2060, 12, 31)))
    frac = draw(st.sampled_from(["", "000", "5", "123456789"]))
    text = wall.replace(microsecond=0).isoformat(sep=draw(st.sampled_from("T "))) + (f".{frac}" if frac else "")
    suffix = draw(st.sampled_from(["", "Z", "+00:00", "+02:00", "-05:30", "+0545"]))
    return text + suffix


@PROPERTY
@given(sent_values(), st.sampled_from(PROPERTY_ZONES))
def test_instant_output_is_the_meant_instant(sent, name):
    p = entry({"start": sent}, zone(name), now=datetime(2100, 1, 1, tzinfo=UTC))
    meant = datetime.fromisoformat(sent.replace("Z", "+00:00"))
    if meant.tzinfo is None:
        z = ZoneInfo(name)
        first = meant.replace(tzinfo=z)
        if first.astimezone(UTC).astimezone(z).replace(tzinfo=None) != meant:
            assert p.rejection is not None and p.rejection.diagnosis == "nonexistent-local-time"
            return
        meant = first
    assert p.rejection is None
    out = written(p).get(("start",), sent)
    if out == sent:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", sent)
        assert datetime.fromisoformat(sent.replace("Z", "+00:00")) == meant
    else:
        assert FORMAT_UTC.match(out)
        assert datetime.fromisoformat(out.replace("Z", "+00:00")) == meant.astimezone(UTC).replace(microsecond=0)


# -- helpers ------------------------------------------------------------------------------------------


def test_label_and_tokens():
    assert label("body", ("a", 0, "b")) == "a[0].b"
    assert label("body", (0, "start")) == "[0].start"
    assert label("query", ("start",)) == "?start"
    assert label("form", ("date",)) == "date"
    assert tokens("tasks[].costRate.since") == ("tasks", "[]", "costRate", "since")
    assert tokens("[].start") == ("[]", "start")
    assert tokens("filter.dateRangeStart") == ("filter", "dateRangeStart")


def test_values_at():
    doc = {"tasks": [{"costRate": {"since": "a"}}, {"costRate": {}}, {"costRate": {"since": "b"}}], "x": 1}
    assert list(values_at(doc, tokens("tasks[].costRate.since"))) == [
        (("tasks", 0, "costRate", "since"), "a"),
        (("tasks", 2, "costRate", "since"), "b"),
    ]
    assert list(values_at([{"start": 1}, {"end": 2}], tokens("[].start"))) == [((0, "start"), 1)]
    assert list(values_at({"tasks": {"0": 1}}, tokens("tasks[].x"))) == []
    assert list(values_at({"a": None}, tokens("a.b"))) == []


def test_future_tolerance_is_small():
    assert timedelta(0) < normalize.FUTURE_TIMER_TOLERANCE <= timedelta(minutes=5)


def test_kinds_exercised_here_exist_in_catalogue():
    kinds = {kind for e in catalogue.CATALOGUE for loc in (e.body, e.query, e.form) for kind in loc.values()}
    assert kinds == set(Kind)
