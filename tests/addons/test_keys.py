"""API key injection on mitmproxy test flows."""

import asyncio

import pytest
from mitmproxy import exceptions, http
from mitmproxy.proxy import mode_specs
from mitmproxy.test import tflow

KEY = "TESTKEY-global-000000000000000000000000000000A1b2"
EU_KEY = "TESTKEY-euc1-00000000000000000000000000000000Eu42"


def get(url, **headers):
    f = tflow.tflow(req=http.Request.make("GET", url, b"", headers))
    return f


def ok():
    return http.Response.make(200, b"[]", {"content-type": "application/json"})


@pytest.fixture
def keyed(proxy):
    proxy.configure(clockify_api_key=KEY)
    return proxy


def sent_headers(proxy, f):
    """The request headers as they left the proxy (before the key is dropped from the flow)."""
    for addon in (proxy.settings, proxy.router, proxy.keys, proxy.times):
        if hasattr(addon, "requestheaders"):
            addon.requestheaders(f)
    asyncio.run(proxy.times.request(f))
    return dict(f.request.headers)


def test_key_is_added_where_there_is_no_credential(keyed):
    f = get("https://api.clockify.me/api/v1/user")
    assert sent_headers(keyed, f)["X-Api-Key"] == KEY


@pytest.mark.parametrize("header", ["X-Api-Key", "X-Api-key", "x-api-key"])
def test_clients_own_key_is_kept_in_add_mode(keyed, header):
    f = get("https://api.clockify.me/api/v1/user", **{header: "client-key"})
    headers = sent_headers(keyed, f)
    assert [v for k, v in headers.items() if k.lower() == "x-api-key"] == ["client-key"]


def test_addon_token_is_never_joined_by_a_key(keyed):
    headers = sent_headers(keyed, get("https://api.clockify.me/api/v1/user", **{"X-Addon-Token": "jwt"}))
    assert "x-api-key" not in {k.lower() for k in headers}
    assert headers["X-Addon-Token"] == "jwt"


def test_bearer_only_is_replaced_by_the_key(keyed):
    headers = sent_headers(keyed, get("https://api.clockify.me/api/v1/user", Authorization="Bearer abc"))
    assert headers["X-Api-Key"] == KEY
    assert "authorization" not in {k.lower() for k in headers}


def test_replace_mode_sends_only_the_configured_key(keyed):
    keyed.configure(clockify_key_mode="replace")
    headers = sent_headers(keyed, get("https://api.clockify.me/api/v1/user", **{"X-Api-Key": "old", "X-Addon-Token": "jwt"}))
    assert {k.lower(): v for k, v in headers.items() if k.lower() in ("x-api-key", "x-addon-token")} == {"x-api-key": KEY}


def test_off_mode_adds_nothing(keyed):
    keyed.configure(clockify_key_mode="off")
    assert "X-Api-Key" not in sent_headers(keyed, get("https://api.clockify.me/api/v1/user"))


@pytest.mark.parametrize("url", ["https://example.com/api/v1/user", "https://app.clockify.me/api/v1/user", "https://clockify.me.evil.com/api/v1/user"])
def test_other_hosts_never_get_the_key(keyed, url):
    assert "X-Api-Key" not in sent_headers(keyed, get(url))


def test_plain_http_to_a_remote_clockify_host_gets_no_key(keyed):
    f = get("http://api.clockify.me/api/v1/user")
    assert "X-Api-Key" not in sent_headers(keyed, f)
    keyed.events.response(f) if f.response else None


def test_loopback_reverse_target_gets_the_key(keyed):
    f = get("http://127.0.0.1:9999/api/v1/user")
    f.client_conn.proxy_mode = mode_specs.ProxyMode.parse("reverse:http://127.0.0.1:9999")
    assert sent_headers(keyed, f)["X-Api-Key"] == KEY


def test_keys_follow_the_region(proxy):
    proxy.configure(clockify_api_keys=[f"global={KEY}", f"euc1={EU_KEY}"])
    assert sent_headers(proxy, get("https://euc1.clockify.me/api/v1/user"))["X-Api-Key"] == EU_KEY
    assert sent_headers(proxy, get("https://api.clockify.me/api/v1/user"))["X-Api-Key"] == KEY
    # No key for the developer environment: nothing is added rather than a key of another region.
    assert "X-Api-Key" not in sent_headers(proxy, get("https://developer.clockify.me/api/v1/user"))


def test_key_leaves_the_flow_once_sent_and_is_named_by_its_last_four(keyed):
    f = keyed.send(get("https://api.clockify.me/api/v1/user"), ok())
    assert "X-Api-Key" not in f.request.headers
    assert f.response.headers["X-Clockify-Proxy-Fixed"] == "X-Api-Key"
    assert KEY not in repr(f.get_state())


def test_key_file_with_scoped_keys(proxy, tmp_path):
    path = tmp_path / "keys"
    path.write_text(f"# mounted secret\nglobal={KEY}\neuc1={EU_KEY}\n")
    proxy.configure(clockify_api_key_file=str(path))
    assert sent_headers(proxy, get("https://euc1.clockify.me/report/v1/x"))["X-Api-Key"] == EU_KEY


@pytest.mark.parametrize("content, message", [("", "empty"), ("\n# nothing\n", "empty"), ("has space key\n", "header"), ("mars=abc123456789012\n", "scope")])
def test_bad_key_file_stops_start_up_without_printing_the_key(proxy, tmp_path, content, message):
    path = tmp_path / "keyfile"
    path.write_text(content)
    with pytest.raises(exceptions.OptionsError, match=message) as e:
        proxy.configure(clockify_api_key_file=str(path))
    assert "abc123456789012" not in str(e.value)


def test_missing_key_file_is_named(proxy):
    with pytest.raises(exceptions.OptionsError, match="clockify_api_key_file.*/no/such/file"):
        proxy.configure(clockify_api_key_file="/no/such/file")


def test_empty_key_in_the_environment_is_an_error(proxy, monkeypatch):
    monkeypatch.setenv("CLOCKIFY_API_KEY", "  ")
    with pytest.raises(exceptions.OptionsError, match="CLOCKIFY_API_KEY.*empty"):
        proxy.configure(clockify_timezone="UTC")


def test_listening_beyond_loopback_needs_auth_or_opt_in(proxy):
    with pytest.raises(exceptions.OptionsError, match="proxyauth"):
        proxy.configure(listen_host="0.0.0.0")
    proxy.capture_events()
    proxy.configure(listen_host="0.0.0.0", clockify_allow_remote="true")
    proxy.configure(listen_host="0.0.0.0", clockify_allow_remote="false", proxyauth="user:pass")
    opted_in, authenticated = proxy.logged("listening.beyond_loopback")
    assert opted_in["level"] == "warning" and "WITHOUT authentication" in opted_in["message"]
    assert opted_in["listen"] == "0.0.0.0" and "proxyauth" in authenticated["message"]


def test_mitmproxys_all_interfaces_default_is_refused_once_a_key_is_configured(proxy):
    proxy.configure(listen_host="")  # mitmdump -s without --listen-host: allowed, with a warning
    with pytest.raises(exceptions.OptionsError, match="proxyauth"):
        proxy.configure(clockify_api_key=KEY)
