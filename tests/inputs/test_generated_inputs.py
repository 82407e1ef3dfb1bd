"""Property-based: generated SoA files (YAML, CSV, XLSX), config files, mapping overrides,
environment values and CLI arguments. For every one, annexa exits 0, or exits 2 with one line
on stderr and the store as it was; never a traceback, never another exit code."""

from __future__ import annotations

import csv
import io
import string
import zipfile
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from collector.app import example_soa_path
from tests.inputs.conftest import store_dump

SOA = str(example_soa_path())
IDS = ["A.5.1", "A.8.24", "a.8.5", "A.12.4.1", "A.9.9", "A.5.99", "5.1", "", " A.5.15 "]
CHECKS = ["aws.iam.root_mfa_enabled", "aws.s3.nope", "azure.network.nsg_admin_ports_restricted"]
KEYS = [
    "control",
    "applicable",
    "justification",
    "owner",
    "max_evidence_age",
    "implementation_status",
    "Control",
    "APPLICABLE",
    "max-evidence-age",
    "extra",
]
DURATIONS = [
    "7d",
    "6h",
    "0d",
    "-1d",
    "9999999999d",
    "36526d",
    "P1Y",
    "PT0S",
    "1e308",
    "nan",
    "2w",
    "10",
]
INSTANTS = [
    "2026-03-31",
    "2026-03-31T12:00:00Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31",
    "9999-12-31T23:59:59.999999-05:00",
    "1969-12-31",
    "2026-02-30",
    "2026-13-01",
    "now",
    "",
    "2026-03-31T25:00:00",
]
NUMBERS = ["0", "-1", "1", "20", "99999999999999999999", "1e3", "0x10"]

text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    text,
    st.sampled_from(IDS + CHECKS + DURATIONS + INSTANTS + NUMBERS + ["yes", "no", "y", "1"]),
)
keys = st.text(alphabet=string.printable, max_size=12)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)
cells = st.one_of(scalars, st.sampled_from(['"', '"A.5.1', "a,b", "x\ny", ";", "\t", "=1+1"]))


def outcome(annexa, store: Path, *args: str) -> tuple[int, str, str]:
    """Run annexa; assert the contract for any input; return (code, out, err)."""
    before = store_dump(store)
    code, out, err = annexa(*args)
    assert "Traceback" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert err.startswith("annexa: error: "), err
        assert store_dump(store) == before
    return code, out, err


# -- SoA files -------------------------------------------------------------------------------

entries = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)
yaml_soas = st.one_of(
    st.builds(lambda rows: {"controls": rows}, st.lists(entries, max_size=6)),
    st.lists(entries, max_size=6),
    values,
)


@given(document=yaml_soas, raw=st.none() | text)
def test_generated_yaml_soa(annexa, seeded, tmp_path, document, raw):
    soa = tmp_path / "soa.yaml"
    soa.write_text(raw if raw is not None else yaml.safe_dump(document, allow_unicode=True))
    outcome(annexa, seeded, "status", "--soa", str(soa), "--format", "json")


@given(
    header=st.lists(st.sampled_from(KEYS) | text, max_size=6),
    rows=st.lists(st.lists(cells, max_size=7), max_size=6),
    quoted=st.booleans(),
)
def test_generated_csv_soa(annexa, seeded, tmp_path, header, rows, quoted):
    soa = tmp_path / "soa.csv"
    if quoted:
        buffer = io.StringIO()
        csv.writer(buffer).writerows([header, *rows])
        soa.write_text(buffer.getvalue())
    else:  # hand-made lines: stray quotes, mixed delimiters
        soa.write_text("\n".join(",".join(str(c) for c in row) for row in [header, *rows]))
    outcome(annexa, seeded, "status", "--soa", str(soa), "--format", "json")


printable = st.text(alphabet=string.printable.strip() + " ", max_size=20)


@given(
    rows=st.lists(
        st.lists(
            st.one_of(
                st.none(), st.integers(), st.booleans(), printable, st.sampled_from(IDS + DURATIONS)
            ),
            max_size=6,
        ),
        max_size=6,
    ),
    header=st.booleans(),
    damage=st.none() | st.tuples(st.integers(min_value=0), st.binary(max_size=40)),
)
def test_generated_xlsx_soa(annexa, seeded, tmp_path, rows, header, damage):
    book = Workbook()
    if header:
        book.active.append(["control", "applicable", "justification", "max_evidence_age"])
    for row in rows:
        book.active.append(row)
    soa = tmp_path / "soa.xlsx"
    book.save(soa)
    if damage is not None:  # one member of the zip replaced by other bytes
        index, data = damage
        members = zipfile.ZipFile(soa).infolist()
        broken = members[index % len(members)].filename
        source = {m.filename: zipfile.ZipFile(soa).read(m) for m in members}
        with zipfile.ZipFile(soa, "w") as target:
            for name, content in source.items():
                target.writestr(name, data if name == broken else content)
    outcome(annexa, seeded, "status", "--soa", str(soa), "--format", "json")


# -- config files and mapping overrides --------------------------------------------------------

SETTINGS = [
    "database_url",
    "soa",
    "mappings",
    "checks",
    "exclude_checks",
    "concurrency",
    "check_timeout",
    "log_format",
    "aws",
    "azure",
    "schedule",
    "alerts",
    "daemon",
    "typo",
]
NESTED = {
    "schedule": st.fixed_dictionaries(
        {},
        optional={
            "intervals": st.dictionaries(st.sampled_from(IDS + CHECKS), scalars),
            "jitter": scalars,
            "concurrency": scalars,
        },
    ),
    "aws": st.fixed_dictionaries(
        {}, optional={"regions": values, "internet_prefix": values, "accounts": values}
    ),
    "daemon": st.fixed_dictionaries({}, optional={"host": scalars, "port": scalars}),
}


@st.composite
def configs(draw):
    keys = draw(st.lists(st.sampled_from(SETTINGS), unique=True, max_size=4))
    return {k: draw(NESTED.get(k, values)) for k in keys}


@given(config=configs(), raw=st.none() | text)
def test_generated_config_file(annexa, seeded, tmp_path, config, raw):
    path = tmp_path / "annexa.yaml"
    data = dict(config)
    data.pop("database_url", None)  # the store under test stays the one written to
    data.pop("soa", None)
    path.write_text(raw if raw is not None else yaml.safe_dump(data, allow_unicode=True))
    outcome(annexa, seeded, "--config", str(path), "exception", "list", "--format", "json")


mapping_entries = st.dictionaries(
    st.sampled_from(CHECKS) | text,
    st.dictionaries(
        st.sampled_from(IDS) | text,
        st.one_of(
            text,
            st.fixed_dictionaries(
                {},
                optional={
                    "strength": st.sampled_from(["sufficient", "supporting", "x"]) | text,
                    "why": text | scalars,
                },
            ),
            values,
        ),
        max_size=3,
    )
    | values,
    max_size=3,
)


@given(mapping=mapping_entries, raw=st.none() | text)
def test_generated_mapping_override(annexa, seeded, tmp_path, mapping, raw):
    override = tmp_path / "extra-mapping.yaml"
    override.write_text(raw if raw is not None else yaml.safe_dump(mapping, allow_unicode=True))
    config = tmp_path / "annexa.yaml"
    config.write_text(yaml.safe_dump({"mappings": [str(override)]}))
    outcome(annexa, seeded, "--config", str(config), "checks", "--format", "json")


# -- environment -----------------------------------------------------------------------------

ENV_NAMES = [
    "ANNEXA_CONCURRENCY",
    "ANNEXA_CHECKS",
    "ANNEXA_EXCLUDE_CHECKS",
    "ANNEXA_MAPPINGS",
    "ANNEXA_AWS",
    "ANNEXA_AWS__REGIONS",
    "ANNEXA_SCHEDULE__INTERVALS",
    "ANNEXA_SCHEDULE__JITTER",
    "ANNEXA_LOG_FORMAT",
    "ANNEXA_DAEMON__PORT",
    "ANNEXA_CHECK_TIMEOUT",
    "ANNEXA_DATABSE_URL",
    "ANNEXA_AWS__INTERNET_PREFIX",
    "ANNEXA_SOA",
    "ANNEXA_FOO__BAR",
]
env_values = st.one_of(
    text.filter(lambda v: "\x00" not in v),
    st.sampled_from(
        [
            '["aws.iam.root_mfa_enabled"]',
            '{"A.8.24": "9999999999d"}',
            "[",
            "{bad",
            '{"ipv4": 40}',
            "0",
            "-5",
            "json",
            "99999999999999999999",
        ]
    ),
)


@given(environment=st.dictionaries(st.sampled_from(ENV_NAMES), env_values, max_size=3))
def test_generated_environment(annexa, seeded, monkeypatch, environment):
    with monkeypatch.context() as env:
        for name, value in environment.items():
            env.setenv(name, value)
        outcome(annexa, seeded, "exception", "list", "--format", "json")


# -- CLI arguments ---------------------------------------------------------------------------

arg = st.one_of(st.sampled_from(INSTANTS + DURATIONS + NUMBERS + IDS + CHECKS), text)
COMMANDS = {
    "status": lambda a: ["status", "--soa", SOA, "--format", "json", *a],
    "evidence show": lambda a: ["evidence", "show", "--format", "json", *a],
    "exception add": lambda a: ["exception", "add", "--reason", "r", "--approved-by", "x", *a],
    "evidence add": lambda a: ["evidence", "add", "--control", "A.5.1", *a],
    "runs": lambda a: ["runs", "--format", "json", *a],
    "exception revoke": lambda a: ["exception", "revoke", "--reason", "r", "--", *a[1::2]],
    "checks": lambda a: ["checks", "--format", "json", *a],
    "controls": lambda a: ["controls", "--format", "json", *a],
}
OPTIONS = {
    "status": ["--at", "--from", "--to", "--state", "--fail-on", "--format"],
    "evidence show": ["--check", "--control", "--limit"],
    "exception add": ["--check", "--resource", "--expires", "--target"],
    "evidence add": ["--file", "--valid-for", "--note"],
    "runs": ["--limit"],
    "exception revoke": ["id"],  # the argument (option names are dropped)
    "checks": ["--provider", "--control"],
    "controls": ["--provider"],
}


@st.composite
def command_lines(draw):
    command = draw(st.sampled_from(sorted(COMMANDS)))
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(OPTIONS[command]), arg), max_size=3, unique_by=lambda p: p[0]
        )
    )
    extra = draw(st.lists(st.sampled_from(["--bogus", "-x", "extra"]), max_size=1))
    return COMMANDS[command]([*(x for pair in pairs for x in pair), *extra])


@given(args=command_lines())
def test_generated_command_line(annexa, seeded, args):
    outcome(annexa, seeded, *args)
