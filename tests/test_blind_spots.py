"""docs/blind-spots.md has one row per registered check, and no row for a check that is gone."""

from __future__ import annotations

import re
from pathlib import Path

from collector.registry import load_registry

PAGE = Path(__file__).parent.parent / "docs" / "blind-spots.md"


def test_every_check_states_its_blind_spots():
    rows = re.findall(r"^\| `([a-z0-9_.]+)` \| (.+) \|$", PAGE.read_text(), re.MULTILINE)
    listed = [check for check, _ in rows]
    assert len(listed) == len(set(listed)), "a check listed twice"
    registered = set(load_registry(entry_point_packs=False).checks)
    assert sorted(registered - set(listed)) == [], "checks without blind spots"
    assert sorted(set(listed) - registered) == [], "rows for checks that do not exist"
    assert all(len(spots.strip()) > 10 for _, spots in rows)
