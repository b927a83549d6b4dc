"""Content negotiation and query results, on a real in-memory and on-disk store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from cpgraph.cli.results import render_table, write_result
from cpgraph.engine.at_once import answer_at_once
from cpgraph.engine.negotiation import QueryFormat, negotiate, parse_accept
from cpgraph.engine.requests import QueryRequest
from cpgraph.errors import NotAcceptableError, QuerySyntaxError
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.sparql.scans import limited_within, single_scan
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.results import QueryKind, _FullError, _RowBound

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


@pytest.mark.parametrize("fmt", list(ResultsFormat))
@pytest.mark.parametrize(("max_rows", "whole"), [(1, False), (2, True), (5, True)])
def test_an_answer_within_the_row_bound_is_written_once_and_none_past_it(
    store: GraphStore, fmt: ResultsFormat, max_rows: int, whole: bool
) -> None:
    query = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"  # two rows
    body = store.query(query).serialize_within(fmt, max_rows=max_rows)
    if not whole:
        assert body is None
        return
    direct = io.BytesIO()
    store.query(query).serialize(direct, fmt)
    assert body == direct.getvalue()


@pytest.mark.parametrize(
    "fmt", [ResultsFormat.JSON, ResultsFormat.XML, ResultsFormat.CSV, ResultsFormat.TSV]
)
@pytest.mark.parametrize(
    "literal",
    [
        '{"type":"uri","value":"x"}',  # what a bound value looks like, inside a string
        "<result></result>\n{}\r\n",
        'a "quoted" {brace} and a line\nbreak',
    ],
)
def test_the_row_bound_never_counts_fewer_rows_than_there_are(
    store: GraphStore, fmt: ResultsFormat, literal: str
) -> None:
    # Three rows whose values look like the formats' own row marks: the bound may
    # overcount (None where the rows would fit), never undercount (bytes past the limit).
    values = " ".join(ox.Literal(f"{literal}{i}").__str__() for i in range(3))
    query = f"SELECT ?x ?y WHERE {{ VALUES ?x {{ {values} }} BIND(?x AS ?y) }}"
    assert store.query(query).serialize_within(fmt, max_rows=2) is None
    body = store.query(query).serialize_within(fmt, max_rows=1_000)
    assert body is not None
    if fmt is not ResultsFormat.CSV:
        assert len(list(ox.parse_query_results(body, fmt.oxigraph))) == 3


def _written(store: GraphStore, query: str, fmt: ResultsFormat) -> bytes:
    whole = io.BytesIO()
    store.query(query).serialize(whole, fmt)
    return whole.getvalue()


def _kept(data: bytes, fmt: ResultsFormat, max_rows: int, size: int) -> bytes | None:
    """What a row bound keeps of ``data`` written in pieces of ``size``; None if refused."""
    sink = _RowBound(fmt, max_rows)
    try:
        for start in range(0, len(data), size):
            sink.write(data[start : start + size])
    except _FullError:
        return None
    return sink.getvalue() if sink.within() else None


@pytest.mark.parametrize("fmt", [ResultsFormat.JSON, ResultsFormat.XML, ResultsFormat.CSV])
def test_the_row_bound_holds_however_the_bytes_are_cut_into_writes(
    store: GraphStore, fmt: ResultsFormat
) -> None:
    # Oxigraph writes in pieces of its own choosing: a row mark may be cut between two.
    values = " ".join(f'"v{i}"' for i in range(7))
    query = f"SELECT ?x ?y WHERE {{ VALUES ?x {{ {values} }} BIND(STRLEN(?x) AS ?y) }}"
    data = _written(store, query, fmt)
    for size in (1, 2, 3, 5, 8, 9, 13, 4096):
        assert _kept(data, fmt, 7, size) == data
        assert _kept(data, fmt, 6, size) is None


@pytest.mark.parametrize("fmt", [ResultsFormat.JSON, ResultsFormat.XML, ResultsFormat.CSV])
def test_the_row_bound_counts_what_came_before_it_began_counting(
    store: GraphStore, fmt: ResultsFormat
) -> None:
    # The bound counts nothing while the size alone keeps the answer within the limit;
    # once past it, the rows already written count too, however the bytes were cut.
    values = " ".join(f'"{i}"' for i in range(50))
    data = _written(store, f"SELECT ?x WHERE {{ VALUES ?x {{ {values} }} }}", fmt)
    for size in (1, 7, 64, len(data)):
        assert _kept(data, fmt, 49, size) is None, size
        assert _kept(data, fmt, 50, size) == data, size
        assert _kept(data, fmt, len(data), size) == data, size


def test_a_capped_select_stops_when_its_check_says_so(store: GraphStore) -> None:
    class StoppedError(Exception):
        pass

    def stop() -> None:
        raise StoppedError

    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(StoppedError):
        store.query(query).serialize_capped(ResultsFormat.JSON, max_rows=10_000, check=stop)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?p ?o WHERE { <http://e/a> ?p ?o }",
        "select ?o { <http://e/a> <http://e/p> ?o . } limit 3",
        "PREFIX ex: <http://e/>\nSELECT * WHERE {\n  ex:a ex:p ?o\n}",
        "SELECT ?s WHERE { ?s a <http://e/C> }",
        'SELECT ?s WHERE { ?s ?p "two"@en }',
        'SELECT ?s WHERE { ?s ?p "1"^^<http://www.w3.org/2001/XMLSchema#integer> }',
        "ASK { <http://e/a> ?p ?o }",
        "BASE <http://e/> SELECT ?o WHERE { <a> ?p ?o }",
        "SELECT ?s ?p ?o WHERE { ?s ?p ?o }",  # a scan of everything still yields steadily
        # DISTINCT keeping every variable drops only a statement met again in another graph
        "SELECT DISTINCT ?p ?o WHERE { <http://e/a> ?p ?o }",
        "select distinct ?o ?p { <http://e/a> ?p ?o } LIMIT 10",
        "SELECT REDUCED * WHERE { ?s a <http://e/C> }",
        "SELECT ?s WHERE { ?s ?p '}' }",  # a brace in a string is no brace
    ],
)
def test_a_single_pattern_query_is_recognised_as_one_scan(query: str) -> None:
    assert single_scan(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT DISTINCT ?p WHERE { ?s ?p ?o }",  # the scan may run long between new values
        "SELECT REDUCED ?p WHERE { ?s ?p ?o }",
        "SELECT DISTINCT ?p WHERE { <http://e/a> ?p ?o }",  # a hub: many ?o per ?p
        "SELECT DISTINCT ?p ?p WHERE { <http://e/a> ?p ?o }",
        "SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s",  # a sort: nothing until the end
        "SELECT ?s WHERE { ?s ?p ?o } OFFSET 100000",  # skipping is work without output
        "SELECT ?s WHERE { ?s ?p ?o FILTER(?o = 1) }",
        "SELECT ?s WHERE { ?s ?p ?o . ?o ?q ?r }",
        "SELECT ?s WHERE { ?s <http://e/p>/<http://e/q> ?o }",  # a path
        "SELECT ?s WHERE { ?s <http://e/p>* ?o }",
        "SELECT ?s WHERE { ?s ?p ?s }",  # a repeated variable filters the scan
        "SELECT ?s WHERE { ?s ?p $s }",
        "SELECT ?s WHERE { ?s ?p ?o # }\n . ?a ?b ?c }",  # a comment could hide anything
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?s",
        "SELECT ?s WHERE { OPTIONAL { ?s ?p ?o } }",
        "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } ORDER BY ?s } }",
        "SELECT ?s WHERE { ?s ?p ?o } VALUES ?s { <http://e/a> }",
        "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }",
        "SELECT ?s WHERE { SERVICE <http://e/> { ?s ?p ?o } }",
        "CONSTRUCT WHERE { <http://e/a> ?p ?o }",
        "DESCRIBE <http://e/a>",
        'SELECT ?s WHERE { ?s ?p "a\\"b" }',  # an escape in a literal: not worth the doubt
        "SELECT ?s WHERE { ?s ?p ?o #c\r. ?a ?b ?c }",  # a comment ends at CR
        "SELECT ?s WHERE { ?s ?p\u00a0?o }",  # no-break space is not SPARQL whitespace
        "SELECT ?s WHERE { _:b ?p ?o }",
        "SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 # c",
    ],
)
def test_a_query_that_can_work_without_output_is_not_one_scan(query: str) -> None:
    assert not single_scan(query)


def _request(store: GraphStore, query: str, **fields: object) -> QueryRequest:
    return QueryRequest(query=query, store=store, **fields)  # type: ignore[arg-type]


def test_a_lookup_answered_at_once_is_the_answer_the_pool_would_give(store: GraphStore) -> None:
    query = "SELECT ?p ?o WHERE { <http://example.org/b> ?p ?o }"
    answer = answer_at_once(
        _request(store, query, accept="application/sparql-results+xml", row_limit=1000)
    )
    assert answer is not None
    head, body = answer.head, answer.content
    assert (head.media_type, head.kind, head.truncated, head.row_limit) == (
        "application/sparql-results+xml",
        "solutions",
        False,
        1000,
    )
    rows = [tuple(s) for s in ox.parse_query_results(body, ox.QueryResultsFormat.XML)]
    assert rows == [(ox.NamedNode(EX + "p"), ox.Literal("two", language="en"))]


def test_an_ask_is_answered_at_once_in_the_format_asked_for(store: GraphStore) -> None:
    answer = answer_at_once(_request(store, "ASK { ?s ?p 'one' }", format="json"))
    assert answer is not None
    assert json.loads(answer.content) == {"head": {}, "boolean": True}


def test_a_lookup_answered_at_once_gives_a_statement_of_two_graphs_once(
    store: GraphStore,
) -> None:
    # The union default graph is their merge: a statement in two graphs is in it once.
    a, p = ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p")
    store.load_quads([ox.Quad(a, p, ox.Literal("one"), ox.NamedNode(EX + "g3"))])
    plain = answer_at_once(_request(store, f"SELECT ?p ?o WHERE {{ <{EX}a> ?p ?o }}"))
    distinct = answer_at_once(_request(store, f"SELECT DISTINCT ?p ?o WHERE {{ <{EX}a> ?p ?o }}"))
    assert plain is not None
    assert distinct is not None
    for answer in (plain, distinct):
        rows = [
            tuple(s) for s in ox.parse_query_results(answer.content, ox.QueryResultsFormat.JSON)
        ]
        assert rows == [(p, ox.Literal("one"))]


def test_only_single_scans_are_answered_at_once(store: GraphStore) -> None:
    assert answer_at_once(_request(store, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")) is None


def test_an_answer_too_big_for_at_once_is_left_to_the_pool(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o }"
    assert answer_at_once(_request(store, query)) is not None
    monkeypatch.setattr("cpgraph.engine.at_once.AT_ONCE_BYTES", 40)  # less than the two rows take
    assert answer_at_once(_request(store, query)) is None


def test_a_capped_answer_is_given_at_once_only_while_the_cap_cannot_cut_it(
    store: GraphStore,
) -> None:
    # Every row takes a byte at least: an answer within ``row_limit`` bytes has fewer rows.
    query = "SELECT ?s WHERE { ?s <http://example.org/p> ?o }"
    assert answer_at_once(_request(store, query, row_limit=1)) is None
    assert answer_at_once(_request(store, query, row_limit=10_000)) is not None


def test_a_malformed_single_pattern_is_refused_with_its_position(store: GraphStore) -> None:
    with pytest.raises(QuerySyntaxError) as raised:
        answer_at_once(_request(store, "SELECT ?o WHERE { undeclared:a ?p ?o }"))
    assert raised.value.line == 1


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ?o WHERE { <a> ?p ?o }",  # a relative IRI
        "SELECT ?o WHERE { ?s ?p ?o FILTER(?s = IRI('a')) }",  # IRI() resolves strings too
    ],
)
def test_a_query_with_relative_iris_resolves_them_against_the_base(
    store: GraphStore, query: str
) -> None:
    rows = list(store.query(query, base_iri=EX).rows())
    assert [row["o"] for row in rows] == [ox.Literal("one")]


def test_a_scan_limited_to_more_rows_than_fit_goes_straight_to_the_pool(
    store: GraphStore,
) -> None:
    query = "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o }"
    assert answer_at_once(_request(store, query + " LIMIT 1000")) is not None
    assert answer_at_once(_request(store, query + " LIMIT 1001")) is None


@pytest.mark.parametrize(
    ("query", "ask", "limit"),
    [
        ("SELECT ?p ?o WHERE { <http://e/a> ?p ?o }", False, None),
        ("select ?o { <http://e/a> <http://e/p> ?o . } limit 3", False, 3),
        ("ASK { <http://e/a> ?p ?o }", True, None),
        ("PREFIX ex: <http://e/> ask WHERE { ex:a ?p ?o }", True, None),
    ],
)
def test_a_single_scan_tells_an_ask_from_a_select_and_its_limit(
    query: str, ask: bool, limit: int | None
) -> None:
    scan = single_scan(query)
    assert scan is not None
    assert (scan.ask, scan.limit) == (ask, limit)


def test_an_answer_within_bounds_is_the_whole_answer_and_none_past_them(
    store: GraphStore,
) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    whole = store.answer_within(query, ResultsFormat.CSV, max_bytes=1 << 20, seconds=10)
    assert whole is not None
    expected = io.BytesIO()
    store.query(query).serialize(expected, ResultsFormat.CSV)
    assert whole == expected.getvalue()
    assert store.answer_within(query, ResultsFormat.CSV, max_bytes=10, seconds=10) is None
    assert store.answer_within(query, ResultsFormat.CSV, max_bytes=1 << 20, seconds=-1) is None


def test_an_answer_within_bounds_is_for_solutions_and_booleans_only(store: GraphStore) -> None:
    ask = store.answer_within("ASK { ?s ?p ?o }", ResultsFormat.JSON, max_bytes=100, seconds=10)
    assert ask is not None
    assert json.loads(ask)["boolean"] is True
    with pytest.raises(NotAcceptableError):
        store.answer_within(
            "CONSTRUCT WHERE { ?s ?p ?o }", ResultsFormat.JSON, max_bytes=100, seconds=10
        )


def test_a_lookup_in_a_format_nobody_offers_is_left_to_the_pool(store: GraphStore) -> None:
    # The pool evaluates first and then negotiates, so a malformed query is told as such
    # whatever the Accept header; the answer at once must not say 406 first.
    query = "SELECT ?p ?o WHERE { <http://example.org/b> ?p ?o }"
    assert answer_at_once(_request(store, query, accept="image/png")) is None
