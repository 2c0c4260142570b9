"""Time zone names: validation and the host's own zone."""

from __future__ import annotations

import os
import re
from datetime import tzinfo
from functools import lru_cache

from dateutil import tz

# IANA keys only ("Europe/Brussels", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5").
# dateutil's gettz also accepts POSIX TZ strings such as "UTC+3", whose sign is the reverse of
# what people expect, and file paths; neither may reach Clockify as a `timeZone`.
_IANA_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*$")


class UnknownZone(ValueError):
    pass


@lru_cache(maxsize=256)
def zone(name: str) -> tzinfo:
    """The tzinfo for an IANA zone name; raises UnknownZone for anything else."""
    if not isinstance(name, str) or not _IANA_KEY.match(name) or ".." in name:
        raise UnknownZone(f"{name!r} is not an IANA time zone name (e.g. Europe/Brussels)")
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
