"""Validations in processes of their own, stopped at their limits or when the client leaves.

A thread running pySHACL cannot be stopped, so each validation runs in a child process
forked from a fork server that has already imported cpgraph, and is killed at its time limit
or when its client disconnects. Its data segment is limited (``RLIMIT_DATA``) and it dies with
its server process (``PR_SET_PDEATHSIG``); a commit killed this way publishes nothing, being a
copy-on-write transaction (or, over a remote store, one update request).

The child opens the store itself: the embedded store by its build's folder, a remote store by
the settings (:data:`StoreRef`), which reach it through the fork server's pipe with the job,
never on a command line (they hold the remote store's credentials).

Each server process admits at most ``validate_processes`` validations at once, and one client
at most ``validate_concurrency`` of them, counted across the server processes where a
shared table is given (as ``cpgraph serve`` does).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import pickle
import resource
import signal
import threading
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from cpgraph.config import Settings
from cpgraph.engine.limits import ClientLimiter, SharedCounts
from cpgraph.errors import (
    CpgraphError,
    LimitError,
    TooManyValidationsError,
    ValidationTimeoutError,
)
from cpgraph.store import Store
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.remote import RemoteStore
from cpgraph.validation import contributions as contrib
from cpgraph.validation.neighbourhood import Triple
from cpgraph.validation.shacl import ValidationOutcome

T = TypeVar("T")
# Where a job's store is: an embedded build's (or store's) folder, a remote store's settings.
StoreRef = str | Settings
_POLL_SECONDS = 0.2
_PR_SET_PDEATHSIG = 1
_context_lock = threading.Lock()
_context: Any = None


def _fork_server() -> Any:
    """The multiprocessing context whose fork server has imported this module."""
    global _context
    with _context_lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _context = context
        return _context


def _remote(settings: Settings) -> RemoteStore:
    """The remote store the settings name, writable where they give an update endpoint (the
    stored forms of literals are found by a probe written to it)."""
    return RemoteStore.from_settings(settings)


def check_job(triples: list[Triple], where: StoreRef | None, context: bytes) -> ValidationOutcome:
    """In the child: :func:`~cpgraph.validation.contributions.check` against the build at
    ``where``, or the remote store its settings name (None: against no store)."""
    if isinstance(where, Settings):
        remote = _remote(where)
        try:
            return contrib.check(triples, store=remote, context=pickle.loads(context))
        finally:
            remote.close()
    store = GraphStore(Path(where), read_only=True) if where is not None else None
    return contrib.check(triples, store=store, context=pickle.loads(context))


def commit_job(
    where: StoreRef,
    triples: list[Triple],
    contributor: contrib.Contributor,
    comment: str,
    source: str | None,
    base: str,
    context: bytes,
) -> contrib.CommitResult:
    """In the child: :func:`cpgraph.validation.contributions.commit` (validation and the write)
    into the embedded store whose folder is ``where``, or the remote store its settings name."""
    target: Path | Store = _remote(where) if isinstance(where, Settings) else Path(where)
    try:
        return contrib.commit(
            target,
            triples,
            contributor=contributor,
            comment=comment,
            source=source,
            base=base,
            context=pickle.loads(context),
        )
    finally:
        if isinstance(target, RemoteStore):
            target.close()


def _child(conn: Connection, memory: int, job: Callable[..., Any], args: tuple[Any, ...]) -> None:
    """A validation process: run ``job`` and send back its result or its cpgraph error."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if memory:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    try:
        message: tuple[Any, ...] = ("ok", job(*args))
    except CpgraphError as exc:
        message = ("error", type(exc), exc.args, exc.__dict__)
    except (MemoryError, RecursionError):
        message = ("ended", "it needed more memory than it may have")
    try:
        conn.send(message)
    except (pickle.PicklingError, TypeError, AttributeError):
        conn.send(("error", CpgraphError, (str(message[2][0]),), {}))
    except MemoryError:
        os._exit(1)
    conn.close()


class ValidationRunner:
    """Runs validations in child processes, within one server process's limits."""

    def __init__(self, settings: Settings, shared: SharedCounts | None = None) -> None:
        self.timeout = settings.validate_timeout
        self.per_client = settings.validate_concurrency
        self.processes = settings.validate_processes
        self.memory = settings.validate_memory
        # Per-client counts (of every server process, where ``shared`` is given).
        self._clients = ClientLimiter(
            self.per_client,
            shared,
            noun="validations",
            error=TooManyValidationsError,
            room=self._room,
        )
        self._context_bytes: tuple[object, bytes] | None = None

    def context_bytes(self, context: contrib.ValidationContext) -> bytes:
        """``context`` pickled (once per context), for the child to unpickle."""
        if self._context_bytes is None or self._context_bytes[0] is not context:
            self._context_bytes = (context, pickle.dumps(context))
        return self._context_bytes[1]

    def _room(self) -> None:
        """Refuse a validation when this server process runs all it may (asked after the
        client's own count here, before the count of every process)."""
        if self._clients.held() >= self.processes:
            raise LimitError("every validation place is taken; try again in a moment")

    async def run(
        self,
        client: str,
        job: Callable[..., T],
        *args: Any,
        gone: Callable[[], Awaitable[bool]] | None = None,
    ) -> T:
        """``job(*args)`` in a child process, for ``client``; its result or its error.

        Raises:
            TooManyValidationsError: if ``client`` has its limit of validations running.
            LimitError: if this server process runs all the validations it may.
            ValidationTimeoutError: if the job passed the time limit, or its process ended
                without an answer (its memory limit, a crash); it was stopped.
            CpgraphError: what the job raised.
        """
        self._clients.acquire(client)
        try:
            message = await self._in_child(job, args, gone)
        finally:
            self._clients.release(client)
        if message[0] == "ok":
            result: T = message[1]
            return result
        if message[0] == "error":
            _kind, cls, exc_args, state = message
            error: CpgraphError = cls.__new__(cls)
            error.args = exc_args
            error.__dict__.update(state)
            raise error
        raise ValidationTimeoutError(
            f"the validation ended without an answer ({message[1]}); send less at a time"
        )

    async def _in_child(
        self,
        job: Callable[..., Any],
        args: tuple[Any, ...],
        gone: Callable[[], Awaitable[bool]] | None,
    ) -> tuple[Any, ...]:
        context = _fork_server()
        reader, writer = context.Pipe(duplex=False)
        process = context.Process(
            target=_child, args=(writer, self.memory, job, args), name="cpgraph-validation"
        )
        loop = asyncio.get_running_loop()
        readable = asyncio.Event()
        try:
            await asyncio.to_thread(process.start)
            writer.close()
            loop.add_reader(reader.fileno(), readable.set)
            deadline = loop.time() + self.timeout
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise ValidationTimeoutError(
                        f"the validation was stopped after {self.timeout:g} s; send less at a "
                        "time, or ask the operator for a longer limit"
                    )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(readable.wait(), min(_POLL_SECONDS, remaining))
                if readable.is_set():
                    try:
                        message: tuple[Any, ...] = await asyncio.to_thread(reader.recv)
                    except (EOFError, OSError):
                        await asyncio.to_thread(process.join, 5)
                        return ("ended", _ending(process.exitcode))
                    return message
                if gone is not None and await gone():
                    raise ValidationTimeoutError("the client went away; the validation stopped")
        finally:
            with contextlib.suppress(ValueError, OSError):
                loop.remove_reader(reader.fileno())
            if process.pid is not None and process.is_alive():
                process.kill()
            if process.pid is not None:
                await asyncio.to_thread(process.join, 10)
            reader.close()
            writer.close()


def _ending(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        return f"its process was ended by signal {-exitcode}, likely its memory limit"
    return f"its process exited with status {exitcode}, likely its memory limit"
