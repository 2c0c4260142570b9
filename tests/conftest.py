"""Shared fixtures: test certificates, fake Clockify upstreams (plain and TLS), proxy factories,
and HTTP clients that never read proxy settings from the environment."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # so `tests.support` imports

from tests.support import certs as certs_mod  # noqa: E402
from tests.support import TEST_KEYS, new_session  # noqa: E402
from tests.support.fake_clockify import FakeClockify  # noqa: E402
from tests.support.proxy import ProxyProcess, StartupResult, run_expecting_failure  # noqa: E402


@pytest.fixture(scope="session")
def certs(tmp_path_factory) -> certs_mod.CertFiles:
    return certs_mod.generate(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="session")
def _plain_fake():
    fake = FakeClockify().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
def _tls_fake(certs):
    fake = FakeClockify(certfile=certs.server_cert, keyfile=certs.server_key).start()
    yield fake
    fake.stop()


@pytest.fixture
def fake_upstream(_plain_fake) -> FakeClockify:
    """The plain-HTTP fake, with no recorded requests and no rules at the start of the test."""
    _plain_fake.clear()
    yield _plain_fake
    _plain_fake.clear()


@pytest.fixture
def fake_tls_upstream(_tls_fake) -> FakeClockify:
    """The TLS fake (certificate from the test CA), cleared for the test."""
    _tls_fake.clear()
    yield _tls_fake
    _tls_fake.clear()


class ProxyFactory:
    """Starts proxies in fresh work dirs and stops them all at teardown."""

    _ids = itertools.count()

    def __init__(self, tmp_path_factory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.started: list[ProxyProcess] = []

    def _workdir(self) -> Path:
        return self.tmp_path_factory.mktemp(f"proxy{next(self._ids)}")

    def start(self, args: list[str], **kwargs) -> ProxyProcess:
        proxy = ProxyProcess(args, self._workdir(), **kwargs)
        self.started.append(proxy)
        return proxy.start()

    def expect_failure(self, args: list[str], **kwargs) -> StartupResult:
        result = run_expecting_failure(args, self._workdir(), **kwargs)
        assert_no_key(result.output, "start-up failure output")
        return result

    def stop_all(self) -> None:
        for proxy in self.started:
            proxy.stop()
        for proxy in self.started:
            assert_no_key(proxy.output(), f"output of {' '.join(proxy.argv[-6:])}")


def assert_no_key(text: str, what: str) -> None:
    """No test key may ever be printed or logged: not in full, not in part beyond its last four."""
    for key in TEST_KEYS:
        assert key[:-4] not in text, f"an API key (...{key[-4:]}) appeared in the {what}"


@pytest.fixture
def proxy_factory(tmp_path_factory):
    factory = ProxyFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="module")
def module_proxy_factory(tmp_path_factory):
    factory = ProxyFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture
def http():
    """A requests session that ignores the environment (HTTP_PROXY, REQUESTS_CA_BUNDLE, ...)."""
    with new_session() as session:
        yield session
