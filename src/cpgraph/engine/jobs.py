"""One query on its way through the pool: the channel between its thread and the event loop.

The thread's end (:class:`ThreadEnd`) sends :class:`~cpgraph.engine.messages.Message` objects
and checks, at every send, whether the query was stopped; the loop's end (:class:`Channel`)
hands them on in order. :class:`QueryJob` binds the two to the query's deadline.
"""

from __future__ import annotations

import asyncio
import collections
import threading

from cpgraph.engine.messages import Data, Listener, Message, TimedOut

IN_FLIGHT = 8  # chunks of one result waiting for a slow client


class StoppedError(Exception):
    """Raised inside a query thread when its query was stopped (time limit, client gone)."""


class ThreadEnd:
    """The query thread's end of its channel to the event loop.

    At most ``IN_FLIGHT`` data chunks wait for the client at a time (a slow client holds the
    thread, not the memory); every send checks whether the query was stopped.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, channel: Channel) -> None:
        self._loop = loop
        self._channel = channel
        self.stopped = False  # set on the loop, read here (a plain flag: the GIL orders it)
        self.slots: threading.Semaphore | None = None  # made with the first data chunk

    def check(self) -> None:
        if self.stopped:
            raise StoppedError

    def send(self, message: Message) -> None:
        if isinstance(message, Data):
            if self.slots is None:
                self.slots = threading.Semaphore(IN_FLIGHT)
            while not self.slots.acquire(timeout=0.1):
                self.check()
        self.check()
        self._loop.call_soon_threadsafe(self._channel.deliver, message)


class Channel:
    """Messages from one query thread, in order, on the event loop.

    The first goes to the job's ``first`` callback (so a small answer costs one hand-over and
    no task); the rest (a streamed body) are awaited with a deadline, or handed to a listener.
    """

    def __init__(self, job: QueryJob) -> None:
        self._job = job
        self._items: collections.deque[Message] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._listener: Listener | None = None

    def deliver(self, message: Message) -> None:
        if self._job.first_message(message):
            return
        if self._listener is not None:
            self._listener(message)
            return
        self._items.append(message)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def listen(self, listener: Listener) -> None:
        """From now on, hand each message to ``listener`` as it comes (those waiting first)."""
        self._listener = listener
        while self._items:
            listener(self._items.popleft())

    async def get(self, deadline: float) -> Message:
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

    def __init__(self, loop: asyncio.AbstractEventLoop, deadline: float, first: Listener) -> None:
        self.channel = Channel(self)
        self.conn = ThreadEnd(loop, self.channel)
        self.deadline = deadline
        self.started = False
        self.finished = False
        self._first: Listener | None = first
        self._timer: asyncio.TimerHandle | None = loop.call_at(deadline, self._expire)

    def first_message(self, message: Message) -> bool:
        """Hand the first message to whoever started the job; False when it was handed already
        (or the deadline passed first)."""
        first, self._first = self._first, None
        if first is None:
            return False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        first(message)
        return True

    def _expire(self) -> None:
        self._timer = None
        self.first_message(TimedOut())

    def ack(self) -> None:
        """A chunk of the result is on its way to the client: the thread may send another
        (see :meth:`cpgraph.engine.pool.QueryPool.follow`)."""
        assert self.conn.slots is not None  # made before the first chunk was sent
        self.conn.slots.release()
