"""Per-client limits, counted in this process or across every server process.

A client holds at most ``CPGRAPH_CLIENT_CONCURRENCY`` queries at a time (and
``CPGRAPH_VALIDATE_CONCURRENCY`` validations), whichever server process its connections
reach: the counts live in shared memory (:class:`SharedCounts`), one row per server process,
and the supervisor clears the row of a process that died.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any

from cpgraph.errors import LimitError, TooManyQueriesError

log = logging.getLogger(__name__)


class ClientLimiter:
    """Counts the queries (or other jobs) each client has running and refuses one beyond
    ``limit``.

    With a :class:`SharedCounts` table the count is shared by every server process, so a
    client's limit holds whichever process its connections reach. ``local_limit`` bounds
    what one client holds in this process alone: kept below the process's pool threads, it
    leaves a thread for every other client. A refusal is an ``error`` that names what is
    counted (``noun``); ``room``, when given, is asked after the client's count here and
    before the shared one, and raises when this process has no place left for anyone.
    """

    def __init__(
        self,
        limit: int,
        shared: SharedCounts | None = None,
        *,
        local_limit: int | None = None,
        noun: str = "queries",
        error: type[LimitError] = TooManyQueriesError,
        room: Callable[[], None] | None = None,
    ) -> None:
        self.limit = limit
        self.local_limit = limit if local_limit is None else max(1, min(local_limit, limit))
        self._shared = shared
        self._noun = noun
        self._error = error
        self._room = room
        self._running: dict[str, int] = {}  # what this process counts, by client

    def acquire(self, client: str) -> None:
        """Count one more query for ``client``.

        Raises:
            TooManyQueriesError: if ``client`` already has ``limit`` queries running (or
                ``local_limit`` in this process); the limiter's ``error``, where given.
            LimitError: what ``room`` raises.
        """
        here = self._running.get(client, 0)
        if here >= self.local_limit:
            raise self._refusal(max(here, self._total(client)))
        if self._room is not None:
            self._room()
        running = here if self._shared is None else self._shared.add(client, self.limit)
        if running >= self.limit:
            raise self._refusal(running)
        self._running[client] = here + 1

    def check(self, client: str) -> None:
        """Refuse a query of ``client`` at its limit, without counting it.

        For a query answered at once (:mod:`cpgraph.engine.at_once`): it holds no thread and
        ends before the event loop does anything else, but a client at its limit gets no more.
        The shared count is read without its lock (a glance: it may miss a change made at
        that instant by another process).

        Raises:
            TooManyQueriesError: if ``client`` has ``limit`` queries running.
        """
        running = self._total(client)
        if running >= self.limit:
            raise self._refusal(running)

    def _total(self, client: str) -> int:
        if self._shared is not None:
            return self._shared.peek(client)
        return self._running.get(client, 0)

    def held(self) -> int:
        """How many are counted in this process, for every client."""
        return sum(self._running.values())

    def _refusal(self, running: int) -> LimitError:
        return self._error(
            f"{running} of your {self._noun} are still running (the limit is {self.limit}); "
            "wait for one to finish"
        )

    def release(self, client: str) -> None:
        """Count one query of ``client`` as finished."""
        if self._shared is not None:
            self._shared.remove(client)
        running = self._running.get(client, 0) - 1
        if running > 0:
            self._running[client] = running
        else:
            self._running.pop(client, None)


class SharedCounts:
    """Per-client counters in shared memory, for every server process of one service.

    An open-addressing table of ``slots`` keys, each a stable 63-bit hash of the client's
    address (Python's own ``hash`` differs between processes), with one row of counts per
    server process: a client's count is the sum of its row entries, and the supervisor
    clears the row of a process that died (:meth:`clear_row`), so the queries it held are
    never counted against their clients again. A full table counts every further client in
    one shared overflow slot: limits still hold, if crudely. Made in the supervisor with
    :meth:`create`; each server process counts in its own row (:meth:`for_row`).
    """

    def __init__(self, table: Any, lock: Any, slots: int, rows: int = 1, row: int = 0) -> None:
        self._table = table
        self._lock = lock
        self._slots = slots
        self._rows = rows
        self._row = row

    @classmethod
    def create(cls, context: Any, slots: int = 4096, rows: int = 1) -> SharedCounts:
        """A zeroed table of ``rows`` rows in shared memory from a multiprocessing
        ``context``."""
        return cls(context.RawArray("q", (slots + 1) * (rows + 1)), context.Lock(), slots, rows)

    def for_row(self, row: int) -> SharedCounts:
        """The same table, counting in ``row`` (one server process's)."""
        if not 0 <= row < self._rows:
            raise ValueError(f"row {row} of {self._rows}")
        return SharedCounts(self._table, self._lock, self._slots, self._rows, row)

    def __reduce__(self) -> tuple[Any, ...]:
        return (SharedCounts, (self._table, self._lock, self._slots, self._rows, self._row))

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def _key(client: str) -> int:
        digest = hashlib.blake2b(client.encode(), digest_size=8).digest()
        return (int.from_bytes(digest, "big") >> 1) or 1

    def _count_at(self, row: int, index: int) -> int:
        return (row + 1) * (self._slots + 1) + index

    def _total_at(self, index: int) -> int:
        table, width = self._table, self._slots + 1
        return sum(int(table[(row + 1) * width + index]) for row in range(self._rows))

    def _slot(self, key: int, *, claim: bool) -> int:
        table, slots = self._table, self._slots
        start = key % slots
        for step in range(slots):
            index = (start + step) % slots
            held = table[index]
            if held == key or (claim and (held == 0 or self._total_at(index) == 0)):
                return index
            if held == 0:
                break
        return slots  # the overflow slot

    def add(self, client: str, limit: int) -> int:
        """Count one more query of ``client`` unless it has ``limit``; return the count before."""
        key = self._key(client)
        with self._lock:
            index = self._slot(key, claim=False)
            if index == self._slots or self._table[index] != key:
                index = self._slot(key, claim=True)
                if index < self._slots:
                    self._table[index] = key
            running = self._total_at(index)
            if running < limit:
                self._table[self._count_at(self._row, index)] += 1
            return running

    def remove(self, client: str) -> None:
        """Count one query of ``client`` as finished (in this row)."""
        key = self._key(client)
        with self._lock:
            index = self._slot(key, claim=False)
            at = self._count_at(self._row, index)
            if self._table[at] > 0:
                self._table[at] -= 1

    def clear_row(self, row: int, *, wait: float = 2.0) -> None:
        """Forget every query counted in ``row``: its process has ended.

        The lock is taken with a time limit: a process that died while holding it (it holds
        it for microseconds) would otherwise hold it for ever; it is then released here.
        """
        if not self._lock.acquire(timeout=wait):
            log.warning("the client counts' lock was held by a process that ended; freed")
        try:
            width = self._slots + 1
            base = (row + 1) * width
            for index in range(width):
                self._table[base + index] = 0
        finally:
            self._lock.release()

    def running(self, client: str) -> int:
        """How many queries ``client`` has running (in every row)."""
        with self._lock:
            return self.peek(client)

    def peek(self, client: str) -> int:
        """:meth:`running` without taking the lock (a count changing meanwhile may be missed)."""
        key = self._key(client)
        index = self._slot(key, claim=False)
        held = index == self._slots or self._table[index] == key
        return self._total_at(index) if held else 0
