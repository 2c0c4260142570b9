"""Edit single values of a JSON text in place.

Re-serialising a body would change key order, number forms, escapes and spacing that the
client chose. Splicing the new values into the original text changes nothing else.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping

Path = tuple  # keys (str) and array indices (int), from the root

_WS = re.compile(r"[ \t\n\r]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


class SpliceError(ValueError):
    """The text could not be edited safely; the caller forwards it unchanged."""


def _key(token: str) -> str:
    return json.loads(token) if "\\" in token else token[1:-1]


def locate(text: str, values: Iterable[Path], objects: Iterable[Path] = ()) -> tuple[dict, dict]:
    """Spans of the values at `values` and of the objects at `objects`.

    Returns ({path: [(start, end), ...]}, {path: [(open, close, is_empty), ...]}); a path that
    occurs more than once (duplicate keys) has more than one span. The text must be valid JSON.
    """
    want_values, want_objects = set(values), set(objects)
    found_values: dict[Path, list] = {}
    found_objects: dict[Path, list] = {}
    path: list = []
    # Per open container: [is_object, position of "{" or "[", has_members].
    stack: list[list] = []
    i = _WS.match(text, 0).end()
    expect_value = True
    while True:
        if expect_value:
            c = text[i]
            if c == "{" or c == "[":
                stack.append([c == "{", i, False])
                i = _WS.match(text, i + 1).end()
                closer = "}" if c == "{" else "]"
                if text[i] == closer:
                    expect_value = False
                    continue
                stack[-1][2] = True
                if c == "{":
                    m = _STRING.match(text, i)
                    path.append(_key(m.group()))
                    i = _WS.match(text, m.end()).end() + 1  # past ":"
                    i = _WS.match(text, i).end()
                else:
                    path.append(0)
                continue
            m = _STRING.match(text, i) if c == '"' else _SCALAR.match(text, i)
            if m is None:
                raise SpliceError(f"unexpected character at {i}")
            if want_values:
                here = tuple(path)
                if here in want_values:
                    found_values.setdefault(here, []).append((i, m.end()))
            i = _WS.match(text, m.end()).end()
            expect_value = False
            continue
        # After a value: a comma, or the end of the innermost container.
        if not stack:
            if i != len(text):
                raise SpliceError("text after the JSON value")
            return found_values, found_objects
        c = text[i]
        if c == ",":
            i = _WS.match(text, i + 1).end()
            if stack[-1][0]:
                m = _STRING.match(text, i)
                path[-1] = _key(m.group())
                i = _WS.match(text, m.end()).end() + 1
                i = _WS.match(text, i).end()
            else:
                path[-1] += 1
            expect_value = True
            continue
        is_object, opened, has_members = stack.pop()
        if has_members:
            path.pop()
        if is_object and want_objects:
            here = tuple(path)
            if here in want_objects:
                found_objects.setdefault(here, []).append((opened, i, not has_members))
        i = _WS.match(text, i + 1).end()


def splice_unique(
    text: str,
    replace: Mapping[Path, tuple[str, object]],
    add: Mapping[Path, tuple[str, object]] = {},
) -> str | None:
    """The fast path of `splice`: each old string value is found by its own JSON text.

    `replace` maps a path to (old value, new value). Applies only where every old value is a
    string whose text occurs exactly once, and members are added to the root object only;
    returns None otherwise.

    In a text without backslashes (`is_plain`), the result is right by construction: each string
    is written as its own characters, so the old value's text is there where the value is, and
    found once, that is the value (a key or another value alike would make a second). With
    backslashes the value may be written with escapes and its text found elsewhere: the caller
    must check the result.
    """
    edits: list[tuple[int, int, str]] = []
    for old, new in replace.values():
        if not isinstance(old, str):  # a number's text may differ from how the client wrote it
            return None
        token = _dumps(old)
        start = text.find(token)
        if start < 0 or text.find(token, start + 1) >= 0:
            return None
        edits.append((start, start + len(token), _dumps(new)))
    for path, (key, new) in add.items():
        body = text.strip()
        if path != () or not (body.startswith("{") and body.endswith("}")):
            return None
        close = len(text.rstrip()) - 1
        member = f"{_dumps(key)}:{_dumps(new)}"
        edits.append((close, close, "," + member if body[1:-1].strip() else member))
    return _apply(text, edits)


def is_plain(text: str) -> bool:
    """No escapes anywhere: what splice_unique returns for it needs no checking."""
    return "\\" not in text


def _is_literal(value: str) -> bool:
    # JSON (ensure_ascii=False) escapes only quotes, backslashes and control characters.
    return value.isprintable() and '"' not in value and "\\" not in value


def _dumps(value) -> str:
    return f'"{value}"' if isinstance(value, str) and _is_literal(value) else json.dumps(value, ensure_ascii=False)


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    out = []
    last = 0
    for start, end, new_text in sorted(edits):
        out.append(text[last:start])
        out.append(new_text)
        last = end
    out.append(text[last:])
    return "".join(out)


def splice(
    text: str,
    replace: Mapping[Path, object],
    add: Mapping[Path, tuple[str, object]] = {},
) -> str:
    """`text` with the values at `replace` set, and a (key, value) member added to each object at `add`.

    Raises SpliceError where a target is missing or occurs twice (duplicate keys), so the caller
    can forward the original instead of guessing which one the server would read.
    """
    values, objects = locate(text, replace.keys(), add.keys())
    edits: list[tuple[int, int, str]] = []
    for path, new in replace.items():
        spans = values.get(path, [])
        if len(spans) != 1:
            raise SpliceError(f"{len(spans)} values at {path!r}")
        start, end = spans[0]
        edits.append((start, end, _dumps(new)))
    for path, (key, new) in add.items():
        spans = objects.get(path, [])
        if len(spans) != 1:
            raise SpliceError(f"{len(spans)} objects at {path!r}")
        _, close, empty = spans[0]
        member = f"{json.dumps(key)}:{json.dumps(new, ensure_ascii=False)}"
        edits.append((close, close, member if empty else "," + member))
    return _apply(text, edits)
