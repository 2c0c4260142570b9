"""Every time-valued field of a Clockify request, and how Clockify reads it.

The rules are data: an endpoint pattern, the fields by location and path, and the kind of each.
Sources: ../shared/clockify/api-facts.md section 3 and Clockify's OpenAPI description; a test
checks that every date-time field of a request there is listed here.

Paths are relative to the API version root (`/v1/...`), whatever the host prefix (`/api`,
`/report`, `/pto`) or host, so the same rules apply on every host and through any upstream.
Field paths are dotted; `[]` stands for every item of an array (`[].start` for a bulk body that
is a JSON array, `memberships[].costRate.since` for an array inside an object).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field


class Kind(enum.Enum):
    INSTANT = "instant"
    """A moment: written as `YYYY-MM-DDTHH:MM:SSZ` in UTC. A UTC value in RFC 3339 form is kept."""

    INSTANT_SECONDS = "instant-seconds"
    """A moment where Clockify rejects fractions of a second (time-off hour periods, payments)."""

    REPORT_RANGE = "report-range"
    """A wall clock that Clockify reads in the report's `timeZone`, even when it ends in `Z`."""

    CALENDAR_DAY = "calendar-day"
    """Typed as an instant, but a day: the date the client wrote is kept."""

    DATE = "date"
    """`YYYY-MM-DD`: never touched."""

    TIME_OF_DAY = "time-of-day"
    """`HH:MM[:SS]`: never touched."""


# Short names keep the table below readable as a table.
I, S, R, C, D, T = (  # noqa: E741
    Kind.INSTANT,
    Kind.INSTANT_SECONDS,
    Kind.REPORT_RANGE,
    Kind.CALENDAR_DAY,
    Kind.DATE,
    Kind.TIME_OF_DAY,
)


@dataclass(frozen=True)
class Endpoint:
    methods: tuple[str, ...]
    pattern: str  # "/v1/workspaces/{workspaceId}/time-entries"
    body: dict[str, Kind] = field(default_factory=dict)
    query: dict[str, Kind] = field(default_factory=dict)
    form: dict[str, Kind] = field(default_factory=dict)  # multipart/form-data parts
    # (start, end) pairs that must not be inverted; both in the same location.
    ranges: tuple[tuple[str, str], ...] = ()
    # Where a report names its zone; added (with the proxy's zone) when absent.
    zone_field: str | None = None
    # A body with `start` and no `end` starts a timer.
    starts_timer: bool = False
    regex: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = re.split(r"\{[^}]+\}", self.pattern)
        object.__setattr__(self, "regex", re.compile("[^/]+".join(map(re.escape, parts)) + "/?"))


W = "/v1/workspaces/{workspaceId}"
START_END = {"start": I, "end": I}
RANGE = (("start", "end"),)
RATE = {"since": I}
PROJECT_RATES = {
    "costRate.since": I,
    "hourlyRate.since": I,
    "memberships[].costRate.since": I,
    "memberships[].hourlyRate.since": I,
    "tasks[].costRate.since": I,
    "tasks[].hourlyRate.since": I,
    "tasks[].costRate.sinceAsInstant": I,
    "tasks[].hourlyRate.sinceAsInstant": I,
}
REPORT = {"dateRangeStart": R, "dateRangeEnd": R}
REPORT_RANGE_PAIR = (("dateRangeStart", "dateRangeEnd"),)
TIME_OFF_PERIOD = {
    "timeOffPeriod.period.start": S,
    "timeOffPeriod.period.end": S,
    "timeOffPeriod.halfDayHours.start": S,
    "timeOffPeriod.halfDayHours.end": S,
}


def _rates(*prefixes: str) -> list[Endpoint]:
    return [Endpoint(("PUT",), f"{p}/{rate}", body=RATE) for p in prefixes for rate in ("cost-rate", "hourly-rate")]


CATALOGUE: tuple[Endpoint, ...] = (
    # Time entries
    Endpoint(("POST",), f"{W}/time-entries", body=START_END, ranges=RANGE, starts_timer=True),
    Endpoint(("PUT",), f"{W}/time-entries/{{id}}", body=START_END, ranges=RANGE),
    Endpoint(("POST",), f"{W}/user/{{userId}}/time-entries", body=START_END, ranges=RANGE, starts_timer=True),
    Endpoint(
        ("PUT",),
        f"{W}/user/{{userId}}/time-entries",
        body={"[].start": I, "[].end": I},
        ranges=(("[].start", "[].end"),),
    ),
    Endpoint(("PATCH",), f"{W}/user/{{userId}}/time-entries", body={"end": I}),
    Endpoint(
        ("GET",),
        f"{W}/user/{{userId}}/time-entries",
        query={"start": I, "end": I, "get-week-before": I},
        ranges=RANGE,
    ),
    Endpoint(("PATCH",), f"{W}/time-entries/invoiced", body={"timeEntryIds[].dateOfCreationFromObjectId": I}),
    # Approvals
    *(
        Endpoint(("POST",), f"{W}/approval-requests{suffix}", body={"periodStart": I})
        for suffix in (
            "",
            "/resubmit-entries-for-approval",
            "/users/{userId}",
            "/users/{userId}/resubmit-entries-for-approval",
        )
    ),
    # Rates
    *_rates(W, f"{W}/users/{{userId}}", f"{W}/projects/{{projectId}}/users/{{userId}}",
            f"{W}/projects/{{projectId}}/tasks/{{id}}"),
    Endpoint(("POST",), f"{W}/projects", body=PROJECT_RATES),
    Endpoint(("PUT",), f"{W}/projects/{{projectId}}", body=PROJECT_RATES),
    Endpoint(
        ("PATCH",),
        f"{W}/projects/{{projectId}}/memberships",
        body={"memberships[].costRate.since": I, "memberships[].hourlyRate.since": I},
    ),
    Endpoint(("GET",), f"{W}/projects", query={"expense-date": D}),
    Endpoint(("GET",), f"{W}/projects/{{projectId}}", query={"expense-date": D}),
    # Expenses: multipart in the API reference; some clients send JSON.
    Endpoint(("POST",), f"{W}/expenses", form={"date": C}, body={"date": C}),
    Endpoint(("PUT",), f"{W}/expenses/{{expenseId}}", form={"date": C}, body={"date": C}),
    # Invoices
    Endpoint(("POST",), f"{W}/invoices", body={"issuedDate": C, "dueDate": C}),
    Endpoint(("PUT",), f"{W}/invoices/settings"),  # no time fields; listed so {invoiceId} does not take it
    Endpoint(("PUT",), f"{W}/invoices/{{invoiceId}}", body={"issuedDate": C, "dueDate": C}),
    Endpoint(("POST",), f"{W}/invoices/{{invoiceId}}/payments", body={"paymentDate": S}),
    Endpoint(("POST",), f"{W}/invoices/{{invoiceId}}/items/import", body={"from": I, "to": I},
             ranges=(("from", "to"),)),
    Endpoint(("POST",), f"{W}/invoices/info",
             body={"issueDate.issue-date-start": D, "issueDate.issue-date-end": D}),
    # Holidays
    Endpoint(("GET",), f"{W}/holidays/in-period", query=START_END, ranges=RANGE),
    Endpoint(("POST",), f"{W}/holidays", body={"datePeriod.startDate": D, "datePeriod.endDate": D}),
    Endpoint(("PUT",), f"{W}/holidays/{{holidayId}}", body={"datePeriod.startDate": D, "datePeriod.endDate": D}),
    # Scheduling
    Endpoint(("GET",), f"{W}/scheduling/assignments/all", query=START_END, ranges=RANGE),
    Endpoint(("GET",), f"{W}/scheduling/assignments/projects/totals/{{projectId}}", query=START_END, ranges=RANGE),
    Endpoint(("GET",), f"{W}/scheduling/assignments/users/{{userId}}/totals", query=START_END, ranges=RANGE),
    Endpoint(("POST",), f"{W}/scheduling/assignments/projects/totals", body=START_END, ranges=RANGE),
    Endpoint(("POST",), f"{W}/scheduling/assignments/user-filter/totals", body=START_END, ranges=RANGE),
    Endpoint(("PUT",), f"{W}/scheduling/assignments/publish", body=START_END, ranges=RANGE),
    Endpoint(("POST",), f"{W}/scheduling/assignments/recurring", body={**START_END, "startTime": T}, ranges=RANGE),
    Endpoint(("PATCH",), f"{W}/scheduling/assignments/recurring/{{assignmentId}}",
             body={**START_END, "startTime": T}, ranges=RANGE),
    # Time off
    Endpoint(("POST",), f"{W}/time-off/requests", body=START_END, ranges=RANGE),
    *(
        Endpoint(
            ("POST",),
            f"{W}/time-off/policies/{{policyId}}{who}/requests",
            body=TIME_OFF_PERIOD,
            ranges=(("timeOffPeriod.period.start", "timeOffPeriod.period.end"),
                    ("timeOffPeriod.halfDayHours.start", "timeOffPeriod.halfDayHours.end")),
        )
        for who in ("", "/users/{userId}")
    ),
    # Webhooks, experimental entity changes, audit log (its own host)
    Endpoint(("POST",), f"{W}/webhooks/{{webhookId}}/logs", body={"from": I, "to": I}, ranges=(("from", "to"),)),
    *(
        Endpoint(("GET",), f"{W}/entities/{change}", query=START_END, ranges=RANGE)
        for change in ("created", "deleted", "updated")
    ),
    Endpoint(("POST",), f"{W}/audit-log", body=START_END, ranges=RANGE),
    # Reports host: wall clock in the report's zone
    *(
        Endpoint(("POST",), f"{W}/reports/{report}", body=REPORT, ranges=REPORT_RANGE_PAIR, zone_field="timeZone")
        for report in ("detailed", "summary", "weekly", "attendance", "expenses/detailed")
    ),
    *(
        Endpoint(
            (method,),
            f"{W}/shared-reports{suffix}",
            body={"filter.dateRangeStart": R, "filter.dateRangeEnd": R},
            ranges=(("filter.dateRangeStart", "filter.dateRangeEnd"),),
            zone_field="filter.timeZone",
        )
        for method, suffix in (("POST", ""), ("PUT", "/{id}"))
    ),
    Endpoint(("GET",), "/v1/shared-reports/{id}", query=REPORT, ranges=REPORT_RANGE_PAIR),
)

def _shape(path: str) -> tuple[int, str]:
    """Segment count and last segment: a parameter matches one whole segment, never a `/`."""
    segments = path.split("/")
    return len(segments), segments[-1]


def _index(catalogue: tuple[Endpoint, ...]) -> dict[tuple[str, int, str | None], list[Endpoint]]:
    """The endpoints a path can match, by method, segment count and literal last segment (None:
    those whose last segment is a parameter), each list in catalogue order: the first match wins."""
    found: dict[tuple[str, int, str | None], list[tuple[int, Endpoint]]] = {}
    for order, endpoint in enumerate(catalogue):
        count, last = _shape(endpoint.pattern)
        for method in endpoint.methods:
            found.setdefault((method, count, None if last.startswith("{") else last), []).append((order, endpoint))
    for (method, count, last), listed in found.items():
        if last is not None:
            listed.extend(found.get((method, count, None), ()))
            listed.sort(key=lambda item: item[0])
    return {key: [endpoint for _, endpoint in listed] for key, listed in found.items()}


_INDEX = _index(CATALOGUE)


def find(method: str, api_path: str) -> Endpoint | None:
    """The endpoint a request is for; `api_path` starts at `/v1/` and has no query."""
    method = method.upper()
    count, last = _shape(api_path[:-1] if api_path.endswith("/") else api_path)
    for endpoint in _INDEX.get((method, count, last)) or _INDEX.get((method, count, None), ()):
        if endpoint.regex.fullmatch(api_path):
            return endpoint
    return None
