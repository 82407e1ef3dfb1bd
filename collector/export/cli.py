"""The ``export`` and ``verify --package`` commands' bodies (parse, call, render), kept beside
the package code so ``cli.py`` only gains two thin commands."""

from __future__ import annotations

import sys
from pathlib import Path

from rich.console import Console

from collector import app as core
from collector.anchoring import covering
from collector.audit import clip_period, parse_instant
from collector.clock import utcnow
from collector.export.build import export_package
from collector.export.verify import PackageProblem, verify_package
from collector.progress import progress_bar
from collector.settings import Settings
from collector.signals import sigterm_interrupts

__all__ = ["export_command", "verify_package_command"]


def export_command(
    settings: Settings,
    start: str,
    end: str,
    out_file: Path,
    controls: list[str] | None,
    sign_key: Path | None,
    soa: Path | None,
    force: bool,
    out: Console,
    err: Console,
    *,
    example_soa: bool = False,
) -> None:
    begin = parse_instant(start, "--from")
    until = parse_instant(end, "--to", end_of_day=True)  # a date: that whole day
    now = utcnow()
    clip_period(begin, until, now)  # a bad period fails before anything is read or written
    workspace = core.load_workspace(settings)
    refuse = None if example_soa else "--example-soa"
    chosen_soa, notice = workspace.soa(soa, refuse_example=refuse)
    if notice:
        err.print(f"[yellow]note:[/] {notice}")
    with (
        sigterm_interrupts(),
        core.open_store(settings) as store,
        progress_bar(err, "exporting", "records") as progress,
    ):
        result = export_package(
            workspace,
            store,
            chosen_soa,
            start=begin,
            end=until,
            out=out_file,
            now=now,
            controls=controls,
            sign_key=sign_key,
            force=force,
            progress=progress,
            checkpoints=covering(settings.checkpoints, begin, until),
        )
    if result.note:
        err.print(f"[yellow]note:[/] {result.note}")
    signed = f", signed (key {result.signed_by})" if result.signed_by else ""
    out.print(
        f"wrote {result.path}: {result.records} evidence records, {result.controls} controls, "
        f"{result.files} files{signed}"
    )


def verify_package_command(
    package: Path, public_keys: list[Path], require_signature: bool, out: Console, err: Console
) -> int:
    try:
        with progress_bar(err, "verifying", "MiB") as update:
            report = verify_package(
                package,
                public_keys,
                require_signature=require_signature,
                progress=None
                if update is None
                else lambda done, total: update(done >> 20, total >> 20),
            )
    except PackageProblem as exc:
        sys.stderr.write(f"annexa: package verify failed: {' '.join(str(exc).split())}\n")
        return 1
    if report.signed_by is None:
        signature = "not signed (anyone could have written it: pin a signer with --public-key)"
    elif report.trusted:
        signature = f"signature valid (key fingerprint {report.signed_by})"
    else:
        signature = (
            f"signed by an unknown key {report.signed_by} (pin the signer with --public-key)"
        )
    sys.stdout.write(
        f"package intact: {report.files} files, {signature}; {report.records} evidence records "
        f"re-sealed, {report.links} chain links verified; {report.rederived} files re-derived "
        f"from the records and inputs, all equal; {report.checkpoints}\n"
    )
    return 0
