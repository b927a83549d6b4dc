"""Content negotiation and query results, on a real in-memory and on-disk store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from cpgraph.errors import NotAcceptableError
from cpgraph.query import (
    QueryFormat,
    limited_within,
    negotiate,
    parse_accept,
    render_table,
    write_result,
)
from cpgraph.rdfio import RdfFormat
from cpgraph.store import GraphStore, QueryKind, ResultsFormat

EX = "http://example.org/"


@pytest.fixture
def store(tmp_path: Path) -> GraphStore:
    store = GraphStore(tmp_path / "db")
    store.load_quads(
        [
            ox.Quad(
                ox.NamedNode(EX + "a"),
                ox.NamedNode(EX + "p"),
                ox.Literal("one"),
                ox.NamedNode(EX + "g1"),
            ),
            ox.Quad(
                ox.NamedNode(EX + "b"),
                ox.NamedNode(EX + "p"),
                ox.Literal("two", language="en"),
                ox.NamedNode(EX + "g2"),
            ),
        ]
    )
    return store


def test_accept_ranges_are_ordered_by_q_then_specificity() -> None:
    assert parse_accept("text/*;q=0.5, text/csv, */*;q=0.1, image/png;q=0") == [
        ("text/csv", 1.0),
        ("text/*", 0.5),
        ("*/*", 0.1),
    ]


@pytest.mark.parametrize(
    ("accept", "kind", "expected"),
    [
        (None, QueryKind.SOLUTIONS, ResultsFormat.JSON),
        ("text/csv;q=0.9, application/sparql-results+xml", QueryKind.SOLUTIONS, ResultsFormat.XML),
        ("text/*", QueryKind.SOLUTIONS, ResultsFormat.CSV),
        ("text/html, */*;q=0.1", QueryKind.GRAPH, RdfFormat.TURTLE),
        ("application/ld+json", QueryKind.GRAPH, RdfFormat.JSON_LD),
        ("application/n-triples;q=0.5, application/rdf+xml", QueryKind.GRAPH, RdfFormat.RDF_XML),
    ],
)
def test_negotiation_picks_the_best_acceptable_format(
    accept: str | None, kind: QueryKind, expected: object
) -> None:
    assert negotiate(accept, kind) is expected


def test_negotiation_refuses_when_nothing_fits() -> None:
    with pytest.raises(NotAcceptableError):
        negotiate("text/turtle", QueryKind.SOLUTIONS)


def test_the_default_graph_is_the_union_unless_graphs_are_named(store: GraphStore) -> None:
    query = f"SELECT ?o WHERE {{ ?s <{EX}p> ?o }}"
    union = {row["o"].value for row in store.query(query).rows()}
    only_g1 = {row["o"].value for row in store.query(query, default_graphs=[EX + "g1"]).rows()}
    assert union == {"one", "two"}
    assert only_g1 == {"one"}


def test_substitutions_bind_terms_without_touching_the_query_text(store: GraphStore) -> None:
    query = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }}"
    rows = store.query(query, substitutions={"s": ox.NamedNode(EX + "b")}).rows()
    assert [row["o"] for row in rows] == [ox.Literal("two", language="en")]


def test_select_results_serialise_as_sparql_json(store: GraphStore) -> None:
    out = io.BytesIO()
    write_result(
        store.query("SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s"),
        out,
        fmt=QueryFormat.JSON,
        base="https://w3id.org/cpgraph/",
    )
    data = json.loads(out.getvalue())
    assert [b["s"]["value"] for b in data["results"]["bindings"]] == [EX + "a", EX + "b"]


def test_a_graph_result_round_trips_through_every_rdf_format(store: GraphStore) -> None:
    for fmt in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.RDF_XML, RdfFormat.JSON_LD):
        out = io.BytesIO()
        store.query("CONSTRUCT WHERE { ?s ?p ?o }").serialize(out, fmt)
        parsed = set(ox.parse(out.getvalue(), fmt.oxigraph))
        assert {q.triple for q in parsed} == {
            ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"), ox.Literal("one")),
            ox.Triple(
                ox.NamedNode(EX + "b"), ox.NamedNode(EX + "p"), ox.Literal("two", language="en")
            ),
        }


def test_the_text_table_aligns_columns_and_counts_rows(store: GraphStore) -> None:
    table = render_table(
        store.query("SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"), base="https://w3id.org/cpgraph/"
    )
    assert table.splitlines() == [
        "s                      | o",
        "-----------------------+-------",
        "<http://example.org/a> | one",
        "<http://example.org/b> | two@en",
        "(2 rows)",
    ]


@pytest.mark.parametrize(
    ("query", "within"),
    [
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 10", True),
        ("SELECT * WHERE { ?s ?p ?o }\nlimit 5 offset 20\n", True),
        ("SELECT * WHERE { ?s ?p ?o } OFFSET 20 LIMIT 5", True),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 100", True),
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 101", False),  # more than the row limit
        ("SELECT * WHERE { ?s ?p ?o }", False),
        ("SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } LIMIT 5 } }", False),  # a sub-select's
        ("SELECT * WHERE { ?s ?p ?o } # LIMIT 5", False),  # a comment
        ("SELECT * WHERE { ?s ?p ?o } LIMIT 5 VALUES ?s { <http://e/a> }", False),
        ("SELECT * WHERE { ?s ?p <http://e/x#y> } LIMIT 5", False),  # '#' on its line: no
    ],
)
def test_a_final_limit_within_the_row_limit_is_recognised(query: str, within: bool) -> None:
    assert limited_within(query, 100) is within


@pytest.mark.parametrize("fmt", list(ResultsFormat))
@pytest.mark.parametrize(("max_rows", "rows", "cut"), [(1, 1, True), (2, 2, False), (5, 2, False)])
def test_a_capped_select_keeps_at_most_the_cap_and_says_whether_it_cut(
    store: GraphStore, fmt: ResultsFormat, max_rows: int, rows: int, cut: bool
) -> None:
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"
    body, truncated = store.query(query).serialize_capped(fmt, max_rows=max_rows)
    assert truncated is cut
    if fmt is ResultsFormat.CSV:  # lossy, not parsed back: the same lines as uncapped
        whole = io.BytesIO()
        store.query(query).serialize(whole, fmt)
        assert body.splitlines() == whole.getvalue().splitlines()[: rows + 1]
        return
    parsed = list(ox.parse_query_results(body, fmt.oxigraph))
    expected = list(store.query(query).raw)[:rows]
    assert [tuple(s) for s in parsed] == [tuple(s) for s in expected]


def test_a_capped_select_stops_when_its_check_says_so(store: GraphStore) -> None:
    class StoppedError(Exception):
        pass

    def stop() -> None:
        raise StoppedError

    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(StoppedError):
        store.query(query).serialize_capped(ResultsFormat.JSON, max_rows=10_000, check=stop)
