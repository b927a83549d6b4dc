"""What the supervisor and its server processes tell each other, in shared memory.

A server process that dies (a crash inside the engine, the kernel's OOM killer, its own
memory watchdog) cannot say why. So each process writes down, as it goes:

- that it has started (``ready``): a process that dies before is failing to start, one that
  dies after was ended by something it was doing;
- a digest of each query or update it is evaluating (``in flight``), cleared when done.

When a process that was ready crashes (a signal such as SIGSEGV), the supervisor puts the
digest it had in flight in **quarantine** for a while (see
:meth:`cpgraph.server.supervisor.Supervisor._suspected` for which, when it held several): the
same text is then refused at once, with a problem that says so, instead of crashing the next
process too. SIGKILL, the memory ceiling and a query stuck past its time limit quarantine
nothing.

Digests are 63 bits of BLAKE2b of the text. A process reads the quarantine only when its
generation has changed, and computes a digest only while something is in quarantine, so a
service with nothing in quarantine pays one read of shared memory a query.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from cpgraph.errors import QueryQuarantinedError

log = logging.getLogger(__name__)

IN_FLIGHT = 64  # texts one process may be evaluating at once (more go unrecorded)
QUARANTINE = 256  # texts in quarantine at once (the oldest make room)

# Layout of the shared array of 64-bit integers.
_GENERATION = 0
_NEXT = 1  # where the next quarantined digest goes (a ring)
_HEADER = 2
_ROW = 2 + IN_FLIGHT  # per row: ready, pid, then the digests in flight


def digest(text: str) -> int:
    """A stable 63-bit digest of ``text``, never 0 (0 marks an empty place)."""
    value = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return (int.from_bytes(value, "big") >> 1) or 1


class Board:
    """The shared record of every server process's state and of the quarantine.

    Made in the supervisor with :meth:`create` and handed to each process, which uses the
    view of its own row (:meth:`for_row`).
    """

    def __init__(self, table: Any, lock: Any, rows: int, row: int = -1) -> None:
        self._table = table
        self._lock = lock
        self._rows = rows
        self.row = row
        # This process's view of the quarantine: digest -> until (time.time()).
        self._generation = -1
        self._quarantined: dict[int, float] = {}
        self._places = threading.Lock()
        self._free = list(range(IN_FLIGHT))

    @classmethod
    def create(cls, context: Any, rows: int) -> Board:
        """A zeroed board for ``rows`` server processes from a multiprocessing ``context``."""
        size = _HEADER + 2 * QUARANTINE + rows * _ROW
        return cls(context.RawArray("q", size), context.Lock(), rows)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Board, (self._table, self._lock, self._rows, self.row))

    def for_row(self, row: int) -> Board:
        """The board as the process of ``row`` uses it."""
        if not 0 <= row < self._rows:
            raise ValueError(f"row {row} of {self._rows}")
        return Board(self._table, self._lock, self._rows, row)

    def _base(self, row: int) -> int:
        return _HEADER + 2 * QUARANTINE + row * _ROW

    # ------------------------------------------------------------------ the process's side

    def mark_ready(self, pid: int) -> None:
        """This process has started and is serving."""
        base = self._base(self.row)
        self._table[base + 1] = pid
        self._table[base] = 1

    @contextlib.contextmanager
    def in_flight(self, text: str) -> Iterator[None]:
        """Record ``text`` as being evaluated by this process while the block runs."""
        if self.row < 0:
            yield
            return
        with self._places:
            place = self._free.pop() if self._free else None
        if place is None:
            yield
            return
        at = self._base(self.row) + 2 + place
        self._table[at] = digest(text)
        try:
            yield
        finally:
            self._table[at] = 0
            with self._places:
                self._free.append(place)

    def check(self, text: str, what: str = "query") -> None:
        """Refuse ``text`` while it is in quarantine.

        Raises:
            QueryQuarantinedError: if the same text crashed a server process a while ago.
        """
        generation = self._table[_GENERATION]
        if generation != self._generation:
            self._reload(generation)
        if not self._quarantined:
            return
        until = self._quarantined.get(digest(text))
        if until is None:
            return
        left = until - time.time()
        if left > 0:
            raise QueryQuarantinedError(
                f"this {what} crashed a server process; "
                f"the same text is refused for {left:.0f} s more",
                retry_after=max(1, round(left)),
            )

    def _reload(self, generation: int) -> None:
        now = time.time()
        table = self._table
        quarantined: dict[int, float] = {}
        for place in range(QUARANTINE):
            key = table[_HEADER + 2 * place]
            until = table[_HEADER + 2 * place + 1] / 1000
            if key and until > now:
                quarantined[key] = until
        self._quarantined = quarantined
        self._generation = generation

    # --------------------------------------------------------------- the supervisor's side

    def ready(self, row: int) -> bool:
        """Whether the process of ``row`` had started serving."""
        return bool(self._table[self._base(row)])

    def held(self, row: int) -> list[int]:
        """The digests the process of ``row`` was evaluating."""
        base = self._base(row) + 2
        return [int(d) for d in self._table[base : base + IN_FLIGHT] if d]

    def reset(self, row: int) -> None:
        """Clear ``row`` for the process that takes it next."""
        base = self._base(row)
        for at in range(base, base + _ROW):
            self._table[at] = 0

    def quarantine(self, digests: list[int], seconds: float) -> None:
        """Put ``digests`` in quarantine for ``seconds``; every process sees it at its next
        query."""
        if not digests or seconds <= 0:
            return
        until = int((time.time() + seconds) * 1000)
        if not self._lock.acquire(timeout=2.0):
            log.warning("the quarantine's lock was held by a process that ended; freed")
        try:
            table = self._table
            for key in digests:
                place = table[_NEXT] % QUARANTINE
                table[_HEADER + 2 * place] = key
                table[_HEADER + 2 * place + 1] = until
                table[_NEXT] = place + 1
            table[_GENERATION] += 1
        finally:
            self._lock.release()
