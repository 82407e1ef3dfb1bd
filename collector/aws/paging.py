"""Pagination and per-resource fan-out shared by the AWS collectors."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Per-resource getters (one call per bucket, key, user) run this many at a time: one
#: collector reading 1,000 buckets one after another would otherwise dominate a run.
PER_RESOURCE_WORKERS = 8


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """Every item under ``key`` across all pages of ``operation`` (a botocore paginator)."""
    return [
        item for page in client.get_paginator(operation).paginate(**kwargs) for item in page[key]
    ]


def each(read: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[read(item) for item in items]``, in order, with up to ``PER_RESOURCE_WORKERS`` calls
    in flight (boto3 clients are thread-safe). The first error propagates, as in a loop."""
    items = list(items)
    if len(items) < 2:
        return [read(item) for item in items]
    with ThreadPoolExecutor(max_workers=PER_RESOURCE_WORKERS) as pool:
        return list(pool.map(read, items))
