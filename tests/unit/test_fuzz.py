"""Fuzzing the body and query rewriting: random JSON documents and random date strings.

Whatever comes in, fix_json/fix_query never raise (other than BodyUnchanged, which makes the
proxy forward the body as it came), and never change a value that is not a time field of the
endpoint's catalogue entry (or add anything but a report's timeZone).
"""

import json
import string
from datetime import datetime, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clockify_proxy import catalogue, normalize, timefix, zones
from clockify_proxy.normalize import Zone

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=timezone.utc)
ZONE_NAMES = ["Europe/Brussels", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "UTC", "Pacific/Chatham"]
ENDPOINTS = [e for e in catalogue.CATALOGUE if e.body]

digits = st.text(alphabet="0123456789", min_size=1, max_size=4)
date_strings = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)).map(lambda d: d.isoformat()),
    st.datetimes(timezones=st.sampled_from([timezone.utc, zones.zone("Europe/Brussels"), zones.zone("Asia/Kathmandu")])).map(lambda d: d.isoformat()),
    st.builds(lambda *p: "{}-{}-{}T{}:{}:{}{}".format(*p), digits, digits, digits, digits, digits, digits,
              st.sampled_from(["", "Z", "z", "+02:00", "-0530", "+25:00", ".999Z", " 02:00", "+02"])),
    st.dates().map(str),
    st.text(max_size=30),
)
leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=20), date_strings)
documents = st.recursive(
    leaves,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(string.ascii_letters, max_size=8), children, max_size=4)),
    max_leaves=20,
)


def with_time_fields(endpoint, doc, values, data):
    """Plant values at some of the endpoint's field paths, inside a random document."""
    if not isinstance(doc, dict):
        doc = {"extra": doc}
    for path in endpoint.body:
        if not data.draw(st.booleans()):
            continue
        tokens = list(normalize.tokens(path))
        target = doc
        if tokens[0] == "[]":
            continue
        for token, following in zip(tokens, tokens[1:] + [None]):
            if following is None:
                target[token] = data.draw(values)
            elif following == "[]":
                items = target.setdefault(token, [{}])
                if not isinstance(items, list) or not items or not isinstance(items[0], dict):
                    break
                target = items[0]
            elif token == "[]":
                continue
            else:
                nested = target.get(token)
                if not isinstance(nested, dict):
                    nested = target[token] = {}
                target = nested
    return doc


def leaves_of(value, path=()):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves_of(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves_of(v, path + (i,))
    else:
        yield path, value


def catalogue_paths(endpoint, doc):
    return {path for field in endpoint.body for path, _ in normalize.values_at(doc, normalize.tokens(field))}


@settings(max_examples=400, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), endpoint=st.sampled_from(ENDPOINTS), doc=documents, zone_name=st.sampled_from(ZONE_NAMES),
       indent=st.sampled_from([None, 0, 2]), ensure_ascii=st.booleans())
def test_body_rewriting_never_raises_and_touches_only_time_fields(data, endpoint, doc, zone_name, indent, ensure_ascii):
    doc = with_time_fields(endpoint, doc, date_strings, data)
    raw = json.dumps(doc, indent=indent, ensure_ascii=ensure_ascii).encode()
    zone = Zone(zone_name, zones.zone(zone_name), "test")
    try:
        out, plan = timefix.fix_json(raw, endpoint, zone, NOW)
    except timefix.BodyUnchanged:
        return
    if plan.rejection:
        assert out == raw
        return
    after = json.loads(out)
    allowed = catalogue_paths(endpoint, doc)
    if endpoint.zone_field:
        allowed.add(tuple(normalize.tokens(endpoint.zone_field)))
    before_leaves, after_leaves = dict(leaves_of(doc)), dict(leaves_of(after))
    for path, value in after_leaves.items():
        if before_leaves.get(path, object()) != value or path not in before_leaves:
            assert path in allowed, (path, before_leaves.get(path), value)
    assert set(before_leaves) <= set(after_leaves)
    if out == raw:
        assert not plan.edits
    for edit in plan.edits:
        assert isinstance(edit.after, str) and edit.after.isascii()


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(start=date_strings, end=date_strings, other=st.text(max_size=10), zone_name=st.sampled_from(ZONE_NAMES))
def test_query_rewriting_never_raises_and_keeps_other_parameters(start, end, other, zone_name):
    from urllib.parse import quote

    endpoint = catalogue.find("GET", "/v1/workspaces/w/user/u/time-entries")
    path = f"/api/v1/workspaces/w/user/u/time-entries?description={quote(other)}&start={quote(start, safe=':+')}&end={quote(end)}&page=1"
    zone = Zone(zone_name, zones.zone(zone_name), "test")
    new_path, plan = timefix.fix_query(path, endpoint, zone, NOW)
    old_parts, new_parts = path.split("&"), new_path.split("&")
    assert len(old_parts) == len(new_parts)
    assert old_parts[0] == new_parts[0] and old_parts[-1] == new_parts[-1]
    if plan.rejection is None:
        for edit in plan.edits:
            assert edit.path[0] in ("start", "end")
