"""Routing decisions and option validation at the addon level."""

import json

import pytest
from mitmproxy import connection, exceptions, http, tls
from mitmproxy.proxy import context, mode_specs
from mitmproxy.test import tflow, tutils


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
        ("/pto/v1/workspaces/w/policies?status=ALL", "https://pto.api.clockify.me/v1/workspaces/w/policies?status=ALL"),
    ],
)
def test_one_reverse_listener_serves_the_whole_global_api(proxy, path, url):
    f = proxy.send(reverse_flow("https://api.clockify.me", path))
    assert f.request.url == url


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
