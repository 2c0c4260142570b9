#!/usr/bin/env python3
"""Throughput, latency and memory of clockify-proxy against bare mitmdump, on loopback.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/bench_proxy.py                   # about 1-2 minutes
    .venv/bin/python benchmarks/bench_proxy.py --rounds 5 --requests 4000
    .venv/bin/python benchmarks/bench_proxy.py --memory 100000   # RSS of clockify-proxy over N requests

One run starts, side by side:
- a fast asyncio HTTP/1.1 keep-alive upstream (its own subprocess, 127.0.0.1, ephemeral port) that answers
  every request with a small JSON body and counts requests that still carry a UTC offset;
- bare mitmdump, no addons (reverse mode to the upstream, -q, flow_detail=0);
- lean mitmdump (benchmarks/lean_mitmdump.py): the same under clockify-proxy's event dispatch, no addons, so
  that the addons' own cost stays visible beside what the leaner dispatch saves;
- clockify-proxy with the same flags plus clockify_timezone=Europe/Brussels, clockify_rate_limit=0 (the
  50 rps per workspace limiter would otherwise hold requests) and clockify_log_format=json, its stderr (one
  JSON event per fixed request) going to a file.

Then, for each round, each target (direct to the upstream, bare, lean, clockify-proxy; the proxies reverse
their order from round to round) gets a throughput run at concurrency C (keep-alive connections) and a latency run at
concurrency 1, both with a warm-up first. The load client is asyncio on raw sockets, in this process.

The request mix cycles through: time-entry creates with offsets (POST /api/v1/workspaces/W/time-entries),
list queries with offsets in the window (GET /api/v1/workspaces/W/user/U/time-entries?start=...+02:00&end=...),
detailed reports (POST /report/v1/workspaces/W/reports/detailed, ...Z ranges and a timeZone) and passthrough
GETs (GET /api/v1/workspaces/W/projects), over several workspaces.

Every response must be 2xx (anything else, and any connection error, counts as an error); through
clockify-proxy, every request that needs a fix must come back with X-Clockify-Proxy-Fixed and no other, and the
upstream must see no UTC offset left (through bare mitmdump it sees them all: that shows the work is real).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import platform
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field

ADDONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "addons")
MITMDUMP_CODE = "from mitmproxy.tools.main import mitmdump; mitmdump()"
# Bare mitmdump under clockify-proxy's event dispatch: the base that isolates the addons' own cost.
LEAN_MITMDUMP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lean_mitmdump.py")
ZONE = "Europe/Brussels"

TARGET_THROUGHPUT = 0.95  # clockify-proxy req/s >= 95% of bare mitmdump's
TARGET_ADDED_P50_MS = 0.2  # clockify-proxy p50 <= bare p50 + 0.2 ms

STARTUP_TIMEOUT = 60.0
MAX_ERRORS_PER_RUN = 200  # a run stops early past this many errors
MAX_RECONNECTS_PER_CONNECTION = 20


# --------------------------------------------------------------------------------------------
# The upstream: a small asyncio HTTP/1.1 server, started as `bench_proxy.py --upstream-server`.
# --------------------------------------------------------------------------------------------

# A UTC offset left in a request line or body: "...:00+02:00", "...:00%2B02:00", "...:00-04:00".
OFFSET_LEFT = re.compile(rb"\d\d:\d\d(?:[+-]|%2[Bb])\d\d:?\d\d")
STATS_PATH = b"/__bench/stats"


class UpstreamProtocol(asyncio.Protocol):
    stats = Counter()

    def connection_made(self, transport):
        self.transport = transport
        self.buffer = bytearray()

    def data_received(self, data):
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > 1 << 20:
                    self.transport.close()
                return
            head = bytes(self.buffer[:end])
            lower = head.lower()
            start = end + 4
            if b"\r\ntransfer-encoding:" in lower and b"chunked" in lower:
                parsed = read_chunked(self.buffer, start)
                if parsed is None:
                    return
                body, consumed = parsed
            else:
                m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
                length = int(m.group(1)) if m else 0
                if len(self.buffer) < start + length:
                    return
                body, consumed = bytes(self.buffer[start:start + length]), start + length
            del self.buffer[:consumed]
            self.answer(head, lower, body)
            if self.transport.is_closing():
                return

    def answer(self, head: bytes, lower: bytes, body: bytes) -> None:
        line = head.split(b"\r\n", 1)[0]
        method, _, rest = line.partition(b" ")
        target = rest.rpartition(b" ")[0]
        if target.startswith(STATS_PATH):
            payload = json.dumps(dict(self.stats)).encode()
            self.stats.clear()
            status = b"200 OK"
        else:
            self.stats["requests"] += 1
            if OFFSET_LEFT.search(line) or OFFSET_LEFT.search(body):
                self.stats["offsets_left"] += 1
            created = method == b"POST" and target.split(b"?", 1)[0].endswith(b"/time-entries")
            status = b"201 Created" if created else b"200 OK"
            payload = b'{"id":"663a1f0e8c1d2b3a4f5e6d7c","workspaceId":"5ef305ce4a7e5a4a3bd5f8f1","status":"ok"}'
        close = b"\r\nconnection: close" in lower
        self.transport.write(
            b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
            + str(len(payload)).encode() + (b"\r\nConnection: close" if close else b"") + b"\r\n\r\n" + payload
        )
        if close:
            self.transport.close()


def read_chunked(buffer: bytearray, start: int) -> tuple[bytes, int] | None:
    """(body, bytes consumed) of a complete chunked body at `start`; None while incomplete."""
    body = bytearray()
    i = start
    while True:
        eol = buffer.find(b"\r\n", i)
        if eol < 0:
            return None
        size = int(bytes(buffer[i:eol]).split(b";")[0].strip() or b"0", 16)
        i = eol + 2
        if size == 0:
            end = buffer.find(b"\r\n\r\n", i - 2)
            return (bytes(body), end + 4) if end >= 0 else None
        if len(buffer) < i + size + 2:
            return None
        body += buffer[i:i + size]
        i += size + 2


def upstream_server() -> None:
    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(UpstreamProtocol, "127.0.0.1", 0, backlog=1024)
        print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
        # Exit with the parent: stdin is a pipe from it, and reads EOF when it goes away.
        stop = asyncio.Event()
        loop.add_reader(sys.stdin.fileno(), stop.set)
        await stop.wait()
        server.close()

    asyncio.run(serve())


# --------------------------------------------------------------------------------------------
# The request mix.
# --------------------------------------------------------------------------------------------

WORKSPACES = [
    "5ef305ce4a7e5a4a3bd5f8f1",
    "60a7c2d4e1b9f3a5c8d7e6f2",
    "61b8d3e5f2c0a4b6d9e8f7a3",
    "62c9e4f6a3d1b5c7e0f9a8b4",
    "63d0f5a7b4e2c6d8f1a0b9c5",
]
USER = "5a0ab5acb07987125438b60f"


@dataclass(frozen=True)
class Template:
    kind: str
    raw: bytes  # the whole request, ready to send
    needs_fix: bool  # clockify-proxy must answer with X-Clockify-Proxy-Fixed


def request_bytes(method: str, path: str, port: int, body: dict | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    headers = [
        f"{method} {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "User-Agent: clockify-bench/1.0",
        "Accept: application/json",
        "X-Api-Key: bench-not-a-real-key-0000",
    ]
    if body is not None:
        headers += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + payload


@dataclass(frozen=True)
class Spec:
    kind: str  # "create", "list", "report", "projects"
    method: str
    path: str
    body: dict | None
    needs_fix: bool


def mix_specs() -> list[Spec]:
    """40 requests: per 10, 3 time-entry creates, 3 list queries, 2 reports, 2 passthrough GETs."""
    mix = []
    for n in range(4):
        for k in range(10):
            ws = WORKSPACES[(n * 10 + k) % len(WORKSPACES)]
            day = 1 + (n * 10 + k) % 28
            if k in (0, 3, 6):
                offset = "-04:00" if k == 6 else "+02:00"
                body = {
                    "start": f"2024-05-{day:02d}T09:00:00{offset}",
                    "end": f"2024-05-{day:02d}T17:30:00{offset}",
                    "billable": True,
                    "description": "Sprint planning and review with the platform team",
                    "projectId": "5b641568b07987035750505e",
                    "taskId": "5b715448b0798751107918ab",
                    "tagIds": ["5b640b6ab07987035750504a"],
                    "type": "REGULAR",
                }
                mix.append(Spec("create", "POST", f"/api/v1/workspaces/{ws}/time-entries", body, True))
            elif k in (1, 4, 7):
                plus = "%2B" if k == 7 else "+"  # a raw "+" is an offset, not a space, for the proxy
                path = (f"/api/v1/workspaces/{ws}/user/{USER}/time-entries?start=2024-05-{day:02d}T00:00:00{plus}02:00"
                        f"&end=2024-05-{day:02d}T23:59:59{plus}02:00&page=1&page-size=50")
                mix.append(Spec("list", "GET", path, None, True))
            elif k in (2, 5):
                body = {
                    "dateRangeStart": f"2024-05-{day:02d}T00:00:00.000Z",
                    "dateRangeEnd": f"2024-05-{day:02d}T23:59:59.999Z",
                    "timeZone": ZONE,
                    "detailedFilter": {"page": 1, "pageSize": 50},
                    "exportType": "JSON",
                    "amountShown": "EARNED",
                }
                mix.append(Spec("report", "POST", f"/report/v1/workspaces/{ws}/reports/detailed", body, True))
            else:
                mix.append(Spec("projects", "GET", f"/api/v1/workspaces/{ws}/projects?page-size=50", None, False))
    return mix


def build_mix(port: int) -> list[Template]:
    return [Template(s.kind, request_bytes(s.method, s.path, port, s.body), s.needs_fix) for s in mix_specs()]


# --------------------------------------------------------------------------------------------
# Processes: start, wait until ready, measure, kill.
# --------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in KiB."""
    found = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1])
    return found


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return float("nan")


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the benchmark dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env() -> dict[str, str]:
    """No CLOCKIFY_* and no proxy variables from the caller's shell; the checkout's package first."""
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("CLOCKIFY_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    port: int
    log_paths: tuple[str, ...] = ()
    rss_ready: dict = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid


class Processes:
    """Every subprocess the benchmark starts; all of them are killed in close()."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def start(self, name: str, cmd: list[str], port: int, cwd: str, stdout, stderr, log_paths=(), stdin=subprocess.DEVNULL) -> Proc:
        popen = subprocess.Popen(cmd, cwd=cwd, env=clean_env(), stdin=stdin, stdout=stdout, stderr=stderr,
                                 preexec_fn=_die_with_parent)
        proc = Proc(name, popen, port, tuple(log_paths))
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            if proc.popen.poll() is None:
                proc.popen.terminate()
        deadline = time.monotonic() + 5
        for proc in self.procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.popen.wait(timeout=5)
            for stream in (proc.popen.stdin, proc.popen.stdout):
                if stream:
                    with contextlib.suppress(OSError):
                        stream.close()


def start_upstream(procs: Processes, tmp: str) -> Proc:
    cmd = [sys.executable, os.path.abspath(__file__), "--upstream-server"]
    err = open(os.path.join(tmp, "upstream.stderr"), "wb")
    proc = procs.start("upstream", cmd, 0, tmp, subprocess.PIPE, err, stdin=subprocess.PIPE)
    err.close()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    line = b""
    while time.monotonic() < deadline and not line.endswith(b"\n"):
        ready, _, _ = select.select([proc.popen.stdout], [], [], 0.5)
        if ready:
            chunk = os.read(proc.popen.stdout.fileno(), 100)
            if not chunk:
                break
            line += chunk
        if proc.popen.poll() is not None:
            break
    m = re.match(rb"PORT (\d+)", line)
    if not m:
        raise SystemExit(f"upstream did not start: {line!r}; see {tmp}/upstream.stderr")
    proc.port = int(m.group(1))
    return proc


def proxy_command(kind: str, upstream_port: int, port: int, confdir: str, profile: str | None = None) -> list[str]:
    if profile:  # under cProfile: a script file for bare mitmdump (cProfile has no -c)
        script = os.path.join(os.path.dirname(profile), "run_mitmdump.py")
        with open(script, "w") as f:
            f.write(MITMDUMP_CODE.replace("; ", "\n") + "\n")
        head = [sys.executable, "-m", "cProfile", "-o", profile] + ([script] if kind == "bare" else ["-m", "clockify_proxy"])
    else:
        head = {"bare": [sys.executable, "-c", MITMDUMP_CODE], "lean": [sys.executable, LEAN_MITMDUMP]}.get(
            kind, [sys.executable, "-m", "clockify_proxy"])
    cmd = head + [
        "--mode", f"reverse:http://127.0.0.1:{upstream_port}",
        "--listen-host", "127.0.0.1", "--listen-port", str(port),
        "-q", "--set", "flow_detail=0", "--set", f"confdir={confdir}",
    ]
    if kind == "clockify":
        cmd += ["--set", f"clockify_timezone={ZONE}", "--set", "clockify_rate_limit=0",
                "--set", "clockify_log_format=json"]
    return cmd


def start_proxy(procs: Processes, kind: str, upstream_port: int, tmp: str, log_stderr: bool, profile: bool = False) -> Proc:
    work = os.path.join(tmp, kind)
    os.makedirs(work, exist_ok=True)  # cwd: no config/clockify-proxy.toml from wherever the benchmark was run
    for attempt in range(5):
        port = free_port()
        out_path, err_path = os.path.join(work, "stdout"), os.path.join(work, "stderr")
        with open(out_path, "wb") as out:
            err = open(err_path, "wb") if log_stderr else subprocess.DEVNULL
            cmd = proxy_command(kind, upstream_port, port, os.path.join(work, "confdir"),
                                os.path.join(work, "profile.pstats") if profile else None)
            proc = procs.start(kind, cmd, port,
                               work, out, err, log_paths=(out_path, err_path) if log_stderr else (out_path,))
            if log_stderr:
                err.close()
        if wait_ready(proc):
            proc.rss_ready = proc_status(proc.pid)
            return proc
        if proc.popen.poll() is None:
            proc.popen.kill()
        tails = []
        for path in proc.log_paths:
            with contextlib.suppress(OSError), open(path, "rb") as f:
                tails.append(f.read()[-2000:].decode("utf-8", "replace"))
        print(f"  {kind} did not start on port {port} (attempt {attempt + 1}): {' | '.join(tails).strip()[:2000]}")
    raise SystemExit(f"{kind} did not start")


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def wait_ready(proc: Proc) -> bool:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and proc.popen.poll() is None:
        try:
            status, _, _ = get(proc.port, f"/api/v1/workspaces/{WORKSPACES[0]}/projects", timeout=2)
            if 200 <= status < 300:
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def upstream_stats(upstream: Proc) -> dict:
    status, _, body = get(upstream.port, STATS_PATH.decode())
    return json.loads(body) if status == 200 else {}


# --------------------------------------------------------------------------------------------
# The load client.
# --------------------------------------------------------------------------------------------


@dataclass
class Run:
    target: str
    concurrency: int
    ok: int = 0
    errors: Counter = field(default_factory=Counter)  # "status 502", "ConnectionResetError", ...
    latencies_ns: list = field(default_factory=list)  # of 2xx responses
    elapsed: float = 0.0
    fix_missing: int = 0  # clockify-proxy: a request that needed a fix came back without X-Clockify-Proxy-Fixed
    fix_unexpected: int = 0  # ... or one that needed none came back with it
    cpu_seconds: float = float("nan")  # of the proxy (or of the upstream, direct), over the measured phase
    offsets_left: int = 0  # requests that reached the upstream with a UTC offset still in them
    upstream_requests: int = 0
    timed_out: bool = False

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        if not self.latencies_ns:
            return float("nan")
        data = sorted(self.latencies_ns)
        return data[min(len(data) - 1, int(q * len(data)))] / 1e6

    @property
    def cpu_us_per_request(self) -> float:
        return self.cpu_seconds / self.ok * 1e6 if self.ok else float("nan")


FIXED_HEADER = b"\r\nx-clockify-proxy-fixed:"


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> tuple[int, bool, bool]:
    """Send one request, read its response: (status, has the Fixed header, server closes)."""
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    if b"\r\ntransfer-encoding: chunked" in lower:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            await reader.readexactly(size + 2)
    else:
        m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
        if m:
            await reader.readexactly(int(m.group(1)))
        elif b"\r\nconnection: close" in lower:
            await reader.read()
    return status, FIXED_HEADER in lower, b"\r\nconnection: close" in lower


async def load(port: int, mix: list[Template], concurrency: int, count: int, warmup: int, duration: float | None,
               run: Run, pid: int | None, check_fixes: bool, progress=None, run_timeout: float = 600.0) -> None:
    """Warm up (warmup requests over all connections), then `count` requests or `duration` seconds."""
    warm_per_connection = max(1, -(-warmup // concurrency)) if warmup else 0
    started = asyncio.Event()
    state = {"ready": 0, "issued": 0, "done": 0, "t0": 0.0, "t_end": 0.0, "cpu0": 0.0, "deadline": float("inf")}
    loop_deadline = time.monotonic() + run_timeout

    def mark_ready() -> None:
        state["ready"] += 1
        if state["ready"] == concurrency:
            state["cpu0"] = proc_cpu(pid) if pid else float("nan")
            state["t0"] = time.perf_counter()
            state["deadline"] = time.monotonic() + duration if duration else float("inf")
            started.set()

    async def connect():
        return await asyncio.open_connection("127.0.0.1", port)

    async def worker(w: int) -> None:
        reader = writer = None
        reconnects = 0
        try:
            try:
                reader, writer = await connect()
                for k in range(warm_per_connection):
                    _, _, close = await exchange(reader, writer, mix[(w + k * concurrency) % len(mix)].raw)
                    if close:
                        writer.close()
                        reader, writer = await connect()
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
                run.errors[f"warm-up {type(e).__name__}"] += 1
                with contextlib.suppress(Exception):
                    if writer:
                        writer.close()
                reader = writer = None
            finally:
                mark_ready()
            await started.wait()
            while state["issued"] < count and time.monotonic() < state["deadline"] and time.monotonic() < loop_deadline:
                if run.error_count > MAX_ERRORS_PER_RUN:
                    return
                i = state["issued"]
                state["issued"] += 1
                template = mix[i % len(mix)]
                try:
                    if writer is None:
                        reconnects += 1
                        if reconnects > MAX_RECONNECTS_PER_CONNECTION:
                            return
                        reader, writer = await connect()
                    t = time.perf_counter_ns()
                    status, fixed, close = await exchange(reader, writer, template.raw)
                    elapsed = time.perf_counter_ns() - t
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as e:
                    run.errors[type(e).__name__] += 1
                    with contextlib.suppress(Exception):
                        if writer:
                            writer.close()
                    reader = writer = None
                    continue
                state["t_end"] = time.perf_counter()
                state["done"] += 1
                if 200 <= status < 300:
                    run.ok += 1
                    run.latencies_ns.append(elapsed)
                else:
                    run.errors[f"status {status}"] += 1
                if check_fixes and fixed != template.needs_fix:
                    if template.needs_fix:
                        run.fix_missing += 1
                    else:
                        run.fix_unexpected += 1
                if progress:
                    progress(state["done"])
                if close:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    tasks = [asyncio.ensure_future(worker(w)) for w in range(concurrency)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=run_timeout)
    except asyncio.TimeoutError:
        run.timed_out = True
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    run.cpu_seconds = (proc_cpu(pid) - state["cpu0"]) if pid else float("nan")
    run.elapsed = (state["t_end"] - state["t0"]) if state["t0"] else 0.0


def measure(target: str, port: int, mix: list[Template], concurrency: int, count: int, warmup: int,
            duration: float | None, pid: int | None, upstream: Proc, check_fixes: bool, progress=None,
            run_timeout: float = 600.0) -> Run:
    run = Run(target, concurrency)
    upstream_stats(upstream)  # reset its counters
    asyncio.run(load(port, mix, concurrency, count, warmup, duration, run, pid, check_fixes, progress, run_timeout))
    stats = upstream_stats(upstream)  # warm-up included; the proportion is what matters
    run.upstream_requests, run.offsets_left = stats.get("requests", 0), stats.get("offsets_left", 0)
    return run


# --------------------------------------------------------------------------------------------
# Reporting.
# --------------------------------------------------------------------------------------------

def fmt(x: float, spec: str = ".2f") -> str:
    return "-" if x != x else format(x, spec)  # NaN as "-"


def run_line(run: Run) -> str:
    flags = []
    if run.fix_missing or run.fix_unexpected:
        flags.append(f"FIX HEADER missing {run.fix_missing} unexpected {run.fix_unexpected}")
    if run.timed_out:
        flags.append("TIMED OUT")
    if run.errors:
        flags.append("errors: " + ", ".join(f"{k} x{v}" for k, v in run.errors.most_common(4)))
    offsets = f"{run.offsets_left}/{run.upstream_requests}"
    return (f"  {run.target:<15} c={run.concurrency:<3} {run.ok:>7} ok {run.error_count:>4} err "
            f"{run.rps:>9.0f} req/s  p50 {run.percentile_ms(0.5):>7.3f} ms  p99 {run.percentile_ms(0.99):>7.3f} ms  "
            f"CPU {fmt(run.cpu_us_per_request, '>6.0f')} us/req  offsets left {offsets:>11}"
            + (("  " + "; ".join(flags)) if flags else ""))


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def summary(runs: list[Run], targets: list[str], concurrencies: list[int], procs: dict[str, Proc], rounds: int) -> None:
    print()
    print(f"Summary: median of {rounds} round(s) per figure (CPU = the proxy's user+system CPU per request; "
          f"for 'direct', the upstream's)")
    print(f"  {'target':<15} {'conc':>4} {'req/s':>9} {'(best)':>8} {'p50 ms':>9} {'p99 ms':>9} {'CPU us/req':>11} "
          f"{'errors':>7} {'RSS ready':>10} {'peak RSS':>10}")
    table: dict[tuple[str, int], dict[str, float]] = {}
    for target in targets:
        for c in concurrencies:
            mine = [r for r in runs if r.target == target and r.concurrency == c]
            if not mine:
                continue
            row = {
                "rps": median([r.rps for r in mine]),
                "best": max(r.rps for r in mine),
                "p50": median([r.percentile_ms(0.5) for r in mine]),
                "p99": median([r.percentile_ms(0.99) for r in mine]),
                "cpu": median([r.cpu_us_per_request for r in mine]),
                "errors": sum(r.error_count for r in mine),
            }
            table[(target, c)] = row
            proc = procs.get(target)
            hwm = proc_status(proc.pid).get("VmHWM", float("nan")) / 1024 if proc and target != "direct" else float("nan")
            ready = proc.rss_ready.get("VmRSS", float("nan")) / 1024 if proc and target != "direct" else float("nan")
            print(f"  {target:<15} {c:>4} {row['rps']:>9.0f} {row['best']:>8.0f} {row['p50']:>9.3f} {row['p99']:>9.3f} "
                  f"{fmt(row['cpu'], '>11.0f')} {row['errors']:>7} {fmt(ready, '>7.1f')} MB {fmt(hwm, '>7.1f')} MB")
    print()
    print("clockify-proxy against bare mitmdump (targets: >= 95% of its throughput, <= 0.2 ms added at p50):")
    compare(table, runs, "bare", concurrencies, rounds)
    if any(target == "lean" for target, _ in table):
        print("clockify-proxy against lean mitmdump, the same event dispatch on both sides: what its addons cost "
              "(the same targets, for reference):")
        compare(table, runs, "lean", concurrencies, rounds)
    print("  (the p50 target is read at c=1, where latency is not queueing; at c=20 the added p50 is mostly queueing "
          "behind other requests' added CPU)")


def compare(table: dict, runs: list[Run], base_name: str, concurrencies: list[int], rounds: int) -> None:
    for c in concurrencies:
        base, ours = table.get((base_name, c)), table.get(("clockify-proxy", c))
        if not base or not ours:
            continue
        share = ours["rps"] / base["rps"] if base["rps"] else float("nan")
        added = ours["p50"] - base["p50"]
        added_cpu = ours["cpu"] - base["cpu"]
        per_round = []
        for i in range(rounds):
            b = [r for r in runs if r.target == base_name and r.concurrency == c][i:i + 1]
            o = [r for r in runs if r.target == "clockify-proxy" and r.concurrency == c][i:i + 1]
            if b and o and b[0].rps:
                per_round.append(f"{o[0].rps / b[0].rps:.0%}")
        t_ok = share >= TARGET_THROUGHPUT
        l_ok = added <= TARGET_ADDED_P50_MS
        best_share = ours["best"] / base["best"] if base["best"] else float("nan")
        print(f"  c={c:<3} throughput {share:7.1%} of {base_name} ({'MET' if t_ok else 'MISSED'}"
              f"{'' if t_ok else f' by {(TARGET_THROUGHPUT - share) * 100:.1f} points'}; per round: {', '.join(per_round)}; "
              f"best against best: {best_share:.0%})")
        print(f"        p50 added {added:+.3f} ms ({'MET' if l_ok else 'MISSED'}"
              f"{'' if l_ok else f' by {added - TARGET_ADDED_P50_MS:.3f} ms'}), p99 added {ours['p99'] - base['p99']:+.3f} ms, "
              f"proxy CPU added {fmt(added_cpu, '+.0f')} us/request")


# --------------------------------------------------------------------------------------------
# Main.
# --------------------------------------------------------------------------------------------


def sanity_check(proc: Proc, mix: list[Template]) -> None:
    """One request of each kind through clockify-proxy: 2xx, and what the proxy says it fixed."""
    seen = set()
    for template in mix:
        if template.kind in seen:
            continue
        seen.add(template.kind)
        with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as s:
            s.sendall(template.raw)
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        status = head[9:12]
        fixed = re.search(r"(?im)^x-clockify-proxy-fixed:\s*(.*)$", head)
        print(f"  {template.kind:<9} {template.raw.split(b' HTTP/1.1')[0].decode()[:110]}")
        print(f"  {'':<9} -> {status}, X-Clockify-Proxy-Fixed: {fixed.group(1).strip() if fixed else '(none)'}")


def code_version() -> str:
    """The checkout's commit, and whether addons/ has uncommitted changes (figures depend on both)."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "-C", repo, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "-C", repo, "status", "--porcelain", "--", "addons"], capture_output=True,
                               text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "git: unknown"
    if not head:
        return "git: not a checkout"
    return f"git {head}" + (f", addons/ with uncommitted changes ({len(dirty.splitlines())} files)" if dirty else "")


def environment_line() -> str:
    try:
        from mitmproxy.version import VERSION as mitm_version
    except ImportError:
        mitm_version = "not importable"
    try:
        import clockify_proxy
        where = os.path.dirname(clockify_proxy.__file__)
    except ImportError:
        where = "not importable"
    return (f"python {platform.python_version()} ({sys.executable}), mitmproxy {mitm_version}, clockify_proxy from "
            f"{where} ({code_version()})\n{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), {platform.system()} "
            f"{platform.release()}, load average at start {os.getloadavg()[0]:.2f}")


def memory_mode(args, procs: Processes, upstream: Proc, tmp: str) -> None:
    kind = args.memory_target
    proc = start_proxy(procs, "bare" if kind == "bare" else "clockify", upstream.port, tmp, args.clockify_log == "file")
    name = "clockify-proxy" if kind == "clockify" else "bare mitmdump"
    mix = build_mix(proc.port)
    n = args.memory
    warmup = max(args.warmup, min(5000, n // 10))
    print(f"memory: {n:,} requests through {name} (pid {proc.pid}) at c={args.concurrency}, after {warmup:,} warm-up "
          f"requests; RSS every 10%, at most {args.max_seconds:.0f} s")
    print(f"  RSS when ready: {proc.rss_ready.get('VmRSS', 0) / 1024:.1f} MB")
    readings: list[tuple[int, float]] = []
    checkpoints = [n * k // 10 for k in range(1, 11)]
    t_start = time.monotonic()

    def reading(done: int) -> None:
        rss = proc_status(proc.pid).get("VmRSS", 0) / 1024
        readings.append((done, rss))
        print(f"  {done:>9,} requests  {100 * done / n:5.0f}%{' (after warm-up)' if not done else ''}  RSS {rss:8.1f} MB  "
              f"({time.monotonic() - t_start:6.1f} s)", flush=True)

    def progress(done: int) -> None:
        while checkpoints and done >= checkpoints[0]:
            checkpoints.pop(0)
            reading(done)

    run = Run(name, args.concurrency)
    upstream_stats(upstream)
    # The warm-up runs before the measured phase starts; the first reading is taken right after it.
    asyncio.run(load(proc.port, mix, args.concurrency, 0, warmup, None, Run(name, args.concurrency), proc.pid, False,
                     None, args.max_seconds))
    reading(0)
    asyncio.run(load(proc.port, mix, args.concurrency, n, 0, None, run, proc.pid, kind == "clockify", progress,
                     max(1.0, args.max_seconds - (time.monotonic() - t_start))))
    stats = upstream_stats(upstream)
    run.upstream_requests, run.offsets_left = stats.get("requests", 0), stats.get("offsets_left", 0)
    print(run_line(run))
    print(f"  upstream saw {stats.get('requests', 0):,} requests, {stats.get('offsets_left', 0):,} with an offset left")
    status = proc_status(proc.pid)
    print(f"  peak RSS (VmHWM) {status.get('VmHWM', 0) / 1024:.1f} MB")
    if run.timed_out or run.ok + run.error_count < n:
        print(f"  stopped early after {run.ok + run.error_count:,} of {n:,} requests (time bound {args.max_seconds:.0f} s "
              f"or errors)")
    if len(readings) >= 2:
        first, last = readings[0][1], readings[-1][1]
        growth = (last - first) / first if first else float("nan")
        print(f"  last reading {last:.1f} MB vs first after warm-up {first:.1f} MB: {growth:+.1%} -> "
              f"{'within 10%' if abs(growth) <= 0.10 else 'NOT within 10%'}")
    if args.clockify_log == "file" and kind == "clockify":
        log_report(proc)


def log_report(proc: Proc) -> None:
    path = next((p for p in proc.log_paths if p.endswith("stderr")), None)
    if not path:
        return
    with contextlib.suppress(OSError):
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            lines = sum(1 for _ in f)
        print(f"  clockify-proxy stderr (JSON events): {lines:,} lines, {size / 1e6:.1f} MB")


HOOKS = frozenset({"requestheaders", "request", "responseheaders", "response", "error", "_log", "_fix_body",
                   "fix_json", "fix_query", "plan_fields", "splice", "amount_shown", "bucket_key", "count"})


def profile_report(name: str, proc: Proc, path: str, handled: int) -> None:
    """Stop a proxy run under cProfile, and print where its CPU went, per request handled."""
    import pstats

    if proc.popen.poll() is None:
        proc.popen.terminate()  # clean shutdown: cProfile writes its file on exit
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=30)
    if not os.path.exists(path) or not handled:
        print(f"profile of {name}: no profile written ({path})")
        return
    stats = pstats.Stats(path)
    groups: Counter = Counter()
    idle = 0.0
    for (filename, _, func), (_, _, tt, _, _) in stats.stats.items():
        if filename == "~" and "poll" in func and ("epoll" in func or "select" in func):
            idle += tt  # waiting for the network: cProfile's clock is wall time
            continue
        if "clockify_proxy" in filename:
            group = "clockify_proxy"
        elif "structlog" in filename:
            group = "structlog"
        elif "/logging/" in filename:
            group = "logging (stdlib)"
        elif "mitmproxy" in filename:
            group = "mitmproxy"
        elif "asyncio" in filename or "selectors" in filename:
            group = "asyncio"
        elif filename == "~":
            group = "builtins (C calls, any caller)"
        else:
            group = os.path.basename(filename) or filename
        groups[group] += tt
    total = sum(groups.values())
    print()
    print(f"profile of {name} ({handled:,} requests handled; cProfile inflates Python-heavy code): "
          f"{total / handled * 1e6:.0f} us busy per request under the profiler ({idle:.1f} s waiting in epoll left out)")
    print("  own time by origin, per request:")
    for group, tt in groups.most_common(10):
        print(f"    {group:<34} {tt / handled * 1e6:8.1f} us  {tt / total:6.1%}")
    ours = [(key, value) for key, value in stats.stats.items() if "clockify_proxy" in key[0] and key[2] in HOOKS]
    if ours:
        print("  clockify_proxy functions, inclusive time per request handled (hooks include what they call):")
        for (filename, line, func), (_, calls, _, ct, _) in sorted(ours, key=lambda kv: -kv[1][3])[:16]:
            print(f"    {os.path.basename(filename)}:{line} {func:<16} {ct / handled * 1e6:8.1f} us  "
                  f"({calls / handled:.2f} calls per request)")


def main() -> None:
    parser = argparse.ArgumentParser(description="Throughput, latency and memory of clockify-proxy vs bare mitmdump "
                                                 "(loopback, reverse mode). Prints figures, asserts nothing.")
    parser.add_argument("--concurrency", "-c", type=int, default=20, help="keep-alive connections of the throughput runs (default 20)")
    parser.add_argument("--requests", "-n", type=int, default=2000, help="requests per throughput run (default 2000)")
    parser.add_argument("--latency-requests", type=int, default=500, help="requests per c=1 latency run (default 500)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds per run instead of a request count (still capped at 1,000,000 requests)")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests before each run (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians over rounds (default 3)")
    parser.add_argument("--no-direct", action="store_true", help="skip the direct-to-upstream baseline")
    parser.add_argument("--no-latency", action="store_true", help="skip the c=1 latency runs")
    parser.add_argument("--clockify-log", choices=("file", "devnull"), default="file",
                        help="where clockify-proxy's stderr (JSON events) goes (default: a file in the temp dir)")
    parser.add_argument("--memory", type=int, nargs="?", const=100_000, default=None, metavar="N",
                        help="memory mode: N requests (default 100000) through clockify-proxy, RSS every 10%%")
    parser.add_argument("--memory-target", choices=("clockify", "bare"), default="clockify",
                        help="memory mode: which proxy (default clockify)")
    parser.add_argument("--max-seconds", type=float, default=900.0,
                        help="time bound of any single run, and of the whole memory mode (default 900)")
    parser.add_argument("--profile", action="store_true",
                        help="run both proxies under cProfile and print where their CPU goes (slows them down: "
                             "the throughput figures of such a run are not comparable)")
    parser.add_argument("--keep-temp", action="store_true", help="keep the temp dir (proxy logs) for inspection")
    parser.add_argument("--upstream-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.upstream_server:
        upstream_server()
        return
    args.concurrency = max(1, min(args.concurrency, 500))
    args.requests = max(1, min(args.requests, 1_000_000))
    args.latency_requests = max(1, min(args.latency_requests, 1_000_000))
    args.rounds = max(1, min(args.rounds, 50))
    args.warmup = max(0, min(args.warmup, 100_000))
    if args.memory is not None:
        args.memory = max(10, min(args.memory, 10_000_000))
    if args.duration is not None:
        args.duration = max(0.5, min(args.duration, args.max_seconds))

    def on_signal(signum, _frame):
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    print(f"clockify-proxy benchmark, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(environment_line())
    tmp = tempfile.mkdtemp(prefix="clockify-bench-")
    procs = Processes()
    try:
        upstream = start_upstream(procs, tmp)
        print(f"upstream on 127.0.0.1:{upstream.port} (pid {upstream.pid}); temp dir {tmp}")
        if args.memory is not None:
            memory_mode(args, procs, upstream, tmp)
            return
        bare = start_proxy(procs, "bare", upstream.port, tmp, True, args.profile)
        ours = start_proxy(procs, "clockify", upstream.port, tmp, args.clockify_log == "file", args.profile)
        lean = None if args.profile else start_proxy(procs, "lean", upstream.port, tmp, True)
        print(f"bare mitmdump on :{bare.port} (pid {bare.pid}); clockify-proxy on :{ours.port} (pid {ours.pid})"
              + (f"; lean mitmdump on :{lean.port} (pid {lean.pid})" if lean else ""))
        print(f"  clockify-proxy: {' '.join(proxy_command('clockify', upstream.port, ours.port, 'TMP')[1:])}")
        print("sanity check through clockify-proxy, one request of each kind:")
        sanity_check(ours, build_mix(ours.port))
        count = 1_000_000 if args.duration else args.requests
        latency_count = 1_000_000 if args.duration else args.latency_requests
        how = f"{args.duration:g} s" if args.duration else f"{args.requests} requests (c={args.concurrency}), " \
              f"{args.latency_requests} (c=1)"
        print(f"runs: {how} each, after {args.warmup} warm-up requests; {args.rounds} round(s); mix per 10 requests: "
              f"3 time-entry creates, 3 list queries, 2 detailed reports, 2 project lists; {len(WORKSPACES)} workspaces")
        print("'offsets left' = requests (warm-up included) that reached the upstream with a UTC offset still in them")
        concurrencies = [args.concurrency] + ([] if args.no_latency or args.concurrency == 1 else [1])
        runs: list[Run] = []
        targets = {"bare": bare, "clockify-proxy": ours, **({"lean": lean} if lean else {})}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}:")
            order = [t for t in ("bare", "lean", "clockify-proxy") if t in targets]
            order = order if r % 2 == 0 else order[::-1]
            if not args.no_direct:
                order = ["direct"] + order
            for target in order:
                port = upstream.port if target == "direct" else targets[target].port
                pid = upstream.pid if target == "direct" else targets[target].pid
                mix = build_mix(port)
                for c in concurrencies:
                    n = count if c == args.concurrency else latency_count
                    run = measure(target, port, mix, c, n, args.warmup, args.duration, pid, upstream,
                                  check_fixes=target == "clockify-proxy", run_timeout=args.max_seconds)
                    runs.append(run)
                    print(run_line(run), flush=True)
        names = (["direct"] if not args.no_direct else []) + list(targets)
        summary(runs, names, concurrencies, {"direct": upstream, **targets}, args.rounds)
        if args.clockify_log == "file":
            log_report(ours)
        if args.profile:
            for name, proc in (("bare", bare), ("clockify-proxy", ours)):
                handled = sum(r.upstream_requests for r in runs if r.target == name)
                profile_report(name, proc, os.path.join(tmp, "bare" if name == "bare" else "clockify", "profile.pstats"),
                               handled)
        print(f"load average at end {os.getloadavg()[0]:.2f} (other processes on the machine skew these figures)")
    finally:
        procs.close()
        if args.keep_temp:
            print(f"temp dir kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
