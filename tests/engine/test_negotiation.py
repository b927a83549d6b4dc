"""The one negotiator and the one table of formats, without a server."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from cpgraph.engine.negotiation import (
    HTML_TYPES,
    SVG,
    QueryFormat,
    choose,
    negotiate,
    representation,
    wants_html,
    wants_page,
    with_format_parameters,
)
from cpgraph.errors import NotAcceptableError, UnsupportedFormatError
from cpgraph.rdf.formats import LINKED_DATA_FORMATS, RdfFormat, ResultsFormat, formats_named
from cpgraph.store.results import QueryKind


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("text/html", True),
        ("application/xhtml+xml", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
        ("text/plain, text/html", True),  # text/plain is not offered: HTML is (#23)
        ("application/json, text/html", False),
        ("text/html;q=0.5, application/json", False),
        ("text/*", False),  # a wildcard never chooses a page
        ("*/*, text/html", True),  # the more specific range first, at equal q
        ("image/png", False),
    ],
)
def test_one_rule_for_wanting_html(accept: str | None, html: bool) -> None:
    assert wants_html(accept) is html


def test_a_wildcard_takes_the_servers_order_and_never_a_named_type() -> None:
    offered = ["application/json", "text/turtle"]
    assert choose("*/*", offered) == "application/json"
    assert choose("text/*", offered) == "text/turtle"
    assert choose("text/*", offered, named={"text/turtle"}) is None
    assert choose("text/turtle, */*", offered, named={"text/turtle"}) == "text/turtle"
    assert choose("text/html;q=0, */*", ["text/html"]) is None


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, RdfFormat.TURTLE),
        ("*/*", RdfFormat.TURTLE),
        ("text/*", RdfFormat.TURTLE),
        ("application/*", RdfFormat.JSON_LD),
        ("text/html,application/xhtml+xml,*/*;q=0.8", None),
        ("text/plain, text/html", RdfFormat.N_TRIPLES),  # N-Triples is offered here
        ("application/json", RdfFormat.JSON_LD),
        ("application/xml", RdfFormat.RDF_XML),
        ("application/x-turtle", RdfFormat.TURTLE),
    ],
)
def test_linked_data_representation(accept: str | None, expected: RdfFormat | None) -> None:
    assert representation(accept) is expected


def test_linked_data_refuses_what_it_does_not_offer() -> None:
    with pytest.raises(NotAcceptableError):
        representation("image/png")
    with pytest.raises(NotAcceptableError):
        representation("text/xml")  # read as RDF/XML in Content-Type, never offered


@pytest.mark.parametrize(
    ("accept", "kind", "page"),
    [
        ("text/html", QueryKind.SOLUTIONS, HTML_TYPES[0]),
        ("image/svg+xml, text/html", QueryKind.SOLUTIONS, SVG),
        ("text/csv, text/html", QueryKind.SOLUTIONS, None),
        ("text/plain, text/html", QueryKind.SOLUTIONS, HTML_TYPES[0]),
        ("text/plain, text/html", QueryKind.GRAPH, None),  # text/plain names N-Triples
        ("*/*", QueryKind.SOLUTIONS, None),
        ("image/*", QueryKind.SOLUTIONS, None),
    ],
)
def test_a_saved_query_page_by_accept(accept: str, kind: QueryKind, page: str | None) -> None:
    assert wants_page(accept, kind, (SVG, *HTML_TYPES)) == page


def test_aliases_are_offered_only_by_name() -> None:
    assert negotiate("application/json", QueryKind.SOLUTIONS) is ResultsFormat.JSON
    assert negotiate("application/json", QueryKind.GRAPH) is RdfFormat.JSON_LD
    assert negotiate("text/xml", QueryKind.BOOLEAN) is ResultsFormat.XML
    assert negotiate("application/*", QueryKind.GRAPH) is RdfFormat.N_TRIPLES
    with pytest.raises(NotAcceptableError, match="cpgraph offers application/sparql-results"):
        negotiate("text/plain", QueryKind.SOLUTIONS)


def test_the_table_agrees_with_pyoxigraph_and_itself() -> None:
    for fmt in RdfFormat:
        assert fmt.media_type == fmt.oxigraph.media_type
        assert fmt.value == fmt.oxigraph.file_extension
        assert RdfFormat.from_media_type(f"{fmt.media_type}; charset=utf-8") is fmt
        assert RdfFormat.from_path(f"x.{fmt.value}") is fmt
        assert fmt.holds_graphs is fmt.oxigraph.supports_datasets
    for results in ResultsFormat:
        assert results.oxigraph.media_type.startswith(results.media_type)
    assert set(LINKED_DATA_FORMATS) == set(RdfFormat)
    names = {"table", *(f.value for f in ResultsFormat), *(f.value for f in RdfFormat)}
    assert {f.value for f in QueryFormat} == names
    assert RdfFormat.from_path("ontology.owl") is RdfFormat.RDF_XML
    assert RdfFormat.from_media_type("text/xml") is RdfFormat.RDF_XML
    assert RdfFormat.RDF_XML.label == "RDF/XML"
    assert RdfFormat.RDF_XML.w3c == "RDF_XML"
    assert RdfFormat.N_QUADS.oxigraph is ox.RdfFormat.N_QUADS
    with pytest.raises(UnsupportedFormatError):
        RdfFormat.from_path("notes.txt")


# -- the format parameters (format, output, results) --------------------------------------------

GRAPH, TABLE = QueryKind.GRAPH, QueryKind.SOLUTIONS


@pytest.mark.parametrize(
    ("names", "accept", "kind", "expected"),
    [
        # SPARQLWrapper's names, Fuseki's, and media types
        (["turtle"], None, GRAPH, RdfFormat.TURTLE),
        (["n3"], None, GRAPH, RdfFormat.TURTLE),
        (["json-ld"], None, GRAPH, RdfFormat.JSON_LD),
        (["rdf+xml"], None, GRAPH, RdfFormat.RDF_XML),
        (["xml"], None, GRAPH, RdfFormat.RDF_XML),
        (["xml"], None, TABLE, ResultsFormat.XML),
        (["json"], None, GRAPH, RdfFormat.JSON_LD),
        (["json"], None, TABLE, ResultsFormat.JSON),
        (["text"], None, GRAPH, RdfFormat.TURTLE),
        (["sparql"], None, TABLE, ResultsFormat.XML),
        (["n-triples"], None, GRAPH, RdfFormat.N_TRIPLES),
        (["N-Quads"], None, GRAPH, RdfFormat.N_QUADS),
        (["text/tab-separated-values"], None, TABLE, ResultsFormat.TSV),
        (["application/json; charset=utf-8"], None, GRAPH, RdfFormat.JSON_LD),
        # the short names, as before
        *(([f.value], None, TABLE, f) for f in ResultsFormat),
        *(([f.value], None, GRAPH, f) for f in RdfFormat),
        # over the Accept header; the first that fits, of every value and every list
        (["csv"], "application/sparql-results+json", TABLE, ResultsFormat.CSV),
        (["turtle", "tsv", "csv"], None, TABLE, ResultsFormat.TSV),
        (["csv, json-ld", "ttl"], None, GRAPH, RdfFormat.JSON_LD),
        # naming nothing for this kind of result: the Accept header decides
        (["turtle"], "text/csv", TABLE, ResultsFormat.CSV),
        (["csv"], None, GRAPH, RdfFormat.TURTLE),
        (["table"], None, TABLE, ResultsFormat.JSON),
        (["<script>", "", "x" * 10_000], "application/n-triples", GRAPH, RdfFormat.N_TRIPLES),
        (["*/*;q=1, text/csv"], "application/sparql-results+xml", TABLE, ResultsFormat.CSV),
    ],
)
def test_format_parameters_name_a_format_for_the_result_else_accept_decides(
    names: list[str], accept: str | None, kind: QueryKind, expected: object
) -> None:
    assert negotiate(with_format_parameters(names, accept), kind) is expected


def test_format_parameters_that_name_nothing_leave_accept_as_it_is() -> None:
    for accept in (None, "image/png", "text/csv;q=0.5, */*;q=0.1"):
        assert with_format_parameters(["<script>", "turtles", "x" * 100_000], accept) == accept
    with pytest.raises(NotAcceptableError):
        negotiate(with_format_parameters(["csv"], "image/png"), GRAPH)


def test_every_name_of_the_table_names_at_most_one_format_of_each_kind() -> None:
    for fmt in (*ResultsFormat, *RdfFormat):
        for name in (fmt.value, fmt.media_type, *fmt.spec.aliases, *fmt.spec.names):
            named = formats_named(name.upper())
            assert named, name
            assert len({type(f) for f in named}) == len(named), name
        for name in (fmt.value, fmt.media_type):  # never another format's of its kind
            assert [f for f in formats_named(name) if type(f) is type(fmt)] == [fmt]
    assert formats_named("json") == (ResultsFormat.JSON, RdfFormat.JSON_LD)


def test_the_names_clients_send_work_wherever_one_format_is_named() -> None:
    assert QueryFormat("turtle") is QueryFormat.TURTLE
    assert QueryFormat("application/ld+json") is QueryFormat.JSON_LD
    assert QueryFormat("json") is QueryFormat.JSON  # a short name stays its own
    with pytest.raises(ValueError, match="is not a valid QueryFormat"):
        QueryFormat("application/json")  # names a format of each kind
    assert representation("text/html", "turtle") is RdfFormat.TURTLE
    assert representation(None, "json") is RdfFormat.JSON_LD
