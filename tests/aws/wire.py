"""Wire-format AWS answers served through botocore ``before-send`` hooks (what moto lacks).

The credential report builder lives in :mod:`collector.aws.credential_report` (the demo uses
it too); this module adds the error bodies tests serve.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import boto3

from collector.aws.credential_report import (
    ReportKey,
    ReportRow,
    credential_report_body,
    report_csv,
    serve_wire,
)

__all__ = [
    "ACCOUNT",
    "ReportKey",
    "ReportRow",
    "iam_error",
    "s3_error",
    "serve_credential_report",
    "serve_wire",
]

ACCOUNT = "123456789012"
_IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


def serve_credential_report(
    session: boto3.Session, rows: list[ReportRow] | str, generated_at: datetime
) -> None:
    """Answer GetCredentialReport with ``rows`` (or ready CSV text) generated at a time."""
    content = rows if isinstance(rows, str) else report_csv(rows)
    serve_wire(session, "iam.GetCredentialReport", credential_report_body(content, generated_at))


def iam_error(code: str, message: str, *, sender: bool = True) -> bytes:
    """An IAM (query protocol) ``ErrorResponse`` body."""
    kind = "Sender" if sender else "Receiver"
    return (
        f'<ErrorResponse xmlns="{_IAM_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>{uuid.uuid4()}</RequestId>"
        "</ErrorResponse>"
    ).encode()


def s3_error(code: str, message: str, **extra: str) -> bytes:
    """An S3 REST-XML ``Error`` body (``extra``: e.g. ``BucketName``)."""
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in extra.items())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Error><Code>{code}</Code><Message>{message}</Message>{fields}"
        f"<RequestId>{uuid.uuid4().hex[:16].upper()}</RequestId><HostId>host</HostId></Error>"
    ).encode()
