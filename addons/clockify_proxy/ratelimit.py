"""Keep each workspace and key under Clockify's rate, and retry 429s where that is safe.

Clockify answers 429 past 50 requests per second (documented per add-on and workspace; bulk
scripts with personal keys hit it too). Holding a request briefly costs less than a failure.

- Each (workspace, credential) pair has its own schedule: a request takes the next free slot,
  in arrival order, so concurrent clients get fair turns. A request whose slot is further away
  than clockify_rate_max_wait is sent at once rather than held longer (and flagged).
- A 429 to an idempotent request (GET, HEAD, PUT, DELETE, OPTIONS; never POST or PATCH) is
  retried after Retry-After, or a doubling backoff, up to clockify_rate_retries times.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

from mitmproxy import http

from . import credentials, events, resend
from .events import API_PATH, is_clockify_flow
from .settings import ClockifySettings

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
FIRST_BACKOFF_SECONDS = 0.5
_WORKSPACE = re.compile(r"^/v1/workspaces/([^/]+)")


def bucket_key(flow: http.HTTPFlow) -> str:
    """Workspace and credential of a request; the credential only as a hash (never kept in clear)."""
    m = _WORKSPACE.match(flow.metadata.get(API_PATH, ""))
    workspace = m.group(1) if m else "-"
    credential = next((flow.request.headers[h] for h in credentials.TOKEN_HEADERS if h in flow.request.headers), "")
    return f"{workspace}:{hashlib.sha256(credential.encode()).hexdigest()[:16]}"


def retry_delay(retry_after: str | None, attempt: int, cap: float) -> float:
    """Seconds to wait before retry number `attempt` (1-based): Retry-After when it is seconds."""
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after.strip()), cap)
    return min(FIRST_BACKOFF_SECONDS * 2 ** (attempt - 1), cap)


@dataclass
class Schedule:
    """Slots of 1/rate seconds, handed out in arrival order."""

    next_free: float = 0.0
    last_used: float = field(default_factory=time.monotonic)

    def reserve(self, now: float, interval: float, max_wait: float) -> float | None:
        """Seconds to wait for a slot; None when that is more than `max_wait` (no slot taken)."""
        slot = max(now, self.next_free)
        if slot - now > max_wait:
            return None
        self.next_free = slot + interval
        self.last_used = now
        return slot - now


class ClockifyRateLimit:
    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings
        self.schedules: dict[str, Schedule] = {}

    def _schedule(self, key: str, now: float) -> Schedule:
        if len(self.schedules) > 10_000:  # forget idle pairs so memory stays flat
            self.schedules = {k: s for k, s in self.schedules.items() if now - s.last_used < 60}
        return self.schedules.setdefault(key, Schedule(now))

    # Both hooks return something to await only when there is a wait: mitmproxy (and ClockifyProxy)
    # await what a hook returns, and most requests should not pay for a coroutine.

    def request(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        settings = self.settings.current
        if flow.response or flow.error or not flow.live or not is_clockify_flow(flow) or not settings.rate_limit:
            return None
        now = time.monotonic()
        wait = self._schedule(bucket_key(flow), now).reserve(now, 1 / settings.rate_limit, settings.rate_max_wait)
        if wait is None:
            events.record(flow, events.WARNINGS, "rate-limit-wait-exceeded")
            events.record(flow, events.NOTES, f"sent without waiting: the next free slot was more than {settings.rate_max_wait:g} s away")
        elif wait > 0:
            return asyncio.sleep(wait)
        return None

    def response(self, flow: http.HTTPFlow) -> Awaitable[None] | None:
        if not is_clockify_flow(flow) or flow.response is None or flow.response.status_code != 429:
            return None
        if flow.request.method.upper() not in IDEMPOTENT or flow.request.raw_content is None:
            return None
        return self._retry(flow)

    async def _retry(self, flow: http.HTTPFlow) -> None:
        settings = self.settings.current
        for attempt in range(1, settings.rate_retries + 1):
            await asyncio.sleep(retry_delay(flow.response.headers.get("retry-after"), attempt, settings.rate_max_wait))
            try:
                answer = await resend.resend(flow, settings)
            except (OSError, ValueError) as e:
                events.record(flow, events.NOTES, f"retry {attempt} after 429 failed: {e.__class__.__name__}")
                return
            flow.response = answer
            flow.response.headers[resend.RETRIED_HEADER] = f"429 x{attempt}"
            if answer.status_code != 429:
                return
