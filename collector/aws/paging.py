"""Pagination helper shared by the AWS collectors."""

from __future__ import annotations

from typing import Any


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` across all pages of ``operation`` (a botocore paginator)."""
    return [
        item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]
    ]
