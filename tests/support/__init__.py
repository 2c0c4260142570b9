"""Helpers for the end-to-end tests: a fake Clockify upstream, throwaway certificates, and
a real `clockify-proxy` subprocess."""

from __future__ import annotations

# Headers the proxy uses to talk to its clients.
ZONE_HEADER = "X-Clockify-Proxy-Timezone"
FIXED_HEADER = "X-Clockify-Proxy-Fixed"
WARNING_HEADER = "X-Clockify-Proxy-Warning"
NOTE_HEADER = "X-Clockify-Proxy-Note"
DIAGNOSIS_HEADER = "X-Clockify-Proxy-Diagnosis"
HINT_HEADER = "X-Clockify-Proxy-Hint"

# Throwaway API keys of the tests (48 characters, as Clockify's are). Every proxy the tests start
# is checked at teardown: none of these may appear in anything it printed or logged.
GLOBAL_KEY = "TESTKEY0global00000000000000000000000000000Gl0b"
EU_KEY = "TESTKEY0euc10000000000000000000000000000000Eu42"
FILE_KEY = "TESTKEY0file00000000000000000000000000000000F1le"
ENV_KEY = "TESTKEY0env000000000000000000000000000000000Env7"
TEST_KEYS = (GLOBAL_KEY, EU_KEY, FILE_KEY, ENV_KEY)


def header_list(value: str | None) -> list[str]:
    """A comma-separated header value as a list of trimmed items ([] when absent)."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]



def new_session():
    """A requests session that reads nothing from the environment (HTTP_PROXY, REQUESTS_CA_BUNDLE, ...)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    return session
