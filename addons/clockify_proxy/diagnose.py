"""What a failing Clockify response means and what to do about it.

Pure rules, in the terms of Clockify's troubleshooting guide (../shared/README.md) and the real
error bodies of ../shared/clockify/api-facts.md section 2. They use what the proxy knows of the
request as it left, not only the response.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .hosts import REPORTS_PATH

REGENERATE = "Regenerate a key if in doubt: Profile picture > Preferences > Advanced > Generate."


@dataclass(frozen=True)
class Facts:
    status: int
    body: bytes = b""
    method: str = "GET"
    api_path: str = ""
    service: str = "core"
    host: str = "api.clockify.me"  # the Clockify host the request was meant for
    region: str = "global"  # that host's key scope
    sent: frozenset[str] = frozenset()  # credentials as sent: "x-api-key", "x-addon-token", "bearer"
    key: str | None = None  # the configured key for that host, masked (last four)
    key_scope: str | None = None  # the scope that key was configured for
    key_injected: bool = False
    changes: tuple = ()  # time fields the proxy rewrote: ({"field", "before", "after"}, ...)
    amount_shown: str | None = None  # a report's amountShown as sent
    retry_after: str | None = None
    from_proxy: str | None = None  # "unreachable" or "timeout" when the proxy made the response


@dataclass(frozen=True)
class Diagnosis:
    slug: str
    hint: str
    code: int | None = None  # Clockify's code from the body
    message: str | None = None
    extra: dict = field(default_factory=dict)


def error_body(body: bytes) -> tuple[int | None, str]:
    """Clockify's `code` and `message`, when the body is its JSON envelope."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None, ""
    if not isinstance(data, dict):
        return None, ""
    code = data.get("code")
    message = data.get("message")
    return (code if isinstance(code, int) and not isinstance(code, bool) else None), (
        message if isinstance(message, str) else ""
    )


def diagnose(f: Facts) -> Diagnosis:
    code, message = error_body(f.body)
    slug, hint = _rule(f, code, message)
    hint = re.sub(r"[^\x20-\x7e]", "?", hint)
    return Diagnosis(slug, hint, code, message or None)


def _credentials_hint(f: Facts) -> str:
    if f.key:
        return f"clockify-proxy has key {f.key} for {f.host}"
    return "no key is configured in clockify-proxy (set CLOCKIFY_API_KEY or clockify_api_key_file)"


def _rule(f: Facts, code: int | None, message: str) -> tuple[str, str]:
    status, lower = f.status, message.lower()
    if f.from_proxy == "timeout":
        return "upstream-timeout", f"{f.host} did not answer in time. Retry later; check the network or clockify_upstream."
    if f.from_proxy == "unreachable":
        return "upstream-unreachable", (
            f"clockify-proxy could not reach {f.host}. Check the network, DNS and firewall, or clockify_upstream."
        )
    if code == 1000 or (status in (401, 403) and "full authentication" in lower) or "required token or api key" in lower:
        return _missing_credentials(f)
    if status == 400 and code == 501 and "is greater than end datetime" in message:
        return "start-after-end", _start_after_end(f, message)
    if code == 4003 or "api key does not exist" in lower:
        return "unknown-api-key", _unknown_key(f)
    if code == 4017 or "token is not valid" in lower:
        return "invalid-addon-token", (
            "Clockify rejected the X-Addon-Token: it is invalid or expired. Use the token of the current "
            "installation (add-on tokens are per workspace), or send X-Api-Key instead."
        )
    if status == 401:
        return "unauthorized", (
            f"Authentication failed: send the key as the header X-Api-Key; {_credentials_hint(f)}. Check that "
            f"the key's user can use this endpoint and that the plan has the feature. {REGENERATE}"
        )
    if status == 403:
        if f.service == "reports" and (f.amount_shown or "").upper() != "HIDE_AMOUNT":
            return "amounts-forbidden", (
                'This report asks for amounts the user may not see (project or team manager role). Send '
                '"amountShown": "HIDE_AMOUNT", or ask an admin for access to amounts.'
            )
        return "forbidden", (
            "The request is understood but not allowed: check the user's role and permissions in this "
            "workspace (project or team managers are limited), the workspace plan (e.g. adding time for "
            f"others is a paid feature) and that the key belongs to this workspace. {REGENERATE}"
        )
    if status == 400:
        return _bad_request(message)
    if status == 404 and (code == 404 or "currently running time entry" in lower):
        return "no-running-timer", "There is no running timer to stop for this user. Start one first, or list the entries."
    if status in (404, 405) and (code == 3000 or "no static resource" in lower or "not supported" in lower):
        return ("no-such-route" if status == 404 else "method-not-allowed"), _route_hint(f, status)
    if status == 404:
        return "not-found", "Nothing was found: check the ids in the path (workspace, user, project, entry) and that they belong to this workspace."
    if status == 405:
        return "method-not-allowed", _route_hint(f, status)
    if status == 429:
        wait = f" Clockify asks to wait {f.retry_after} s (Retry-After)." if f.retry_after else ""
        return "rate-limited", (
            "Too many requests: Clockify allows 50 requests per second per add-on and workspace. Slow down "
            f"and retry with backoff.{wait}"
        )
    if status >= 500:
        return "server-error", (
            f"Clockify failed ({status}). Retry later, and only idempotent requests (GET, PUT, DELETE) "
            "automatically; if it persists, send support the request, the response and your workspace role."
        )
    return "client-error", f"Clockify refused the request ({status}). Check the endpoint, the body and the headers."


def _missing_credentials(f: Facts) -> tuple[str, str]:
    if {"x-api-key", "x-addon-token"} <= f.sent:
        return "two-credentials", (
            "The request carried both X-Api-Key and X-Addon-Token; Clockify accepts exactly one. Drop one of them."
        )
    if "bearer" in f.sent and not f.sent & {"x-api-key", "x-addon-token"}:
        return "bearer-not-supported", (
            f"Clockify does not accept Authorization: Bearer. Send the key as the header X-Api-Key; {_credentials_hint(f)}."
        )
    return "missing-credentials", (
        f"No credential reached Clockify: add the header X-Api-Key: <key>; {_credentials_hint(f)}. {REGENERATE}"
    )


def _unknown_key(f: Facts) -> str:
    which = f"key {f.key}" if f.key_injected and f.key else "the X-Api-Key sent"
    region = ""
    if f.key_injected and f.key_scope and f.key_scope not in (f.region, f.host):
        region = (
            f" Keys are region-bound: this key was configured for {f.key_scope} and was sent to {f.host} "
            f"(region {f.region}); configure the key of that region (clockify_api_keys {f.region}=KEY)."
        )
    elif not f.key_injected:
        region = f" Keys are region-bound: a key works only on the hosts of the region (and workspace subdomain) it was made for; this request went to {f.host}."
    return f"Clockify does not know {which}.{region} {REGENERATE}"


def _start_after_end(f: Facts, message: str) -> str:
    rewrites = [c for c in f.changes if c.get("before") and c["field"] != "X-Api-Key"]
    sent = "; ".join(f"{c['field']} sent as {c['before']}, forwarded as {c['after']}" for c in rewrites)
    context = f" clockify-proxy rewrote: {sent}." if sent else ""
    return (
        f"Clockify read the start after the end ({message.strip()}).{context} The API works in UTC: send "
        "start and end as YYYY-MM-DDTHH:MM:SSZ, or with their UTC offset, and check the zone of whatever "
        "generates the times (naive times are read in clockify_timezone)."
    )


def _bad_request(message: str) -> tuple[str, str]:
    lower = message.lower()
    rules = (
        ("exactly 7 days", "weekly-range-not-7-days", "A weekly report needs a date range of exactly 7 days."),
        ("invalid date format", "invalid-date-format",
         "Clockify could not read a date: send YYYY-MM-DDTHH:MM:SSZ without fractions of a second (time-off hour periods reject .000Z)."),
        ("invalid value for field", "invalid-field-value", "A field is empty or not in the expected form: see the message; times must be YYYY-MM-DDTHH:MM:SSZ."),
        ("more than 999 hours", "duration-too-long", "A time entry cannot last more than 999 hours: check start and end."),
        ("project is either required", "project-required",
         "The workspace requires a project on time entries (or the project is archived): send a projectId of an active project."),
        ("doesn't belong to", "wrong-id", "An id in the request belongs to another workspace or project: check the ids."),
        ("required request body is missing", "missing-body", "The endpoint needs a JSON body with Content-Type: application/json."),
        ("required request parameter", "missing-parameter", "A required query parameter is missing: see the message."),
        ("failed to convert value", "bad-parameter", "A query parameter has the wrong type: see the message."),
    )
    for needle, slug, hint in rules:
        if needle in lower:
            return slug, hint
    return "bad-request", "Clockify could not accept the request: check the endpoint, the JSON body, Content-Type: application/json and the time fields (UTC)."


def _route_hint(f: Facts, status: int) -> str:
    what = "No such route" if status == 404 else "This method is not allowed here"
    where = ""
    if f.service != "reports" and REPORTS_PATH.match(f.api_path):
        where = " Reports live on reports.api.clockify.me/v1 (regional: <region>.clockify.me/report/v1), not on the core host."
    elif f.service == "core" and f.host == "reports.api.clockify.me" and not REPORTS_PATH.match(f.api_path):
        where = " Core endpoints live on api.clockify.me/api/v1, not on the reports host."
    elif f.service == "pto":
        where = " The legacy time-off host is retired: time off is now under api.clockify.me/api/v1/workspaces/{id}/time-off/."
    return (
        f"{what} ({f.method} {f.api_path or '?'} on {f.host}).{where} Check the path, the HTTP method, the host "
        "and the region (euc1, use2, euw2, apse2), and that no id in the path is empty."
    )
