"""Serving the console: uvicorn with bounded concurrency and timeouts."""

from __future__ import annotations

import uvicorn

from collector.errors import UserError
from collector.settings import Settings
from collector.web.app import create_app
from collector.web.auth import check_bind

__all__ = ["serve"]


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the console until interrupted; UserError for an unsafe or unusable address."""
    bind = host or settings.web.host
    chosen = settings.web.port if port is None else port
    check_bind(settings.web, bind)
    app = create_app(settings, host=bind)
    config = uvicorn.Config(
        app,
        host=bind,
        port=chosen,
        limit_concurrency=64,
        timeout_keep_alive=5,
        log_level="warning",
        access_log=False,
        server_header=False,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except OSError as exc:
        raise UserError(f"web: cannot serve on {bind}:{chosen}: {exc.strerror}") from None
    if not server.started:
        raise UserError(f"web: cannot serve on {bind}:{chosen} (address in use or invalid)")
