"""The alias file: which accounts belong to a person whose account names differ from their
e-mail. YAML (``person: [refs]``) or CSV (``person,account`` rows); a reference is
``<kind>:<name>`` with kind one of iam, identity_center, github, okta, workspace, entra."""

from __future__ import annotations

import csv
from pathlib import Path

from checks.identity.models import ACCOUNT_KINDS
from collector.errors import UserError
from collector.yamlfile import read_yaml


def read_aliases(path: Path) -> dict[str, tuple[str, ...]]:
    """Person e-mail (lower case) -> account references; one UserError line naming the file
    and the row or key on any bad entry."""
    rows: list[tuple[str, str, str]] = []  # (where, person, reference)
    if path.suffix.lower() == ".csv":
        try:
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                if {"person", "account"} - {f.strip().lower() for f in reader.fieldnames or ()}:
                    raise UserError(f"{path.name}: needs the columns person and account")
                for number, row in enumerate(reader, start=2):
                    cells = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
                    rows.append((f"row {number}", cells["person"], cells["account"]))
        except OSError as exc:
            raise UserError(f"{path.name}: cannot read file: {exc.strerror or exc}") from None
    else:
        data = read_yaml(path) or {}
        if not isinstance(data, dict):
            raise UserError(f"{path.name}: expected a mapping of person e-mail to accounts")
        for person, refs in data.items():
            listed = [refs] if isinstance(refs, str) else refs
            if not isinstance(listed, list) or not all(isinstance(r, str) for r in listed):
                raise UserError(f"{path.name}: {person}: expected an account or a list of them")
            rows += [(str(person), str(person), r) for r in listed]
    aliases: dict[str, list[str]] = {}
    for where, person, ref in rows:
        kind, _, name = ref.strip().partition(":")
        if "@" not in person:
            raise UserError(f"{path.name} {where}: person {person!r} is not an e-mail address")
        if kind not in ACCOUNT_KINDS or not name:
            raise UserError(
                f"{path.name} {where}: account {ref!r} must be <kind>:<name> with kind one of "
                f"{', '.join(ACCOUNT_KINDS)}"
            )
        aliases.setdefault(person.lower(), []).append(f"{kind}:{name.lower()}")
    return {person: tuple(refs) for person, refs in sorted(aliases.items())}
