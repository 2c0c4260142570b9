"""Which traffic is Clockify's API, which service it is for, and where it must go.

Sources: ../shared/clockify/api-facts.md sections 1.1 and 7.1.
"""

from __future__ import annotations

import re
from typing import NamedTuple
from urllib.parse import urlsplit

CORE, REPORTS, PTO, AUDIT_LOG = "core", "reports", "pto", "auditlog"

# The global hosts each serve one service, with paths starting at /v1 (core: /api/v1).
GLOBAL_HOSTS = {
    "api.clockify.me": CORE,
    "reports.api.clockify.me": REPORTS,
    "pto.api.clockify.me": PTO,
    "auditlog-api.api.clockify.me": AUDIT_LOG,
}
SERVICE_HOST = {service: host for host, service in GLOBAL_HOSTS.items()}

# Path prefixes of the regional, developer, subdomain and self-hosted layout (one host, every
# service). `/reports` is the self-hosted form, `/auditlog` this proxy's own for the audit log.
PREFIXES = {"/api": CORE, "/report": REPORTS, "/reports": REPORTS, "/pto": PTO, "/auditlog": AUDIT_LOG}
SERVICE_PREFIX = {CORE: "/api", REPORTS: "/report", PTO: "/pto", AUDIT_LOG: "/auditlog"}

# clockify.me names that serve the web app, docs or marketing, not the API.
UI_HOSTS = frozenset(
    {"clockify.me", "www.clockify.me", "app.clockify.me", "docs.clockify.me", "status.clockify.me",
     "blog.clockify.me", "help.clockify.me", "marketplace.clockify.me"}
)

_HOST_NAME = re.compile(r"(?=.{1,253}\Z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def normal_host(host: str) -> str:
    return host.lower().rstrip(".")


def valid_host_name(host: str) -> bool:
    return bool(_HOST_NAME.fullmatch(normal_host(host)))


def is_clockify_host(host: str, extra: frozenset[str] = frozenset()) -> bool:
    host = normal_host(host)
    if host in GLOBAL_HOSTS or host in extra:
        return True
    return host.endswith(".clockify.me") and host not in UI_HOSTS


class ApiCall(NamedTuple):
    """A request to Clockify's API, located independently of the host that carries it."""

    service: str
    api_path: str  # from /v1 on, without the query: what the catalogue matches
    rest: str  # path and query after the service prefix, e.g. "/v1/workspaces/1/time-entries?x=1"


def api_call(host: str, path: str, *, known_host: bool) -> ApiCall | None:
    """Locate a request. `known_host`: the host is a Clockify host (or the reverse-mode target)."""
    path_only = path.split("?", 1)[0]
    host = normal_host(host)
    for prefix, service in PREFIXES.items():
        if path_only.startswith(prefix + "/"):
            rest = path[len(prefix):]
            return ApiCall(service, path_only[len(prefix):], rest)
    if path_only.startswith("/v1/") and (known_host or host in GLOBAL_HOSTS):
        service = GLOBAL_HOSTS.get(host) or _service_from_path(path_only)
        return ApiCall(service, path_only, path)
    return None


def _service_from_path(path: str) -> str:
    if "/reports/" in path or "/shared-reports" in path:
        return REPORTS
    if path.endswith("/audit-log"):
        return AUDIT_LOG
    return CORE


REPORTS_PATH = re.compile(r"^/v1/(workspaces/[^/]+/(reports|shared-reports)(/|$)|shared-reports/)")
# Legacy time-off host paths whose current place on the core host is the same path under
# /time-off (api-facts 1.1). Anything else on that host is left alone.
_PTO_PATH = re.compile(r"^/v1/workspaces/([^/]+)/(policies(/.*)?|balance/(policy|user)/[^/]+|requests)$")


def corrected(call: ApiCall) -> ApiCall | None:
    """The call where it belongs, when it was sent to the wrong service; None when it is right."""
    _, _, query = call.rest.partition("?")
    query = f"?{query}" if query else ""
    if call.service == CORE and REPORTS_PATH.match(call.api_path):
        return ApiCall(REPORTS, call.api_path, call.rest)
    if call.service == PTO:
        m = _PTO_PATH.match(call.api_path)
        if m:
            api_path = f"/v1/workspaces/{m.group(1)}/time-off/{m.group(2)}"
            return ApiCall(CORE, api_path, api_path + query)
    return None


def same_region_url(host: str, call: ApiCall, scheme: str = "https") -> str | None:
    """Where a call goes in the region of `host`; None for hosts whose layout is not known."""
    host = normal_host(host)
    if host in GLOBAL_HOSTS:
        return global_url(call, scheme)
    if not host.endswith(".clockify.me"):
        return None
    first, _, rest = host.partition(".")
    if rest == "api.clockify.me":  # regional service hosts (use2.api.clockify.me/pto/v1)
        host = f"{first}.clockify.me"
    return f"{scheme}://{host}{SERVICE_PREFIX[call.service]}{call.rest}"


def global_url(call: ApiCall, scheme: str = "https") -> str:
    """Where a call goes on Clockify's global hosts: each service on its own host."""
    if call.service == CORE:
        return f"{scheme}://{SERVICE_HOST[CORE]}/api{call.rest}"
    return f"{scheme}://{SERVICE_HOST[call.service]}{call.rest}"


def upstream_url(base: str, call: ApiCall) -> str:
    """Where a call goes on a single-host upstream, in the regional layout (/api/v1, /report/v1, ...)."""
    return base.rstrip("/") + SERVICE_PREFIX[call.service] + call.rest


def parse_upstream(url: str) -> str:
    """Validate a `clockify_upstream` base URL; raise ValueError with the reason."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    try:
        parts.port  # noqa: B018 - reading it validates it
    except ValueError:
        raise ValueError(f"{url!r} has an invalid port") from None
    if "?" in url or "#" in url or parts.username or parts.password:
        raise ValueError(f"{url!r} must be a plain base URL (no query, fragment or credentials)")
    return url.rstrip("/")
