"""hosts: which traffic is Clockify's API, which service it is for, and where it must go."""

from __future__ import annotations

import functools
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from ruamel.yaml import YAML

from clockify_proxy import hosts
from clockify_proxy.hosts import (
    AUDIT_LOG,
    CORE,
    PTO,
    REPORTS,
    ApiCall,
    api_call,
    global_url,
    is_clockify_host,
    parse_upstream,
    upstream_url,
)

SPEC = Path(__file__).resolve().parents[1] / "data" / "clockify.official.openapi.yaml"
W = "/v1/workspaces/ws1"


# -- is_clockify_host ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "api.clockify.me",
        "reports.api.clockify.me",
        "pto.api.clockify.me",
        "auditlog-api.api.clockify.me",
        "euc1.clockify.me",
        "use2.clockify.me",
        "euw2.clockify.me",
        "apse2.clockify.me",
        "use2.api.clockify.me",
        "developer.clockify.me",
        "myteam.clockify.me",  # workspace subdomain
        "acme-corp.clockify.me",
        "API.Clockify.ME",
        "api.clockify.me.",
        "EUC1.CLOCKIFY.ME.",
    ],
)
def test_clockify_hosts(host):
    assert is_clockify_host(host) is True


@pytest.mark.parametrize(
    "host",
    [
        "clockify.me",
        "www.clockify.me",
        "app.clockify.me",
        "APP.clockify.me.",
        "docs.clockify.me",
        "status.clockify.me",
        "blog.clockify.me",
        "help.clockify.me",
        "marketplace.clockify.me",
        "clockify.me.",
        "evilclockify.me",
        "api.clockify.me.evil.example",
        "clockify.me.example.org",
        "api-clockify.me",
        "clockify.com",
        "example.org",
        "localhost",
        "127.0.0.1",
        "",
    ],
)
def test_not_clockify_hosts(host):
    assert is_clockify_host(host) is False


def test_extra_hosts():
    extra = frozenset({"clockify.example.org", "10.0.0.5"})
    assert is_clockify_host("clockify.example.org", extra)
    assert is_clockify_host("Clockify.Example.ORG.", extra)
    assert is_clockify_host("10.0.0.5", extra)
    assert not is_clockify_host("other.example.org", extra)
    assert not is_clockify_host("sub.clockify.example.org", extra)
    assert not is_clockify_host("clockify.example.org")
    # Extra hosts add to the built-in ones; they never remove any or re-admit UI hosts.
    assert is_clockify_host("api.clockify.me", extra)
    assert not is_clockify_host("app.clockify.me", extra)


@pytest.mark.parametrize(
    "host, valid",
    [
        ("clockify.example.org", True),
        ("Clockify.Example.org.", True),
        ("localhost", True),
        ("a-b.example", True),
        ("10.0.0.5", True),
        ("x" * 63 + ".example", True),
        ("x" * 64 + ".example", False),
        (".".join(["a" * 63] * 4), False),  # 255 characters
        ("", False),
        ("-a.example", False),
        ("a-.example", False),
        ("a..example", False),
        ("a b.example", False),
        ("a_b.example", False),
        ("http://a.example", False),
        ("a.example/path", False),
        ("a.example:443", False),
    ],
)
def test_valid_host_name(host, valid):
    assert hosts.valid_host_name(host) is valid


# -- api_call ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host, path, expected",
    [
        # Global hosts: one service each; core keeps its /api prefix.
        ("api.clockify.me", f"/api{W}/time-entries?page=2",
         ApiCall(CORE, f"{W}/time-entries", f"{W}/time-entries?page=2")),
        ("api.clockify.me", f"{W}/time-entries", ApiCall(CORE, f"{W}/time-entries", f"{W}/time-entries")),
        ("reports.api.clockify.me", f"{W}/reports/detailed",
         ApiCall(REPORTS, f"{W}/reports/detailed", f"{W}/reports/detailed")),
        ("Reports.API.clockify.me.", "/v1/shared-reports/r1?exportType=JSON",
         ApiCall(REPORTS, "/v1/shared-reports/r1", "/v1/shared-reports/r1?exportType=JSON")),
        ("pto.api.clockify.me", f"{W}/policies?status=ALL", ApiCall(PTO, f"{W}/policies", f"{W}/policies?status=ALL")),
        ("auditlog-api.api.clockify.me", f"{W}/audit-log", ApiCall(AUDIT_LOG, f"{W}/audit-log", f"{W}/audit-log")),
        # Regional, developer and subdomain hosts: every service on one host, by prefix.
        ("euc1.clockify.me", f"/api{W}/time-entries", ApiCall(CORE, f"{W}/time-entries", f"{W}/time-entries")),
        ("use2.clockify.me", f"/report{W}/reports/summary",
         ApiCall(REPORTS, f"{W}/reports/summary", f"{W}/reports/summary")),
        ("use2.api.clockify.me", f"/pto{W}/requests", ApiCall(PTO, f"{W}/requests", f"{W}/requests")),
        ("developer.clockify.me", f"/report{W}/reports/weekly?x=1",
         ApiCall(REPORTS, f"{W}/reports/weekly", f"{W}/reports/weekly?x=1")),
        ("myteam.clockify.me", f"/api{W}/projects", ApiCall(CORE, f"{W}/projects", f"{W}/projects")),
        # Self-hosted: /api and /reports.
        ("clockify.example.org", f"/reports{W}/reports/detailed",
         ApiCall(REPORTS, f"{W}/reports/detailed", f"{W}/reports/detailed")),
        ("clockify.example.org", f"/api{W}/user", ApiCall(CORE, f"{W}/user", f"{W}/user")),
        # The proxy's own prefix for the audit log on single-host layouts.
        ("127.0.0.1", f"/auditlog{W}/audit-log", ApiCall(AUDIT_LOG, f"{W}/audit-log", f"{W}/audit-log")),
    ],
)
def test_api_call_by_host_layout(host, path, expected):
    assert api_call(host, path, known_host=True) == expected


@pytest.mark.parametrize(
    "path, service",
    [
        (f"{W}/time-entries", CORE),
        (f"{W}/reports/detailed", REPORTS),
        (f"{W}/shared-reports", REPORTS),
        ("/v1/shared-reports/r1", REPORTS),
        (f"{W}/audit-log", AUDIT_LOG),
    ],
)
def test_api_call_without_prefix_on_a_single_host(path, service):
    # Reverse mode to a regional or self-hosted target that was given without prefix.
    assert api_call("euc1.clockify.me", path, known_host=True) == ApiCall(service, path, path)


@pytest.mark.parametrize(
    "host, path, known",
    [
        ("euc1.clockify.me", "/", True),
        ("euc1.clockify.me", "/web/boot", True),
        ("euc1.clockify.me", "/v1", True),
        ("euc1.clockify.me", "/apiv1/x", True),
        ("euc1.clockify.me", "/api", True),
        ("euc1.clockify.me", "/reporting/v1/x", True),
        ("example.org", f"{W}/time-entries", False),  # /v1 alone is not enough on an unknown host
        ("app.clockify.me", f"{W}/time-entries", False),
    ],
)
def test_api_call_none(host, path, known):
    assert api_call(host, path, known_host=known) is None


def test_api_call_on_global_host_needs_no_flag():
    assert api_call("reports.api.clockify.me", f"{W}/reports/detailed", known_host=False) == ApiCall(
        REPORTS, f"{W}/reports/detailed", f"{W}/reports/detailed"
    )


# -- where calls go --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, scheme, url",
    [
        (ApiCall(CORE, f"{W}/time-entries", f"{W}/time-entries?a=1"), "https",
         f"https://api.clockify.me/api{W}/time-entries?a=1"),
        (ApiCall(REPORTS, f"{W}/reports/detailed", f"{W}/reports/detailed"), "https",
         f"https://reports.api.clockify.me{W}/reports/detailed"),
        (ApiCall(PTO, f"{W}/policies", f"{W}/policies"), "https", f"https://pto.api.clockify.me{W}/policies"),
        (ApiCall(AUDIT_LOG, f"{W}/audit-log", f"{W}/audit-log"), "http",
         f"http://auditlog-api.api.clockify.me{W}/audit-log"),
    ],
)
def test_global_url(call, scheme, url):
    assert global_url(call, scheme) == url


def test_global_url_default_scheme_and_round_trip():
    for host, path in [("euc1.clockify.me", f"/report{W}/reports/summary?x=1"), ("myteam.clockify.me", f"/api{W}/user")]:
        call = api_call(host, path, known_host=True)
        url = global_url(call)
        parts = urlsplit(url)
        assert parts.scheme == "https"
        again = api_call(parts.hostname, url[len(f"https://{parts.hostname}"):], known_host=False)
        assert again == call


@pytest.mark.parametrize(
    "base, call, url",
    [
        ("http://127.0.0.1:9000", ApiCall(CORE, f"{W}/user", f"{W}/user?x=1"), f"http://127.0.0.1:9000/api{W}/user?x=1"),
        ("http://127.0.0.1:9000/", ApiCall(REPORTS, f"{W}/reports/detailed", f"{W}/reports/detailed"),
         f"http://127.0.0.1:9000/report{W}/reports/detailed"),
        ("https://mock.example/base/", ApiCall(PTO, f"{W}/policies", f"{W}/policies"),
         f"https://mock.example/base/pto{W}/policies"),
        ("http://[::1]:9000", ApiCall(AUDIT_LOG, f"{W}/audit-log", f"{W}/audit-log"),
         f"http://[::1]:9000/auditlog{W}/audit-log"),
    ],
)
def test_upstream_url(base, call, url):
    assert upstream_url(base, call) == url
    # What the upstream receives is located again as the same call.
    parts = urlsplit(url)
    prefix = urlsplit(base).path.rstrip("/")
    assert api_call(parts.hostname, url.split(parts.netloc, 1)[1][len(prefix):], known_host=True) == call


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
        ("https://mock.example/base/", "https://mock.example/base"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("http://localhost", "http://localhost"),
    ],
)
def test_parse_upstream_accepts(url, expected):
    assert parse_upstream(url) == expected


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ftp://mock.example", "http"),
        ("127.0.0.1:9000", "http"),
        ("localhost:9000", "http"),
        ("mock.example", "http"),
        ("", "http"),
        ("http://", "no host"),
        ("https:///path", "no host"),
        ("http://mock.example:99999", "port"),
        ("http://mock.example:abc", "port"),
        ("http://user:pw@mock.example", "plain base URL"),
        ("http://user@mock.example", "plain base URL"),
        ("http://mock.example/?x=1", "plain base URL"),
        ("http://mock.example/#frag", "plain base URL"),
        ("http://mock.example/?", "plain base URL"),  # an empty query still swallows every path
        ("http://mock.example/#", "plain base URL"),
    ],
)
def test_parse_upstream_rejects(url, reason):
    with pytest.raises(ValueError) as raised:
        parse_upstream(url)
    assert reason in str(raised.value)


# -- Clockify's own description: which host serves each operation ---------------------------------------


@functools.lru_cache(maxsize=1)
def spec_operations() -> tuple:
    with SPEC.open(encoding="utf-8") as f:
        doc = YAML(typ="safe").load(f)
    out = []
    for path, item in doc["paths"].items():
        for method in ("get", "put", "post", "delete", "patch"):
            if method in item:
                servers = item[method].get("servers") or item.get("servers") or doc.get("servers")
                out.append((method.upper(), path, servers[0]["url"]))
    return tuple(out)


def test_every_spec_operation_is_located_on_every_layout():
    wrong = []
    ops = spec_operations()
    assert len(ops) >= 150
    for method, path, server in ops:
        server_parts = urlsplit(server)
        service = REPORTS if server_parts.hostname == "reports.api.clockify.me" else CORE
        expected = ApiCall(service, path, path + "?page=1")
        layouts = {
            "global": (server_parts.hostname, server_parts.path + path + "?page=1", False),
            "regional": ("euc1.clockify.me", hosts.SERVICE_PREFIX[service] + path + "?page=1", True),
            "reverse, no prefix": ("clockify.example.org", path + "?page=1", True),
        }
        for layout, (host, request_path, known) in layouts.items():
            got = api_call(host, request_path, known_host=known)
            if got != expected:
                wrong.append(f"{layout}: {method} {host}{request_path} -> {got}")
        # Sent back to Clockify's global hosts, it lands on the server the spec names.
        if global_url(expected) != server + path + "?page=1":
            wrong.append(f"{method} {path}: global_url {global_url(expected)}")
    assert not wrong, "\n".join(wrong)
