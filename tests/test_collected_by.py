"""Each run names who collected it (the identity per account) and annexa's version, sealed in
the ledger: an edit is named by verify. AWS's identity is the STS caller ARN (moto)."""

from __future__ import annotations

import dataclasses

import boto3
from botocore.config import Config
from moto import mock_aws

from collector.aws.accounts import session_account
from collector.settings import AwsSettings
from collector.version import annexa_version
from storage import EvidenceStore
from tests.store.test_store import raw_sql
from tests.test_runner import _run, lab_account


def test_run_seals_identity_and_version(store: EvidenceStore, store_url: str) -> None:
    account = dataclasses.replace(lab_account(), identity="app 1234 in tenant 5678")
    result = _run(store, ["lab.widgets.present"], account=account)
    run = store.get_run(result.run_id)
    assert run is not None and run.annexa_version == annexa_version()
    assert run.collected_by == {"lab:lab-1": "app 1234 in tenant 5678"}
    assert store.verify_report().problem is None
    raw_sql(
        store_url,
        "UPDATE run SET collected_by = :c WHERE id = :r",
        c='{"lab:lab-1": "someone else"}',
        r=result.run_id,
    )
    problem = store.verify_report().problem
    assert problem is not None and problem.kind == "ledger_row"
    assert "collected_by" in problem.detail


@mock_aws
def test_aws_identity_is_the_caller_arn() -> None:
    session = boto3.Session(region_name="eu-west-1")
    account = session_account(session, AwsSettings(), Config(), label="default")
    assert account.error is None
    assert (
        account.identity
        == boto3.client("sts", region_name="eu-west-1").get_caller_identity()["Arn"]
    )
