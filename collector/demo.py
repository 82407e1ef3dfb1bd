"""``annexa demo``: audit a simulated AWS account (moto, in process), a recorded GitHub
organisation and a recorded Okta org (the source of truth for who works here) into a demo
database.

Besides the run, the demo database holds (once, on first use) what an ISMS owner adds by hand,
so every state a user meets appears: two approved exceptions (the default security groups,
A.8.22, whose segregation design is uploaded too: ``accepted``; the tagging gaps, leaving A.5.9
and A.5.13 with only supporting evidence: ``manual``, asking for manual evidence) and manual
evidence files (the policy set, A.5.1: ``attested``; the log-handling procedure beside
CloudTrail's digests, A.5.28: ``passing``). All of it is fictional and marked so.
``demo.yaml`` beside the database holds the demo's scope, so ``show_command`` shows the same
controls again.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import yaml

from collector.app import (
    Audit,
    Workspace,
    example_soa_path,
    load_workspace,
    open_store,
    run_audit,
)
from collector.audit import add_manual_evidence
from collector.aws.accounts import resolve_accounts
from collector.clock import utcnow
from collector.errors import UserError
from collector.settings import AwsSettings, Settings
from storage import EvidenceStore

DEMO_REGIONS = ["us-east-1", "eu-west-1"]
DEMO_BY = "annexa demo"
#: (check, reason, approver): exceptions the demo records, each for 90 days
DEMO_EXCEPTIONS = (
    (
        "aws.ec2.default_security_group_closed",
        "default security groups are attached to nothing; removal is planned (fictional)",
        "Head of Infrastructure (fictional)",
    ),
    (
        "aws.tagging.required_tags",
        "tagging rollout to legacy resources ends next quarter (fictional)",
        "CISO (fictional)",
    ),
)
#: (control, file name, text): manual evidence the demo uploads, each valid for a year
DEMO_MANUAL = (
    ("A.5.1", "information-security-policy.txt", "Information security policy set, v3 (demo)."),
    ("A.5.28", "log-handling-procedure.txt", "Procedure for preserving logs as evidence (demo)."),
    ("A.8.22", "network-segregation.txt", "Network segregation design, one VPC per stage (demo)."),
)


def demo_settings(settings: Settings) -> Settings:
    """The user's settings, pointed at the simulated account and a separate demo database."""
    url = settings.database_url or f"sqlite:///{settings.data_dir / 'demo.sqlite'}"
    return settings.model_copy(
        update={
            "database_url": url,
            "aws": AwsSettings(regions=DEMO_REGIONS),
            "checks": None,
        }
    )


def run_demo(
    settings: Settings,
    *,
    on_plan: Callable[[int], None] | None = None,
    on_record: Callable[[Any], None] | None = None,
) -> Audit:
    """Seed a simulated AWS estate, run every AWS, GitHub and identity check on it and the
    recorded GitHub and Okta orgs, and evaluate the example SoA (always the example: the
    demo's estate is fictional, so is its SoA)."""
    try:
        from moto import mock_aws
    except ImportError:
        raise UserError("annexa demo needs moto: pip install 'annexa[demo]'") from None
    from collector.aws.demo_estate import install_wire_hooks, seed
    from collector.identity.demo import demo_accounts

    settings = demo_settings(settings)
    workspace = load_workspace(settings)
    soa, _ = workspace.soa(example_soa_path())
    store = open_store(settings)
    try:
        with mock_aws():
            session = boto3.Session(
                aws_access_key_id="demo", aws_secret_access_key="demo", region_name=DEMO_REGIONS[0]
            )
            seed(session)
            install_wire_hooks(session)
            checks = [
                c
                for provider in ("aws", "github", "identity")
                for c in workspace.checks(provider=provider)
            ]
            seed_manual_work(workspace, store, utcnow())
            write_demo_config(settings, [c.id for c in checks])
            audit = run_audit(
                workspace,
                store,
                soa,
                checks,
                accounts=[*resolve_accounts(settings.aws, session), *demo_accounts()],
                on_plan=on_plan,
                on_record=on_record,
            )
    finally:
        store.close()
    return audit


def demo_config_path(settings: Settings) -> Path:
    return settings.data_dir / "demo.yaml"


def write_demo_config(settings: Settings, checks: list[str]) -> Path:
    """``demo.yaml``: the demo's scope (its providers and checks; the database unless the user
    gave one), so ``annexa status`` judges the same controls as the demo did."""
    from collector.identity.demo import GITHUB, IDENTITY

    config: dict[str, Any] = {
        "aws": {"regions": DEMO_REGIONS},
        "github": GITHUB.model_dump(mode="json", exclude_defaults=True),
        "identity": IDENTITY.model_dump(mode="json", exclude_defaults=True),
        "checks": checks,
    }
    if not settings.database_url or settings.database_url.startswith("sqlite:"):
        config["database_url"] = settings.store_url
    path = demo_config_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# written by annexa demo: the fictional demo's scope (see README)\n"
    path.write_text(header + yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def show_command(settings: Settings) -> str:
    """The command that shows the demo's controls again: its config (scope and database) and
    the example SoA."""
    config = demo_config_path(demo_settings(settings))
    database = ""
    if settings.database_url and not settings.database_url.startswith("sqlite:"):
        database = " --database <your --database URL>"
    return f"annexa --config {config}{database} status --soa {example_soa_path()}"


def seed_manual_work(workspace: Workspace, store: EvidenceStore, now: datetime) -> None:
    """Record the demo's exceptions and manual evidence, unless the demo database has any."""
    if store.exceptions() or store.manual_items():
        return
    for check, reason, approver in DEMO_EXCEPTIONS:
        store.add_exception(
            check_id=check,
            resource_pattern="*",
            target_pattern="*",
            reason=reason,
            approved_by=approver,
            created_at=now,
            expires_at=now + timedelta(days=90),
            created_by=DEMO_BY,
        )
    with tempfile.TemporaryDirectory(prefix="annexa-demo-") as tmp:
        for control, name, text in DEMO_MANUAL:
            path = Path(tmp) / name
            path.write_text(text + "\n", encoding="utf-8")
            add_manual_evidence(
                workspace,
                store,
                control=control,
                path=path,
                valid_for="365d",
                note="fictional demo evidence",
                by=DEMO_BY,
                now=now,
            )
