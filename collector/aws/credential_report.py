"""The IAM credential report wire format: parse it (collector) and build it (demo, tests).

AWS documents the CSV columns and their sentinel values (``N/A``, ``not_supported``,
``no_information``); :func:`parse_report` accepts exactly those and rejects anything else, so
a format change is an error rather than a silent pass. The builders serve what moto cannot
simulate (the ``<root_account>`` row, backdated key rotation) through a botocore
``before-send`` hook, so the real client parses a real wire answer.
"""

from __future__ import annotations

import base64
import csv
import io
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from checks.aws.models import AccessKey, CredentialReportEntry, MalformedReportRow

if TYPE_CHECKING:  # the wire helpers serve tests and the demo, where boto3 is loaded
    import boto3
    from botocore.awsrequest import AWSResponse

__all__ = [
    "COLUMNS",
    "ROOT_USER",
    "ReportKey",
    "ReportRow",
    "credential_report_body",
    "parse_report",
    "report_csv",
    "serve_wire",
    "serve_wire_by_region",
    "wire_response",
]

ROOT_USER = "<root_account>"
COLUMNS: tuple[str, ...] = (
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
)
_ABSENT = {"N/A", "not_supported", "no_information"}
_IAM_NS = "https://iam.amazonaws.com/doc/2010-05-08/"


# --- parsing (used by the collector) ---------------------------------------------------------


def parse_report(content: str) -> tuple[list[CredentialReportEntry], list[MalformedReportRow]]:
    """Parse the report CSV into readable entries and unreadable rows (each with its problem),
    so a bad row errors only the checks that need it; a missing column is ``ValueError``."""
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in COLUMNS[:16] if c not in (reader.fieldnames or ())]
    if missing:
        raise ValueError(f"credential report lacks column(s): {', '.join(missing)}")
    entries, malformed = [], []
    for row in reader:
        try:
            entries.append(_entry(row))
        except (ValueError, TypeError) as exc:
            malformed.append(MalformedReportRow(user=row.get("user") or "?", problem=str(exc)))
    return entries, malformed


def _entry(row: dict[str, str]) -> CredentialReportEntry:
    if any(value is None for value in row.values()):  # fewer cells than columns
        raise ValueError("row has fewer cells than the header")
    is_root = row["user"] == ROOT_USER
    keys = tuple(
        AccessKey(
            slot=slot,
            active=_bool(row, f"access_key_{slot}_active"),
            last_rotated=_time(row, f"access_key_{slot}_last_rotated"),
            last_used=_time(row, f"access_key_{slot}_last_used_date"),
        )
        for slot in (1, 2)
    )
    return CredentialReportEntry(
        user=row["user"],
        arn=row["arn"],
        is_root=is_root,
        # the root row says not_supported: root's console password is judged elsewhere
        password_enabled=False if is_root else _bool(row, "password_enabled"),
        mfa_active=_bool(row, "mfa_active"),
        access_keys=tuple(k for k in keys if k.active or k.last_rotated is not None),
        password_last_used=_time(row, "password_last_used"),
        password_last_changed=_time(row, "password_last_changed"),
    )


def _bool(row: dict[str, str], column: str) -> bool:
    value = row[column]
    if value not in ("true", "false"):
        raise ValueError(f"credential report: {column}={value!r} for {row['user']} is not a bool")
    return value == "true"


def _time(row: dict[str, str], column: str) -> datetime | None:
    value = row[column]
    if value in _ABSENT:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"credential report: {column}={value!r} for {row['user']} is not a timestamp"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError(f"credential report: {column}={value!r} has no time zone")
    return parsed.astimezone(UTC)


# --- building (used by the demo estate and the tests) ----------------------------------------


@dataclass(frozen=True)
class ReportKey:
    """An access-key slot as the report shows it."""

    active: bool
    last_rotated: datetime
    last_used: datetime | None = None
    last_used_region: str = "N/A"
    last_used_service: str = "N/A"


@dataclass(frozen=True)
class ReportRow:
    """One report row; build with :meth:`root` or :meth:`iam_user`."""

    user: str
    arn: str
    created: datetime
    password_enabled: bool | None  # None: the root row's "not_supported"
    mfa_active: bool = False
    password_last_used: datetime | None = None
    password_last_changed: datetime | None = None
    access_keys: tuple[ReportKey, ...] = ()

    @classmethod
    def root(
        cls,
        account: str,
        *,
        created: datetime,
        mfa_active: bool,
        access_keys: tuple[ReportKey, ...] = (),
        password_last_used: datetime | None = None,
    ) -> ReportRow:
        return cls(
            ROOT_USER,
            f"arn:aws:iam::{account}:root",
            created,
            None,
            mfa_active,
            password_last_used=password_last_used,
            access_keys=access_keys,
        )

    @classmethod
    def iam_user(
        cls,
        account: str,
        name: str,
        *,
        created: datetime,
        console: bool = False,
        mfa_active: bool = False,
        access_keys: tuple[ReportKey, ...] = (),
        password_last_used: datetime | None = None,
        password_last_changed: datetime | None = None,
    ) -> ReportRow:
        """``password_last_changed`` defaults to ``created`` for a console user."""
        return cls(
            name,
            f"arn:aws:iam::{account}:user/{name}",
            created,
            console,
            mfa_active,
            password_last_used=password_last_used,
            password_last_changed=(password_last_changed or created) if console else None,
            access_keys=access_keys,
        )

    def cells(self) -> list[str]:
        if len(self.access_keys) > 2:
            raise ValueError("IAM allows at most two access keys per user")
        root = self.password_enabled is None
        cells = [
            self.user,
            self.arn,
            _iso(self.created),
            "not_supported" if root else _flag(bool(self.password_enabled)),
            _iso(self.password_last_used, "no_information" if self.password_enabled else "N/A"),
            "not_supported" if root else _iso(self.password_last_changed),
            "not_supported" if root else "N/A",
            _flag(self.mfa_active),
        ]
        keys = list(self.access_keys) + [None] * (2 - len(self.access_keys))
        for key in keys:
            if key is None:
                cells += ["false", "N/A", "N/A", "N/A", "N/A"]
            else:
                cells += [
                    _flag(key.active),
                    _iso(key.last_rotated),
                    _iso(key.last_used),
                    key.last_used_region,
                    key.last_used_service,
                ]
        return [*cells, "false", "N/A", "false", "N/A"]


def report_csv(rows: Iterable[ReportRow], *, header: bool = True) -> str:
    """The report CSV (with AWS's documented columns) for ``rows``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(row.cells())
    return out.getvalue()


def credential_report_body(content: str, generated_at: datetime) -> bytes:
    """The IAM query-protocol XML body of a GetCredentialReport answer."""
    encoded = base64.b64encode(content.encode()).decode()
    generated = generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        f'<GetCredentialReportResponse xmlns="{_IAM_NS}">'
        "<GetCredentialReportResult>"
        f"<Content>{encoded}</Content>"
        "<ReportFormat>text/csv</ReportFormat>"
        f"<GeneratedTime>{generated}</GeneratedTime>"
        "</GetCredentialReportResult>"
        f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
        "</GetCredentialReportResponse>"
    ).encode()


class _RawBody(io.BytesIO):
    """The ``raw`` botocore reads a response body from (it calls ``stream()``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def wire_response(
    url: str, body: bytes, *, status: int = 200, content_type: str = "text/xml"
) -> AWSResponse:
    """An HTTP response as botocore receives it off the wire."""
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(body)),
        "x-amzn-RequestId": str(uuid.uuid4()),
    }
    from botocore.awsrequest import AWSResponse

    return AWSResponse(url, status, headers, _RawBody(body))


def serve_wire(
    session: boto3.Session,
    operation: str,
    body: bytes | Callable[[], bytes],
    *,
    status: int = 200,
    content_type: str = "text/xml",
) -> Callable[..., AWSResponse]:
    """Answer ``operation`` (``"iam.GetCredentialReport"``) with ``body`` for ``session``'s
    clients created from now on, ahead of moto's own handler. Returns the handler, for
    ``session.events.unregister("before-send." + operation, handler)``.
    """

    def handler(request: Any, **_: Any) -> AWSResponse:
        payload = body() if callable(body) else body
        return wire_response(request.url, payload, status=status, content_type=content_type)

    session.events.register_first(f"before-send.{operation}", handler)
    return handler


def serve_wire_by_region(
    session: boto3.Session,
    operation: str,
    answer: Callable[[str, Any], bytes],
    *,
    content_type: str = "application/json",
) -> Callable[..., AWSResponse]:
    """Like :func:`serve_wire`, but the body is ``answer(region, request)``: the client's
    region, and the request (e.g. to read a pagination token from ``request.url``)."""

    def handler(request: Any, **_: Any) -> AWSResponse:
        region = request.context["client_region"]
        return wire_response(request.url, answer(region, request), content_type=content_type)

    session.events.register_first(f"before-send.{operation}", handler)
    return handler


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _iso(value: datetime | None, absent: str = "N/A") -> str:
    if value is None:
        return absent
    return value.astimezone(UTC).isoformat(timespec="seconds")
