"""A run killed with SIGKILL keeps every committed record, and the next command shows it as
interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import cli
from storage import EvidenceStore

SCRIPT = textwrap.dedent("""
    import sys, threading
    from typing import ClassVar
    from checks.api import Finding, Snapshot, check
    from collector.accounts import Account
    from collector.collect import collects
    from collector.registry import build_registry
    from collector.runner import Runner
    from storage import EvidenceStore

    class Items(Snapshot):
        names: list[str]

    class More(Snapshot):
        names: list[str]

    class Hang(Snapshot):
        names: list[str]

    @collects(Items, permissions=["lab:List"])
    def items(scope):
        return Items(names=["a", "b"])

    @collects(More, permissions=["lab:More"])
    def more(scope):
        return More(names=["a", "b"])

    @collects(Hang, permissions=["lab:Hang"])
    def hang(scope):
        threading.Event().wait()  # never returns: the process is killed here

    @check(id="lab.items.one", title="t", severity="low")
    def one(items: Items):
        yield from (Finding(resource=n, passed=True, message="ok") for n in items.names)

    @check(id="lab.items.two", title="t", severity="low")
    def two(items: More):  # its own fetch: the runner starts fetches before reuses
        yield from (Finding(resource=n, passed=False, message="no") for n in items.names)

    @check(id="lab.items.zhang", title="t", severity="low")
    def zhang(hang: Hang):
        yield from ()

    class Scope:
        def __init__(self, target, cache):
            self.target = target

    registry = build_registry([("script", sys.modules[__name__])])
    store = EvidenceStore.open(sys.argv[1])
    runner = Runner(registry, store, concurrency=1)
    runner.run(registry.select(), [Account("lab", "lab-1", make_scope=Scope)])
""")


def test_sigkill_mid_run_keeps_evidence_and_shows_interrupted(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'annexa.sqlite'}"
    script = tmp_path / "run_and_hang.py"
    script.write_text(SCRIPT)
    env = os.environ | {"PYTHONPATH": os.getcwd()}
    child = subprocess.Popen([sys.executable, str(script), url], env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (tmp_path / "annexa.sqlite").exists():
                store = EvidenceStore.open(url)
                written = store.count()
                store.close()
                if written >= 2:
                    break
            assert child.poll() is None, "the run ended before it could be killed"
            time.sleep(0.1)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(10)

    monkeypatch.setattr(sys, "argv", ["annexa", "--database", url, "runs", "--format", "json"])
    try:
        cli.main()
    except SystemExit as exited:
        assert exited.code == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["outcome"] == "interrupted"
    assert run["records"] == 2 and run["planned"] == 3

    store = EvidenceStore.open(url)
    checked, broken = store.verify()
    history = store.history(check_ids=["lab.items.one", "lab.items.two"])
    store.close()
    assert (checked, broken) == (2, None)
    assert {r.check_id: r.status for r in history} == {
        "lab.items.one": "pass",
        "lab.items.two": "fail",
    }
