"""Signed checkpoints of the chain heads, and the anchors outside the database they go to.

A checkpoint states: at ``at``, ``records`` evidence records had ever been appended (pruned
ones included), the last one's hash being ``head``, and the ledger held ``ledger`` entries, the
last one's hash being ``ledger_head``. It is signed with an Ed25519 key from a file or with an
AWS KMS asymmetric key (``kms:Sign``; the private key never leaves KMS), and written to every
configured anchor: a directory annexa only ever adds files to, and/or an S3 bucket with Object
Lock in compliance mode (nobody, not even the bucket's owner, can delete or overwrite an object
before its retention date). ``verify`` reads them back, keeps those signed by a trusted key and
checks the store against each (``RetentionStore.verify_report``).

The file is JSON: the fields above plus ``format``, ``version``, ``key`` (the signing key's
fingerprint), ``algorithm`` and ``signature`` (base64, over the canonical JSON of every other
field).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from storage.records import Checkpoint, Heads
from storage.sealing import canonical_json

FORMAT = "annexa-checkpoint"
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class CheckpointError(ValueError):
    """A checkpoint that cannot be trusted: malformed, unknown key, bad signature. The message
    names the checkpoint."""


def fingerprint(key: Any) -> str:
    """``SHA256:<hex>``: of the raw 32 bytes for Ed25519, of the DER SubjectPublicKeyInfo for
    other keys."""
    if isinstance(key, Ed25519PublicKey):
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    else:
        raw = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return "SHA256:" + hashlib.sha256(raw).hexdigest()


def load_public_keys(data: bytes, label: str) -> list[PublicKey]:
    """Every PEM public key in ``data`` (a trusted-keys file may hold several); ValueError."""
    keys = []
    for block in data.split(b"-----END PUBLIC KEY-----")[:-1]:
        pem = block[block.find(b"-----BEGIN") :] + b"-----END PUBLIC KEY-----\n"
        try:
            key = serialization.load_pem_public_key(pem)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError(f"{label}: not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            raise ValueError(f"{label}: unsupported key type {type(key).__name__}")
        keys.append(key)
    if not keys:
        raise ValueError(f"{label}: no PEM public key in it")
    return keys


def public_pem(key: PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


# -- signers ------------------------------------------------------------------------------


class Signer(Protocol):
    algorithm: str
    public_key: PublicKey

    def sign(self, message: bytes) -> bytes: ...


class Ed25519Signer:
    """Signs with an Ed25519 private key (PEM, PKCS#8, unencrypted)."""

    algorithm = "ed25519"

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        self.public_key: PublicKey = key.public_key()

    @classmethod
    def from_file(cls, path: Path) -> Ed25519Signer:
        """ValueError naming the file when it is not an Ed25519 private key."""
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except OSError as exc:
            raise ValueError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError(f"{path}: not an unencrypted PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path}: an Ed25519 private key is required")
        return cls(key)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


class KmsSigner:
    """Signs with an AWS KMS asymmetric key (``kms:GetPublicKey`` once, ``kms:Sign`` per
    checkpoint): ECC_NIST_P256/P384 (ECDSA) or RSA (PSS, SHA-256)."""

    def __init__(self, client: Any, key_id: str) -> None:
        self._client, self._key_id = client, key_id
        answer = client.get_public_key(KeyId=key_id)
        self.public_key = serialization.load_der_public_key(answer["PublicKey"])  # type: ignore[assignment]
        if isinstance(self.public_key, ec.EllipticCurvePublicKey):
            bits = self.public_key.curve.key_size
            self.algorithm = "ECDSA_SHA_384" if bits == 384 else "ECDSA_SHA_256"
        elif isinstance(self.public_key, rsa.RSAPublicKey):
            self.algorithm = "RSASSA_PSS_SHA_256"
        else:
            raise ValueError(f"KMS key {key_id} cannot sign checkpoints")

    def sign(self, message: bytes) -> bytes:
        answer = self._client.sign(
            KeyId=self._key_id, Message=message, MessageType="RAW", SigningAlgorithm=self.algorithm
        )
        return answer["Signature"]


def _verify(key: PublicKey, algorithm: str, signature: bytes, message: bytes) -> None:
    """InvalidSignature when ``signature`` is not ``key``'s over ``message``."""
    if algorithm == "ed25519" and isinstance(key, Ed25519PublicKey):
        key.verify(signature, message)
    elif algorithm.startswith("ECDSA_") and isinstance(key, ec.EllipticCurvePublicKey):
        digest = hashes.SHA384() if algorithm.endswith("384") else hashes.SHA256()
        key.verify(signature, message, ec.ECDSA(digest))
    elif algorithm == "RSASSA_PSS_SHA_256" and isinstance(key, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        key.verify(signature, message, pss, hashes.SHA256())
    else:
        raise InvalidSignature


# -- the checkpoint document ------------------------------------------------------------------


def checkpoint_name(heads: Heads, at: datetime) -> str:
    """``000000001234-000000000056-20260301T120000000000Z.json``: sorts in chain order."""
    return f"{heads.records:012d}-{heads.ledger:012d}-{at:%Y%m%dT%H%M%S%fZ}.json"


def sign_checkpoint(heads: Heads, at: datetime, signer: Signer) -> bytes:
    """The signed checkpoint document (JSON, newline-terminated)."""
    body: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "at": at,
        **asdict(heads),
        "key": fingerprint(signer.public_key),
        "algorithm": signer.algorithm,
    }
    signature = signer.sign(canonical_json(body))
    body["signature"] = base64.b64encode(signature).decode()
    return canonical_json(body) + b"\n"


def read_checkpoint(name: str, data: bytes, trusted: Sequence[PublicKey]) -> Checkpoint:
    """Parse and authenticate one checkpoint; CheckpointError names it and the reason."""
    try:
        body = json.loads(data)
        signature = base64.b64decode(body.pop("signature"), validate=True)
        if body.get("format") != FORMAT:
            raise ValueError("not an annexa checkpoint")
        at = datetime.fromisoformat(body["at"].replace("Z", "+00:00"))
        records, ledger = int(body["records"]), int(body["ledger"])
        head, ledger_head, key_id = str(body["head"]), str(body["ledger_head"]), body["key"]
        algorithm = str(body["algorithm"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        raise CheckpointError(f"checkpoint {name}: malformed ({exc})") from None
    by_print = {fingerprint(k): k for k in trusted}
    key = by_print.get(key_id)
    if key is None:
        raise CheckpointError(f"checkpoint {name}: signed by an unknown key {key_id}")
    try:
        _verify(key, algorithm, signature, canonical_json(body))
    except InvalidSignature:
        raise CheckpointError(
            f"checkpoint {name}: the signature does not verify with key {key_id}"
        ) from None
    return Checkpoint(at, records, head, ledger, ledger_head, key_id, name)


# -- anchors ------------------------------------------------------------------------------


class Anchor(Protocol):
    label: str

    def write(self, name: str, data: bytes, at: datetime) -> None: ...

    def read_all(self) -> Iterator[tuple[str, bytes]]: ...


class DirectoryAnchor:
    """A local directory annexa only adds files to: each checkpoint is created exclusively
    (never replaced) and made read-only. Mount it from somewhere the store's administrator
    cannot write to (another host, a WORM share, ``chattr +a``) for the guarantee to hold."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = f"directory {path}"

    def write(self, name: str, data: bytes, at: datetime) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        target = self.path / name
        with target.open("xb") as f:  # never overwrite
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        target.chmod(0o444)

    def read_all(self) -> Iterator[tuple[str, bytes]]:
        if not self.path.is_dir():
            return
        for entry in sorted(self.path.glob("*.json")):
            yield entry.name, entry.read_bytes()


class S3Anchor:
    """An S3 bucket with Object Lock: each checkpoint is put once with COMPLIANCE retention
    for ``retention_days`` (``s3:PutObject``, ``s3:PutObjectRetention``; reading needs
    ``s3:ListBucket``, ``s3:GetObject``)."""

    def __init__(self, client: Any, bucket: str, prefix: str, retention_days: int) -> None:
        self._client, self.bucket = client, bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self.retention = timedelta(days=retention_days)
        self.label = f"s3://{bucket}/{self.prefix}"

    def write(self, name: str, data: bytes, at: datetime) -> None:
        self._client.put_object(
            Bucket=self.bucket,
            Key=self.prefix + name,
            Body=data,
            ContentType="application/json",
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=at + self.retention,
        )

    def read_all(self) -> Iterator[tuple[str, bytes]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith(".json"):
                    body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                    yield key[len(self.prefix) :], body


def write_checkpoint(heads: Heads, at: datetime, signer: Signer, anchors: Iterable[Anchor]) -> str:
    """Sign ``heads`` and write the checkpoint to every anchor; returns its name."""
    name = checkpoint_name(heads, at)
    data = sign_checkpoint(heads, at, signer)
    for anchor in anchors:
        anchor.write(name, data, at)
    return name


def read_checkpoints(
    anchors: Iterable[Anchor], trusted: Sequence[PublicKey]
) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint of every anchor, authenticated (duplicates across anchors once), and
    the problems found (unknown key, bad signature, malformed, or anchors disagreeing)."""
    found: dict[str, Checkpoint] = {}
    problems: list[str] = []
    for anchor in anchors:
        for name, data in anchor.read_all():
            where = anchor.label.rstrip("/") + "/" + name
            try:
                cp = read_checkpoint(where, data, trusted)
            except CheckpointError as exc:
                problems.append(str(exc))
                continue
            found.setdefault(name, cp)
    return sorted(found.values(), key=lambda c: (c.records, c.ledger, c.at)), problems
