"""Tagging checks: resources carry the tag keys the organisation's policy requires."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

from checks.api import Finding, SnapshotPart, check
from checks.aws.models import _AwsSnapshot


class TaggedResource(SnapshotPart):
    """A resource and its tag KEYS (values are never kept)."""

    arn: str
    tag_keys: tuple[str, ...]


class TaggedResources(_AwsSnapshot):
    """Resources the Resource Groups Tagging API returns in one region, and the tag policy.

    That API returns resources that have (or once had) tags; never-tagged resources of many
    services are not listed, so this is an inventory of tagged resources, not of everything.
    """

    resource_noun: ClassVar[str] = "resources"

    region: str
    required_tags: tuple[str, ...]
    resources: tuple[TaggedResource, ...]


@check(
    id="aws.tagging.required_tags",
    title="Resources carry the required tags",
    severity="low",
    interval="24h",
    remediation="Tag the resource with every required key (aws resourcegroupstaggingapi "
    "tag-resources); enforce it with an AWS Organizations tag policy. The required keys are "
    "set in the config as aws.required_tags.",
)
def required_tags(snapshot: TaggedResources) -> Iterator[Finding]:
    """Tag keys match case-sensitively, as AWS treats them."""
    for resource in snapshot.resources:
        missing = [k for k in snapshot.required_tags if k not in resource.tag_keys]
        yield Finding(
            resource=resource.arn,
            passed=not missing,
            message="missing tag(s): " + ", ".join(missing)
            if missing
            else "all required tags present: " + ", ".join(snapshot.required_tags),
        )
