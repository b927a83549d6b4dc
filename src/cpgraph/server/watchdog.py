"""A server process's memory ceiling: past it, its queries are answered 503 and it exits.

Oxigraph cannot be told to stop a step in the middle (a group, a sort, a hash join's build
side), and such a step can grow memory at hundreds of MB a second until the kernel's OOM
killer ends a process, not necessarily this one. So a thread reads the process's resident
size a few times a second; past the ceiling, the queries not yet answered get a 503
problem, and the process exits with :data:`EXIT_MEMORY` for its supervisor to replace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

EXIT_MEMORY = 75  # the exit status of a process that passed its ceiling
CHECK_SECONDS = 0.1
ANSWER_SECONDS = 0.5  # what the event loop has to write the 503s before the process exits
_PAGE = os.sysconf("SC_PAGE_SIZE")


def resident_bytes() -> int:
    """This process's resident memory, in bytes (0 where /proc cannot be read)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


class MemoryWatchdog:
    """Watches this process's resident memory against ``ceiling`` bytes; past it, calls
    ``on_exceeded(resident)`` on ``loop`` once, then ends the process."""

    def __init__(
        self,
        ceiling: int,
        loop: asyncio.AbstractEventLoop,
        on_exceeded: Callable[[int], None],
        *,
        exit: Callable[[int], None] = os._exit,
    ) -> None:
        self.ceiling = ceiling
        self._loop = loop
        self._on_exceeded = on_exceeded
        self._exit = exit
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="cpgraph-memory", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(CHECK_SECONDS):
            resident = resident_bytes()
            if resident <= self.ceiling:
                continue
            log.error(
                "this server process holds %d MiB, past its ceiling of %d MiB "
                "(CPGRAPH_PROCESS_MEMORY_MIB): its queries are answered 503 and it is replaced",
                resident >> 20,
                self.ceiling >> 20,
            )
            with contextlib.suppress(RuntimeError):  # a closed loop has nothing to answer
                self._loop.call_soon_threadsafe(self._on_exceeded, resident)
            self._stop.wait(ANSWER_SECONDS)
            self._exit(EXIT_MEMORY)
            return
