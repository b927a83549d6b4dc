"""The query pool's threads: which one takes a query, and that they still run side by side."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from cpgraph.engine.messages import Whole
from cpgraph.engine.pool import QueryPool
from cpgraph.engine.requests import QueryRequest, WholeBody
from cpgraph.store.oxigraph import GraphStore


@pytest.fixture
def store() -> GraphStore:
    return GraphStore(None)  # in memory: what is evaluated matters less than where


def _recording(names: list[str], gate: threading.Barrier | None = None) -> Any:
    """A stand-in for the evaluation that notes its thread (and waits at ``gate``)."""

    def answer(conn: Any, request: QueryRequest) -> None:
        names.append(threading.current_thread().name)
        if gate is not None:
            gate.wait(timeout=10)
        request.store.query(request.query)  # a real evaluation all the same
        conn.send(Whole(None, b""))

    return answer


def test_one_query_after_another_is_answered_by_the_same_warm_thread(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    names: list[str] = []
    monkeypatch.setattr("cpgraph.engine.evaluation._answer", _recording(names))

    async def main() -> None:
        pool = QueryPool(size=4, timeout=10)
        await pool.start()
        for _ in range(6):
            _head, body = await pool.run(QueryRequest(query="ASK { ?s ?p ?o }", store=store))
            assert isinstance(body, WholeBody)
            # As between a client's requests: the answer travels, the next query comes. (The
            # thread is back among the idle ones only after it has sent its answer.)
            await asyncio.sleep(0.02)
        await pool.close()

    asyncio.run(main())
    assert len(names) == 6
    assert len(set(names)) == 1, names  # round-robin would have used all four


def test_queries_at_once_still_get_a_thread_each(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    names: list[str] = []
    gate = threading.Barrier(4)  # passes only when four queries run at the same time
    monkeypatch.setattr("cpgraph.engine.evaluation._answer", _recording(names, gate))

    async def main() -> None:
        pool = QueryPool(size=4, timeout=10)
        await pool.start()
        request = QueryRequest(query="ASK { ?s ?p ?o }", store=store)
        await asyncio.gather(*(pool.run(request) for _ in range(4)))
        await pool.close()

    asyncio.run(main())
    assert len(set(names)) == 4
