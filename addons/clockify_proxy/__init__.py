"""clockify-proxy: mitmproxy addons that fix Clockify API requests on the fly."""

from __future__ import annotations


class ClockifyProxy:
    """All of clockify-proxy as one addon: mitmproxy dispatches each event once per top-level addon,
    so children are cheaper than ten separate addons (see BENCHMARKS.md)."""

    def __init__(self) -> None:
        self.addons = make_addons()


def make_addons() -> list:
    """The addons, in the order their hooks must run (routing first: the others read its verdict)."""
    from .annotate import ClockifyAnnotations, ClockifyUpstreamTimeout, install_error_responses
    from .contenttype import ClockifyContentType
    from .events import ClockifyEvents
    from .keys import ClockifyKeys
    from .ratelimit import ClockifyRateLimit
    from .router import ClockifyRouter
    from .settings import ClockifySettings
    from .status import ClockifyStatus, Metrics
    from .timefix import ClockifyTimes

    install_error_responses()
    settings = ClockifySettings()
    metrics = Metrics()
    return [
        settings,
        ClockifyStatus(settings, metrics),
        ClockifyRouter(settings),
        ClockifyKeys(settings),
        ClockifyTimes(settings),
        ClockifyContentType(settings),
        ClockifyRateLimit(settings),
        ClockifyUpstreamTimeout(settings),
        ClockifyAnnotations(settings),
        ClockifyEvents(metrics),
    ]
