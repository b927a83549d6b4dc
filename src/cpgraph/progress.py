"""Progress of long work (build, validate, export, bundle, push): reported by the library,
drawn by whoever called it.

The library says what it has done (:meth:`Progress.say`, a line worth keeping in a log) and
counts what it is doing (:meth:`Progress.task`: statements, bytes or files, with a total
when one is known). The command line draws the counts as bars on a terminal
(:mod:`cpgraph.cli.progress`); :data:`LOGGED`, the default, logs the lines and draws nothing.
Work that would slow down to be counted (a file read through Python instead of by the
store's own loader) asks :attr:`Progress.counting` first.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Protocol, TypeVar, cast

log = logging.getLogger(__name__)

T = TypeVar("T")

Advance = Callable[[float], None]
"""Adds a number of units done to a task."""


class Progress(Protocol):
    """Where long work reports what it does."""

    @property
    def counting(self) -> bool:
        """Whether the counts of tasks are drawn (else work need not count)."""
        ...

    def say(self, message: str) -> None:
        """Report a step done, in a line worth keeping."""
        ...

    def task(
        self, description: str, *, total: float | None = None, unit: str = "statements"
    ) -> AbstractContextManager[Advance]:
        """A piece of work of ``total`` units (None: unknown), counted by the function it
        yields, and over when the block ends."""
        ...


class Lines:
    """Progress as lines only: each :meth:`say` goes to ``write``; tasks are not drawn."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    @property
    def counting(self) -> bool:
        """Never: nothing draws the counts."""
        return False

    def say(self, message: str) -> None:
        """Write the line."""
        self._write(message)

    @contextmanager
    def task(
        self, description: str, *, total: float | None = None, unit: str = "statements"
    ) -> Iterator[Advance]:
        """A task whose counts go nowhere."""
        yield _ignore


def _ignore(_done: float) -> None:
    return None


def _unsaid(_message: str) -> None:
    return None


LOGGED = Lines(log.info)
"""The library's default: lines to the log (level INFO), no counts."""

SILENT = Lines(_unsaid)
"""Nothing at all (tests, and callers with a report of their own)."""


def counted(items: Iterable[T], advance: Advance, *, every: int = 10_000) -> Iterator[T]:
    """``items``, advancing a task by one per item (in steps of ``every``, so that counting
    costs next to nothing)."""
    pending = 0
    for item in items:
        yield item
        pending += 1
        if pending == every:
            advance(pending)
            pending = 0
    if pending:
        advance(pending)


class CountingReader(io.RawIOBase):
    """A binary file whose reads advance a task by the bytes read: a file loaded by a parser
    that takes a file object shows how far it has gone."""

    def __init__(self, raw: IO[bytes], advance: Advance) -> None:
        super().__init__()
        self._raw = raw
        self._advance = advance

    def readable(self) -> bool:
        """Always: it is a reader."""
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """Read into ``buffer`` and count what was read."""
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._advance(len(data))
        return len(data)


class CountingWriter(io.RawIOBase):
    """A binary sink that passes writes on to ``raw`` and advances a task by the bytes."""

    def __init__(self, raw: IO[bytes], advance: Advance) -> None:
        super().__init__()
        self._raw = raw
        self._advance = advance

    def writable(self) -> bool:
        """Always: it is a writer."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        """Write ``data`` on and count it."""
        written = self._raw.write(bytes(data))
        self._advance(len(data))
        return written if written is not None else len(data)

    def flush(self) -> None:
        """Flush the sink written to."""
        self._raw.flush()


def counting_writer(raw: IO[bytes], advance: Advance) -> IO[bytes]:
    """``raw``, with what is written to it counted: a :class:`CountingWriter`, typed as the
    binary file whose writing half it is, for writers that take one."""
    return cast(IO[bytes], CountingWriter(raw, advance))
