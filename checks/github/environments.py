"""GitHub deployment environments: production deploys wait for named people, come only from
chosen branches, and admins cannot skip that."""

from __future__ import annotations

import re
from collections.abc import Iterator

from checks.api import Finding, check
from checks.github.models import DeployEnvironment, GithubEnvironments

#: Environment names judged as production: prod, production, prod-eu, Production (US)...
PRODUCTION = re.compile(r"^prod(uction)?(?![a-z0-9])", re.IGNORECASE)


def _gaps(env: DeployEnvironment) -> list[str]:
    gaps = []
    if not env.reviewers:
        gaps.append("no required reviewers")
    if env.branches is None:
        gaps.append("any branch may deploy")
    if env.admins_bypass:
        gaps.append("admins may bypass")
    return gaps


@check(
    id="github.environments.production_protected",
    title="Production environments need a reviewer, restrict branches and bind admins",
    severity="medium",
    remediation="Repository settings > Environments > production: add required reviewers, "
    "limit deployment branches (protected or selected), and turn off 'Allow administrators "
    "to bypass configured protection rules'.",
)
def production_protected(environments: GithubEnvironments) -> Iterator[Finding]:
    """Environments named prod* or production*; others (staging, dev) are not judged."""
    for env in environments.environments:
        if not PRODUCTION.match(env.name):
            continue
        if env.admins_bypass is None:
            raise ValueError(
                f"GitHub did not say whether admins may bypass environment {env.name} of "
                f"{env.repo} (can_admins_bypass missing)"
            )
        gaps = _gaps(env)
        yield Finding(
            resource=f"{env.repo}/environments/{env.name}",
            passed=not gaps,
            message="; ".join(gaps)
            or f"{env.reviewers} required reviewer(s), deploys from {env.branches}",
        )
