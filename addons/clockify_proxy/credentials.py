"""Which API key goes where, and what the credential headers of a request must become.

Pure. Sources: ../shared/clockify/api-facts.md sections 1.2 and 7.2: exactly one of X-Api-Key or
X-Addon-Token; Authorization: Bearer is not accepted; keys are bound to a region (and a key made
for a workspace subdomain works only there).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from . import hosts

REGIONS = ("euc1", "use2", "euw2", "apse2")
GLOBAL, DEVELOPER, DEFAULT = "global", "developer", "default"
SCOPES_HELP = f"{GLOBAL}, {', '.join(REGIONS)}, {DEVELOPER} or a host name"
KEY_MODES = ("add", "replace", "off")
CURRENT_KEY_LENGTH = 48

TOKEN_HEADERS = ("x-api-key", "x-addon-token")  # a request must carry exactly one of them
CREDENTIAL_HEADERS = (*TOKEN_HEADERS, "authorization")
# Headers whose values are secret: masked in support records, and wherever a log event names them.
SECRET_HEADERS = (*CREDENTIAL_HEADERS, "proxy-authorization", "cookie", "x-marketplace-token")

_KEY = re.compile(r"[\x21-\x7e]+")  # visible ASCII: anything else would break or split the header


class BadKey(ValueError):
    """A configured key is unusable. The message never contains the key."""


def masked(key: str) -> str:
    """How a key is named anywhere it must be named: its last four characters."""
    return f"...{key[-4:]}" if len(key) >= 12 else "***"


def check_key(key: str, where: str) -> str:
    key = key.strip()
    if not key:
        raise BadKey(f"{where} is empty")
    if not _KEY.fullmatch(key):
        raise BadKey(f"{where}: the key {masked(key)} contains spaces or characters that cannot go in a header")
    return key


def region_of(host: str) -> str:
    """The key scope a Clockify host belongs to: global, a region, developer, or the host itself."""
    host = hosts.normal_host(host)
    if host in hosts.GLOBAL_HOSTS:
        return GLOBAL
    first, _, rest = host.partition(".")
    if first in REGIONS and rest in ("clockify.me", "api.clockify.me"):
        return first
    if host == "developer.clockify.me":
        return DEVELOPER
    return host


@dataclass(frozen=True)
class KeyRing:
    """The configured keys by scope (a region, `global`, `developer`, a host) plus a default."""

    by_scope: Mapping[str, str]

    def scope_for(self, host: str) -> str | None:
        """The scope whose key a host gets: the host itself, else its region, else the default."""
        host = hosts.normal_host(host)
        return next((scope for scope in (host, region_of(host), DEFAULT) if scope in self.by_scope), None)

    def key_for(self, host: str) -> str | None:
        scope = self.scope_for(host)
        return self.by_scope[scope] if scope else None

    def __bool__(self) -> bool:
        return bool(self.by_scope)

    def describe(self) -> str:
        return ", ".join(f"{scope}={masked(key)}" for scope, key in sorted(self.by_scope.items())) or "none"


def parse_scoped(entries: Iterable[str], where: str) -> dict[str, str]:
    """`scope=key` entries (as in clockify_api_keys or a key file); a bare key is the default."""
    found: dict[str, str] = {}
    for entry in entries:
        entry = entry.strip()
        if not entry or entry.startswith("#"):
            continue
        scope, sep, key = entry.partition("=")
        if not sep:
            scope, key = DEFAULT, entry
        scope = hosts.normal_host(scope.strip())
        if scope not in (DEFAULT, GLOBAL, DEVELOPER, *REGIONS) and not ("." in scope and hosts.valid_host_name(scope)):
            raise BadKey(f"{where}: {scope!r} is not a key scope ({SCOPES_HELP})")
        if scope in found:
            raise BadKey(f"{where}: two keys for {scope}")
        found[scope] = check_key(key, f"{where} ({scope})")
    return found


def parse_key_file(text: str, where: str) -> dict[str, str]:
    """A key file holds one key, or `scope=key` lines (Docker and Kubernetes secrets are files)."""
    lines = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if not lines:
        raise BadKey(f"{where} is empty")
    if len(lines) == 1 and "=" not in lines[0]:
        return {DEFAULT: check_key(lines[0], where)}
    return parse_scoped(lines, where)


def is_loopback(host: str) -> bool:
    if hosts.normal_host(host) == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class HeaderPlan:
    """What to do with a request's credential headers."""

    add_key: bool = False
    remove: tuple[str, ...] = ()  # header names to drop
    reason: str = ""  # for the log and the X-Clockify-Proxy-Fixed label


def is_bearer(present: Mapping[str, str]) -> bool:
    return present.get("authorization", "").lower().startswith("bearer ")


def kinds_sent(present: Mapping[str, str]) -> list[str]:
    """The credentials among `present`, as diagnoses name them: x-api-key, x-addon-token, bearer."""
    return [name for name in TOKEN_HEADERS if name in present] + (["bearer"] if is_bearer(present) else [])


def plan_headers(present: Mapping[str, str], mode: str) -> HeaderPlan:
    """`present`: the request's credential headers by lower-case name (CREDENTIAL_HEADERS)."""
    if mode == "off":
        return HeaderPlan()
    bearer = is_bearer(present)
    api_key, addon_token = "x-api-key" in present, "x-addon-token" in present
    if mode == "replace":
        remove = tuple(n for n in TOKEN_HEADERS if n in present) + (("authorization",) if bearer else ())
        return HeaderPlan(True, remove, "replaced the client's credential" if remove else "added")
    if api_key or addon_token:
        return HeaderPlan()
    if bearer:
        return HeaderPlan(True, ("authorization",), "replaced Authorization: Bearer, which Clockify does not accept")
    return HeaderPlan(True, (), "added")
