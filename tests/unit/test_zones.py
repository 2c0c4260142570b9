"""zones: only IANA zone keys are zones.

The names come from a client header, a report body's `timeZone` and the clockify_timezone option.
Whatever is accepted may be sent to Clockify as a report's `timeZone`, so only IANA keys (what
Clockify's Java `ZoneId` knows) may pass: not POSIX TZ strings, not file paths, not the
non-zone files that sit beside the zones in a zoneinfo directory.
"""

from __future__ import annotations

import importlib.resources
from datetime import datetime, timedelta

import pytest

from clockify_proxy import zones

# The IANA key list shipped with the tzdata package (a dependency of the project).
IANA_KEYS = sorted(importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())


def test_key_list_is_the_real_one():
    assert len(IANA_KEYS) > 500
    assert {"Europe/Brussels", "UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5"} <= set(IANA_KEYS)


def test_every_iana_key_is_a_zone():
    rejected = [name for name in IANA_KEYS if not zones.is_zone(name)]
    assert rejected == []


@pytest.mark.parametrize(
    "name",
    ["Europe/Brussels", "UTC", "Etc/UTC", "America/Argentina/Buenos_Aires", "America/Port-au-Prince",
     "Etc/GMT+5", "Etc/GMT-14", "EST5EDT", "GMT+0", "Asia/Kathmandu", "Pacific/Chatham"],
)
def test_iana_keys_accepted(name):
    found = zones.zone(name)
    assert found.utcoffset(datetime(2024, 1, 15, 12)) is not None
    assert zones.is_zone(name) is True


def test_zone_is_the_named_zone():
    brussels = zones.zone("Europe/Brussels")
    assert brussels.utcoffset(datetime(2024, 1, 15, 12)) == timedelta(hours=1)
    assert brussels.utcoffset(datetime(2024, 7, 15, 12)) == timedelta(hours=2)
    # POSIX sign convention inside the IANA name: Etc/GMT+5 is five hours *behind* UTC.
    assert zones.zone("Etc/GMT+5").utcoffset(datetime(2024, 1, 15)) == timedelta(hours=-5)
    assert zones.zone("UTC").utcoffset(datetime(2024, 1, 15)) == timedelta(0)


@pytest.mark.parametrize(
    "name",
    [
        # POSIX TZ strings: dateutil would build a zone from them (with the reversed sign)
        "UTC+3",
        "UTC-3",
        "GMT+3",
        "UTC+03:00",
        "EST5",
        "CET-1CEST",
        "CET-1CEST,M3.5.0,M10.5.0/3",
        "<+03>-3",
        "+02:00",
        "-0500",
        # names that are not zones
        "",
        " ",
        "Europe/Nowhere",
        "Europe",
        "Europe/Brussels/",
        "Europe//Brussels",
        "Europe/Brussels ",
        " Europe/Brussels",
        "europe/brussels",
        "utc",
        "Brussels",
        "CEST",
        # paths
        "../etc/passwd",
        "../../../../etc/passwd",
        "/etc/localtime",
        "/usr/share/zoneinfo/Europe/Brussels",
        "./UTC",
        "Europe/../Europe/Brussels",
        "Europe/./Brussels",
        "~/zone",
        "Europe\\Brussels",
        "C:\\zoneinfo\\UTC",
        "file:Europe/Brussels",
        # files beside the zones in a zoneinfo directory that are not IANA keys
        "zone.tab",
        "zone1970.tab",
        "iso3166.tab",
        "tzdata.zi",
        "leapseconds",
        "leap-seconds.list",
        "SECURITY",
        "localtime",
        "posixrules",
        "posix/Europe/Brussels",
        "right/UTC",
        "right/Europe/Brussels",
    ],
)
def test_non_iana_names_rejected(name):
    assert name not in IANA_KEYS
    with pytest.raises(zones.UnknownZone):
        zones.zone(name)
    assert zones.is_zone(name) is False


@pytest.mark.parametrize("value", [None, 5, 1.5, True, b"UTC", ("UTC",), ["UTC"], {"name": "UTC"}])
def test_non_strings_rejected(value):
    # A JSON body can carry any of these as `timeZone`.
    with pytest.raises(zones.UnknownZone):
        zones.zone(value)
    assert zones.is_zone(value) is False


def test_unknown_zone_is_a_value_error():
    assert issubclass(zones.UnknownZone, ValueError)


def test_unknown_zone_message_names_the_value():
    with pytest.raises(zones.UnknownZone) as raised:
        zones.zone("UTC+3")
    assert "'UTC+3'" in str(raised.value)


def test_host_zone_name_from_tz_variable(monkeypatch):
    monkeypatch.setenv("TZ", ":America/New_York")
    assert zones.host_zone_name() == "America/New_York"
    monkeypatch.setenv("TZ", "Asia/Kathmandu")
    assert zones.host_zone_name() == "Asia/Kathmandu"


@pytest.mark.parametrize("tz", ["UTC+3", "EST5", "/etc/localtime", "../etc/passwd", "Nowhere/Else"])
def test_host_zone_name_never_returns_a_non_zone(monkeypatch, tz):
    monkeypatch.setenv("TZ", tz)
    name = zones.host_zone_name()
    assert name != tz
    assert name is None or zones.is_zone(name)
