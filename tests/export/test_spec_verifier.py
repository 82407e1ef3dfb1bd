"""A verifier written only from docs/evidence-format.md (no annexa import inside it) verifies
a real exported package, and rejects a tampered one."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.export.conftest import rewrite

SEALED = ("run_id", "check_id", "check_version", "provider", "account", "region",
          "collected_at", "status", "summary", "findings", "error")  # fmt: skip


def spec_verify(path: Path, public_pem: bytes | None = None) -> int:
    """Raise AssertionError on any problem; return the number of records checked."""
    z = zipfile.ZipFile(path)
    files = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    sums = {}
    for line in files["SHA256SUMS"].decode().splitlines():
        digest, name = line.split("  ", 1)
        assert name not in sums, f"{name} listed twice"
        sums[name] = digest
    signed = {"SHA256SUMS", "SHA256SUMS.sig", "SHA256SUMS.pub"}
    assert set(sums) == set(files) - signed, "files differ from SHA256SUMS"
    for name, digest in sums.items():
        assert hashlib.sha256(files[name]).hexdigest() == digest, f"{name} modified"
    if public_pem is not None:
        signature = base64.b64decode(files["SHA256SUMS.sig"])
        load_pem_public_key(public_pem).verify(signature, files["SHA256SUMS"])  # type: ignore[union-attr]

    def canonical(value: object) -> bytes:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    hashes = {}
    for row in csv.DictReader(io.StringIO(files["evidence/records.csv"].decode())):
        record = json.loads(files[row["path"]])
        observations = hashlib.sha256(canonical(record["observations"])).hexdigest()
        assert observations == record["observations_hash"], f"{row['path']} observations"
        payload = {k: record[k] for k in SEALED}
        payload |= {"observations_hash": observations, "previous_hash": record["previous_hash"]}
        assert hashlib.sha256(canonical(payload)).hexdigest() == record["content_hash"]
        assert (row["content_hash"], row["previous_hash"]) == (
            record["content_hash"], record["previous_hash"]
        )  # fmt: skip
        if row["chained_to"]:
            assert row["previous_hash"] == hashes[int(row["chained_to"])], "chain broken"
        hashes[int(row["record_id"])] = record["content_hash"]
    return len(hashes)


def test_spec_verifier_agrees_with_annexa(annexa_db, seeded, tmp_path: Path, key_files) -> None:
    out = tmp_path / "audit.zip"
    period = ("--from", "2025-03-01", "--to", "2025-03-04", "--example-soa")
    code, _, err = annexa_db("export", *period, "--out", str(out), "--sign-key", str(key_files[0]))
    assert code == 0, err
    assert spec_verify(out, key_files[1].read_bytes()) == 8
    name = next(n for n in zipfile.ZipFile(out).namelist() if n.startswith("evidence/2"))
    document = json.loads(zipfile.ZipFile(out).read(name))
    document["status"] = "pass" if document["status"] != "pass" else "fail"
    rewrite(out, {name: json.dumps(document).encode()})
    try:
        spec_verify(out)
    except AssertionError as exc:
        assert "modified" in str(exc)
    else:
        raise AssertionError("the spec verifier accepted an edited record")
