"""The proxy's own endpoints: health and Prometheus metrics, answered without reaching Clockify.

They live under /__clockify-proxy/ on the proxy's own address, in every mode: in reverse mode as
`http://PROXY/__clockify-proxy/health`, in regular mode the same URL sent straight to the proxy.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections import Counter
from importlib.metadata import PackageNotFoundError, version

from mitmproxy import ctx, http

from . import logs
from .settings import ClockifySettings

PREFIX = "/__clockify-proxy/"
CA_CERT = "mitmproxy-ca-cert.pem"  # the public certificate only; mitmproxy-ca.pem holds the key


def package_version() -> str:
    try:
        return version("clockify-proxy")
    except PackageNotFoundError:  # loaded from a checkout with `-s` and not installed
        return "unknown"


class Metrics:
    """Counters for the metrics endpoint; labels are bounded sets (services, kinds, slugs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter = Counter()  # (service,)
        self.fixes: Counter = Counter()  # (kind,)
        self.rejected: Counter = Counter()  # (diagnosis,)
        self.failures: Counter = Counter()  # (diagnosis,)

    def count(self, service: str, kinds: list[str], rejected: str | None, failed: str | None) -> None:
        with self._lock:
            self.requests[service] += 1
            self.fixes.update(kinds)
            if rejected:
                self.rejected[rejected] += 1
            if failed:
                self.failures[failed] += 1

    def prometheus(self) -> str:
        families = (
            ("clockify_proxy_requests_total", "Clockify requests handled, by service.", "service", self.requests),
            ("clockify_proxy_fixes_total", "Fixes made to requests, by kind.", "kind", self.fixes),
            ("clockify_proxy_rejected_total", "Requests answered by the proxy instead of Clockify, by diagnosis.", "diagnosis", self.rejected),
            ("clockify_proxy_failures_total", "Failing Clockify responses and upstream errors, by diagnosis.", "diagnosis", self.failures),
        )
        lines = []
        with self._lock:
            for name, help_text, label, counter in families:
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} counter"]
                lines += [f'{name}{{{label}="{value}"}} {n}' for value, n in sorted(counter.items())]
        lines += ["# HELP clockify_proxy_up 1 while the proxy serves.", "# TYPE clockify_proxy_up gauge", "clockify_proxy_up 1"]
        return "\n".join(lines) + "\n"


class ClockifyStatus:
    def __init__(self, settings: ClockifySettings, metrics: Metrics) -> None:
        self.settings = settings
        self.metrics = metrics

    def running(self) -> None:
        folder = self.settings.current.ca_export_dir
        if not folder:
            return
        source = os.path.join(os.path.expanduser(ctx.options.confdir), CA_CERT)
        try:
            os.makedirs(folder, exist_ok=True)
            shutil.copyfile(source, os.path.join(folder, CA_CERT))
        except OSError as e:
            logs.get().warning("ca.export_failed", option="clockify_ca_export_dir", source=source, folder=folder, error=e.strerror)
        else:
            logs.get().info("ca.exported", path=os.path.join(folder, CA_CERT), message="CA certificate for clients")

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response or not flow.request.path.startswith(PREFIX):
            return
        what = flow.request.path[len(PREFIX):].split("?", 1)[0]
        if what == "health":
            current = self.settings.current
            body = json.dumps({
                "status": "ok",
                "version": package_version(),
                "timezone": current.zone.name,
                "upstream": current.upstream,
                "api_key_configured": bool(current.keys),
            })
            flow.response = http.Response.make(200, body, {"Content-Type": "application/json"})
        elif what == "metrics":
            flow.response = http.Response.make(
                200, self.metrics.prometheus(), {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}
            )
        else:
            flow.response = http.Response.make(
                404, json.dumps({"message": f"unknown: {PREFIX}{what}; try health or metrics", "code": 404}),
                {"Content-Type": "application/json"},
            )
