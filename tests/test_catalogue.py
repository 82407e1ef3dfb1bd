"""The Annex A catalogue: counts, themes, the 2013 crosswalk and load-time validation."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from collector.catalogue import Catalogue, load_catalogue
from collector.errors import UserError

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
NEW_IN_2022 = {
    "A.5.7", "A.5.23", "A.5.30", "A.7.4", "A.8.9", "A.8.10",
    "A.8.11", "A.8.12", "A.8.16", "A.8.23", "A.8.28",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_has_93_controls_in_numeric_order(catalogue: Catalogue) -> None:
    ids = [c.id for c in catalogue.controls]
    assert len(ids) == 93 == len(set(ids))
    assert ids[0] == "A.5.1" and ids[-1] == "A.8.34"
    assert ids.index("A.5.2") < ids.index("A.5.10")


def test_themes(catalogue: Catalogue) -> None:
    assert catalogue.themes() == {
        "Organizational": 37,
        "People": 8,
        "Physical": 14,
        "Technological": 34,
    }


def test_covers_all_114_controls_of_2013(catalogue: Catalogue) -> None:
    old = {old for c in catalogue.controls for old in c.iso2013}
    assert len(old) == 114
    assert set(catalogue.iso2013_ids()) == old


def test_new_controls_have_no_predecessor(catalogue: Catalogue) -> None:
    new = {c.id for c in catalogue.controls if c.new_in_2022}
    assert new == NEW_IN_2022
    assert all(not catalogue.get(cid).iso2013 for cid in new)
    assert all(c.iso2013 for c in catalogue.controls if not c.new_in_2022)


def test_translate(catalogue: Catalogue) -> None:
    assert catalogue.translate("A.18.2.3") == ("A.5.36", "A.8.8")
    assert catalogue.translate("A.5.1.2") == ("A.5.1",)
    assert catalogue.translate("A.8.8") == ("A.8.8",)
    assert catalogue.translate("A.5.99") == ()
    assert catalogue.translate("nonsense") == ()


def test_lookups(catalogue: Catalogue) -> None:
    assert "A.8.24" in catalogue
    assert "A.10.1.1" not in catalogue  # 2013 ids are not catalogue members
    control = catalogue.get("A.8.24")
    assert control is not None and control.title == "Use of cryptography"
    assert control.theme == "Technological"
    assert catalogue.get("A.9.9") is None


def test_default_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


def test_agrees_with_shared_reference(catalogue: Catalogue) -> None:
    if not REFERENCE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"reference data missing at {REFERENCE}")
        pytest.skip("shared reference data not beside the repo")
    with (REFERENCE / "annex_a_2022.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (REFERENCE / "iso27001_2013_to_2022.csv").open(newline="") as handle:
        pairs = list(csv.DictReader(handle))
    assert len(rows) == len(catalogue.controls)
    for row, control in zip(rows, catalogue.controls, strict=True):
        assert (row["id"], row["title"], row["theme"]) == (control.id, control.title, control.theme)
        assert (row["new_in_2022"] == "true") is control.new_in_2022
        expected = tuple(p["iso2013_id"] for p in pairs if p["iso2022_id"] == control.id)
        assert expected == control.iso2013, control.id
    for pair in pairs:
        assert catalogue.iso2013_titles[pair["iso2013_id"]] == pair["iso2013_title"]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "controls.yaml"
    path.write_text(text)
    return path


ENTRY = "  - {{id: {id}, title: {title}, theme: Organizational, new_in_2022: false, iso2013: []}}\n"


def test_custom_file_loads(tmp_path: Path) -> None:
    text = "controls:\n" + ENTRY.format(id="A.5.2", title="B") + ENTRY.format(id="A.5.1", title="A")
    catalogue = load_catalogue(_write(tmp_path, text))
    assert [c.id for c in catalogue.controls] == ["A.5.1", "A.5.2"]


def test_duplicate_id_is_an_error(tmp_path: Path) -> None:
    text = "controls:\n" + ENTRY.format(id="A.5.1", title="A") * 2
    with pytest.raises(UserError, match=r"^controls\.yaml: .*duplicate control id 'A\.5\.1'"):
        load_catalogue(_write(tmp_path, text))


def test_missing_title_is_an_error(tmp_path: Path) -> None:
    text = "controls:\n  - {id: A.5.1, theme: Organizational, new_in_2022: false}\n"
    with pytest.raises(UserError, match=r"^controls\.yaml: controls entry 1 \(A\.5\.1\): title"):
        load_catalogue(_write(tmp_path, text))


@pytest.mark.parametrize(
    "text",
    [
        "controls: [",  # invalid YAML
        "- just a list\n",
        "controls: []\n",
        "controls:\n  - {id: A.5.1, title: T, theme: Cosmic, new_in_2022: false}\n",
        "controls:\n  - {id: A.5.1, title: T, theme: People, new_in_2022: false, iso2013: [X]}\n",
    ],
)
def test_malformed_file_names_the_file(tmp_path: Path, text: str) -> None:
    with pytest.raises(UserError) as caught:
        load_catalogue(_write(tmp_path, text))
    message = str(caught.value)
    assert message.startswith("controls.yaml") and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"^nope\.yaml: cannot read"):
        load_catalogue(tmp_path / "nope.yaml")
