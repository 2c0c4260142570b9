"""Where each clockify-proxy option takes its value from.

Precedence, highest first: `--set name=value` (and mitmproxy's own config.yaml, which mitmproxy
applies as if it were `--set`), the environment (`CLOCKIFY_*`), the config file, the default.
An option set to an empty value counts as not set.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

DEFAULT_CONFIG_FILE = os.path.join("config", "clockify-proxy.toml")


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class OptionSpec:
    name: str
    is_list: bool
    help: str
    secret: bool = False  # never read from the config file, which is easy to commit by mistake

    @property
    def env(self) -> str:
        return self.name.upper()


OPTIONS: tuple[OptionSpec, ...] = (
    OptionSpec(
        "clockify_timezone",
        False,
        "IANA zone in which naive times (no Z, no offset) are read and report ranges are written, "
        "e.g. Europe/Brussels. Default: the host's zone.",
    ),
    OptionSpec(
        "clockify_report_zulu",
        False,
        "How a report range ending in Z is read: instant (default: the UTC moment it names, sent as "
        "the wall clock of the report's timeZone) or wall (already a wall clock in timeZone, as "
        "Clockify's web app writes them: only the Z is dropped).",
    ),
    OptionSpec(
        "clockify_upstream",
        False,
        "Base URL that receives all Clockify traffic instead of the real hosts (a mock, a staging "
        "copy), in the regional layout: /api/v1, /report/v1, /pto/v1. Default: the real hosts.",
    ),
    OptionSpec(
        "clockify_hosts",
        True,
        "Extra host names to treat as Clockify (e.g. a self-hosted domain). Repeat the option or "
        "separate names with commas.",
    ),
    OptionSpec(
        "clockify_config",
        False,
        f"Config file (TOML) with any of these options by name. Default: {DEFAULT_CONFIG_FILE} "
        "in the current directory, when it exists.",
    ),
    OptionSpec(
        "clockify_api_key",
        False,
        "Clockify API key added as X-Api-Key to Clockify requests that carry no credential. Prefer "
        "CLOCKIFY_API_KEY or clockify_api_key_file: a --set value is visible in the process list.",
        secret=True,
    ),
    OptionSpec(
        "clockify_api_key_file",
        False,
        "File holding the API key (a Docker or Kubernetes secret), or lines scope=key with scope "
        "global, euc1, use2, euw2, apse2, developer or a host name.",
    ),
    OptionSpec(
        "clockify_api_keys",
        True,
        "Keys bound to a region or host, as scope=key (scope: global, euc1, use2, euw2, apse2, "
        "developer or a host name). Keys are region-bound: a global key fails on euc1.",
        secret=True,
    ),
    OptionSpec(
        "clockify_key_mode",
        False,
        "add: add the key only where the client sent no X-Api-Key or X-Addon-Token (default); "
        "replace: send the configured key instead of the client's credential; off: never add a key.",
    ),
    OptionSpec(
        "clockify_allow_remote",
        False,
        "true to listen on a non-loopback address without proxyauth (e.g. in a private Docker "
        "network). Without it, such a listen address needs proxyauth.",
    ),
    OptionSpec(
        "clockify_support_dir",
        False,
        "Folder where a redacted record (request, response, diagnosis; credentials masked) of each "
        "failing Clockify call is written, ready to attach to a support ticket. Default: none.",
    ),
    OptionSpec(
        "clockify_retry_hide_amount",
        False,
        'true to retry once, with "amountShown": "HIDE_AMOUNT", a report that Clockify refused with '
        "403 because it asked for amounts. Default: false.",
    ),
    OptionSpec(
        "clockify_ca_export_dir",
        False,
        "Folder where the proxy copies the public mitmproxy CA certificate (mitmproxy-ca-cert.pem) "
        "at start-up, for clients to trust; share this folder, never the confdir (it holds the CA key).",
    ),
    OptionSpec(
        "clockify_fix_routes",
        False,
        "true (default) to send a reports call made to a core host to the reports service of the same "
        "region, and a legacy time-off host call to its current place, instead of letting it fail.",
    ),
    OptionSpec(
        "clockify_fix_content_type",
        False,
        "true (default) to send a JSON body that came without Content-Type: application/json (or as "
        "text/plain) with that header.",
    ),
    OptionSpec(
        "clockify_rate_limit",
        False,
        "Requests per second allowed to each workspace and key; requests beyond are held briefly "
        "instead of failing with 429. 0 turns holding off. Default: 50, Clockify's limit.",
    ),
    OptionSpec(
        "clockify_rate_max_wait",
        False,
        "Seconds a request may be held for the rate, or wait before a 429 retry, at most. Default: 10.",
    ),
    OptionSpec(
        "clockify_rate_retries",
        False,
        "How many times a 429 answer to GET, HEAD, PUT, DELETE or OPTIONS is retried (after "
        "Retry-After, or a doubling backoff). POST and PATCH are never retried. 0 turns it off. Default: 2.",
    ),
    OptionSpec(
        "clockify_upstream_timeout",
        False,
        "Seconds to wait for Clockify's answer once a request has left; then the client gets a 504 "
        "that says so. 0 waits as long as the connection lives. Default: 120.",
    ),
    OptionSpec(
        "clockify_log_format",
        False,
        "Log format of clockify-proxy's events: auto (readable on a terminal, JSON lines "
        "otherwise), json or console.",
    ),
)
SPECS = {spec.name: spec for spec in OPTIONS}


@dataclass(frozen=True)
class Resolved:
    name: str
    value: object  # str, tuple[str, ...], or None when no source sets it
    source: str  # "--set", "env CLOCKIFY_X", "config file PATH", "default"


def _split(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(p.strip() for item in items for p in item.split(",") if p.strip())


def resolve(
    spec: OptionSpec,
    set_value: object,
    environ: Mapping[str, str],
    file_values: Mapping[str, object],
    file_name: str,
) -> Resolved:
    if spec.is_list:
        if set_value and _split(set_value):
            return Resolved(spec.name, _split(set_value), "--set")
        if environ.get(spec.env, "").strip():
            return Resolved(spec.name, _split([environ[spec.env]]), f"env {spec.env}")
        value = file_values.get(spec.name, ())
        items = _split([value] if isinstance(value, str) else value)
        if items:
            return Resolved(spec.name, items, f"config file {file_name}")
        return Resolved(spec.name, (), "default")
    if isinstance(set_value, str) and set_value.strip():
        return Resolved(spec.name, set_value.strip(), "--set")
    if environ.get(spec.env, "").strip():
        return Resolved(spec.name, environ[spec.env].strip(), f"env {spec.env}")
    if str(file_values.get(spec.name, "")).strip():
        return Resolved(spec.name, file_values[spec.name].strip(), f"config file {file_name}")
    return Resolved(spec.name, None, "default")


def load_file(path: str) -> dict[str, object]:
    """Read a TOML config file; every key must be a known option with a value of the right type."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path} is not valid TOML (UTF-8): {e}") from None
    for key, value in data.items():
        spec = SPECS.get(key)
        if spec is None:
            raise ConfigError(f"config file {path}: unknown option {key!r} (known: {', '.join(SPECS)})")
        if key == "clockify_config":
            raise ConfigError(f"config file {path}: clockify_config cannot be set in a config file")
        if spec.secret:
            raise ConfigError(
                f"config file {path}: {key} cannot be set in a config file (keep keys out of files that "
                "get committed: use clockify_api_key_file or the environment)"
            )
        ok = (
            isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
            if spec.is_list
            else isinstance(value, str)
        )
        if not ok:
            kind = "a string or a list of strings" if spec.is_list else "a string"
            raise ConfigError(f"config file {path}: {key} must be {kind}")
    return data


def config_file(set_value: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The config file to read, and where that choice came from; None when there is none."""
    if set_value.strip():
        return set_value.strip(), "--set"
    if environ.get("CLOCKIFY_CONFIG", "").strip():
        return environ["CLOCKIFY_CONFIG"].strip(), "env CLOCKIFY_CONFIG"
    if os.path.isfile(DEFAULT_CONFIG_FILE):
        return DEFAULT_CONFIG_FILE, "default"
    return None, "default"
