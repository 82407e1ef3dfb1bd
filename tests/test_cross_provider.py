"""Cross-provider checks: one pure check over ``Across`` inputs from several providers'
targets, read through each account's memo, ERROR naming the input that failed."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

import pytest

from checks.api import Across, Finding, Snapshot, check, spec_of
from checks.testing import verdicts
from collector.accounts import Account
from collector.collect import Target, collects
from collector.errors import UserError
from collector.registry import build_registry
from collector.runner import Runner
from collector.snapshots import SnapshotCache
from storage import EvidenceStore

CALLS: Counter[str] = Counter()


class Roster(Snapshot):
    """Who has left, per the source of truth (provider ``people``)."""

    provider: ClassVar[str] = "people"
    resource_noun: ClassVar[str] = "people"
    leavers: tuple[str, ...]


class Logins(Snapshot):
    provider: ClassVar[str] = "forge"
    users: tuple[str, ...]


class Keys(Snapshot):
    provider: ClassVar[str] = "vault"
    owners: tuple[str, ...]
    listed_at: datetime = datetime(2026, 1, 2, tzinfo=UTC)


@dataclass
class Scope:
    target: Target
    cache: SnapshotCache
    data: dict[str, tuple[str, ...]]

    def get(self, kind):
        return self.cache.get(kind, self.target)


@collects(Roster, permissions=[])
def roster(scope: Scope) -> Roster:
    return Roster(leavers=scope.data["leavers"])


@collects(Logins, permissions=["forge:read"])
def logins(scope: Scope) -> Logins:
    CALLS[f"logins@{scope.target}"] += 1
    if "broken" in scope.data:
        raise PermissionError("forge:read denied")
    return Logins(users=scope.data["users"])


@collects(Keys, permissions=["vault:list"], scope="region")
def keys(scope: Scope) -> Keys:
    CALLS[f"keys@{scope.target}"] += 1
    return Keys(owners=scope.data.get(scope.target.region or "", ()))


@check(id="people.leavers.gone", title="Leavers hold nothing", severity="high", interval="1h")
def leavers_gone(people: Roster, forge: Across[Logins], vault: Across[Keys]):
    for person in people.leavers:
        held = [key for key, s in forge.items() if person in s.users]
        held += [key for key, s in vault.items() if person in s.owners]
        yield Finding(resource=person, passed=not held, message=", ".join(held) or "none")


@check(id="people.inputs.named", title="Names its inputs", severity="low", interval="1h")
def inputs_named(people: Roster, vault: Across[Keys]):
    yield Finding(resource=vault.kind.__name__, passed=True, message=repr(vault))


@check(id="forge.logins.any", title="Forge has users", severity="low", interval="1h")
def forge_any(forge: Logins):
    yield Finding(resource="forge", passed=bool(forge.users), message="")


REGISTRY = build_registry([("test", sys.modules[__name__])])


def account(provider: str, name: str, regions=(), **data) -> Account:
    def make_scope(target: Target, cache: SnapshotCache) -> Scope:
        return Scope(target, cache, data)

    return Account(provider, name, regions=tuple(regions), make_scope=make_scope)


@pytest.fixture
def store(sqlite_url):
    opened = EvidenceStore.open(sqlite_url)
    yield opened
    opened.close()


def run(store, accounts, ids=("people.leavers.gone", "forge.logins.any")):
    CALLS.clear()
    return Runner(REGISTRY, store, concurrency=4).run(REGISTRY.select(ids=ids), accounts)


ESTATE = [
    account("people", "hr", leavers=("ann", "bob", "cy")),
    account("forge", "org-a", users=("ann", "dee")),
    account("forge", "org-b", users=("dee",)),
    account("vault", "v1", regions=("r1", "r2"), r2=("bob",)),
]


def test_spec_knows_which_inputs_come_across():
    spec = REGISTRY.checks["people.leavers.gone"]
    assert spec.own_inputs == (Roster,)
    assert spec.across == {Logins, Keys}
    assert spec.providers == {"people", "forge", "vault"}
    assert REGISTRY.permissions_for(spec, "forge") == ("forge:read",)
    assert REGISTRY.permissions_for(spec) == ("forge:read", "vault:list")


def test_one_verdict_over_every_target_of_every_provider(store):
    result = run(store, ESTATE)
    (record,) = [r for r in result.records if r.check_id == "people.leavers.gone"]
    assert record.target_key == "people:hr" and record.status == "fail"
    assert {(f["resource"], f["passed"], f["message"]) for f in record.findings} == {
        ("ann", False, "forge:org-a"),
        ("bob", False, "vault:v1:r2"),
        ("cy", True, "none"),
    }
    # the observations are every input, by target
    assert set(record.observations["Logins"]) == {"forge:org-a", "forge:org-b"}
    assert set(record.observations["Keys"]) == {"vault:v1:r1", "vault:v1:r2"}
    assert record.observations["Keys"]["vault:v1:r2"] == {  # in JSON form
        "owners": ["bob"],
        "listed_at": "2026-01-02T00:00:00Z",
    }
    assert record.summary == "2 of 3 people failing"
    # the forge snapshots were fetched once each, shared with the forge's own check
    assert CALLS == {
        "logins@forge:org-a": 1,
        "logins@forge:org-b": 1,
        "keys@vault:v1:r1": 1,
        "keys@vault:v1:r2": 1,
    }
    assert len(result.records) == 3


def test_a_failed_input_is_error_naming_it_never_a_partial_pass(store):
    estate = [*ESTATE[:2], account("forge", "org-b", broken=()), ESTATE[3]]
    result = run(store, estate)
    (record,) = [r for r in result.records if r.check_id == "people.leavers.gone"]
    assert record.status == "error" and record.findings == []
    assert record.error == (
        "input Logins from forge:org-b failed: PermissionError: forge:read denied"
    )


def test_an_unresolved_account_is_error_naming_it(store):
    dead = Account("vault", "v9", error="cannot assume role: access denied")
    result = run(store, [*ESTATE, dead], ids=("people.leavers.gone",))
    (record,) = result.records
    assert record.error == "input Keys from vault:v9 failed: cannot assume role: access denied"


def test_an_account_that_failed_to_resolve_is_never_read_as_an_input(store):
    failed = Account("vault", "v9", make_scope=ESTATE[3].make_scope, error="expired token")
    result = run(store, [*ESTATE[:3], failed], ids=("people.leavers.gone",))
    (record,) = result.records
    assert record.error == "input Keys from vault:v9 failed: expired token"
    assert not any(call.startswith("keys@") for call in CALLS)


def test_an_input_account_without_a_way_to_collect_is_error_naming_it(store):
    no_scope = Account("vault", "v9", regions=("r1",))
    result = run(store, [*ESTATE[:3], no_scope], ids=("people.leavers.gone",))
    (record,) = result.records
    assert record.error == "input Keys from vault:v9:r1 failed: no way to collect from it"


def test_no_configured_target_of_an_input_provider_is_an_empty_input(store):
    result = run(store, ESTATE[:3], ids=("people.leavers.gone",))
    (record,) = result.records
    assert {(f["resource"], f["passed"]) for f in record.findings} == {
        ("ann", False),
        ("bob", True),
        ("cy", True),
    }
    assert record.observations["Keys"] == {}


def test_an_input_without_targets_still_names_its_kind(store):
    (record,) = run(store, ESTATE[:3], ids=("people.inputs.named",)).records
    assert record.findings == [{"resource": "Keys", "passed": True, "message": "Across[Keys]([])"}]


def test_testing_helper_takes_across_inputs():
    forge = Across(Logins, {"forge:a": Logins(users=("ann",))})
    assert verdicts(leavers_gone, Roster(leavers=("ann",)), forge, Across(Keys)) == {("ann", False)}
    with pytest.raises(TypeError, match="takes these as Across"):
        verdicts(leavers_gone, Roster(leavers=()), Logins(users=()), Across(Keys))


def test_across_must_wrap_a_snapshot_type():
    @check(id="x.y.z", title="t", severity="low")
    def bad(people: Roster, other: Across[int]):  # type: ignore[type-var]
        return []

    with pytest.raises(ValueError, match=r"Across\[<Snapshot type>\]"):
        spec_of(bad)


class Orphan(Snapshot):
    provider: ClassVar[str] = "nowhere"


def test_an_input_no_collector_provides_fails_the_load():
    @check(id="people.orphan.read", title="t", severity="low")
    def reads_orphan(people: Roster, orphans: Across[Orphan]):
        return []

    module = type(sys)("pack")
    module.reads_orphan = reads_orphan
    reads_orphan.__module__ = "pack"
    with pytest.raises(UserError, match="needs Orphan, but no collector provides it"):
        build_registry([("test", sys.modules[__name__]), ("pack", module)])


def test_daemon_jobs_read_inputs_through_each_accounts_generation():
    """The daemon evaluates one job at a time, with each account's current snapshot memo."""
    from collector.clock import utcnow
    from collector.daemon.jobs import SnapshotGenerations
    from collector.runner import evaluate_job, plan

    generations = SnapshotGenerations(ttl=3600)

    def cache_for(account):
        return generations.cache_for(account, REGISTRY.collectors)

    CALLS.clear()
    jobs = plan(REGISTRY.select(), ESTATE, REGISTRY)
    (cross,) = [j for j in jobs if j.check.id == "people.leavers.gone"]
    assert [(s.kind.__name__, str(s.target)) for s in cross.sources] == [
        ("Keys", "vault:v1:r1"),
        ("Keys", "vault:v1:r2"),
        ("Logins", "forge:org-a"),
        ("Logins", "forge:org-b"),
    ]
    for job in jobs:
        evidence = evaluate_job(job, cache_for(job.account), "run", utcnow, cache_for)
        assert evidence.status in ("pass", "fail"), evidence.error
    assert set(CALLS.values()) == {1}  # the forge's own check and the cross check shared them
