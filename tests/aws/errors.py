"""AWS error answers in each protocol's wire format, and a log of the calls a run makes.

Errors are served from a botocore ``before-send`` hook, so the real client parses (and its
retry handler judges) a real error body. Calls are observed with a ``before-call`` handler on
the session's event system: nothing is patched.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from collector.aws.credential_report import wire_response
from tests.aws.wire import s3_error

_QUERY_NS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
}


def error_answer(protocol: str, service: str, code: str, message: str) -> tuple[bytes, str]:
    """``(body, content type)`` of an error as ``service`` (of ``protocol``) sends it."""
    if protocol == "query":
        ns = _QUERY_NS.get(service, f"https://{service}.amazonaws.com/doc/")
        body = (
            f'<ErrorResponse xmlns="{ns}"><Error><Type>Sender</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
            "</ErrorResponse>"
        )
        return body.encode(), "text/xml"
    if protocol == "ec2":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            f"</Errors><RequestID>{uuid.uuid4()}</RequestID></Response>"
        )
        return body.encode(), "text/xml;charset=UTF-8"
    if protocol in ("json", "rest-json"):
        body = json.dumps({"__type": code, "message": message})
        return body.encode(), "application/x-amz-json-1.1"
    if protocol == "rest-xml":
        return s3_error(code, message), "application/xml"
    raise ValueError(f"no error format for protocol {protocol!r}")


def request_params(request: AWSPreparedRequest) -> dict[str, list[str]]:
    """The form parameters of a query/ec2-protocol request (``Action``, ``RoleArn``, ...)."""
    body = request.body or b""
    return parse_qs(body.decode() if isinstance(body, bytes) else str(body))


def serve_error(
    session: boto3.Session,
    event: str,
    code: str,
    message: str,
    *,
    status: int,
    when: Callable[[AWSPreparedRequest], bool] = lambda _: True,
) -> None:
    """Answer ``event`` (``"before-send.sts.AssumeRole"``) with an error for ``session``'s
    clients created from now on, for requests ``when`` selects (else the call goes on)."""
    service = event.split(".")[1]

    def handler(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
        if not when(request):
            return None
        protocol = _protocol(session, service)
        body, content_type = error_answer(protocol, service, code, message)
        return wire_response(request.url, body, status=status, content_type=content_type)

    session.events.register_first(event, handler)


def _protocol(session: boto3.Session, service_id: str) -> str:
    available = session.get_available_services()
    for name in (service_id, service_id.replace("-", "")):
        if name in available:
            return str(session._session.get_service_model(name).protocol)
    for name in available:
        model = session._session.get_service_model(name)
        if model.service_id.hyphenize() == service_id:
            return str(model.protocol)
    raise ValueError(f"unknown service id {service_id!r}")


@dataclass(frozen=True)
class Call:
    account: str
    region: str | None
    service: str  # botocore service name
    signing_name: str
    operation: str
    params: str  # canonical JSON of the request's path, query and body


@dataclass
class CallLog:
    """Every API call made by clients of the sessions it watches (``before-call`` events)."""

    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, session: boto3.Session, account: str) -> None:
        def record(model: Any, params: Any, request_signer: Any, **_: Any) -> None:
            call = Call(
                account,
                request_signer.region_name,
                model.service_model.service_name,
                model.service_model.signing_name,
                model.name,
                json.dumps(
                    [params.get("url_path"), params.get("query_string"), params.get("body")],
                    sort_keys=True,
                    default=str,
                ),
            )
            with self._lock:
                self.calls.append(call)

        session.events.register("before-call", record)

    def count(self, operation: str, account: str, region: str | None = None) -> int:
        return sum(
            1
            for c in self.calls
            if c.operation == operation
            and c.account == account
            and (region is None or c.region == region)
        )

    def repeated(self, *, allowed: frozenset[str] = frozenset()) -> dict[Call, int]:
        """Calls made more than once with the same arguments (``allowed``: polled operations)."""
        counts = Counter(c for c in self.calls if c.operation not in allowed)
        return {call: n for call, n in counts.items() if n > 1}
