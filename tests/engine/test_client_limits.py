"""The per-client concurrency limit, counted in shared memory across server processes."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from cpgraph.engine.limits import ClientLimiter, SharedCounts
from cpgraph.errors import TooManyQueriesError


def _hold(counts: SharedCounts, client: str, times: int, done: Any) -> None:
    limiter = ClientLimiter(2, shared=counts)
    for _ in range(times):
        limiter.acquire(client)
    done.set()


def test_a_client_s_limit_holds_across_processes() -> None:
    context = multiprocessing.get_context("spawn")
    counts = SharedCounts.create(context)
    done = context.Event()
    other = context.Process(target=_hold, args=(counts, "192.0.2.7", 2, done))
    other.start()
    other.join(timeout=60)
    assert done.is_set()

    here = ClientLimiter(2, shared=counts)
    with pytest.raises(TooManyQueriesError, match="2 of your queries"):
        here.acquire("192.0.2.7")
    here.acquire("192.0.2.8")  # another client is not affected
    here.release("192.0.2.7")  # one of the other process's queries ends
    here.acquire("192.0.2.7")
    assert counts.running("192.0.2.7") == 2


def test_finished_clients_free_their_slots_for_new_ones() -> None:
    counts = SharedCounts.create(multiprocessing.get_context("spawn"), slots=8)
    limiter = ClientLimiter(1, shared=counts)
    for n in range(1000):  # far more clients than slots, one after another
        client = f"198.51.100.{n}"
        limiter.acquire(client)
        with pytest.raises(TooManyQueriesError):
            limiter.acquire(client)
        limiter.release(client)
        assert counts.running(client) == 0


def test_a_full_table_still_limits_the_clients_beyond_it() -> None:
    counts = SharedCounts.create(multiprocessing.get_context("spawn"), slots=2)
    limiter = ClientLimiter(1, shared=counts)
    limiter.acquire("203.0.113.1")
    limiter.acquire("203.0.113.2")
    limiter.acquire("203.0.113.3")  # the table is full: counted in the shared overflow slot
    with pytest.raises(TooManyQueriesError):
        limiter.acquire("203.0.113.4")
    limiter.release("203.0.113.3")
    limiter.acquire("203.0.113.4")


def test_without_a_shared_table_the_limit_is_per_process() -> None:
    limiter = ClientLimiter(1)
    limiter.acquire("192.0.2.1")
    with pytest.raises(TooManyQueriesError):
        limiter.acquire("192.0.2.1")
    limiter.release("192.0.2.1")
    limiter.acquire("192.0.2.1")
