"""The one HTTP server of annexa: uvicorn on a socket bound up front, for ``annexa serve`` (the
console, in the foreground) and the daemon (``/healthz``, ``/livez``, ``/metrics`` and, when
``daemon.web`` is on, the same console, on a background thread).

Binding first makes an unusable address one clear line (UserError) instead of uvicorn's exit.
Requests are read by one asyncio event loop, so idle or half-sent connections cost a socket,
never a thread; beyond ``CONNECTIONS`` open at once, new requests get 503 straight away. Logs go
through the stdlib loggers (``uvicorn.error``) in the configured format.
"""

from __future__ import annotations

import asyncio
import socket
import threading

import uvicorn
from starlette.types import ASGIApp

from collector.errors import UserError
from collector.settings import Settings
from collector.web.auth import check_bind

__all__ = ["HttpServer", "serve"]


class HttpServer:
    """An ASGI application served by uvicorn on ``host:port`` (0: any free port)."""

    CONNECTIONS = 500
    KEEP_ALIVE = 5

    def __init__(self, app: ASGIApp, host: str, port: int, *, what: str) -> None:
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self._socket = socket.socket(family, socket.SOCK_STREAM)
            self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._socket.bind((host, port))
            self._socket.listen(128)
            self._socket.setblocking(False)
        except (OSError, ValueError, OverflowError) as exc:  # busy, foreign or bad address
            self._socket.close()
            reason = getattr(exc, "strerror", None) or str(exc)
            raise UserError(f"{what}: cannot listen on {host}:{port}: {reason}") from None
        config = uvicorn.Config(
            app,
            limit_concurrency=self.CONNECTIONS,
            timeout_keep_alive=self.KEEP_ALIVE,
            log_config=None,  # keep annexa's handlers: one format for every log line
            access_log=False,
            server_header=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when 0 was asked for)."""
        return int(self._socket.getsockname()[1])

    def address(self) -> tuple[str, int]:
        """(host, port) as bound."""
        host, port = self._socket.getsockname()[:2]
        return str(host), int(port)

    def run(self) -> None:
        """Serve in this thread until interrupted (SIGINT/SIGTERM in the main thread)."""
        try:
            asyncio.run(self._server.serve(sockets=[self._socket]))
        finally:
            self._socket.close()

    def start(self) -> None:
        """Serve on a daemon thread; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self.run, name="annexa-http", daemon=True)
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            threading.Event().wait(0.01)

    def close(self) -> None:
        """Stop serving and close the socket (open connections are closed too)."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()


def serve(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Serve the console until interrupted; UserError for an unsafe or unusable address."""
    from collector.web.app import create_app

    bind = host or settings.web.host
    chosen = settings.web.port if port is None else port
    check_bind(settings.web, bind)
    server = HttpServer(create_app(settings, host=bind), bind, chosen, what="web")
    server.run()
