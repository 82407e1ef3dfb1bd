"""A worker process plans its jobs once when its first tasks arrive together (a ``threads``
pool, or ``schedule.concurrency`` > 1): two concurrent plans resolved every account twice (an
AssumeRole each) and drove one shared credential session from two threads."""

from __future__ import annotations

import threading

from collector.accounts import Account
from collector.settings import Settings
from collector.worker.app import WorkerContext
from tests.worker import ACCOUNT, S3


def test_tasks_arriving_together_share_one_plan():
    resolved: list[str] = []
    second = threading.Event()

    def accounts(settings, providers):
        resolved.append(threading.current_thread().name)
        if len(resolved) == 1:
            second.wait(2)  # a second task comes in while this one plans
        else:
            second.set()
        return [Account("aws", ACCOUNT, regions=("us-east-1",))]

    context = WorkerContext(Settings(checks=[S3]), accounts)
    key = f"{S3}@aws:{ACCOUNT}"
    found: list[set[str]] = []
    tasks = [
        threading.Thread(target=lambda: found.append(set(context.jobs([key]))), name=f"task-{n}")
        for n in (1, 2)
    ]
    for task in tasks:
        task.start()
    for task in tasks:
        task.join(60)
    assert len(resolved) == 1
    assert found == [{key}, {key}]
