"""timevalues: parsing the time strings clients send, and reading them as instants.

The stdlib `zoneinfo` is the oracle for zone arithmetic: the product uses dateutil, so the two
implementations are independent; both read the same IANA data.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clockify_proxy import timevalues as tv
from clockify_proxy import zones

UTC = timezone.utc

PROPERTY = settings(
    max_examples=300,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

ZONES = (
    "Europe/Brussels",
    "America/New_York",
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kathmandu",  # +05:45, and a 15-minute gap in 1986
    "Pacific/Apia",  # skipped 2011-12-30 entirely
    "America/St_Johns",  # -03:30
    "Africa/Casablanca",  # Ramadan: DST *removed* for a month
    "Pacific/Chatham",  # +12:45 / +13:45
    "Europe/Dublin",  # negative DST in the tz data
    "UTC",
)

FORMAT_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def read(text: str, name: str) -> tv.Instant:
    return tv.instant(tv.parse(text), zones.zone(name), name)


# -- parse: accepted forms ---------------------------------------------------------------------

H2 = timedelta(hours=2)


@pytest.mark.parametrize(
    "text, wall, offset, frac, date_only",
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01T10:00:00z", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01t10:00:00Z", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01T10:00:00+02:00", datetime(2024, 5, 1, 10), H2, "", False),
        ("2024-05-01T10:00:00+0200", datetime(2024, 5, 1, 10), H2, "", False),
        ("2024-05-01T10:00:00+02", datetime(2024, 5, 1, 10), H2, "", False),
        ("2024-05-01T10:00:00-05:30", datetime(2024, 5, 1, 10), -timedelta(hours=5, minutes=30), "", False),
        ("2024-05-01T10:00:00-0530", datetime(2024, 5, 1, 10), -timedelta(hours=5, minutes=30), "", False),
        ("2024-05-01T10:00:00+05:45", datetime(2024, 5, 1, 10), timedelta(hours=5, minutes=45), "", False),
        ("2024-05-01T10:00:00+00:00", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01T10:00:00-00:00", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01T10:00:00+23:59", datetime(2024, 5, 1, 10), timedelta(hours=23, minutes=59), "", False),
        ("2024-05-01T10:00:00-23:59", datetime(2024, 5, 1, 10), -timedelta(hours=23, minutes=59), "", False),
        # A form-decoded query turns the "+" of "+02:00" into a space.
        ("2024-05-01T10:00:00 02:00", datetime(2024, 5, 1, 10), H2, "", False),
        ("2024-05-01 10:00:00", datetime(2024, 5, 1, 10), None, "", False),
        ("2024-05-01 10:00:00Z", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01 10:00:00 02:00", datetime(2024, 5, 1, 10), H2, "", False),
        ("2024-05-01T10:00", datetime(2024, 5, 1, 10), None, "", False),
        ("2024-05-01T10:00Z", datetime(2024, 5, 1, 10), timedelta(0), "", False),
        ("2024-05-01T10:00+02:00", datetime(2024, 5, 1, 10), H2, "", False),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10), None, "", False),
        ("2024-05-01T10:00:00.5Z", datetime(2024, 5, 1, 10, 0, 0, 500000), timedelta(0), "5", False),
        ("2024-05-01T10:00:00,5Z", datetime(2024, 5, 1, 10, 0, 0, 500000), timedelta(0), "5", False),
        ("2024-05-01T10:00:00.000Z", datetime(2024, 5, 1, 10), timedelta(0), "000", False),
        ("2024-05-01T10:00:00.123Z", datetime(2024, 5, 1, 10, 0, 0, 123000), timedelta(0), "123", False),
        ("2024-05-01T10:00:00.123456Z", datetime(2024, 5, 1, 10, 0, 0, 123456), timedelta(0), "123456", False),
        ("2024-05-01T10:00:00.1234567Z", datetime(2024, 5, 1, 10, 0, 0, 123456), timedelta(0), "1234567", False),
        ("2024-05-01T10:00:00.123456789+02:00", datetime(2024, 5, 1, 10, 0, 0, 123456), H2, "123456789", False),
        ("2024-05-01T10:00:00.999999999", datetime(2024, 5, 1, 10, 0, 0, 999999), None, "999999999", False),
        ("2024-05-01", datetime(2024, 5, 1), None, "", True),
        ("2024-02-29", datetime(2024, 2, 29), None, "", True),
        ("2000-02-29T12:00:00Z", datetime(2000, 2, 29, 12), timedelta(0), "", False),
        ("0001-01-01T00:00:00", datetime(1, 1, 1), None, "", False),
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999), timedelta(0), "999999", False),
    ],
)
def test_parse_accepts(text, wall, offset, frac, date_only):
    value = tv.parse(text)
    assert value.text == text
    assert value.wall == wall
    assert value.wall.tzinfo is None
    assert value.offset == offset
    assert value.frac == frac
    assert value.date_only is date_only
    assert value.zulu is text.endswith(("Z", "z"))


@pytest.mark.parametrize(
    "text",
    [
        # impossible dates and times
        "2024-02-30",
        "2024-02-30T10:00:00Z",
        "2023-02-29T10:00:00Z",
        "1900-02-29",
        "2024-04-31",
        "2024-13-01",
        "2024-00-10",
        "2024-05-00",
        "2024-05-01T24:00:01",
        "2024-05-01T24:30:00",
        "2024-05-01T24:00:00.5",
        "9999-12-31T24:00:00",
        "2024-05-01T23:60:00",
        "2024-05-01T23:59:60Z",  # no leap seconds
        # offsets that do not exist
        "2024-05-01T10:00:00+25:00",
        "2024-05-01T10:00:00+24:00",
        "2024-05-01T10:00:00-24:00",
        "2024-05-01T10:00:00+02:60",
        "2024-05-01T10:00:00+2:00",
        "2024-05-01T10:00:00+02:0",
        "2024-05-01T10:00:00+020",
        "2024-05-01T10:00:00+02:00:00",
        "2024-05-01T10:00:00 +02:00",
        "2024-05-01T10:00:00 Z",
        "2024-05-01T10:00:00ZZ",
        "2024-05-01T10:00:00Z+02:00",
        "2024-05-01Z",
        "2024-05-01+02:00",
        # shapes that are not ISO 8601 dates or date-times
        "",
        " ",
        "yesterday",
        "now",
        "2024",
        "2024-05",
        "2024-5-1",
        "20240501",
        "20240501T100000Z",
        "2024/05/01",
        "01.05.2024",
        "05/01/2024 10:00",
        "2024-05-01T",
        "2024-05-01T10",
        "2024-05-01T10Z",
        "2024-05-01T1000",
        "2024-05-01T10:00:0",
        "2024-05-01T10:00:00.",
        "2024-05-01T10:00:00.1234567890Z",  # ten fraction digits
        "2024-05-01T10:00.5",
        "2024-05-01T10:00:00Zjunk",
        " 2024-05-01T10:00:00Z",
        "2024-05-01T10:00:00Z ",
        "2024-05-01_10:00:00",
        "+2024-05-01",
        "12024-05-01",
        "1714557600",
        "10:00:00",
        "T10:00:00",
        "PT1H30M",
        "Europe/Brussels",
        "2024-05-01T10:00:00Z\n",  # a trailing newline is not part of an ISO 8601 value
        "2024-05-01\n",
        "\u0662\u0660\u0662\u0664-\u0660\u0665-\u0660\u0661T10:00:00+02:00",  # Arabic-Indic digits
        "\uff12\uff10\uff12\uff14-05-01",  # fullwidth digits
    ],
)
def test_parse_rejects(text):
    with pytest.raises(tv.NotATime):
        tv.parse(text)


@pytest.mark.parametrize(
    "value",
    [None, 20240501, 1714557600.0, True, b"2024-05-01T10:00:00Z", ["2024-05-01"], {"start": "2024-05-01"},
     datetime(2024, 5, 1, 10)],
)
def test_parse_rejects_non_strings(value):
    with pytest.raises(tv.NotATime):
        tv.parse(value)


def test_errors_are_value_errors():
    # Callers that only know ValueError still catch them.
    assert issubclass(tv.NotATime, ValueError)
    assert issubclass(tv.NonexistentLocalTime, ValueError)


@st.composite
def offset_texts(draw):
    """A date-time with an offset in every form the parser documents, and its parts."""
    day = draw(st.dates(min_value=datetime(1900, 1, 1).date(), max_value=datetime(2100, 12, 31).date()))
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    text = f"{day.year:04d}-{day.month:02d}-{day.day:02d}{draw(st.sampled_from('T '))}{hour:02d}:{minute:02d}"
    second, micro, frac = 0, 0, ""
    if draw(st.booleans()):
        second = draw(st.integers(0, 59))
        text += f":{second:02d}"
        if draw(st.booleans()):
            frac = draw(st.text("0123456789", min_size=1, max_size=9))
            micro = int(frac[:6].ljust(6, "0"))
            text += draw(st.sampled_from(".,")) + frac
    minutes = draw(st.one_of(st.just(0), st.integers(-(23 * 60 + 59), 23 * 60 + 59),
                             st.sampled_from([60, 120, -300, -330, 345, 630, 765, 825, -210])))
    sign = "-" if minutes < 0 else "+"
    oh, om = divmod(abs(minutes), 60)
    forms = [f"{sign}{oh:02d}:{om:02d}", f"{sign}{oh:02d}{om:02d}"]
    if om == 0:
        forms.append(f"{sign}{oh:02d}")
    if minutes == 0:
        forms += ["Z", "z"]
    text += draw(st.sampled_from(forms))
    wall = datetime(day.year, day.month, day.day, hour, minute, second, micro)
    return text, wall, timedelta(minutes=minutes), frac


@PROPERTY
@given(offset_texts())
def test_parse_and_instant_of_offset_values_match_fromisoformat(case):
    text, wall, offset, frac = case
    value = tv.parse(text)
    assert (value.wall, value.offset, value.frac, value.date_only) == (wall, offset, frac, False)
    expected = datetime.fromisoformat(text.replace("z", "Z"))
    assert expected.replace(tzinfo=None) == wall
    meant = tv.instant(value, zones.zone("Pacific/Chatham"), "Pacific/Chatham")  # the zone must not matter
    assert meant.utc == expected.astimezone(UTC)
    assert meant.utc.utcoffset() == timedelta(0)
    assert meant.note is None


# -- instant: naive wall clocks against zoneinfo -------------------------------------------------


@functools.lru_cache(maxsize=None)
def transitions(name: str) -> tuple[tuple[datetime, timedelta, timedelta], ...]:
    """(UTC moment as naive datetime, offset before, offset after) for each change, 1900-2100, by zoneinfo."""
    zone = ZoneInfo(name)

    def offset(ts: int) -> timedelta:
        return datetime.fromtimestamp(ts, zone).utcoffset()

    found = []
    t = int(datetime(1900, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(2101, 1, 1, tzinfo=UTC).timestamp())
    step = 2 * 86400
    before = offset(t)
    while t < end:
        nxt = t + step
        after = offset(nxt)
        if after != before:
            lo, hi = t, nxt
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset(mid) == before:
                    lo = mid
                else:
                    hi = mid
            found.append((datetime.fromtimestamp(hi, UTC).replace(tzinfo=None), before, after))
            before = after
        t = nxt
    return tuple(found)


def zoneinfo_reading(wall: datetime, name: str) -> tuple[str, datetime | None]:
    """("gap", None), ("fold", fold=0 instant) or ("ok", instant), as zoneinfo sees `wall`."""
    zone = ZoneInfo(name)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return "gap", None
    status = "fold" if first.utcoffset() != second.utcoffset() else "ok"
    return status, first.astimezone(UTC)


@st.composite
def near_transition(draw):
    name = draw(st.sampled_from([z for z in ZONES if transitions(z)]))
    moment, before, after = draw(st.sampled_from(transitions(name)))
    width = int(abs(after - before).total_seconds())
    seconds = draw(st.integers(-width - 120, width + 120))
    micro = draw(st.sampled_from([0, 0, 1, 500000, 999999]))
    return name, moment + before + timedelta(seconds=seconds, microseconds=micro)


anywhere = st.tuples(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 12, 31, 23, 59, 59)),
)


def check_against_zoneinfo(name: str, wall: datetime, sep: str) -> str:
    text = wall.isoformat(sep=sep)
    value = tv.parse(text)
    assert value.offset is None and value.wall == wall
    status, expected = zoneinfo_reading(wall, name)
    if status == "gap":
        with pytest.raises(tv.NonexistentLocalTime) as raised:
            tv.instant(value, zones.zone(name), name)
        assert text in str(raised.value) and name in str(raised.value)
        return status
    meant = tv.instant(value, zones.zone(name), name)
    assert meant.utc == expected
    assert meant.utc.utcoffset() == timedelta(0)
    if status == "fold":
        assert meant.note is not None
        assert text in meant.note and name in meant.note
    else:
        assert meant.note is None
    assert FORMAT_UTC.match(tv.format_utc(meant.utc))
    return status


@PROPERTY
@given(near_transition(), st.sampled_from("T "))
def test_instant_of_wall_clock_near_transitions_matches_zoneinfo(case, sep):
    name, wall = case
    check_against_zoneinfo(name, wall, sep)


@PROPERTY
@given(anywhere, st.sampled_from("T "))
def test_instant_of_any_wall_clock_matches_zoneinfo(case, sep):
    name, wall = case
    check_against_zoneinfo(name, wall, sep)


def test_transition_strategy_covers_gaps_and_folds():
    # The property above is only worth something if the cases it draws from hold both kinds.
    gaps = sum(1 for z in ZONES for _, b, a in transitions(z) if a > b)
    folds = sum(1 for z in ZONES for _, b, a in transitions(z) if a < b)
    assert gaps > 100 and folds > 100
    assert transitions("UTC") == ()


@pytest.mark.parametrize(
    "name, text",
    [
        ("Europe/Brussels", "2024-03-31T02:00:00"),
        ("Europe/Brussels", "2024-03-31T02:30:00"),
        ("Europe/Brussels", "2024-03-31T02:59:59.999999"),
        ("America/New_York", "2024-03-10T02:30:00"),
        ("Australia/Lord_Howe", "2024-10-06T02:15:00"),  # 02:00 -> 02:30
        ("Asia/Kathmandu", "1986-01-01T00:10:00"),  # 00:00 -> 00:15
        ("Pacific/Apia", "2011-12-30T12:00:00"),  # the whole day was skipped
        ("America/St_Johns", "2024-03-10T02:30:00"),
        ("Africa/Casablanca", "2024-04-14T02:30:00"),
        ("Pacific/Chatham", "2024-09-29T03:00:00"),  # 02:45 -> 03:45
        ("Europe/Dublin", "2024-03-31T01:30:00"),
    ],
)
def test_nonexistent_wall_clock_raises(name, text):
    with pytest.raises(tv.NonexistentLocalTime) as raised:
        read(text, name)
    assert text in str(raised.value) and name in str(raised.value)


@pytest.mark.parametrize(
    "name, text, first, offset_text",
    [
        ("Europe/Brussels", "2024-10-27T02:30:00", datetime(2024, 10, 27, 0, 30), "2024-10-27T02:30:00+02:00"),
        ("America/New_York", "2024-11-03T01:30:00", datetime(2024, 11, 3, 5, 30), "2024-11-03T01:30:00-04:00"),
        ("Australia/Lord_Howe", "2024-04-07T01:45:00", datetime(2024, 4, 6, 14, 45), "2024-04-07T01:45:00+11:00"),
        ("America/St_Johns", "2024-11-03T01:30:00", datetime(2024, 11, 3, 4, 0), "2024-11-03T01:30:00-02:30"),
        ("Africa/Casablanca", "2024-03-10T02:30:00", datetime(2024, 3, 10, 1, 30), "2024-03-10T02:30:00+01:00"),
        ("Pacific/Chatham", "2024-04-07T03:00:00", datetime(2024, 4, 6, 13, 15), "2024-04-07T03:00:00+13:45"),
        ("Europe/Dublin", "2024-10-27T01:30:00", datetime(2024, 10, 27, 0, 30), "2024-10-27T01:30:00+01:00"),
    ],
)
def test_ambiguous_wall_clock_is_read_as_first_occurrence(name, text, first, offset_text):
    meant = read(text, name)
    assert meant.utc == first.replace(tzinfo=UTC)
    assert meant.note is not None
    assert "happens twice" in meant.note
    assert offset_text in meant.note


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("Europe/Brussels", "2024-05-01T10:00:00", "2024-05-01T08:00:00Z"),
        ("Europe/Brussels", "2024-01-15T10:00:00", "2024-01-15T09:00:00Z"),
        ("Europe/Brussels", "2024-03-31T03:00:00", "2024-03-31T01:00:00Z"),  # just after the gap
        ("Europe/Brussels", "2024-10-27T03:00:00", "2024-10-27T02:00:00Z"),  # just after the fold
        ("Asia/Kathmandu", "2024-05-01T12:00:00", "2024-05-01T06:15:00Z"),
        ("Pacific/Apia", "2011-12-29T23:59:59", "2011-12-30T09:59:59Z"),
        ("Pacific/Apia", "2011-12-31T00:00:00", "2011-12-30T10:00:00Z"),
        ("America/St_Johns", "2024-01-15T12:00:00", "2024-01-15T15:30:00Z"),
        ("Pacific/Chatham", "2024-01-15T12:00:00", "2024-01-14T22:15:00Z"),
        ("UTC", "2024-03-31T02:30:00", "2024-03-31T02:30:00Z"),
        ("UTC", "2024-05-01", "2024-05-01T00:00:00Z"),  # a date-only value is its midnight
    ],
)
def test_instant_of_wall_clock(name, text, expected):
    meant = read(text, name)
    assert tv.format_utc(meant.utc) == expected
    assert meant.note is None


def test_offset_wins_over_zone_even_in_a_gap():
    # 02:30 does not exist in Brussels on that day, but with an offset it is a plain instant.
    meant = read("2024-03-31T02:30:00+01:00", "Europe/Brussels")
    assert meant.utc == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert meant.note is None


@pytest.mark.parametrize(
    "text, name",
    [
        ("9999-12-31T23:00:00-02:00", "UTC"),
        ("0001-01-01T00:00:00+02:00", "UTC"),
        ("9999-12-31T23:59:59", "America/New_York"),  # naive: its UTC instant is after year 9999
        ("0001-01-01T00:00:00", "Europe/Brussels"),  # naive: its UTC instant is before year 1
    ],
)
def test_instant_out_of_range_is_not_a_time(text, name):
    with pytest.raises(tv.NotATime):
        read(text, name)


# -- writing -------------------------------------------------------------------------------------

ORACLE_ZONES = [ZoneInfo(z) for z in ZONES] + [timezone(timedelta(hours=-23, minutes=-59)), timezone(timedelta(hours=5, minutes=45))]


@PROPERTY
@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=st.sampled_from(ORACLE_ZONES)))
def test_format_utc_shape_and_value(moment):
    text = tv.format_utc(moment)
    assert FORMAT_UTC.match(text), text
    assert datetime.fromisoformat(text.replace("Z", "+00:00")) == moment.astimezone(UTC).replace(microsecond=0)


@pytest.mark.parametrize(
    "moment, expected",
    [
        (datetime(2024, 5, 1, 10, 0, 0, 999999, tzinfo=UTC), "2024-05-01T10:00:00Z"),  # truncated, not rounded
        (datetime(2024, 5, 1, 0, 30, tzinfo=ZoneInfo("Europe/Brussels")), "2024-04-30T22:30:00Z"),
        (datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC), "0999-01-02T03:04:05Z"),
        (datetime(1, 1, 1, tzinfo=UTC), "0001-01-01T00:00:00Z"),
    ],
)
def test_format_utc(moment, expected):
    assert tv.format_utc(moment) == expected


@pytest.mark.parametrize(
    "moment, expected",
    [
        (datetime(2024, 10, 27, 2, 30, tzinfo=timezone(timedelta(hours=2))), "2024-10-27T02:30:00+02:00"),
        (datetime(2024, 10, 27, 2, 30, tzinfo=UTC), "2024-10-27T02:30:00Z"),
        (datetime(2024, 10, 27, 2, 30, 15, 500, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
         "2024-10-27T02:30:15-03:30"),
    ],
)
def test_format_offset_time(moment, expected):
    assert tv.format_offset_time(moment) == expected


@pytest.mark.parametrize(
    "moment, frac, expected",
    [
        (datetime(2024, 5, 1, 2, 3, 4), "", "2024-05-01T02:03:04"),
        (datetime(2024, 5, 1, 2, 3, 4, 999000), "999", "2024-05-01T02:03:04.999"),
        (datetime(2024, 5, 1, 2, 3, 4), "000", "2024-05-01T02:03:04.000"),
        (datetime(2024, 5, 1, 2, 3, 4, 123456), "123456789", "2024-05-01T02:03:04.123456789"),
        (datetime(999, 5, 1, 2, 3, 4), "", "0999-05-01T02:03:04"),
    ],
)
def test_format_wall(moment, frac, expected):
    assert tv.format_wall(moment, frac) == expected


@PROPERTY
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 12, 30), timezones=st.just(UTC)),
    st.booleans(),
)
def test_wall_clock_and_format_wall_round_trip(name, moment, keep_fraction):
    zone = zones.zone(name)
    wall = tv.wall_clock(moment, zone)
    assert wall.tzinfo is None
    assert wall == moment.astimezone(ZoneInfo(name)).replace(tzinfo=None)
    frac = f"{wall.microsecond:06d}" if keep_fraction else ""
    text = tv.format_wall(wall, frac)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?", text)
    value = tv.parse(text)
    assert value.offset is None and value.frac == frac
    assert value.wall == (wall if keep_fraction else wall.replace(microsecond=0))
    # Read back in the same zone: the same instant, except where the wall clock happens twice.
    back = tv.instant(value, zone, name)
    target = moment if keep_fraction else moment.replace(microsecond=0)
    if back.note is None:
        assert back.utc == target
    else:
        assert back.utc <= target
        assert tv.wall_clock(back.utc, zone) == value.wall


@pytest.mark.parametrize(
    "text, wall",
    [
        ("2024-05-01T24:00:00", datetime(2024, 5, 2)),
        ("2024-12-31T24:00", datetime(2025, 1, 1)),
        ("2024-02-29T24:00:00.000+02:00", datetime(2024, 3, 1)),
    ],
)
def test_end_of_day_24_00_is_the_next_midnight(text, wall):
    assert tv.parse(text).wall == wall
