"""``cpgraph push`` into two real triple stores that no one here wrote, on 127.0.0.1.

Oxigraph server (PyPI ``oxigraph``) and OpenLink Virtuoso (Debian ``virtuoso-opensource``) are
started on a fresh database per module and stopped after. Each test reads the data back from
the target with plain SPARQL (not with the push's own verification) and compares it with the
store.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import cli_env
from tests.linked_data import BASE, as_default, build_mini, isomorphic
from tests.servers import (
    RunningStore,
    oxigraph_command,
    oxigraph_server,
    virtuoso_available,
    virtuoso_server,
)

from cpgraph.config import Settings
from cpgraph.errors import PushVerificationError, RemoteStoreError
from cpgraph.progress import Lines
from cpgraph.publish.describe import build_info, describe, description_graph, dump_distributions
from cpgraph.publish.push import push
from cpgraph.publish.remote import Protocol, Target
from cpgraph.publish.verify import verify_copy
from cpgraph.store.builds import open_current
from cpgraph.store.http import make_auth
from cpgraph.store.oxigraph import GraphStore

EXTRACT = f"{BASE}graph/s004/abstract-p1"
ONTOLOGY = f"{BASE}graph/ontology"
VOID_GRAPH = description_graph(BASE)

needs_oxigraph = pytest.mark.skipif(
    oxigraph_command() is None, reason="the oxigraph server is not installed (make test-deps)"
)
needs_virtuoso = pytest.mark.skipif(
    not virtuoso_available(),
    reason="Debian's virtuoso-opensource is not installed (make test-deps installs it as root)",
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_mini(tmp_path_factory.mktemp("push-source"))


@pytest.fixture(scope="module")
def store(source: Settings) -> GraphStore:
    return open_current(source.store_dir, read_only=True)


@pytest.fixture(scope="module")
def description(store: GraphStore) -> list[ox.Quad]:
    return describe(store, base=BASE, distributions=dump_distributions())


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[RunningStore]:
    if oxigraph_command() is None:
        pytest.skip("the oxigraph server is not installed (make test-deps)")
    with oxigraph_server(tmp_path) as running:
        yield running


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    if not virtuoso_available():
        pytest.skip("Debian's virtuoso-opensource is not installed (make test-deps, as root)")
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as running:
        yield running


def auth_of(server: RunningStore) -> httpx.Auth | None:
    return make_auth(user=server.user, password=server.password, scheme=server.auth)


def read_back(server: RunningStore, graph: str) -> list[ox.Quad]:
    """The graph as the target returns it to a SPARQL CONSTRUCT."""
    response = httpx.post(
        server.query,
        data={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/n-triples"},
        auth=auth_of(server),
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return list(ox.parse(response.content, ox.RdfFormat.N_TRIPLES))


def count_there(server: RunningStore, graph: str) -> int:
    response = httpx.post(
        server.query,
        data={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/sparql-results+json"},
        auth=auth_of(server),
        timeout=60,
    )
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def assert_copied(server: RunningStore, store: GraphStore, graphs: list[str]) -> None:
    for graph in graphs:
        assert isomorphic(read_back(server, graph), as_default(store.quads(graph))), graph


def target_of(server: RunningStore, *, gsp: str | None = None) -> Target:
    return Target(
        gsp=gsp or server.gsp, update=server.update, query=server.query, auth=auth_of(server)
    )


@needs_oxigraph
def test_push_copies_every_graph_into_oxigraph_over_the_graph_store_protocol(
    oxigraph: RunningStore, store: GraphStore, description: list[ox.Quad], tmp_path: Path
) -> None:
    report = push(
        store,
        target_of(oxigraph),
        build=build_info(store).id,
        description=description,
        batch_size=500,
        state_file=tmp_path / "state.json",
    )
    assert report.verified
    assert {g.protocol for g in report.graphs} == {"gsp"}
    assert {g.graph for g in report.graphs} == {*store.named_graphs(), VOID_GRAPH}
    assert next(g for g in report.graphs if g.graph == ONTOLOGY).batches > 1
    assert_copied(oxigraph, store, store.named_graphs())
    there = read_back(oxigraph, VOID_GRAPH)
    assert isomorphic(there, as_default(description))
    assert not (tmp_path / "state.json").exists()


@needs_oxigraph
def test_push_falls_back_to_sparql_update_where_there_is_no_graph_store(
    oxigraph: RunningStore, store: GraphStore
) -> None:
    missing = oxigraph.gsp.replace("/store", "/no-graph-store-here")
    report = push(store, target_of(oxigraph, gsp=missing), build="b", batch_size=400)
    assert {g.protocol for g in report.graphs} == {"update"}
    assert report.verified
    assert_copied(oxigraph, store, store.named_graphs())


@needs_oxigraph
def test_push_replaces_the_target_graph_and_leaves_other_graphs_alone(
    oxigraph: RunningStore, store: GraphStore
) -> None:
    stale = f"INSERT DATA {{ GRAPH <{EXTRACT}> {{ <urn:x:stale> <urn:x:p> 1 }} }}"
    other = "INSERT DATA { GRAPH <urn:x:theirs> { <urn:x:a> <urn:x:b> 2 } }"
    for update in (stale, other):
        httpx.post(
            oxigraph.update, content=update, headers={"Content-Type": "application/sparql-update"}
        ).raise_for_status()
    push(store, target_of(oxigraph), build="b", graphs=[EXTRACT])
    assert_copied(oxigraph, store, [EXTRACT])
    assert count_there(oxigraph, "urn:x:theirs") == 1


@needs_oxigraph
def test_an_interrupted_push_resumes_where_it_stopped(
    oxigraph: RunningStore, store: GraphStore, description: list[ox.Quad], tmp_path: Path
) -> None:
    state = tmp_path / "push-state.json"
    finished: list[str] = []

    def stop_after_two_graphs(message: str) -> None:
        finished.append(message)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        push(
            store,
            target_of(oxigraph),
            build="b1",
            description=description,
            state_file=state,
            progress=Lines(stop_after_two_graphs),
            batch_size=300,
        )
    assert state.exists()

    report = push(
        store,
        target_of(oxigraph),
        build="b1",
        description=description,
        state_file=state,
        batch_size=300,
    )
    assert report.resumed
    sent = {g.graph: g.sent for g in report.graphs}
    graphs = store.named_graphs()
    assert sent[graphs[0]] == sent[graphs[1]] == 0
    assert all(sent[g] > 0 for g in graphs[2:])
    assert report.verified
    assert_copied(oxigraph, store, graphs)
    assert not state.exists()


@needs_oxigraph
def test_verification_finds_a_copy_that_lost_a_triple(
    oxigraph: RunningStore, store: GraphStore
) -> None:
    push(store, target_of(oxigraph), build="b")
    delete = (
        f"DELETE DATA {{ GRAPH <{EXTRACT}> {{ <{BASE}id/org/sepa> "
        f'<{BASE}ontology#acronym> "SEPA" }} }}'
    )
    httpx.post(
        oxigraph.update, content=delete, headers={"Content-Type": "application/sparql-update"}
    ).raise_for_status()
    with pytest.raises(PushVerificationError) as caught:
        verify_copy(store, target_of(oxigraph), build="b")
    bad = [g for g in caught.value.report.graphs if not g.verified]
    assert [g.graph for g in bad] == [EXTRACT]
    assert bad[0].target_triples == bad[0].triples - 1


@needs_oxigraph
def test_verification_catches_a_changed_literal_by_isomorphism(
    oxigraph: RunningStore, store: GraphStore
) -> None:
    push(store, target_of(oxigraph), build="b", graphs=[EXTRACT])
    change = (
        f"DELETE {{ GRAPH <{EXTRACT}> {{ ?s <{BASE}ontology#acronym> ?a }} }} "
        f'INSERT {{ GRAPH <{EXTRACT}> {{ ?s <{BASE}ontology#acronym> "SEPA!" }} }} '
        f'WHERE {{ GRAPH <{EXTRACT}> {{ ?s <{BASE}ontology#acronym> ?a FILTER(?a = "SEPA") }} }}'
    )
    httpx.post(
        oxigraph.update, content=change, headers={"Content-Type": "application/sparql-update"}
    ).raise_for_status()
    with pytest.raises(PushVerificationError) as caught:
        verify_copy(store, target_of(oxigraph), build="b", graphs=[EXTRACT])
    (graph,) = caught.value.report.graphs
    assert graph.target_triples == graph.triples
    assert graph.isomorphic is False


@needs_virtuoso
def test_push_command_copies_into_virtuoso_with_digest_authentication(
    virtuoso: RunningStore, source: Settings, store: GraphStore, description: list[ox.Quad]
) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cpgraph.cli.main",
            "push",
            "--to",
            virtuoso.gsp,
            "--query",
            virtuoso.query,
            "--update",
            virtuoso.update,
            "--user",
            "dba",
            "--auth",
            "digest",
            "--json",
        ],
        env=cli_env(source, CPGRAPH_PUSH_PASSWORD="dba"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert '"verified": true' in result.stdout
    assert_copied(virtuoso, store, store.named_graphs())
    assert isomorphic(read_back(virtuoso, VOID_GRAPH), as_default(description))


@needs_virtuoso
def test_push_into_virtuoso_over_sparql_update(virtuoso: RunningStore, store: GraphStore) -> None:
    graphs = [EXTRACT, ONTOLOGY]  # the ontology has blank nodes (OWL lists)
    target = Target(update=virtuoso.update, query=virtuoso.query, auth=auth_of(virtuoso))
    report = push(store, target, build="b", graphs=graphs, protocol=Protocol.UPDATE)
    assert report.verified
    assert {g.protocol for g in report.graphs} == {"update"}
    assert_copied(virtuoso, store, graphs)


@needs_virtuoso
def test_a_target_that_refuses_the_credentials_is_a_remote_store_error(
    virtuoso: RunningStore, store: GraphStore
) -> None:
    wrong = make_auth(user="dba", password="not-the-password", scheme="digest")
    target = Target(gsp=virtuoso.gsp, query=virtuoso.query, auth=wrong)
    with pytest.raises(RemoteStoreError, match="401"):
        push(store, target, build="b", graphs=[EXTRACT])
