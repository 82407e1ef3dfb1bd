"""People and the accounts they hold, read from each provider's snapshots in one shape.

A :class:`Person` comes from the source of truth; a :class:`Holding` is an account that still
gives access somewhere (an IAM user with a password or an active key, an Identity Center user
with an assignment, a GitHub member, an active Okta/Workspace/Entra user).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from checks.api import Across
from checks.aws.models import IamCredentialReport, IamUsers, IdentityCenterUsers
from checks.entra.models import EntraUsers
from checks.github.models import GithubMembers
from checks.identity.models import IdentityPolicy
from checks.okta.models import ACTIVE_STATUSES, OktaUsers
from checks.workspace.models import WorkspaceUsers

#: Okta statuses of someone who has left (DEPROVISIONED users only appear when asked for).
OKTA_LEFT = frozenset({"SUSPENDED", "DEPROVISIONED"})


@dataclass(frozen=True)
class Person:
    email: str  # lower case: the key accounts are matched on
    status: str  # as the source says it: ACTIVE, SUSPENDED, disabled...
    left: bool


@dataclass(frozen=True)
class Holding:
    kind: str  # one of ACCOUNT_KINDS
    where: str  # the target key: aws:123456789012, github:acme
    name: str  # user name, login or e-mail
    emails: frozenset[str]
    access: str  # what it still gives
    privileged: bool

    @property
    def ref(self) -> str:
        """How an alias file names it: ``github:ann-gh``."""
        return f"{self.kind}:{self.name.lower()}"

    def __str__(self) -> str:
        return f"{self.where} {self.kind} {self.name} ({self.access})"


@dataclass(frozen=True)
class Directories:
    """Every identity snapshot of the run, by provider."""

    entra: Across[EntraUsers]
    okta: Across[OktaUsers]
    workspace: Across[WorkspaceUsers]
    iam: Across[IamCredentialReport]
    iam_policies: Across[IamUsers]
    identity_center: Across[IdentityCenterUsers]
    github: Across[GithubMembers]

    def people(self, source: str) -> dict[str, Person]:
        """The source of truth's people by e-mail; a ValueError if it has no configured target."""
        found = {"entra": self.entra, "okta": self.okta, "workspace": self.workspace}[source]
        if not found:
            raise ValueError(
                f"the identity source of truth {source!r} has no configured target "
                f"(configure the {source}: section, or change identity.source)"
            )
        people: dict[str, Person] = {}
        for snapshot in found.values():
            for person in _people(snapshot):
                people[person.email] = person
        return people

    def holdings(self, policy: IdentityPolicy) -> list[Holding]:
        """Every account that still gives access, outside the source of truth."""
        found: list[Holding] = []
        for where, report in self.iam.items():
            found += _iam(where, report, _iam_admins(self.iam_policies.get(where), policy))
        for where, center in self.identity_center.items():
            found += _identity_center(where, center, policy)
        for where, members in self.github.items():
            found += [
                Holding("github", where, m.login, frozenset(), _role(m.role), m.role == "admin")
                for m in members.members
            ]
        others = {
            "okta": [
                (where, u.login, u.status, False)
                for where, o in self.okta.items()
                for u in o.users
                if u.status in ACTIVE_STATUSES
            ],
            "workspace": [
                (where, u.email, "admin" if u.admin else "user", u.admin)
                for where, w in self.workspace.items()
                for u in w.users
                if u.active
            ],
            "entra": [
                (where, u.upn, u.user_type, False)
                for where, e in self.entra.items()
                for u in e.users
                if u.enabled
            ],
        }
        for kind, accounts in others.items():
            if kind != policy.source:
                found += [
                    Holding(kind, where, name, frozenset({name.lower()}), access, privileged)
                    for where, name, access, privileged in accounts
                ]
        return found


def _role(role: str) -> str:
    return "owner" if role == "admin" else "member"


def _iam(where: str, report: IamCredentialReport, admins: set[str]) -> Iterator[Holding]:
    for user in report.users:
        access = ["console sign-in"] if user.password_enabled else []
        access += [f"access key {k.slot}" for k in user.access_keys if k.active]
        if access:
            yield Holding(
                "iam", where, user.user, frozenset(), ", ".join(access), user.user in admins
            )


def _identity_center(
    where: str, center: IdentityCenterUsers, policy: IdentityPolicy
) -> Iterator[Holding]:
    for user in center.users:
        if user.assignments:
            sets = sorted({a.permission_set for a in user.assignments})
            accounts = sorted({a.account_id for a in user.assignments})
            yield Holding(
                "identity_center",
                where,
                user.user_name,
                frozenset(e.lower() for e in user.emails),
                f"{', '.join(sets)} in {', '.join(accounts)}",
                bool(set(sets) & set(policy.privileged_permission_sets)),
            )


def _people(snapshot: EntraUsers | OktaUsers | WorkspaceUsers) -> Iterator[Person]:
    if isinstance(snapshot, OktaUsers):
        for o in snapshot.users:
            yield Person(o.login.lower(), o.status, o.status in OKTA_LEFT)
    elif isinstance(snapshot, WorkspaceUsers):
        for w in snapshot.users:
            status = "archived" if w.archived else "suspended" if w.suspended else "active"
            yield Person(w.email.lower(), status, not w.active)
    else:
        for e in snapshot.users:
            yield Person(e.upn.lower(), "enabled" if e.enabled else "disabled", not e.enabled)


def _iam_admins(users: IamUsers | None, policy: IdentityPolicy) -> set[str]:
    if users is None:
        return set()
    wanted = set(policy.privileged_policies)
    return {u.name for u in users.users if wanted & {p.name for p in u.attached_policies}}


class Matcher:
    """Finds the person an account belongs to: alias file, then a stated e-mail, then the
    account name as an e-mail, then (when allowed) the name as an e-mail's local part."""

    def __init__(self, people: dict[str, Person], policy: IdentityPolicy) -> None:
        self.people = people
        self.aliases = {
            ref.lower(): email.lower() for email, refs in policy.aliases.items() for ref in refs
        }
        self.local_parts: dict[str, str | None] = {}
        if policy.match_local_part:
            for email in people:
                local = email.split("@", 1)[0]
                # a local part shared by two people matches neither
                self.local_parts[local] = None if local in self.local_parts else email

    def person(self, holding: Holding) -> Person | None:
        candidates: Iterable[str | None] = (
            self.aliases.get(holding.ref),
            *sorted(holding.emails),
            holding.name.lower(),
            self.local_parts.get(holding.name.lower()),
        )
        return next((self.people[c] for c in candidates if c and c in self.people), None)
