"""The CLI's surface: ``--version``, shell completion, help that marks required options, lists
the providers from the registry and shows plain value labels (no ``<bool>`` type names)."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.cli import get_docs_for_click
from typer.core import MARKUP_MODE_KEY
from typer.testing import CliRunner

import cli
from collector.providers import RESOLVERS

COMMANDS = [
    ("run",),
    ("daemon",),
    ("status",),
    ("controls",),
    ("checks",),
    ("runs",),
    ("demo",),
    ("permissions",),
    ("verify",),
    ("export",),
    ("prune",),
    ("serve",),
    ("report",),
    ("evidence", "show"),
    ("evidence", "add"),
    ("evidence", "list"),
    ("evidence", "get"),
    ("exception", "add"),
    ("exception", "list"),
    ("exception", "revoke"),
    ("db", "upgrade"),
]


def help_text(*words: str) -> str:
    result = CliRunner().invoke(cli.app, [*words, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return result.output


def test_version(annexa) -> None:
    code, out, _ = annexa("--version")
    assert code == 0 and out == f"annexa {version('annexa')}\n"


def test_shell_completion_script() -> None:
    """As a user runs it: the installed console script, in a process of its own (in process,
    typer's completion reads state that other tests in the same worker may have changed)."""
    annexa = Path(sys.executable).with_name("annexa")
    done = subprocess.run(
        [str(annexa), "--show-completion", "bash"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "_ANNEXA_COMPLETE" in done.stdout.upper() and "complete" in done.stdout


def test_every_command_has_plain_labels_and_marks_required() -> None:
    for words in [(), *COMMANDS]:
        text = help_text(*words)
        assert not re.search(r"<(bool|str|path|int|list\[[a-z]+\])>", text), (words, text)
    rows = option_rows(help_text("export"))
    for option in ("--from", "--to", "--out"):
        assert rows[option].startswith("*") and "[required]" in rows[option], option
    assert "*" not in rows["--sign-key"] and "[required]" not in rows["--sign-key"]


def option_rows(text: str) -> dict[str, str]:
    """Each option's row of the help table (wrapped lines joined)."""
    rows: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        cell = line.strip("│ ")
        name = re.match(r"(\*\s+)?(--[a-z-]+)", cell)
        if name:
            current = name[2]
            rows[current] = cell
        elif current and cell:
            rows[current] += " " + cell
    return rows


def test_provider_lists_come_from_the_registry() -> None:
    for words in (("run",), ("checks",), ("controls",), ("permissions",)):
        flat = " ".join(help_text(*words).replace("│", " ").split())
        assert ", ".join(sorted(RESOLVERS)) in flat.replace(", ", ",").replace(",", ", "), words
    group = typer.main.get_command(cli.app)
    for name in ("run", "permissions"):
        command = group.commands[name]  # type: ignore[attr-defined]
        [provider] = [p for p in command.params if p.name == "provider"]
        ctx = typer.Context(command)
        offered = [item.value for item in provider.shell_complete(ctx, "o")]
        assert offered == [p for p in sorted(RESOLVERS) if p.startswith("o")] == ["okta", "osquery"]


def test_daemon_host_and_port_override_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """--host/--port reach the daemon's settings (and survive a config reload)."""
    import collector.daemon

    seen = []

    class Daemon:
        def __init__(self, settings, reload):
            seen.append((settings.daemon.host, settings.daemon.port))
            reloaded = reload()
            seen.append((reloaded.daemon.host, reloaded.daemon.port))

        def run(self) -> int:
            raise typer.Exit(0)

    monkeypatch.setattr(collector.daemon, "Daemon", Daemon)
    result = CliRunner().invoke(
        cli.app, ["daemon", "--host", "0.0.0.0", "--port", "0", "--example-soa"]
    )
    assert result.exit_code == 0, result.output
    assert seen == [("0.0.0.0", 0), ("0.0.0.0", 0)]


def test_repeatable_options_take_repeats_and_comma_lists(annexa, tmp_path) -> None:
    """--state, --fail-on, --check and --control: repeating an option and giving a
    comma-separated list mean the same."""

    def states(*args: str) -> tuple[int, list[str]]:
        code, out, _ = annexa("status", *args, "--format", "json")
        return code, sorted({row["state"] for row in json.loads(out)})

    both = states("--state", "manual", "--state", "not_applicable")
    assert both == states("--state", "manual,not_applicable") == (0, ["manual", "not_applicable"])
    assert states("--fail-on", "failing", "--fail-on", "no_evidence")[0] == 1
    assert states("--fail-on", "failing,no_evidence")[0] == 1
    assert states("--fail-on", "failing,error")[0] == 0
    code, _, err = annexa("status", "--fail-on", "failing", "--fail-on", "bogus")
    assert code == 2 and "--fail-on: unknown state(s) bogus" in err
    policies = [
        annexa("permissions", "aws", *args)[1]
        for args in (
            ("--check", "aws.s3.default_encryption", "--check", "aws.iam.root_mfa_enabled"),
            ("--check", "aws.s3.default_encryption,aws.iam.root_mfa_enabled"),
        )
    ]
    assert policies[0] == policies[1] and "s3:GetEncryptionConfiguration" in policies[0]
    manifests = []
    for n, args in enumerate(
        (("--control", "A.8.12", "--control", "A.5.1"), ("--controls", "A.5.1,A.8.12"))
    ):
        out = tmp_path / f"p{n}.zip"
        code, _, err = annexa(
            "export", "--from", "2025-01-01", "--to", "2025-01-02", "--out", str(out), *args,
            "--example-soa",
        )  # fmt: skip
        assert code == 0, err
        manifests.append(json.loads(zipfile.ZipFile(out).read("manifest.json"))["controls"])
    assert manifests[0] == manifests[1] == ["A.5.1", "A.8.12"]


REFERENCE = Path(__file__).parent.parent / "docs" / "cli.md"
REGENERATE = (
    "typer cli.py utils docs --name annexa --title 'annexa command reference' --output docs/cli.md"
)


def test_reference_page_is_current() -> None:
    """docs/cli.md is what the CLI generates now (regenerate it with REGENERATE)."""
    command = typer.main.get_command(cli.app)
    ctx = typer.Context(command, obj={MARKUP_MODE_KEY: cli.app.rich_markup_mode})
    docs = get_docs_for_click(obj=command, ctx=ctx, name="annexa", title="annexa command reference")
    assert REFERENCE.read_text() == docs.strip() + "\n", f"docs/cli.md is stale: {REGENERATE}"
    for words in COMMANDS:
        assert f"## `annexa {' '.join(words)}`" in docs


def test_every_command_shows_examples_that_parse() -> None:
    """Each command's help ends with examples, and each example parses (every option and
    argument it uses exists and takes the value given)."""
    group = typer.main.get_command(cli.app)
    for words in COMMANDS:
        command = group
        for word in words:
            command = command.commands[word]  # type: ignore[attr-defined]
        assert command.epilog and command.epilog.startswith("Examples:"), words
        assert "Examples:" in help_text(*words)
        for line in command.epilog.splitlines()[2:]:
            args = shlex.split(line.split(">", 1)[0])[1:]
            ctx = group.make_context("annexa", args)
            for word in words:
                rest = [*ctx._protected_args, *ctx.args]  # the subcommand and its arguments
                assert rest[:1] == [word], line
                sub = ctx.command.commands[word]  # type: ignore[attr-defined]
                ctx = sub.make_context(word, rest[1:], parent=ctx)
            assert not ctx.args, (line, ctx.args)
