"""The package writer: a zip written one entry at a time, each file's SHA-256 computed while it
is written, ``SHA256SUMS`` over every file and an optional detached Ed25519 signature.

Memory stays bounded however many files the package holds: ``zipfile`` keeps one ``ZipInfo``
per entry in memory until the central directory is written (~450 bytes each), so the writer
spills them to a temporary file and reads them back once at close; the (path, SHA-256) index
behind ``SHA256SUMS`` lives in a temporary SQLite database, which also keeps paths unique.

The zip is written to ``FILE.zip.partial`` beside the target and renamed into place only when
complete; any failure or interrupt removes the partial file.
"""

from __future__ import annotations

import base64
import hashlib
import os
import pickle
import sqlite3
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from collector.errors import UserError

__all__ = [
    "PUBLIC_KEY",
    "SIGNATURE",
    "SUMS",
    "PackageWriter",
    "fingerprint",
    "load_signing_key",
    "partial_path",
]

SUMS, SIGNATURE, PUBLIC_KEY = "SHA256SUMS", "SHA256SUMS.sig", "SHA256SUMS.pub"
_CHUNK = 1024 * 1024
_BATCH = 2_000  # added files' index rows written at once


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM (PKCS#8, unencrypted) file; UserError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"--sign-key {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UserError(f"--sign-key {path}: not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"--sign-key {path}: an Ed25519 key is required, not {key_kind(key)}")
    return key


def key_kind(key: object) -> str:
    """``RSA``, ``EllipticCurve``...: the key type's short name for error messages."""
    return type(key).__name__.lstrip("_").replace("PrivateKey", "").replace("PublicKey", "")


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:<hex>`` of the raw 32-byte public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def partial_path(out: Path) -> Path:
    return out.with_name(out.name + ".partial")


class _SpilledInfos:
    """``ZipFile.filelist`` stand-in: appended ``ZipInfo`` objects go to a temporary file and
    come back, in order, when ``close`` writes the central directory."""

    def __init__(self, spill: IO[bytes]) -> None:
        self._spill = spill
        self._count = 0

    def append(self, info: zipfile.ZipInfo) -> None:
        pickle.dump(info, self._spill, protocol=pickle.HIGHEST_PROTOCOL)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        self._spill.flush()
        self._spill.seek(0)
        for _ in range(self._count):
            yield pickle.load(self._spill)
        self._spill.seek(0, os.SEEK_END)


class _NoNames(dict):  # type: ignore[type-arg]
    """``ZipFile.NameToInfo`` stand-in that keeps nothing (uniqueness is the index's job)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        pass


class _HashingWriter:
    """A file-like over one zip entry that hashes and counts what passes through."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self._target.write(data)


class PackageWriter:
    """Write a package: ``add``/``open``/``copy`` files, then ``finish`` (sums, signature,
    atomic rename) or ``abort``. Use as a context manager: an exception aborts."""

    def __init__(
        self, out: Path, workdir: Path, *, created: datetime, compresslevel: int = 1
    ) -> None:
        self.out = out
        self._workdir = workdir
        self._stamp = created.timetuple()[:6]
        self.partial = partial_path(out)
        self._index = sqlite3.connect(workdir / "index.sqlite", isolation_level=None)
        self._index.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE files (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL) WITHOUT ROWID;"
            "BEGIN;"
        )
        self._spill = (workdir / "zipinfo.spill").open("w+b")
        try:
            self._fp: BinaryIO = self.partial.open("xb")
        except OSError:  # read-only file system, permission, an export already running
            self._close_index()
            self._spill.close()
            raise
        try:  # an interrupt (SIGTERM, Ctrl-C) here must not leave the partial file behind
            self._zip = zipfile.ZipFile(
                self._fp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
            )
            self._zip.filelist = _SpilledInfos(self._spill)  # type: ignore[assignment]
            self._zip.NameToInfo = _NoNames()
        except BaseException:
            self._discard()
            raise
        self._level = compresslevel
        self._pending: list[tuple[str, str]] = []  # (path, sha256) of added files
        self.files = 0

    @contextmanager
    def open(self, path: str, *, large: bool = False) -> Iterator[_HashingWriter]:
        """Write one file (``large``: it may exceed 4 GiB, zip64); its SHA-256 is recorded
        when the block ends."""
        self._claim_pending()
        self._claim([(path, "")])
        with self._zip.open(self._info(path), "w", force_zip64=large) as entry:
            writer = _HashingWriter(entry)
            yield writer
        self._index.execute(
            "UPDATE files SET sha256 = ? WHERE path = ?", (writer.digest.hexdigest(), path)
        )
        self.files += 1

    def add(self, path: str, data: bytes) -> str:
        """Write a whole file (under 4 GiB); returns its SHA-256.

        The sizes and CRC are known up front, so the entry is written in one go: local header,
        deflated data, and its ``ZipInfo`` handed to ``zipfile`` for the central directory
        (``zipfile.open`` would write a placeholder header and seek back to rewrite it)."""
        sha256 = hashlib.sha256(data).hexdigest()
        self._pending.append((path, sha256))
        if len(self._pending) >= _BATCH:
            self._claim_pending()
        info = self._info(path)
        deflate = zlib.compressobj(self._level, zlib.DEFLATED, -15)
        packed = deflate.compress(data) + deflate.flush()
        info.file_size, info.compress_size, info.CRC = len(data), len(packed), zlib.crc32(data)
        info.header_offset = self._fp.tell()
        self._fp.write(info.FileHeader(False))
        self._fp.write(packed)
        self._zip.filelist.append(info)
        self._zip.start_dir = self._fp.tell()  # where zipfile writes the next entry
        self._zip._didModify = True  # type: ignore[attr-defined]  # close writes the directory
        self.files += 1
        return sha256

    def _info(self, path: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=self._stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        info._compresslevel = self._level  # type: ignore[attr-defined]  # zipfile ignores ours otherwise
        return info

    def _claim_pending(self) -> None:
        self._claim(self._pending)
        self._pending.clear()

    def _claim(self, rows: list[tuple[str, str]]) -> None:
        """Record (path, sha256) rows; ValueError naming the first path already taken."""
        self._index.execute("SAVEPOINT claim")
        try:
            self._index.executemany("INSERT INTO files VALUES (?, ?)", rows)
        except sqlite3.IntegrityError:
            self._index.execute("ROLLBACK TO claim")
            for path, sha256 in rows:
                try:
                    self._index.execute("INSERT INTO files VALUES (?, ?)", (path, sha256))
                except sqlite3.IntegrityError:
                    raise ValueError(f"duplicate package path {path}") from None
        finally:
            self._index.execute("RELEASE claim")

    def copy(self, path: str, source: Path) -> str:
        """Stream a local file into the package; returns its SHA-256."""
        with self.open(path, large=True) as f, source.open("rb") as src:
            while chunk := src.read(_CHUNK):
                f.write(chunk)
        return f.digest.hexdigest()

    def sums_lines(self) -> Iterable[bytes]:
        self._claim_pending()
        rows = self._index.execute("SELECT sha256, path FROM files ORDER BY path")
        for sha256, path in rows:
            yield f"{sha256}  {path}\n".encode()

    def finish(self, key: Ed25519PrivateKey | None = None) -> None:
        """Write SHA256SUMS (sorted paths, ``sha256sum`` format), sign it, close, rename."""
        sums = self._workdir / SUMS
        with sums.open("wb") as f:
            f.writelines(self.sums_lines())
        self._close_index()
        self._zip.write(sums, SUMS)
        if key is not None:
            # Ed25519 signs the message itself (no pre-hash), so the file is read whole once.
            signature = key.sign(sums.read_bytes())
            self._zip.writestr(SIGNATURE, base64.b64encode(signature) + b"\n")
            public = key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            self._zip.writestr(PUBLIC_KEY, public)
        self._zip.close()
        self._fp.flush()
        os.fsync(self._fp.fileno())  # the bytes are on disk before the name points at them
        self._fp.close()
        self._spill.close()
        os.replace(self.partial, self.out)

    def abort(self) -> None:
        """Close everything and delete the partial file."""
        with suppress(Exception):
            self._zip.close()
        self._discard()

    def _discard(self) -> None:
        """Close the partial file, the index and the spill; delete the partial file."""
        with suppress(Exception):
            self._fp.close()
        self._close_index()
        self._spill.close()
        self.partial.unlink(missing_ok=True)

    def _close_index(self) -> None:
        self._index.close()

    def __enter__(self) -> PackageWriter:
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is not None:
            self.abort()
