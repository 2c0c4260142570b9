"""jsonsplice: new values go into the client's JSON text, and nothing else of that text changes."""

from __future__ import annotations

import copy
import json
import re
from json.decoder import scanstring

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clockify_proxy.jsonsplice import SpliceError, is_plain, locate, splice, splice_unique

PROPERTY = settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- an independent reader of value spans (recursive descent over the stdlib's string scanner) ----

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def leaf_spans(text: str) -> dict[tuple, tuple[int, int]]:
    """{path: (start, end)} of every scalar value in a JSON text without duplicate keys."""
    spans: dict[tuple, tuple[int, int]] = {}

    def value(i: int, path: tuple) -> int:
        i = _WS.match(text, i).end()
        c = text[i]
        if c in "{[":
            closer = "}" if c == "{" else "]"
            i = _WS.match(text, i + 1).end()
            if text[i] == closer:
                return i + 1
            index = 0
            while True:
                if c == "{":
                    key, i = scanstring(text, i + 1)
                    i = _WS.match(text, i).end()
                    assert text[i] == ":"
                    i = value(i + 1, path + (key,))
                else:
                    i = value(i, path + (index,))
                    index += 1
                i = _WS.match(text, i).end()
                if text[i] == closer:
                    return i + 1
                assert text[i] == ","
                i = _WS.match(text, i + 1).end()
        if c == '"':
            _, end = scanstring(text, i + 1)
        else:
            for literal in ("true", "false", "null"):
                if text.startswith(literal, i):
                    end = i + len(literal)
                    break
            else:
                end = _NUMBER.match(text, i).end()
        assert path not in spans
        spans[path] = (i, end)
        return end

    end = value(0, ())
    assert _WS.match(text, end).end() == len(text)
    return spans


def set_at(doc, path, new):
    if not path:
        return new
    target = doc
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = new
    return doc


def assert_only_spans_changed(before: str, after: str, paths) -> None:
    """`after` is `before` with the values at `paths` replaced, every other character kept."""
    old, new = leaf_spans(before), leaf_spans(after)
    last_old = last_new = 0
    for path in sorted(paths, key=lambda p: old[p][0]):
        (os_, oe), (ns, ne) = old[path], new[path]
        assert after[last_new:ns] == before[last_old:os_]
        last_old, last_new = oe, ne
    assert after[last_new:] == before[last_old:]


def assert_single_insertion(before: str, after: str, inserted_len: int) -> int:
    """`after` is `before` with one run of characters inserted; returns where."""
    assert len(after) == len(before) + inserted_len
    k = 0
    while k < len(before) and before[k] == after[k]:
        k += 1
    assert after[k + inserted_len:] == before[k:]
    return k


# -- examples --------------------------------------------------------------------------------------

ORIGINAL = (
    '{\n  "b": 1.50,\r\n  "a" : "2024-05-01T10:00:00+02:00" ,\t"n":1e3, "big": 12345678901234567890123,\n'
    '  "neg": -0, "exp": 1.5E-7, "u": "caf\\u00e9", "raw": "café \\ud83d\\ude00 😀",\n'
    '  "arr": [ {"start": "2024-05-01T10:00:00", "end": null}, [], [ [ ] ], {} ],\n'
    '  "o": { "end": "2024-05-01T11:00:00+02:00", "t": true, "f": false },\n'
    '  "esc": "a\\"b\\\\c\\/d\\n"\n}\n'
)


def test_splice_keeps_every_byte_outside_the_changed_values():
    out = splice(
        ORIGINAL,
        {
            ("a",): "2024-05-01T08:00:00Z",
            ("arr", 0, "start"): "2024-05-01T08:00:00Z",
            ("o", "end"): "2024-05-01T09:00:00Z",
        },
    )
    expected = (
        ORIGINAL.replace('"2024-05-01T10:00:00+02:00"', '"2024-05-01T08:00:00Z"')
        .replace('"2024-05-01T10:00:00"', '"2024-05-01T08:00:00Z"')
        .replace('"2024-05-01T11:00:00+02:00"', '"2024-05-01T09:00:00Z"')
    )
    assert out == expected
    doc = json.loads(ORIGINAL)
    doc["a"] = doc["arr"][0]["start"] = "2024-05-01T08:00:00Z"
    doc["o"]["end"] = "2024-05-01T09:00:00Z"
    assert json.loads(out) == doc


def test_splice_without_edits_is_the_identity():
    assert splice(ORIGINAL, {}) == ORIGINAL
    assert splice(ORIGINAL, {}, {}) == ORIGINAL


@pytest.mark.parametrize("new", ['quote " and backslash \\', "new\nline\ttab\x00nul", "é ü 😀 \u2028", "", 5, None])
def test_replacement_is_valid_json(new):
    text = '{"start": "x", "end": "y"}'
    out = splice(text, {("start",): new})
    assert json.loads(out) == {"start": new, "end": "y"}
    assert_only_spans_changed(text, out, [("start",)])


def test_escaped_key_matches_its_decoded_name():
    text = '{"\\u0073tart": "2024-05-01T10:00:00+02:00", "k\\"ey": "v"}'
    out = splice(text, {("start",): "Z", ('k"ey',): "w"})
    assert out == '{"\\u0073tart": "Z", "k\\"ey": "w"}'


def test_bulk_array_body():
    text = '[{"id": "1", "start": "a", "end": "b"},\n {"id": "2", "start": "c"}]'
    out = splice(text, {(0, "start"): "A", (0, "end"): "B", (1, "start"): "C"})
    assert out == '[{"id": "1", "start": "A", "end": "B"},\n {"id": "2", "start": "C"}]'


def test_root_scalar():
    assert splice(' "x" ', {(): "y"}) == ' "y" '


def test_numbers_and_literals_are_replaceable_values():
    text = '{"a": 1.50, "b": true, "c": null, "d": -1e3}'
    out = splice(text, {("a",): "x", ("c",): "y"})
    assert out == '{"a": "x", "b": true, "c": "y", "d": -1e3}'


# -- adding a member ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["{}", "{ }", "{\n}", " {\r\n\t} "])
def test_add_to_empty_object(text):
    out = splice(text, {}, {(): ("timeZone", "Europe/Brussels")})
    assert json.loads(out) == {"timeZone": "Europe/Brussels"}
    assert_single_insertion(text, out, len(out) - len(text))


@pytest.mark.parametrize(
    "text",
    ['{"dateRangeStart": "x"}', '{ "dateRangeStart" : "x" , "dateRangeEnd": "y"\n}', '{"a": {"b": []}, "c": [1, {}]}'],
)
def test_add_to_non_empty_object(text):
    out = splice(text, {}, {(): ("timeZone", "Europe/Brussels")})
    assert json.loads(out) == {**json.loads(text), "timeZone": "Europe/Brussels"}
    assert_single_insertion(text, out, len(out) - len(text))


def test_add_to_nested_objects_and_replace_together():
    text = '{"filter": {"dateRangeStart": "2024-05-01T00:00:00Z"}, "other": {}, "list": [{}]}'
    out = splice(
        text,
        {("filter", "dateRangeStart"): "2024-05-01T02:00:00"},
        {("filter",): ("timeZone", "Europe/Brussels"), ("list", 0): ("k", "v")},
    )
    assert json.loads(out) == {
        "filter": {"dateRangeStart": "2024-05-01T02:00:00", "timeZone": "Europe/Brussels"},
        "other": {},
        "list": [{"k": "v"}],
    }
    # Take the two added members out again: what is left is the original with one value replaced.
    stripped = re.sub(r',\s*"timeZone"\s*:\s*"Europe/Brussels"', "", out, count=1)
    stripped = re.sub(r'"k"\s*:\s*"v"', "", stripped, count=1)
    assert stripped == text.replace("2024-05-01T00:00:00Z", "2024-05-01T02:00:00")


def test_add_with_non_ascii_value():
    out = splice('{"a": 1}', {}, {(): ("zone", "América/Bogotá")})
    assert json.loads(out) == {"a": 1, "zone": "América/Bogotá"}


# -- refusals ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, path",
    [
        ('{"start": "a", "start": "b"}', ("start",)),
        ('{"start": "a", "\\u0073tart": "b"}', ("start",)),
        ('[{"start": "a", "end": "b", "start": "c"}]', (0, "start")),
        ('{"o": {"end": "a"}, "o": {"end": "b"}}', ("o", "end")),
    ],
)
def test_duplicate_keys_refused(text, path):
    with pytest.raises(SpliceError):
        splice(text, {path: "x"})


def test_add_to_duplicated_object_refused():
    with pytest.raises(SpliceError):
        splice('{"filter": {}, "filter": {"a": 1}}', {}, {("filter",): ("timeZone", "UTC")})


@pytest.mark.parametrize(
    "text, path",
    [
        ('{"start": "a"}', ("end",)),
        ('{"start": "a"}', ("start", "x")),
        ('{"o": {"end": "a"}}', ("o",)),  # an object is not a value that can be replaced
        ('{"arr": ["a"]}', ("arr", 1)),
        ('{"arr": ["a"]}', ("arr",)),
        ('[{"start": "a"}]', ("start",)),
        ('{"0": "a"}', (0,)),
        ('["a"]', ("0",)),
    ],
)
def test_missing_value_refused(text, path):
    with pytest.raises(SpliceError):
        splice(text, {path: "x"})


@pytest.mark.parametrize(
    "text, path",
    [('{"a": []}', ("a",)), ('{"a": "s"}', ("a",)), ('{"a": {}}', ("b",)), ('[]', ()), ('[{}]', ())],
)
def test_add_to_missing_object_refused(text, path):
    with pytest.raises(SpliceError):
        splice(text, {}, {path: ("k", "v")})


@pytest.mark.parametrize(
    "text",
    [
        '{"start": "a", "n": NaN}',  # json.loads accepts these: the proxy may get this far
        '{"start": "a", "n": -Infinity}',
        '{"start": "a"} {"b": 1}',
        '{"start": "a"} x',
    ],
)
def test_text_that_is_not_strict_json_refused(text):
    with pytest.raises(SpliceError):
        splice(text, {("start",): "x"})


def test_locate_reports_every_span_and_emptiness():
    text = '{"a": {}, "b": {"c": "x"}, "l": [{"c": "y"}, {"c": "z"}]}'
    values, objects = locate(text, [("b", "c"), ("l", 1, "c")], [("a",), ("b",), ()])
    assert {p: [text[s:e] for s, e in spans] for p, spans in values.items()} == {
        ("b", "c"): ['"x"'],
        ("l", 1, "c"): ['"z"'],
    }
    assert {p: [(text[o], text[c], empty) for o, c, empty in spans] for p, spans in objects.items()} == {
        ("a",): [("{", "}", True)],
        ("b",): [("{", "}", False)],
        (): [("{", "}", False)],
    }


# -- property: random documents, random serialisations ------------------------------------------------

_chars = st.characters(exclude_categories=("Cs",))
keys = st.text(_chars, max_size=6)
strings = st.text(_chars, max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    strings,
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=25,
)
serialisations = st.fixed_dictionaries(
    {
        "indent": st.sampled_from([None, 0, 1, 2, 4, "\t", " \r\n"]),
        "separators": st.sampled_from([None, (",", ":"), (", ", ": "), (" ,\n", " :\t"), ("\r\n,", ":  ")]),
        "ensure_ascii": st.booleans(),
        "sort_keys": st.booleans(),
    }
)


def string_leaves(doc, path=()):
    if isinstance(doc, str):
        yield path
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from string_leaves(item, path + (i,))
    elif isinstance(doc, dict):
        for k, item in doc.items():
            yield from string_leaves(item, path + (k,))


def objects_in(doc, path=()):
    if isinstance(doc, dict):
        yield path, doc
        for k, item in doc.items():
            yield from objects_in(item, path + (k,))
    elif isinstance(doc, list):
        for i, item in enumerate(doc):
            yield from objects_in(item, path + (i,))


@PROPERTY
@given(documents, serialisations, st.data())
def test_replacing_string_leaves_changes_only_them(doc, how, data):
    text = json.dumps(doc, **how)
    parsed = json.loads(text)
    leaves = list(string_leaves(parsed))
    chosen = data.draw(st.lists(st.sampled_from(leaves), unique=True) if leaves else st.just([]))
    replace = {path: data.draw(strings) for path in chosen}
    out = splice(text, replace)
    expected = copy.deepcopy(parsed)
    for path, new in replace.items():
        expected = set_at(expected, path, new)
    assert json.loads(out) == expected
    assert_only_spans_changed(text, out, chosen)
    for path, new in replace.items():
        start, end = leaf_spans(out)[path]
        assert json.loads(out[start:end]) == new


@PROPERTY
@given(documents, serialisations, st.data())
def test_adding_a_member_inserts_only_that_member(doc, how, data):
    text = json.dumps(doc, **how)
    parsed = json.loads(text)
    targets = list(objects_in(parsed))
    if not targets:
        with pytest.raises(SpliceError):
            splice(text, {}, {(): ("k", "v")})
        return
    path, obj = data.draw(st.sampled_from(targets))
    key = data.draw(keys.filter(lambda k: k not in obj))
    new = data.draw(scalars)
    out = splice(text, {}, {path: (key, new)})
    expected = copy.deepcopy(parsed)
    target = expected
    for part in path:
        target = target[part]
    target[key] = new
    assert json.loads(out) == expected
    at = assert_single_insertion(text, out, len(out) - len(text))
    assert len(out) > len(text) and at > 0


@PROPERTY
@given(documents, serialisations, st.data())
def test_replace_and_add_together(doc, how, data):
    text = json.dumps(doc, **how)
    parsed = json.loads(text)
    leaves = list(string_leaves(parsed))
    targets = list(objects_in(parsed))
    chosen = data.draw(st.lists(st.sampled_from(leaves), unique=True, max_size=3) if leaves else st.just([]))
    replace = {path: data.draw(strings) for path in chosen}
    add = {}
    expected = copy.deepcopy(parsed)
    for path, new in replace.items():
        expected = set_at(expected, path, new)
    for path, obj in data.draw(st.lists(st.sampled_from(targets), max_size=2, unique_by=lambda t: t[0])
                               if targets else st.just([])):
        key = data.draw(keys.filter(lambda k: k not in obj))
        add[path] = (key, "added")
        target = expected
        for part in path:
            target = target[part]
        target[key] = "added"
    assert json.loads(splice(text, replace, add)) == expected


# Few characters, so that values, keys and the text between tokens often look alike.
_tiny = st.text(st.sampled_from('a1:,]} "\\'), max_size=3)
tiny_documents = st.recursive(
    st.one_of(st.none(), st.integers(-9, 9), _tiny),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_tiny, inner, max_size=4)),
    max_leaves=20,
)


@settings(PROPERTY, max_examples=1500)
@given(tiny_documents, serialisations, st.data())
def test_fast_path_on_a_plain_text_is_right_or_declines(doc, how, data):
    """splice_unique's result for a text without escapes is trusted unchecked by fix_json."""
    text = json.dumps(doc, **how)
    parsed = json.loads(text)
    leaves = list(string_leaves(parsed))
    chosen = data.draw(st.lists(st.sampled_from(leaves), unique=True, max_size=3) if leaves else st.just([]))
    replace = {path: (get_at(parsed, path), data.draw(_tiny)) for path in chosen}
    add = {(): ("added", data.draw(_tiny))} if isinstance(parsed, dict) and "added" not in parsed else {}
    out = splice_unique(text, replace, add)
    if out is None or not is_plain(text):
        return
    expected = copy.deepcopy(parsed)
    for path, (_, new) in replace.items():
        expected = set_at(expected, path, new)
    if add:
        expected["added"] = add[()][1]
    assert json.loads(out) == expected
    if not add:
        assert_only_spans_changed(text, out, chosen)


def get_at(doc, path):
    for part in path:
        doc = doc[part]
    return doc
