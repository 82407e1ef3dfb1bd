"""What each CLI command does, as plain functions: the CLI parses, calls one, and renders."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

from checks.api import CheckSpec
from collector.accounts import Account
from collector.catalogue import Catalogue, load_catalogue
from collector.clock import utcnow
from collector.errors import UserError
from collector.logs import get_logger
from collector.manifest import Manifest, load_index
from collector.mapping import Mapping, load_mapping
from collector.providers import (
    configured_providers,
    configured_targets,
    discovered_targets,
    resolve_accounts,
)
from collector.settings import Settings
from collector.soa import Soa, load_soa
from collector.status import ControlStatus, Scope, evaluate, retire
from storage import EvidenceRecord, EvidenceSummary, StoreError
from storage.errors import mask_url

if TYPE_CHECKING:  # the registry and runner import every check module: only runs need them
    from collector.registry import Registry
    from collector.runner import RunResult
    from storage import EvidenceStore  # SQLAlchemy: only commands that open the store


def example_soa_path() -> Path:
    """The example SoA shipped with annexa (a fictional cloud-native SaaS company)."""
    return Path(str(files("mappings.annex_a") / "soa.example.yaml"))


@dataclass(frozen=True)
class Workspace:
    """Settings plus everything loaded and cross-validated from them."""

    settings: Settings
    #: the full registry, or only the checks' metadata for read-only commands (``load_workspace``)
    registry: Registry | Manifest
    catalogue: Catalogue
    mapping: Mapping

    def checks(
        self,
        *,
        ids: Sequence[str] | None = None,
        provider: str | None = None,
        control: str | None = None,
        allow_none: bool = False,
    ) -> list[CheckSpec]:
        """Selected checks: explicit ids, else the config's list, minus its exclusions. A
        selection that matches no check is a UserError unless ``allow_none``."""
        chosen = self.registry.select(provider=provider, ids=ids or self.settings.checks)
        if control is not None:
            if control not in self.catalogue:
                raise UserError(f"unknown control id {control!r} (expected e.g. A.8.24)")
            mapped = set(self.mapping.checks_for(control))
            chosen = [c for c in chosen if c.id in mapped]
        excluded = set(self.settings.exclude_checks)
        chosen = [c for c in chosen if c.id not in excluded]
        if not chosen and not allow_none:
            asked = [
                f"--check {', '.join(ids)}" if ids else "",
                f"--provider {provider}" if provider else "",
                f"--control {control}" if control else "",
                "the config's checks/exclude_checks" if self.settings.checks or excluded else "",
            ]
            raise UserError(f"no check matches {' and '.join(a for a in asked if a) or 'at all'}")
        return chosen

    def scope(
        self,
        *,
        ids: Sequence[str] | None = None,
        provider: str | None = None,
        targets: Iterable[str] | None = None,
        store: EvidenceStore | None,
    ) -> Scope:
        """What status is judged over: the selected checks (``ids`` or the config's list,
        minus its exclusions, ``provider``'s only) of the configured providers, on the
        targets the config names, and, for a provider with an entry whose accounts only
        resolution tells, the accounts its newest run in ``store`` covered
        (``providers.discovered_targets``). ``targets``: only these target keys (the daemon's
        resolved targets: then the store is not read)."""
        configured = configured_providers(self.settings)
        chosen = self.checks(ids=ids, provider=provider)
        accounts, regions = configured_targets(self.settings)
        discovered = discovered_targets(self.settings)
        if targets is None and store is not None and discovered:
            found = store.run_accounts(discovered)
            accounts |= {p: named | found[p] for p, named in discovered.items() if p in found}
        return Scope(
            frozenset(c.id for c in chosen if c.provider in configured),
            {c.id: c.provider for c in self.registry.checks.values()},
            frozenset(targets) if targets is not None else None,
            accounts,
            regions,
        )

    def with_history(
        self,
        scope: Scope,
        store: EvidenceStore,
        checks: Iterable[str] | None = None,
        latest: Sequence[EvidenceSummary] | None = None,
    ) -> Scope:
        """``scope`` with each target no longer in it counted for the time it existed
        (``status.retire``): what views of the past (``--at``, a period) need. ``checks``: only
        these checks' targets (what the view reads), default every check in scope.
        ``latest``: ``store.latest()`` when the caller has read it already."""
        if not scope.narrowed:  # nothing can retire: skip the read
            return scope
        wanted = scope.checks if checks is None else scope.checks & set(checks)
        if latest is None:
            latest = store.latest(sorted(wanted))
        return retire(scope, (item for item in latest if item.check_id in wanted))

    def intervals(self) -> dict[str, timedelta]:
        """Each registered check's run interval."""
        return {c.id: c.interval for c in self.registry.checks.values()}

    def soa(
        self, path: Path | None, *, refuse_example: str | None = None
    ) -> tuple[Soa, str | None]:
        """The SoA from ``path``, else the config's, else the example (with a notice).
        ``refuse_example`` names the option that allows the example: without a SoA given, a
        UserError naming it instead (``export`` and ``daemon``: the example's fictional owners
        must not reach an audit package or a long-lived deployment unnoticed)."""
        chosen = path or self.settings.soa
        notice = None
        if chosen is None and refuse_example is not None:
            raise UserError(
                "no SoA given (--soa or 'soa:' in the config); refusing the fictional example "
                f"SoA here: pass {refuse_example} to use it anyway"
            )
        if chosen is None:
            chosen = example_soa_path()
            notice = f"no SoA given (--soa or 'soa:' in config): using the example SoA {chosen}"
        return load_soa(chosen, self.catalogue), notice

    def statuses(
        self,
        store: EvidenceStore,
        soa: Soa | None,
        now: datetime,
        scope: Scope | None = None,
        latest: Sequence[EvidenceSummary] | None = None,
    ) -> list[ControlStatus]:
        """Every control's status from the store's latest evidence (``latest``: as read
        already by ``store.latest()``), manual evidence and exceptions at ``now``, over
        ``scope`` (default: the config's)."""
        return evaluate(
            self.catalogue,
            soa,
            self.mapping,
            store.latest() if latest is None else latest,
            self.intervals(),
            now,
            scope=scope or self.scope(store=store),
            manual=store.manual_items(),
            exceptions=store.exceptions(),
        )


def load_workspace(settings: Settings, *, metadata_only: bool = False) -> Workspace:
    """Load the registry, catalogue and mapping (built-in plus the config's extra files).
    ``metadata_only``: commands that run no check may get the checks' metadata from the
    shipped manifest instead (``collector.manifest``), without importing the check modules."""
    if metadata_only:
        registry: Registry | Manifest = load_index()
    else:
        from collector.registry import load_registry

        registry = load_registry()
    catalogue = load_catalogue()
    mapping = load_mapping(catalogue, registry.checks.keys(), settings.mappings)
    _validate_ids(settings, registry, catalogue)
    return Workspace(settings, registry, catalogue, mapping)


def _validate_ids(settings: Settings, registry: Registry | Manifest, catalogue: Catalogue) -> None:
    """Ids the config names must exist: a typo must not silently select or exclude nothing."""
    for field in ("checks", "exclude_checks"):
        unknown = [i for i in getattr(settings, field) or () if i not in registry.checks]
        if unknown:
            raise UserError(f"{field}: unknown check id(s) {', '.join(unknown)}")
    unknown = [k for k in settings.schedule.intervals if k not in registry.checks]
    unknown = [k for k in unknown if k not in catalogue]
    if unknown:
        raise UserError(
            f"schedule.intervals: {', '.join(unknown)} is neither a check id nor a control id"
        )


def permissions(workspace: Workspace, provider: str, checks: Sequence[CheckSpec]) -> Any:
    """What to grant, read-only, so ``checks`` can read ``provider`` (their own provider's, or
    a cross-provider check's inputs from it)."""
    from collector.providers import render_permissions

    declared = {p for c in checks for p in workspace.registry.permissions_for(c, provider)}
    return render_permissions(provider, declared, workspace.settings)


def open_store(settings: Settings) -> EvidenceStore:
    """Open (and migrate) the evidence store; mark runs killed on this host as interrupted."""
    hook = None
    if settings.checkpoints.directory is not None or settings.checkpoints.s3 is not None:
        from collector.anchoring import checkpointer  # signing libraries: only when anchoring

        hook = checkpointer(settings)
    from storage import EvidenceStore

    try:
        store = EvidenceStore.open(settings.store_url)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    store.checkpoint_hook = hook
    for run_id in store.reconcile_interrupted():
        get_logger("annexa").warning("earlier run was interrupted", run_id=run_id)
    return store


@dataclass
class Audit:
    """What a one-off run produced: the stored run and every control's status after it."""

    result: RunResult
    statuses: list[ControlStatus]
    soa: Soa
    missing: list[str]  # catalogue controls the SoA does not mention
    store_url: str
    notice: str | None = None
    accounts: Sequence[Account] = ()

    def regions(self) -> list[str]:
        """``aws 123456789012: eu-west-1, us-east-1`` per account audited in regions."""
        return [
            f"{a.provider} {a.account}: {', '.join(a.regions)}" for a in self.accounts if a.regions
        ]


def run_audit(
    workspace: Workspace,
    store: EvidenceStore,
    soa: Soa,
    checks: Sequence[CheckSpec],
    *,
    accounts: Sequence[Account] | None = None,
    on_plan: Callable[[int], None] | None = None,
    on_record: Callable[[EvidenceRecord], None] | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Audit:
    """One-off audit run: resolve accounts (unless given), run the checks, evaluate every
    control."""
    from collector.registry import Registry
    from collector.runner import Runner, plan

    if not isinstance(workspace.registry, Registry):
        raise TypeError("run_audit needs the registry: load_workspace(metadata_only=False)")
    settings = workspace.settings
    if accounts is None:
        accounts = resolve_accounts({p for c in checks for p in c.providers}, settings)
    runner = Runner(
        workspace.registry,
        store,
        concurrency=settings.concurrency,
        timeout=settings.check_timeout,
        clock=clock,
        on_plan=on_plan,
        on_record=on_record,
    )
    result = runner.run(checks, accounts)
    scope = Scope(
        frozenset(c.id for c in checks if c.provider in {a.provider for a in accounts}),
        {c.id: c.provider for c in workspace.registry.checks.values()},
        frozenset(job.target.key for job in plan(checks, accounts, workspace.registry)),
    )
    statuses = workspace.statuses(store, soa, clock(), scope)
    return Audit(
        result,
        statuses,
        soa,
        soa.missing(workspace.catalogue),
        mask_url(settings.store_url),
        accounts=accounts,
    )
