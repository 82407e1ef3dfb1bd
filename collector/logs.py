"""structlog setup: readable console lines on a terminal, JSON lines otherwise; never secrets.

structlog (with rich's tracebacks) is loaded only when something logs: annexa's modules take
their loggers from :func:`get_logger`, which applies the configuration first, and stdlib
records apply it when the root handler first formats one. ``annexa status`` never loads it.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from collector.redact import redact

#: the configuration structlog gets once loaded: (format, level), by :func:`configure_logging`
_pending: tuple[str, int] | None = None
_applying = threading.Lock()


def get_logger(name: str) -> Any:
    """structlog's logger ``name``, configured as :func:`configure_logging` last asked."""
    import structlog

    _apply()
    return structlog.get_logger(name)


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
    global _pending
    if fmt == "auto":
        fmt = "console" if sys.stderr.isatty() else "json"
    _pending = (fmt, level)
    logging.getLogger("botocore").setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").setLevel(logging.WARNING)  # start/stop chatter
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _AnnexaHandler)]:
        root.removeHandler(old)
    root.addHandler(_AnnexaHandler(_CurrentStderr()))  # type: ignore[arg-type]
    if "structlog" in sys.modules:  # already loaded: its loggers may be in use
        _apply()


def _apply() -> None:
    """Configure structlog and the root handler's formatter as :func:`configure_logging` last
    asked (nothing if it was not called)."""
    global _pending
    with _applying:
        if _pending is not None:
            _configure(*_pending)
            _pending = None


def _configure(fmt: str, level: int) -> None:
    import structlog

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
    formatter = _stdlib_formatter(renderer)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _AnnexaHandler):
            handler.setFormatter(formatter)


class _AnnexaHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The one root handler annexa installs (replaced, never stacked, on reconfiguration):
    libraries' stdlib logs (uvicorn, apscheduler, ...) in the same format as annexa's own."""

    def format(self, record: logging.LogRecord) -> str:
        _apply()  # the first record loads structlog, whose formatter this handler then has
        return super().format(record)


def _stdlib_formatter(renderer: Any) -> logging.Formatter:
    """One JSON line per stdlib record in ``json`` mode, tracebacks included as a field."""
    import structlog

    return structlog.stdlib.ProcessorFormatter(
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
