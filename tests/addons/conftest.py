import pytest
from mitmproxy.test import taddons

from clockify_proxy import make_addons


@pytest.fixture
def proxy():
    """The three addons inside a mitmproxy test context; `proxy.configure(**options)`."""
    settings, router, times = make_addons()
    with taddons.context(settings, router, times) as tctx:

        class Proxy:
            def configure(self, **options):
                tctx.configure(settings, **options)

            def send(self, flow, response=None):
                """Run the request hooks; then, unless the proxy answered itself, the response hooks."""
                router.requestheaders(flow)
                times.requestheaders(flow)
                times.request(flow)
                if flow.response is None and response is not None:
                    flow.response = response
                if flow.response is not None:
                    times.response(flow)
                return flow

        p = Proxy()
        p.settings, p.router, p.times = settings, router, times
        p.configure(clockify_timezone="Europe/Brussels")
        yield p
