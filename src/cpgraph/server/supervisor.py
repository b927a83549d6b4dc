"""``cpgraph serve``: a supervisor and a few server processes on one listening socket.

Each server process is a whole application (uvicorn over :func:`cpgraph.server.app.create_app`)
that evaluates queries in its own threads (:mod:`cpgraph.workers`). The supervisor binds the
socket once, starts ``settings.processes`` server processes on it (the kernel hands each new
connection to one of them), and starts a new process whenever one ends, for whatever reason:
a crash, or a query that passed its time limit inside a step Oxigraph cannot interrupt, after
which that process stops taking connections, finishes its answers and exits. Meanwhile the
other processes go on answering, so the service never goes away with a runaway query.

The server processes allocate memory with mimalloc unless the operator says otherwise
(:mod:`cpgraph.allocator`): the supervisor puts it in the environment they start with.

The per-client concurrency limit is counted in shared memory (:class:`SharedCounts`), so it
holds across the processes.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import time
from multiprocessing.process import BaseProcess
from typing import Any

from cpgraph import allocator
from cpgraph.config import Settings
from cpgraph.errors import StoreError
from cpgraph.workers import SharedCounts

log = logging.getLogger("cpgraph.serve")

CHECK_SECONDS = 0.2
STOP_SECONDS = 10.0
QUICK_DEATH_SECONDS = 5.0  # a process that ends this soon after its start failed to start
MAX_QUICK_DEATHS = 5


def _server_process(settings: Settings, sock: socket.socket, counts: SharedCounts) -> None:
    """One server process: the application under uvicorn on the shared socket, until it is
    told to stop or hands over after a stuck query."""
    import uvicorn

    from cpgraph.server.app import create_app
    from cpgraph.server.protocol import sparql_protocol

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    app = create_app(settings, client_counts=counts)
    config = uvicorn.Config(
        app,
        http=sparql_protocol(app),  # answers GET queries without the ASGI round
        log_level="info",
        access_log=settings.access_log,
        proxy_headers=False,
        # A handing-over process finishes its answers; none runs longer than the time limit.
        timeout_graceful_shutdown=int(settings.query_timeout) + 5,
    )
    server = uvicorn.Server(config)

    def hand_over() -> None:
        server.should_exit = True

    app.state.drain = hand_over
    try:
        server.run(sockets=[sock])
    finally:
        logging.shutdown()
        # A stuck query's thread would keep the interpreter from exiting: end the process.
        os._exit(0)


class Supervisor:
    """Starts the server processes on one socket and replaces any that ends."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._counts = SharedCounts.create(self._context)
        self._processes: list[tuple[BaseProcess, float]] = []
        self._stopping = False
        self._quick_deaths = 0

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
            for _ in range(settings.processes):
                self._start(sock)
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

    def _start(self, sock: socket.socket) -> None:
        process = self._context.Process(
            target=_server_process,
            args=(self.settings, sock, self._counts),
            name="cpgraph-server",
            daemon=False,
        )
        process.start()
        self._processes.append((process, time.monotonic()))

    def _replace_ended(self, sock: socket.socket) -> None:
        alive: list[tuple[BaseProcess, float]] = []
        ended = 0
        for process, started in self._processes:
            if process.is_alive():
                alive.append((process, started))
                continue
            process.join()
            ended += 1
            if time.monotonic() - started < QUICK_DEATH_SECONDS:
                self._quick_deaths += 1
            else:
                self._quick_deaths = 0
            log.info(
                "server process %s ended (exit %s); starting another", process.pid, process.exitcode
            )
        self._processes = alive
        if self._quick_deaths >= MAX_QUICK_DEATHS:
            raise StoreError("server processes keep ending as they start; see the log above")
        for _ in range(ended):
            if not self._stopping:
                self._start(sock)

    def _stop_all(self) -> None:
        for process, _ in self._processes:
            if process.is_alive() and process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in self._processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
        self._processes = []


def serve(settings: Settings) -> None:
    """Run the service until interrupted (see the module's description).

    Raises:
        StoreError: if the address cannot be bound or the server processes cannot start.
    """
    Supervisor(settings).run()
