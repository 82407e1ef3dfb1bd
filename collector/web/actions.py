"""Writes (editors only) and the audit package download, through the CLI's own functions.

Every write names the signed-in principal as its author, so it is sealed with their identity.
The package is built by ``export_package`` (the code behind ``annexa export``) in a worker
thread; its page shows progress until the download is ready.
"""

from __future__ import annotations

import re
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from collector import audit
from collector.errors import UserError
from collector.web.app import WebContext, not_found, page
from collector.web.auth import Principal

__all__ = [
    "add_exception",
    "add_manual",
    "export_download",
    "export_progress",
    "revoke_exception",
    "start_export",
]


def _form(request: Request) -> dict[str, Any]:
    """The parsed form (the view runs in a worker thread, the parser is async)."""
    import anyio.from_thread

    async def read() -> dict[str, Any]:
        form = await request.form()
        return dict(form)

    return anyio.from_thread.run(read)


def _refused(request: Request, who: Principal, exc: UserError) -> Response:
    return page(request, "error.html.j2", {"message": str(exc)}, who=who, status=400)


def add_exception(request: Request, ctx: WebContext, who: Principal) -> Response:
    """Record an approved exception authored by the signed-in editor."""
    form = _form(request)
    try:
        item = audit.add_exception(
            ctx.workspace,
            ctx.store,
            check=str(form.get("check", "")),
            resource=str(form.get("resource", "")),
            reason=str(form.get("reason", "")) or None,
            approved_by=str(form.get("approved_by", "")) or None,
            expires=str(form.get("expires", "")) or None,
            target=str(form.get("target", "*")),
            by=who.name,
            now=ctx.clock(),
        )
    except UserError as exc:
        return _refused(request, who, exc)
    back = str(form.get("back", "/")) if str(form.get("back", "")).startswith("/") else "/"
    return RedirectResponse(f"{back}#exception-{item.id}", status_code=303)


def revoke_exception(request: Request, ctx: WebContext, who: Principal) -> Response:
    """Revoke an exception, naming the signed-in editor."""
    form = _form(request)
    try:
        audit.revoke_exception(
            ctx.store,
            request.path_params["exception_id"],
            reason=str(form.get("reason", "")) or None,
            by=who.name,
            now=ctx.clock(),
        )
    except UserError as exc:
        return _refused(request, who, exc)
    back = str(form.get("back", "/")) if str(form.get("back", "")).startswith("/") else "/"
    return RedirectResponse(back, status_code=303)


def add_manual(request: Request, ctx: WebContext, who: Principal) -> Response:
    """Upload a manual evidence file for a control, authored by the signed-in editor."""
    control_id = request.path_params["control_id"]
    form = _form(request)
    upload = form.get("file")
    if upload is None or not hasattr(upload, "file"):
        return _refused(request, who, UserError("choose a file to upload"))
    name = re.sub(r"[^A-Za-z0-9._-]", "_", upload.filename or "evidence")[:120] or "evidence"
    try:
        with tempfile.TemporaryDirectory(prefix="annexa-upload-") as folder:
            path = Path(folder) / name
            with path.open("wb") as f:
                while chunk := upload.file.read(1024 * 1024):
                    f.write(chunk)
            audit.add_manual_evidence(
                ctx.workspace,
                ctx.store,
                control=control_id,
                path=path,
                valid_for=str(form.get("valid_for", "")),
                note=str(form.get("note", "")),
                by=who.name,
                now=ctx.clock(),
            )
    except UserError as exc:
        return _refused(request, who, exc)
    return RedirectResponse(f"/controls/{control_id}#manual", status_code=303)


@dataclass
class ExportJob:
    """One package being built: progress, the result or the error."""

    owner: str
    start: datetime
    end: datetime
    path: Path
    done: int = 0
    total: int | None = None
    finished: bool = False
    error: str | None = None
    summary: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


def start_export(request: Request, ctx: WebContext, who: Principal) -> Response:
    """Start building the audit package for a period (auditors: inside their period)."""
    from collector.export import export_package

    form = _form(request)
    try:
        start = audit.parse_instant(str(form.get("from", "")), "from")
        end = audit.parse_instant(str(form.get("to", "")), "to", end_of_day=True)
        if who.period and not (who.period[0] <= start and end <= who.period[1]):
            raise UserError("the package period must lie inside your audit period")
        if end <= start:
            raise UserError("from must be before to")
    except UserError as exc:
        return _refused(request, who, exc)
    job_id = uuid.uuid4().hex
    folder = Path(tempfile.mkdtemp(prefix="annexa-web-export-"))
    job = ExportJob(who.name, start, end, folder / f"annexa-audit-{start:%Y%m%d}-{end:%Y%m%d}.zip")
    ctx.jobs[job_id] = job

    def progress(done: int, total: int | None) -> None:
        job.done, job.total = done, total

    def build() -> None:
        try:
            result = export_package(
                ctx.workspace,
                ctx.store,
                ctx.soa,
                start=start,
                end=end,
                out=job.path,
                now=ctx.clock(),
                progress=progress,
            )
            job.summary = f"{result.records} evidence records, {result.controls} controls"
        except Exception as exc:  # shown on the job page; the thread must not die silently
            job.error = " ".join(str(exc).split()) or type(exc).__name__
        finally:
            job.finished = True

    threading.Thread(target=build, name=f"export-{job_id[:8]}", daemon=True).start()
    return RedirectResponse(f"/export/{job_id}", status_code=303)


def _job(request: Request, ctx: WebContext, who: Principal) -> ExportJob | None:
    job = ctx.jobs.get(request.path_params["job_id"])
    return job if job is not None and job.owner == who.name else None


def export_progress(request: Request, ctx: WebContext, who: Principal) -> Response:
    """The job's progress (the page refreshes itself until the package is ready)."""
    job = _job(request, ctx, who)
    if job is None:
        return not_found(request, "export job", who)
    return page(
        request,
        "export.html.j2",
        {"job": job, "job_id": request.path_params["job_id"]},
        who=who,
    )


def export_download(request: Request, ctx: WebContext, who: Principal) -> Response:
    """The finished package as a download."""
    job = _job(request, ctx, who)
    if job is None or not job.finished or job.error is not None:
        return not_found(request, "finished package", who)
    return FileResponse(job.path, filename=job.path.name, media_type="application/zip")
