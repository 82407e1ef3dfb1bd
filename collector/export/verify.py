"""``annexa verify --package``: is the package exactly what was exported?

Checked, in order, stopping at the first problem (named with its file):
1. the signature: ``SHA256SUMS.sig`` over ``SHA256SUMS``, with the pinned ``--public-key`` (then
   a signature must exist) or else the key shipped in the package (which proves only internal
   consistency; pin the key you trust);
2. every file against ``SHA256SUMS``: no file modified, missing or extra (zip CRCs too);
3. every evidence record file re-sealed from its own fields (``evidence.reseal``): its
   ``observations_hash`` and ``content_hash`` must match what it states;
4. ``evidence/records.csv`` agrees with the record files, and every chain link it claims
   (``chained_to``: the previous record is in the package) holds: ``previous_hash`` equals
   that record's ``content_hash``.

Memory stays bounded: entries are read one at a time (``ziplist``) and the expected sums and
record hashes live in a temporary SQLite database.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from collector.errors import UserError
from collector.export.evidence import reseal
from collector.export.package import PUBLIC_KEY, SIGNATURE, SUMS, fingerprint, key_kind
from collector.export.ziplist import Entry, NotAZip, entries, read_chunks

__all__ = ["PackageProblem", "PackageReport", "verify_package"]

MANIFEST, RECORDS = "manifest.json", "evidence/records.csv"
_SPECIAL = (SUMS, SIGNATURE, PUBLIC_KEY)


class PackageProblem(Exception):
    """The package is not intact; the message names the file and what is wrong."""


@dataclass(frozen=True)
class PackageReport:
    files: int
    records: int
    links: int  # chain links verified between records in the package
    signed_by: str | None  # fingerprint of the key the signature verified with


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"--public-key {path}: cannot read it: {exc.strerror or exc}") from None
    return _public_key(data, f"--public-key {path}", UserError)


def _public_key(data: bytes, label: str, error: type[Exception]) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise error(f"{label}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise error(f"{label}: an Ed25519 key is required, not {key_kind(key)}")
    return key


def verify_package(path: Path, public_key: Path | None = None) -> PackageReport:
    """Verify ``path``; PackageProblem names the first problem, UserError for a file that is
    not an annexa package (or an unreadable key)."""
    pinned = load_public_key(public_key) if public_key is not None else None
    try:
        fp = path.open("rb")
    except OSError as exc:
        raise UserError(f"--package {path}: cannot read it: {exc.strerror or exc}") from None
    with fp, path.open("rb") as data, tempfile.TemporaryDirectory(prefix="annexa-verify-") as tmp:
        try:
            return _Verifier(fp, data, Path(tmp)).run(pinned)
        except NotAZip as exc:
            if "central" in str(exc) or "end" in str(exc):
                raise UserError(f"--package {path}: not a zip file ({exc})") from None
            raise PackageProblem(str(exc)) from None


class _Verifier:
    def __init__(self, directory: BinaryIO, data: BinaryIO, work: Path) -> None:
        self.directory, self.data = directory, data
        self.db = sqlite3.connect(work / "verify.sqlite", isolation_level=None)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE sums (path TEXT PRIMARY KEY, sha256 TEXT, seen INT DEFAULT 0);"
            "CREATE TABLE recs (id INTEGER PRIMARY KEY, path TEXT, content_hash TEXT,"
            " previous_hash TEXT);"
        )

    def read(self, entry: Entry) -> bytes:
        return b"".join(read_chunks(self.data, entry))

    def run(self, pinned: Ed25519PublicKey | None) -> PackageReport:
        special = {e.name: e for e in entries(self.directory) if e.name in (*_SPECIAL, MANIFEST)}
        if SUMS not in special or MANIFEST not in special:
            raise UserError("not an annexa package: no SHA256SUMS or manifest.json")
        signed_by = self._signature(special, pinned)
        self._load_sums(special[SUMS])
        files, records = self._scan()
        missing = self.db.execute("SELECT path FROM sums WHERE seen = 0 ORDER BY path").fetchone()
        if missing:
            raise PackageProblem(f"{missing[0]}: listed in SHA256SUMS but missing from the package")
        links = self._chain()
        return PackageReport(files, records, links, signed_by)

    def _signature(self, special: dict[str, Entry], pinned: Ed25519PublicKey | None) -> str | None:
        if SIGNATURE not in special:
            if pinned is not None:
                raise PackageProblem(
                    f"{SIGNATURE}: missing (a public key was given; the package is not signed)"
                )
            return None
        key = pinned
        if key is None:
            if PUBLIC_KEY not in special:
                raise PackageProblem(f"{PUBLIC_KEY}: missing, and no --public-key given")
            key = _public_key(self.read(special[PUBLIC_KEY]), PUBLIC_KEY, PackageProblem)
        try:
            signature = base64.b64decode(self.read(special[SIGNATURE]).strip(), validate=True)
            # Ed25519 verifies the whole message: SHA256SUMS is read once, only when signed
            key.verify(signature, self.read(special[SUMS]))
        except (binascii.Error, ValueError, InvalidSignature):
            raise PackageProblem(
                f"{SIGNATURE}: the signature over SHA256SUMS does not verify with key "
                f"{fingerprint(key)}"
            ) from None
        return fingerprint(key)

    def _load_sums(self, entry: Entry) -> None:
        self.db.execute("BEGIN")
        text = io.TextIOWrapper(_ChunkReader(read_chunks(self.data, entry)), "utf-8", "replace")
        for number, line in enumerate(text, 1):
            digest, sep, name = line.rstrip("\n").partition("  ")
            if not sep or len(digest) != 64 or not name:
                raise PackageProblem(f"{SUMS}: line {number} is not '<sha256>  <path>'")
            try:
                self.db.execute("INSERT INTO sums (path, sha256) VALUES (?, ?)", (name, digest))
            except sqlite3.IntegrityError:
                raise PackageProblem(f"{SUMS}: {name} is listed twice") from None
        self.db.execute("COMMIT")

    def _scan(self) -> tuple[int, int]:
        files = records = 0
        self.db.execute("BEGIN")
        for entry in entries(self.directory):
            if entry.name in _SPECIAL:
                continue
            digest, chunks = hashlib.sha256(), []
            is_record = entry.name.startswith("evidence/") and entry.name.endswith(".json")
            for chunk in read_chunks(self.data, entry):
                digest.update(chunk)
                if is_record:
                    chunks.append(chunk)
            row = self.db.execute(
                "SELECT sha256, seen FROM sums WHERE path = ?", (entry.name,)
            ).fetchone()
            if row is None:
                raise PackageProblem(f"{entry.name}: extra file, not listed in SHA256SUMS")
            if row[1]:
                raise PackageProblem(f"{entry.name}: appears twice in the package")
            if row[0] != digest.hexdigest():
                raise PackageProblem(f"{entry.name}: SHA-256 differs from SHA256SUMS (modified)")
            self.db.execute("UPDATE sums SET seen = 1 WHERE path = ?", (entry.name,))
            files += 1
            if is_record:
                self._record(entry.name, b"".join(chunks))
                records += 1
        self.db.execute("COMMIT")
        return files, records

    def _record(self, name: str, data: bytes) -> None:
        try:
            document = json.loads(data)
            observations_hash, content_hash = reseal(document)
            stated = (document["observations_hash"], document["content_hash"])
            row = (int(document["id"]), name, document["content_hash"], document["previous_hash"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PackageProblem(f"{name}: not a valid evidence record ({exc})") from None
        if stated[0] != observations_hash:
            raise PackageProblem(f"{name}: observations do not match observations_hash")
        if stated[1] != content_hash:
            raise PackageProblem(
                f"{name}: record seal broken (content_hash {stated[1][:12]}..., recomputed "
                f"{content_hash[:12]}...)"
            )
        self.db.execute("INSERT INTO recs VALUES (?, ?, ?, ?)", row)

    def _chain(self) -> int:
        entry = next((e for e in entries(self.directory) if e.name == RECORDS), None)
        if entry is None:
            raise PackageProblem(f"{RECORDS}: missing")
        text = io.TextIOWrapper(_ChunkReader(read_chunks(self.data, entry)), encoding="utf-8")
        links, listed, previous = 0, 0, None
        for row in csv.DictReader(text):
            record_id = int(row["record_id"])
            stored = self.db.execute(
                "SELECT path, content_hash, previous_hash FROM recs WHERE id = ?", (record_id,)
            ).fetchone()
            expected = (row["path"], row["content_hash"], row["previous_hash"])
            if stored is None or tuple(stored) != expected:
                raise PackageProblem(f"{row['path']}: record {record_id} disagrees with {RECORDS}")
            if row["chained_to"]:
                if (
                    previous is None
                    or int(row["chained_to"]) != int(previous["record_id"])
                    or (row["previous_hash"] != previous["content_hash"])
                ):
                    raise PackageProblem(
                        f"{row['path']}: chain broken: previous_hash does not match record "
                        f"{row['chained_to']}'s content_hash"
                    )
                links += 1
            listed += 1
            previous = row
        total = self.db.execute("SELECT count(*) FROM recs").fetchone()[0]
        if total != listed:
            raise PackageProblem(f"{RECORDS}: lists {listed} records, the package holds {total}")
        return links


class _ChunkReader(io.RawIOBase):
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: object) -> None:
        self._chunks = iter(chunks)  # type: ignore[call-overload]
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n], self._buffer = self._buffer[:n], self._buffer[n:]
        return n
