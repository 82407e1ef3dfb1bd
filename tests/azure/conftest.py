"""Azure fixtures: every HTTP request through httpx must hit a respx route (none escape)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import respx


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    """The mocked ARM, Graph and login endpoints; an unrouted request fails the test."""
    with respx.mock(assert_all_called=False) as router:
        yield router
