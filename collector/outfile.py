"""Writing a user-named output file safely: never half-written, never onto a device node."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from collector.errors import UserError

__all__ = ["write_output"]


def write_output(path: Path, data: bytes, *, force: bool, option: str = "--out") -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, renamed into place.

    UserError (one line) when ``path`` exists without ``force``, is not a regular file (a
    directory, ``/dev/full``), or cannot be written; the target is then left as it was.
    """
    try:
        existing = path.lstat()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        raise UserError(f"{option} {path}: {exc.strerror}") from None
    if existing is not None:
        if not stat.S_ISREG(existing.st_mode):
            raise UserError(f"{option} {path}: not a regular file; name a file to write")
        if not force:
            raise UserError(f"{option} {path} exists; pass --force to replace it")
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    except OSError as exc:
        raise UserError(f"{option} {path}: cannot write in {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise UserError(f"{option} {path}: {exc.strerror}") from None
