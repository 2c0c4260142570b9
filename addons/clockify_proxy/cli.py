"""`clockify-proxy`: mitmdump with the clockify-proxy addons built in.

Every mitmdump flag passes through. The addons are part of the master rather than a `-s`
script, so an option value that cannot be parsed stops start-up instead of silently
unloading them. The proxy listens on 127.0.0.1 and connects upstream lazily unless told otherwise.
"""

from __future__ import annotations

import functools
import sys

from mitmproxy import addons, exceptions, hooks, master
from mitmproxy.addons import dumper, errorcheck, keepserving, readfile
from mitmproxy.tools import cmdline
from mitmproxy.tools.dump import DumpMaster
from mitmproxy.tools.main import run

from . import ClockifyProxy, config
from .dispatch import ClockifyAddonManager

DEFAULT_LISTEN_HOST = "127.0.0.1"


def own_set_options(argv: list[str]) -> list[str]:
    """The `--set clockify_*=...` arguments, so the addons see them when they first configure."""
    found = []
    for i, arg in enumerate(argv):
        value = None
        if arg == "--set" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--set="):
            value = arg[len("--set="):]
        if value and value.split("=", 1)[0] in config.SPECS:
            found.append(value)
    return found


class ClockifyDumpMaster(DumpMaster):
    """DumpMaster with our addons where `-s` scripts sit: before the flow printer."""

    def __init__(self, options, argv: list[str] = (), loop=None, with_termlog=True, with_dumper=True) -> None:
        master.Master.__init__(self, options, event_loop=loop, with_termlog=with_termlog)
        self.addons.__class__ = ClockifyAddonManager  # the same manager (termlog is in it already), leaner dispatch
        self.addons.add(*addons.default_addons())
        # lazy: an upstream that cannot be reached becomes a 502 that explains itself, instead of a
        # connection the client sees closed without an answer (mitmproxy's eager default).
        options.update(listen_host=DEFAULT_LISTEN_HOST, connection_strategy="lazy")
        options.set(*own_set_options(list(argv)), defer=True)
        ours = ClockifyProxy()
        self.addons.add(ours)
        # Built-in addons only hear of options that change; ours need the whole picture (the
        # environment and config file count too), as a -s script gets it when it loads.
        self.addons.invoke_addon_sync(ours, hooks.ConfigureHook(set(options.keys())))
        if with_dumper:
            self.addons.add(dumper.Dumper())
        self.addons.add(keepserving.KeepServing(), readfile.ReadFileStdin(), errorcheck.ErrorCheck())


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    sys.argv[0] = "clockify-proxy"  # mitmproxy prefixes its start-up errors with it
    try:
        run(functools.partial(ClockifyDumpMaster, argv=args), cmdline.mitmdump, args)
    except exceptions.OptionsError as e:
        print(f"clockify-proxy: {e}", file=sys.stderr)
        sys.exit(2)
