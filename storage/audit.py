"""Manual evidence (content-addressed files plus items) and exceptions (risk acceptances).

Both are append-only: an item is superseded by a newer upload, an exception is revoked by a
revocation row; nothing is updated or deleted. Every row carries a seal (``row_hash``) over its
fields so ``verify`` notices an edited row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from storage.base import (
    StoreBase,
    blob_t,
    exception_t,
    insert_on_conflict,
    lock_chain,
    manual_t,
    revocation_t,
)
from storage.ledger import append_row
from storage.records import MAX_BLOB_BYTES, ManualEvidence, RiskException
from storage.sealing import row_seal

_MANUAL_FIELDS = tuple(c.name for c in manual_t.c if c.name not in ("id", "row_hash"))
_EXCEPTION_FIELDS = tuple(c.name for c in exception_t.c if c.name not in ("id", "row_hash"))
_REVOCATION_FIELDS = tuple(c.name for c in revocation_t.c if c.name not in ("id", "row_hash"))


class BlobTooLarge(ValueError):
    """A manual evidence file exceeds ``MAX_BLOB_BYTES``."""


class ManualStore(StoreBase):
    """Manual evidence: files stored once by SHA-256, items per control."""

    def add_manual(
        self,
        control_ids: Sequence[str],
        content: bytes,
        *,
        file_name: str,
        media_type: str,
        note: str,
        uploaded_at: datetime,
        valid_until: datetime,
        uploaded_by: str,
        valid_from: datetime | None = None,
    ) -> list[ManualEvidence]:
        """Store ``content`` (once) and one item per control, in one transaction."""
        if len(content) > MAX_BLOB_BYTES:
            raise BlobTooLarge(f"{len(content)} bytes, over the {MAX_BLOB_BYTES} byte limit")
        sha256 = hashlib.sha256(content).hexdigest()
        rows = [
            {
                "control_id": control_id,
                "sha256": sha256,
                "file_name": file_name,
                "size": len(content),
                "media_type": media_type,
                "note": note,
                "uploaded_at": uploaded_at,
                "valid_from": valid_from or uploaded_at,
                "valid_until": valid_until,
                "uploaded_by": uploaded_by,
            }
            for control_id in control_ids
        ]
        with self._write() as conn:
            lock_chain(conn)
            stmt = insert_on_conflict(conn, blob_t).on_conflict_do_nothing(
                index_elements=["sha256"]
            )
            conn.execute(stmt, {"sha256": sha256, "size": len(content), "content": content})
            items = []
            for row in rows:
                sealed = {**row, "row_hash": _seal(row, _MANUAL_FIELDS)}
                id_ = conn.execute(insert(manual_t).returning(manual_t.c.id), sealed).scalar_one()
                append_row(conn, "manual", id_)
                items.append(ManualEvidence(id=id_, **row))
        self._anchor()
        return items

    def manual_items(self, control_ids: Iterable[str] | None = None) -> list[ManualEvidence]:
        """Every manual evidence item (superseded and expired included), oldest upload first."""
        query = select(manual_t).order_by(manual_t.c.uploaded_at, manual_t.c.id)
        if control_ids is not None:
            query = query.where(manual_t.c.control_id.in_(list(control_ids)))
        with self.engine.connect() as conn:
            return [_manual(row) for row in conn.execute(query)]

    def blob(self, sha256: str) -> bytes | None:
        """The stored file with this SHA-256, or None."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(blob_t.c.content).where(blob_t.c.sha256 == sha256.lower())
            ).scalar_one_or_none()


class ExceptionStore(StoreBase):
    """Exceptions (risk acceptances) and their revocations."""

    def add_exception(
        self,
        *,
        check_id: str,
        resource_pattern: str,
        target_pattern: str,
        reason: str,
        approved_by: str,
        created_at: datetime,
        expires_at: datetime,
        created_by: str,
    ) -> RiskException:
        """Record an approved exception; returns it with its id."""
        row = {
            "check_id": check_id,
            "resource_pattern": resource_pattern,
            "target_pattern": target_pattern,
            "reason": reason,
            "approved_by": approved_by,
            "created_at": created_at,
            "expires_at": expires_at,
            "created_by": created_by,
        }
        with self._write() as conn:
            lock_chain(conn)
            sealed = {**row, "row_hash": _seal(row, _EXCEPTION_FIELDS)}
            id_ = conn.execute(insert(exception_t).returning(exception_t.c.id), sealed).scalar_one()
            append_row(conn, "exception", id_)
        self._anchor()
        return RiskException(id=id_, **row)

    def revoke_exception(
        self, exception_id: int, *, revoked_at: datetime, revoked_by: str, reason: str
    ) -> RiskException:
        """Add a revocation row. KeyError: no such exception; ValueError: already revoked."""
        row = {
            "exception_id": exception_id,
            "revoked_at": revoked_at,
            "revoked_by": revoked_by,
            "reason": reason,
        }
        with self._write() as conn:
            lock_chain(conn)
            current = _exception_rows(conn, exception_id)
            if not current:
                raise KeyError(exception_id)
            if current[0].revoked_at is not None:
                raise ValueError(f"exception #{exception_id} was already revoked")
            sealed = {**row, "row_hash": _seal(row, _REVOCATION_FIELDS)}
            id_ = conn.execute(insert(revocation_t).returning(revocation_t.c.id), sealed)
            append_row(conn, "revocation", id_.scalar_one())
            revoked = _exception_rows(conn, exception_id)[0]
        self._anchor()
        return revoked

    def exceptions(self) -> list[RiskException]:
        """Every exception, revoked and expired included, by id."""
        with self.engine.connect() as conn:
            return _exception_rows(conn)


def _seal(row: dict[str, Any], names: Sequence[str]) -> str:
    return row_seal({name: row[name] for name in names})


def _manual(row: Row[Any]) -> ManualEvidence:
    data = row._asdict()
    data.pop("row_hash")
    return ManualEvidence(**data)


def _exception_rows(conn: Connection, exception_id: int | None = None) -> list[RiskException]:
    query = (
        select(
            *(exception_t.c[name] for name in ("id", *_EXCEPTION_FIELDS)),
            revocation_t.c.revoked_at,
            revocation_t.c.revoked_by,
            revocation_t.c.reason.label("revoke_reason"),
        )
        .select_from(
            exception_t.outerjoin(revocation_t, revocation_t.c.exception_id == exception_t.c.id)
        )
        .order_by(exception_t.c.id)
    )
    if exception_id is not None:
        query = query.where(exception_t.c.id == exception_id)
    return [RiskException(**row._asdict()) for row in conn.execute(query)]


def row_problem(kind: str, row: Row[Any]) -> bool:
    """Whether a manual item, exception or revocation row no longer matches its seal."""
    names = {"manual": _MANUAL_FIELDS, "exception": _EXCEPTION_FIELDS}.get(kind, _REVOCATION_FIELDS)
    return _seal(row._asdict(), names) != row.row_hash
