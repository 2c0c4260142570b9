#!/usr/bin/env python3
"""Micro-benchmarks of clockify-proxy's pure rules: no network, no mitmproxy event loop.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/bench_rules.py             # the figures (about 20-40 s)
    .venv/bin/python benchmarks/bench_rules.py --quick     # fewer repeats, smaller bulk sizes
    .venv/bin/python benchmarks/bench_rules.py --profile   # also cProfile of the typical and bulk bodies

What is measured, each the way the addon (timefix.ClockifyTimes.request) calls it:

- fix_json end to end on a typical time-entry create body (bytes in, bytes out: UTF-8 decode,
  json.loads, plan_fields, jsonsplice.splice, the verifying json.loads), target < 20 us per call;
- plan_fields alone on the parsed document, same target;
- a few variants for context (naive values read in Europe/Brussels, a UTC body that needs no
  change, a report body, a list query string, the catalogue lookup);
- a bulk edit (PUT .../user/{userId}/time-entries, a JSON array) at 1,000 to 10,000 entries:
  time per call, per entry, and whether the cost per entry stays flat (linear growth).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import platform
import pstats
import statistics
import sys
import time
import timeit
from datetime import datetime, timezone

try:
    import clockify_proxy  # noqa: F401  (installed: pip install -e .)
except ImportError:  # a checkout without the package installed
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "addons"))

from clockify_proxy import catalogue, jsonsplice, normalize, timefix, timevalues, zones  # noqa: E402

TARGET_US = 20.0
ZONE_NAME = "Europe/Brussels"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)

# What a client such as a timesheet sync script sends to create an entry: offsets to fix.
TYPICAL_ENTRY = {
    "start": "2024-05-01T09:00:00+02:00",
    "end": "2024-05-01T17:30:00+02:00",
    "billable": True,
    "description": "Sprint planning and review with the platform team",
    "projectId": "5b641568b07987035750505e",
    "taskId": "5b715448b0798751107918ab",
    "tagIds": ["5b640b6ab07987035750504a", "5b640b6ab07987035750504b"],
    "customFields": [{"customFieldId": "5e4117fe8c625f38930d57b7", "value": "CC-1042"}],
    "type": "REGULAR",
}


def entry(i: int, start: str = "2024-05-01T09:00:00+02:00", end: str = "2024-05-01T10:30:00+02:00") -> dict:
    """Item i of a bulk edit: an existing entry (id) with new start/end and its other fields."""
    return {
        "id": f"66{i:022x}",
        "start": start.replace("2024-05-01", f"2024-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"),
        "end": end.replace("2024-05-01", f"2024-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}"),
        "billable": i % 3 == 0,
        "description": f"Task {i}: code review",
        "projectId": "5b641568b07987035750505e",
        "taskId": None,
        "tagIds": ["5b640b6ab07987035750504a"],
        "type": "REGULAR",
    }


def dumps(doc) -> bytes:
    return json.dumps(doc).encode("utf-8")


def bench(fn, repeat: int, min_time: float) -> tuple[float, float, int]:
    """(best, median) seconds per call over `repeat` timings of an autoranged loop count."""
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()  # at least 0.2 s per timing
    number = max(1, int(number * min_time / 0.2))
    times = [t / number for t in timer.repeat(repeat=repeat, number=number)]
    return min(times), statistics.median(times), number


def line(label: str, best: float, median: float, number: int, target: float | None = None) -> None:
    us_best, us_median = best * 1e6, median * 1e6
    verdict = ""
    if target is not None:  # judged on the best timing: other load on the machine only ever adds time
        ok = us_best < target
        verdict = f"  target < {target:g} us: {'MET' if ok else 'MISSED'}" + (
            "" if ok else f" by {us_best - target:.1f} us ({us_best / target:.1f}x)"
        )
    print(f"  {label:<64} {us_best:8.2f} us best {us_median:9.2f} us median  (x{number}){verdict}")


def check_fix(content: bytes, endpoint, zone, expect_change: bool) -> None:
    """The benchmark must measure the real work: make sure the body really is (or is not) edited."""
    new, plan = timefix.fix_json(content, endpoint, zone, NOW)
    if plan.rejection or bool(plan.edits) != expect_change or (new != content) != expect_change:
        raise SystemExit(f"unexpected result for the benchmark body: edits={plan.edits!r} rejection={plan.rejection!r}")


def single_bodies(args, zone) -> None:
    create = catalogue.find("POST", "/v1/workspaces/w/time-entries")
    report = catalogue.find("POST", "/v1/workspaces/w/reports/detailed")
    listing = catalogue.find("GET", "/v1/workspaces/w/user/u/time-entries")
    typical = dumps(TYPICAL_ENTRY)
    naive = dumps({**TYPICAL_ENTRY, "start": "2024-05-01T09:00:00", "end": "2024-05-01T17:30:00"})
    utc = dumps({**TYPICAL_ENTRY, "start": "2024-05-01T07:00:00Z", "end": "2024-05-01T15:30:00Z"})
    report_body = dumps({
        "dateRangeStart": "2024-04-30T22:00:00.000Z",
        "dateRangeEnd": "2024-05-31T21:59:59.999Z",
        "timeZone": "Europe/Brussels",
        "detailedFilter": {"page": 1, "pageSize": 50},
        "exportType": "JSON",
        "amountShown": "EARNED",
    })
    query_path = ("/api/v1/workspaces/w/user/u/time-entries?start=2024-05-01T00:00:00%2B02:00"
                  "&end=2024-05-31T23:59:59%2B02:00&page=1&page-size=50")
    for body, endpoint, change in ((typical, create, True), (naive, create, True), (utc, create, False),
                                   (report_body, report, True)):
        check_fix(body, endpoint, zone, change)
    doc = json.loads(typical)

    print(f"typical time-entry create body ({len(typical)} bytes): {typical.decode()}")
    print("  per call (best and median of the repeats; targets judged on the best):")
    r, n = args.repeat, args.min_time
    line("fix_json, offsets to fix (end to end, as the addon)",
         *bench(lambda: timefix.fix_json(typical, create, zone, NOW), r, n), target=TARGET_US)
    line("plan_fields alone (parsed document)",
         *bench(lambda: normalize.plan_fields(create, "body", create.body, doc, zone, NOW), r, n), target=TARGET_US)
    print("  for context (no target):")
    line("catalogue.find('POST', '/v1/workspaces/w/time-entries')",
         *bench(lambda: catalogue.find("POST", "/v1/workspaces/w/time-entries"), r, n))
    line("json.loads of the same body (a floor for any JSON rule)", *bench(lambda: json.loads(typical), r, n))
    text = typical.decode()
    plan = normalize.plan_fields(create, "body", create.body, doc, zone, NOW)
    replace = {e.path: e.after for e in plan.edits}
    line("jsonsplice.splice of its two new values (inside fix_json)",
         *bench(lambda: jsonsplice.splice(text, replace, {}), r, n))
    line("timevalues.parse of one value (plan_fields does one per field)",
         *bench(lambda: timevalues.parse("2024-05-01T09:00:00+02:00"), r, n))
    moment = datetime(2024, 5, 1, 7, 0, tzinfo=timezone.utc)
    line("timevalues.format_utc of one instant", *bench(lambda: timevalues.format_utc(moment), r, n))
    line("fix_json, naive values read in Europe/Brussels",
         *bench(lambda: timefix.fix_json(naive, create, zone, NOW), r, n))
    line("fix_json, already UTC ...Z (forwarded byte-identical)",
         *bench(lambda: timefix.fix_json(utc, create, zone, NOW), r, n))
    line(f"fix_json, detailed report body ({len(report_body)} B, Z -> wall clock)",
         *bench(lambda: timefix.fix_json(report_body, report, zone, NOW), r, n))
    line("fix_query, list window ?start=...%2B02:00&end=...",
         *bench(lambda: timefix.fix_query(query_path, listing, zone, NOW), r, n))
    print()


def bulk(args, zone) -> None:
    endpoint = catalogue.find("PUT", "/v1/workspaces/w/user/u/time-entries")
    print("bulk edit, PUT /v1/workspaces/w/user/u/time-entries (JSON array, every start/end with an offset to fix):")
    print(f"  {'entries':>8} {'body':>9} {'per call':>11} {'per entry':>11} {'json.loads':>11} "
          f"{'plan_fields':>12} {'splice':>10} {'| gc off: per entry':>20}")
    print(f"  (best of {args.bulk_repeat}; garbage collector on as in the proxy, except in the last column)")
    per_entry, per_entry_no_gc = {}, {}
    for size in args.sizes:
        content = dumps([entry(i) for i in range(size)])
        check_fix(content, endpoint, zone, True)
        doc = json.loads(content)
        text = content.decode()
        plan = normalize.plan_fields(endpoint, "body", endpoint.body, doc, zone, NOW)
        replace = {e.path: e.after for e in plan.edits}
        if len(replace) != 2 * size:
            raise SystemExit(f"expected {2 * size} edits, got {len(replace)}")

        def best(fn):  # with the garbage collector on, as in the proxy (timeit turns it off by default)
            return min(timeit.repeat(fn, "gc.enable()", number=1, repeat=args.bulk_repeat, globals={"gc": gc}))

        whole = best(lambda: timefix.fix_json(content, endpoint, zone, NOW))
        loads = best(lambda: json.loads(text))
        planning = best(lambda: normalize.plan_fields(endpoint, "body", endpoint.body, doc, zone, NOW))
        splicing = best(lambda: jsonsplice.splice(text, replace, {}))
        no_gc = min(timeit.repeat(lambda: timefix.fix_json(content, endpoint, zone, NOW), number=1,
                                  repeat=args.bulk_repeat))  # timeit's default: collector off
        per_entry[size] = whole / size
        per_entry_no_gc[size] = no_gc / size
        print(f"  {size:>8} {len(content) / 1024:>7.0f}KB {whole * 1e3:>9.2f}ms {whole / size * 1e6:>9.2f}us "
              f"{loads * 1e3:>9.2f}ms {planning * 1e3:>10.2f}ms {splicing * 1e3:>8.2f}ms {no_gc / size * 1e6:>18.2f}us")
    if len(per_entry) >= 2:
        small, large = min(per_entry), max(per_entry)
        b_on, b_off = exponent(per_entry), exponent(per_entry_no_gc)
        verdict = "linear" if b_on < 1.15 else ("roughly linear" if b_on < 1.3 else "SUPER-LINEAR")
        print(f"  growth: time per call ~ entries^b with b = {b_on:.2f} (collector on), {b_off:.2f} (off); "
              f"1.00 = linear, 2.00 = quadratic -> {verdict}")
        print(f"          per-entry time at {large:,} / at {small:,} entries = {per_entry[large] / per_entry[small]:.2f} "
              f"(collector on), {per_entry_no_gc[large] / per_entry_no_gc[small]:.2f} (off)")
    print()


def exponent(per_entry: dict[int, float]) -> float:
    """Least-squares slope of log(time per call) against log(entries)."""
    xs = [math.log(n) for n in per_entry]
    ys = [math.log(t * n) for n, t in per_entry.items()]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def profile(zone, sizes) -> None:
    create = catalogue.find("POST", "/v1/workspaces/w/time-entries")
    bulk_endpoint = catalogue.find("PUT", "/v1/workspaces/w/user/u/time-entries")
    typical = dumps(TYPICAL_ENTRY)
    big = dumps([entry(i) for i in range(max(sizes))])
    for title, fn, calls in (
        ("typical time-entry body, 20,000 calls", lambda: timefix.fix_json(typical, create, zone, NOW), 20_000),
        (f"bulk body of {max(sizes):,} entries, 3 calls", lambda: timefix.fix_json(big, bulk_endpoint, zone, NOW), 3),
    ):
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(calls):
            fn()
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(14)
        print(f"cProfile, {title}, sorted by own time (cProfile inflates small calls):")
        body = out.getvalue()
        start = body.find("   ncalls")
        print(body[start:].rstrip() if start >= 0 else body)
        print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="timings per micro-benchmark (default 7)")
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per timing, at least (default 0.2)")
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=None,
                        help="bulk sizes, comma-separated (default 1000,2000,5000,10000; --quick: 1000,2000,5000)")
    parser.add_argument("--bulk-repeat", type=int, default=5, help="timings per bulk size (default 5)")
    parser.add_argument("--quick", action="store_true", help="repeat 3, bulk repeat 3, bulk sizes up to 5000")
    parser.add_argument("--profile", action="store_true", help="also print cProfile of the typical and bulk bodies")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.bulk_repeat = 3, 3
    if args.sizes is None:
        args.sizes = [1000, 2000, 5000] if args.quick else [1000, 2000, 5000, 10000]
    args.repeat = max(1, min(args.repeat, 50))
    args.min_time = max(0.01, min(args.min_time, 5.0))
    args.bulk_repeat = max(1, min(args.bulk_repeat, 50))
    args.sizes = sorted({max(1, min(s, 200_000)) for s in args.sizes})

    try:
        from mitmproxy.version import VERSION as mitm_version
    except ImportError:
        mitm_version = "not installed"
    print(f"clockify-proxy rules benchmark, {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench_proxy import code_version

    print(f"python {platform.python_version()} ({sys.executable}), mitmproxy {mitm_version}, "
          f"{os.cpu_count()} CPUs, {platform.machine()}; clockify_proxy {code_version()}")
    zone = normalize.Zone(ZONE_NAME, zones.zone(ZONE_NAME), "bench")
    print(f"zone {ZONE_NAME} ({type(zone.tz).__module__}.{type(zone.tz).__name__}), now = {NOW.isoformat()}")
    reference = min(timeit.repeat("sum(range(1000))", number=2000, repeat=5)) / 2000 * 1e6
    print(f"machine speed reference: sum(range(1000)) takes {reference:.1f} us here (scale the figures below by it "
          f"to compare machines); load average {os.getloadavg()[0]:.2f}")
    print()
    single_bodies(args, zone)
    bulk(args, zone)
    if args.profile:
        profile(zone, args.sizes)


if __name__ == "__main__":
    main()
