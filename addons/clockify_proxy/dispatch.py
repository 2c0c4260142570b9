"""mitmproxy's event dispatch, leaner: the AddonManager that `clockify-proxy` runs.

mitmproxy dispatches every event of every flow (eight per request) to each of its ~35 addons
through a context manager, a coroutine and two generators per addon, and re-reads the event's
arguments per hook. That costs more CPU per request than all of clockify-proxy's own work
(BENCHMARKS.md). This does the same, in the same order, with the same error handling, in one
loop. Only `trigger_event` changes: the one mitmproxy awaits for flow events.
"""

from __future__ import annotations

import inspect
import sys
import types

from mitmproxy import addonmanager, exceptions, hooks


class ClockifyAddonManager(addonmanager.AddonManager):
    async def trigger_event(self, event: hooks.Hook) -> None:
        name = event.name
        args = event.args()
        for addon in self.chain:
            try:
                # As mitmproxy's safecall around invoke_addon: an error ends this addon's turn
                # (children included), is logged, and the next addon runs.
                for a in addonmanager.traverse([addon]) if hasattr(addon, "addons") else (addon,):
                    func = getattr(a, name, None)
                    if not func:
                        continue
                    if not callable(func):
                        if isinstance(func, types.ModuleType):  # e.g. `from mitmproxy import log`
                            continue
                        raise exceptions.AddonManagerError(f"Addon handler {name} ({a}) not callable")
                    result = func(*args)
                    if result is not None and inspect.isawaitable(result):
                        await result
            except exceptions.AddonHalt:
                return
            except exceptions.OptionsError:
                raise
            except Exception:
                etype, value, tb = sys.exc_info()
                addonmanager.logger.error(
                    f"Addon error: {value}",
                    exc_info=(etype, value, addonmanager.cut_traceback(tb, "trigger_event")),
                )
