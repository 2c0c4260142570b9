"""The event log: one JSON line per event, secrets masked by key wherever they sit."""

import io
import json

from clockify_proxy import logs


def render(**fields) -> dict:
    out = io.StringIO()
    logs.build("json", out).warning("test.event", **fields)
    (line,) = out.getvalue().splitlines()
    return json.loads(line)


def test_an_event_is_one_json_line_with_level_and_utc_time():
    event = render(url="https://api.clockify.me/api/v1/user", status=401)
    assert event["event"] == "test.event" and event["level"] == "warning"
    assert event["url"] == "https://api.clockify.me/api/v1/user" and event["status"] == 401
    assert event["timestamp"].endswith("Z")


def test_secrets_are_masked_by_key_at_any_depth():
    event = render(
        headers={"X-Api-Key": "secret-1", "Accept": "application/json"},
        attempts=[{"authorization": "Bearer secret-2"}, ("x-addon-token", {"X-Addon-Token": "secret-3"})],
        api_key="secret-4",
    )
    text = json.dumps(event)
    assert "secret-" not in text
    assert event["headers"] == {"X-Api-Key": "***", "Accept": "application/json"}
    assert event["attempts"][0] == {"authorization": "***"}
    assert event["api_key"] == "***"


def test_events_without_secrets_are_written_as_given():
    changes = [{"field": "start", "before": "2024-05-01T09:00:00+02:00", "after": "2024-05-01T07:00:00Z"}]
    assert render(changes=changes, zone="Europe/Brussels")["changes"] == changes


def test_a_terminal_gets_readable_lines_instead_of_json():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    out = Terminal()
    logs.build("auto", out).info("request.fixed", url="https://api.clockify.me/api/v1/x")
    assert "request.fixed" in out.getvalue() and not out.getvalue().startswith("{")
