"""The clockify_* options: declared, resolved (--set, environment, config file, default), validated."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from mitmproxy import ctx, exceptions

from . import config, credentials, hosts, logs, zones
from .normalize import Zone

LOG_FORMATS = ("auto", "json", "console")
REPORT_ZULU = ("instant", "wall")


@dataclass(frozen=True)
class Settings:
    zone: Zone = field(default_factory=lambda: Zone("UTC", zones.zone("UTC"), "default"))
    upstream: str | None = None
    extra_hosts: frozenset[str] = frozenset()
    log_format: str = "auto"
    keys: credentials.KeyRing = credentials.KeyRing({})
    key_mode: str = "add"
    allow_remote: bool = False
    support_dir: str | None = None
    retry_hide_amount: bool = False
    ca_export_dir: str | None = None
    fix_routes: bool = True
    fix_content_type: bool = True
    rate_limit: float = 50.0
    rate_max_wait: float = 10.0
    rate_retries: int = 2
    report_zulu: str = "instant"
    upstream_timeout: float = 120.0


class ClockifySettings:
    """Owns the shared options; other addons read `.current`."""

    def __init__(self) -> None:
        self.current = Settings()

    def load(self, loader) -> None:
        # Every option is a plain string (or list of strings): mitmproxy silently drops a script
        # whose typed option gets an unparsable --set value, so parsing happens in configure().
        for spec in config.OPTIONS:
            if spec.is_list:
                loader.add_option(spec.name, Sequence[str], [], spec.help)
            else:
                loader.add_option(spec.name, str, "", spec.help)

    def configure(self, updated: set[str]) -> None:
        if not updated & config.SPECS.keys():
            return
        self.current = build({name: getattr(ctx.options, name) for name in config.SPECS}, os.environ)
        logs.setup(self.current.log_format)
        if self.current.zone.source == "fallback":
            logs.get().warning(
                "timezone.fallback", option="clockify_timezone",
                message="the host's zone has no IANA name; naive times are read in UTC",
            )


def build(set_values: dict[str, object], environ) -> Settings:
    """Resolve and validate every option; raise OptionsError naming the option at fault."""
    file_name, _ = config.config_file(set_values.get("clockify_config") or "", environ)
    try:
        file_values = config.load_file(file_name) if file_name else {}
    except config.ConfigError as e:
        raise exceptions.OptionsError(f"clockify_config: {e}") from None

    def get(name: str) -> config.Resolved:
        return config.resolve(config.SPECS[name], set_values.get(name), environ, file_values, file_name or "")

    tz_opt = get("clockify_timezone")
    if tz_opt.value is None:
        host_zone = zones.host_zone_name()
        zone = Zone(host_zone or "UTC", zones.zone(host_zone or "UTC"), "host" if host_zone else "fallback")
    else:
        try:
            zone = Zone(tz_opt.value, zones.zone(tz_opt.value), f"clockify_timezone ({tz_opt.source})")
        except zones.UnknownZone as e:
            raise exceptions.OptionsError(f"clockify_timezone (from {tz_opt.source}): {e}") from None

    upstream_opt = get("clockify_upstream")
    upstream = None
    if upstream_opt.value is not None:
        try:
            upstream = hosts.parse_upstream(upstream_opt.value)
        except ValueError as e:
            raise exceptions.OptionsError(f"clockify_upstream (from {upstream_opt.source}): {e}") from None

    hosts_opt = get("clockify_hosts")
    for name in hosts_opt.value:
        if not hosts.valid_host_name(name):
            raise exceptions.OptionsError(
                f"clockify_hosts (from {hosts_opt.source}): {name!r} is not a host name"
            )

    support_opt = get("clockify_support_dir")
    if support_opt.value:
        try:
            os.makedirs(support_opt.value, exist_ok=True)
        except OSError as e:
            raise exceptions.OptionsError(
                f"clockify_support_dir (from {support_opt.source}): cannot create {support_opt.value}: {e.strerror}"
            ) from None
        if not os.access(support_opt.value, os.W_OK):
            raise exceptions.OptionsError(f"clockify_support_dir (from {support_opt.source}): {support_opt.value} is not writable")
    return Settings(
        zone=zone,
        upstream=upstream,
        extra_hosts=frozenset(hosts.normal_host(h) for h in hosts_opt.value),
        log_format=choice(get("clockify_log_format"), LOG_FORMATS),
        keys=key_ring(get, set_values, environ),
        key_mode=choice(get("clockify_key_mode"), credentials.KEY_MODES),
        allow_remote=boolean(get("clockify_allow_remote")),
        support_dir=support_opt.value,
        retry_hide_amount=boolean(get("clockify_retry_hide_amount")),
        ca_export_dir=get("clockify_ca_export_dir").value,
        fix_routes=boolean(get("clockify_fix_routes"), default="true"),
        fix_content_type=boolean(get("clockify_fix_content_type"), default="true"),
        rate_limit=number(get("clockify_rate_limit"), "50", float),
        rate_max_wait=number(get("clockify_rate_max_wait"), "10", float),
        rate_retries=int(number(get("clockify_rate_retries"), "2", int)),
        report_zulu=choice(get("clockify_report_zulu"), REPORT_ZULU),
        upstream_timeout=number(get("clockify_upstream_timeout"), "120", float),
    )


def choice(option: config.Resolved, choices: tuple[str, ...]) -> str:
    value = option.value or choices[0]
    if value not in choices:
        raise exceptions.OptionsError(f"{option.name} (from {option.source}): {value!r} is not one of {', '.join(choices)}")
    return value


def number(option: config.Resolved, default: str, kind: type) -> float:
    text = (option.value or default).strip()
    try:
        value = kind(text)
    except ValueError:
        value = -1
    if not 0 <= value < 1e6:
        raise exceptions.OptionsError(f"{option.name} (from {option.source}): {text!r} is not a number from 0 up")
    return value


def boolean(option: config.Resolved, default: str = "false") -> bool:
    words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
    value = words.get((option.value or default).strip().lower())
    if value is None:
        raise exceptions.OptionsError(f"{option.name} (from {option.source}): {option.value!r} is not true or false")
    return value


def key_ring(get, set_values: dict, environ) -> credentials.KeyRing:
    """Keys from the key file, then clockify_api_keys, then clockify_api_key (--set, then environment)."""
    if "CLOCKIFY_API_KEY" in environ and not environ["CLOCKIFY_API_KEY"].strip() and not set_values.get("clockify_api_key"):
        raise exceptions.OptionsError("clockify_api_key (from env CLOCKIFY_API_KEY): the key is empty")
    ring: dict[str, str] = {}
    file_opt = get("clockify_api_key_file")
    if file_opt.value:
        try:
            with open(file_opt.value, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            raise exceptions.OptionsError(
                f"clockify_api_key_file (from {file_opt.source}): cannot read {file_opt.value}: {reason}"
            ) from None
        try:
            ring.update(credentials.parse_key_file(text, f"clockify_api_key_file {file_opt.value}"))
        except credentials.BadKey as e:
            raise exceptions.OptionsError(str(e)) from None
    scoped_opt = get("clockify_api_keys")
    try:
        ring.update(credentials.parse_scoped(scoped_opt.value, f"clockify_api_keys (from {scoped_opt.source})"))
        key_opt = get("clockify_api_key")
        if key_opt.value:
            ring[credentials.DEFAULT] = credentials.check_key(key_opt.value, f"clockify_api_key (from {key_opt.source})")
    except credentials.BadKey as e:
        raise exceptions.OptionsError(str(e)) from None
    return credentials.KeyRing(ring)
