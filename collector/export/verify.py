"""``annexa verify --package``: is the package exactly what was exported, and by whom?

Checked, in order, stopping at the first problem (named with its file):
0. the zip itself: an entry that inflates far beyond its compressed size (a decompression
   bomb) or past its declared size is refused before anything is read into memory;
1. the signature: ``SHA256SUMS.sig`` over ``SHA256SUMS``. A signature that verifies with the
   key shipped in the package but not with a pinned ``--public-key`` is "signed by an unknown
   key", never "valid" (an error when keys are pinned or ``--require-signature`` is given);
   ``--require-signature`` fails an unsigned package. Without ``SHA256SUMS.pub`` each pinned
   Ed25519 key is tried;
2. every file against ``SHA256SUMS``: no file modified, missing or extra (zip CRCs too);
3. every evidence record file re-sealed from its own fields (``evidence.reseal``): its
   ``observations_hash`` and ``content_hash`` must match what it states;
4. ``evidence/records.csv`` agrees with the record files, and every chain link it claims
   (``chained_to``: the previous record is in the package) holds: ``previous_hash`` equals
   that record's ``content_hash``.

5. the checkpoints in ``checkpoints/`` (copies of the store's anchored checkpoints covering
   the period): each must be signed by a pinned key; the report counts the checkpoint heads
   that are records of the package;
6. every other file is re-derived (``rederive``): the export's build runs again on the
   package's sealed records and build inputs (``inputs/``), and each file it writes must equal
   the package's (``soa.xlsx``: the same cell values), with no file left over. A package of
   format 1 (before ``inputs/``) fails here with a message saying so.

Folders (zip entries ending in ``/``) are not files: a package re-zipped with directory
entries verifies, any extra or missing file does not. Memory stays bounded: entries are read
one at a time (``ziplist``) and the expected sums and record hashes live in a temporary SQLite
database; the re-derivation writes a second package to a temporary directory. What an
unsigned package cannot prove: anyone can recompute ``SHA256SUMS`` and re-seal a whole chain,
so a package forged from end to end (records, inputs and reports made to agree) is only as
trustworthy as its sender; step 6 makes a report edited on its own fail.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import re
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from collector.errors import UserError
from collector.export.evidence import RECORDS_COLUMNS, reseal
from collector.export.package import PUBLIC_KEY, SIGNATURE, SUMS, fingerprint, key_kind
from collector.export.rederive import Mismatch, rederive
from collector.export.ziplist import ChunkReader, Entry, NotAZip, entries, read_chunks
from storage import checkpoint

__all__ = ["PackageProblem", "PackageReport", "verify_package"]

MANIFEST, RECORDS, CHECKPOINTS = "manifest.json", "evidence/records.csv", "checkpoints/"
_SPECIAL = (SUMS, SIGNATURE, PUBLIC_KEY)
MAX_RATIO = 200  # deflate reaches ~1000:1 on zeros; real package files stay below ~40:1
MAX_SMALL = 16 * 1024 * 1024  # entries up to this size are never called bombs
MAX_DOCUMENT = 64 * 1024 * 1024  # a record or checkpoint file read whole into memory
_SHA256 = re.compile("[0-9a-f]{64}")  # as SHA256SUMS writes it (docs/evidence-format.md)


class PackageProblem(Exception):
    """The package is not intact; the message names the file and what is wrong."""


@dataclass(frozen=True)
class PackageReport:
    files: int
    records: int
    links: int  # chain links verified between records in the package
    signed_by: str | None  # fingerprint of the key the signature verified with
    trusted: bool = False  # that key is one the verifier pinned
    checkpoints: str = "no checkpoints"  # what the package's checkpoints showed
    rederived: int = 0  # files rebuilt from the package's records and inputs, all equal


def load_public_keys(paths: Sequence[Path]) -> list[Any]:
    """Every PEM public key in the ``--public-key`` files; UserError for an unusable file."""
    keys = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UserError(f"--public-key {path}: cannot read it: {exc.strerror or exc}") from None
        try:
            keys += checkpoint.load_public_keys(data, f"--public-key {path}")
        except ValueError as exc:
            raise UserError(str(exc)) from None
    return keys


def _public_key(data: bytes, label: str, error: type[Exception]) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise error(f"{label}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise error(f"{label}: an Ed25519 key is required, not {key_kind(key)}")
    return key


def _verifies(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_package(
    path: Path,
    public_keys: Sequence[Path] = (),
    *,
    require_signature: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PackageReport:
    """Verify ``path``; PackageProblem names the first problem, UserError for a file that is
    not an annexa package, a decompression bomb, or an unreadable key. ``progress(bytes
    checked, bytes in all)`` follows the hashing of the files."""
    pinned = load_public_keys(public_keys)
    try:
        fp = path.open("rb")
    except OSError as exc:
        raise UserError(f"--package {path}: cannot read it: {exc.strerror or exc}") from None
    with fp, path.open("rb") as data, tempfile.TemporaryDirectory(prefix="annexa-verify-") as tmp:
        try:
            verifier = _Verifier(fp, data, Path(tmp), path, progress)
            return verifier.run(pinned, require_signature)
        except NotAZip as exc:
            if "central" in str(exc) or "end" in str(exc):
                raise UserError(f"--package {path}: not a zip file ({exc})") from None
            raise PackageProblem(str(exc)) from None


class _Verifier:
    def __init__(
        self,
        directory: BinaryIO,
        data: BinaryIO,
        work: Path,
        path: Path,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.directory, self.data, self.path, self.work = directory, data, path, work
        self.progress, self.total = progress, 0
        self.checkpoints: list[tuple[str, bytes]] = []
        self.db = sqlite3.connect(work / "verify.sqlite", isolation_level=None)
        self.db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            "CREATE TABLE sums (path TEXT PRIMARY KEY, sha256 TEXT, seen INT DEFAULT 0);"
            "CREATE TABLE recs (id INTEGER PRIMARY KEY, path TEXT, content_hash TEXT,"
            " previous_hash TEXT);"
        )

    def read(self, entry: Entry) -> bytes:
        return b"".join(read_chunks(self.data, entry))

    def run(self, pinned: list[Any], require_signature: bool) -> PackageReport:
        special: dict[str, Entry] = {}
        for e in entries(self.directory):
            self._refuse_bomb(e)
            if e.name not in _SPECIAL:  # what _scan hashes (and reports progress of)
                self.total += e.size
            if e.name in (*_SPECIAL, MANIFEST):
                special[e.name] = e
        if SUMS not in special or MANIFEST not in special:
            raise UserError("not an annexa package: no SHA256SUMS or manifest.json")
        signed_by, trusted = self._signature(special, pinned, require_signature)
        self._load_sums(special[SUMS])
        files, records = self._scan()
        missing = self.db.execute("SELECT path FROM sums WHERE seen = 0 ORDER BY path").fetchone()
        if missing:
            raise PackageProblem(f"{missing[0]}: listed in SHA256SUMS but missing from the package")
        links = self._chain()
        checkpoints = self._checkpoints(pinned)
        try:
            manifest = self.read(special[MANIFEST])
            rederived = rederive(self.directory, self.data, self.work, self.db, manifest)
        except Mismatch as exc:
            raise PackageProblem(str(exc)) from None
        return PackageReport(files, records, links, signed_by, trusted, checkpoints, rederived)

    def _refuse_bomb(self, entry: Entry) -> None:
        ratio = entry.size / max(entry.compressed, 1)
        if entry.size > MAX_SMALL and ratio > MAX_RATIO:
            raise UserError(
                f"--package {self.path}: refusing {entry.name}: {entry.size} bytes packed into "
                f"{entry.compressed} ({ratio:.0f}:1), a decompression bomb"
            )

    def _signature(
        self, special: dict[str, Entry], pinned: list[Any], require: bool
    ) -> tuple[str | None, bool]:
        """(fingerprint of the signing key or None, whether that key is pinned)."""
        if SIGNATURE not in special:
            if pinned or require:
                why = "a public key was given" if pinned else "--require-signature"
                raise PackageProblem(f"{SIGNATURE}: missing ({why}; the package is not signed)")
            return None, False
        pinned_prints = {checkpoint.fingerprint(k) for k in pinned}
        candidates = [k for k in pinned if isinstance(k, Ed25519PublicKey)]
        if PUBLIC_KEY in special:
            candidates = [_public_key(self.read(special[PUBLIC_KEY]), PUBLIC_KEY, PackageProblem)]
        if not candidates:
            raise PackageProblem(f"{PUBLIC_KEY}: missing, and no --public-key given")
        try:
            signature = base64.b64decode(self.read(special[SIGNATURE]).strip(), validate=True)
        except (binascii.Error, ValueError):
            signature = b""
        # Ed25519 verifies the whole message: SHA256SUMS is read once, only when signed
        message = self.read(special[SUMS])
        key = next((k for k in candidates if _verifies(k, signature, message)), None)
        if key is None:
            raise PackageProblem(
                f"{SIGNATURE}: the signature over SHA256SUMS does not verify with key"
                f"{'s' if len(candidates) > 1 else ''} {', '.join(map(fingerprint, candidates))}"
            )
        signer = fingerprint(key)
        trusted = signer in pinned_prints
        if not trusted and (pinned or require):
            raise PackageProblem(
                f"{SIGNATURE}: signed by an unknown key {signer}"
                + (", not by a --public-key given" if pinned else " (pin it with --public-key)")
            )
        return signer, trusted

    def _checkpoints(self, pinned: list[Any]) -> str:
        """Authenticate the package's checkpoints; say how many heads are package records."""
        if not self.checkpoints:
            return "no checkpoints"
        if not pinned:
            return f"{len(self.checkpoints)} checkpoints not authenticated (no --public-key)"
        heads = 0
        for name, data in self.checkpoints:
            try:
                cp = checkpoint.read_checkpoint(name, data, pinned)
            except checkpoint.CheckpointError as exc:
                raise PackageProblem(str(exc)) from None
            found = self.db.execute(
                "SELECT 1 FROM recs WHERE content_hash = ?", (cp.head,)
            ).fetchone()
            heads += found is not None
        return (
            f"{len(self.checkpoints)} checkpoints signed by a trusted key, "
            f"{heads} of their heads among the package's records"
        )

    def _load_sums(self, entry: Entry) -> None:
        self.db.execute("BEGIN")
        text = io.TextIOWrapper(ChunkReader(read_chunks(self.data, entry)), "utf-8", "replace")
        for number, line in enumerate(text, 1):
            digest, sep, name = line.rstrip("\n").partition("  ")
            if not sep or not _SHA256.fullmatch(digest) or not name:
                raise PackageProblem(f"{SUMS}: line {number} is not '<sha256>  <path>'")
            try:
                self.db.execute("INSERT INTO sums (path, sha256) VALUES (?, ?)", (name, digest))
            except sqlite3.IntegrityError:
                raise PackageProblem(f"{SUMS}: {name} is listed twice") from None
        self.db.execute("COMMIT")

    def _scan(self) -> tuple[int, int]:
        files = records = done = 0
        self.db.execute("BEGIN")
        for entry in entries(self.directory):
            if entry.name in _SPECIAL or (entry.name.endswith("/") and entry.size == 0):
                continue  # signature files are checked above; folders are not files
            digest, chunks = hashlib.sha256(), []
            is_record = entry.name.startswith("evidence/") and entry.name.endswith(".json")
            is_checkpoint = entry.name.startswith(CHECKPOINTS) and entry.name.endswith(".json")
            if (is_record or is_checkpoint) and entry.size > MAX_DOCUMENT:
                raise UserError(
                    f"--package {self.path}: refusing {entry.name}: {entry.size} bytes is too "
                    "large for one document"
                )
            for chunk in read_chunks(self.data, entry):
                digest.update(chunk)
                done += len(chunk)
                if self.progress is not None:
                    self.progress(done, self.total)
                if is_record or is_checkpoint:
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
            elif is_checkpoint:
                self.checkpoints.append((entry.name, b"".join(chunks)))
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
        text = io.TextIOWrapper(ChunkReader(read_chunks(self.data, entry)), encoding="utf-8")
        links, listed, previous = 0, 0, None
        reader = csv.DictReader(text)
        if tuple(reader.fieldnames or ()) != RECORDS_COLUMNS:
            raise UserError(
                f"{RECORDS}: header is {','.join(reader.fieldnames or ())!r}, expected "
                f"{','.join(RECORDS_COLUMNS)!r}"
            )
        for row in reader:
            try:
                record_id = int(row["record_id"])
                chained_to = int(row["chained_to"]) if row["chained_to"] else None
            except (TypeError, ValueError):
                raise UserError(
                    f"{RECORDS}: line {reader.line_num}: record_id {row['record_id']!r} or "
                    f"chained_to {row['chained_to']!r} is not a number"
                ) from None
            stored = self.db.execute(
                "SELECT path, content_hash, previous_hash FROM recs WHERE id = ?", (record_id,)
            ).fetchone()
            expected = (row["path"], row["content_hash"], row["previous_hash"])
            if stored is None or tuple(stored) != expected:
                raise PackageProblem(f"{row['path']}: record {record_id} disagrees with {RECORDS}")
            if chained_to is not None:
                if (
                    previous is None
                    or chained_to != int(previous["record_id"])
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
