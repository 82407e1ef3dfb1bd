"""Checkpoints from settings: who signs, where they are anchored, and verifying a store
against them (``storage.checkpoint`` holds the format, signers and anchors)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from collector.clock import utcnow
from collector.errors import UserError
from collector.logs import get_logger
from collector.settings import CheckpointSettings, Settings
from storage import EvidenceStore, IntegrityProblem, VerifyReport
from storage.checkpoint import (
    Anchor,
    DirectoryAnchor,
    Ed25519Signer,
    KmsSigner,
    PublicKey,
    S3Anchor,
    Signer,
    load_public_keys,
    read_checkpoints,
    write_checkpoint,
)

log = get_logger("annexa.checkpoints")


def _session(region: str | None, profile: str | None = None) -> Any:
    import boto3

    return boto3.Session(profile_name=profile, region_name=region)


def signer_of(config: CheckpointSettings) -> Signer | None:
    """The configured signer, or None; UserError for an unusable key."""
    try:
        if config.signing_key is not None:
            return Ed25519Signer.from_file(config.signing_key)
        if config.kms_key_id is not None:
            client = _session(config.kms_region).client("kms")
            return KmsSigner(client, config.kms_key_id)
    except ValueError as exc:
        raise UserError(f"checkpoints: {exc}") from None
    return None


def anchors_of(config: CheckpointSettings) -> list[Anchor]:
    """The configured anchors (none: the store is unanchored)."""
    anchors: list[Anchor] = []
    if config.directory is not None:
        anchors.append(DirectoryAnchor(config.directory))
    if config.s3 is not None:
        s3 = config.s3
        client = _session(s3.region, s3.profile).client("s3")
        anchors.append(S3Anchor(client, s3.bucket, s3.prefix, s3.retention_days))
    return anchors


def checkpointer(settings: Settings) -> Callable[..., str | None] | None:
    """A function that writes a checkpoint of a store now, or None when nothing is anchored.

    The signer and anchors are made on first use (a KMS key costs a call), then kept. A
    failure to sign or anchor is logged, never raised: the evidence is already stored, and
    verify shows the records no checkpoint covers yet."""
    config = settings.checkpoints
    if config.directory is None and config.s3 is None:
        return None
    made: list[tuple[Signer, list[Anchor]]] = []

    def anchor(store: EvidenceStore, at: datetime | None = None) -> str | None:
        heads = store.heads()
        try:
            if not made:
                signer = signer_of(config)
                assert signer is not None  # the settings require one with an anchor
                made.append((signer, anchors_of(config)))
            signer, anchors = made[0]
            name = write_checkpoint(heads, at or utcnow(), signer, anchors)
        except Exception as exc:  # a key, disk, S3 or KMS error: report it, go on
            log.error("checkpoint not written", error=f"{type(exc).__name__}: {exc}")
            return None
        log.info("checkpoint written", name=name, records=heads.records)
        return name

    return anchor


def trusted_keys(config: CheckpointSettings, extra: Sequence[Path] = ()) -> list[PublicKey]:
    """The keys a checkpoint may be signed with: the configured signer's, the configured
    trusted keys and ``extra`` (``--public-key``); UserError for an unreadable file."""
    keys: list[PublicKey] = []
    signer = signer_of(config)
    if signer is not None:
        keys.append(signer.public_key)
    for path in [*config.trusted_keys, *extra]:
        try:
            keys += load_public_keys(path.read_bytes(), str(path))
        except OSError as exc:
            raise UserError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise UserError(str(exc)) from None
    return keys


def covering(config: CheckpointSettings, start: datetime, end: datetime) -> list[tuple[str, bytes]]:
    """The anchored checkpoints (name, document) written during ``[start, end)`` and the first
    one after it (which covers the period's last records), for an export package. They are
    copied as they are: the package's verifier authenticates them."""
    found: dict[str, bytes] = {}
    for anchor in anchors_of(config):
        for name, data in anchor.read_all():
            found.setdefault(name, data)
    chosen = []
    for name, data in sorted(found.items(), key=lambda item: _written_at(item[1]) or start):
        at = _written_at(data)
        if at is None or at < start:
            continue
        chosen.append((name, data))
        if at >= end:
            break
    return chosen


def _written_at(document: bytes) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(document)["at"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


@dataclass(frozen=True)
class StoreVerification:
    """``verify``'s answer: the store's report and where its checkpoints came from."""

    report: VerifyReport
    anchors: list[str]  # labels; empty: the store is unanchored


def verify_store(
    store: EvidenceStore,
    settings: Settings,
    public_keys: Sequence[Path] = (),
    progress: Callable[[int, int], None] | None = None,
) -> StoreVerification:
    """Verify the store, and against every trusted checkpoint of the configured anchors;
    ``progress(records checked, records in all)`` follows the chain's walk."""
    config = settings.checkpoints
    anchors = anchors_of(config)
    if not anchors:
        return StoreVerification(store.verify_report(progress=progress), [])
    checkpoints, problems = read_checkpoints(anchors, trusted_keys(config, public_keys))
    report = store.verify_report(checkpoints=checkpoints, progress=progress)
    labels = [a.label for a in anchors]
    if problems and report.problem is None:
        report = replace(report, problem=IntegrityProblem("checkpoint", None, problems[0]))
    if not checkpoints and report.problem is None and report.position:
        detail = (
            f"no checkpoint in {', '.join(labels)} covers the store's {report.position} records"
        )
        report = replace(report, problem=IntegrityProblem("checkpoint", None, detail))
    return StoreVerification(report, labels)
