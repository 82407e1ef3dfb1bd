"""structlog setup: readable console lines on a terminal, JSON lines otherwise; never secrets."""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

from collector.redact import redact


def _redact_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    return redact(event)


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is now (it may be replaced after configuration)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(fmt: str = "auto", *, level: int = logging.INFO) -> None:
    """Send logs to stderr as console lines (``console``), JSON lines (``json``) or by tty."""
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact_event,
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    logging.getLogger("botocore").setLevel(logging.WARNING)
    _route_stdlib_logging(renderer)


class _AnnexaHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one root handler annexa installs (replaced, never stacked, on reconfiguration)."""


def _route_stdlib_logging(renderer: Any) -> None:
    """Libraries' stdlib logs (uvicorn, apscheduler, ...) in the same format as annexa's own:
    one JSON line each in ``json`` mode, tracebacks included as a field."""
    handler = _AnnexaHandler(_CurrentStderr())  # type: ignore[arg-type]
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                _redact_event,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AnnexaHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # start/stop chatter
