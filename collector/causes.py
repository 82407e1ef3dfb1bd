"""Turn an exception from a collector or check into the one-line cause stored as ERROR.

Causes are short and say what to fix: the denied IAM action, expired credentials, an
unreachable endpoint, throttling that outlasted the retries.
"""

from __future__ import annotations

import re
import sys
from types import ModuleType
from typing import Any

from pydantic import ValidationError

from collector.redact import redact_text

#: Error codes AWS answers when a call's identity is not allowed to make it.
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",  # EC2
        "AuthorizationError",  # SNS
        "AuthorizationErrorException",
        "Forbidden",
    }
)
#: Error codes for temporary credentials past their expiry.
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException", "TokenRefreshRequired"})
#: Error codes for credentials AWS does not accept at all.
REJECTED_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "AuthFailure",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
    }
)
#: Throttling codes botocore retries; seen here only once the retries are exhausted.
THROTTLED_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
        "RequestThrottled",
        "EC2ThrottledException",
    }
)
# "Permission 'cloudasset.assets.searchAllResources' denied on resource ..."; "GET <url>: "
_GOOGLE_PERMISSION = re.compile(r"Permission '([a-zA-Z0-9.]+)' denied")
_GOOGLE_URL = re.compile(r"^[A-Z]+ \S+: ")
# "User: arn:... is not authorized to perform: s3:GetEncryptionConfiguration on resource: ..."
_PERFORM = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9*]+)")


def _loaded(module: str) -> ModuleType | None:
    """``module`` if something imported it: an exception can only come from a loaded module,
    so describing errors never imports a cloud SDK."""
    return sys.modules.get(module)


def describe_error(exc: BaseException) -> str:
    """A specific, secret-free cause: the API error code, operation and message, or the timeout."""
    botocore = _loaded("botocore.exceptions")
    http = _loaded("collector.http")
    if botocore and isinstance(exc, botocore.ClientError | botocore.BotoCoreError):
        cause = _botocore_error(exc, botocore)
    elif http and isinstance(exc, http.ApiError | http.MalformedResponse):  # already short
        cause = str(exc)
    elif isinstance(exc, ValidationError):  # an API answer that does not fit its snapshot
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        cause = f"unexpected {exc.title} data{' at ' + where if where else ''}: {first['msg']}"
    elif type(exc).__module__.startswith("google."):
        cause = _google_error(exc)
    elif isinstance(exc, TimeoutError):
        cause = f"timed out: {exc}" if str(exc) else "timed out"
    else:
        cause = f"{type(exc).__name__}: {exc}"
    return redact_text(" ".join(cause.split()))


def _google_error(exc: BaseException) -> str:
    """google-api-core call errors (denied permission, status) and google-auth failures."""
    from google.api_core import exceptions as api
    from google.auth import exceptions as auth

    if isinstance(exc, api.GoogleAPICallError):
        message = _GOOGLE_URL.sub("", exc.message or "")
        if isinstance(exc, api.Forbidden) and exc.reason == "SERVICE_DISABLED":
            return _service_disabled(exc.metadata or {})
        if isinstance(exc, api.Forbidden):
            found = _GOOGLE_PERMISSION.search(message)
            permission = (
                (exc.metadata or {}).get("permission")
                or (found and found.group(1))
                or getattr(exc, "required_permission", None)  # stamped by the GCP collector
            )
            return f"access denied: {permission} ({message})" if permission else message
        if isinstance(exc, api.Unauthorized):
            return f"credentials rejected (401): {message}"
        return f"{exc.code} {type(exc).__name__}: {message}"
    if isinstance(exc, api.RetryError):
        return f"gave up retrying: {_google_error(exc.cause) if exc.cause else exc.message}"
    if type(exc) is auth.DefaultCredentialsError:  # subclasses say other things
        return "no Google credentials found (gcloud auth application-default login, or key_file)"
    if isinstance(exc, auth.RefreshError | auth.OAuthError):  # args: (message, response)
        return f"credentials rejected: {exc.args[0] if exc.args else exc}"
    return f"{type(exc).__name__}: {exc}"


def _service_disabled(info: dict[str, str]) -> str:
    """Google's ``SERVICE_DISABLED``: an API is off in the project that is billed for the call
    (the key's project, or the ADC quota project for user credentials), not a missing role."""
    service = info.get("service") or "the API"
    title = info.get("serviceTitle") or service
    project = (info.get("consumer") or "").removeprefix("projects/") or "the quota project"
    return (
        f"{title} ({service}) is disabled in project {project}: enable it "
        f"(gcloud services enable {service} --project {project}), or with user credentials "
        "set gcp.quota_project to a project where it is enabled"
    )


def _botocore_error(exc: Any, botocore: ModuleType) -> str:
    """A botocore error; after retries of a failure, with the tries and seconds spent."""
    if isinstance(exc, botocore.ClientError):
        return _client_error(exc)
    if isinstance(exc, botocore.NoCredentialsError):
        return "no AWS credentials found (configure a profile, environment variables or a role)"
    if isinstance(exc, botocore.SSOError):
        return f"SSO credentials unavailable: {exc}"
    if isinstance(exc, botocore.EndpointConnectionError):
        cause = f"endpoint unreachable: {exc.kwargs.get('endpoint_url', exc)}"
    elif isinstance(exc, botocore.ConnectTimeoutError | botocore.ReadTimeoutError):
        kind = "connect" if isinstance(exc, botocore.ConnectTimeoutError) else "read"
        cause = f"endpoint timed out ({kind}): {exc.kwargs.get('endpoint_url', exc)}"
    else:
        cause = f"{type(exc).__name__}: {exc}"
    tries = getattr(exc, "annexa_tries", None)  # stamped by collector.aws.retries
    return f"{cause} ({_tries(*tries)})" if tries else cause


def _tries(attempts: int, seconds: float | None) -> str:
    spent = f" in {seconds:g} s" if seconds is not None else ""
    return f"gave up after {attempts} {'try' if attempts == 1 else 'tries'}{spent}"


def _client_error(exc: Any) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code", "Unknown")
    message = error.get("Message", "") or str(exc)
    where = f"{code} on {exc.operation_name}"
    if code in DENIED_CODES:
        named = _PERFORM.search(message)
        action = named.group(1) if named else error.get("IamAction")
        return f"access denied: {action} ({where})" if action else f"access denied ({where})"
    if code in EXPIRED_CODES:
        return f"credentials expired ({where}): renew them (aws sso login, a new role session)"
    if code in REJECTED_CODES:
        return f"credentials rejected ({where}): {message}"
    metadata = exc.response.get("ResponseMetadata", {})
    retries = metadata.get("RetryAttempts")
    if code in THROTTLED_CODES:
        tries = f" after {retries + 1} attempts" if retries is not None else ""
        return f"throttled{tries} ({where}): {message}"
    if "RetrySeconds" in metadata:  # a failure retried until its time budget or tries ran out
        return f"{where}: {message} ({_tries((retries or 0) + 1, metadata['RetrySeconds'])})"
    return f"{where}: {message}"
