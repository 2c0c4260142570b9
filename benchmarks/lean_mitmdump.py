#!/usr/bin/env python3
"""Bare mitmdump under clockify-proxy's event dispatch (clockify_proxy.dispatch), no other change.

bench_proxy.py runs it beside bare mitmdump and clockify-proxy: clockify-proxy against this one is
what its addons cost, with the dispatch saving taken out. Same command line as mitmdump.
"""

from mitmproxy.tools import dump, main

from clockify_proxy.dispatch import ClockifyAddonManager


class LeanDumpMaster(dump.DumpMaster):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.addons.__class__ = ClockifyAddonManager


if __name__ == "__main__":
    dump.DumpMaster = LeanDumpMaster  # mitmdump() looks it up when it runs
    main.mitmdump()
