"""The order a run starts its jobs in: the longest fetches first, one job per snapshot before
any job that only reuses one (``collector.runner.schedule``)."""

from __future__ import annotations

from dataclasses import replace

from collector.accounts import Account
from collector.registry import load_registry
from collector.runner import plan, schedule

REGISTRY = load_registry(entry_point_packs=False)
ACCOUNTS = [
    Account("aws", "111122223333", regions=("eu-west-1", "us-east-1")),
    Account("aws", "444455556666", regions=("eu-west-1",)),
]


def snapshots(job):
    return {
        (
            kind,
            job.target
            if REGISTRY.collectors[kind].scope == "region"
            else replace(job.target, region=None),
        )
        for kind in job.check.inputs
    }


def test_fan_outs_start_first_and_reusing_jobs_last() -> None:
    jobs = plan(REGISTRY.select(provider="aws"), ACCOUNTS, REGISTRY)

    ordered = schedule(jobs, REGISTRY)

    assert sorted(map(id, ordered)) == sorted(map(id, jobs))  # the same jobs, reordered
    claimed: set = set()
    fetching: list[bool] = []  # per job in order: does it fetch a snapshot not yet claimed?
    for job in ordered:
        needed = snapshots(job)
        fetching.append(not needed <= claimed)
        claimed |= needed
    leaders = fetching.index(False)
    assert not any(fetching[leaders:])  # every fetch starts before any job that only reuses
    fans_out = [any(REGISTRY.collectors[k].fan_out for k in j.check.inputs) for j in ordered]
    longest = fans_out.index(False)
    assert 0 < longest < leaders and not any(fans_out[longest:leaders])  # fan-outs lead
    assert {j.check.id.split(".")[1] for j in ordered[:longest]} == {"s3", "iam", "kms"}
    s3_jobs = [j for j in ordered if j.check.id.startswith("aws.s3.")]
    assert [ordered.index(j) < longest for j in s3_jobs].count(True) == len(ACCOUNTS)
