"""A store and an export target on a read-only mount (a bind mount remounted read-only in a
private mount namespace, as root, like a ``:ro`` volume): every writing command is one line and
exit 2, and the files are as they were."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from collector.app import example_soa_path
from tests.inputs.conftest import EXCEPTION_ADD, store_dump

WRITERS = [
    [*EXCEPTION_ADD, "--expires", "2030-01-01"],
    ["evidence", "add", "--control", "A.5.1", "--file", "{note}", "--valid-for", "30d"],
    ["--database", "sqlite:///{ro}/new.sqlite", "db", "upgrade"],  # a store to create there
    [
        "export",
        "--soa",
        str(example_soa_path()),
        "--from",
        "2020-01-01",
        "--to",
        "2020-02-01",
        "--out",
        "{ro}/audit.zip",
    ],
]


def test_writes_on_a_read_only_mount_are_one_line(seeded: Path, tmp_path: Path) -> None:
    read_only = seeded.parent
    note = tmp_path / "note.txt"
    note.write_text("x")
    before = store_dump(seeded)
    files_before = sorted(p.name for p in read_only.iterdir())
    exe = shutil.which("annexa", path=str(Path(sys.executable).parent)) or "annexa"
    url = f"sqlite:///{seeded}"
    script = [f"mount --bind {read_only} {read_only} && mount -o remount,bind,ro {read_only}"]
    for args in WRITERS:
        line = " ".join(f"'{a.format(note=note, ro=read_only)}'" for a in args)
        script.append(f"{exe} --database '{url}' {line} >/dev/null 2>>{tmp_path}/err; echo $?")
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", "\n".join(script)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr  # the namespace and the read-only mount were made
    assert done.stdout.split() == ["2"] * len(WRITERS), (tmp_path / "err").read_text()
    errors = (tmp_path / "err").read_text().splitlines()
    assert len(errors) == len(WRITERS) and all(e.startswith("annexa: error: ") for e in errors)
    assert "Read-only file system" in errors[-1] and "audit.zip" in errors[-1]
    assert store_dump(seeded) == before
    assert sorted(p.name for p in read_only.iterdir()) == files_before
