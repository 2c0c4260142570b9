"""API key injection through a real proxy: the key arrives where it should, in the form expected,
and nowhere else; every key source and mode works; bad key configuration stops start-up.

The fake Clockify answers like Clockify: 401 code 1000 without a credential or with two, 401 code
4003 for an unknown key. A second fake plays a host that is not Clockify.
"""

from __future__ import annotations

import re

import pytest

from tests.support import DIAGNOSIS_HEADER, ENV_KEY, EU_KEY, FILE_KEY, FIXED_HEADER, GLOBAL_KEY, new_session
from tests.support.fake_clockify import FakeClockify

TIMEOUT = 10
KNOWN_KEYS = {GLOBAL_KEY, EU_KEY, FILE_KEY, ENV_KEY}


def answer_like_clockify(fake: FakeClockify) -> None:
    """Check credentials the way Clockify does, for every request the fake receives."""
    original = fake._answer

    def answer(request):
        api_key, addon_token = request.header("X-Api-Key"), request.header("X-Addon-Token")
        if bool(api_key) == bool(addon_token):
            return 401, {"Content-Type": "application/json"}, b'{"message":"Multiple or none auth tokens present","code":1000}'
        if api_key and api_key not in KNOWN_KEYS:
            return 401, {"Content-Type": "application/json"}, b'{"message":"Api key does not exist","code":4003}'
        return original(request)

    fake._answer = answer


@pytest.fixture
def clockify():
    fake = FakeClockify().start()
    answer_like_clockify(fake)
    yield fake
    fake.stop()


@pytest.fixture
def elsewhere():
    fake = FakeClockify().start()
    yield fake
    fake.stop()


def start(proxy_factory, clockify, *extra, env=None):
    return proxy_factory.start(["--mode", f"reverse:http://127.0.0.1:{clockify.port}", *extra], env=env)


@pytest.mark.parametrize(
    "how, env",
    [
        (["--set", f"clockify_api_key={GLOBAL_KEY}"], None),
        ([], {"CLOCKIFY_API_KEY": ENV_KEY}),
        (["--set", "clockify_api_key_file={file}"], None),
        ([], {"CLOCKIFY_API_KEY_FILE": "{file}"}),
    ],
    ids=["--set", "environment", "key file", "key file from environment"],
)
def test_each_key_source_reaches_clockify(proxy_factory, clockify, tmp_path, how, env):
    key_file = tmp_path / "clockify_api_key"
    key_file.write_text(FILE_KEY + "\n")
    how = [a.replace("{file}", str(key_file)) for a in how]
    env = {k: v.replace("{file}", str(key_file)) for k, v in (env or {}).items()}
    expected = GLOBAL_KEY if "clockify_api_key=" in " ".join(how) else ENV_KEY if "CLOCKIFY_API_KEY" in env else FILE_KEY
    proxy = start(proxy_factory, clockify, *how, env=env)
    with new_session() as s:
        r = s.get(proxy.url + "/api/v1/user", timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers[FIXED_HEADER] == "X-Api-Key"
    assert clockify.only_request().header("X-Api-Key") == expected


def test_set_beats_environment_beats_key_file(proxy_factory, clockify, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(FILE_KEY)
    proxy = start(proxy_factory, clockify, "--set", f"clockify_api_key_file={key_file}", env={"CLOCKIFY_API_KEY": ENV_KEY})
    with new_session() as s:
        s.get(proxy.url + "/api/v1/user", timeout=TIMEOUT)
    assert clockify.only_request().header("X-Api-Key") == ENV_KEY


@pytest.mark.parametrize(
    "sent, arrives",
    [
        ({}, {"X-Api-Key": GLOBAL_KEY}),
        ({"X-Api-key": ENV_KEY}, {"X-Api-Key": ENV_KEY}),
        ({"X-Addon-Token": "jwt.token.here"}, {"X-Addon-Token": "jwt.token.here"}),
        ({"Authorization": "Bearer abc"}, {"X-Api-Key": GLOBAL_KEY}),
    ],
    ids=["none", "own key (any case)", "add-on token", "bearer only"],
)
def test_add_mode_fills_in_only_what_is_missing(proxy_factory, clockify, sent, arrives):
    proxy = start(proxy_factory, clockify, "--set", f"clockify_api_key={GLOBAL_KEY}")
    with new_session() as s:
        r = s.get(proxy.url + "/api/v1/user", headers=sent, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    got = clockify.only_request()
    credentials = {n: got.header(n) for n in ("X-Api-Key", "X-Addon-Token", "Authorization") if got.header(n)}
    assert credentials == arrives


def test_replace_mode_and_off_mode(proxy_factory, clockify):
    replace = start(proxy_factory, clockify, "--set", f"clockify_api_key={GLOBAL_KEY}", "--set", "clockify_key_mode=replace")
    off = start(proxy_factory, clockify, "--set", f"clockify_api_key={GLOBAL_KEY}", "--set", "clockify_key_mode=off")
    with new_session() as s:
        assert s.get(replace.url + "/api/v1/user", headers={"X-Api-Key": "stale"}, timeout=TIMEOUT).status_code == 200
        r = s.get(off.url + "/api/v1/user", timeout=TIMEOUT)
    assert r.status_code == 401
    assert r.json() == {"message": "Multiple or none auth tokens present", "code": 1000}
    assert r.headers[DIAGNOSIS_HEADER] == "missing-credentials"
    assert "...Gl0b" in r.headers["X-Clockify-Proxy-Hint"]
    first, second = clockify.wait_for_requests(2)
    assert first.header("X-Api-Key") == GLOBAL_KEY and second.header("X-Api-Key") is None


def test_unknown_key_and_two_credentials_are_explained(proxy_factory, clockify):
    proxy = start(proxy_factory, clockify)
    with new_session() as s:
        unknown = s.get(proxy.url + "/api/v1/user", headers={"X-Api-Key": "nope"}, timeout=TIMEOUT)
        both = s.get(proxy.url + "/api/v1/user", headers={"X-Api-Key": "a", "X-Addon-Token": "b"}, timeout=TIMEOUT)
    assert (unknown.status_code, unknown.headers[DIAGNOSIS_HEADER]) == (401, "unknown-api-key")
    assert unknown.json() == {"message": "Api key does not exist", "code": 4003}
    assert (both.status_code, both.headers[DIAGNOSIS_HEADER]) == (401, "two-credentials")
    proxy.wait_for_events("response.failed", count=2)


def test_regular_mode_never_gives_the_key_to_another_host(proxy_factory, clockify, elsewhere):
    proxy = proxy_factory.start(["--set", f"clockify_api_key={GLOBAL_KEY}", "--set", f"clockify_upstream=http://127.0.0.1:{clockify.port}"])
    with new_session() as s:
        s.proxies = {"http": proxy.url}
        other = s.get(f"http://127.0.0.1:{elsewhere.port}/api/v1/user", timeout=TIMEOUT)
        plain_clockify = s.get("http://api.clockify.me/api/v1/user", timeout=TIMEOUT)
    assert other.status_code == 200
    assert elsewhere.only_request().header("X-Api-Key") is None
    assert plain_clockify.status_code == 200  # to the configured upstream: the user's own mock
    assert clockify.only_request().header("X-Api-Key") == GLOBAL_KEY


def test_keys_follow_the_region_of_the_host_meant(proxy_factory, clockify, tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"global={GLOBAL_KEY}\neuc1={EU_KEY}\n")
    proxy = proxy_factory.start(
        ["--mode", "reverse:https://euc1.clockify.me", "--set", f"clockify_upstream=http://127.0.0.1:{clockify.port}",
         "--set", f"clockify_api_key_file={key_file}"]
    )
    with new_session() as s:
        assert s.get(proxy.url + "/api/v1/user", timeout=TIMEOUT).status_code == 200
    assert clockify.only_request().header("X-Api-Key") == EU_KEY


def test_the_flow_printer_never_shows_the_key(proxy_factory, clockify):
    proxy = start(proxy_factory, clockify, "--set", f"clockify_api_key={GLOBAL_KEY}", "-v")  # -v: flow_detail 2, headers shown
    with new_session() as s:
        s.post(proxy.url + "/api/v1/workspaces/w/time-entries", json={"start": "2024-05-01T09:00:00Z"}, timeout=TIMEOUT)
    proxy.wait_for_events("request.fixed")
    assert re.search(r"(?im)^\s*user-agent: ", proxy.stdout), "the flow printer showed no request headers"
    assert not re.search(r"(?im)^\s*x-api-key: ", proxy.stdout)


@pytest.mark.parametrize(
    "args, env, named",
    [
        (["--set", "clockify_api_key_file=/nonexistent/key"], None, "clockify_api_key_file"),
        (["--set", "clockify_api_key_file={empty}"], None, "empty"),
        ([], {"CLOCKIFY_API_KEY": " "}, "CLOCKIFY_API_KEY"),
        (["--set", f"clockify_api_keys=mars={GLOBAL_KEY}"], None, "clockify_api_keys"),
        (["--listen-host", "0.0.0.0", "--set", f"clockify_api_key={GLOBAL_KEY}"], None, "proxyauth"),
    ],
    ids=["missing file", "empty file", "empty environment", "unknown scope", "exposed"],
)
def test_bad_key_configuration_stops_start_up_without_showing_the_key(proxy_factory, tmp_path, args, env, named):
    empty = tmp_path / "empty"
    empty.write_text("\n")
    args = [a.replace("{empty}", str(empty)) for a in args]
    result = proxy_factory.expect_failure(args, env=env)  # a later --listen-host wins over the harness's
    assert result.returncode not in (0, None), result.describe()
    assert named in result.output
