"""``annexa export`` / ``annexa verify --package`` from the command line: tampering is named,
bad input is one line with exit 2 and leaves no file behind."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from tests.export.conftest import rewrite

PERIOD = ("--from", "2025-03-01", "--to", "2025-03-04", "--example-soa")


@pytest.fixture
def package(annexa_db, seeded, tmp_path: Path) -> Path:
    out = tmp_path / "audit.zip"
    code, stdout, stderr = annexa_db("export", *PERIOD, "--out", str(out))
    assert code == 0, stderr
    assert "8 evidence records" in stdout
    return out


def sums_with(package: Path, name: str, data: bytes) -> bytes:
    """SHA256SUMS recomputed after replacing ``name`` (what a forger would do)."""
    lines = zipfile.ZipFile(package).read("SHA256SUMS").decode().splitlines()
    digest = hashlib.sha256(data).hexdigest()
    return "".join(
        (f"{digest}  {name}" if line.endswith(f"  {name}") else line) + "\n" for line in lines
    ).encode()


def first_record(package: Path) -> tuple[str, dict]:
    z = zipfile.ZipFile(package)
    name = sorted(n for n in z.namelist() if n.startswith("evidence/2"))[0]
    return name, json.loads(z.read(name))


def test_intact_package(annexa_db, package: Path) -> None:
    code, stdout, _ = annexa_db("verify", "--package", str(package))
    assert code == 0
    assert stdout.startswith("package intact: ") and "not signed" in stdout
    assert "8 evidence records re-sealed, 7 chain links verified" in stdout


def test_modified_file_is_named(annexa_db, package: Path) -> None:
    rewrite(package, {"runs.csv": b"run\nforged\n"})
    code, _, stderr = annexa_db("verify", "--package", str(package))
    assert code == 1
    assert "runs.csv: SHA-256 differs from SHA256SUMS (modified)" in stderr


def test_missing_and_extra_files(annexa_db, package: Path) -> None:
    rewrite(package, {"exceptions.csv": None})
    code, _, stderr = annexa_db("verify", "--package", str(package))
    assert code == 1 and "exceptions.csv: listed in SHA256SUMS but missing" in stderr
    rewrite(package, {"exceptions.csv": None})  # (still missing: the extra file is found first)
    rewrite(package, {"notes.txt": b"hello"})
    code, _, stderr = annexa_db("verify", "--package", str(package))
    assert code == 1 and "notes.txt: extra file" in stderr


def test_edited_record_with_fixed_sums_fails_its_seal(annexa_db, package: Path) -> None:
    name, document = first_record(package)
    document["status"] = "fail"
    data = json.dumps(document).encode()
    rewrite(package, {name: data, "SHA256SUMS": sums_with(package, name, data)})
    code, _, stderr = annexa_db("verify", "--package", str(package))
    assert code == 1 and f"{name}: record seal broken" in stderr


def test_resealed_record_breaks_the_chain_index(annexa_db, package: Path) -> None:
    from collector.export.evidence import reseal

    name, document = first_record(package)
    document["summary"] = "all good"
    document["content_hash"] = reseal(document)[1]
    data = json.dumps(document).encode()
    rewrite(package, {name: data, "SHA256SUMS": sums_with(package, name, data)})
    code, _, stderr = annexa_db("verify", "--package", str(package))
    assert (
        code == 1
        and f"{name}: record {document['id']} disagrees with evidence/records.csv" in stderr
    )


def test_signature_pinned_key_and_tampered_signature(
    annexa_db, seeded, tmp_path: Path, key_files
) -> None:
    private, public = key_files
    out = tmp_path / "signed.zip"
    code, stdout, stderr = annexa_db(
        "export", *PERIOD, "--out", str(out), "--sign-key", str(private)
    )
    assert code == 0, stderr
    code, stdout, _ = annexa_db("verify", "--package", str(out), "--public-key", str(public))
    assert code == 0 and "signature valid (key fingerprint SHA256:" in stdout
    signature = base64.b64decode(zipfile.ZipFile(out).read("SHA256SUMS.sig"))
    forged = base64.b64encode(bytes([signature[0] ^ 1]) + signature[1:]) + b"\n"
    rewrite(out, {"SHA256SUMS.sig": forged})
    code, _, stderr = annexa_db("verify", "--package", str(out), "--public-key", str(public))
    assert code == 1 and "SHA256SUMS.sig: the signature over SHA256SUMS does not verify" in stderr


def test_pinned_key_needs_a_signature(annexa_db, package: Path, key_files) -> None:
    code, _, stderr = annexa_db(
        "verify", "--package", str(package), "--public-key", str(key_files[1])
    )
    assert code == 1 and "SHA256SUMS.sig: missing" in stderr


def test_other_key_does_not_verify(annexa_db, seeded, tmp_path: Path, key_files) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out = tmp_path / "signed.zip"
    assert annexa_db("export", *PERIOD, "--out", str(out), "--sign-key", str(key_files[0]))[0] == 0
    other = tmp_path / "other.pub"
    other.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, _, stderr = annexa_db("verify", "--package", str(out), "--public-key", str(other))
    assert code == 1 and "signed by an unknown key SHA256:" in stderr


def bad_key(tmp_path: Path) -> Path:
    path = tmp_path / "rsa.pem"
    path.write_bytes(
        generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2025-03-04", "--to", "2025-03-01"), "empty or inverted period"),
        (("--from", "2025-03-01T00:00:00Z", "--to", "2025-03-01T00:00:00Z"), "empty or inverted"),
        (("--from", "2999-03-01", "--to", "2999-03-02"), "is in the future"),
        (("--from", "2025-03-01", "--to", "2025-03-04"), "pass --example-soa"),
        ((*PERIOD, "--controls", "A.8.24,A.99.1"), "unknown control id(s) A.99.1"),
        ((*PERIOD, "--sign-key", "{tmp}/nope.pem"), "--sign-key"),
        ((*PERIOD, "--sign-key", "{rsa}"), "an Ed25519 key is required, not RSA"),
        ((*PERIOD, "--sign-key", "{tmp}/garbage.pem"), "not an unencrypted PEM private key"),
    ],
)
def test_bad_export_input(annexa_db, seeded, tmp_path: Path, args, message) -> None:
    (tmp_path / "garbage.pem").write_text("not a key")
    args = [a.format(tmp=tmp_path, rsa=bad_key(tmp_path)) for a in args]
    out = tmp_path / "out.zip"
    code, _, stderr = annexa_db("export", *args, "--out", str(out))
    last = stderr.strip().splitlines()[-1]  # after the "example SoA" note, if any
    assert code == 2 and last.startswith("annexa: error: ") and message in last
    assert list(tmp_path.glob("out.zip*")) == []


def test_output_path_rules(annexa_db, seeded, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir.zip"
    code, _, stderr = annexa_db("export", *PERIOD, "--out", str(missing))
    assert code == 2 and "does not exist" in stderr
    existing = tmp_path / "there.zip"
    existing.write_bytes(b"keep me")
    code, _, stderr = annexa_db("export", *PERIOD, "--out", str(existing))
    assert (
        code == 2 and "file exists (use --force" in stderr and existing.read_bytes() == b"keep me"
    )
    code, _, _ = annexa_db("export", *PERIOD, "--out", str(existing), "--force")
    assert code == 0 and zipfile.is_zipfile(existing)


def test_failure_midway_leaves_no_partial_file(
    annexa_db, seeded, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collector.export import build

    def interrupted(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(build, "render_index", interrupted)
    out = tmp_path / "audit.zip"
    code, _, _ = annexa_db("export", *PERIOD, "--out", str(out))
    assert code == 130
    assert list(tmp_path.glob("audit.zip*")) == []


def test_not_a_package(annexa_db, tmp_path: Path) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("hello")
    code, _, stderr = annexa_db("verify", "--package", str(text))
    assert code == 2 and "not a zip file" in stderr
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("a.txt", "a")
    code, _, stderr = annexa_db("verify", "--package", str(other))
    assert code == 2 and "not an annexa package" in stderr
