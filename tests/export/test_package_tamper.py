"""Packages an auditor verifies without trusting the sender: reports edited with SHA256SUMS
recomputed, a swapped signing key, a stripped signature, checkpoints in the package, folders,
a decompression bomb, and every branch of the verifier."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import generate_private_key

from collector.errors import UserError
from collector.export.evidence import reseal
from collector.export.package import fingerprint
from collector.export.verify import MAX_DOCUMENT, MAX_SMALL, PackageProblem, verify_package
from storage.checkpoint import DirectoryAnchor, Ed25519Signer, Heads, write_checkpoint
from tests.export.conftest import DAY, T0, rewrite

PERIOD = ("--from", "2025-03-01", "--to", "2025-03-04", "--example-soa")


def pem_pair(tmp_path: Path, name: str) -> tuple[Path, Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    private, public = tmp_path / f"{name}.pem", tmp_path / f"{name}.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public, key


def sums_for(package: Path, changes: dict[str, bytes | None]) -> bytes:
    """SHA256SUMS as a forger recomputes it after ``changes``."""
    with zipfile.ZipFile(package) as z:
        names = {n for n in z.namelist() if not n.startswith("SHA256SUMS")}
        digests = {n: hashlib.sha256(z.read(n)).hexdigest() for n in names}
    for name, data in changes.items():
        if data is None:
            digests.pop(name, None)
        else:
            digests[name] = hashlib.sha256(data).hexdigest()
    return "".join(f"{d}  {n}\n" for n, d in sorted(digests.items())).encode()


@pytest.fixture
def signed(annexa_db, seeded, tmp_path: Path, monkeypatch) -> dict:
    """A package signed with the sender's key, carrying two checkpoints of the store."""
    private, public, _ = pem_pair(tmp_path, "sender")
    cp_private, cp_public, _ = pem_pair(tmp_path, "checkpoints")
    anchor = DirectoryAnchor(tmp_path / "anchor")
    signer = Ed25519Signer.from_file(cp_private)
    for at in (T0 + 2 * DAY, T0 + 5 * DAY, T0 + 9 * DAY):  # the third one is not needed
        write_checkpoint(seeded.heads(), at, signer, [anchor])
    monkeypatch.setenv("ANNEXA_CHECKPOINTS__SIGNING_KEY", str(cp_private))
    monkeypatch.setenv("ANNEXA_CHECKPOINTS__DIRECTORY", str(tmp_path / "anchor"))
    out = tmp_path / "audit.zip"
    code, _, stderr = annexa_db("export", *PERIOD, "--out", str(out), "--sign-key", str(private))
    assert code == 0, stderr
    return {
        "package": out,
        "public": public,
        "checkpoints": cp_public,
        "private": private,
        "checkpoints_private": cp_private,
    }


def test_checkpoints_travel_in_the_package(annexa_db, signed) -> None:
    names = zipfile.ZipFile(signed["package"]).namelist()
    assert len([n for n in names if n.startswith("checkpoints/")]) == 2
    code, out, err = annexa_db(
        "verify",
        "--package",
        str(signed["package"]),
        "--public-key",
        str(signed["public"]),
        "--public-key",
        str(signed["checkpoints"]),
    )
    assert code == 0, err
    assert "signature valid" in out and "2 checkpoints signed by a trusted key" in out
    code, out, _ = annexa_db("verify", "--package", str(signed["package"]))
    assert code == 0 and "2 checkpoints not authenticated" in out


def test_edited_report_with_recomputed_sums_fails_the_signature(annexa_db, signed) -> None:
    package = signed["package"]
    for name in ("soa.csv", "index.html", "findings.ocsf.jsonl", "manifest.json"):
        data = zipfile.ZipFile(package).read(name).replace(b"failing", b"passing") + b" "
        rewrite(package, {name: data, "SHA256SUMS": sums_for(package, {name: data})})
        code, _, err = annexa_db(
            "verify", "--package", str(package), "--public-key", str(signed["public"])
        )
        assert code == 1 and "SHA256SUMS.sig: the signature over SHA256SUMS does not verify" in err


def test_swapped_key_is_never_valid(annexa_db, signed, tmp_path) -> None:
    package = signed["package"]
    _, forger_public, forger = pem_pair(tmp_path, "forger")

    def resign(changes: dict[str, bytes]) -> None:
        sums = sums_for(package, changes)
        rewrite(
            package,
            {
                **changes,
                "SHA256SUMS": sums,
                "SHA256SUMS.sig": base64.b64encode(forger.sign(sums)) + b"\n",
                "SHA256SUMS.pub": forger_public.read_bytes(),
            },
        )

    resign({})  # the same files, signed by another key
    code, out, _ = annexa_db("verify", "--package", str(package))
    assert code == 0 and "signed by an unknown key SHA256:" in out and "valid" not in out
    original = zipfile.ZipFile(package).read("soa.csv")
    data = original.replace(b"no_evidence", b"passing")
    assert data != original
    resign({"soa.csv": data})
    code, _, err = annexa_db("verify", "--package", str(package))
    assert code == 1 and "soa.csv differs from what the sealed records give" in err
    code, _, err = annexa_db(
        "verify", "--package", str(package), "--public-key", str(signed["public"])
    )
    assert code == 1 and "signed by an unknown key SHA256:" in err
    code, _, err = annexa_db("verify", "--package", str(package), "--require-signature")
    assert code == 1 and "signed by an unknown key" in err


def test_stripped_signature_fails_require_signature(annexa_db, signed) -> None:
    package = signed["package"]
    rewrite(package, {"SHA256SUMS.sig": None, "SHA256SUMS.pub": None})
    code, out, _ = annexa_db("verify", "--package", str(package))
    assert code == 0 and "not signed" in out
    code, _, err = annexa_db("verify", "--package", str(package), "--require-signature")
    assert code == 1 and "SHA256SUMS.sig: missing (--require-signature" in err


def test_checkpoint_by_an_unknown_key_in_the_package(annexa_db, signed, tmp_path) -> None:
    package = signed["package"]
    other_private, _, _ = pem_pair(tmp_path, "other")
    name = next(n for n in zipfile.ZipFile(package).namelist() if n.startswith("checkpoints/"))
    forged = DirectoryAnchor(tmp_path / "forged")
    written = write_checkpoint(
        Heads(1, "0" * 64, 0, "0" * 64),
        T0,
        Ed25519Signer.from_file(other_private),
        [forged],
    )
    resign(signed, {name: (tmp_path / "forged" / written).read_bytes()})  # the sender signs it
    keys = ("--public-key", str(signed["public"]), "--public-key", str(signed["checkpoints"]))
    code, _, err = annexa_db("verify", "--package", str(package), *keys)
    assert code == 1 and f"checkpoint {name}: signed by an unknown key SHA256:" in err


def rezip(package: Path, *, folders: bool, extra: dict[str, bytes] | None = None) -> None:
    """Re-zip as an archiver would: optional directory entries, optional extra files."""
    copy = package.with_suffix(".re")
    with zipfile.ZipFile(package) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        seen: set[str] = set()
        for info in src.infolist():
            if info.filename.endswith("/"):
                continue  # folders are laid anew below
            parts = info.filename.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                folder = "/".join(parts[:i]) + "/"
                if folders and folder not in seen:
                    seen.add(folder)
                    dst.writestr(zipfile.ZipInfo(folder), b"")
            dst.writestr(info.filename, src.read(info))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    copy.replace(package)


def test_folders_are_not_files(annexa_db, signed) -> None:
    package = signed["package"]
    rezip(package, folders=True)
    assert any(n.endswith("/") for n in zipfile.ZipFile(package).namelist())
    keys = ("--public-key", str(signed["public"]), "--public-key", str(signed["checkpoints"]))
    code, _out, err = annexa_db("verify", "--package", str(package), *keys)
    assert code == 0, err
    rezip(package, folders=True, extra={"evidence/extra.txt": b"x"})
    code, _, err = annexa_db("verify", "--package", str(package))
    assert code == 1 and "evidence/extra.txt: extra file" in err


def test_decompression_bomb_is_refused_in_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("findings.ocsf.jsonl", "w", force_zip64=True) as member:
            block = b"\0" * (1 << 24)
            for _ in range(64):  # 1 GiB of zeros
                member.write(block)
        z.writestr("SHA256SUMS", b"")
        z.writestr("manifest.json", b"{}")
    assert bomb.stat().st_size < 2 * 1024 * 1024
    # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across the fork and exec, so it would
    # report the (large) test worker's peak; VmHWM belongs to the child's own address space
    script = (
        "import atexit, sys\n"
        "def peak():\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "    sys.stderr.write(f'peak {hwm.split()[1]}\\n')\n"
        "atexit.register(peak)\n"
        f"sys.argv = ['annexa', 'verify', '--package', {str(bomb)!r}]\n"
        "import cli\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=120,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2
    assert lines[0].startswith("annexa: error: --package") and "decompression bomb" in lines[0]
    assert "findings.ocsf.jsonl" in lines[0]
    peak_kib = int(lines[-1].split()[1])
    assert peak_kib < 400 * 1024, done.stderr  # the 1 GiB member was never inflated


# -- every branch of the verifier -------------------------------------------------------------


@pytest.fixture
def package(annexa_db, seeded, tmp_path: Path) -> Path:
    out = tmp_path / "audit.zip"
    assert annexa_db("export", *PERIOD, "--out", str(out))[0] == 0
    return out


def records(package: Path) -> list[str]:
    return sorted(n for n in zipfile.ZipFile(package).namelist() if n.startswith("evidence/2"))


def forge(package: Path, changes: dict[str, bytes | None]) -> None:
    rewrite(package, {**changes, "SHA256SUMS": sums_for(package, changes)})


def test_resealed_record_with_records_csv_and_sums_fixed_breaks_the_chain(
    annexa_db, package
) -> None:
    z = zipfile.ZipFile(package)
    name = records(package)[0]
    document = json.loads(z.read(name))
    old_hash = document["content_hash"]
    document["summary"] = "all good"
    document["content_hash"] = reseal(document)[1]
    data = json.dumps(document).encode()
    index = z.read("evidence/records.csv").replace(
        old_hash.encode(), document["content_hash"].encode(), 1
    )
    forge(package, {name: data, "evidence/records.csv": index})
    code, _, err = annexa_db("verify", "--package", str(package))
    assert code == 1 and "chain broken" in err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("bad_line", "SHA256SUMS: line 1 is not '<sha256> <path>'"),
        ("duplicate_line", "is listed twice"),
        ("invalid_record", "not a valid evidence record"),
        ("observations", "observations do not match observations_hash"),
        ("missing_index", "evidence/records.csv: missing"),
        ("count", "lists 7 records, the package holds 8"),
    ],
)
def test_verifier_branches(annexa_db, package, change, message) -> None:
    z = zipfile.ZipFile(package)
    name = records(package)[0]
    sums = z.read("SHA256SUMS")
    if change == "bad_line":
        rewrite(package, {"SHA256SUMS": b"not a sum line\n" + sums})
    elif change == "duplicate_line":
        rewrite(package, {"SHA256SUMS": sums + sums.splitlines(keepends=True)[0]})
    elif change == "invalid_record":
        forge(package, {name: b'{"id": 1}'})
    elif change == "observations":
        document = json.loads(z.read(name))
        document["observations"] = {"forged": True}
        forge(package, {name: json.dumps(document).encode()})
    elif change == "missing_index":
        forge(package, {"evidence/records.csv": None})
    else:
        lines = z.read("evidence/records.csv").splitlines(keepends=True)
        forge(package, {"evidence/records.csv": b"".join(lines[:-1])})
    code, _, err = annexa_db("verify", "--package", str(package))
    assert code == 1 and message in err, err


def test_entry_listed_twice_in_the_zip(annexa_db, package) -> None:
    with zipfile.ZipFile(package, "a") as z, pytest.warns(UserWarning):
        z.writestr("runs.csv", zipfile.ZipFile(package).read("runs.csv"))
    code, _, err = annexa_db("verify", "--package", str(package))
    assert code == 1 and "runs.csv: appears twice in the package" in err


@pytest.mark.parametrize(
    ("header", "row", "message"),
    [
        (b"id,when", None, "evidence/records.csv: header is"),
        (None, b"x", "record_id 'x' or chained_to"),
    ],
)
def test_records_csv_bad_input_is_one_line_exit_2(annexa_db, package, header, row, message) -> None:
    lines = zipfile.ZipFile(package).read("evidence/records.csv").splitlines(keepends=True)
    if header is not None:
        lines[0] = header + b"\n"
    else:
        lines[1] = row + lines[1][lines[1].index(b",") :]
    forge(package, {"evidence/records.csv": b"".join(lines)})
    code, _, err = annexa_db("verify", "--package", str(package))
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1


# -- exact answers of the verifier (in process) -----------------------------------------------


def problem(package: Path, *keys: Path, require_signature: bool = False) -> str:
    with pytest.raises(PackageProblem) as caught:
        verify_package(package, keys, require_signature=require_signature)
    return str(caught.value)


def test_signature_answers(signed, tmp_path) -> None:
    package, public, checkpoints = signed["package"], signed["public"], signed["checkpoints"]
    signer = fingerprint(serialization.load_pem_public_key(public.read_bytes()))
    report = verify_package(package, [public, checkpoints])
    assert (report.signed_by, report.trusted, report.records, report.links) == (signer, True, 8, 7)
    assert report.checkpoints == (
        "2 checkpoints signed by a trusted key, 0 of their heads among the package's records"
    )
    report = verify_package(package)
    assert (report.signed_by, report.trusted) == (signer, False)
    assert report.checkpoints == "2 checkpoints not authenticated (no --public-key)"
    assert problem(package, require_signature=True) == (
        f"SHA256SUMS.sig: signed by an unknown key {signer} (pin it with --public-key)"
    )
    _, stranger, _ = pem_pair(tmp_path, "stranger")
    assert problem(package, stranger) == (
        f"SHA256SUMS.sig: signed by an unknown key {signer}, not by a --public-key given"
    )
    original = zipfile.ZipFile(package).read("SHA256SUMS.sig")
    rewrite(package, {"SHA256SUMS.sig": original[:10] + b"!" + original[10:]})  # not base64
    assert problem(package, public) == (
        f"SHA256SUMS.sig: the signature over SHA256SUMS does not verify with key {signer}"
    )
    rewrite(package, {"SHA256SUMS.sig": original, "SHA256SUMS.pub": None})  # pinned keys instead
    assert problem(package) == "SHA256SUMS.pub: missing, and no --public-key given"
    for keys in ([public, checkpoints], [checkpoints, public]):
        report = verify_package(package, keys)
        assert (report.signed_by, report.trusted) == (signer, True)
    rewrite(package, {"SHA256SUMS.sig": b"c2lnbmF0dXJl\n"})  # base64, not a signature
    other = fingerprint(serialization.load_pem_public_key(checkpoints.read_bytes()))
    assert problem(package, public, checkpoints) == (
        f"SHA256SUMS.sig: the signature over SHA256SUMS does not verify with keys {signer}, {other}"
    )


def resign(signed: dict, changes: dict[str, bytes | None]) -> None:
    """``changes`` to the package, SHA256SUMS recomputed and signed again by the sender."""
    package = signed["package"]
    sums = sums_for(package, changes)
    sender = serialization.load_pem_private_key(signed["private"].read_bytes(), None)
    signature = base64.b64encode(sender.sign(sums)) + b"\n"  # type: ignore[call-arg, union-attr]
    rewrite(package, {**changes, "SHA256SUMS": sums, "SHA256SUMS.sig": signature})


def test_checkpoint_heads_among_the_package_records(signed, tmp_path) -> None:
    package = signed["package"]
    z = zipfile.ZipFile(package)
    name = next(n for n in z.namelist() if n.startswith("checkpoints/"))
    head = json.loads(z.read(records(package)[2]))["content_hash"]
    signer = Ed25519Signer.from_file(signed["checkpoints_private"])
    written = write_checkpoint(Heads(4, head, 0, "0" * 64), T0, signer, [DirectoryAnchor(tmp_path)])
    resign(signed, {name: (tmp_path / written).read_bytes()})
    report = verify_package(package, [signed["public"], signed["checkpoints"]])
    assert report.checkpoints == (
        "2 checkpoints signed by a trusted key, 1 of their heads among the package's records"
    )


def test_unusable_public_key_in_the_package(signed, tmp_path) -> None:
    package, public = signed["package"], signed["public"]
    rewrite(package, {"SHA256SUMS.pub": b"garbage"})
    assert problem(package, public) == "SHA256SUMS.pub: not a PEM public key"
    rsa = generate_private_key(65537, 2048).public_key()
    pem = rsa.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    rewrite(package, {"SHA256SUMS.pub": pem})
    assert problem(package, public) == "SHA256SUMS.pub: an Ed25519 key is required, not RSA"


def test_unsigned_package_answers(package, tmp_path) -> None:
    _, public, _ = pem_pair(tmp_path, "sender")
    assert problem(package, public) == (
        "SHA256SUMS.sig: missing (a public key was given; the package is not signed)"
    )
    assert problem(package, require_signature=True) == (
        "SHA256SUMS.sig: missing (--require-signature; the package is not signed)"
    )
    names = [n for n in zipfile.ZipFile(package).namelist() if not n.startswith("SHA256SUMS")]
    calls: list[tuple[int, int]] = []
    report = verify_package(package, progress=lambda done, total: calls.append((done, total)))
    assert (report.files, report.records, report.links) == (len(names), 8, 7)
    assert (report.signed_by, report.trusted) == (None, False)
    assert report.checkpoints == "no checkpoints" and report.rederived > 0
    total = sum(i.file_size for i in zipfile.ZipFile(package).infolist() if i.filename in names)
    assert calls[-1] == (total, total)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[0] > 0  # bytes hashed so far, growing to the total


@pytest.mark.parametrize(
    "line",
    [
        b"not a sum line",
        b"a" * 63 + b"  runs.csv",
        b"a" * 64 + b"  ",
        b"g" * 64 + b"  runs.csv",  # not hex
        b"\xff" * 64 + b"  runs.csv",  # not UTF-8
    ],
)
def test_bad_sums_line_is_named_by_number(package, line) -> None:
    sums = zipfile.ZipFile(package).read("SHA256SUMS")
    rewrite(package, {"SHA256SUMS": sums + line + b"\n"})
    number = sums.count(b"\n") + 1
    assert problem(package) == f"SHA256SUMS: line {number} is not '<sha256>  <path>'"


def test_sums_listing_a_file_twice(package) -> None:
    sums = zipfile.ZipFile(package).read("SHA256SUMS")
    first = sums.splitlines(keepends=True)[0]
    rewrite(package, {"SHA256SUMS": sums + first})
    assert problem(package) == f"SHA256SUMS: {first.decode().split()[1]} is listed twice"


def test_an_empty_extra_file_is_a_file(package) -> None:
    rewrite(package, {"notes.txt": b""})
    assert problem(package) == "notes.txt: extra file, not listed in SHA256SUMS"


def test_edited_record_seal_names_both_hashes(package) -> None:
    name = records(package)[0]
    document = json.loads(zipfile.ZipFile(package).read(name))
    document["status"] = "fail"
    forge(package, {name: json.dumps(document).encode()})
    stated, recomputed = document["content_hash"], reseal(document)[1]
    assert problem(package) == (
        f"{name}: record seal broken (content_hash {stated[:12]}..., recomputed "
        f"{recomputed[:12]}...)"
    )


@pytest.mark.parametrize(("row", "claimed"), [(1, 2), (3, 1)])
def test_chained_to_another_record_breaks_the_chain(package, row, claimed) -> None:
    """records.csv claims a link to a record that is not the one before it (or to one before
    the first)."""
    lines = zipfile.ZipFile(package).read("evidence/records.csv").decode().splitlines(True)
    cells = lines[row].rstrip("\n").split(",")
    cells[-1] = lines[claimed].split(",")[0]
    lines[row] = ",".join(cells) + "\n"
    forge(package, {"evidence/records.csv": "".join(lines).encode()})
    assert problem(package) == (
        f"{cells[5]}: chain broken: previous_hash does not match record {cells[-1]}'s content_hash"
    )


def test_records_csv_bad_cells_are_named_exactly(package) -> None:
    lines = zipfile.ZipFile(package).read("evidence/records.csv").decode().splitlines(True)
    header = lines[0].strip()
    forge(package, {"evidence/records.csv": ("id,when\n" + "".join(lines[1:])).encode()})
    with pytest.raises(UserError) as caught:
        verify_package(package)
    assert str(caught.value) == f"evidence/records.csv: header is 'id,when', expected {header!r}"
    cells = lines[2].rstrip("\n").split(",")
    cells[-1] = "y"
    lines[2] = ",".join(cells) + "\n"
    forge(package, {"evidence/records.csv": "".join(lines).encode()})
    with pytest.raises(UserError) as caught:
        verify_package(package)
    assert str(caught.value) == (
        f"evidence/records.csv: line 3: record_id {cells[0]!r} or chained_to 'y' is not a number"
    )


def test_a_document_too_large_to_read_is_refused(tmp_path: Path) -> None:
    """A record or checkpoint file over MAX_DOCUMENT (stored, so no bomb) is refused before
    it is read; one of exactly MAX_DOCUMENT bytes is read (and here is an extra file)."""
    path = tmp_path / "p.zip"
    for name, size in (("checkpoints/c.json", MAX_DOCUMENT + 1), ("evidence/r.json", MAX_DOCUMENT)):
        with zipfile.ZipFile(path, "w") as z:
            with z.open(name, "w", force_zip64=True) as member:
                block = b"\0" * (1 << 20)
                for _ in range(size >> 20):
                    member.write(block)
                member.write(b"\0" * (size % (1 << 20)))
            z.writestr("SHA256SUMS", b"")
            z.writestr("manifest.json", b"{}")
        if size > MAX_DOCUMENT:
            with pytest.raises(UserError) as caught:
                verify_package(path)
            assert str(caught.value) == (
                f"--package {path}: refusing {name}: {size} bytes is too large for one document"
            )
        else:
            assert problem(path) == f"{name}: extra file, not listed in SHA256SUMS"


def test_broken_zip_structure(package) -> None:
    """A broken central directory is not a zip (exit 2); a corrupted entry is a problem."""
    data = bytearray(package.read_bytes())
    header = data.rfind(b"runs.csv") - 46  # its central directory header
    data[header + 16] ^= 1  # the CRC it states
    package.write_bytes(data)
    assert problem(package) == "runs.csv: CRC or size mismatch (corrupted)"
    data[header : header + 4] = b"PK\0\0"
    package.write_bytes(data)
    with pytest.raises(UserError) as caught:
        verify_package(package)
    assert (
        str(caught.value) == f"--package {package}: not a zip file (broken zip central directory)"
    )


def test_decompression_bomb_and_unreadable_input_in_process(tmp_path: Path) -> None:
    """An entry over MAX_SMALL packed over MAX_RATIO:1 is a bomb; one at MAX_SMALL is not."""
    path = tmp_path / "p.zip"
    for size, bomb in ((MAX_SMALL, False), (MAX_SMALL + 1, True)):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("big.bin", b"\0" * size)
            packed = z.getinfo("big.bin").compress_size
        with pytest.raises(UserError) as caught:
            verify_package(path)
        assert str(caught.value) == (
            f"--package {path}: refusing big.bin: {size} bytes packed into {packed} "
            f"({size / packed:.0f}:1), a decompression bomb"
            if bomb
            else "not an annexa package: no SHA256SUMS or manifest.json"
        )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("SHA256SUMS", b"")
    with pytest.raises(
        UserError, match=r"^not an annexa package: no SHA256SUMS or manifest\.json$"
    ):
        verify_package(path)
    missing = tmp_path / "missing.zip"
    with pytest.raises(UserError) as caught:
        verify_package(missing)
    assert str(caught.value) == f"--package {missing}: cannot read it: No such file or directory"
    with pytest.raises(UserError) as caught:
        verify_package(path, [missing])
    assert str(caught.value) == (
        f"--public-key {missing}: cannot read it: No such file or directory"
    )
    with pytest.raises(UserError) as caught:
        verify_package(path, [path])
    assert str(caught.value) == f"--public-key {path}: no PEM public key in it"
