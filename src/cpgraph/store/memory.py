"""Serving a build from memory: a copy of the current build, made in the background.

Oxigraph answers faster from memory than from disk when a query reads many statements, and a
build never changes once published (:mod:`cpgraph.store.builds`). So a server whose store fits
in memory opens each build on disk at once, and a thread of its own copies it into memory
(:meth:`~cpgraph.store.oxigraph.GraphStore.memory_copy`) and hands the copy over when whole.
The copy changes how fast an answer comes, never what it is. Publications in quick succession
make one copy, of the last; each server process holds its own.

What fits is the operator's choice (``CPGRAPH_MEMORY_STATEMENTS``), within what the machine
has: a copy is not made when it would take more than half of the memory available.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cpgraph.errors import CpgraphError
from cpgraph.store.oxigraph import GraphStore

log = logging.getLogger(__name__)

# What a copy takes per statement of the dataset, with the merged union beside it (measured
# on the benchmark's store, rounded up; see benchmarks/RESULTS.md).
BYTES_PER_STATEMENT = 1200
QUIET_SECONDS = 0.5  # a copy starts once no newer build was published for this long


def available_memory() -> int | None:
    """Bytes of memory the system can give without swapping (Linux's ``MemAvailable``), or
    None where that is not known (then only the operator's limit applies)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def refusal(statements: int, *, limit: int, available: int | None) -> str | None:
    """Why a build of ``statements`` is not copied into memory, or None when it is.

    ``limit`` is the operator's (0: never); ``available`` the bytes the machine can give
    (None: unknown). A copy may take at most half of them: the other half is for the rest
    of the server, the next copy while this one serves, and the machine's other work.
    """
    if limit <= 0:
        return "serving from memory is off (CPGRAPH_MEMORY_STATEMENTS=0)"
    if statements > limit:
        return (
            f"{statements:,} statements is more than CPGRAPH_MEMORY_STATEMENTS "
            f"({limit:,}) serves from memory"
        )
    needed = statements * BYTES_PER_STATEMENT
    if available is not None and needed > available // 2:
        return (
            f"a copy of {statements:,} statements takes about {needed / 2**20:,.0f} MiB, more "
            f"than half of the {available / 2**20:,.0f} MiB available"
        )
    return None


@dataclass(frozen=True, slots=True)
class MemoryState:
    """Where a server answers from: ``"memory"``, ``"disk"`` or ``"copying"`` (from disk,
    until the copy is whole), and why when it is disk."""

    serving: str
    build: str | None = None
    reason: str | None = None


class MemoryCopies:
    """Copies each build a server follows into memory, one at a time, in a thread.

    :meth:`follow` is called with the store a server just opened on disk (at start-up and
    after each publication); ``on_ready`` is called, in the copying thread, with the copy
    of it once whole. It must check that the build is still the one served (a newer one may
    have been published meanwhile) before it puts the copy in its place, and say whether it
    did.
    """

    def __init__(
        self,
        limit: int,
        on_ready: Callable[[GraphStore], bool],
        *,
        available: Callable[[], int | None] = available_memory,
        quiet: float = QUIET_SECONDS,
    ) -> None:
        self._limit = limit
        self._on_ready = on_ready
        self._available = available
        self._quiet = quiet
        self._wanted: GraphStore | None = None
        self._changed = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.state = MemoryState("disk", reason="no build followed yet")

    def follow(self, store: GraphStore) -> None:
        """Copy ``store`` (a build opened on disk) into memory, once no newer one follows."""
        with self._changed:
            if self._closed:
                return
            self._wanted = store
            self.state = MemoryState("copying", _name(store))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="cpgraph-memory", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def close(self, timeout: float | None = None) -> None:
        """Stop copying; a copy under way is finished (Oxigraph cannot stop it) and dropped."""
        with self._changed:
            self._closed = True
            self._wanted = None
            self._changed.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def _next(self) -> GraphStore | None:
        """The build to copy, once none newer came for ``quiet`` seconds (None: closed)."""
        with self._changed:
            while True:
                while self._wanted is None and not self._closed:
                    self._changed.wait()
                if self._closed:
                    return None
                wanted = self._wanted
                self._changed.wait(self._quiet)  # woken early by a newer build, or closing
                if self._closed:
                    return None
                if self._wanted is wanted:
                    self._wanted = None
                    return wanted

    def _run(self) -> None:
        while (store := self._next()) is not None:
            self._copy(store)

    def _copy(self, store: GraphStore) -> None:
        name = _name(store)
        try:
            why = refusal(len(store), limit=self._limit, available=self._available())
            if why is not None:
                self._settle(store, MemoryState("disk", name, why))
                return
            copy = store.memory_copy()
        except CpgraphError as exc:
            log.warning("serving %s from disk: %s", name, exc)
            self._settle(store, MemoryState("disk", name, str(exc)))
            return
        with self._changed:
            if self._closed or self._wanted is not None:
                return  # closing, or a newer build is waiting: this copy is not served
        if self._on_ready(copy):
            self._settle(store, MemoryState("memory", name))

    def _settle(self, store: GraphStore, state: MemoryState) -> None:
        """Say where the server answers from, unless a newer build is followed meanwhile."""
        with self._changed:
            if self._wanted is None and not self._closed:
                self.state = state


def _name(store: GraphStore) -> str | None:
    return Path(store.path).name if store.path is not None else None
