"""Helpers for the end-to-end tests: a fake Clockify upstream, throwaway certificates, and
a real `clockify-proxy` subprocess."""

from __future__ import annotations

# Headers the proxy uses to talk to its clients.
ZONE_HEADER = "X-Clockify-Proxy-Timezone"
FIXED_HEADER = "X-Clockify-Proxy-Fixed"
WARNING_HEADER = "X-Clockify-Proxy-Warning"
NOTE_HEADER = "X-Clockify-Proxy-Note"
DIAGNOSIS_HEADER = "X-Clockify-Proxy-Diagnosis"


def header_list(value: str | None) -> list[str]:
    """A comma-separated header value as a list of trimmed items ([] when absent)."""
    return [item.strip() for item in (value or "").split(",") if item.strip()]



def new_session():
    """A requests session that reads nothing from the environment (HTTP_PROXY, REQUESTS_CA_BUNDLE, ...)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    return session
