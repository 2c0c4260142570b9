"""Start-up: invalid option values stop the proxy with one line naming the option, wherever the
value came from; option precedence (--set > environment > config file > default) as a user sees
it, in the rewritten time; loading through plain mitmdump with `-s addons/clockify.py`."""

from __future__ import annotations

import pytest

from tests.support import FIXED_HEADER, header_list, new_session
from tests.support.proxy import ADDON_SCRIPT

JSON = {"Content-Type": "application/json"}
TIMEOUT = 10
# "Within a few seconds": a proxy that has not exited by then is taken to be running.
STARTUP_LIMIT = 8.0

NAIVE_ENTRY = b'{"start":"2024-05-01T09:00:00","end":"2024-05-01T10:00:00"}'
# 2024-05-01T09:00:00 read in each zone (UTC offsets in May 2024).
AS_UTC = {
    "Europe/Brussels": b'{"start":"2024-05-01T07:00:00Z","end":"2024-05-01T08:00:00Z"}',  # +02:00
    "America/New_York": b'{"start":"2024-05-01T13:00:00Z","end":"2024-05-01T14:00:00Z"}',  # -04:00
    "Asia/Tokyo": b'{"start":"2024-05-01T00:00:00Z","end":"2024-05-01T01:00:00Z"}',  # +09:00
    "Asia/Kolkata": b'{"start":"2024-05-01T03:30:00Z","end":"2024-05-01T04:30:00Z"}',  # +05:30
}


def assert_rejected(result, option: str, *also: str) -> None:
    """Exited non-zero within the limit, with exactly one line of output, naming the option."""
    assert result.returncode is not None, f"still running after {STARTUP_LIMIT}s: {result.describe()}"
    assert result.returncode != 0, result.describe()
    assert result.elapsed < STARTUP_LIMIT, result.describe()
    assert len(result.lines) == 1, result.describe()
    assert option in result.lines[0], result.describe()
    for text in also:
        assert text in result.lines[0], result.describe()
    assert "Traceback" not in result.output


def write_config(tmp_path, text: str):
    path = tmp_path / "clockify-proxy.toml"
    path.write_text(text, encoding="utf-8")
    return path


# -- invalid values --------------------------------------------------------------------------


def test_bad_timezone_from_set(proxy_factory):
    result = proxy_factory.expect_failure(["--set", "clockify_timezone=Mars/Olympus"], timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_timezone", "Mars/Olympus")


def test_bad_timezone_from_environment(proxy_factory):
    result = proxy_factory.expect_failure([], env={"CLOCKIFY_TIMEZONE": "Mars/Olympus"}, timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_timezone", "Mars/Olympus")


def test_bad_timezone_from_config_file(proxy_factory, tmp_path):
    config = write_config(tmp_path, 'clockify_timezone = "Mars/Olympus"\n')
    result = proxy_factory.expect_failure(["--set", f"clockify_config={config}"], timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_timezone", "Mars/Olympus")


def test_bad_timezone_from_config_file_named_in_environment(proxy_factory, tmp_path):
    config = write_config(tmp_path, 'clockify_timezone = "Mars/Olympus"\n')
    result = proxy_factory.expect_failure([], env={"CLOCKIFY_CONFIG": str(config)}, timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_timezone", "Mars/Olympus")


@pytest.mark.parametrize("value", ["ftp://127.0.0.1:21", "not a url", "http://"])
def test_bad_upstream(proxy_factory, value):
    result = proxy_factory.expect_failure(["--set", f"clockify_upstream={value}"], timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_upstream")


def test_bad_upstream_from_environment(proxy_factory):
    result = proxy_factory.expect_failure([], env={"CLOCKIFY_UPSTREAM": "ftp://127.0.0.1:21"}, timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_upstream")


def test_bad_log_format(proxy_factory):
    result = proxy_factory.expect_failure(["--set", "clockify_log_format=xml"], timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_log_format", "xml")


def test_bad_host_name(proxy_factory):
    result = proxy_factory.expect_failure(["--set", "clockify_hosts=not a host!"], timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_hosts")


def test_config_file_with_unknown_key(proxy_factory, tmp_path):
    config = write_config(tmp_path, 'clockify_timezone = "Europe/Brussels"\nclockify_colour = "blue"\n')
    result = proxy_factory.expect_failure(["--set", f"clockify_config={config}"], timeout=STARTUP_LIMIT)
    assert_rejected(result, "clockify_colour")


def test_missing_config_file(proxy_factory, tmp_path):
    result = proxy_factory.expect_failure(
        ["--set", f"clockify_config={tmp_path / 'nowhere.toml'}"], timeout=STARTUP_LIMIT
    )
    assert_rejected(result, "clockify_config", "nowhere.toml")


# -- precedence, observed in the rewritten time -----------------------------------------------


def fixed_entry(proxy, fake_upstream) -> bytes:
    with new_session() as client:
        response = client.post(
            proxy.url + "/api/v1/workspaces/ws-precedence/time-entries", data=NAIVE_ENTRY, headers=JSON, timeout=TIMEOUT
        )
    assert response.status_code == 200, proxy.output()
    assert sorted(header_list(response.headers.get(FIXED_HEADER))) == ["end", "start"]
    return fake_upstream.only_request().body


@pytest.mark.parametrize(
    ("use_set", "use_env", "file_via", "expected_zone"),
    [
        pytest.param(True, True, "set", "Europe/Brussels", id="set-beats-env-and-file"),
        pytest.param(False, True, "set", "America/New_York", id="env-beats-file"),
        pytest.param(False, False, "set", "Asia/Tokyo", id="file-named-by-set"),
        pytest.param(False, False, "env", "Asia/Tokyo", id="file-named-by-env"),
        pytest.param(False, False, "default-location", "Asia/Tokyo", id="file-in-default-location"),
        pytest.param(True, False, "none", "Europe/Brussels", id="set-only"),
        pytest.param(False, True, "none", "America/New_York", id="env-only"),
        pytest.param(False, False, "none", "Asia/Kolkata", id="default-is-host-zone"),
    ],
)
def test_timezone_precedence(proxy_factory, fake_upstream, tmp_path, use_set, use_env, file_via, expected_zone):
    args = ["--mode", f"reverse:http://127.0.0.1:{fake_upstream.port}"]
    env = {}
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    config_text = 'clockify_timezone = "Asia/Tokyo"\n'
    if file_via == "set":
        args += ["--set", f"clockify_config={write_config(tmp_path, config_text)}"]
    elif file_via == "env":
        env["CLOCKIFY_CONFIG"] = str(write_config(tmp_path, config_text))
    elif file_via == "default-location":
        (cwd / "config").mkdir()
        (cwd / "config" / "clockify-proxy.toml").write_text(config_text, encoding="utf-8")
    if use_env:
        env["CLOCKIFY_TIMEZONE"] = "America/New_York"
    if use_set:
        args += ["--set", "clockify_timezone=Europe/Brussels"]

    proxy = proxy_factory.start(args, env=env, tz="Asia/Kolkata", cwd=cwd)

    assert fixed_entry(proxy, fake_upstream) == AS_UTC[expected_zone]


def test_listens_on_loopback_by_default(proxy_factory, fake_upstream):
    proxy = proxy_factory.start(["--mode", f"reverse:http://127.0.0.1:{fake_upstream.port}"], listen_host=None)
    assert "--listen-host" not in proxy.argv
    listening = [line for line in proxy.stdout.splitlines() if "listening at" in line]
    assert listening and all(f"listening at 127.0.0.1:{proxy.port}" in line for line in listening), proxy.output()


def test_stops_cleanly_on_sigterm(proxy_factory, fake_upstream):
    proxy = proxy_factory.start(["--mode", f"reverse:http://127.0.0.1:{fake_upstream.port}"])
    assert proxy.stop() == 0, proxy.output()


# -- plain mitmdump with the script ------------------------------------------------------------


@pytest.mark.parametrize("via", ["set", "env"])
def test_plain_mitmdump_with_script_fixes_a_time_entry(proxy_factory, fake_upstream, via):
    args = ["-s", str(ADDON_SCRIPT), "--mode", f"reverse:http://127.0.0.1:{fake_upstream.port}"]
    env = {}
    if via == "set":
        args += ["--set", "clockify_timezone=Europe/Brussels"]
    else:
        env["CLOCKIFY_TIMEZONE"] = "Europe/Brussels"
    proxy = proxy_factory.start(args, env=env, base="mitmdump")

    assert fixed_entry(proxy, fake_upstream) == AS_UTC["Europe/Brussels"]
    proxy.wait_for_events("request.fixed", contains="ws-precedence")


@pytest.mark.parametrize("via", ["set", "env"])
def test_plain_mitmdump_with_script_and_bad_timezone_exits_non_zero(proxy_factory, via):
    args = ["-s", str(ADDON_SCRIPT)]
    env = {}
    if via == "set":
        args += ["--set", "clockify_timezone=Mars/Olympus"]
    else:
        env["CLOCKIFY_TIMEZONE"] = "Mars/Olympus"
    result = proxy_factory.expect_failure(args, env=env, base="mitmdump", timeout=STARTUP_LIMIT)

    assert result.returncode is not None, f"mitmdump kept running: {result.describe()}"
    assert result.returncode != 0, result.describe()
    assert "clockify_timezone" in result.output, result.describe()
