"""Tell Clockify's API traffic from the rest, and send it where it must go.

- Regular proxy mode: only Clockify hosts are TLS-intercepted; every other host is tunnelled.
- Reverse mode: one listener serves the whole API (`/api/v1/...` core, `/report/v1/...` reports),
  spread over Clockify's global hosts when the target is one of them.
- `clockify_upstream`: all Clockify traffic goes to one base URL, without ever resolving or
  connecting to the real host.
"""

from __future__ import annotations

import time

from mitmproxy import ctx, http, tls
from mitmproxy.proxy import mode_specs

from . import events, hosts
from .events import API_PATH, CLOCKIFY_HOST, ORIGINAL_URL, SERVICE
from .settings import ClockifySettings


class ClockifyRouter:
    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings

    def configure(self, updated: set[str]) -> None:
        # mitmproxy's eager default connects to the real host as soon as a client connects, before
        # any request can be sent to the upstream: with an upstream set, that lookup must not happen.
        if self.settings.current.upstream and "connection_strategy" in ctx.options and ctx.options.connection_strategy == "eager":
            ctx.options.update(connection_strategy="lazy")

    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        if not isinstance(data.context.client.proxy_mode, mode_specs.RegularMode):
            return
        host = data.client_hello.sni or (data.context.server.address or ("",))[0]
        if not hosts.is_clockify_host(host, self.settings.current.extra_hosts):
            data.ignore_connection = True
        elif self.settings.current.upstream:
            # The real host is never contacted: no handshake with it to copy its certificate from.
            data.establish_server_tls_first = False

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
        settings = self.settings.current
        if not (reverse or hosts.is_clockify_host(host, settings.extra_hosts)):
            return
        call = hosts.api_call(host, flow.request.path, known_host=True)
        if call is None:
            return
        scheme = mode.scheme if reverse else flow.request.scheme
        fixed = hosts.corrected(call) if settings.fix_routes else None
        if fixed and not (settings.upstream or hosts.same_region_url(host, fixed, scheme)):
            fixed = None  # a host whose layout is not known (self-hosted): left as it is
        call = fixed or call
        flow.metadata[SERVICE] = call.service
        flow.metadata[API_PATH] = call.api_path
        flow.metadata[CLOCKIFY_HOST] = hosts.normal_host(host)
        if settings.upstream:
            target = hosts.upstream_url(settings.upstream, call)
        elif fixed or (reverse and hosts.normal_host(host) in hosts.GLOBAL_HOSTS):
            target = hosts.same_region_url(host, call, scheme)
        else:
            return
        if target != flow.request.url:
            flow.metadata[ORIGINAL_URL] = flow.request.url
            flow.request.url = target
        if fixed:
            events.record_change(flow, "route", flow.metadata[ORIGINAL_URL], target, "route")
