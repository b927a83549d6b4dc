"""The default graph is the union of the graphs, each statement once (cpgraph.store.union).

A statement that several sources make is in the named graph of each. The union a query reads
is their merge, kept in the database's default graph: counts and joins over it see each
statement once, ``GRAPH ?g`` still finds it in every graph, and every write keeps the merge
in step. These tests pin that on small real stores, in memory and on disk.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import built_mini_store, cli_env, free_port

from cpgraph.errors import InputError, QuerySyntaxError, StoreError
from cpgraph.rdf.io import RdfFormat
from cpgraph.store.builds import current_build, new_build_dir, publish_build, write_transaction
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.union import DEFAULT_GRAPH_NAME, MERGED_MARK

G1, G2, G3 = (ox.NamedNode(f"https://example.org/graph/{n}") for n in (1, 2, 3))
LAW = ox.NamedNode("https://example.org/law")
TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LAW_CLASS = ox.NamedNode("https://example.org/Law")
LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
NAME = ox.Literal("Cleaner Production Promotion Law", language="en")


def count(store: GraphStore, where: str, **options: object) -> int:
    row = next(store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", **options).rows())  # type: ignore[arg-type]
    return int(row["n"].value)


def two_sources() -> GraphStore:
    """A law typed and labelled in two graphs, and labelled once more in a third."""
    store = GraphStore(None)
    store.load_quads(
        [
            ox.Quad(LAW, TYPE, LAW_CLASS, G1),
            ox.Quad(LAW, LABEL, NAME, G1),
            ox.Quad(LAW, TYPE, LAW_CLASS, G2),
            ox.Quad(LAW, LABEL, NAME, G2),
            ox.Quad(LAW, LABEL, NAME, G3),
        ]
    )
    return store


def test_a_statement_in_several_graphs_is_matched_once_in_the_default_graph() -> None:
    store = two_sources()
    assert count(store, "?law a ?type") == 1
    assert count(store, "?law a ?type ; <http://www.w3.org/2000/01/rdf-schema#label> ?l") == 1
    assert count(store, "GRAPH ?g { ?law a ?type }") == 2
    assert len(store) == 5
    assert list(store.triples(LAW, LABEL, None)) == [(LAW, LABEL, NAME)]


def test_a_query_naming_its_default_graphs_still_reads_them_as_they_are() -> None:
    store = two_sources()
    assert count(store, "?s ?p ?o", default_graphs=[G1.value]) == 2
    assert count(store, "?s ?p ?o", default_graphs=[G3.value]) == 1


def test_dropping_a_graph_keeps_what_another_graph_still_says() -> None:
    store = two_sources()
    store.drop_graph(G1.value)
    assert count(store, "?s a ?t") == 1
    store.drop_graph(G2.value)
    assert count(store, "?s a ?t") == 0
    assert count(store, "?s ?p ?o") == 1  # the label, still in the third graph
    store.drop_graph(G3.value)
    assert count(store, "?s ?p ?o") == 0


def test_writes_to_the_default_graph_are_kept_apart_and_hidden_from_graph_patterns() -> None:
    store = two_sources()
    extra = ox.Quad(LAW, ox.NamedNode("https://example.org/note"), ox.Literal("x"))
    store.load_quads([extra, ox.Quad(LAW, TYPE, LAW_CLASS)])
    assert count(store, "?s ?p ?o") == 3  # type, label, note: each once
    assert count(store, "?s ?p ?o", union_default_graph=False) == 2
    assert count(store, "GRAPH ?g { ?s ?p ?o }") == 5
    assert DEFAULT_GRAPH_NAME not in store.named_graphs()
    assert not store.has_graph(DEFAULT_GRAPH_NAME)
    written = io.BytesIO()
    store.dump_graph(written, RdfFormat.N_TRIPLES, None)
    assert len(written.getvalue().splitlines()) == 2
    store.drop_graph(None)
    assert count(store, "?s ?p ?o") == 2


def test_an_update_sees_the_written_default_graph_and_the_merge_follows_it() -> None:
    store = two_sources()
    # Without GRAPH, an update reads and writes the default graph as written: empty here.
    store.update("DELETE WHERE { ?s ?p ?o }")
    assert count(store, "?s ?p ?o") == 2
    store.update('INSERT DATA { <https://example.org/a> <https://example.org/b> "c" }')
    assert count(store, "?s ?p ?o", union_default_graph=False) == 1
    assert count(store, "?s ?p ?o") == 3
    store.update("DELETE WHERE { GRAPH ?g { ?s a ?t } }")
    assert count(store, "?s a ?t") == 0
    assert count(store, "?s ?p ?o") == 2
    store.update("DROP ALL")
    assert count(store, "?s ?p ?o") == 0
    assert len(store) == 0


def _rows(store: GraphStore, query: str) -> set[tuple[str, ...]]:
    return {tuple(str(v) for v in row.values()) for row in store.query(query).rows()}


def _as_read(store: GraphStore) -> tuple[set[ox.Quad], set[tuple[str, ...]], int]:
    """The dataset as written, the union as queries read it, and the union's size."""
    union = _rows(store, "SELECT ?s ?p ?o WHERE { ?s ?p ?o }")
    return set(store.quads()), union, count(store, "?s ?p ?o")


DATA_UPDATES = [
    # a statement the store holds in two graphs, deleted from one, then from the other
    f"DELETE DATA {{ GRAPH <{G1.value}> {{ <{LAW.value}> a <{LAW_CLASS.value}> }} }}",
    f"DELETE DATA {{ GRAPH <{G2.value}> {{ <{LAW.value}> a <{LAW_CLASS.value}> }} }}",
    # into the default graph, and into a graph, a statement the union already holds
    f"PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\nINSERT DATA {{ <{LAW.value}> "
    f'rdfs:label "Cleaner Production Promotion Law"@en . <urn:x> <urn:y> "z" }}',
    f"INSERT DATA {{ GRAPH <{G3.value}> {{ <urn:x> <urn:y> 'z' }} }} ; "
    f"DELETE DATA {{ <urn:x> <urn:y> 'z' }}",
    # the same statement inserted and deleted in one request: the last operation wins
    "INSERT DATA { GRAPH <urn:g4> { <urn:a> <urn:b> 1 } } ; "
    "DELETE DATA { GRAPH <urn:g4> { <urn:a> <urn:b> 1 } } ;\n"
    "DELETE DATA { GRAPH <urn:g4> { <urn:c> <urn:d> 2 } } ; "
    "insert data { graph <urn:g4> { <urn:c> <urn:d> 2 } }",
    # a graph that an update makes and empties stays, empty
    "INSERT DATA { GRAPH <urn:g5> { <urn:a> <urn:b> 1 } } ; "
    "DELETE DATA { GRAPH <urn:g5> { <urn:a> <urn:b> 1 } }",
    # nothing that the store holds, and nothing at all
    "DELETE DATA { <urn:never> <urn:said> <urn:this> }",
    "PREFIX : <urn:>",
    # relative IRIs, against the request's base
    "BASE <https://example.org/> INSERT DATA { GRAPH <graph/1> { <law> <note> 'relative' } }",
]


@pytest.mark.parametrize("updates", [DATA_UPDATES[: k + 1] for k in range(len(DATA_UPDATES))])
def test_a_data_update_leaves_what_a_whole_merge_would(
    updates: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same updates, statement by statement and (data_operations answering None) the way
    # every other update goes: the dataset, the union and its counts come out the same.
    direct, whole = two_sources(), two_sources()
    for update in updates:
        direct.update(update, base_iri="https://example.org/")
    with monkeypatch.context() as patched:
        patched.setattr("cpgraph.store.union.data_operations", lambda _: None)
        for update in updates:
            whole.update(update, base_iri="https://example.org/")
    assert _as_read(direct) == _as_read(whole)
    assert direct.named_graphs() == whole.named_graphs()


def test_a_data_update_changes_what_it_names_and_leaves_the_merge_standing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = two_sources()
    monkeypatch.setattr(store, "_merge", lambda: pytest.fail("the merge was made anew"))
    store.update(f"DELETE DATA {{ GRAPH <{G1.value}> {{ <{LAW.value}> a <{LAW_CLASS.value}> }} }}")
    assert count(store, "?s a ?t") == 1  # still in the second graph
    store.update(f"DELETE DATA {{ GRAPH <{G2.value}> {{ <{LAW.value}> a <{LAW_CLASS.value}> }} }}")
    assert count(store, "?s a ?t") == 0
    store.update(f"INSERT DATA {{ <{LAW.value}> a <{LAW_CLASS.value}> }}")
    assert count(store, "?s a ?t") == 1
    assert count(store, "?s a ?t", union_default_graph=False) == 1
    assert count(store, "GRAPH ?g { ?s a ?t }") == 0


def test_blank_nodes_of_a_data_update_are_new_each_time() -> None:
    store = two_sources()
    insert = (
        f"INSERT DATA {{ GRAPH <{G3.value}> {{ <{LAW.value}> <urn:amended> [ <urn:in> 2012 ] }} }}"
    )
    store.update(insert)
    store.update(insert)
    nodes = {o for _, _, o in store.triples(LAW, ox.NamedNode("urn:amended"), None)}
    assert len(nodes) == 2
    assert all(isinstance(node, ox.BlankNode) for node in nodes)
    assert count(store, "?b <urn:in> 2012") == 2


@pytest.mark.parametrize(
    ("update", "error", "match"),
    [
        (
            f"INSERT DATA {{ <urn:a> <urn:b> <urn:c> }} ; "
            f"INSERT DATA {{ GRAPH <{DEFAULT_GRAPH_NAME}> {{ <urn:a> <urn:b> <urn:c> }} }}",
            InputError,
            "reserved",
        ),
        (
            "INSERT DATA { <urn:a> <urn:b> <urn:c> } ;\nDELETE DATA { <urn:a> <urn:b> _:c }",
            QuerySyntaxError,
            "line 2",
        ),
        ("INSERT DATA { <urn:a> <urn:b> }", QuerySyntaxError, "line 1"),
    ],
)
def test_a_refused_data_update_changes_nothing(
    update: str, error: type[Exception], match: str
) -> None:
    store = two_sources()
    before = _as_read(store)
    with pytest.raises(error, match=match):
        store.update(update)
    assert _as_read(store) == before


def test_a_failed_update_leaves_the_dataset_and_its_merge_as_they_were() -> None:
    store = two_sources()
    store.load_quads([ox.Quad(LAW, TYPE, LAW_CLASS)])
    # Fails only against the store's data (the graph exists), after the merge was taken apart.
    with pytest.raises(InputError, match="already exists"):
        store.update(f"INSERT DATA {{ <urn:a> <urn:b> <urn:c> }} ; CREATE GRAPH <{G1.value}>")
    assert count(store, "?s ?p ?o") == 2
    assert count(store, "?s ?p ?o", union_default_graph=False) == 1
    assert count(store, "GRAPH ?g { ?s ?p ?o }") == 5


def test_a_malformed_update_is_refused_before_the_merge_is_touched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = two_sources()
    merges: list[None] = []
    monkeypatch.setattr(store, "_merge", lambda: merges.append(None))
    with pytest.raises(QuerySyntaxError, match="line 1"):
        store.update("INSERT DATA { <https://example.org/a> <https://example.org/b> }")
    assert merges == []
    assert count(store, "?s ?p ?o") == 2


def test_the_reserved_graph_name_is_refused_for_writes() -> None:
    store = two_sources()
    with pytest.raises(InputError, match="reserved"):
        store.load_quads([ox.Quad(LAW, TYPE, LAW_CLASS, ox.NamedNode(DEFAULT_GRAPH_NAME))])
    with pytest.raises(InputError, match="reserved"):
        store.drop_graph(DEFAULT_GRAPH_NAME)
    assert count(store, "?s ?p ?o") == 2


def test_an_export_holds_the_dataset_as_written_not_the_merge() -> None:
    store = two_sources()
    store.load_quads([ox.Quad(LAW, TYPE, LAW_CLASS)])
    out = io.BytesIO()
    store.dump(out, RdfFormat.N_QUADS)
    exported = set(ox.parse(out.getvalue(), format=ox.RdfFormat.N_QUADS))
    assert exported == {*two_sources().quads(), ox.Quad(LAW, TYPE, LAW_CLASS)}
    assert set(store.quads()) == exported


def test_a_bulk_load_is_merged_before_it_is_read_and_marks_its_folder(tmp_path: Path) -> None:
    store = GraphStore(tmp_path / "db")
    store.bulk_load_quads(two_sources().quads())
    assert not (tmp_path / "db" / MERGED_MARK).exists()  # killed now, it reads as unmerged
    store.flush()
    assert (tmp_path / "db" / MERGED_MARK).is_file()
    assert count(store, "?s ?p ?o") == 2
    del store
    reopened = GraphStore(tmp_path / "db", read_only=True)
    assert count(reopened, "?s ?p ?o") == 2
    assert count(reopened, "GRAPH ?g { ?s ?p ?o }") == 5


def test_a_store_built_before_the_merge_is_read_as_built_and_merged_at_its_first_write(
    tmp_path: Path,
) -> None:
    # A build as older versions left it: named graphs and a default graph, no merge, no mark.
    store_dir = tmp_path / "store"
    build = new_build_dir(store_dir)
    old = ox.Store(str(build))
    old.extend([*two_sources().quads(), ox.Quad(LAW, TYPE, LAW_CLASS)])
    old.flush()
    del old
    publish_build(store_dir, build)

    legacy = GraphStore(build, read_only=True)
    assert count(legacy, "?s ?p ?o", union_default_graph=False) == 1
    assert count(legacy, "?s a ?t") == 3  # Oxigraph's union: once per graph
    assert len(legacy) == 6
    del legacy

    with write_transaction(store_dir) as writable:
        writable.load_quads([ox.Quad(LAW, ox.NamedNode("https://example.org/n"), NAME, G3)])
    del writable  # closed, as when the writer returns
    merged = current_build(store_dir)
    assert merged is not None
    assert (merged / MERGED_MARK).is_file()
    store = GraphStore(merged, read_only=True)
    assert count(store, "?s a ?t") == 1
    assert count(store, "?s ?p ?o", union_default_graph=False) == 1
    assert len(store) == 7


def test_a_copy_of_a_merged_store_stays_merged(tmp_path: Path) -> None:
    store_dir = tmp_path / "store"
    build = new_build_dir(store_dir)
    first = GraphStore(build)
    first.load_quads(two_sources().quads())
    first.flush()
    del first
    publish_build(store_dir, build)
    with write_transaction(store_dir) as store:
        store.drop_graph(G1.value)
    del store  # closed, as when the writer returns
    copy = current_build(store_dir)
    assert copy is not None
    assert copy != build
    shutil.rmtree(build)  # the copy stands alone
    reopened = GraphStore(copy, read_only=True)
    assert count(reopened, "?s a ?t") == 1
    assert count(reopened, "GRAPH ?g { ?s a ?t }") == 1


def test_a_querys_own_from_and_from_named_choose_its_dataset() -> None:
    store = two_sources()
    store.load_quads([ox.Quad(LAW, ox.NamedNode("https://example.org/note"), ox.Literal("x"))])
    assert count(store, "?s ?p ?o") == 3
    # Oxigraph's union option replaced a query's FROM: before, this counted 3.
    from_one = f"SELECT (COUNT(*) AS ?n) FROM <{G3.value}> WHERE {{ ?s ?p ?o }}"
    assert int(next(store.query(from_one).rows())["n"].value) == 1
    named = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{G1.value}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert int(next(store.query(named).rows())["n"].value) == 2
    # The protocol's graphs still override the query's own.
    assert int(next(store.query(from_one, default_graphs=[G1.value]).rows())["n"].value) == 2


def test_a_store_in_memory_cannot_be_copied_and_says_so(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot copy"):
        two_sources().backup(tmp_path / "copy")
    assert not (tmp_path / "copy" / MERGED_MARK).exists()


def test_a_server_on_a_store_built_before_the_merge_serves_it_and_says_so(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    build = current_build(settings.store_dir)
    assert build is not None
    legacy = new_build_dir(settings.store_dir)  # the same quads, as an older cpgraph built them
    old = ox.Store(str(legacy))
    old.bulk_extend(GraphStore(build, read_only=True).quads())
    old.flush()
    del old
    publish_build(settings.store_dir, legacy)
    url = f"http://127.0.0.1:{free_port()}"
    process = subprocess.Popen(
        [sys.executable, "-m", "cpgraph.cli.main", "serve", "--port", url.rsplit(":", 1)[1]],
        env=cli_env(settings),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        answer = httpx.get(url + "/sparql", params={"query": "ASK { ?s a ?type }"})
        assert answer.json()["boolean"] is True
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=20)
    assert "built by an older cpgraph" in stderr
    assert current_build(settings.store_dir) == legacy  # served as it is, not rebuilt
