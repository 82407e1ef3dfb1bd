"""A moto server on 127.0.0.1 that counts the requests it answers (tests and benchmarks).

moto's WSGI app under werkzeug, wrapped in :class:`RequestLog`: one key per HTTP request
(retries included) as the server sees it, keyed by (service, region, operation, method, path,
query, body hash), so a test or a benchmark counts requests where they arrive.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


class RequestLog:
    """WSGI middleware: records one key per request before moto answers it."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.keys: list[tuple[str, ...]] = []
        self.recording = False
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        if self.recording:
            scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            region, service = scope.groups() if scope else ("?", "?")
            key = (
                service,
                region,
                _operation(environ, body, service),
                environ["REQUEST_METHOD"],
                environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                hashlib.sha256(body).hexdigest(),
            )
            with self._lock:
                self.keys.append(key)
        return self.app(environ, start_response)


def _operation(environ: dict[str, Any], body: bytes, service: str) -> str:
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target.split(".")[-1])
    if body and b"Action=" in body:
        return parse_qs(body.decode())["Action"][0]
    query = environ.get("QUERY_STRING", "")
    if "Action=" in query:
        return parse_qs(query)["Action"][0]
    path = environ.get("PATH_INFO", "")
    method = environ["REQUEST_METHOD"]
    if service != "s3":  # REST-JSON: the resource path names the operation
        return f"{method} {path}"
    sub = query.split("=")[0].split("&")[0]
    if path.count("/") <= 1 and path != "/":
        return f"{method} /<bucket>?{sub}"
    return f"{method} {path}?{sub}"


def start_server() -> tuple[str, RequestLog, Any]:
    """``(endpoint URL, request log, server)``; stop with ``server.shutdown()``."""
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)  # no per-request log lines
    log = RequestLog(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", 0, log, threaded=True, request_handler=MotoRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    return f"http://{host}:{port}", log, server


@contextmanager
def counting_server() -> Iterator[tuple[str, RequestLog]]:
    """A counting moto server for the block's duration (recording from the start)."""
    endpoint, log, server = start_server()
    log.recording = True
    try:
        yield endpoint, log
    finally:
        server.shutdown()


def operations(log: RequestLog) -> Counter[tuple[str, str]]:
    """Requests per (service, operation) recorded so far."""
    return Counter((key[0], key[2]) for key in log.keys)
