"""Tagging collector: every resource of the region from the Resource Groups Tagging API."""

from __future__ import annotations

from checks.aws.tagging import TaggedResource, TaggedResources
from collector.aws.scope import AwsScope
from collector.collect import collects


@collects(TaggedResources, permissions=["tag:GetResources"], scope="region")
def tagged_resources(scope: AwsScope) -> TaggedResources:
    """GetResources (paginated); keeps tag keys only, with the configured required keys."""
    pages = scope.client("resourcegroupstaggingapi").get_paginator("get_resources").paginate()
    resources = [
        TaggedResource(
            arn=r["ResourceARN"], tag_keys=tuple(sorted({t["Key"] for t in r.get("Tags", [])}))
        )
        for page in pages
        for r in page.get("ResourceTagMappingList", [])
    ]
    return TaggedResources(
        region=scope.region,
        required_tags=tuple(scope.settings.required_tags),
        resources=tuple(resources),
    )
