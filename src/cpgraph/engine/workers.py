"""Queries with a time limit that holds: evaluation in threads, and a process that hands over.

pyoxigraph releases the GIL while it evaluates, so a query runs in a thread of the server
process, with no copy of the result between processes. Each thread reads the current build of
the store (builds are immutable, see :mod:`cpgraph.store.embedded`) and streams the serialised
result
to the event loop in chunks. A point lookup costs less than the hand-over to a thread and
back: one that is a single scan of an index is answered on the event loop instead
(:func:`answer_at_once`).

A query past its deadline is answered with 503 at once, and its thread is told to stop: a
query that is streaming rows stops at its next chunk. One that is stuck inside a single
evaluation step (a sort, a group, a join's build side) cannot be interrupted by anything short
of ending its process, so the pool then calls ``on_stuck``: the server stops taking
connections, finishes what it is answering, and exits, and its supervisor
(:mod:`cpgraph.server.supervisor`) starts a fresh process while the other server processes go
on answering. The work truly stops.

The pool is asyncio-facing (the server awaits it) but knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import hashlib
import logging
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from cpgraph import errors
from cpgraph.engine.query import QueryFormat, SingleScan, limited_within, negotiate, single_scan
from cpgraph.errors import CpgraphError, QueryTimeoutError, StoreError, TooManyQueriesError
from cpgraph.rdf.io import RdfFormat, parse_term
from cpgraph.sparql.outbound import remote_failure
from cpgraph.store.embedded import GraphStore, QueryKind, QueryResult, ResultsFormat

log = logging.getLogger(__name__)

CHUNK_BYTES = 64 * 1024
IN_FLIGHT = 8  # chunks of one result waiting for a slow client
AT_ONCE_BYTES = 64 * 1024  # the largest answer given on the event loop (see answer_at_once)
AT_ONCE_SECONDS = 0.02  # and the longest it may take there
AT_ONCE_ROWS = 1000  # a LIMIT above this is not tried at once (64 KiB is 65 bytes a row)
STUCK_GRACE = 1.0  # seconds a stopped query's thread has to end before it counts as stuck


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """Everything a query thread needs to answer one query.

    ``store`` is the server's read-only handle on the current build (a request keeps the
    build it started on). ``accept`` and ``format`` are negotiated in the thread, once the kind
    of result (solutions, boolean, graph) is known. ``row_limit`` caps a SELECT (None: no cap).
    """

    query: str
    store: GraphStore
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
# The thread side.
# ---------------------------------------------------------------------------------------------


class _StoppedError(Exception):
    """Raised inside a query thread when its query was stopped (time limit, client gone)."""


class _ChunkSender:
    """A binary sink that ships what is written to the event loop in chunks.

    The head goes with the first chunk; a result that fits in one chunk travels as a single
    ``whole`` message, so that a small answer costs one hand-over.
    """

    def __init__(self, conn: _ThreadEnd, head: QueryHead) -> None:
        self._conn = conn
        self._head: QueryHead | None = head
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._conn.check()
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


class _ThreadEnd:
    """The query thread's end of its channel to the event loop.

    At most ``IN_FLIGHT`` data chunks wait for the client at a time (a slow client holds the
    thread, not the memory); every send checks whether the query was stopped.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, channel: _Channel) -> None:
        self._loop = loop
        self._channel = channel
        self.stopped = False  # set on the loop, read here (a plain flag: the GIL orders it)
        self.slots: threading.Semaphore | None = None  # made with the first data chunk

    def check(self) -> None:
        if self.stopped:
            raise _StoppedError

    def send(self, message: tuple[str, Any]) -> None:
        if message[0] == "data":
            if self.slots is None:
                self.slots = threading.Semaphore(IN_FLIGHT)
            while not self.slots.acquire(timeout=0.1):
                self.check()
        self.check()
        self._loop.call_soon_threadsafe(self._channel.deliver, message)


@functools.lru_cache(maxsize=256)
def _negotiated(accept: str | None, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """:func:`negotiate`, remembered: a service sees few distinct Accept headers."""
    return negotiate(accept, kind)


def _evaluate(request: QueryRequest) -> QueryResult:
    return request.store.query(
        request.query,
        base_iri=request.base_iri,
        default_graphs=request.default_graphs,
        named_graphs=request.named_graphs,
        prefixes=_prefix_dict(request.prefixes),
        substitutions={k: parse_term(v) for k, v in request.substitutions} or None,
    )


def _format(request: QueryRequest, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """The format of the answer: the ``format`` parameter's, else the Accept header's."""
    if request.format:
        try:
            fmt = QueryFormat(request.format).concrete(kind)
        except ValueError:
            fmt = negotiate(request.format, kind)
        if fmt is None:
            raise errors.NotAcceptableError("format=table is for the command line")
        return fmt
    return _negotiated(request.accept, kind)


def _answer(conn: _ThreadEnd, request: QueryRequest) -> None:
    result = _evaluate(request)
    fmt = _format(request, result.kind)
    cap = request.row_limit if result.kind is QueryKind.SOLUTIONS else None
    if cap is not None and not limited_within(request.query, cap):
        assert isinstance(fmt, ResultsFormat)
        if fmt is ResultsFormat.TSV:  # counted exactly as it is written, once
            body, truncated = result.serialize_capped(fmt, max_rows=cap, check=conn.check)
        else:
            within = result.serialize_within(fmt, max_rows=cap, check=conn.check)
            if within is not None:
                body, truncated = within, False
            else:
                # It may hold more rows than the limit: evaluated again, the rows counted
                # exactly and cut at the limit. Twice the work, only for an answer near the
                # limit or past it (one the limit cuts does the most work allowed, twice).
                again = _evaluate(request)
                body, truncated = again.serialize_capped(fmt, max_rows=cap, check=conn.check)
        sender = _ChunkSender(conn, QueryHead(fmt.media_type, result.kind.value, truncated, cap))
        sender.write(body)  # a small one goes as one message, see _ChunkSender.finish
    else:
        # A query whose own LIMIT keeps it within the row limit streams as it is, the row
        # limit announced all the same.
        sender = _ChunkSender(conn, QueryHead(fmt.media_type, result.kind.value, False, cap))
        result.serialize(sender, fmt)
    sender.finish()


def answer_at_once(request: QueryRequest) -> tuple[QueryHead, bytes] | None:
    """The answer to a query that costs less than handing it to a thread, or None.

    Handing a query to a pool thread and its answer back costs more than a point lookup
    itself (tens of microseconds each way). A query that is a single scan of one index
    (:func:`cpgraph.engine.query.single_scan`) is therefore evaluated here, on the caller's thread
    (the event loop), and kept only while its answer stays within ``AT_ONCE_BYTES`` and
    ``AT_ONCE_SECONDS`` (:meth:`GraphStore.answer_within`): a scan yields its solutions
    steadily, so this bounds the time it holds the thread too. Past either bound the
    evaluation is dropped and None returned: the query then goes to the pool like any other
    (a point lookup never gets there).

    A capped (anonymous) SELECT is kept only while its answer has fewer bytes than the row
    limit allows rows (every row costs a byte at least, in every results format), so the
    row limit never needs to cut what is answered here.

    Raises:
        QuerySyntaxError, NotAcceptableError, StoreError: as the evaluation raises them.
    """
    scan = _at_once_shape(request)
    if scan is None:
        return None
    kind = QueryKind.BOOLEAN if scan.ask else QueryKind.SOLUTIONS
    try:
        fmt = _format(request, kind)
    except CpgraphError:
        return None  # the pool's answer says what is wrong first: the query or the format
    assert isinstance(fmt, ResultsFormat)  # what SELECT and ASK negotiate to
    cap = request.row_limit if not scan.ask else None
    content = request.store.answer_within(
        request.query,
        fmt,
        max_bytes=AT_ONCE_BYTES if cap is None else min(AT_ONCE_BYTES, cap),
        seconds=AT_ONCE_SECONDS,
        default_graphs=request.default_graphs,
        named_graphs=request.named_graphs,
        base_iri=request.base_iri,
        prefixes=_prefix_dict(request.prefixes),
    )
    if content is None:
        return None
    return _head(fmt, kind, cap), content


def may_answer_at_once(request: QueryRequest) -> bool:
    """Whether :func:`answer_at_once` may answer ``request`` (whether it tries at all): a
    query for which it is False goes straight to the pool."""
    return _at_once_shape(request) is not None


def _at_once_shape(request: QueryRequest) -> SingleScan | None:
    if request.substitutions:
        return None
    scan = single_scan(request.query)
    if scan is None or (scan.limit is not None and scan.limit > AT_ONCE_ROWS):
        return None  # more rows than fit would only delay the pool's answer
    return scan


@functools.lru_cache(maxsize=8)
def _prefix_dict(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The prefixes as a dictionary, made once per set (a service has one); not to be
    changed by its users."""
    return dict(pairs)


@functools.lru_cache(maxsize=64)
def _head(fmt: ResultsFormat, kind: QueryKind, cap: int | None) -> QueryHead:
    """The head of an answer given at once (a few kinds per service, made once each)."""
    return QueryHead(fmt.media_type, kind.value, False, cap)


def answer_or_admit(
    request: QueryRequest, limiter: ClientLimiter, client: str
) -> tuple[QueryHead, bytes] | None:
    """The answer given at once (:func:`answer_at_once`), or None with a place taken for
    ``client`` under its limit, for a query that goes to the pool (``limiter.release`` gives
    it back). A client at its limit is refused either way; only a query that goes to the pool
    holds a place.

    Raises:
        TooManyQueriesError: if ``client`` already has ``limiter.limit`` queries running.
        QuerySyntaxError, NotAcceptableError, StoreError: as the evaluation raises them.
    """
    limiter.check(client)
    answer = answer_at_once(request)
    if answer is None:
        limiter.acquire(client)
    return answer


class QueryJob:
    """One query on its way through the pool: the thread's end, the loop's end, the deadline.

    ``started`` and ``finished`` are set by the thread that takes the job (plain attribute
    writes: the GIL orders them against the loop's reads).
    """

    __slots__ = (
        "_first",
        "_timer",
        "channel",
        "conn",
        "deadline",
        "finished",
        "started",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        first: Callable[[str, Any], None],
    ) -> None:
        self.channel = _Channel(self)
        self.conn = _ThreadEnd(loop, self.channel)
        self.deadline = deadline
        self.started = False
        self.finished = False
        self._first: Callable[[str, Any], None] | None = first
        self._timer: asyncio.TimerHandle | None = loop.call_at(deadline, self._expire)

    def first_message(self, kind: str, payload: Any) -> bool:
        """Hand the first message to whoever started the job; False when it was handed already
        (or the deadline passed first)."""
        first, self._first = self._first, None
        if first is None:
            return False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        first(kind, payload)
        return True

    def _expire(self) -> None:
        self._timer = None
        self.first_message("timeout", None)

    def ack(self) -> None:
        """A chunk of the result is on its way to the client: the thread may send another
        (see :meth:`QueryPool.follow`)."""
        assert self.conn.slots is not None  # made before the first chunk was sent
        self.conn.slots.release()


Tracker = Callable[[str], AbstractContextManager[None]]


def _run_job(job: QueryJob, request: QueryRequest, tracker: Tracker | None = None) -> None:
    """Answer one query in a pool thread; every outcome goes to the channel. ``tracker``
    records the query as in flight meanwhile (see :mod:`cpgraph.server.board`)."""
    job.started = True  # before the check: the loop sets stop, then reads started
    try:
        if job.conn.stopped:
            return  # stopped while it waited for a thread
        if tracker is None:
            _answer(job.conn, request)
        else:
            with tracker(request.query):
                _answer(job.conn, request)
    except _StoppedError:
        return
    except CpgraphError as exc:
        job.conn.send(("error", exc))
    except Exception as exc:  # noqa: BLE001 - reported to the client, never swallowed
        if job.conn.stopped:
            return  # a serialiser giving up on a stopped sink
        failure = remote_failure(request.query, exc)  # a SERVICE's failure: a 502
        job.conn.send(("error", failure or StoreError(f"query failed: {exc}")))
    finally:
        job.finished = True


# ---------------------------------------------------------------------------------------------
# The event loop side.
# ---------------------------------------------------------------------------------------------


class _Channel:
    """Messages from one query thread, in order, on the event loop.

    The first goes to the job's ``first`` callback (so a small answer costs one hand-over and
    no task); the rest (a streamed body) are awaited with a deadline.
    """

    def __init__(self, job: QueryJob) -> None:
        self._job = job
        self._items: collections.deque[tuple[str, Any]] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._listener: Callable[[tuple[str, Any]], None] | None = None

    def deliver(self, message: tuple[str, Any]) -> None:
        if self._job.first_message(*message):
            return
        if self._listener is not None:
            self._listener(message)
            return
        self._items.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def listen(self, listener: Callable[[tuple[str, Any]], None]) -> None:
        """From now on, hand each message to ``listener`` as it comes (those waiting first)."""
        self._listener = listener
        while self._items:
            listener(self._items.popleft())

    async def get(self, deadline: float) -> tuple[str, Any]:
        """The next message; TimeoutError if none came by ``deadline`` (``loop.time()``)."""
        if not self._items:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_at(deadline, _expire, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._items.popleft()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class WholeBody:
    """A result that came in one message: iterable like a stream, and readable at once."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        yield self.content


_CLOSE = None  # what a pool thread takes as its cue to end
_Item = tuple[QueryJob, QueryRequest] | None


class _Worker:
    """A pool thread's mailbox: ``wake`` is held until a query (or ``_CLOSE``) is left in
    ``item`` for it."""

    __slots__ = ("item", "wake")

    def __init__(self) -> None:
        self.item: _Item = _CLOSE
        self.wake = threading.Lock()
        self.wake.acquire()


class QueryPool:
    """Threads that evaluate queries, ``size`` at a time, each under the time limit.

    ``on_stuck`` is called (on the event loop) when a stopped query's thread has not ended
    ``STUCK_GRACE`` seconds after its deadline: the only way left to stop it is to end the
    process (see the module's description).

    Two ways in: :meth:`run` for coroutines, and :meth:`submit` with a callback for a caller
    that answers without a task of its own (the server's HTTP protocol, for GET queries).

    >>> pool = QueryPool(size=4, timeout=30.0)  # doctest: +SKIP
    >>> head, chunks = await pool.run(request)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        size: int,
        timeout: float,
        on_stuck: Callable[[], None] | None = None,
        tracker: Tracker | None = None,
    ) -> None:
        self.size = size
        self.timeout = timeout
        self.on_stuck = on_stuck
        self.tracker = tracker  # records each query in flight (a process that dies, says it)
        self._active: set[QueryJob] = set()  # jobs not yet finished, for fail_all
        self._lock = threading.Lock()
        self._waiting: collections.deque[_Item] = collections.deque()  # queries with no thread
        self._idle: list[_Worker] = []  # a stack: the thread that last finished goes first
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.stopped = 0  # queries stopped for their time limit or an abandoned result
        self.stuck = 0  # of those, queries whose thread would not end

    async def start(self) -> None:
        """Start the threads."""
        for number in range(self.size):
            thread = threading.Thread(
                target=self._serve, args=(_Worker(),), name=f"cpgraph-query-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _hand(self, item: _Item) -> None:
        """Give ``item`` to the idle thread that finished last, or queue it for the first to
        finish. Last in, first out: at low concurrency one thread, whose caches (the
        allocator's, the database's per-thread state, the CPU's) are warm, answers query
        after query; with four taking turns a 1 ms join took 10% longer."""
        with self._lock:
            if not self._idle:
                self._waiting.append(item)
                return
            worker = self._idle.pop()
        worker.item = item
        worker.wake.release()

    def _next(self, worker: _Worker) -> _Item:
        with self._lock:
            if self._waiting:
                return self._waiting.popleft()
            self._idle.append(worker)
        worker.wake.acquire()
        item, worker.item = worker.item, _CLOSE
        return item

    def _serve(self, worker: _Worker) -> None:
        while (item := self._next(worker)) is not _CLOSE:
            job, request = item
            if self._closed:
                job.conn.stopped = True
                continue
            _run_job(job, request, self.tracker)
            self._active.discard(job)

    async def close(self) -> None:
        """Stop taking queries; queued ones are dropped, running ones end as they finish."""
        self._closed = True
        for _ in self._threads:
            self._hand(_CLOSE)

    def submit(self, request: QueryRequest, first: Callable[[str, Any], None]) -> QueryJob:
        """Start a query; ``first`` gets its first message on the event loop.

        The message is ``("whole", (head, content))`` for a result in one piece,
        ``("head", head)`` for one that streams (read it with :meth:`outcome`), ``("error",
        exc)``, or ``("timeout", None)`` when the time limit passed first (the query is then
        already told to stop). The time limit covers the wait for a thread, the evaluation and
        the streaming.
        """
        loop = asyncio.get_running_loop()
        job = QueryJob(loop, loop.time() + self.timeout, first)
        self._active.add(job)
        self._hand((job, request))
        return job

    def fail_all(self, error: CpgraphError) -> int:
        """Answer every query that has not answered yet with ``error`` (called on the event
        loop when the process must end: its memory ceiling); return how many."""
        failed = 0
        for job in list(self._active):
            job.conn.stopped = True
            if job.first_message("error", error):
                failed += 1
        return failed

    async def run(self, request: QueryRequest) -> tuple[QueryHead, AsyncIterable[bytes]]:
        """Start a query; return its head and an iterator over the body's chunks.

        Closing the iterator early (a client that went away) stops the query.

        Raises:
            QueryTimeoutError: if the head is not ready within the time limit.
            QuerySyntaxError, NotAcceptableError, StoreError, ...: as the evaluation raises them.
        """
        first: asyncio.Future[tuple[str, Any]] = asyncio.get_running_loop().create_future()

        def arrived(kind: str, payload: Any) -> None:
            if not first.done():
                first.set_result((kind, payload))

        job = self.submit(request, arrived)
        try:
            kind, payload = await first
        except BaseException:
            self.stop(job)
            raise
        return self.outcome(job, kind, payload)

    def outcome(
        self, job: QueryJob, kind: str, payload: Any
    ) -> tuple[QueryHead, AsyncIterable[bytes]]:
        """What a job's first message means: its head and body, or the error it raised.

        Raises:
            QueryTimeoutError: for a job whose time limit passed first.
            CpgraphError: the error the evaluation raised.
        """
        if kind == "timeout":
            self.stop(job)
            raise QueryTimeoutError(self._timeout_message())
        if kind == "error":
            raise payload
        if kind == "whole":
            head, content = payload
            return head, WholeBody(content)
        assert kind == "head"
        return payload, self._body(job)

    def follow(self, job: QueryJob, listener: Callable[[str, Any], None]) -> None:
        """Hand the rest of a streamed result (a job whose first message was ``head``) to
        ``listener`` on the event loop, message by message, instead of through
        :meth:`outcome`'s iterator: a caller that writes each chunk as it comes needs no task.

        The messages are ``("data", chunk)``, then ``("end", None)``, or ``("error", exc)``
        at any point (``QueryTimeoutError`` when the deadline passes first: the query is then
        already told to stop). Each chunk holds one of the thread's places for chunks in
        flight until the listener gives it back with :meth:`QueryJob.ack`, which it does once
        the chunk is on its way (so a client that reads slowly holds the thread, not memory).
        """
        timer = asyncio.get_running_loop().call_at(job.deadline, self._overdue, job, listener)

        def deliver(message: tuple[str, Any]) -> None:
            if job.conn.stopped:
                timer.cancel()
                return  # stopped meanwhile: what was still on its way means nothing
            if message[0] != "data":
                timer.cancel()
            listener(*message)

        job.channel.listen(deliver)

    def _overdue(self, job: QueryJob, listener: Callable[[str, Any], None]) -> None:
        if job.conn.stopped:
            return
        self.stop(job)
        listener("error", QueryTimeoutError(self._timeout_message()))

    async def _body(self, job: QueryJob) -> AsyncIterator[bytes]:
        finished = False
        try:
            while True:
                try:
                    kind, payload = await job.channel.get(job.deadline)
                except TimeoutError:
                    raise QueryTimeoutError(self._timeout_message()) from None
                if kind == "data":
                    job.ack()
                    yield payload
                elif kind == "end":
                    finished = True
                    return
                else:  # an error after the head: the response is already under way
                    finished = True
                    raise payload
        finally:
            if not finished:
                self.stop(job)

    def stop(self, job: QueryJob) -> None:
        """Tell a query to stop (a client gone, a time limit passed); if its thread is still
        busy a little after the deadline, the query is stuck (see ``on_stuck``)."""
        if job.conn.stopped:
            return
        job.conn.stopped = True
        if not job.started:
            return  # its thread will skip it
        self.stopped += 1
        loop = asyncio.get_running_loop()
        grace = max(job.deadline - loop.time(), 0.0) + STUCK_GRACE
        loop.call_later(grace, self._check_stuck, job)

    def _check_stuck(self, job: QueryJob) -> None:
        if job.finished:
            return
        self.stuck += 1
        log.warning(
            "a query past its time limit cannot be interrupted inside Oxigraph; this server "
            "process stops taking connections, finishes its answers and exits, to be replaced"
        )
        if self.on_stuck is not None:
            self.on_stuck()

    def _timeout_message(self) -> str:
        return (
            f"the query was stopped after {self.timeout:g} s; narrow it (a LIMIT, more "
            "specific patterns) or ask the operator for a longer limit"
        )


class ClientLimiter:
    """Counts the queries each client has running and refuses one beyond ``limit``.

    With a :class:`SharedCounts` table the count is shared by every server process, so a
    client's limit holds whichever process its connections reach. ``local_limit`` bounds
    what one client holds in this process alone: kept below the process's pool threads, it
    leaves a thread for every other client.
    """

    def __init__(
        self, limit: int, shared: SharedCounts | None = None, *, local_limit: int | None = None
    ) -> None:
        self.limit = limit
        self.local_limit = limit if local_limit is None else max(1, min(local_limit, limit))
        self._shared = shared
        self._running: dict[str, int] = {}  # this process's queries, by client

    def acquire(self, client: str) -> None:
        """Count one more query for ``client``.

        Raises:
            TooManyQueriesError: if ``client`` already has ``limit`` queries running (or
                ``local_limit`` in this process).
        """
        here = self._running.get(client, 0)
        if here >= self.local_limit:
            raise self._refusal(max(here, self._total(client)))
        running = here if self._shared is None else self._shared.add(client, self.limit)
        if running >= self.limit:
            raise self._refusal(running)
        self._running[client] = here + 1

    def check(self, client: str) -> None:
        """Refuse a query of ``client`` at its limit, without counting it.

        For a query answered at once (:func:`answer_at_once`): it holds no thread and ends
        before the event loop does anything else, but a client at its limit gets no more.
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

    def _refusal(self, running: int) -> TooManyQueriesError:
        return TooManyQueriesError(
            f"{running} of your queries are still running (the limit is {self.limit}); "
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
