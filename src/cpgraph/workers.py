"""Queries with a time limit that holds: evaluation in worker processes that can be killed.

pyoxigraph cannot interrupt a running query, and a thread cannot be stopped, so the server
hands each query to one of a small pool of worker processes. Each worker opens the current
build of the store read-only (builds are immutable, see :mod:`cpgraph.store`) and streams the
serialised result back in chunks. A query past its deadline, or one whose client went away,
has its worker killed and replaced: the work truly stops, and the other workers keep
answering other clients meanwhile.

The pool is asyncio-facing (the server awaits it) but knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import multiprocessing
import os
import time
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from cpgraph import errors
from cpgraph.errors import CpgraphError, QueryTimeoutError, StoreError, TooManyQueriesError

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
STARTUP_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """Everything a worker needs to answer one query, picklable.

    ``accept`` and ``format`` are negotiated in the worker, once the kind of result (solutions,
    boolean, graph) is known. ``row_limit`` caps a SELECT (None: no cap).
    """

    query: str
    store_path: str
    base_iri: str | None = None
    accept: str | None = None
    format: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    row_limit: int | None = None
    substitutions: tuple[tuple[str, str], ...] = ()  # variable -> term in N-Triples syntax


@dataclass(frozen=True, slots=True)
class QueryHead:
    """What is known before the body: its media type, the kind of result, whether rows were cut."""

    media_type: str
    kind: str
    truncated: bool = False
    row_limit: int | None = None


# ---------------------------------------------------------------------------------------------
# The worker side: a plain loop in its own process.
# ---------------------------------------------------------------------------------------------


class _ChunkSender:
    """A binary sink that ships what is written to the parent in chunks.

    The head goes with the first chunk; a result that fits in one chunk travels as a single
    ``whole`` message, so that a small answer costs one round trip.
    """

    def __init__(self, conn: Connection, head: QueryHead) -> None:
        self._conn = conn
        self._head: QueryHead | None = head
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= CHUNK_BYTES:
            self._send_chunk()
        return len(data)

    def flush(self) -> None:
        """Nothing: chunks go when full, the rest at :meth:`finish`."""

    def _send_chunk(self) -> None:
        if self._head is not None:
            self._conn.send(("head", self._head))
            self._head = None
        self._conn.send(("data", bytes(self._buffer)))
        self._buffer.clear()

    def finish(self) -> None:
        """Send what is left and the end of the result."""
        if self._head is not None:
            self._conn.send(("whole", (self._head, bytes(self._buffer))))
            return
        if self._buffer:
            self._conn.send(("data", bytes(self._buffer)))
        self._conn.send(("end", None))


def _answer(conn: Connection, request: QueryRequest, stores: dict[str, Any]) -> None:
    # Imported here: the parent never needs them for the pool's own work.
    from cpgraph.query import QueryFormat, negotiate
    from cpgraph.rdfio import parse_term
    from cpgraph.store import GraphStore, QueryKind, ResultsFormat

    store = stores.get(request.store_path)
    if store is None:
        stores.clear()  # one build at a time: a newer build replaces the older handle
        store = stores[request.store_path] = GraphStore(Path(request.store_path), read_only=True)
    result = store.query(
        request.query,
        base_iri=request.base_iri,
        default_graphs=request.default_graphs,
        named_graphs=request.named_graphs,
        prefixes=dict(request.prefixes),
        substitutions={k: parse_term(v) for k, v in request.substitutions} or None,
    )
    if request.format:
        try:
            fmt = QueryFormat(request.format).concrete(result.kind)
        except ValueError:
            fmt = negotiate(request.format, result.kind)
        if fmt is None:
            raise errors.NotAcceptableError("format=table is for the command line")
    else:
        fmt = negotiate(request.accept, result.kind)
    if request.row_limit is not None and result.kind is QueryKind.SOLUTIONS:
        assert isinstance(fmt, ResultsFormat)
        buffer = io.BytesIO()
        truncated = result.serialize_capped(buffer, fmt, max_rows=request.row_limit)
        head = QueryHead(fmt.media_type, result.kind.value, truncated, request.row_limit)
        sender = _ChunkSender(conn, head)
        sender.write(buffer.getvalue())
    else:
        sender = _ChunkSender(conn, QueryHead(fmt.media_type, result.kind.value))
        result.serialize(sender, fmt)
    sender.finish()


def _worker_main(conn: Connection) -> None:
    """Answer requests until the pipe closes or the process is killed."""
    import cpgraph.query
    import cpgraph.store  # noqa: F401 - loaded before saying ready, not on the first query

    stores: dict[str, Any] = {}
    conn.send(("ready", None))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            _answer(conn, request, stores)
        except CpgraphError as exc:
            conn.send(("error", _wire(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, never swallowed
            conn.send(("error", ("StoreError", {"message": f"query failed: {exc}"})))


def _wire(exc: CpgraphError) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, errors._PositionedError):
        return type(exc).__name__, {
            "message": exc.reason,
            "line": exc.line,
            "column": exc.column,
            "source": exc.source,
        }
    return type(exc).__name__, {"message": exc.message}


def _unwire(name: str, fields: dict[str, Any]) -> CpgraphError:
    cls = getattr(errors, name, None)
    if not (isinstance(cls, type) and issubclass(cls, CpgraphError)):
        cls = StoreError
    message = fields.pop("message")
    return cls(message, **fields)


# ---------------------------------------------------------------------------------------------
# The parent side: the pool.
# ---------------------------------------------------------------------------------------------


class WholeBody:
    """A result that came in one message: iterable like a stream, and readable at once."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        yield self.content


class _Worker:
    def __init__(self, context: Any) -> None:
        parent, child = context.Pipe(duplex=True)
        self.conn: Connection = parent
        self.process: BaseProcess = context.Process(
            target=_worker_main, args=(child,), daemon=True, name="cpgraph-query-worker"
        )
        self.process.start()
        child.close()

    def kill(self) -> None:
        """Kill the process and close the pipe."""
        with contextlib.suppress(Exception):
            self.process.kill()
        self.process.join(timeout=5)
        with contextlib.suppress(Exception):
            self.conn.close()


class QueryPool:
    """A fixed number of query worker processes, each answering one query at a time.

    >>> pool = QueryPool(size=1, timeout=5.0)  # doctest: +SKIP
    >>> await pool.start()  # doctest: +SKIP
    """

    def __init__(self, *, size: int, timeout: float) -> None:
        self.size = size
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._starting: set[asyncio.Task[None]] = set()
        self._workers: set[_Worker] = set()
        self.killed = 0  # workers stopped for a timeout or an abandoned result

    async def start(self) -> None:
        """Start the workers and wait until each is ready to answer."""
        self._idle = asyncio.Queue()
        await asyncio.gather(*(self._admit(_Worker(self._context)) for _ in range(self.size)))

    async def _admit(self, worker: _Worker) -> None:
        """Add a started worker to the pool once it says it is ready (a slow start keeps it
        out of the queue rather than making a query wait on it)."""
        self._workers.add(worker)
        try:
            kind, _ = await self._receive(worker, time.monotonic() + STARTUP_SECONDS)
        except (QueryTimeoutError, StoreError):
            kind = "failed"
        if kind != "ready":
            log.error("a query worker failed to start; starting another")
            self._workers.discard(worker)
            worker.kill()
            await asyncio.sleep(1)
            await self._admit(_Worker(self._context))
            return
        self._release(worker)

    async def close(self) -> None:
        """Stop every worker."""
        for task in list(self._starting):
            task.cancel()
        for worker in list(self._workers):
            worker.kill()
        self._workers.clear()

    async def run(self, request: QueryRequest) -> tuple[QueryHead, AsyncIterable[bytes]]:
        """Start a query; return its head and an iterator over the body's chunks.

        Waiting for a free worker is bounded by the time limit; then evaluation and streaming
        have the time limit of their own. Closing the iterator early (a client that went away)
        stops the worker.

        Raises:
            QueryTimeoutError: if the head is not ready within the time limit.
            QuerySyntaxError, NotAcceptableError, StoreError, ...: as the worker reports them.
        """
        assert self._idle is not None, "start() the pool first"
        deadline = time.monotonic() + self.timeout
        try:
            worker = await asyncio.wait_for(self._idle.get(), self._remaining(deadline))
        except TimeoutError:
            message = self._timeout_message("waiting for a free query worker")
            raise QueryTimeoutError(message) from None
        # The query's own time starts when a worker takes it: a wait for a free worker (after
        # others' queries were stopped, say) is bounded above, but not charged to this query.
        deadline = time.monotonic() + self.timeout
        try:
            worker.conn.send(request)
            kind, payload = await self._receive(worker, deadline)
        except BaseException:
            self._replace(worker)
            raise
        if kind == "error":
            self._release(worker)
            raise _unwire(*payload)
        if kind == "whole":
            self._release(worker)
            head, content = payload
            return head, WholeBody(content)
        assert kind == "head"
        return payload, self._body(worker, deadline)

    async def _body(self, worker: _Worker, deadline: float) -> AsyncIterator[bytes]:
        finished = False
        try:
            while True:
                kind, payload = await self._receive(worker, deadline)
                if kind == "data":
                    yield payload
                elif kind == "end":
                    finished = True
                    return
                else:  # an error after the head: the response is already under way
                    finished = True
                    raise _unwire(*payload)
        finally:
            if finished:
                self._release(worker)
            else:
                self._replace(worker)

    async def _receive(self, worker: _Worker, deadline: float) -> tuple[str, Any]:
        """The worker's next message, waiting on its pipe in the event loop (no thread)."""
        conn = worker.conn
        if not conn.poll():
            loop = asyncio.get_running_loop()
            readable: asyncio.Future[None] = loop.create_future()
            fd = conn.fileno()

            def wake() -> None:
                if not readable.done():
                    readable.set_result(None)

            loop.add_reader(fd, wake)
            try:
                await asyncio.wait_for(readable, self._remaining(deadline))
            except TimeoutError:
                raise QueryTimeoutError(self._timeout_message("evaluating the query")) from None
            finally:
                loop.remove_reader(fd)
        try:
            # An event loop may have made the pipe non-blocking (uvloop does, for add_reader);
            # the rest of a large message must be waited for, not refused with EAGAIN.
            os.set_blocking(conn.fileno(), True)
            message: tuple[str, Any] = conn.recv()
        except (EOFError, OSError) as exc:
            raise StoreError(f"the query worker stopped unexpectedly: {exc}") from None
        return message

    def _remaining(self, deadline: float) -> float:
        return max(0.0, deadline - time.monotonic())

    def _timeout_message(self, while_doing: str) -> str:
        return (
            f"the query was stopped after {self.timeout:g} s ({while_doing}); "
            "narrow it (a LIMIT, more specific patterns) or ask the operator for a longer limit"
        )

    def _release(self, worker: _Worker) -> None:
        assert self._idle is not None
        self._idle.put_nowait(worker)

    def _replace(self, worker: _Worker) -> None:
        """Kill a busy worker (its query must stop) and start another in its place."""
        self.killed += 1
        self._workers.discard(worker)
        worker.kill()
        task = asyncio.get_running_loop().create_task(self._admit(_Worker(self._context)))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)


class ClientLimiter:
    """Counts the queries each client has running and refuses one beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._running: dict[str, int] = {}

    def acquire(self, client: str) -> None:
        """Count one more query for ``client``.

        Raises:
            TooManyQueriesError: if ``client`` already has ``limit`` queries running.
        """
        running = self._running.get(client, 0)
        if running >= self.limit:
            raise TooManyQueriesError(
                f"{running} of your queries are still running (the limit is {self.limit}); "
                "wait for one to finish"
            )
        self._running[client] = running + 1

    def release(self, client: str) -> None:
        """Count one query of ``client`` as finished."""
        running = self._running.get(client, 0) - 1
        if running > 0:
            self._running[client] = running
        else:
            self._running.pop(client, None)
