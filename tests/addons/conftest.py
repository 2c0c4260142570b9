import asyncio
import io
import json
import sys

import pytest
from mitmproxy.addons.proxyauth import ProxyAuth
from mitmproxy.test import taddons

from clockify_proxy import logs, make_addons


def settle(pending):
    """Await what a hook returned, as mitmproxy does (hooks return something only when there is a wait)."""
    if pending is not None:
        asyncio.run(pending)


@pytest.fixture
def proxy(monkeypatch):
    """The addons inside a mitmproxy test context; `proxy.configure(**options)`, `proxy.send(flow)`."""
    for name in ("CLOCKIFY_TIMEZONE", "CLOCKIFY_API_KEY", "CLOCKIFY_API_KEYS", "CLOCKIFY_API_KEY_FILE", "CLOCKIFY_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    chain = make_addons()
    settings, status, router, keys, times, content_type, rate_limit, upstream_timeout, annotations, events = chain
    with taddons.context(ProxyAuth(), *chain) as tctx:  # proxyauth: its option matters to ClockifyKeys

        class Proxy:
            def configure(self, **options):
                tctx.configure(settings, **options)

            def capture_events(self):
                """From now on the JSON events go to a buffer (stderr, as far as the addons know); `logged()` parses them."""
                self._log = io.StringIO()
                monkeypatch.setattr(sys, "stderr", self._log)
                logs.setup("json", self._log)

            def logged(self, name=None):
                found = [json.loads(line) for line in self._log.getvalue().splitlines()]
                return [e for e in found if name is None or e["event"] == name]

            def send(self, flow, response=None):
                """Run the request hooks in chain order; then, with a response, the response hooks."""
                for addon in chain:
                    if hasattr(addon, "requestheaders"):
                        addon.requestheaders(flow)
                asyncio.run(times.request(flow))
                content_type.request(flow)
                settle(rate_limit.request(flow))
                if flow.response is None and response is not None:
                    flow.response = response
                    keys.responseheaders(flow)
                if flow.response is not None:
                    settle(rate_limit.response(flow))
                    settle(annotations.response(flow))
                    events.response(flow)
                return flow

        p = Proxy()
        p.settings, p.status, p.router, p.keys, p.times, p.content_type, p.rate_limit, p.upstream_timeout, p.annotations, p.events = chain
        # No retries by default: a retry would really send the request again (to test hosts that do not exist).
        p.configure(clockify_timezone="Europe/Brussels", listen_host="127.0.0.1", clockify_rate_retries="0")
        yield p
