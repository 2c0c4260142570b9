"""structlog set-up: one event per request the proxy changed or rejected, and start-up notices.

Events are rendered by structlog itself and written to stderr, without the standard library's
logging: that path cost more than the whole time rewrite of a request (BENCHMARKS.md), and
mitmproxy's own log handlers then neither print our events twice nor take them for its own.
"""

from __future__ import annotations

import logging
import sys

import structlog

from .credentials import SECRET_HEADERS

SECRET_KEYS = frozenset({*SECRET_HEADERS, "api_key", "clockify_api_key"})


def redact(_, __, event: dict) -> dict:
    """Mask secrets wherever they appear by key, also in nested dicts and lists."""
    return _redact(event) if _has_secret(event) else event


_CONTAINERS = (dict, list, tuple)


def _has_secret(value) -> bool:
    # A read-only walk first: events almost never hold a secret, and rebuilding them costs.
    if isinstance(value, dict):
        for key, item in value.items():
            if (isinstance(key, str) and key.lower() in SECRET_KEYS) or (isinstance(item, _CONTAINERS) and _has_secret(item)):
                return True
    else:
        for item in value:
            if isinstance(item, _CONTAINERS) and _has_secret(item):
                return True
    return False


def _redact(value):
    if isinstance(value, dict):
        return {k: ("***" if isinstance(k, str) and k.lower() in SECRET_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v) for v in value)
    return value


def build(log_format: str = "auto", stream=None) -> structlog.typing.FilteringBoundLogger:
    """A logger writing one line per event to `stream` (stderr): JSON, or key=value on a terminal."""
    stream = stream or sys.stderr
    json_lines = log_format == "json" or (log_format == "auto" and not stream.isatty())
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    processors = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact,
        renderer,
    ]
    return structlog.make_filtering_bound_logger(logging.INFO)(structlog.WriteLogger(stream), processors, {})


_logger = build()


def setup(log_format: str = "auto", stream=None) -> None:
    """(Re)configure output; idempotent, since mitmproxy re-imports scripts on change."""
    global _logger
    _logger = build(log_format, stream)


def get() -> structlog.typing.FilteringBoundLogger:
    return _logger
