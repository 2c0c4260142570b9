"""Routing decisions and option validation at the addon level."""

import json

import pytest
from mitmproxy import connection, exceptions, http, tls
from mitmproxy.proxy import context, mode_specs
from mitmproxy.test import tflow


def reverse_flow(spec, path, body=b""):
    f = tflow.tflow(req=http.Request.make("POST", "http://127.0.0.1:8080" + path, body, {"content-type": "application/json"}))
    f.client_conn.proxy_mode = mode_specs.ProxyMode.parse(f"reverse:{spec}")
    target = f.client_conn.proxy_mode
    f.request.scheme, f.request.host, f.request.port = target.scheme, target.address[0], target.address[1]
    return f


@pytest.mark.parametrize(
    "path, url",
    [
        ("/api/v1/workspaces/w/time-entries", "https://api.clockify.me/api/v1/workspaces/w/time-entries"),
        ("/report/v1/workspaces/w/reports/detailed", "https://reports.api.clockify.me/v1/workspaces/w/reports/detailed"),
        ("/pto/v1/workspaces/w/balance?x=1", "https://pto.api.clockify.me/v1/workspaces/w/balance?x=1"),
    ],
)
def test_one_reverse_listener_serves_the_whole_global_api(proxy, path, url):
    f = proxy.send(reverse_flow("https://api.clockify.me", path))
    assert f.request.url == url


@pytest.mark.parametrize(
    "url, fixed",
    [
        ("https://api.clockify.me/api/v1/workspaces/w/reports/detailed", "https://reports.api.clockify.me/v1/workspaces/w/reports/detailed"),
        ("https://api.clockify.me/v1/workspaces/w/shared-reports", "https://reports.api.clockify.me/v1/workspaces/w/shared-reports"),
        ("https://euc1.clockify.me/api/v1/workspaces/w/reports/summary", "https://euc1.clockify.me/report/v1/workspaces/w/reports/summary"),
        ("https://pto.api.clockify.me/v1/workspaces/w/policies?status=ALL", "https://api.clockify.me/api/v1/workspaces/w/time-off/policies?status=ALL"),
        ("https://pto.api.clockify.me/v1/workspaces/w/balance/user/u1", "https://api.clockify.me/api/v1/workspaces/w/time-off/balance/user/u1"),
        ("https://use2.api.clockify.me/pto/v1/workspaces/w/requests", "https://use2.clockify.me/api/v1/workspaces/w/time-off/requests"),
    ],
)
def test_misrouted_calls_go_where_they_belong_and_say_so(proxy, url, fixed):
    f = proxy.send(tflow.tflow(req=http.Request.make("POST", url, b"{}", {"host": url.split("/")[2], "content-type": "application/json"})), http.Response.make(200))
    assert f.request.url == fixed
    assert f.response.headers["X-Clockify-Proxy-Fixed"] == "route"


def test_route_fixing_can_be_switched_off(proxy):
    proxy.configure(clockify_fix_routes="false")
    url = "https://api.clockify.me/api/v1/workspaces/w/reports/detailed"
    f = proxy.send(tflow.tflow(req=http.Request.make("POST", url, b"{}")), http.Response.make(404, b'{"message":"No static resource","code":3000}'))
    assert f.request.url == url
    assert f.response.headers["X-Clockify-Proxy-Diagnosis"] == "no-such-route"
    assert "reports.api.clockify.me" in f.response.headers["X-Clockify-Proxy-Hint"]


def test_legacy_time_off_path_without_a_certain_mapping_is_left_alone(proxy):
    url = "https://pto.api.clockify.me/v1/workspaces/w/balance"
    f = proxy.send(tflow.tflow(req=http.Request.make("GET", url)), http.Response.make(404, b'{"message":"No static resource v1/workspaces/w/balance.","code":3000}'))
    assert f.request.url == url
    assert "time-off" in f.response.headers["X-Clockify-Proxy-Hint"]


def test_reverse_to_a_regional_host_keeps_its_layout(proxy):
    f = proxy.send(reverse_flow("https://euc1.clockify.me", "/report/v1/workspaces/w/reports/summary"))
    assert f.request.url == "https://euc1.clockify.me/report/v1/workspaces/w/reports/summary"


def test_upstream_receives_every_service_in_the_regional_layout(proxy):
    proxy.configure(clockify_upstream="http://127.0.0.1:9/base/")
    f = proxy.send(tflow.tflow(req=http.Request.make("POST", "https://reports.api.clockify.me/v1/workspaces/w/reports/detailed?x=1", b"{}", {"host": "reports.api.clockify.me"})))
    assert f.request.url == "http://127.0.0.1:9/base/report/v1/workspaces/w/reports/detailed?x=1"
    assert f.request.headers["host"] == "127.0.0.1:9"


def test_upstream_body_is_still_fixed(proxy):
    proxy.configure(clockify_upstream="http://127.0.0.1:9")
    body = json.dumps({"start": "2024-05-01T09:00:00"}).encode()
    f = proxy.send(reverse_flow("https://api.clockify.me", "/api/v1/workspaces/w/time-entries", body))
    assert f.request.url == "http://127.0.0.1:9/api/v1/workspaces/w/time-entries"
    assert json.loads(f.request.content) == {"start": "2024-05-01T07:00:00Z"}


def connect_flow(host):
    f = tflow.tflow(req=http.Request.make("CONNECT", f"http://{host}:443/"))
    f.request.data.host, f.request.data.port = host, 443
    return f


def test_connect_to_clockify_is_answered_locally_when_an_upstream_is_set(proxy):
    proxy.configure(clockify_upstream="http://127.0.0.1:9")
    f = connect_flow("api.clockify.me")
    proxy.router.http_connect(f)
    assert f.response.status_code == 200
    other = connect_flow("example.com")
    proxy.router.http_connect(other)
    assert other.response is None


def test_connect_goes_to_the_real_host_without_upstream(proxy):
    f = connect_flow("api.clockify.me")
    proxy.router.http_connect(f)
    assert f.response is None


@pytest.mark.parametrize("sni, intercepted", [("api.clockify.me", True), ("mycompany.clockify.me", True), ("example.com", False), ("app.clockify.me", False)])
def test_only_clockify_hosts_are_intercepted(proxy, sni, intercepted):
    client = connection.Client(peername=("127.0.0.1", 5000), sockname=("127.0.0.1", 8080), proxy_mode=mode_specs.ProxyMode.parse("regular"))
    ctx = context.Context(client, None)
    ctx.server.address = (sni, 443)

    class Hello:
        pass

    hello = Hello()
    hello.sni = sni
    data = tls.ClientHelloData(ctx, hello)
    proxy.router.tls_clienthello(data)
    assert data.ignore_connection is (not intercepted)


def test_extra_hosts_are_intercepted(proxy):
    proxy.configure(clockify_hosts=["clockify.example.org"])
    client = connection.Client(peername=("127.0.0.1", 5000), sockname=("127.0.0.1", 8080), proxy_mode=mode_specs.ProxyMode.parse("regular"))
    ctx = context.Context(client, None)

    class Hello:
        sni = "clockify.example.org"

    data = tls.ClientHelloData(ctx, Hello())
    proxy.router.tls_clienthello(data)
    assert data.ignore_connection is False


@pytest.mark.parametrize(
    "options, named",
    [
        ({"clockify_timezone": "Mars/Olympus"}, "clockify_timezone"),
        ({"clockify_timezone": "UTC+3"}, "clockify_timezone"),
        ({"clockify_upstream": "ftp://x"}, "clockify_upstream"),
        ({"clockify_upstream": "http://"}, "clockify_upstream"),
        ({"clockify_hosts": ["not a host"]}, "clockify_hosts"),
        ({"clockify_log_format": "xml"}, "clockify_log_format"),
        ({"clockify_config": "/nonexistent/clockify.toml"}, "clockify_config"),
    ],
)
def test_invalid_option_names_itself(proxy, options, named):
    with pytest.raises(exceptions.OptionsError, match=named):
        proxy.configure(**options)


def test_environment_is_read_when_the_option_is_not_set(proxy, monkeypatch):
    monkeypatch.setenv("CLOCKIFY_TIMEZONE", "Asia/Tokyo")
    proxy.configure(clockify_timezone="")
    assert proxy.settings.current.zone.name == "Asia/Tokyo"
    proxy.configure(clockify_timezone="Europe/Lisbon")
    assert proxy.settings.current.zone.name == "Europe/Lisbon"


@pytest.mark.parametrize("content_type", [None, "text/plain", "text/plain; charset=utf-8"])
def test_json_body_without_json_content_type_gets_it(proxy, content_type):
    request = http.Request.make("POST", "https://api.clockify.me/api/v1/workspaces/w/projects", b'{"name":"x"}', {})
    if content_type:
        request.headers["content-type"] = content_type
    f = proxy.send(tflow.tflow(req=request), http.Response.make(201))
    assert f.request.headers["content-type"] == "application/json"
    assert f.response.headers["X-Clockify-Proxy-Fixed"] == "Content-Type"
    assert f.request.content == b'{"name":"x"}'


@pytest.mark.parametrize("body, content_type", [(b"name=x", None), (b'{"name":"x"}', "application/xml"), (b"not json", "text/plain")])
def test_other_bodies_keep_their_content_type(proxy, body, content_type):
    request = http.Request.make("POST", "https://api.clockify.me/api/v1/workspaces/w/projects", body, {})
    if content_type:
        request.headers["content-type"] = content_type
    f = proxy.send(tflow.tflow(req=request), http.Response.make(201))
    assert f.request.headers.get("content-type") == content_type


def test_content_type_fix_can_be_switched_off(proxy):
    proxy.configure(clockify_fix_content_type="false")
    f = proxy.send(tflow.tflow(req=http.Request.make("POST", "https://api.clockify.me/api/v1/workspaces/w/projects", b"{}", {})), http.Response.make(201))
    assert "content-type" not in f.request.headers
