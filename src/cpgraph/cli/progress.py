"""How the command line shows long work: bars on a terminal, lines elsewhere, or nothing.

``--progress`` draws the bars even when standard error is not a terminal (a pager that
understands them, a terminal multiplexer's log); ``--quiet`` says nothing but errors.
Otherwise the bars are drawn only when standard error is a terminal, and a pipe or a log
file gets the lines alone, with no control codes in them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as Bars
from rich.text import Text

from cpgraph.progress import SILENT, Advance, Lines, Progress

PROGRESS_COMMANDS = frozenset({"build", "validate", "export", "bundle", "push"})
"""The commands that may run for minutes, and so take ``--quiet`` and ``--progress``."""


def add_progress_options(parser: argparse.ArgumentParser, *, default: object) -> None:
    """Add ``--quiet`` and ``--progress`` to ``parser`` (a command's own with ``default``
    SUPPRESS, so that an option given before the command stays in place)."""
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--quiet",
        action="store_true",
        default=default,
        help="print nothing but the result and errors",
    )
    shown.add_argument(
        "--progress",
        action="store_true",
        default=default,
        help="draw progress bars even when standard error is not a terminal",
    )


def progress_for(args: argparse.Namespace, stream: IO[str] | None = None) -> Progress:
    """The progress a command reports to: nothing with ``--quiet``, bars on a terminal (or
    with ``--progress``), else lines on standard error."""
    stream = stream or sys.stderr
    if getattr(args, "quiet", False):
        return SILENT
    forced = bool(getattr(args, "progress", False))
    if forced or stream.isatty():
        return TerminalProgress(Console(file=stream, force_terminal=forced or None))
    return Lines(lambda message: print(message, file=stream, flush=True))


class _Count(ProgressColumn):
    """How much is done: ``1.2/3.4 MB`` for bytes, ``1,000/20,000 statements`` else."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = DownloadColumn()

    def render(self, task: Task) -> Text:
        unit = str(task.fields.get("unit", ""))
        if unit == "bytes":
            return self._bytes.render(task)
        if task.total is None and not task.completed:  # a task that only shows it runs
            return Text("")
        done = f"{int(task.completed):,}"
        if task.total is not None:
            done += f"/{int(task.total):,}"
        return Text(f"{done} {unit}", style="progress.download")


class _Rate(ProgressColumn):
    """How fast: bytes per second, or units per second."""

    def __init__(self) -> None:
        super().__init__()
        self._bytes = TransferSpeedColumn()

    def render(self, task: Task) -> Text:
        unit = str(task.fields.get("unit", ""))
        if unit == "bytes":
            return self._bytes.render(task)
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("", style="progress.data.speed")
        return Text(f"{speed:,.0f} {unit}/s", style="progress.data.speed")


class TerminalProgress:
    """Bars on a terminal, one per running task, with the lines printed above them; a bar
    goes when its task ends, the lines stay."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._bars: Bars | None = None
        self._running = 0

    @property
    def counting(self) -> bool:
        """Always: the counts are drawn."""
        return True

    def say(self, message: str) -> None:
        """Print the line above the bars."""
        self._console.print(message, markup=False, highlight=False, soft_wrap=True)

    @contextmanager
    def task(
        self, description: str, *, total: float | None = None, unit: str = "statements"
    ) -> Iterator[Advance]:
        """A bar for the task: done, rate, time gone and (with a total) time left."""
        bars = self._start()
        task = bars.add_task(description, total=total, unit=unit)
        try:
            yield lambda done: bars.advance(task, done)
        finally:
            self._end(task)

    def _start(self) -> Bars:
        if self._bars is None:
            self._bars = Bars(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                _Count(),
                _Rate(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._bars.start()
        self._running += 1
        return self._bars

    def _end(self, task: TaskID) -> None:
        assert self._bars is not None
        self._bars.remove_task(task)
        self._running -= 1
        if self._running == 0:
            self._bars.stop()
            self._bars = None
