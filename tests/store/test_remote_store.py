"""The store contract, behaviour by behaviour, on three stores: the embedded Oxigraph, a
RemoteStore over a real Oxigraph server and a RemoteStore over a real Virtuoso, both started
on 127.0.0.1 once per module (skipped, saying why, where one cannot be started) and emptied
between tests. Each test states what every store must answer, and the embedded store answers
it too, so that the remote ones are held to the embedded one."""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.conftest import ROOT
from tests.linked_data import isomorphic
from tests.servers import (
    RunningStore,
    oxigraph_command,
    oxigraph_server,
    virtuoso_available,
    virtuoso_server,
)

from cpgraph.config import Settings
from cpgraph.errors import (
    InputError,
    QuerySyntaxError,
    StoreError,
    StoreTimeoutError,
    StoreUnreachableError,
)
from cpgraph.rdf.formats import RdfFormat
from cpgraph.store.configured import describe_store
from cpgraph.store.http import Endpoints, SparqlClient
from cpgraph.store.interface import Store
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.remote import RESERVED, RemoteStore
from cpgraph.store.union import DEFAULT_GRAPH_NAME

XSD = "http://www.w3.org/2001/XMLSchema#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
SH_DATATYPE = ox.NamedNode("http://www.w3.org/ns/shacl#datatype")
G1, G2, G3 = (ox.NamedNode(f"urn:test:g{i}") for i in (1, 2, 3))
S, P, Q = ox.NamedNode("urn:test:s"), ox.NamedNode("urn:test:p"), ox.NamedNode("urn:test:q")
SHARED = (S, P, ox.Literal("shared"))
ONLY_G2 = (S, Q, ox.Literal("only in g2"))
IN_DEFAULT = (ox.NamedNode("urn:test:d"), P, ox.Literal("in the default graph"))
STORES = ["embedded", "oxigraph", "virtuoso"]
REMOTE = ["oxigraph", "virtuoso"]


# -- the stores -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def virtuoso_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    if not virtuoso_available():
        pytest.skip("Debian's virtuoso-opensource is not installed (make test-deps, as root)")
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as running:
        yield running


def remote_of(running: RunningStore, *, timeout: float = 30.0) -> RemoteStore:
    """A RemoteStore over a started server."""
    return running.remote_store(timeout=timeout)


def empty(running: RunningStore) -> None:
    """Drop every graph cpgraph wrote in a started server (the server's own graphs stay)."""
    with contextlib.closing(remote_of(running)) as store:
        graphs = [*store.named_graphs(), *sorted(RESERVED)]
        with contextlib.closing(SparqlClient(store.endpoints, timeout=30.0)) as client:
            client.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))


@contextlib.contextmanager
def opened(request: pytest.FixtureRequest, kind: str) -> Iterator[Store]:
    """A store of ``kind``, empty."""
    if kind == "embedded":
        yield GraphStore(None)
        return
    running: RunningStore = request.getfixturevalue(f"{kind}_running")
    empty(running)
    with contextlib.closing(remote_of(running)) as store:
        yield store
    empty(running)


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    with opened(request, request.param) as opened_store:
        yield opened_store


@pytest.fixture(params=REMOTE)
def remote(request: pytest.FixtureRequest) -> Iterator[Store]:
    with opened(request, request.param) as opened_store:
        yield opened_store


# -- helpers ----------------------------------------------------------------------------------


def values(store: Store, sparql: str, **options: object) -> list[tuple[str | None, ...]]:
    """The rows of a SELECT, each as the values of its variables in order, sorted."""
    result = store.query(sparql, **options)  # type: ignore[arg-type]
    names = result.variables
    rows = [tuple(row[n].value if n in row else None for n in names) for row in result.rows()]
    return sorted(rows, key=lambda r: tuple("" if v is None else v for v in r))


def count(store: Store, sparql: str, **options: object) -> int:
    [(n,)] = values(store, sparql, **options)
    assert n is not None
    return int(n)


def with_shared(store: Store) -> None:
    """``SHARED`` in g1 and g2, ``ONLY_G2`` in g2, ``IN_DEFAULT`` in the default graph."""
    store.load_quads(
        [
            ox.Quad(*SHARED, G1),
            ox.Quad(*SHARED, G2),
            ox.Quad(*ONLY_G2, G2),
            ox.Quad(*IN_DEFAULT),
        ]
    )


def dumped(store: Store, fmt: RdfFormat, **options: object) -> bytes:
    out = io.BytesIO()
    store.dump(out, fmt, **options)  # type: ignore[arg-type]
    return out.getvalue()


# -- the dataset ------------------------------------------------------------------------------


def test_the_default_graph_is_the_union_with_each_statement_once(store: Store) -> None:
    with_shared(store)
    assert count(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == 3
    assert values(store, "SELECT ?o { ?s ?p ?o }") == sorted(
        [(SHARED[2].value,), (ONLY_G2[2].value,), (IN_DEFAULT[2].value,)]
    )
    assert count(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", union_default_graph=False) == 1


def test_graph_variable_sees_exactly_the_named_graphs(store: Store) -> None:
    with_shared(store)
    store.add_graph(G3.value)
    assert values(store, "SELECT DISTINCT ?g { GRAPH ?g { ?s ?p ?o } }") == [
        (G1.value,),
        (G2.value,),
    ]
    assert count(store, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }") == 3
    assert (
        values(store, "SELECT ?o { GRAPH ?g { ?s ?p ?o } FILTER (?g = <urn:x-cpgraph:union>) }")
        == []
    )


def test_blank_nodes_loaded_keep_one_node_across_graphs(store: Store) -> None:
    node = ox.BlankNode()
    store.load_quads(
        [
            ox.Quad(node, P, ox.Literal("a"), G1),
            ox.Quad(node, Q, ox.Literal("b"), G2),
            ox.Quad(S, P, node, G2),
        ]
    )
    assert count(store, "SELECT (COUNT(DISTINCT ?b) AS ?n) { ?b ?p ?o FILTER isBlank(?b) }") == 1
    joined = "SELECT ?b { GRAPH <urn:test:g1> { ?b ?p 'a' } GRAPH <urn:test:g2> { ?b ?q 'b' } }"
    assert len(values(store, joined)) == 1
    assert len(values(store, "SELECT ?x { <urn:test:s> <urn:test:p> ?x . ?x ?q 'b' }")) == 1
    store.update(
        "INSERT DATA { GRAPH <urn:test:g1> { _:n <urn:test:q> 'c' } "
        "GRAPH <urn:test:g3> { _:n <urn:test:q> 'd' } }"
    )
    assert count(store, "SELECT (COUNT(DISTINCT ?b) AS ?n) { ?b ?p ?o FILTER isBlank(?b) }") == 2
    both = "SELECT ?b { GRAPH <urn:test:g1> { ?b ?p 'c' } GRAPH <urn:test:g3> { ?b ?q 'd' } }"
    assert len(values(store, both)) == 1


def test_drop_graph_takes_out_of_the_union_only_what_no_other_graph_holds(store: Store) -> None:
    with_shared(store)
    store.drop_graph(G2.value)
    assert values(store, "SELECT ?o { ?s ?p ?o }") == sorted(
        [(SHARED[2].value,), (IN_DEFAULT[2].value,)]
    )
    assert store.named_graphs() == [G1.value]
    store.drop_graph(G1.value)
    assert values(store, "SELECT ?o { ?s ?p ?o }") == [(IN_DEFAULT[2].value,)]
    store.drop_graph(None)
    assert values(store, "SELECT ?o { ?s ?p ?o }") == []
    assert len(store) == 0


def test_graph_naming_a_graph_outside_the_dataset_has_no_solution(store: Store) -> None:
    # Virtuoso answers GRAPH <a graph not in the dataset> with one empty solution: cpgraph
    # makes every store read it as no graph, as the embedded store does.
    with_shared(store)
    store.drop_graph(G2.value)
    assert values(store, f"SELECT ?o {{ GRAPH {G1} {{ ?s ?p ?o }} }}") == [(SHARED[2].value,)]
    for gone in (f"{G2}", "<urn:test:never>", "t:never", "<urn:x-cpgraph:union>"):
        text = f"PREFIX t: <urn:test:> SELECT * {{ GRAPH {gone} {{ ?s ?p ?o }} }}"
        assert values(store, text) == [], gone
        ask = f"PREFIX t: <urn:test:> ASK {{ GRAPH {gone} {{ ?s ?p ?o }} }}"
        assert store.query(ask).boolean is False, gone
    assert count(store, f"SELECT (COUNT(*) AS ?n) {{ GRAPH {G2} {{ ?s ?p ?o }} }}") == 0
    assert values(store, "SELECT ?g { GRAPH ?g { ?s ?p ?o } }") == [(G1.value,)]


def test_add_graph_makes_an_empty_graph_that_is_reported(store: Store) -> None:
    assert not store.has_graph(G3.value)
    store.add_graph(G3.value)
    assert store.has_graph(G3.value)
    assert store.has_graph(None)
    assert store.named_graphs() == [G3.value]
    assert store.graph_sizes() == {}  # a graph with no statement has no size counted
    assert len(store) == 0
    assert list(store.quads(G3.value)) == []


def test_insert_data_and_delete_data_in_default_and_named_graphs(store: Store) -> None:
    store.update(
        "PREFIX t: <urn:test:> INSERT DATA { t:s t:p 'd' . GRAPH t:g1 { t:s t:p 'n', 'd' } }"
    )
    assert store.named_graphs() == [G1.value]
    assert store.graph_sizes() == {G1.value: 2}
    assert len(store) == 3
    assert values(store, "SELECT ?o { ?s ?p ?o }") == [("d",), ("n",)]
    store.update("PREFIX t: <urn:test:> DELETE DATA { GRAPH t:g1 { t:s t:p 'd' } }")
    assert values(store, "SELECT ?o { ?s ?p ?o }") == [("d",), ("n",)]  # the default holds it
    store.update("PREFIX t: <urn:test:> DELETE DATA { t:s t:p 'd' }")
    assert values(store, "SELECT ?o { ?s ?p ?o }") == [("n",)]
    assert store.default_graph_sample() is None
    store.update("PREFIX t: <urn:test:> DELETE DATA { GRAPH t:g1 { t:s t:p 'n' } }")
    assert values(store, "SELECT ?o { ?s ?p ?o }") == []


def test_a_general_update_is_refused_as_bad_input_over_a_remote_store(remote: Store) -> None:
    with_shared(remote)
    with pytest.raises(InputError) as refused:
        remote.update("DELETE WHERE { ?s ?p ?o }")
    assert refused.value.status == 400
    assert len(remote) == 4  # nothing was deleted
    with pytest.raises(QuerySyntaxError):
        remote.update("DELETE WHERE { ?s ?p }")


def test_writes_into_the_reserved_graphs_are_refused(store: Store) -> None:
    kept = ox.NamedNode(DEFAULT_GRAPH_NAME)
    with pytest.raises(InputError):
        store.load_quads([ox.Quad(*SHARED, kept)])
    with pytest.raises(InputError):
        store.update(f"INSERT DATA {{ GRAPH {kept} {{ <urn:test:s> <urn:test:p> 1 }} }}")
    if isinstance(store, RemoteStore):
        for name in sorted(RESERVED - {DEFAULT_GRAPH_NAME}):
            with pytest.raises(InputError):
                store.load_quads([ox.Quad(*SHARED, ox.NamedNode(name))])
            with pytest.raises(InputError):
                store.update(f"INSERT DATA {{ GRAPH <{name}> {{ <urn:test:s> <urn:test:p> 1 }} }}")
            with pytest.raises(InputError):
                store.add_graph(name)
            with pytest.raises(InputError):
                store.drop_graph(name)
    assert len(store) == 0


# -- queries ----------------------------------------------------------------------------------


def test_the_protocol_dataset_replaces_the_store_one(store: Store) -> None:
    with_shared(store)
    merged = count(
        store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", default_graphs=[G1.value, G2.value]
    )
    assert merged == 2  # the merge: the shared statement once
    assert count(store, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", default_graphs=[G1.value]) == 1
    only_named = values(store, "SELECT ?g ?o { GRAPH ?g { ?s ?p ?o } }", named_graphs=[G1.value])
    assert only_named == [(G1.value, SHARED[2].value)]
    assert values(store, "SELECT ?o { ?s ?p ?o }", named_graphs=[G1.value]) == []
    assert values(store, "SELECT ?o { ?s ?p ?o }", default_graphs=[DEFAULT_GRAPH_NAME]) == []
    # The protocol's dataset wins over the query's own.
    assert values(
        store, "SELECT ?o FROM <urn:test:g2> { ?s ?p ?o }", default_graphs=[G1.value]
    ) == [(SHARED[2].value,)]


def test_from_and_from_named_name_the_dataset(store: Store) -> None:
    with_shared(store)
    two = "SELECT (COUNT(*) AS ?n) FROM <urn:test:g1> FROM <urn:test:g2> { ?s ?p ?o }"
    assert count(store, two) == 2
    assert values(store, "SELECT ?o FROM <urn:test:g1> { ?s ?p ?o }") == [(SHARED[2].value,)]
    assert values(store, "SELECT ?g FROM <urn:test:g1> { GRAPH ?g { ?s ?p ?o } }") == []
    named = "SELECT DISTINCT ?g FROM NAMED <urn:test:g2> { GRAPH ?g { ?s ?p ?o } }"
    assert values(store, named) == [(G2.value,)]
    assert values(store, "SELECT ?o FROM NAMED <urn:test:g2> { ?s ?p ?o }") == []
    hidden = f"SELECT ?o FROM <{DEFAULT_GRAPH_NAME}> FROM NAMED <urn:x-cpgraph:union> "
    assert values(store, hidden + "{ { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }") == []
    joined = (
        "SELECT ?o ?o2 FROM <urn:test:g1> FROM <urn:test:g2> FROM NAMED <urn:test:g1> "
        "{ ?s ?p ?o . ?s ?q ?o2 GRAPH ?g { ?s ?p ?o } }"
    )
    assert len(values(store, joined)) == 2  # the merge joined with a named graph, no repeat


def test_prefixes_and_the_base_are_predeclared(store: Store) -> None:
    with_shared(store)
    assert values(store, "SELECT ?o { t:s t:q ?o }", prefixes={"t": "urn:test:"}) == [
        (ONLY_G2[2].value,)
    ]
    # The query's own declaration wins over the predeclared one.
    own = "PREFIX t: <urn:test:> SELECT ?o { t:s t:q ?o }"
    assert values(store, own, prefixes={"t": "urn:other:"}) == [(ONLY_G2[2].value,)]
    store.load_quads([ox.Quad(ox.NamedNode("http://example.org/a/s"), P, ox.Literal("based"))])
    based = "SELECT ?o (STR(<x>) AS ?x) { <s> ?p ?o }"
    assert values(store, based, base_iri="http://example.org/a/") == [
        ("based", "http://example.org/a/x")
    ]


def test_substitutions_bind_variables(store: Store) -> None:
    with_shared(store)
    rows = values(store, "SELECT ?p ?o { ?s ?p ?o }", substitutions={"p": Q})
    assert rows == [(Q.value, ONLY_G2[2].value)]
    ask = store.query("ASK { ?s ?p 'shared' }", substitutions={"s": S})
    assert ask.boolean is True


def test_a_malformed_query_is_refused_with_the_embedded_line_and_column(
    store: Store,
) -> None:
    for text in ("SELECT * WHERE {\n  ?s ?p\n}", "SELECT ?x WHERE { ?x <urn:p> ?y } ORDER"):
        with pytest.raises(QuerySyntaxError) as theirs:
            store.query(text)
        with pytest.raises(QuerySyntaxError) as ours:
            GraphStore(None).query(text)
        assert str(theirs.value) == str(ours.value)
        assert "line" in str(theirs.value)


def test_literals_come_back_as_written(store: Store) -> None:
    written = [
        ox.Literal(" spaced "),
        ox.Literal("\ttab\n"),
        ox.Literal("x", language="en"),
        ox.Literal("ünïcode ☃"),
        ox.Literal("1.5", datatype=ox.NamedNode(XSD + "decimal")),
        ox.Literal("1997-05", datatype=ox.NamedNode(XSD + "gYearMonth")),
    ]
    store.load_quads([ox.Quad(S, P, literal, G1) for literal in written])
    rows = store.query("SELECT ?o { ?s ?p ?o }").rows()
    assert sorted((row["o"] for row in rows), key=str) == sorted(written, key=str)
    built = store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").triples()
    assert sorted((t.object for t in built), key=str) == sorted(written, key=str)


def test_construct_and_ask_answer_as_the_embedded_store(store: Store) -> None:
    node = ox.BlankNode()
    quads = [
        ox.Quad(S, P, node, G1),
        ox.Quad(node, Q, ox.Literal("inner"), G1),
        ox.Quad(node, Q, ox.Literal("inner"), G2),
        ox.Quad(*ONLY_G2, G2),
    ]
    store.load_quads(quads)
    embedded = GraphStore(None)
    embedded.load_quads(quads)
    text = "CONSTRUCT { ?s ?p ?o . ?s <urn:test:seen> true } WHERE { ?s ?p ?o }"
    theirs = [ox.Quad(t.subject, t.predicate, t.object) for t in store.query(text).triples()]
    ours = [ox.Quad(t.subject, t.predicate, t.object) for t in embedded.query(text).triples()]
    assert isomorphic(theirs, ours)
    assert store.query("ASK { ?s <urn:test:q> 'inner' }").boolean is True
    assert store.query("ASK { ?s <urn:test:q> 'outer' }").boolean is False


def test_a_large_load_with_blank_nodes_in_many_graphs_keeps_every_statement(
    store: Store,
) -> None:
    quads = []
    for i in range(600):  # lists of three, as the shapes hold them, and plain statements
        graph = ox.NamedNode(f"urn:test:graph{i % 7}")
        head, middle = ox.BlankNode(), ox.BlankNode()
        first, rest = ox.NamedNode(RDF + "first"), ox.NamedNode(RDF + "rest")
        quads += [
            ox.Quad(ox.NamedNode(f"urn:test:s{i}"), P, head, graph),
            ox.Quad(head, first, ox.Literal(str(i)), graph),
            ox.Quad(head, rest, middle, graph),
            ox.Quad(middle, first, ox.Literal(f"{i}b", language="en"), graph),
            ox.Quad(ox.NamedNode(f"urn:test:s{i}"), Q, ox.Literal(i), ox.NamedNode("urn:test:g")),
        ]
    store.load_quads(quads)
    assert len(store) == len(quads)
    assert count(store, "SELECT (COUNT(DISTINCT ?b) AS ?n) { ?b ?p ?o FILTER isBlank(?b) }") == 1200
    walked = "SELECT (COUNT(*) AS ?n) { ?s <urn:test:p>/rdf:rest ?m }"
    assert count(store, walked, prefixes={"rdf": RDF}) == 600


# -- reads ------------------------------------------------------------------------------------


def test_graph_sizes_len_quads_and_triples_count_each_graph(store: Store) -> None:
    with_shared(store)
    assert store.graph_sizes() == {G1.value: 1, G2.value: 2}
    assert len(store) == 4
    assert set(store.quads(G2.value)) == {ox.Quad(*SHARED, G2), ox.Quad(*ONLY_G2, G2)}
    assert set(store.quads()) == {
        ox.Quad(*SHARED, G1),
        ox.Quad(*SHARED, G2),
        ox.Quad(*ONLY_G2, G2),
        ox.Quad(*IN_DEFAULT),
    }
    assert sorted(store.triples(S, None, None)) == sorted([SHARED, ONLY_G2])  # type: ignore[type-var]
    assert list(store.triples(None, Q, None)) == [ONLY_G2]
    assert list(store.triples(None, None, ox.Literal("none"))) == []
    assert list(store.triples(ox.BlankNode(), None, None)) == []
    assert store.default_graph_sample() == ox.Quad(*IN_DEFAULT)


def test_dumps_are_the_dataset_the_embedded_store_dumps(store: Store) -> None:
    node = ox.BlankNode()
    quads = [
        ox.Quad(*SHARED, G1),
        ox.Quad(*SHARED, G2),
        ox.Quad(node, P, ox.Literal("x", language="en"), G2),
        ox.Quad(S, Q, node),
        ox.Quad(S, P, ox.Literal("2", datatype=ox.NamedNode(XSD + "integer"))),
    ]
    store.load_quads(quads)
    embedded = GraphStore(None)
    embedded.load_quads(quads)
    for fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG):
        theirs = list(ox.parse(dumped(store, fmt), fmt.oxigraph))
        ours = list(ox.parse(dumped(embedded, fmt), fmt.oxigraph))
        assert isomorphic(theirs, ours), fmt
        assert len(theirs) == len(quads)
    one = list(ox.parse(dumped(store, RdfFormat.TURTLE, graph=G2.value), ox.RdfFormat.TURTLE))
    assert isomorphic(one, [ox.Quad(q.subject, q.predicate, q.object) for q in quads[1:3]])
    with pytest.raises(InputError):
        dumped(store, RdfFormat.TURTLE)
    out = io.BytesIO()
    store.dump_graph(out, RdfFormat.N_TRIPLES, None)
    default = list(ox.parse(out.getvalue(), ox.RdfFormat.N_TRIPLES))
    assert isomorphic(default, [ox.Quad(q.subject, q.predicate, q.object) for q in quads[3:]])
    out = io.BytesIO()
    store.dump_graph(out, RdfFormat.N_TRIPLES, G1.value)
    assert list(ox.parse(out.getvalue(), ox.RdfFormat.N_TRIPLES)) == [ox.Quad(*SHARED)]


def shape_literals() -> list[ox.Literal]:
    """Literals of every datatype a shape of shapes/ names, in forms kept and rewritten."""
    lexical = {
        "string": ["plain", " spaced ", "ünïcode"],
        "integer": ["7", "007", "+3", "-0"],
        "decimal": ["1.5", "1.50", "+.5", "-0.0", "3"],
        "date": ["1997-05-12", "1997-05-12Z", "1997-05-12+08:00"],
        "dateTime": [
            "1997-05-12T10:00:00",
            "1997-05-12T10:00:00.500Z",
            "1997-05-12T10:00:00-05:00",
        ],
        "gYear": ["1997", "1997Z"],
        "gYearMonth": ["1997-05", "1997-05+00:00"],
        "boolean": ["true", "1", "0"],
    }
    datatypes = set()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        for quad in ox.parse(path=path, format=ox.RdfFormat.TURTLE):
            if (
                quad.predicate == SH_DATATYPE
                and isinstance(quad.object, ox.NamedNode)
                and quad.object.value.startswith(XSD)  # rdf:langString: tagged, kept as is
            ):
                datatypes.add(quad.object.value.removeprefix(XSD))
    assert datatypes <= lexical.keys(), datatypes - lexical.keys()
    return [
        ox.Literal(value, datatype=ox.NamedNode(XSD + name))
        for name in sorted(datatypes)
        for value in lexical[name]
    ]


def test_stored_forms_say_what_the_store_keeps(
    store: Store, request: pytest.FixtureRequest
) -> None:
    padded = ox.Literal("007", datatype=ox.NamedNode(XSD + "integer"))
    assert store.stored_forms([padded])[padded].value == "7"
    literals = shape_literals()
    forms = store.stored_forms(literals)
    assert set(forms) == set(literals)
    if request.node.callspec.params["store"] == "virtuoso":  # its own forms: numbers retyped
        three = ox.Literal("3", datatype=ox.NamedNode(XSD + "decimal"))
        assert forms[three] == ox.Literal("3", datatype=ox.NamedNode(XSD + "integer"))
    else:
        assert forms == GraphStore(None).stored_forms(literals)
    assert len(store) == 0  # the probe leaves nothing behind
    assert store.named_graphs() == []


def test_a_literal_the_store_cannot_hold_is_named(
    remote: Store, request: pytest.FixtureRequest
) -> None:
    huge = ox.Literal("12345678901234567890", datatype=ox.NamedNode(XSD + "integer"))
    small = ox.Literal("+1", datatype=ox.NamedNode(XSD + "integer"))
    if request.node.callspec.params["remote"] == "virtuoso":  # 64-bit integers only
        with pytest.raises(InputError) as refused:
            remote.stored_forms([small, huge])
        assert huge.value in str(refused.value)
        assert remote.stored_forms([small])[small].value == "1"
    else:
        assert remote.stored_forms([small, huge])[huge] == huge


# -- failures ---------------------------------------------------------------------------------


SECRET = "a-secret-never-shown"


def test_a_stopped_store_is_unreachable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    if oxigraph_command() is None:
        pytest.skip("the oxigraph server is not installed (the test extra installs it)")
    with oxigraph_server(tmp_path) as running:
        endpoints = Endpoints.derived(running.query, user="someone", password=SECRET)
    caplog.set_level(logging.DEBUG)
    with contextlib.closing(RemoteStore(endpoints, timeout=5.0)) as store:
        for call in (
            lambda: store.query("ASK {}"),
            lambda: store.load_quads([ox.Quad(*SHARED, G1)]),
            lambda: store.named_graphs(),
        ):
            with pytest.raises(StoreUnreachableError) as failed:
                call()
            assert failed.value.status == 502
            assert SECRET not in str(failed.value)
        described = Settings(store_url=running.query, store_user="someone", store_password=SECRET)
        assert SECRET not in describe_store(described)
    assert SECRET not in caplog.text
    assert SECRET not in repr(endpoints)


def test_a_store_that_never_answers_is_a_timeout_within_the_bound(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never replies
        port = silent.getsockname()[1]
        endpoints = Endpoints.derived(f"http://127.0.0.1:{port}/query", token=SECRET)
        caplog.set_level(logging.DEBUG)
        started = time.monotonic()
        with (
            contextlib.closing(RemoteStore(endpoints, timeout=1.0)) as store,
            pytest.raises(StoreTimeoutError) as failed,
        ):
            store.query("SELECT * { ?s ?p ?o }")
        assert time.monotonic() - started < 5.0
        assert failed.value.status == 504
        assert SECRET not in str(failed.value)
    assert SECRET not in caplog.text


def test_refused_credentials_are_named_without_the_credentials(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    running: RunningStore = request.getfixturevalue("virtuoso_running")
    wrong = Endpoints.derived(
        running.query, running.update, user="dba", password=SECRET, auth_scheme=running.auth
    )
    caplog.set_level(logging.DEBUG)
    with (
        contextlib.closing(RemoteStore(wrong, timeout=10.0)) as store,
        pytest.raises(StoreUnreachableError) as refused,
    ):
        store.query("ASK {}")
    assert "credentials" in str(refused.value)
    assert SECRET not in str(refused.value)
    assert SECRET not in caplog.text


def test_a_remote_store_opened_read_only_refuses_writes(remote: Store) -> None:
    assert isinstance(remote, RemoteStore)
    with contextlib.closing(RemoteStore(remote.endpoints, read_only=True)) as read_only:
        assert read_only.read_only
        with pytest.raises(StoreError):
            read_only.load_quads([ox.Quad(*SHARED, G1)])
        with pytest.raises(StoreError):
            read_only.update("INSERT DATA { <urn:test:s> <urn:test:p> 1 }")
    assert len(remote) == 0
