"""Writes: SPARQL Update and the Graph Store Protocol, only with the operator's token, atomic."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from tests.conftest import built_mini_store, running_server

from cpgraph.store.builds import (
    BuildWatch,
    current_build,
    new_build_dir,
    publish_build,
    write_transaction,
)
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.update import with_protocol_dataset

TOKEN = "writer-token-for-the-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
G = "http://example.org/graph/people"
TTL = "@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n<http://example.org/ann> foaf:name 'Ann' .\n"


@pytest.fixture
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = built_mini_store(tmp_path_factory)
    with running_server(settings, CPGRAPH_TOKEN=TOKEN) as url:
        yield url


def ask(url: str, query: str) -> bool:
    return bool(httpx.get(url + "/sparql", params={"query": query}).json()["boolean"])


def test_an_update_without_the_token_is_a_401_and_changes_nothing(writable: str) -> None:
    update = (
        f"INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/ann> a <http://example.org/P> }} }}"
    )
    response = httpx.post(writable + "/sparql", data={"update": update})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert not ask(writable, f"ASK {{ GRAPH <{G}> {{ ?s ?p ?o }} }}")


def test_an_update_with_the_token_is_applied(writable: str) -> None:
    update = (
        f"INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/ann> a <http://example.org/P> }} }}"
    )
    response = httpx.post(
        writable + "/sparql",
        content=update,
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert response.status_code == 204
    assert ask(writable, f"ASK {{ GRAPH <{G}> {{ <http://example.org/ann> a ?t }} }}")


def test_a_failing_update_request_leaves_the_store_as_it_was(writable: str) -> None:
    # The first operation is fine, the second is malformed: nothing of the request applies.
    update = (
        f"INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/x> a <http://example.org/P> }} }} ;"
        " INSERT DATA { GRAPH <http://example.org/g> { <http://e/a> <http://e/b> } }"
    )
    response = httpx.post(writable + "/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400
    assert not ask(writable, "ASK { GRAPH ?g { <http://example.org/x> ?p ?o } }")


def test_an_update_that_fails_on_the_data_is_a_400_and_leaves_the_store_as_it_was(
    writable: str,
) -> None:
    # Well formed, but the second operation creates a graph that exists (no SILENT).
    create = f"INSERT DATA {{ GRAPH <{G}> {{ <http://example.org/y> a <http://example.org/P> }} }}"
    assert httpx.post(writable + "/sparql", data={"update": create}, headers=AUTH).is_success
    update = (
        f"INSERT DATA {{ <http://example.org/z> a <http://example.org/P> }} ; CREATE GRAPH <{G}>"
    )
    response = httpx.post(writable + "/sparql", data={"update": update}, headers=AUTH)
    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]
    assert not ask(writable, "ASK { <http://example.org/z> ?p ?o }")
    assert ask(writable, "ASK { <http://example.org/y> a <http://example.org/P> }")


ADD_ANN = f"""
import sys
from pathlib import Path
import pyoxigraph as ox
from cpgraph.store.builds import write_transaction
with write_transaction(Path(sys.argv[1])) as store:
    store.load_quads([ox.Quad(ox.NamedNode("http://example.org/ann"), ox.NamedNode(
        "http://xmlns.com/foaf/0.1/name"), ox.Literal("Ann"), ox.NamedNode("{G}"))])
"""


def _write_in_another_process(store_dir: Path) -> None:
    subprocess.run([sys.executable, "-c", ADD_ANN, str(store_dir)], check=True, timeout=120)


def test_a_publication_by_another_process_changes_the_build_watch_and_a_failed_write_does_not(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    watch = BuildWatch(settings.store_dir)
    try:
        before = watch.stamp()
        assert watch.stamp() == before  # reading changes nothing
        with pytest.raises(RuntimeError), write_transaction(settings.store_dir):
            raise RuntimeError("the write fails: its build is discarded, not published")
        assert watch.stamp() == before
        _write_in_another_process(settings.store_dir)
        assert watch.stamp() != before  # seen through the mapping, without reading the link
    finally:
        watch.close()


def test_a_server_follows_a_write_by_another_process_at_once(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    query = f"ASK {{ GRAPH <{G}> {{ <http://example.org/ann> ?p 'Ann' }} }}"
    with running_server(settings, CPGRAPH_PROCESSES="2") as url:
        assert not ask(url, query)
        _write_in_another_process(settings.store_dir)  # e.g. a command-line contribution
        # Each on a new connection, so that both server processes answer some of them.
        assert all(ask(url, query) for _ in range(12))


def test_graph_store_put_get_delete_round_trip(writable: str) -> None:
    put = httpx.put(
        writable + "/store",
        params={"graph": G},
        content=TTL,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert put.status_code == 201
    got = httpx.get(writable + "/store", params={"graph": G}, headers={"Accept": "text/turtle"})
    assert got.status_code == 200
    assert isomorphic(
        rdflib.Graph().parse(data=got.text, format="turtle"),
        rdflib.Graph().parse(data=TTL, format="turtle"),
    )
    again = httpx.put(
        writable + "/store",
        params={"graph": G},
        content=TTL,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert again.status_code == 204
    deleted = httpx.delete(writable + "/store", params={"graph": G}, headers=AUTH)
    assert deleted.status_code == 204
    assert httpx.get(writable + "/store", params={"graph": G}).status_code == 404


def test_graph_store_writes_need_the_token(writable: str) -> None:
    response = httpx.put(
        writable + "/store",
        params={"graph": G},
        content=TTL,
        headers={"Content-Type": "text/turtle"},
    )
    assert response.status_code == 401
    assert httpx.get(writable + "/store", params={"graph": G}).status_code == 404


def test_malformed_rdf_in_a_put_is_a_400_with_its_line(writable: str) -> None:
    response = httpx.put(
        writable + "/store",
        params={"graph": G},
        content="<http://e/a> <http://e/b> .\n",
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    assert response.status_code == 400
    assert response.json()["line"] == 1
    assert httpx.get(writable + "/store", params={"graph": G}).status_code == 404


def test_a_post_to_the_store_creates_a_graph_at_a_new_location(writable: str) -> None:
    response = httpx.post(
        writable + "/store", content=TTL, headers={**AUTH, "Content-Type": "text/turtle"}
    )
    assert response.status_code == 201
    location = response.headers["location"]
    assert location.startswith(writable + "/store/")
    got = httpx.get(location, headers={"Accept": "application/n-triples"})
    assert got.status_code == 200
    assert "Ann" in got.text


def test_posted_blank_nodes_never_merge_with_the_stores_own(writable: str) -> None:
    body = '_:b <http://example.org/p> "one" .\n'
    for _ in range(2):
        httpx.post(
            writable + "/store",
            params={"graph": G},
            content=body,
            headers={**AUTH, "Content-Type": "application/n-triples"},
        )
    rows = httpx.get(
        writable + "/sparql",
        params={
            "query": f"SELECT (COUNT(DISTINCT ?b) AS ?n) WHERE {{ GRAPH <{G}> {{ ?b ?p ?o }} }}"
        },
    ).json()
    assert rows["results"]["bindings"][0]["n"]["value"] == "2"


def test_a_head_request_answers_like_get_without_a_body(writable: str) -> None:
    httpx.put(
        writable + "/store",
        params={"graph": G},
        content=TTL,
        headers={**AUTH, "Content-Type": "text/turtle"},
    )
    response = httpx.head(writable + "/store", params={"graph": G})
    assert response.status_code == 200
    assert response.content == b""
    assert httpx.head(writable + "/store", params={"graph": G + "/none"}).status_code == 404


@pytest.mark.parametrize(
    ("update", "expected"),
    [
        (
            "INSERT { ?s a <http://e/T> } WHERE { ?s ?p ?o }",
            "INSERT { ?s a <http://e/T> }  USING <http://e/g> WHERE { ?s ?p ?o }",
        ),
        ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE { ?s ?p ?o }"),
        (
            "# WHERE in a comment\nINSERT { ?s <http://e/p> 'WHERE' } WHERE { ?s ?p ?o }",
            "# WHERE in a comment\nINSERT { ?s <http://e/p> 'WHERE' }  USING <http://e/g> WHERE "
            "{ ?s ?p ?o }",
        ),
        (  # a '#' in an IRI in braces once read as a comment, and the USING went missing
            "INSERT { ?s <http://e/v#p> ?o } WHERE { ?s ?p ?o }",
            "INSERT { ?s <http://e/v#p> ?o }  USING <http://e/g> WHERE { ?s ?p ?o }",
        ),
    ],
)
def test_protocol_graphs_become_using_clauses(update: str, expected: str) -> None:
    assert with_protocol_dataset(update, ["http://e/g"]) == expected


def test_what_a_write_publishes_is_out_of_reach_of_the_store_it_wrote_with(
    tmp_path: Path,
) -> None:
    store_dir = tmp_path / "store"
    first = new_build_dir(store_dir)
    built = GraphStore(first)
    built.load_quads([ox.Quad(ox.NamedNode("urn:a"), ox.NamedNode("urn:b"), ox.Literal("1"))])
    built.flush()
    del built
    publish_build(store_dir, first)
    with write_transaction(store_dir) as writer:
        writer.update("INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 2 } }")
    # The writer is still open here (a reference kept, as a caller may): what its database
    # does now (a compaction deletes the files it merged) happens in its own folder, not in
    # the build that readers open at once.
    published = current_build(store_dir)
    assert published is not None
    assert published != writer.path
    reader = GraphStore(published, read_only=True)
    del writer
    assert sorted(q.object.value for q in reader.quads()) == ["1", "2"]


def test_protocol_graphs_and_an_updates_own_dataset_are_refused_together() -> None:
    from cpgraph.errors import InputError

    with pytest.raises(InputError, match="USING or WITH"):
        with_protocol_dataset(
            "WITH <http://e/x> INSERT { ?s a ?t } WHERE { ?s a ?t }", ["http://e/g"]
        )


def test_rdflib_sparqlupdatestore_writes_and_reads_back(writable: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLUpdateStore

    store = SPARQLUpdateStore(
        query_endpoint=writable + "/sparql",
        update_endpoint=writable + "/sparql",
        auth=None,
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    graph = rdflib.Graph(store=store, identifier=rdflib.URIRef(G))
    person = rdflib.URIRef("http://example.org/bo")
    graph.add((person, rdflib.FOAF.name, rdflib.Literal("Bo")))
    assert (person, rdflib.FOAF.name, rdflib.Literal("Bo")) in graph
    graph.remove((person, rdflib.FOAF.name, rdflib.Literal("Bo")))
    assert (person, rdflib.FOAF.name, rdflib.Literal("Bo")) not in graph
