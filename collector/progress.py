"""A progress bar with an estimated time remaining, on stderr and only on a terminal: piped
output, logs and CI see nothing of it. ``run``, ``demo``, ``export`` and ``verify`` use it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["Advance", "progress_bar"]

#: ``update(done, total, detail="")``: how far the work is (total None while unknown)
Advance = Callable[..., None]


@contextmanager
def progress_bar(console: Console, label: str, unit: str) -> Iterator[Advance | None]:
    """Yield an ``update(done, total, detail="")`` callback drawing a bar with the count,
    percentage, elapsed time and ETA on ``console``; None when it is not a terminal."""
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn(f"[bold]{label}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}"),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(label, total=None, detail="")

        def update(done: int, total: int | None, detail: str = "") -> None:
            bar.update(task, completed=done, total=total, detail=detail)

        yield update
