"""Serving a build from a copy in memory (cpgraph.store.memory, GraphStore.memory_copy).

A copy changes how fast an answer comes, never what it is: these tests compare a copy with
the build on disk it was made from, quad by quad and answer by answer, on small real stores
and through a real server, and pin when a server answers from disk instead and says why.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from fastapi import FastAPI
from rdflib.compare import isomorphic
from tests.conftest import built_mini_store, construct_everything, published, running_server

from cpgraph.errors import StoreError
from cpgraph.store.builds import current_build, new_build_dir, publish_build
from cpgraph.store.following import serve_memory_copy
from cpgraph.store.memory import BYTES_PER_STATEMENT, MemoryCopies, refusal
from cpgraph.store.oxigraph import GraphStore

EX = "https://example.org/"
G1, G2, EMPTY = (ox.NamedNode(f"{EX}graph/{n}") for n in ("1", "2", "empty"))
LAW, LABEL = ox.NamedNode(f"{EX}law"), ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
TOKEN = "memory-token-for-the-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def sample() -> list[ox.Quad]:
    """A statement in two graphs, one in one, one in the default graph, a blank node, and
    literals with a language and a datatype."""
    node = ox.BlankNode("b0")
    return [
        ox.Quad(LAW, TYPE, ox.NamedNode(f"{EX}Law"), G1),
        ox.Quad(LAW, TYPE, ox.NamedNode(f"{EX}Law"), G2),
        ox.Quad(LAW, LABEL, ox.Literal("清洁生产促进法", language="zh"), G1),
        ox.Quad(
            LAW,
            ox.NamedNode(f"{EX}year"),
            ox.Literal("2002", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYear")),
            G2,
        ),
        ox.Quad(LAW, ox.NamedNode(f"{EX}amendedBy"), node, G2),
        ox.Quad(node, LABEL, ox.Literal("the 2012 amendment"), G2),
        ox.Quad(LAW, ox.NamedNode(f"{EX}note"), ox.Literal("written without a graph")),
    ]


def answers(store: GraphStore, query: str) -> list[tuple[str, ...]]:
    """A SELECT's solutions as sorted N-Triples rows (blank nodes included, by label)."""
    result = store.query(query)
    return sorted(
        tuple(str(row[v]) if row[v] is not None else "" for v in result.variables)
        for row in result.rows()
    )


QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",  # the union, each statement once
    "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",  # the kept default graph hidden
    "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }",
    "SELECT ?g WHERE { GRAPH ?g {} }",
]


def test_a_memory_copy_holds_the_same_dataset_as_the_build_it_was_made_from(
    tmp_path: Path,
) -> None:
    disk = published(tmp_path, sample(), empty_graphs=[EMPTY.value])
    copy = disk.memory_copy()
    assert copy.in_memory
    assert not disk.in_memory
    assert copy.path == disk.path  # it describes the same build
    assert sorted(map(str, copy.quads())) == sorted(map(str, disk.quads()))
    assert len(copy) == len(disk) == len(sample())
    assert copy.named_graphs() == disk.named_graphs() == sorted([G1.value, G2.value, EMPTY.value])
    assert copy.has_graph(EMPTY.value)  # N-Quads cannot carry an empty graph: declared again
    for query in QUERIES:
        assert answers(copy, query) == answers(disk, query), query
    assert answers(copy, QUERIES[2]) == [('"1"^^<http://www.w3.org/2001/XMLSchema#integer>',)]


def test_a_memory_copy_of_a_build_made_before_the_merge_reads_it_as_it_was_made(
    tmp_path: Path,
) -> None:
    store_dir = tmp_path / "store"
    build = new_build_dir(store_dir)
    old = ox.Store(str(build))  # named graphs and a default graph, no merge, no mark
    old.extend(sample())
    old.flush()
    del old
    publish_build(store_dir, build)
    disk = GraphStore(build, read_only=True)
    copy = disk.memory_copy()
    for query in QUERIES:
        assert answers(copy, query) == answers(disk, query), query
    assert answers(copy, QUERIES[2]) == [('"2"^^<http://www.w3.org/2001/XMLSchema#integer>',)]


def test_a_memory_copy_is_read_only(tmp_path: Path) -> None:
    copy = published(tmp_path, sample(), empty_graphs=[EMPTY.value]).memory_copy()
    with pytest.raises(StoreError, match="read-only"):
        copy.update(f"INSERT DATA {{ <{EX}a> <{EX}b> <{EX}c> }}")
    with pytest.raises(StoreError, match="read-only"):
        copy.drop_graph(G1.value)
    assert len(copy) == len(sample())


class _FailingDump:
    """An Oxigraph store whose dump fails after writing part of it (a full disk, a bug)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def dump(self, output: str, format: ox.RdfFormat) -> None:
        with open(output, "wb") as pipe:
            quad = next(self._store.quads_for_pattern(None, None, None, None))
            pipe.write(f"{quad} .\n".encode())
        raise OSError(28, "No space left on device")

    def __len__(self) -> int:
        return len(self._store)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_copy_that_does_not_receive_every_quad_is_refused(tmp_path: Path) -> None:
    disk = published(tmp_path, sample(), empty_graphs=[EMPTY.value])
    disk._store = _FailingDump(disk._store)
    started = time.monotonic()
    with pytest.raises(StoreError, match=r"holds 1 quads of .*No space left"):
        disk.memory_copy()
    assert time.monotonic() - started < 30  # neither end of the pipe was left waiting


def test_what_is_copied_into_memory_is_the_operators_choice_within_the_machines_memory() -> None:
    gib = 2**30
    assert refusal(1_000, limit=2_000_000, available=8 * gib) is None
    assert refusal(1_000, limit=2_000_000, available=None) is None  # unknown: the limit alone
    off = refusal(1_000, limit=0, available=8 * gib)
    assert off is not None
    assert "CPGRAPH_MEMORY_STATEMENTS=0" in off
    over = refusal(3_000_000, limit=2_000_000, available=None)
    assert over is not None
    assert "3,000,000 statements is more than CPGRAPH_MEMORY_STATEMENTS" in over
    statements = 1_000_000
    tight = refusal(statements, limit=2_000_000, available=2 * statements * BYTES_PER_STATEMENT - 1)
    assert tight is not None
    assert "half" in tight
    assert (
        refusal(statements, limit=2_000_000, available=2 * statements * BYTES_PER_STATEMENT) is None
    )


class Handed:
    """An ``on_ready`` that records the copies handed over."""

    def __init__(self, accept: bool = True) -> None:
        self.copies: list[GraphStore] = []
        self.arrived = threading.Event()
        self.accept = accept

    def __call__(self, copy: GraphStore) -> bool:
        self.copies.append(copy)
        self.arrived.set()
        return self.accept


@contextlib.contextmanager
def copying(limit: int, handed: Handed, quiet: float = 0.01) -> Iterator[MemoryCopies]:
    """A :class:`MemoryCopies` that hands its copies to ``handed``, closed afterwards."""
    copies = MemoryCopies(limit, handed, quiet=quiet)
    try:
        yield copies
    finally:
        copies.close(timeout=30)


def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    """Wait until ``condition()`` holds, at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def two_builds(tmp_path: Path) -> tuple[GraphStore, GraphStore]:
    return (
        published(tmp_path / "a", sample()[:2], empty_graphs=[EMPTY.value]),
        published(tmp_path / "b", sample(), empty_graphs=[EMPTY.value]),
    )


def test_a_followed_build_is_copied_in_the_background_and_handed_over(
    two_builds: tuple[GraphStore, GraphStore],
) -> None:
    disk = two_builds[1]
    handed = Handed()
    with copying(1000, handed) as copies:
        copies.follow(disk)
        assert copies.state.serving == "copying"
        assert handed.arrived.wait(30)
        assert answers(handed.copies[0], QUERIES[0]) == answers(disk, QUERIES[0])
        until(lambda: copies.state.serving == "memory")
        assert copies.state.serving == "memory"
        assert copies.state.build == Path(str(disk.path)).name


def test_builds_followed_in_quick_succession_make_one_copy_of_the_last(
    two_builds: tuple[GraphStore, GraphStore],
) -> None:
    first, second = two_builds
    handed = Handed()
    with copying(1000, handed, quiet=0.5) as copies:
        copies.follow(first)
        copies.follow(second)
        assert handed.arrived.wait(30)
        time.sleep(0.6)  # room for a second copy, if one were made
        assert [c.path for c in handed.copies] == [second.path]


def test_a_build_over_the_limit_is_served_from_disk_and_the_state_says_why(
    two_builds: tuple[GraphStore, GraphStore],
) -> None:
    handed = Handed()
    with copying(3, handed) as copies:
        copies.follow(two_builds[1])
        until(lambda: copies.state.serving != "copying")
        assert copies.state.serving == "disk"
        assert copies.state.reason is not None
        assert "7 statements" in copies.state.reason
        assert handed.copies == []


def test_a_copy_the_server_declines_is_not_said_to_be_served(
    two_builds: tuple[GraphStore, GraphStore],
) -> None:
    handed = Handed(accept=False)  # a newer build was put in place meanwhile
    with copying(1000, handed) as copies:
        copies.follow(two_builds[1])
        assert handed.arrived.wait(30)
        time.sleep(0.05)
        assert copies.state.serving == "copying"


def test_a_copy_of_a_build_no_longer_served_is_not_put_in_its_place(
    two_builds: tuple[GraphStore, GraphStore],
) -> None:
    first, second = two_builds
    app = FastAPI()
    app.state.store_lock = threading.Lock()
    app.state.store, app.state.store_path = second, str(second.path)
    old_copy = first.memory_copy()
    assert not serve_memory_copy(app.state, old_copy)  # type: ignore[arg-type]
    assert app.state.store is second
    new_copy = second.memory_copy()
    assert serve_memory_copy(app.state, new_copy)  # type: ignore[arg-type]
    assert app.state.store is new_copy


# -- through a real server --------------------------------------------------------------------


def serving(url: str) -> dict[str, str]:
    """Where the server process that answers this request serves from (home page JSON)."""
    response = httpx.get(url + "/", headers={"Accept": "application/json"})
    return dict(response.json()["serving"])


def wait_for_memory(url: str, build: str | None = None, *, seconds: float = 60) -> None:
    """Until every server process (ten answers in a row) serves ``build`` from memory."""
    deadline = time.monotonic() + seconds
    in_a_row = 0
    while in_a_row < 10:
        state = serving(url)
        fits = state["from"] == "memory" and build in (None, state.get("build"))
        in_a_row = in_a_row + 1 if fits else 0
        assert time.monotonic() < deadline, f"not served from memory: {state}"
        time.sleep(0.02)


def test_a_server_answers_from_memory_once_its_copy_is_made_exactly_as_from_disk(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    build = current_build(settings.store_dir)
    assert build is not None
    with (
        running_server(settings) as memory,
        running_server(settings, CPGRAPH_MEMORY_STATEMENTS="0") as disk,
    ):
        wait_for_memory(memory, build.name)
        state = serving(disk)
        assert state["from"] == "disk"
        assert "CPGRAPH_MEMORY_STATEMENTS=0" in state["reason"]
        from_memory, from_disk = construct_everything(memory), construct_everything(disk)
        assert len(from_memory) > 100
        assert isomorphic(from_memory, from_disk)


def test_a_store_over_the_operators_limit_is_served_from_disk_and_says_why(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    with running_server(settings, CPGRAPH_MEMORY_STATEMENTS="10") as url:
        deadline = time.monotonic() + 30
        while (state := serving(url))["from"] == "copying" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state["from"] == "disk"
        assert "more than CPGRAPH_MEMORY_STATEMENTS" in state["reason"]


def test_a_write_is_read_at_once_and_its_build_then_served_from_memory(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    graph = f"{EX}graph/written"
    with running_server(settings, CPGRAPH_TOKEN=TOKEN) as url:
        wait_for_memory(url)
        response = httpx.put(
            url + "/store",
            params={"graph": graph},
            content=f"<{EX}ann> <{EX}name> 'Ann' .\n",
            headers={**AUTH, "Content-Type": "text/turtle"},
        )
        assert response.status_code in (201, 204)
        ask = {"query": f"ASK {{ GRAPH <{graph}> {{ <{EX}ann> <{EX}name> 'Ann' }} }}"}
        assert httpx.get(url + "/sparql", params=ask).json()["boolean"]  # at once, from disk
        build = current_build(settings.store_dir)
        assert build is not None
        wait_for_memory(url, build.name)
        for _ in range(10):  # every process, from its copy of the new build
            assert httpx.get(url + "/sparql", params=ask).json()["boolean"]
