"""structlog set-up: one event per request the proxy changed or rejected.

Events go through the standard library to a handler of our own on stderr, with propagation
off: mitmproxy's TermLog then neither prints them twice nor sees them as start-up errors.
"""

from __future__ import annotations

import logging
import sys

import structlog

LOGGER_NAME = "clockify_proxy"
SECRET_KEYS = frozenset({"x-api-key", "x-addon-token", "authorization", "api_key", "clockify_api_key", "proxy-authorization"})
_HANDLER_MARK = "_clockify_proxy_handler"


def redact(_, __, event: dict) -> dict:
    """Mask secrets wherever they appear by key, also in nested dicts and lists."""
    return _redact(event)


def _redact(value):
    if isinstance(value, dict):
        return {k: ("***" if isinstance(k, str) and k.lower() in SECRET_KEYS else _redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_redact(v) for v in value)
    return value


SHARED = [
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact,
]


def setup(log_format: str = "auto", stream=None) -> None:
    """(Re)configure output; idempotent, since mitmproxy re-imports scripts on change."""
    stream = stream or sys.stderr
    json_lines = log_format == "json" or (log_format == "auto" and not stream.isatty())
    renderer = structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
        logger.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    setattr(handler, _HANDLER_MARK, True)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=SHARED,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, *SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# One logger for the process: with cache_logger_on_first_use it is built once, not per event.
# setup() only ever changes the handler's renderer, never structlog's processor chain.
_LOGGER = structlog.get_logger(LOGGER_NAME)


def get() -> structlog.stdlib.BoundLogger:
    return _LOGGER
