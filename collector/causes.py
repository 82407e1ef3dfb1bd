"""Turn an exception from a collector or check into the one-line cause stored as ERROR."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from pydantic import ValidationError

from collector.redact import redact_text


def describe_error(exc: BaseException) -> str:
    """A specific, secret-free cause: the API error code, operation and message, or the timeout."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = error.get("Message", "") or str(exc)
        cause = f"{code} on {exc.operation_name}: {message}"
    elif isinstance(exc, NoCredentialsError):
        cause = "no AWS credentials found (configure a profile, environment variables or a role)"
    elif isinstance(exc, EndpointConnectionError | ConnectTimeoutError | ReadTimeoutError):
        cause = f"endpoint unreachable or timed out: {exc}"
    elif isinstance(exc, BotoCoreError):
        cause = f"{type(exc).__name__}: {exc}"
    elif isinstance(exc, ValidationError):  # an API answer that does not fit its snapshot
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        cause = f"unexpected {exc.title} data{' at ' + where if where else ''}: {first['msg']}"
    elif isinstance(exc, TimeoutError):
        cause = f"timed out: {exc}" if str(exc) else "timed out"
    else:
        cause = f"{type(exc).__name__}: {exc}"
    return redact_text(" ".join(cause.split()))
