"""``annexa demo``: audit a simulated AWS account (moto, in process), a recorded GitHub
organisation and a recorded Okta org (the source of truth for who works here) into a demo
database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from collector.app import Audit, example_soa_path, load_workspace, open_store, run_audit
from collector.aws.accounts import resolve_accounts
from collector.errors import UserError
from collector.settings import AwsSettings, Settings

DEMO_REGIONS = ["us-east-1", "eu-west-1"]


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
