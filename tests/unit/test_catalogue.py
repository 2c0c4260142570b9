"""catalogue: which request fields are time values, and Clockify's own API description as the check.

The coverage test walks every operation of Clockify's OpenAPI description (vendored in
tests/data, provenance in tests/data/README.md) and requires every date or date-time request
field to be in `catalogue.CATALOGUE`.
"""

from __future__ import annotations

import functools
import hashlib
import re
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from clockify_proxy import normalize, zones
from clockify_proxy.catalogue import CATALOGUE, Kind, find

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "tests" / "data" / "clockify.official.openapi.yaml"
SHARED_SPEC = REPO.parent / "shared" / "clockify" / "clockify.official.openapi.yaml"
W = "/v1/workspaces/ws1"
METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
REPORTS_HOST = "reports.api.clockify.me"

# Kinds that rewrite a date-time (every kind but the two that are never touched).
TIME_KINDS = {Kind.INSTANT, Kind.INSTANT_SECONDS, Kind.REPORT_RANGE, Kind.CALENDAR_DAY}

# Fields the spec shows with a date or date-time example or description that are not time values.
# Keyed by (location, field path); each must still match something in the spec (no stale entries).
NOT_TIME_VALUES = {
    ("body", "dateFormat"): "report display format ('Provide date in format YYYY-MM-DD'), not a filter "
    "(api-facts 3.3)",
    ("body", "filter.dateFormat"): "the same display format inside a shared report's filter",
}

# Fields the spec documents as date-only that Clockify also takes as date-times.
DATE_ALSO_DATE_TIME = {
    ("body", "timeOffPeriod.period.start"): "HOURS policies take RFC 3339 without millis (api-facts 3.2, "
    "TS-LEDGER live); DAYS policies a date, which INSTANT_SECONDS leaves alone",
    ("body", "timeOffPeriod.period.end"): "same as timeOffPeriod.period.start",
}

# Catalogue endpoints that the spec does not describe.
NOT_IN_SPEC = {
    ("POST", "/v1/workspaces/{}/audit-log"): "audit-log host, known from TS-LEDGER's corrected spec "
    "(api-facts 3.2); the official spec lists no operation for it",
}


# -- find() -------------------------------------------------------------------------------------------


def pattern_of(endpoint):
    return endpoint.pattern if endpoint else None


@pytest.mark.parametrize(
    "method, path, pattern",
    [
        ("POST", f"{W}/time-entries", "/v1/workspaces/{workspaceId}/time-entries"),
        ("POST", f"{W}/time-entries/", "/v1/workspaces/{workspaceId}/time-entries"),
        ("post", f"{W}/time-entries", "/v1/workspaces/{workspaceId}/time-entries"),
        ("PUT", f"{W}/time-entries/te1", "/v1/workspaces/{workspaceId}/time-entries/{id}"),
        ("PUT", f"{W}/time-entries/te1/", "/v1/workspaces/{workspaceId}/time-entries/{id}"),
        ("PATCH", f"{W}/time-entries/invoiced", "/v1/workspaces/{workspaceId}/time-entries/invoiced"),
        ("GET", f"{W}/user/u1/time-entries", "/v1/workspaces/{workspaceId}/user/{userId}/time-entries"),
        ("PUT", f"{W}/user/u1/time-entries", "/v1/workspaces/{workspaceId}/user/{userId}/time-entries"),
        ("PATCH", f"{W}/user/u1/time-entries", "/v1/workspaces/{workspaceId}/user/{userId}/time-entries"),
        ("POST", f"{W}/reports/expenses/detailed", "/v1/workspaces/{workspaceId}/reports/expenses/detailed"),
        ("GET", "/v1/shared-reports/r1", "/v1/shared-reports/{id}"),
        ("POST", f"{W}/approval-requests/users/u1/resubmit-entries-for-approval",
         "/v1/workspaces/{workspaceId}/approval-requests/users/{userId}/resubmit-entries-for-approval"),
    ],
)
def test_find_matches_method_and_path(method, path, pattern):
    assert pattern_of(find(method, path)) == pattern


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", f"{W}/time-entries"),  # no such time fields on GET
        ("DELETE", f"{W}/time-entries/te1"),
        ("PATCH", f"{W}/time-entries/te1"),
        ("POST", f"{W}/time-entries/te1"),
        ("GET", f"{W}/reports/detailed"),
        ("POST", f"{W}/time-entries//"),
        ("POST", f"{W}/time-entries?x=1"),  # api_path carries no query
        ("POST", "/api" + f"{W}/time-entries"),  # api_path starts at /v1
        ("POST", f"{W}/time-entries/extra"),
        ("POST", "/v1/workspaces//time-entries"),  # an empty path parameter
        ("POST", "/v1/workspaces/a/b/time-entries"),  # a parameter never spans segments
        ("GET", f"{W}/user/u1/time-entries/te1"),
        ("POST", f"{W}/reports/detailedX"),
        ("FETCH", f"{W}/time-entries"),
        ("", f"{W}/time-entries"),
    ],
)
def test_find_rejects_other_methods_and_paths(method, path):
    assert find(method, path) is None


def concrete(pattern: str) -> str:
    return re.sub(r"\{[^}]+\}", "p1", pattern)


@pytest.mark.parametrize("endpoint", CATALOGUE, ids=lambda e: f"{'/'.join(e.methods)} {e.pattern}")
def test_every_endpoint_is_found_as_itself(endpoint):
    # No endpoint is shadowed by an earlier, looser one.
    for method in endpoint.methods:
        assert find(method, concrete(endpoint.pattern)) is endpoint
        assert find(method, concrete(endpoint.pattern) + "/") is endpoint


@pytest.mark.parametrize("endpoint", CATALOGUE, ids=lambda e: f"{'/'.join(e.methods)} {e.pattern}")
def test_endpoint_rules_are_consistent(endpoint):
    assert endpoint.pattern.startswith("/v1/")
    if not (endpoint.body or endpoint.query or endpoint.form):
        # A rule-less entry exists only to keep a literal path (invoices/settings) away from a
        # placeholder pattern ({invoiceId}) that would otherwise take it.
        path = concrete(endpoint.pattern)
        assert any(o is not endpoint and (o.body or o.query) and o.regex.fullmatch(path) for o in CATALOGUE), endpoint
    for location in (endpoint.body, endpoint.query, endpoint.form):
        for field, kind in location.items():
            assert isinstance(kind, Kind)
            assert all(normalize.tokens(field)), field
    # A range's two fields are in the same location, and both are time values read the same way.
    for start, end in endpoint.ranges:
        homes = [loc for loc in (endpoint.body, endpoint.query, endpoint.form) if start in loc]
        assert homes and all(end in loc and loc[start] is loc[end] for loc in homes), (start, end)
        assert all(loc[start] in TIME_KINDS for loc in homes)
    if endpoint.zone_field is not None:
        *parent, _ = normalize.tokens(endpoint.zone_field)
        prefix = ".".join(parent)
        report_fields = [f for f, k in endpoint.body.items() if k is Kind.REPORT_RANGE]
        assert report_fields and all(f.rsplit(".", 1)[0] == prefix if prefix else "." not in f for f in report_fields)
    if endpoint.starts_timer:
        assert endpoint.body.get("start") is Kind.INSTANT and endpoint.body.get("end") is Kind.INSTANT


# -- the spec ------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def spec() -> dict:
    with SPEC.open(encoding="utf-8") as f:
        return YAML(typ="safe").load(f)


def test_vendored_spec_is_the_documented_file():
    data = SPEC.read_bytes()
    readme = (SPEC.parent / "README.md").read_text(encoding="utf-8")
    documented = re.search(r"sha256 `([0-9a-f]{64})`", readme).group(1)
    assert hashlib.sha256(data).hexdigest() == documented
    assert f"Size {len(data):,} bytes" in readme


def test_vendored_spec_matches_shared_copy():
    # Only where the shared reference data sits beside the repository; the sha256 test above
    # pins the vendored copy everywhere else.
    if SHARED_SPEC.exists():
        assert SHARED_SPEC.read_bytes() == SPEC.read_bytes()


_DATE_TIME_TEXT = re.compile(r"(?i)yyyy-mm-dd[t ]hh:mm")
_DATE_TIME_EXAMPLE = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
_DATE_TEXT = re.compile(r"(?i)\byyyy-mm-dd\b")
_DATE_EXAMPLE = re.compile(r"^\d{4}-\d\d-\d\d$")


def _resolve(schema, seen: frozenset):
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        if ref in seen:
            return None, seen
        seen = seen | {ref}
        node = spec()
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema, seen


def classify(schema: dict) -> str | None:
    """"date-time", "date" or None, from the schema's format, example and description."""
    fmt = schema.get("format")
    if fmt == "date-time":
        return "date-time"
    if fmt == "date":
        return "date"
    if schema.get("type", "string") != "string":
        return None
    example, text = schema.get("example"), str(schema.get("description") or "")
    if isinstance(example, datetime) or (isinstance(example, str) and _DATE_TIME_EXAMPLE.match(example)):
        return "date-time"
    if _DATE_TIME_TEXT.search(text):
        return "date-time"
    if isinstance(example, date) or (isinstance(example, str) and _DATE_EXAMPLE.match(example)):
        return "date"
    if _DATE_TEXT.search(text):
        return "date"
    return None


def join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def schema_fields(schema, prefix: str = "", seen: frozenset = frozenset()):
    """(field path in catalogue notation, "date-time" | "date") for every time field of a schema."""
    schema, seen = _resolve(schema, seen)
    if not isinstance(schema, dict):
        return
    found = classify(schema)
    if found and prefix:
        yield prefix, found
    for key in ("allOf", "oneOf", "anyOf"):
        for alternative in schema.get(key) or ():
            yield from schema_fields(alternative, prefix, seen)
    if "items" in schema:
        yield from schema_fields(schema["items"], prefix + "[]", seen)
    for name, sub in (schema.get("properties") or {}).items():
        yield from schema_fields(sub, join(prefix, name), seen)
    extra = schema.get("additionalProperties")
    if isinstance(extra, dict):
        yield from schema_fields(extra, join(prefix, "*"), seen)


def operations():
    """(METHOD, path, servers, operation, path item) for every operation in the spec."""
    root_servers = spec().get("servers") or []
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                servers = op.get("servers") or item.get("servers") or root_servers
                yield method.upper(), path, [s["url"] for s in servers], op, item


def is_reports(servers) -> bool:
    return any(urlsplit(url).hostname == REPORTS_HOST for url in servers)


@functools.lru_cache(maxsize=1)
def request_time_fields() -> tuple:
    """(method, path, location, field, "date-time" | "date", reports host?) for every request time field."""
    out = []
    for method, path, servers, op, item in operations():
        reports = is_reports(servers)
        for parameter in [*(item.get("parameters") or ()), *(op.get("parameters") or ())]:
            parameter, _ = _resolve(parameter, frozenset())
            if parameter["in"] != "query":
                continue
            schema, _ = _resolve(parameter.get("schema") or {}, frozenset())
            merged = {**{k: parameter[k] for k in ("example", "description") if k in parameter}, **schema}
            for field, what in schema_fields(merged, parameter["name"]):
                out.append((method, path, "query", field, what, reports))
        body, _ = _resolve(op.get("requestBody") or {}, frozenset())
        for content_type, media in (body.get("content") or {}).items():
            media_type = content_type.split(";")[0].strip().lower()
            if media_type == "application/json" or media_type.endswith("+json"):
                location = "body"
            elif media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                location = "form"
            else:
                raise AssertionError(f"{method} {path}: request content type {content_type} not handled by this test")
            for field, what in schema_fields(media.get("schema") or {}):
                out.append((method, path, location, field, what, reports))
    return tuple(dict.fromkeys(out))


def catalogue_kind(method: str, path: str, location: str, field: str) -> Kind | None:
    for endpoint in CATALOGUE:
        if method in endpoint.methods and endpoint.regex.match(path):
            kind = getattr(endpoint, location).get(field)
            if kind is not None:
                return kind
    return None


def test_spec_walk_finds_the_known_fields():
    # Guards the walker itself: a broken walk would make the coverage test pass vacuously.
    fields = {row[:5] for row in request_time_fields()}
    assert len(list(operations())) >= 150
    assert len(fields) >= 90
    for known in [
        ("POST", "/v1/workspaces/{workspaceId}/time-entries", "body", "start", "date-time"),
        ("PUT", "/v1/workspaces/{workspaceId}/user/{userId}/time-entries", "body", "[].end", "date-time"),
        ("GET", "/v1/workspaces/{workspaceId}/user/{userId}/time-entries", "query", "get-week-before", "date-time"),
        ("POST", "/v1/workspaces/{workspaceId}/projects", "body", "tasks[].costRate.since", "date-time"),
        ("POST", "/v1/workspaces/{workspaceId}/expenses", "form", "date", "date-time"),
        ("POST", "/v1/workspaces/{workspaceId}/holidays", "body", "datePeriod.startDate", "date"),
        ("GET", "/v1/workspaces/{workspaceId}/projects", "query", "expense-date", "date"),
        ("POST", "/v1/workspaces/{workspaceId}/shared-reports", "body", "filter.dateRangeStart", "date-time"),
        ("GET", "/v1/shared-reports/{id}", "query", "dateRangeEnd", "date-time"),
    ]:
        assert known in fields, known
    reports = {row[1] for row in request_time_fields() if row[5]}
    assert "/v1/workspaces/{workspaceId}/reports/detailed" in reports
    assert "/v1/workspaces/{workspaceId}/time-entries" not in reports


def test_every_request_time_field_of_the_spec_is_in_the_catalogue():
    missing, wrong, used = [], [], set()
    for method, path, location, field, what, _ in request_time_fields():
        if (location, field) in NOT_TIME_VALUES:
            used.add((location, field))
            continue
        kind = catalogue_kind(method, path, location, field)
        if kind is None:
            missing.append(f"{method} {path} {location} {field} ({what})")
        elif what == "date-time" and kind not in TIME_KINDS:
            wrong.append(f"{method} {path} {location} {field}: date-time in the spec, {kind.name} in the catalogue")
        elif what == "date" and kind is not Kind.DATE and (location, field) not in DATE_ALSO_DATE_TIME:
            wrong.append(f"{method} {path} {location} {field}: date-only in the spec, {kind.name} in the catalogue")
    assert not missing, "request time fields missing from catalogue.CATALOGUE:\n" + "\n".join(missing)
    assert not wrong, "request time fields with the wrong kind:\n" + "\n".join(wrong)
    assert used == set(NOT_TIME_VALUES), f"stale exclusions: {set(NOT_TIME_VALUES) - used}"


def test_report_host_fields_are_wall_clocks_and_core_fields_are_not():
    wrong = []
    for method, path, location, field, what, reports in request_time_fields():
        kind = catalogue_kind(method, path, location, field)
        if what != "date-time" or kind is None:
            continue
        if reports != (kind is Kind.REPORT_RANGE):
            host = "reports host" if reports else "core host"
            wrong.append(f"{method} {path} {location} {field}: {host}, {kind.name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("location, field", sorted(DATE_ALSO_DATE_TIME))
def test_date_also_date_time_fields_leave_dates_alone(location, field):
    rows = [r for r in request_time_fields() if (r[2], r[3]) == (location, field)]
    assert rows, "no such field in the spec: drop the entry"
    for method, path, *_ in rows:
        endpoint = find(method, concrete(path))
        kind = getattr(endpoint, location)[field]
        assert kind in (Kind.DATE, Kind.INSTANT_SECONDS)
        doc: object = "2021-12-23"
        for token in reversed(normalize.tokens(field)):
            doc = [doc] if token == "[]" else {token: doc}
        zone = normalize.Zone("Europe/Brussels", zones.zone("Europe/Brussels"), "test")
        plan = normalize.plan_fields(endpoint, location, getattr(endpoint, location), doc, zone,
                                     datetime(2024, 1, 1, tzinfo=timezone.utc))
        assert plan.edits == [] and plan.rejection is None and plan.notes == []


def _normal(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_no_spec_operation_gets_the_rules_of_another_path():
    wrong = []
    for method, path, *_ in operations():
        endpoint = find(method, concrete(path))
        if endpoint is not None and _normal(endpoint.pattern) != _normal(path):
            wrong.append(f"{method} {path} is read with the rules of {endpoint.pattern}")
    assert not wrong, "\n".join(wrong)


def test_catalogue_endpoints_exist_in_the_spec():
    described = {(method, _normal(path)) for method, path, *_ in operations()}
    unknown, used = [], set()
    for endpoint in CATALOGUE:
        for method in endpoint.methods:
            key = (method, _normal(endpoint.pattern))
            if key in NOT_IN_SPEC:
                used.add(key)
            elif key not in described:
                unknown.append(f"{method} {endpoint.pattern}")
    assert not unknown, "catalogue endpoints that Clockify's spec does not describe:\n" + "\n".join(unknown)
    assert used == set(NOT_IN_SPEC)


def test_catalogue_module_kinds():
    assert {k.value for k in Kind} == {
        "instant", "instant-seconds", "report-range", "calendar-day", "date", "time-of-day"
    }


def test_find_picks_the_first_matching_endpoint_of_the_catalogue():
    """The index behind find() gives what a scan of the whole catalogue, in order, gives."""

    def scan(method, path):
        return next((e for e in CATALOGUE if method in e.methods and e.regex.fullmatch(path)), None)

    paths = set()
    for endpoint in CATALOGUE:
        concrete = re.sub(r"\{[^}]+\}", "x1", endpoint.pattern)
        parent, _, last = concrete.rpartition("/")
        paths.update({concrete, concrete + "/", concrete + "//", parent, f"{parent}/status", f"{concrete}/x2",
                      concrete.replace("/v1/", "/v2/"), concrete.upper(), f"{parent}/{last}x"})
    paths.update({"", "/", "/v1", "/v1/"})
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "get"):
        for path in sorted(paths):
            assert find(method, path) is scan(method.upper(), path), (method, path)
