"""clockify-proxy: mitmproxy addons that fix Clockify API requests on the fly."""

from __future__ import annotations

from .events import SERVICE

# The hooks the concerns implement. mitmproxy sees one addon with these, instead of looking up
# every hook of every child for every event, as it does with `addons = [...]` (BENCHMARKS.md).
HOOKS = ("load", "configure", "running", "tls_clienthello", "http_connect", "requestheaders", "request",
         "responseheaders", "response", "error", "done")


class ClockifyProxy:
    """All of clockify-proxy as one addon: each concern is a class of its own (make_addons), and
    this one calls their hooks in order. Flows the router did not mark as Clockify's skip the rest."""

    def __init__(self) -> None:
        self.concerns = make_addons()
        self._hooks = {name: [getattr(c, name) for c in self.concerns if hasattr(c, name)] for name in HOOKS}

    def _each(self, name: str, *args) -> None:
        for hook in self._hooks[name]:
            hook(*args)

    def load(self, loader) -> None:
        self._each("load", loader)

    def configure(self, updated: set[str]) -> None:
        self._each("configure", updated)

    def running(self) -> None:
        self._each("running")

    def tls_clienthello(self, data) -> None:
        self._each("tls_clienthello", data)

    def http_connect(self, flow) -> None:
        self._each("http_connect", flow)

    def requestheaders(self, flow) -> None:
        self._each("requestheaders", flow)

    # request and response loop here rather than through a helper coroutine: one fewer per flow.
    async def request(self, flow) -> None:
        if SERVICE in flow.metadata:
            for hook in self._hooks["request"]:
                pending = hook(flow)
                if pending is not None:  # hooks return something to await only when they wait
                    await pending

    def responseheaders(self, flow) -> None:
        if SERVICE in flow.metadata:
            self._each("responseheaders", flow)

    async def response(self, flow) -> None:
        if SERVICE in flow.metadata:
            for hook in self._hooks["response"]:
                pending = hook(flow)
                if pending is not None:
                    await pending

    def error(self, flow) -> None:
        self._each("error", flow)

    def done(self) -> None:
        self._each("done")


def make_addons() -> list:
    """The concerns, in the order their hooks must run (routing first: the others read its verdict)."""
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
