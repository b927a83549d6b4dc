"""``cpgraph serve``: a supervisor and a few server processes on one listening socket.

Each server process is a whole application (uvicorn over :func:`cpgraph.server.app.create_app`)
that evaluates queries in its own threads (:mod:`cpgraph.engine.pool`). The supervisor binds the
socket once, starts ``settings.processes`` server processes on it (the kernel hands each new
connection to one of them), and starts a new process whenever one ends, for whatever reason:
a crash, or a query that passed its time limit inside a step Oxigraph cannot interrupt, after
which that process stops taking connections, finishes its answers and exits. Meanwhile the
other processes go on answering, so the service never goes away with a runaway query.

The server processes allocate memory with mimalloc unless the operator says otherwise
(:mod:`cpgraph.server.allocator`): the supervisor puts it in the environment they start with.

The per-client concurrency limit is counted in shared memory (:class:`SharedCounts`), so it
holds across the processes, one row of counts per process.

A process that dies is never fatal to the service. The shared board
(:mod:`cpgraph.server.board`) tells a process that failed to start (it never said it was
ready: a few of those in a row stop the service, as nothing could serve) from one ended by
what it was doing (a crash inside the engine, the OOM killer, its memory ceiling). For the
latter, the supervisor forgets the queries it held from their clients' counts, after a crash
(a signal such as SIGSEGV) puts in quarantine the text it was evaluating (the one it held
alone, or one it held at an earlier crash too), has the other processes look at the
store's current build again (a write it published may not have been announced), and starts
another in its place.
Server processes die with the supervisor, even one killed with SIGKILL, so the port is never
left held.

Server process threads get large stacks (:data:`THREAD_STACK_BYTES`): the engine's parser
recurses once a level of nesting, and the query-text limits leave it a wide margin.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from cpgraph.config import Settings, process_memory_ceiling
from cpgraph.engine.limits import SharedCounts
from cpgraph.errors import StoreError
from cpgraph.server import allocator
from cpgraph.server.board import Board
from cpgraph.server.protocol_check import fast_path_problem
from cpgraph.server.runtime import runtime_of
from cpgraph.server.watchdog import EXIT_MEMORY
from cpgraph.store.builds import announce_publication
from cpgraph.store.configured import is_remote, open_store

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

log = logging.getLogger("cpgraph.serve")

CHECK_SECONDS = 0.2
STOP_SECONDS = 10.0
MAX_FAILED_STARTS = 5  # processes in a row that end before they serve: the service stops
RESTART_PAUSE = 1.0  # the most a replacement waits after processes ended in quick succession
THREAD_STACK_BYTES = 256 << 20  # reserved, not committed: only what a thread touches is used
_PR_SET_PDEATHSIG = 1
# What a crash inside the engine ends a process with (a stack overflow, an abort); SIGKILL is
# the kernel's OOM killer or an operator, and says nothing of the texts in flight.
CRASH_SIGNALS = frozenset(
    {signal.SIGSEGV, signal.SIGBUS, signal.SIGABRT, signal.SIGILL, signal.SIGFPE}
)


def _die_with_parent(parent: int) -> None:
    """Have the kernel end this process when the supervisor ends, however it ends."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the supervisor's own stop still holds
        return
    if os.getppid() != parent:  # the supervisor ended before the request was made
        os._exit(1)


def _server_process(
    settings: Settings,
    sock: socket.socket,
    counts: SharedCounts,
    validations: SharedCounts,
    board: Board,
    parent: int,
) -> None:
    """One server process: the application under uvicorn on the shared socket, until it is
    told to stop or hands over after a stuck query."""
    _die_with_parent(parent)
    threading.stack_size(THREAD_STACK_BYTES)
    import uvicorn

    from cpgraph.server.app import create_app

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(
        settings,
        client_counts=counts,
        validation_counts=validations,
        board=board,
        memory_ceiling=process_memory_ceiling(settings),
    )
    server = uvicorn.Server(uvicorn_config(app, settings))

    def hand_over() -> None:
        server.should_exit = True

    runtime_of(app).drain = hand_over
    try:
        server.run(sockets=[sock])
    finally:
        logging.shutdown()
        # A stuck query's thread would keep the interpreter from exiting: end the process.
        os._exit(0)


def uvicorn_config(app: FastAPI, settings: Settings, **options: Any) -> uvicorn.Config:
    """How a server process runs ``app`` under uvicorn (``options`` add to it): with the fast
    GET path (:mod:`cpgraph.server.protocol`) where the uvicorn installed has the internals
    it uses, else through the standard ASGI path, saying why in one line of the log."""
    import uvicorn

    problem = fast_path_problem()
    if problem is None:
        from cpgraph.server.protocol import sparql_protocol

        http: type[asyncio.Protocol] | str = sparql_protocol(runtime_of(app))
    else:
        log.warning("GET queries are answered through ASGI, without the fast path: %s", problem)
        # h11, not httptools: httptools skips the body of a request that offers an upgrade
        # (Java's Upgrade: h2c), which only the fast path's protocol reads again.
        http = "h11"
    return uvicorn.Config(
        app,
        http=http,
        log_level="info",
        access_log=settings.access_log,
        proxy_headers=False,
        # A handing-over process finishes its answers; none runs longer than the time limit.
        timeout_graceful_shutdown=int(settings.query_timeout) + 5,
        **options,
    )


class Supervisor:
    """Starts the server processes on one socket and replaces any that ends."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._rows = settings.processes
        self._counts = SharedCounts.create(self._context, rows=self._rows)
        self._validations = SharedCounts.create(self._context, slots=1024, rows=self._rows)
        self._board = Board.create(self._context, rows=self._rows)
        self._processes: dict[int, BaseProcess] = {}  # by row
        self._stopping = False
        self._failed_starts = 0
        self._recent_ends: list[float] = []
        self._suspects: dict[int, float] = {}  # texts held at a crash, by when

    def run(self) -> None:
        """Serve until SIGINT or SIGTERM.

        Raises:
            StoreError: if the address cannot be bound, or server processes keep failing to
                start (their own messages are logged).
        """
        settings = self.settings
        try:
            sock = socket.create_server((settings.host, settings.port), backlog=2048)
        except OSError as exc:
            raise StoreError(
                f"cannot listen on {settings.host}:{settings.port}: {exc.strerror}"
            ) from None
        sock.set_inheritable(True)
        choice = allocator.choose(settings.allocator, os.environ, allocator.mimalloc_library())
        if choice.reason is not None:
            log.warning("server processes allocate with the system's allocator: %s", choice.reason)
        environment = allocator.apply(choice)
        previous = {
            sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        log.info(
            "cpgraph serving http://%s:%d with %d server processes (allocator: %s)",
            settings.host,
            settings.port,
            settings.processes,
            choice.allocator,
        )
        try:
            for row in range(self._rows):
                self._start(sock, row)
            while not self._stopping:
                time.sleep(CHECK_SECONDS)
                self._replace_ended(sock)
        finally:
            self._stop_all()
            sock.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            allocator.restore(environment)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stopping = True

    def _start(self, sock: socket.socket, row: int) -> None:
        self._counts.clear_row(row)
        self._validations.clear_row(row)
        self._board.reset(row)
        process = self._context.Process(
            target=_server_process,
            args=(
                self.settings,
                sock,
                self._counts.for_row(row),
                self._validations.for_row(row),
                self._board.for_row(row),
                os.getpid(),
            ),
            name="cpgraph-server",
            daemon=False,
        )
        process.start()
        self._processes[row] = process

    def _replace_ended(self, sock: socket.socket) -> None:
        ended = [row for row, process in self._processes.items() if not process.is_alive()]
        for row in ended:
            self._ended(row, self._processes.pop(row))
        if self._failed_starts >= MAX_FAILED_STARTS:
            raise StoreError("server processes keep ending as they start; see the log above")
        if ended and not self._stopping:
            now = time.monotonic()
            self._recent_ends = [t for t in self._recent_ends if now - t < 10.0]
            self._recent_ends.extend(now for _ in ended)
            if len(self._recent_ends) > 2 * self._rows:  # ending as fast as they start
                time.sleep(RESTART_PAUSE)
            for row in ended:
                self._start(sock, row)

    def _ended(self, row: int, process: BaseProcess) -> None:
        """Account for the process of ``row`` that ended: a failed start, a hand-over, or an
        end caused by what it was doing (its texts in flight go to quarantine)."""
        process.join()
        code = process.exitcode
        if not self._board.ready(row):
            self._failed_starts += 1
            log.info("server process %s ended as it started (exit %s)", process.pid, code)
            return
        self._failed_starts = 0
        if code == 0:
            log.info("server process %s handed over; starting another", process.pid)
            return
        # It may have died between moving the store's link (a write) and counting that it
        # did: the processes still serving would never follow that build.
        if not is_remote(self.settings):
            with contextlib.suppress(OSError):
                announce_publication(self.settings.store_dir)
        held = self._board.held(row)
        if code == EXIT_MEMORY:  # its queries were answered 503; which one grew is unknown
            log.warning("server process %s passed its memory ceiling; replaced", process.pid)
            return
        cause = f"signal {-code}" if code is not None and code < 0 else f"exit {code}"
        guilty = self._suspected(held) if code is not None and -code in CRASH_SIGNALS else []
        self._board.quarantine(guilty, self.settings.quarantine_seconds)
        log.warning(
            "server process %s ended (%s) while evaluating %d queries or updates, %d of them "
            "now refused for %g s; their clients' places freed; starting another",
            process.pid,
            cause,
            len(held),
            len(guilty),
            self.settings.quarantine_seconds,
        )

    def _suspected(self, held: list[int]) -> list[int]:
        """Which of the texts a crashed process held to put in quarantine: the text it held
        alone, else those it held that were also held at an earlier crash (within the
        quarantine's time), so that a query that merely ran beside the culprit is not
        refused for everyone."""
        now = time.monotonic()
        window = self.settings.quarantine_seconds
        self._suspects = {d: t for d, t in self._suspects.items() if now - t < window}
        guilty = held if len(held) == 1 else [d for d in held if d in self._suspects]
        self._suspects.update((d, now) for d in held)
        return guilty

    def _stop_all(self) -> None:
        for process in self._processes.values():
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process in self._processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        self._processes = {}


def serve(settings: Settings) -> None:
    """Run the service until interrupted (see the module's description): over the embedded
    store's current build, or over the remote store ``settings.store_url`` names (no build
    folder is needed then, and the store need not answer yet: it is reached at each request).

    Raises:
        StoreError: if there is no embedded store to serve, the address cannot be bound or
            the server processes cannot start.
        InputError: if the remote store's settings are incomplete.
    """
    # Fail early, with a clear message: no build, or a remote store's settings incomplete.
    open_store(settings, read_only=True)
    Supervisor(settings).run()
