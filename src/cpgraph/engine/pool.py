"""The thread pool that evaluates queries, each under a time limit that holds.

A query past its deadline is answered with 503 at once, and its thread is told to stop: one
that is streaming rows stops at its next chunk. One stuck inside a single evaluation step (a
sort, a group, a join's build side) can only be stopped by ending its process, so the pool
then calls ``on_stuck``: the server process stops taking connections, finishes its answers
and exits, and its supervisor (:mod:`cpgraph.server.supervisor`) starts a fresh one.

The pool is asyncio-facing (the server awaits it) but knows nothing of HTTP.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
from collections.abc import AsyncIterable, AsyncIterator, Callable

from cpgraph.engine.evaluation import Tracker, run_job
from cpgraph.engine.jobs import QueryJob
from cpgraph.engine.messages import Data, End, Failed, Head, Listener, Message, TimedOut, Whole
from cpgraph.engine.requests import QueryHead, QueryRequest, WholeBody
from cpgraph.errors import CpgraphError, QueryTimeoutError, StoreTimeoutError

log = logging.getLogger(__name__)

STUCK_GRACE = 1.0  # seconds a stopped query's thread has to end before it counts as stuck

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

    Over a remote store (``remote``), a stopped query's thread waits for the store's answer,
    which its client's own time-out ends: the process is not at fault and is not replaced.

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
        remote: bool = False,
    ) -> None:
        self.size = size
        self.remote = remote
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
        after query."""
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
            run_job(job, request, self.tracker)
            self._active.discard(job)

    async def close(self) -> None:
        """Stop taking queries; queued ones are dropped, running ones end as they finish."""
        self._closed = True
        for _ in self._threads:
            self._hand(_CLOSE)

    def submit(self, request: QueryRequest, first: Listener) -> QueryJob:
        """Start a query; ``first`` gets its first message on the event loop.

        The message (:mod:`cpgraph.engine.messages`) is ``Whole`` for a result in one piece,
        ``Head`` for one that streams (read it with :meth:`outcome`), ``Failed``, or
        ``TimedOut`` when the time limit passed first (the query is then already told to
        stop). The time limit covers the wait for a thread, the evaluation and the streaming.
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
            if job.first_message(Failed(error)):
                failed += 1
        return failed

    async def run(self, request: QueryRequest) -> tuple[QueryHead, AsyncIterable[bytes]]:
        """Start a query; return its head and an iterator over the body's chunks.

        Closing the iterator early (a client that went away) stops the query.

        Raises:
            QueryTimeoutError: if the head is not ready within the time limit.
            QuerySyntaxError, NotAcceptableError, StoreError, ...: as the evaluation raises them.
        """
        first: asyncio.Future[Message] = asyncio.get_running_loop().create_future()

        def arrived(message: Message) -> None:
            if not first.done():
                first.set_result(message)

        job = self.submit(request, arrived)
        try:
            message = await first
        except BaseException:
            self.stop(job)
            raise
        return self.outcome(job, message)

    def outcome(self, job: QueryJob, message: Message) -> tuple[QueryHead, AsyncIterable[bytes]]:
        """What a job's first message means: its head and body, or the error it raised.

        Raises:
            QueryTimeoutError: for a job whose time limit passed first.
            StoreTimeoutError: for a job whose time limit passed while a remote store had
                not answered it (a 504: the store was too slow, not this service full).
            CpgraphError: the error the evaluation raised.
        """
        if isinstance(message, Whole):
            return message.head, WholeBody(message.content)
        if isinstance(message, Head):
            return message.head, self._body(job)
        if isinstance(message, Failed):
            raise message.error
        assert isinstance(message, TimedOut), message
        self.stop(job)
        if self.remote and job.started:
            raise StoreTimeoutError(
                f"the store did not answer within the time limit of {self.timeout:g} s; "
                "narrow the query (a LIMIT, more specific patterns) or try again later"
            )
        raise QueryTimeoutError(self._timeout_message())

    def follow(self, job: QueryJob, listener: Listener) -> None:
        """Hand the rest of a streamed result (a job whose first message was a :class:`Head`) to
        ``listener`` on the event loop, message by message, instead of through
        :meth:`outcome`'s iterator: a caller that writes each chunk as it comes needs no task.

        The messages are ``Data`` (a chunk), then ``End``, or ``Failed`` at any point
        (``QueryTimeoutError`` when the deadline passes first: the query is then already told
        to stop). Each chunk holds one of the thread's places for chunks in flight until the
        listener gives it back with :meth:`QueryJob.ack`, which it does once the chunk is on
        its way (so a client that reads slowly holds the thread, not memory).
        """
        timer = asyncio.get_running_loop().call_at(job.deadline, self._overdue, job, listener)

        def deliver(message: Message) -> None:
            if job.conn.stopped:
                timer.cancel()
                return  # stopped meanwhile: what was still on its way means nothing
            if not isinstance(message, Data):
                timer.cancel()
            listener(message)

        job.channel.listen(deliver)

    def _overdue(self, job: QueryJob, listener: Listener) -> None:
        if job.conn.stopped:
            return
        self.stop(job)
        listener(Failed(QueryTimeoutError(self._timeout_message())))

    async def _body(self, job: QueryJob) -> AsyncIterator[bytes]:
        finished = False
        try:
            while True:
                try:
                    message = await job.channel.get(job.deadline)
                except TimeoutError:
                    raise QueryTimeoutError(self._timeout_message()) from None
                if isinstance(message, Data):
                    job.ack()
                    yield message.chunk
                elif isinstance(message, End):
                    finished = True
                    return
                else:  # an error after the head: the response is already under way
                    finished = True
                    assert isinstance(message, Failed), message
                    raise message.error
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
        if self.remote:
            log.warning(
                "a query past its time limit still waits for the remote store's answer; its "
                "thread ends when the store answers or its own time-out passes"
            )
            return
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
