"""Tell Clockify's API traffic from the rest, and send it where it must go.

- Regular proxy mode: only Clockify hosts are TLS-intercepted; every other host is tunnelled.
- Reverse mode: one listener serves the whole API (`/api/v1/...` core, `/report/v1/...` reports),
  spread over Clockify's global hosts when the target is one of them.
- `clockify_upstream`: all Clockify traffic goes to one base URL, without ever resolving or
  connecting to the real host.
"""

from __future__ import annotations

import time

from mitmproxy import http, tls
from mitmproxy.proxy import mode_specs

from . import hosts
from .settings import ClockifySettings

# flow.metadata keys (primitives only: metadata is saved with flows).
SERVICE = "clockify.service"
CLOCKIFY_HOST = "clockify.host"  # the Clockify host meant (the reverse target in reverse mode)
API_PATH = "clockify.api_path"
ORIGINAL_URL = "clockify.original_url"


def is_clockify_flow(flow: http.HTTPFlow) -> bool:
    return SERVICE in flow.metadata


class ClockifyRouter:
    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        if not isinstance(data.context.client.proxy_mode, mode_specs.RegularMode):
            return
        host = data.client_hello.sni or (data.context.server.address or ("",))[0]
        if not hosts.is_clockify_host(host, self.settings.current.extra_hosts):
            data.ignore_connection = True

    def http_connect(self, flow: http.HTTPFlow) -> None:
        # With an upstream set, the tunnel to a Clockify host is answered here: mitmproxy would
        # otherwise connect to (and resolve) the real host before the first request is seen.
        if self.settings.current.upstream and hosts.is_clockify_host(
            flow.request.host, self.settings.current.extra_hosts
        ):
            flow.response = http.Response(
                flow.request.data.http_version, 200, b"Connection established", http.Headers(), b"", None,
                time.time(), time.time(),
            )

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live:
            return
        mode = flow.client_conn.proxy_mode
        reverse = isinstance(mode, mode_specs.ReverseMode)
        host = mode.address[0] if reverse else flow.request.host
        known = reverse or hosts.is_clockify_host(host, self.settings.current.extra_hosts)
        if not known:
            return
        call = hosts.api_call(host, flow.request.path, known_host=True)
        if call is None:
            return
        flow.metadata[SERVICE] = call.service
        flow.metadata[CLOCKIFY_HOST] = hosts.normal_host(host)
        flow.metadata[API_PATH] = call.api_path
        upstream = self.settings.current.upstream
        if upstream:
            target = hosts.upstream_url(upstream, call)
        elif reverse and hosts.normal_host(host) in hosts.GLOBAL_HOSTS:
            target = hosts.global_url(call, mode.scheme)
        else:
            return
        if target != flow.request.url:
            flow.metadata[ORIGINAL_URL] = flow.request.url
            flow.request.url = target
