"""annexa's front door: parse arguments, call one function, render. No business logic."""

from __future__ import annotations

import copy
import csv
import importlib.util
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.core

from collector.clock import utcnow
from collector.errors import UserError
from collector.providers import RESOLVERS
from collector.signals import sigterm_interrupts


def _lazy(name: str) -> ModuleType:
    """Module ``name``, executed on its first attribute access (the stdlib's ``LazyLoader``):
    ``annexa --help`` loads neither the store, the registry nor the settings model."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.loader is not None
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING:
    from rich.console import Console

    from collector import app as core
    from collector import audit, logs, progress, report
    from collector import settings as settings_module
    from collector import status as status_module
    from collector.settings import Settings
    from collector.status import ControlStatus
else:
    core = _lazy("collector.app")
    audit = _lazy("collector.audit")
    report = _lazy("collector.report")
    settings_module = _lazy("collector.settings")
    logs = _lazy("collector.logs")
    progress = _lazy("collector.progress")
    status_module = _lazy("collector.status")

#: the labels ``--help`` shows for an option's value, by its type (flags show none)
_VALUE_LABELS = {"str": "TEXT", "path": "PATH", "int": "N", "float": "NUMBER"}
#: the providers annexa can audit (one account resolver each), for help texts and completion
PROVIDERS = sorted(RESOLVERS)


def _complete_provider(incomplete: str) -> list[str]:
    return [p for p in PROVIDERS if p.startswith(incomplete)]


def _provider_option(help: str) -> Any:
    return typer.Option(
        "--provider",
        help=f"{help} ({', '.join(PROVIDERS)}).",
        autocompletion=_complete_provider,
    )


def _label_values(params: list[Any], ctx: typer.Context) -> None:
    """Plain value labels in ``--help`` (``FILE``, ``TEXT``, ``[a|b]``) instead of typer's
    ``<bool>``, ``<list[str]>`` type names; a flag takes no value, so it shows none."""
    for param in params:
        if param.metavar is not None:
            continue
        if isinstance(param, typer.core.TyperArgument):
            param.metavar = (param.name or "value").upper()
            kind = param.display_type(ctx).strip("<>")
            choices = f"[{kind}]" if "|" in kind else None  # the name says the rest
            param.display_type_rich = lambda ctx, shown=choices: shown  # type: ignore[method-assign]
            continue
        if param.is_flag:
            param.metavar = ""
            continue
        kind = param.display_type(ctx).strip("<>").removeprefix("list[").removesuffix("]")
        kind = kind.removesuffix(" range")
        param.metavar = f"[{kind}]" if "|" in kind else _VALUE_LABELS.get(kind, kind.upper())


class _Group(typer.core.TyperGroup):
    """Typer's group, with plain value labels in every command's help."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)
        _label_values(params, ctx)
        return params

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None and not isinstance(command, _Group):
            _label_values(command.get_params(ctx), ctx)
        return command


app = typer.Typer(
    name="annexa",
    cls=_Group,
    help="Continuous ISO/IEC 27001:2022 evidence collector: the Check phase of your ISMS.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
evidence_app = typer.Typer(cls=_Group, help="Stored evidence records.", no_args_is_help=True)
db_app = typer.Typer(cls=_Group, help="The evidence database.", no_args_is_help=True)
app.add_typer(evidence_app, name="evidence")
app.add_typer(db_app, name="db")
exception_app = typer.Typer(
    cls=_Group, help="Exceptions: approved, expiring risk acceptances.", no_args_is_help=True
)
app.add_typer(exception_app, name="exception")


class _Console:
    """A rich ``Console`` made on first use: JSON or CSV output with no note loads no rich."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return getattr(self._console, name)


# Piped output is not squeezed to 80 columns: tables stay one line per row where possible.
out = _Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
err = _Console(stderr=True, soft_wrap=True)  # a note is one line, however long


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class LogFormat(StrEnum):
    auto = "auto"
    console = "console"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
SoaOption = Annotated[
    Path | None,
    typer.Option(
        "--soa",
        help="Statement of Applicability (.yaml, .csv, .xlsx); "
        "default: the config's, else the shipped example.",
    ),
]
ExampleSoaOption = Annotated[
    bool,
    typer.Option(
        "--example-soa",
        help="Allow the shipped example SoA (fictional owners) when no SoA is configured.",
    ),
]
_REPEAT = "repeatable, or comma-separated"
CheckOption = Annotated[
    list[str] | None, typer.Option("--check", help=f"Only these check ids ({_REPEAT}).")
]
FailOnOption = Annotated[
    list[str] | None,
    typer.Option(
        "--fail-on",
        help=f"Exit 1 when a control is in any of these states ({_REPEAT}), "
        "e.g. failing,stale,error.",
    ),
]


def _many(values: list[str] | None) -> list[str] | None:
    """The values of a repeatable option, each of which may be a comma-separated list."""
    found = [v.strip() for value in values or () for v in value.split(",") if v.strip()]
    return found or None


MAX_LIMIT = 1_000_000  # rows a listing may ask for
MAX_ID = 2**63 - 1  # the store's ids are 64-bit integers
STATE_STYLE = {
    "failing": "bold red",
    "error": "magenta",
    "stale": "yellow",
    "no_evidence": "dim yellow",
    "passing": "green",
    "manual": "cyan",
    "not_applicable": "dim",
    "attested": "green",
    "accepted": "blue",
}


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        sys.stdout.write(f"annexa {version('annexa')}\n")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (YAML); default $ANNEXA_CONFIG, else the user config file.",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database", help="Evidence store URL (overrides ANNEXA_DATABASE_URL and the config)."
        ),
    ] = None,
    log_format: Annotated[
        LogFormat | None,
        typer.Option(
            "--log-format", help="Logs on stderr: console lines or JSON lines (auto: by tty)."
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    settings = settings_module.load_settings(
        config, database_url=database, log_format=log_format.value if log_format else None
    )
    logs.configure_logging(settings.log_format, level=10 if verbose else 20)
    ctx.obj = settings


def _settings(ctx: typer.Context) -> Settings:
    return ctx.obj  # type: ignore[no-any-return]


# -- rendering ---------------------------------------------------------------------------


def emit(
    rows: list[dict[str, Any]], fmt: Format, *, title: str = "", columns: list[str] | None = None
) -> None:
    """Print rows as a rich table, JSON (a list of objects) or CSV (lists joined by '; ',
    formula-like text prefixed with ', CRLF line ends)."""
    columns = columns or (list(rows[0]) if rows else [])
    if fmt is Format.json:
        sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
        return
    if fmt is Format.csv:
        writer = csv.DictWriter(
            sys.stdout, fieldnames=list(rows[0]) if rows else columns, lineterminator="\r\n"
        )
        writer.writeheader()
        writer.writerows({k: report.safe_text(_cell(v)) for k, v in row.items()} for row in rows)
        return
    from rich.table import Table

    table = Table(title=title or None, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*(_styled(c, row.get(c)) for c in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _styled(column: str, value: Any) -> str:
    text = _cell(value).replace("[", r"\[")
    style = STATE_STYLE.get(str(value)) if column in ("state", "status") else None
    if column == "status" and value in ("pass", "fail"):
        style = "green" if value == "pass" else "bold red"
    return f"[{style}]{text}[/]" if style else text


def _status_table(
    statuses: list[ControlStatus],
    fmt: Format,
    *,
    automated_only: bool = False,
    extra: dict[str, dict[str, Any]] | None = None,
) -> None:
    """All controls as JSON/CSV; as a table, optionally only those with automated evidence.
    ``extra`` adds fields per control id (continuity, gaps)."""
    fields = extra or {}
    added = list(next(iter(fields.values()), {}))
    if fmt is not Format.table:
        emit([r | fields.get(r["control"], {}) for r in report.status_rows(statuses)], fmt)
        return
    manual, excluded = status_module.ControlState.MANUAL, status_module.ControlState.NOT_APPLICABLE
    quiet = {manual, excluded} if automated_only else set()
    rows = report.status_rows([s for s in statuses if s.state not in quiet])
    for row in rows:
        row |= fields.get(row["control"], {})
        if "gaps" in row:
            more = len(row["gaps"]) - 1
            row["gaps"] = row["gaps"][:1] + ([f"(+{more} more)"] if more > 0 else [])
        if row.get("continuity") is not None:
            row["continuity"] = f"{row['continuity']}%"
        row["state"] = row["state"] + (" (at risk)" if row["at_risk"] else "")
        worst = [r for r in row["reasons"] if r.startswith(row["state"].split()[0])] or row[
            "reasons"
        ]
        extra = len(row["reasons"]) - 1
        row["reasons"] = worst[:1] + ([f"(+{extra} more)"] if extra > 0 else [])
    emit(
        rows,
        fmt,
        title="Annex A control status",
        columns=["control", "title", "state", "owner", "last_evidence_at", *added, "reasons"],
    )
    counts = status_module.summarise(statuses)
    line = "  ".join(f"{state.value}: {n}" for state, n in counts.items() if n)
    out.print(f"[bold]{len(statuses)} controls[/]  {line}")
    if quiet:
        out.print("manual and not-applicable controls: [bold]annexa status[/] lists every control")


def _parse_fail_on(values: list[str] | None, option: str = "--fail-on") -> set[str]:
    states = {s.lower() for s in _many(values) or ()}
    known = {s.value for s in status_module.ControlState} | {"at_risk"}
    unknown = states - known
    if unknown:
        raise UserError(
            f"{option}: unknown state(s) {', '.join(sorted(unknown))} "
            f"(choose from {', '.join(sorted(known))})"
        )
    return states


def _gate(statuses: list[ControlStatus], states: set[str]) -> int:
    """Exit code 1 when any control is in one of ``states`` (CI gating), else 0."""
    hit = [s for s in statuses if s.state.value in states or ("at_risk" in states and s.at_risk)]
    if hit:
        err.print(
            f"annexa: {len(hit)} control(s) in {', '.join(sorted(states))}: "
            + ", ".join(s.control.id for s in hit[:20])
            + (" ..." if len(hit) > 20 else "")
        )
        return 1
    return 0


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Any, Any]]:
    """The runner's plan and record callbacks drawing a bar with ETA (on a terminal only)."""
    with progress.progress_bar(err, "collecting", "checks") as update:
        if update is None or not enabled:
            yield None, None
            return
        planned: list[int | None] = [None]
        done = [0]

        def on_plan(total: int) -> None:
            planned[0] = total
            update(done[0], total)

        def on_record(record: Any) -> None:
            done[0] += 1
            update(done[0], planned[0], record.check_id)

        yield on_plan, on_record


def _notices(notice: str | None, missing: list[str], soa_name: str) -> None:
    """Tell the user which SoA is used and which controls it does not mention."""
    if notice:
        err.print(f"[yellow]note:[/] {notice}")
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        err.print(
            f"[yellow]note:[/] {len(missing)} control(s) missing from the SoA {soa_name} "
            f"(evaluated as applicable): {shown}"
        )


def _audit_output(audit: core.Audit, fmt: Format, fail_on: list[str] | None) -> None:
    states = _parse_fail_on(fail_on)
    _notices(audit.notice, audit.missing, audit.soa.path.name)
    _status_table(audit.statuses, fmt, automated_only=True)
    if fmt is Format.table:
        counts = audit.result.counts()
        out.print(
            f"run {audit.result.run_id} {audit.result.outcome}: {len(audit.result.records)} "
            "evidence records (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")"
        )
        for line in audit.regions():
            out.print(f"regions audited: {line}")
    raise typer.Exit(_gate(audit.statuses, states))


def _examples(*lines: str) -> str:
    """A command's help epilog: its examples, one per line (a code block in docs/cli.md)."""
    return "Examples:\n\n" + "\n".join(f"    {line}" for line in lines)


# -- commands ------------------------------------------------------------------------------


@app.command(
    epilog=_examples(
        "annexa run",
        "annexa run --provider aws --fail-on failing,error",
        "annexa run --check aws.s3.public_access_blocked --format json",
    )
)
def run(
    ctx: typer.Context,
    soa: SoaOption = None,
    check: CheckOption = None,
    provider: Annotated[str | None, _provider_option("Only this provider's checks")] = None,
    fail_on: FailOnOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """One-off audit run: collect evidence now, then show every control's status."""
    settings = _settings(ctx)
    if provider == "osquery":  # asking for it is consent to audit this machine
        settings.osquery.enabled = True
    _parse_fail_on(fail_on)
    workspace = core.load_workspace(settings)
    checks = workspace.checks(ids=_many(check), provider=provider)
    chosen_soa, notice = workspace.soa(soa)
    with (
        sigterm_interrupts(),  # the runner records the run as interrupted
        core.open_store(settings) as store,
        _progress(err.is_terminal and fmt is Format.table) as (on_plan, on_record),
    ):
        audit = core.run_audit(
            workspace, store, chosen_soa, checks, on_plan=on_plan, on_record=on_record
        )
    audit.notice = notice
    _audit_output(audit, fmt, fail_on)


@app.command(
    epilog=_examples(
        "annexa daemon", "annexa --config /etc/annexa/annexa.yaml daemon --host 0.0.0.0 --port 9108"
    )
)
def daemon(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option(
            "--host", help="Address /healthz and /metrics listen on (default: the config's)."
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port", min=0, max=65535, help="Their port (default: the config's, 9108; 0: any)."
        ),
    ] = None,
    example_soa: ExampleSoaOption = False,
) -> None:
    """Collect continuously: every check on its interval, alerts on status changes,
    /healthz, /livez and /metrics. SIGHUP reloads the config; SIGTERM stops after running
    checks."""
    import os

    from collector.daemon import Daemon

    def listening(settings: Settings) -> Settings:
        settings.daemon.host = host if host is not None else settings.daemon.host
        settings.daemon.port = port if port is not None else settings.daemon.port
        return settings

    settings = listening(_settings(ctx))
    if not example_soa:
        core.load_workspace(settings).soa(None, refuse_example="--example-soa")
    code = Daemon(
        settings,
        reload=lambda: listening(
            settings_module.load_settings(
                settings.config_path,
                database_url=settings.database_url,
                log_format=settings.log_format,
            )
        ),
    ).run()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # abandoned (timed-out) check threads must not hold the exit


@app.command(
    epilog=_examples(
        "annexa --config /etc/annexa/annexa.yaml worker",
        "annexa worker --queues aws --concurrency 8",
    )
)
def worker(
    ctx: typer.Context,
    queues: Annotated[
        list[str] | None,
        typer.Option(
            "--queues",
            help="Providers whose queues to consume, repeatable or comma-separated (default: all).",
        ),
    ] = None,
    concurrency: Annotated[
        int, typer.Option("--concurrency", min=1, max=256, help="Tasks run at once.")
    ] = 2,
    pool: Annotated[
        str,
        typer.Option("--pool", help="Celery pool: prefork (processes), threads or solo."),
    ] = "prefork",
    hostname: Annotated[
        str | None, typer.Option("--hostname", help="Worker name (default: celery@host).")
    ] = None,
) -> None:
    """Collect for a daemon with executor: celery: a Celery worker taking due (check, target)
    batches from the broker and appending their sealed evidence to the shared store."""
    from collector.worker.app import run_worker

    if pool not in ("prefork", "threads", "solo"):
        raise UserError(f"--pool: {pool!r} is not prefork, threads or solo")
    raise typer.Exit(
        run_worker(
            _settings(ctx),
            providers=_many(queues) or (),
            concurrency=concurrency,
            pool=pool,
            hostname=hostname,
        )
    )


@app.command(
    epilog=_examples(
        "annexa serve",
        "annexa serve --host 0.0.0.0 --port 8080",
    )
)
def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None, typer.Option("--host", help="Bind address (default: web.host, 127.0.0.1).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=0, max=65535, help="Port (default: web.port).")
    ] = None,
) -> None:
    """The web console: overview, controls, evidence, exceptions, audit package download.

    Beyond loopback it refuses to start without web.oidc or web.tokens (see README: Web
    console).
    """
    from collector.web.server import serve as serve_console

    serve_console(_settings(ctx), host=host, port=port)


@app.command(
    epilog=_examples(
        "annexa status --state failing --state error",
        "annexa status --at 2026-03-31T12:00:00Z",
        "annexa status --from 2025-04-01 --to 2026-03-31 --format csv",
        "annexa status --fail-on failing,stale",
        "annexa status --provider aws --check aws.s3.public_access_blocked",
    )
)
def status(
    ctx: typer.Context,
    soa: SoaOption = None,
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help=f"Only controls in these states ({_REPEAT})."),
    ] = None,
    fail_on: FailOnOption = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Status as it stood at this instant (stored evidence only)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="Continuity period start (with --to; default end: now)."),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="Continuity period end (a date includes that whole day)."),
    ] = None,
    check: CheckOption = None,
    provider: Annotated[str | None, _provider_option("Judge only this provider's checks")] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Every Annex A control's status from stored evidence (no collection), judged over the
    checks in scope; with --from/--to also each control's continuity (share of time with fresh
    passing evidence) and gaps, up to now at the latest."""
    settings = _settings(ctx)
    states = _parse_fail_on(fail_on)
    wanted = _parse_fail_on(state, "--state") if state else None
    now = utcnow()
    when = audit.parse_instant(at, "--at") if at else None
    if when is not None and when > now:
        raise UserError(f"--at {report.iso(when)} is in the future (now is {report.iso(now)})")
    period = audit.parse_period(start, end, now)
    clipped = audit.clip_period(*period, now) if period is not None else None
    workspace = core.load_workspace(settings, metadata_only=True)
    workspace.checks(ids=_many(check), provider=provider)  # a bad selection: before the store
    chosen_soa, notice = workspace.soa(soa)
    _notices(notice, chosen_soa.missing(workspace.catalogue), chosen_soa.path.name)
    extra = None
    with core.open_store(settings) as store:
        scope = workspace.scope(ids=_many(check), provider=provider, store=store)
        latest = store.latest() if clipped is None and when is None else None  # read once
        scope = workspace.with_history(scope, store, latest=latest)
        if clipped is not None:
            begin, until, note = clipped
            if note:
                err.print(f"[yellow]note:[/] {note}")
            result = audit.status_over_period(
                workspace, store, chosen_soa, start=begin, end=until, at=when or until, scope=scope
            )
            statuses = result.statuses
            extra = audit.continuity_fields(result, structured=fmt is Format.json)
        elif when is not None:
            statuses = audit.statuses_at(workspace, store, chosen_soa, when, scope)
        else:
            statuses = workspace.statuses(store, chosen_soa, now, scope, latest)
    shown = [
        s
        for s in statuses
        if wanted is None or s.state.value in wanted or ("at_risk" in wanted and s.at_risk)
    ]
    _status_table(shown, fmt, extra=extra)
    raise typer.Exit(_gate(statuses, states))


@app.command(
    epilog=_examples("annexa controls --manual", "annexa controls --provider azure --format json")
)
def controls(
    ctx: typer.Context,
    provider: Annotated[
        str | None, _provider_option("Coverage by this provider's checks only")
    ] = None,
    automated: Annotated[
        bool | None,
        typer.Option(
            "--automated/--manual", help="Only controls with (or without) automated checks."
        ),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The 93 Annex A controls with the checks that give evidence for each, and whether one
    of them is in scope for this configuration."""
    workspace = core.load_workspace(_settings(ctx), metadata_only=True)
    rows = report.control_rows(workspace, provider)
    covered = sum(r["automated"] for r in rows)
    in_scope = sum(r["in_scope"] for r in rows)
    if automated is not None:
        rows = [r for r in rows if r["automated"] is automated]
    emit(
        rows,
        fmt,
        title="Annex A 2022 controls",
        columns=["control", "title", "theme", "automated", "in_scope", "checks"],
    )
    if fmt is Format.table:
        out.print(
            f"{covered} of {len(workspace.catalogue.controls)} controls have automated "
            f"evidence{' from ' + provider if provider else ''} in the catalogue, {in_scope} in "
            "scope (providers configured, checks selected)"
        )


@app.command(
    "checks",
    epilog=_examples(
        "annexa checks --provider gcp", "annexa checks --control A.8.24 --format json"
    ),
)
def list_checks(
    ctx: typer.Context,
    provider: Annotated[str | None, _provider_option("Only this provider")] = None,
    control: Annotated[
        str | None,
        typer.Option("--control", help="Only checks mapped to this control (e.g. A.8.24)."),
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """The registered checks, their metadata, mapped controls and permissions."""
    workspace = core.load_workspace(_settings(ctx), metadata_only=True)
    rows = report.check_rows(workspace, workspace.checks(provider=provider, control=control))
    emit(
        rows,
        fmt,
        title="Checks",
        columns=["id", "title", "severity", "interval", "scope", "controls"],
    )


@evidence_app.command(
    "show",
    epilog=_examples(
        "annexa evidence show --control A.8.5",
        "annexa evidence show --check aws.iam.root_mfa_enabled --full --format json",
    ),
)
def evidence_show(
    ctx: typer.Context,
    control: Annotated[str | None, typer.Option("--control", help="History of a control.")] = None,
    check: Annotated[str | None, typer.Option("--check", help="History of a check.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=MAX_LIMIT, help="Newest N records.")
    ] = 20,
    full: Annotated[
        bool, typer.Option("--full", help="Include findings and observations (JSON output).")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Evidence history for a control or a check, newest first."""
    if (control is None) == (check is None):
        raise UserError("evidence show: give exactly one of --control or --check")
    workspace = core.load_workspace(_settings(ctx))
    if control is not None:
        check_ids = [c.id for c in workspace.checks(control=control, allow_none=True)]
    else:
        check_ids = [c.id for c in workspace.registry.select(ids=[check])]  # type: ignore[list-item]
    with core.open_store(_settings(ctx)) as store:
        records = store.history(check_ids=check_ids, limit=limit) if check_ids else []
    rows = report.evidence_rows(records, full=full and fmt is not Format.table)
    emit(
        rows,
        fmt,
        title=f"Evidence for {control or check}",
        columns=["id", "collected_at", "check", "target", "status", "summary", "hash"],
    )


@app.command(epilog=_examples("annexa runs --limit 5"))
def runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", min=1, max=MAX_LIMIT)] = 20,
    fmt: FormatOption = Format.table,
) -> None:
    """Recent collection runs and their outcome (complete, partial, interrupted)."""
    with core.open_store(_settings(ctx)) as store:
        rows = report.run_rows(store.runs(limit))
    emit(rows, fmt, title="Runs")


@app.command(epilog=_examples("annexa demo", "annexa demo --format json"))
def demo(
    ctx: typer.Context,
    fail_on: FailOnOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Audit a simulated AWS account (moto) into a local demo database, and show the status."""
    from collector.demo import run_demo, show_command

    settings = _settings(ctx)
    _parse_fail_on(fail_on)
    with _progress(err.is_terminal and fmt is Format.table) as (on_plan, on_record):
        audit = run_demo(settings, on_plan=on_plan, on_record=on_record)
    err.print(
        f"[bold]demo:[/] simulated AWS account audited into {audit.store_url}, "
        f"status for the example SoA {audit.soa.path.name}; see it again with:\n"
        f"  {show_command(settings)}"
    )
    _audit_output(audit, fmt, fail_on)


@app.command(
    "permissions",
    epilog=_examples(
        "annexa permissions aws > annexa-policy.json",
        "annexa permissions entra --check entra.users.mfa_registered",
    ),
)
def permissions_cmd(
    ctx: typer.Context,
    provider: Annotated[
        str,
        typer.Argument(
            help=f"The provider: {', '.join(PROVIDERS)}.", autocompletion=_complete_provider
        ),
    ],
    check: CheckOption = None,
) -> None:
    """Print the read-only permissions the selected checks need (AWS: an IAM policy)."""
    workspace = core.load_workspace(_settings(ctx))
    checks = [c for c in workspace.checks(ids=_many(check)) if provider in c.providers]
    document = core.permissions(workspace, provider, checks)
    sys.stdout.write(json.dumps(document, indent=2) + "\n")


@db_app.command(
    "upgrade",
    epilog=_examples("annexa --database postgresql+psycopg://annexa@db/annexa db upgrade"),
)
def db_upgrade(ctx: typer.Context) -> None:
    """Create or migrate the evidence database to the current schema."""
    from storage import StoreError, upgrade

    url = _settings(ctx).store_url
    try:
        revision = upgrade(url)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    out.print(f"evidence database at revision {revision}")


# -- audit evidence: manual evidence, exceptions, verify, prune ------------------------------


@evidence_app.command(
    "add",
    epilog=_examples(
        "annexa evidence add --control A.5.1 --file policy.pdf --valid-for 365d "
        "--note 'ISMS policy v3, board approved'"
    ),
)
def evidence_add(
    ctx: typer.Context,
    control: Annotated[str, typer.Option("--control", help="Control id (2022, or 2013).")],
    file: Annotated[Path, typer.Option("--file", help="The evidence file (at most 50 MB).")],
    valid_for: Annotated[
        str, typer.Option("--valid-for", help="Validity from now, e.g. 365d, 13w, P1Y.")
    ],
    note: Annotated[str, typer.Option("--note", help="What the file shows.")] = "",
    by: Annotated[
        str | None, typer.Option("--by", help="Who uploads it (default: the OS user).")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Store a manual evidence file for a control (content-addressed, in the database)."""
    workspace = core.load_workspace(_settings(ctx))
    with core.open_store(_settings(ctx)) as store:
        now = utcnow()
        items = audit.add_manual_evidence(
            workspace,
            store,
            control=control,
            path=file,
            valid_for=valid_for,
            note=note,
            by=by,
            now=now,
        )
    emit(
        audit.manual_rows(items, now),
        fmt,
        title="Manual evidence stored",
        columns=["id", "control", "file", "sha256", "valid_until", "uploaded_by"],
    )


@evidence_app.command(
    "list", epilog=_examples("annexa evidence list", "annexa evidence list --control A.5.1 --all")
)
def evidence_list(
    ctx: typer.Context,
    control: Annotated[str | None, typer.Option("--control", help="Only this control.")] = None,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include superseded and expired items.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Manual evidence items: the current one per control, or every one with --all."""
    workspace = core.load_workspace(_settings(ctx))
    with core.open_store(_settings(ctx)) as store:
        now = utcnow()
        items = audit.list_manual_evidence(
            workspace, store, control=control, include_all=include_all, now=now
        )
    emit(
        audit.manual_rows(items, now),
        fmt,
        title="Manual evidence",
        columns=["id", "control", "file", "sha256", "uploaded_at", "valid_until", "state", "note"],
    )


@evidence_app.command("get", epilog=_examples("annexa evidence get 3f5a... --out policy.pdf"))
def evidence_get(
    ctx: typer.Context,
    sha256: Annotated[str, typer.Argument(help="SHA-256 of the stored file.")],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the file.")],
) -> None:
    """Write a stored manual evidence file back to disk."""
    with core.open_store(_settings(ctx)) as store:
        size = audit.write_manual_file(store, sha256, out_file)
    out.print(f"wrote {size} bytes to {out_file}")


@exception_app.command(
    "add",
    epilog=_examples(
        "annexa exception add --check aws.s3.public_access_blocked "
        "--resource 'arn:aws:s3:::www-*' --reason 'public website' "
        "--approved-by ciso@example.com --expires 2026-12-31"
    ),
)
def exception_add(
    ctx: typer.Context,
    check: Annotated[str, typer.Option("--check", help="The check id the exception is for.")],
    resource: Annotated[str, typer.Option("--resource", help="Resource pattern (fnmatch).")],
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why the risk is accepted.")
    ] = None,
    approved_by: Annotated[
        str | None, typer.Option("--approved-by", help="Who approved it.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Expiry date (end of that day, UTC).")
    ] = None,
    target: Annotated[
        str, typer.Option("--target", help="Target pattern, e.g. aws:1234*:eu-*.")
    ] = "*",
    by: Annotated[
        str | None, typer.Option("--by", help="Who records it (default: OS user).")
    ] = None,
    fmt: FormatOption = Format.table,
) -> None:
    """Record an approved exception: matching failing findings count as accepted until expiry."""
    workspace = core.load_workspace(_settings(ctx))
    with core.open_store(_settings(ctx)) as store:
        now = utcnow()
        added = audit.add_exception(
            workspace,
            store,
            check=check,
            resource=resource,
            reason=reason,
            approved_by=approved_by,
            expires=expires,
            target=target,
            by=by,
            now=now,
        )
    emit(
        audit.exception_rows([added], now),
        fmt,
        title="Exception recorded",
        columns=["id", "check", "resource", "target", "approved_by", "expires_at"],
    )


@exception_app.command("list", epilog=_examples("annexa exception list --all"))
def exception_list(
    ctx: typer.Context,
    include_all: Annotated[
        bool, typer.Option("--all", help="Include expired and revoked exceptions.")
    ] = False,
    fmt: FormatOption = Format.table,
) -> None:
    """Active exceptions (every one with --all)."""
    with core.open_store(_settings(ctx)) as store:
        now = utcnow()
        found = audit.list_exceptions(store, include_all=include_all, now=now)
    emit(
        audit.exception_rows(found, now),
        fmt,
        title="Exceptions",
        columns=[
            "id",
            "check",
            "resource",
            "target",
            "approved_by",
            "expires_at",
            "state",
            "reason",
        ],
    )


@exception_app.command(
    "revoke", epilog=_examples("annexa exception revoke 7 --reason 'website moved to CloudFront'")
)
def exception_revoke(
    ctx: typer.Context,
    exception_id: Annotated[int, typer.Argument(min=1, max=MAX_ID, help="The exception's id.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is revoked.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who revokes it.")] = None,
) -> None:
    """Revoke an exception (recorded as a new row; nothing is deleted)."""
    with core.open_store(_settings(ctx)) as store:
        revoked = audit.revoke_exception(store, exception_id, reason=reason, by=by, now=utcnow())
    out.print(f"exception #{revoked.id} revoked at {report.iso(revoked.revoked_at)}")


@app.command(
    epilog=_examples(
        "annexa verify", "annexa verify --package audit-2026.zip --public-key signer.pub"
    )
)
def verify(
    ctx: typer.Context,
    package: Annotated[
        Path | None, typer.Option("--package", help="Verify an export package instead.")
    ] = None,
    public_key: Annotated[
        list[Path] | None,
        typer.Option(
            "--public-key",
            help="A trusted signer's public key (PEM; a file may hold several). Repeatable.",
        ),
    ] = None,
    require_signature: Annotated[
        bool,
        typer.Option("--require-signature", help="With --package: fail an unsigned package."),
    ] = False,
) -> None:
    """Recompute every evidence hash, the chain, the ledger and manual evidence file hashes,
    and check the store against its anchored checkpoints; with --package: check an export
    package's files, signature, checkpoints, record seals and chain links, and rebuild its
    reports from its records to compare them."""
    keys = public_key or []
    if package is not None:
        from collector.export.cli import verify_package_command

        raise typer.Exit(verify_package_command(package, keys, require_signature, out, err))
    if require_signature:
        raise UserError("--require-signature needs --package")
    from collector.anchoring import verify_store

    settings = _settings(ctx)
    with (
        core.open_store(settings) as store,
        progress.progress_bar(err, "verifying", "records") as update,
    ):
        checked = verify_store(store, settings, keys, update)
        rederived = checked.report.problem is None and store.refresh_summary()
    result = checked.report
    if rederived:
        err.print(
            "annexa: the run summary (a cache of the records for point-in-time and period "
            "reads) did not match the records; derived it again from them"
        )
    if result.problem is None:
        out.print(
            f"{result.records} records verified, chain intact "
            f"({result.blobs} manual evidence files, {result.items} items and exceptions, "
            f"{result.tombstones} prune tombstones, {result.ledger} ledger entries)"
        )
        if checked.anchors:
            out.print(
                f"anchored: {result.checkpoints} signed checkpoints in "
                f"{', '.join(checked.anchors)} agree with the store; "
                f"{result.unanchored} records since the newest are not anchored yet"
            )
        else:
            out.print(
                f"unanchored: no checkpoint anchor is configured, so a rewrite of the whole "
                f"store cannot be told apart. Record these to compare later: "
                f"head {result.head}, {result.position} records, "
                f"ledger head {result.ledger_head}, {result.ledger} entries"
            )
        raise typer.Exit(0)
    where = f"record {result.problem.record_id}: " if result.problem.record_id else ""
    if result.problem.kind not in ("hash_mismatch", "chain_link", "observation_content"):
        where = "" if result.problem.kind != "unsealed_column" else where
    err.print(f"annexa: verify failed ({result.problem.kind}): {where}{result.problem.detail}")
    raise typer.Exit(1)


@app.command(
    epilog=_examples(
        "annexa export --from 2025-04-01 --to 2026-03-31 --out audit-2026.zip",
        "annexa export --from 2026-01-01 --to 2026-03-31 --out q1.zip "
        "--control A.5.15,A.8.24 --sign-key signer.pem",
    )
)
def export(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="Period start (date or ISO time, UTC).")],
    end: Annotated[str, typer.Option("--to", help="Period end (a date includes that whole day).")],
    out_file: Annotated[Path, typer.Option("--out", help="The package to write (.zip).")],
    controls: Annotated[
        list[str] | None,
        typer.Option(
            "--control", "--controls", help=f"Only these controls ({_REPEAT}), e.g. A.8.24."
        ),
    ] = None,
    sign_key: Annotated[
        Path | None, typer.Option("--sign-key", help="Ed25519 private key (PEM) to sign with.")
    ] = None,
    soa: SoaOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --out file.")] = False,
    example_soa: ExampleSoaOption = False,
) -> None:
    """Write a self-contained audit evidence package for a period (see README: Audit evidence).
    A period reaching past now stops at now."""
    from collector.export.cli import export_command

    export_command(
        _settings(ctx),
        start,
        end,
        out_file,
        _many(controls),
        sign_key,
        soa,
        force,
        out,
        err,
        example_soa=example_soa,
    )


class TrendUnit(StrEnum):
    """How ``report`` slices the period for trends."""

    month = "month"
    week = "week"


@app.command(
    "report",
    epilog=_examples(
        "annexa report --from 2025-04-01 --to 2026-03-31 --out review.html --out review.pdf",
        "annexa report --from 2026-01-01 --to 2026-03-31 --by week --out q1.xlsx",
    ),
)
def review_report(
    ctx: typer.Context,
    start: Annotated[str, typer.Option("--from", help="Period start (date or ISO time, UTC).")],
    end: Annotated[str, typer.Option("--to", help="Period end (a date includes that whole day).")],
    out_files: Annotated[
        list[Path],
        typer.Option(
            "--out",
            help="File to write; the suffix picks the format (.html .pdf .csv .xlsx "
            ".json). Repeatable.",
        ),
    ],
    by: Annotated[TrendUnit, typer.Option("--by", help="Trend slices.")] = TrendUnit.month,
    expiring_within: Annotated[
        str, typer.Option("--expiring-within", help="Manual evidence expiring within, e.g. 30d.")
    ] = "30d",
    soa: SoaOption = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing --out files.")] = False,
) -> None:
    """Management review input (clauses 9.1, 9.3): measures and trends over a period.

    Example: annexa report --from 2026-07-01 --to 2026-09-30 --out q3.pdf --out q3.xlsx
    """
    from collector.review.command import report_command

    report_command(
        _settings(ctx),
        start,
        end,
        out_files,
        soa=soa,
        by=by.value,
        expiring=expiring_within,
        force=force,
        out=out,
        err=err,
    )


@app.command(epilog=_examples("annexa prune --before 2023-01-01 --yes"))
def prune(
    ctx: typer.Context,
    before: Annotated[str, typer.Option("--before", help="Delete records collected before.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete old evidence records, leaving a tombstone so the chain still verifies."""
    cutoff = audit.parse_instant(before, "--before")
    with core.open_store(_settings(ctx)) as store:
        now = utcnow()
        count = audit.prunable(store, cutoff, now)
        if count and not yes:
            if not sys.stdin.isatty():
                raise UserError("prune: not a terminal; pass --yes to delete without asking")
            typer.confirm(
                f"Delete {count} evidence records collected before {report.iso(cutoff)}?",
                abort=True,
            )
        tombstone = audit.prune(store, cutoff, now)
    if tombstone is None:
        out.print(f"nothing to prune before {report.iso(cutoff)}")
        return
    out.print(
        f"pruned {tombstone.count} records (#{tombstone.first_id}-#{tombstone.last_id}); "
        f"tombstone #{tombstone.id} keeps the chain (last hash {tombstone.last_hash[:12]})"
    )


def _store_errors() -> tuple[type[Exception], ...]:
    """The store's error type, if the store was loaded (else none can have been raised)."""
    errors = sys.modules.get("storage.errors")
    return (errors.StoreError,) if errors is not None else ()


def _narrowed(args: list[str]) -> typer.Typer:
    """``app`` with only the command or group that ``args`` start with, when they start with
    one: typer builds the click objects of every command (about 30 ms of a start-up) before
    running one, and only the one named can run. Anything else (the group's options first, no
    command, an unknown one, completion) gets the whole app."""
    if not args:
        return app
    commands = [info for info in app.registered_commands if _command_name(info) == args[0]]
    groups = [info for info in app.registered_groups if info.name == args[0]]
    if not commands and not groups:
        return app
    narrowed = copy.copy(app)
    narrowed.registered_commands, narrowed.registered_groups = commands, groups
    return narrowed


def _command_name(info: Any) -> str:
    """The name typer gives a registered command (its function's, dashed, unless named)."""
    return str(info.name or typer.main.get_command_name(info.callback.__name__))


def main() -> None:
    """Console entry point: user errors are one line on stderr and exit code 2."""
    try:
        code = _narrowed(sys.argv[1:])(standalone_mode=False)
    except (UserError, *_store_errors()) as exc:
        sys.stderr.write(f"annexa: error: {' '.join(str(exc).split())}\n")
        sys.exit(2)
    except typer.Abort:
        err.print("annexa: aborted")
        sys.exit(130)
    except typer.TyperException as exc:
        sys.exit(_usage_error(exc))
    except KeyboardInterrupt:
        err.print("annexa: interrupted")
        sys.exit(130)
    except Exception as exc:  # a bug: one line for the user, the traceback in the debug log
        logs.get_logger("annexa").debug("internal error", exc_info=True)
        sys.stderr.write(
            f"annexa: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
            "(run with --verbose for the traceback)\n"
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


def _usage_error(exc: typer.TyperException) -> int:
    """A usage error as one line naming the command (help stays whole when asked for by
    giving no arguments); returns the exit code, 2."""
    if type(exc).__name__ == "NoArgsIsHelpError" or not hasattr(exc, "format_message"):
        exc.show()  # type: ignore[attr-defined]
        return int(getattr(exc, "exit_code", 2))
    ctx = getattr(exc, "ctx", None)
    where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    message = " ".join(exc.format_message().split())
    sys.stderr.write(f"annexa: error: {message}{where}\n")
    return int(getattr(exc, "exit_code", 2))


if __name__ == "__main__":
    main()
