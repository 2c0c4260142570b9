#!/usr/bin/env python3
"""CPU that clockify-proxy's addon chain adds to each request, in process: no sockets, no load client.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/bench_addons.py            # about 1.5-2 minutes
    .venv/bin/python benchmarks/bench_addons.py --requests 4000 --processes 4

The loopback benchmark (bench_proxy.py) is what users see, but on a small shared machine its throughput figures
move by 10-20% from run to run. This one isolates the part clockify-proxy adds: each request of the same mix as
bench_proxy.py becomes a mitmproxy flow (reverse mode) and goes through the four hooks mitmproxy's HTTP layer
emits per request (requestheaders, request, responseheaders, response, each with its `update` event), dispatched
by the master's real AddonManager.handle_lifecycle, as in the proxy:

- mitmdump: DumpMaster's addons and AddonManager (what bare mitmdump runs);
- mitmdump-lean: the same addons under ClockifyAddonManager, the leaner dispatch clockify-proxy runs;
- clockify-proxy: ClockifyDumpMaster, with clockify_timezone=Europe/Brussels, clockify_rate_limit=0,
  clockify_log_format=json (events to a temp file, as in bench_proxy.py).

Each chain runs in a process of its own (a mitmproxy master sets global state), three times, in alternating
order. clockify-proxy against mitmdump is what users get; against mitmdump-lean, what its addons cost.

For attribution: clockify-proxy's concerns' hooks called directly, without the AddonManager or the
ClockifyProxy addon that dispatches to them (the concerns' own work, hook by hook), and one `update` event alone
through each chain (what the AddonManager costs per event, whatever the addons do; a request makes eight such
dispatches).

Time covers the hooks only (building the flow and the upstream's response is outside the timer). The difference between the chains is the
CPU clockify-proxy adds per request; the proxy's network work (parsing, sockets) is the same for both.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import logging
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

try:
    import clockify_proxy  # noqa: F401
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "addons"))

import json  # noqa: E402

from mitmproxy import hooks, http, options  # noqa: E402
from mitmproxy.proxy import mode_specs  # noqa: E402
from mitmproxy.proxy.layers.http import (  # noqa: E402
    HttpRequestHeadersHook,
    HttpRequestHook,
    HttpResponseHeadersHook,
    HttpResponseHook,
)
from mitmproxy.test import tflow  # noqa: E402
from mitmproxy.tools.dump import DumpMaster  # noqa: E402
from mitmproxy.version import VERSION as MITM_VERSION  # noqa: E402

from bench_proxy import ZONE, code_version, mix_specs  # noqa: E402
from clockify_proxy import ClockifyProxy, cli  # noqa: E402
from clockify_proxy.dispatch import ClockifyAddonManager  # noqa: E402

UPSTREAM = "http://127.0.0.1:9"
OUR_SETTINGS = {"clockify_timezone": ZONE, "clockify_rate_limit": "0", "clockify_log_format": "json"}
RESPONSE_BODY = b'{"id":"663a1f0e8c1d2b3a4f5e6d7c","workspaceId":"5ef305ce4a7e5a4a3bd5f8f1","status":"ok"}'


def make_flow(spec) -> http.HTTPFlow:
    body = json.dumps(spec.body).encode() if spec.body is not None else b""
    headers = {"Host": "127.0.0.1:8080", "User-Agent": "clockify-bench/1.0", "Accept": "application/json",
               "X-Api-Key": "bench-not-a-real-key-0000"}
    if spec.body is not None:
        headers["Content-Type"] = "application/json"
    request = http.Request.make(spec.method, UPSTREAM + spec.path, body, headers)
    flow = tflow.tflow(req=request)
    flow.client_conn.proxy_mode = mode_specs.ProxyMode.parse(f"reverse:{UPSTREAM}")
    return flow


def make_response(spec) -> http.Response:
    created = spec.method == "POST" and spec.path.split("?")[0].endswith("/time-entries")
    return http.Response.make(201 if created else 200, RESPONSE_BODY, {"Content-Type": "application/json"})


# The upstream's answer to the flow being timed, built before the timer starts.
_pending: dict[int, http.Response] = {}


def respond(flow: http.HTTPFlow) -> None:
    if flow.response is None:  # not answered by the proxy itself (a rejection)
        flow.response = _pending.pop(id(flow))


def new_master(kind: str):
    opts = options.Options()
    if kind in ("mitmdump", "mitmdump-lean"):
        master = DumpMaster(opts, with_termlog=False)
        if kind == "mitmdump-lean":
            master.addons.__class__ = ClockifyAddonManager
    else:
        argv = [a for name, value in OUR_SETTINGS.items() for a in ("--set", f"{name}={value}")]
        master = cli.ClockifyDumpMaster(opts, argv=argv, with_termlog=False)
    master.options.update(mode=[f"reverse:{UPSTREAM}"], flow_detail=0)
    if kind == "clockify-proxy":
        master.options.update(**OUR_SETTINGS)
    return master


async def request_cycle(master, flow) -> None:
    lifecycle = master.addons.handle_lifecycle
    await lifecycle(HttpRequestHeadersHook(flow))
    await lifecycle(HttpRequestHook(flow))
    respond(flow)
    await lifecycle(HttpResponseHeadersHook(flow))
    await lifecycle(HttpResponseHook(flow))


async def direct_cycle(chain, flow, spent: dict | None = None) -> None:
    """clockify-proxy's concerns' hooks called in order, without the AddonManager (as tests/addons do).

    With `spent`, the time of each addon's hook is added to spent[(addon class, hook)].
    """
    clock = time.perf_counter
    for names in (("requestheaders", "request"), ("responseheaders", "response")):
        for name in names:
            for addon in chain:
                hook = getattr(addon, name, None)
                if hook:
                    t = clock() if spent is not None else 0.0
                    result = hook(flow)
                    if result is not None:
                        await result
                    if spent is not None:
                        key = f"{type(addon).__name__}.{name}"
                        spent[key] = spent.get(key, 0.0) + clock() - t
        if names[0] == "requestheaders":
            respond(flow)


async def time_cycles(cycle, specs, count: int, check_fix: bool = False) -> dict[str, list[float]]:
    """Seconds per request, by kind, over `count` requests of the mix."""
    per_kind: dict[str, list[float]] = {}
    clock = time.perf_counter
    for i in range(count):
        spec = specs[i % len(specs)]
        flow = make_flow(spec)
        _pending[id(flow)] = make_response(spec)
        t = clock()
        await cycle(flow)
        per_kind.setdefault(spec.kind, []).append(clock() - t)
        _pending.pop(id(flow), None)
        if check_fix and spec.needs_fix and "X-Clockify-Proxy-Fixed" not in flow.response.headers:
            raise SystemExit(f"{spec.kind}: clockify-proxy did not fix the request; the benchmark would be meaningless")
    return per_kind


class AddonErrors(logging.Handler):
    """Counts 'Addon error' records: an addon that raises on every flow would make the figures meaningless."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or record.getMessage()[:300]


async def one_chain(kind: str, requests: int, rounds: int, log: str) -> dict:
    """Runs in a process of its own (masters install global logging handlers and set mitmproxy's ctx)."""
    specs = mix_specs()
    errors = AddonErrors()
    logging.getLogger("mitmproxy").addHandler(errors)
    work = tempfile.mkdtemp(prefix="clockify-bench-addons-")
    events_path = os.path.join(work, "events.jsonl")
    stderr = sys.stderr
    sink = open(events_path, "w") if log == "file" else open(os.devnull, "w")
    try:
        sys.stderr = sink  # our log handler binds sys.stderr when the options are applied
        try:
            master = new_master("clockify-proxy" if kind == "direct" else kind.split(":")[-1])
            master.options.update(confdir=os.path.join(work, "confdir"))
            # What master.run() does first: every addon configures with every option (tlsconfig makes its CA).
            master.addons.trigger(hooks.ConfigureHook(set(master.options.keys())))
        finally:
            sys.stderr = stderr
        spent: dict[str, float] = {}
        if kind == "direct":
            chain = next(a for a in master.addons.chain if isinstance(a, ClockifyProxy)).concerns

            async def cycle(flow):
                await direct_cycle(chain, flow, spent)
        elif kind.startswith("dispatch:"):
            async def cycle(flow):
                await master.addons.trigger_event(hooks.UpdateHook([flow]))
        else:
            async def cycle(flow):
                await request_cycle(master, flow)
        check = kind in ("clockify-proxy", "direct")
        await time_cycles(cycle, specs, min(requests, 400), check)  # warm-up
        results = []
        per_hook: dict[str, float] = {}
        for _ in range(rounds):
            spent.clear()
            per_kind = await time_cycles(cycle, specs, requests, check)
            row = {k: statistics.median(v) for k, v in per_kind.items()}
            # The per-kind medians weighted by the mix: robust to the odd slow request (other load, GC).
            row["mix"] = sum(row[k] * len(v) for k, v in per_kind.items()) / sum(len(v) for v in per_kind.values())
            results.append(row)
            for key, value in spent.items():  # the best round of each hook
                per_hook[key] = min(per_hook.get(key, float("inf")), value / requests)
    finally:
        sink.close()
    events = sum(1 for _ in open(events_path)) if log == "file" else 0
    shutil.rmtree(work, ignore_errors=True)
    return {"rounds": results, "addons": len(master.addons.chain), "events": events,
            "per_hook": per_hook,
            "addon_errors": errors.count, "first_error": errors.first}


MAIN = ("mitmdump", "mitmdump-lean", "clockify-proxy", "direct")
DISPATCH = ("dispatch:mitmdump", "dispatch:mitmdump-lean", "dispatch:clockify-proxy")
CHAINS = MAIN + DISPATCH
EVENTS_PER_REQUEST = 8  # four hooks, each followed by an `update` event
COLUMNS = ("mix", "create", "list", "report", "projects")


def report(results: dict[str, list[dict]], args) -> None:
    def med(kind: str, col: str) -> float:
        return statistics.median(r[col] for part in results[kind] for r in part["rounds"]) * 1e6

    def best(kind: str, col: str) -> float:
        return min(r[col] for part in results[kind] for r in part["rounds"]) * 1e6

    first = {k: v[0] for k, v in results.items()}
    labels = {
        "mitmdump": f"mitmdump's addons ({first['mitmdump']['addons']} top-level)",
        "mitmdump-lean": "mitmdump's addons, clockify-proxy's dispatch",
        "clockify-proxy": f"clockify-proxy ({first['clockify-proxy']['addons']} top-level)",
        "direct": "clockify-proxy hooks alone (no manager)",
    }
    n = sum(len(p["rounds"]) for p in results["mitmdump"])
    print(f"us per request: per kind, the median over that kind's requests; 'mix', those medians weighted as in "
          f"the mix.\nBest of {n} rounds of {args.requests} requests [median of rounds]; the differences below "
          f"use the best rounds (other load on the machine only ever adds time).")
    print(f"  {'chain':<43}" + "".join(f"{c:>17}" for c in COLUMNS))
    for kind in MAIN:
        print(f"  {labels[kind]:<43}" + "".join(f"{best(kind, c):>8.1f} [{med(kind, c):>6.1f}]" for c in COLUMNS))
    print()
    update = {k: best(f"dispatch:{k}", "mix") for k in ("mitmdump", "mitmdump-lean", "clockify-proxy")}
    print("  AddonManager dispatch alone, one `update` event (no addon acts on it), us: "
          + ", ".join(f"{k} {v:.1f}" for k, v in update.items()))
    print()
    added = {c: best("clockify-proxy", c) - best("mitmdump", c) for c in COLUMNS}
    saved = {c: best("mitmdump", c) - best("mitmdump-lean", c) for c in COLUMNS}
    own = {c: best("clockify-proxy", c) - best("mitmdump-lean", c) for c in COLUMNS}
    direct = {c: best("direct", c) for c in COLUMNS}
    print("  clockify-proxy against mitmdump's chain (what users get) " + "".join(f"{added[c]:>+17.0f}" for c in COLUMNS))
    print("    saved by clockify-proxy's leaner event dispatch        " + "".join(f"{-saved[c]:>+17.0f}" for c in COLUMNS))
    print("    added by its addons (same dispatch on both sides)      " + "".join(f"{own[c]:>+17.0f}" for c in COLUMNS))
    print("      of which their hooks' own work (called directly)     " + "".join(f"{direct[c]:>17.0f}" for c in COLUMNS))
    verdict = "within" if added["mix"] <= 200 else "OVER"
    print(f"  budget: <= 200 us added at p50; over the mix clockify-proxy's chain costs {added['mix']:+.0f} us of CPU per "
          f"request against mitmdump's ({verdict} the budget, before any network effect); its addons alone "
          f"{own['mix']:+.0f} us")
    per_hook: dict[str, list[float]] = {}
    for part in results["direct"]:
        for key, value in part["per_hook"].items():
            per_hook.setdefault(key, []).append(value)
    if per_hook:
        total = sum(min(v) for v in per_hook.values())
        print("  clockify-proxy hooks called directly, us per request over the mix (each hook with what it calls; "
              "mean over a round, best round):")
        for key, values in sorted(per_hook.items(), key=lambda kv: -min(kv[1])):
            value = min(values) * 1e6
            if value >= 0.5:
                print(f"    {key:<42} {value:7.1f} us  {value / (total * 1e6):6.1%}")
    for kind, parts in results.items():
        errors = sum(p["addon_errors"] for p in parts)
        if errors:
            print(f"  WARNING: {kind}: {errors} addon errors, e.g. {parts[0]['first_error']!r}")
    events = sum(p["events"] for p in results["clockify-proxy"])
    if args.log == "file":
        print(f"  ({events:,} JSON events written by the clockify-proxy chain runs)")


def main() -> None:
    parser = argparse.ArgumentParser(description="CPU per request of clockify-proxy's addon chain vs mitmdump's, in process.")
    parser.add_argument("--requests", type=int, default=1500, help="requests per round (default 1500)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per chain and process (default 3)")
    parser.add_argument("--processes", type=int, default=3,
                        help="processes per chain, run in alternating order (default 3)")
    parser.add_argument("--log", choices=("file", "devnull"), default="file",
                        help="where clockify-proxy's JSON events go (default: a temp file)")
    parser.add_argument("--chain", choices=CHAINS, help=argparse.SUPPRESS)  # internal: one chain, JSON out
    args = parser.parse_args()
    args.requests = max(40, min(args.requests, 200_000))
    args.rounds = max(1, min(args.rounds, 50))
    args.processes = max(1, min(args.processes, 20))
    for name in [k for k in os.environ if k.upper().startswith("CLOCKIFY_")]:
        del os.environ[name]
    with tempfile.TemporaryDirectory(prefix="clockify-bench-cwd-") as cwd:
        os.chdir(cwd)  # no config/clockify-proxy.toml from wherever this was run
        if args.chain:
            result = asyncio.run(one_chain(args.chain, args.requests, args.rounds, args.log))
            print("RESULT " + json.dumps(result))
            return
        print(f"clockify-proxy addon-chain benchmark, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
        print(f"python {platform.python_version()} ({sys.executable}), mitmproxy {MITM_VERSION}, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.2f}; clockify_proxy {code_version()}")
        results: dict[str, list[dict]] = {k: [] for k in CHAINS}
        for p in range(args.processes):
            for kind in (CHAINS if p % 2 == 0 else tuple(reversed(CHAINS))):
                cmd = [sys.executable, os.path.abspath(__file__), "--chain", kind, "--requests", str(args.requests),
                       "--rounds", str(args.rounds), "--log", args.log]
                try:
                    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
                except subprocess.TimeoutExpired:
                    raise SystemExit(f"{kind}: timed out") from None
                line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
                if done.returncode or not line:
                    raise SystemExit(f"{kind} failed ({done.returncode}): {done.stderr[-2000:]}")
                results[kind].append(json.loads(line[len("RESULT "):]))
        report(results, args)


if __name__ == "__main__":
    main()
