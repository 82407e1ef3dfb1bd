"""Manual evidence: reading an upload safely, and which item speaks for a control at an instant.

The newest upload (by ``uploaded_at``, then id) made at or before the instant governs a
control; older uploads are superseded but kept. A control with no automated check is ATTESTED
while that item is inside ``[valid_from, valid_until]``, STALE after it, MANUAL before any.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from collector.errors import UserError
from storage import MAX_BLOB_BYTES
from storage.records import ManualEvidence

__all__ = ["Upload", "current_items", "governing", "read_upload"]

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Upload:
    """A file read for upload: its bytes, SHA-256, name and media type."""

    content: bytes
    sha256: str
    file_name: str
    media_type: str


def read_upload(path: Path, limit: int = MAX_BLOB_BYTES) -> Upload:
    """Read ``path`` in chunks, refusing it as soon as it exceeds ``limit`` bytes."""
    digest, chunks, size = hashlib.sha256(), [], 0
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UserError(
                        f"{path.name}: larger than the {limit // (1024 * 1024)} MB limit "
                        "for manual evidence; store a summary or a link instead"
                    )
                digest.update(chunk)
                chunks.append(chunk)
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Upload(b"".join(chunks), digest.hexdigest(), path.name, media_type)


def governing(items: Iterable[ManualEvidence], at: datetime) -> ManualEvidence | None:
    """The item that speaks for its control at ``at``: the newest uploaded at or before it."""
    known = [i for i in items if i.uploaded_at <= at]
    return max(known, key=lambda i: (i.uploaded_at, i.id), default=None)


def current_items(items: Iterable[ManualEvidence], at: datetime) -> list[ManualEvidence]:
    """Per control, the governing item at ``at`` if it has not expired (not superseded)."""
    by_control: dict[str, list[ManualEvidence]] = {}
    for item in items:
        by_control.setdefault(item.control_id, []).append(item)
    current = []
    for group in by_control.values():
        item = governing(group, at)
        if item is not None and at <= item.valid_until:
            current.append(item)
    return sorted(current, key=lambda i: (i.uploaded_at, i.id))
