"""clockify-proxy's AddonManager dispatches flow events exactly as mitmproxy's does, only cheaper.

Each scenario runs through mitmproxy's own AddonManager and through ClockifyAddonManager; the
calls the addons saw and the errors logged must be the same.
"""

import asyncio
import logging
import types

import pytest
from mitmproxy import exceptions, master, options
from mitmproxy.proxy.layers.http import HttpRequestHook
from mitmproxy.test import tflow

from clockify_proxy.dispatch import ClockifyAddonManager


class Recorder:
    def __init__(self, name, calls, fail=None):
        self.name, self.calls, self.fail = name, calls, fail

    def request(self, flow):
        self.calls.append((self.name, flow.request.path))
        if self.fail:
            raise self.fail


class AsyncRecorder(Recorder):
    async def request(self, flow):
        await asyncio.sleep(0)
        super().request(flow)


class Parent(Recorder):
    def __init__(self, name, calls, children):
        super().__init__(name, calls)
        self.addons = children


class ModuleNamedLikeAHook:
    name = "module_named_like_a_hook"
    request = types.ModuleType("request")


class NotCallable:
    name = "not_callable"
    request = 42

    def __repr__(self):
        return "NotCallable()"


def scenario(calls):
    return [
        Recorder("first", calls),
        AsyncRecorder("async", calls),
        Parent("parent", calls, [Recorder("child", calls, fail=ValueError("child broke")), Recorder("child2", calls)]),
        ModuleNamedLikeAHook(),
        NotCallable(),
        Recorder("after errors", calls),
        Recorder("halts", calls, fail=exceptions.AddonHalt()),
        Recorder("never", calls),
    ]


def run(manager_classes, addons_for, caplog):
    """[(calls, error messages)] of one request event, per manager class, in one event loop."""

    async def main():
        found = []
        for manager_class in manager_classes:
            m = master.Master(options.Options())
            m.addons.__class__ = manager_class
            calls = []
            m.addons.add(*addons_for(calls))
            caplog.clear()
            try:
                await m.addons.handle_lifecycle(HttpRequestHook(tflow.tflow()))
            finally:
                m._legacy_log_events.uninstall()
            found.append((calls, [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]))
        return found

    return asyncio.run(main())


def test_same_calls_order_errors_and_halt_as_mitmproxys_manager(caplog):
    from mitmproxy.addonmanager import AddonManager

    expected, ours = run([AddonManager, ClockifyAddonManager], scenario, caplog)
    assert ours == expected
    calls, errors = ours
    assert calls == [("first", "/path"), ("async", "/path"), ("parent", "/path"), ("child", "/path"),
                     ("after errors", "/path"), ("halts", "/path")]
    assert errors == ["Addon error: child broke", "Addon error: Addon handler request (NotCallable()) not callable"]


def test_options_error_propagates_like_mitmproxys(caplog):
    from mitmproxy.addonmanager import AddonManager

    def addons_for(calls):
        return [Recorder("bad option", calls, fail=exceptions.OptionsError("no"))]

    for manager_class in (AddonManager, ClockifyAddonManager):
        with pytest.raises(exceptions.OptionsError):
            run([manager_class], addons_for, caplog)


def test_the_traceback_of_an_addon_error_starts_at_the_addon(caplog):
    def addons_for(calls):
        return [Recorder("broken", calls, fail=RuntimeError("boom"))]

    run([ClockifyAddonManager], addons_for, caplog)
    (record,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    tb = record.exc_info[2]
    assert tb.tb_frame.f_code.co_name == "request"


def test_clockify_proxy_runs_under_the_lean_manager_with_every_addon_kept():
    from mitmproxy.tools.dump import DumpMaster

    from clockify_proxy import ClockifyProxy, cli

    async def main():
        ours = cli.ClockifyDumpMaster(options.Options(), with_termlog=True)
        bare = DumpMaster(options.Options(), with_termlog=True)
        try:
            return ours.addons, [type(a) for a in ours.addons.chain], [type(a) for a in bare.addons.chain]
        finally:
            ours._legacy_log_events.uninstall()
            bare._legacy_log_events.uninstall()

    manager, ours, bare = asyncio.run(main())
    assert isinstance(manager, ClockifyAddonManager)
    assert [t for t in ours if t is not ClockifyProxy] == bare  # mitmdump's addons, termlog included, in order
