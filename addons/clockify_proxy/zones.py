"""Time zone names: validation and the host's own zone."""

from __future__ import annotations

import os
import zoneinfo
from datetime import tzinfo
from functools import lru_cache

from dateutil import tz


class UnknownZone(ValueError):
    pass


@lru_cache(maxsize=1)
def iana_keys() -> frozenset[str]:
    # IANA keys only ("Europe/Brussels", "UTC", "Etc/GMT+5"): dateutil's gettz also accepts POSIX
    # TZ strings such as "UTC+3" (whose sign is the reverse of what people expect), file paths,
    # and zone files that are no IANA key (posix/..., right/... with leap seconds, localtime).
    # None of them may reach Clockify as a `timeZone`.
    return (frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules"}) | {"UTC"}


def zone(name: str) -> tzinfo:
    """The tzinfo for an IANA zone name; raises UnknownZone for anything else."""
    if not isinstance(name, str) or name not in iana_keys():
        raise UnknownZone(f"{name!r} is not an IANA time zone name (e.g. Europe/Brussels)")
    return _gettz(name)


@lru_cache(maxsize=256)
def _gettz(name: str) -> tzinfo:
    found = tz.gettz(name)
    if not isinstance(found, (tz.tzfile, tz.tzutc)):
        raise UnknownZone(f"{name!r} is not an IANA time zone name (e.g. Europe/Brussels)")
    return found


def is_zone(name: object) -> bool:
    try:
        zone(name)  # type: ignore[arg-type]
    except UnknownZone:
        return False
    return True


def host_zone_name() -> str | None:
    """The IANA name of this machine's zone, or None when it cannot be named."""
    candidates = []
    env = os.environ.get("TZ", "").lstrip(":")
    if env:
        candidates.append(env)
    try:
        with open("/etc/timezone", encoding="utf-8") as f:
            candidates.append(f.read().strip())
    except OSError:
        pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if is_zone(name):
            return name
    return None
