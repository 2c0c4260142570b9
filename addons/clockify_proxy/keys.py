"""Add the configured API key to Clockify requests, and to nothing else.

- Only flows the router marked as Clockify's, and only over TLS, to a loopback address, or to
  the configured clockify_upstream (a mock or staging copy the user chose).
- Header changes happen in requestheaders, so they also reach upstream for streamed bodies.
- Once the request has left, the injected header is dropped from the flow: mitmproxy's flow
  printer, mitmweb and saved flow files then never show the key (a replay re-injects it).
- The proxy refuses to listen beyond loopback without proxyauth or clockify_allow_remote (under
  `mitmdump -s` with mitmproxy's all-interfaces default, only once a key is configured).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mitmproxy import ctx, exceptions, http
from mitmproxy.proxy import mode_specs

from . import credentials, events, logs
from .events import CLOCKIFY_HOST, is_clockify_flow
from .settings import ClockifySettings

API_KEY_HEADER = "X-Api-Key"
INJECTED = "clockify.key_injected"  # flow.metadata: the key's last four characters


def listen_hosts(modes, default_host: str) -> list[str]:
    return [mode_specs.ProxyMode.parse(m).listen_host(default_host) for m in modes]


def credential_headers(headers: http.Headers) -> dict[str, str]:
    return {name: headers[name] for name in credentials.CREDENTIAL_HEADERS if name in headers}


class ClockifyKeys:
    def __init__(self, settings: ClockifySettings) -> None:
        self.settings = settings

    def configure(self, updated: set[str]) -> None:
        watched = {"listen_host", "mode", "proxyauth", "clockify_allow_remote", "clockify_api_key",
                   "clockify_api_keys", "clockify_api_key_file"}
        if not updated & watched:
            return
        exposed = [h or "0.0.0.0 (all interfaces)" for h in listen_hosts(ctx.options.mode, ctx.options.listen_host)
                   if not credentials.is_loopback(h)]
        if not exposed:
            return
        where = ", ".join(exposed)
        settings = self.settings.current
        if "proxyauth" in ctx.options and ctx.options.proxyauth:
            logs.get().warning("listening.beyond_loopback", listen=where, message="clients must authenticate (proxyauth)")
        elif settings.allow_remote:
            logs.get().warning(
                "listening.beyond_loopback", listen=where,
                message="WITHOUT authentication (clockify_allow_remote=true): anyone who can reach this address can "
                f"use the proxy{' and its Clockify API key' if settings.keys else ''}",
            )
        elif ctx.options.listen_host == "" and not settings.keys:
            # mitmproxy's own default (clockify-proxy itself defaults to 127.0.0.1): under
            # `mitmdump -s` the servers are up before a script loads, too late to change it.
            logs.get().warning(
                "listening.beyond_loopback", listen=where,
                message="mitmproxy's default: pass --listen-host 127.0.0.1 to keep the proxy to this machine "
                "(configuring an API key requires it, or proxyauth, or clockify_allow_remote=true)",
            )
        else:
            raise exceptions.OptionsError(
                f"listen_host: clockify-proxy would listen on {where}, where anyone who can reach it could "
                "use it. Listen on 127.0.0.1, or set proxyauth=USER:PASS, or set clockify_allow_remote=true."
            )

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or flow.error or not flow.live or not is_clockify_flow(flow):
            return
        settings = self.settings.current
        if settings.key_mode == "off" or not settings.keys:
            return
        key = settings.keys.key_for(flow.metadata[CLOCKIFY_HOST])
        if key is None:
            return
        headers = flow.request.headers
        plan = credentials.plan_headers(credential_headers(headers), settings.key_mode)
        if not plan.add_key:
            return
        if not self._safe_destination(flow):
            events.record(
                flow, events.NOTES,
                f"API key not added: {flow.request.scheme}://{flow.request.host} is plain HTTP to a non-loopback host",
            )
            return
        for name in plan.remove:
            del headers[name]
        headers[API_KEY_HEADER] = key
        flow.metadata[INJECTED] = credentials.masked(key)
        before = ", ".join(n.title() for n in plan.remove) or None
        events.record_change(flow, API_KEY_HEADER, before, f"key {credentials.masked(key)} ({plan.reason})", "api-key")

    def _safe_destination(self, flow: http.HTTPFlow) -> bool:
        if flow.request.scheme == "https" or credentials.is_loopback(flow.request.host):
            return True
        upstream = self.settings.current.upstream
        return bool(upstream) and flow.request.url.startswith(upstream) and urlsplit(upstream).hostname == flow.request.host

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        self._forget_key(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        self._forget_key(flow)

    def _forget_key(self, flow: http.HTTPFlow) -> None:
        if flow.metadata.get(INJECTED) and API_KEY_HEADER in flow.request.headers:
            del flow.request.headers[API_KEY_HEADER]
