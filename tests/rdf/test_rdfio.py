"""Parsing reports where RDF and SPARQL are malformed; formats are named by extension and type."""

from __future__ import annotations

from pathlib import Path

import pytest

from cpgraph.errors import QuerySyntaxError, RdfSyntaxError, UnsupportedFormatError
from cpgraph.rdf.io import RdfFormat, parse_quads, read_quads
from cpgraph.store.oxigraph import GraphStore


@pytest.mark.parametrize(
    ("fmt", "text", "line"),
    [
        (RdfFormat.TURTLE, '@prefix ex: <http://example.org/> .\nex:a ex:b "open .\n', 2),
        (RdfFormat.TURTLE, "<http://e/a> <http://e/b> <http://e/c> .\n<http://e/a> <b> .\n", 2),
        (RdfFormat.N_TRIPLES, "<http://e/a> <http://e/b> <http://e/c> .\n<http://e/a> .\n", 2),
        (RdfFormat.TRIG, "<http://e/g> {\n <http://e/a> <http://e/b> \n}\n", 3),
        (RdfFormat.N_QUADS, "<http://e/a> <http://e/b> <http://e/c> <http://e/g> <x> .\n", 1),
    ],
)
def test_malformed_rdf_reports_its_line_and_column(fmt: RdfFormat, text: str, line: int) -> None:
    with pytest.raises(RdfSyntaxError) as caught:
        parse_quads(text, format=fmt, source="input")
    assert caught.value.line == line
    assert caught.value.column is not None
    assert str(caught.value).startswith(f"input: line {line}, column {caught.value.column}: ")


def test_a_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text("<http://e/a> <http://e/b> .\n")
    with pytest.raises(RdfSyntaxError, match=r"broken\.ttl: line 1"):
        read_quads(path)


@pytest.mark.parametrize(
    ("query", "line", "column"),
    [
        ("SELECT * WHERE { ?s ?p }", 1, 25),
        ("SELECT ?s\nWHERE {\n  ?s ?p ?o\n  ?x\n}", 5, 2),
        ("SELECT * WHERE { ?s a undeclared:Thing }", 1, 39),
    ],
)
def test_malformed_sparql_reports_its_line_and_column(query: str, line: int, column: int) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        GraphStore(None).query(query)
    assert (caught.value.line, caught.value.column) == (line, column)


def test_an_undefined_prefix_is_named_as_such() -> None:
    with pytest.raises(QuerySyntaxError, match="undefined prefix"):
        GraphStore(None).query("SELECT * WHERE { ?s a undeclared:Thing }")


@pytest.mark.parametrize(
    ("query", "predeclared", "said"),
    [
        (
            "SELECT * WHERE { id:instrument/x ?p ?o }",
            {"id": "https://w3id.org/cpgraph/id/"},
            "write id:instrument/x as <https://w3id.org/cpgraph/id/instrument/x>",
        ),
        (
            "PREFIX ex: <http://ex.org/>\nSELECT * WHERE {\n  ex:thing/more ?p ?o }",
            None,
            "write ex:thing/more as <http://ex.org/thing/more>",
        ),
    ],
)
def test_a_slash_in_a_prefixed_name_is_explained_with_the_iri_to_write(
    query: str, predeclared: dict[str, str] | None, said: str
) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        GraphStore(None).query(query, prefixes=predeclared)
    assert "a prefixed name cannot hold '/'" in caught.value.message
    assert said in caught.value.message
    assert "\\u{" not in caught.value.message  # no list of Unicode ranges


def test_a_property_path_of_prefixed_names_is_no_slash_error() -> None:
    result = GraphStore(None).query("PREFIX ex: <http://ex.org/> ASK { ?s ex:a/ex:b ?o }")
    assert result.kind.value == "boolean"


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.ttl", RdfFormat.TURTLE),
        ("a.nt", RdfFormat.N_TRIPLES),
        ("a.nq", RdfFormat.N_QUADS),
        ("a.trig", RdfFormat.TRIG),
        ("a.jsonld", RdfFormat.JSON_LD),
        ("a.rdf", RdfFormat.RDF_XML),
        ("a.owl", RdfFormat.RDF_XML),
    ],
)
def test_formats_are_named_by_extension(name: str, fmt: RdfFormat) -> None:
    assert RdfFormat.from_path(name) is fmt


def test_an_unknown_extension_is_an_unsupported_format() -> None:
    with pytest.raises(UnsupportedFormatError, match=r"\.ttl"):
        RdfFormat.from_path("data.xlsx")


@pytest.mark.parametrize(
    ("media_type", "fmt"),
    [
        ("text/turtle; charset=utf-8", RdfFormat.TURTLE),
        ("application/ld+json", RdfFormat.JSON_LD),
        ("application/rdf+xml", RdfFormat.RDF_XML),
        ("application/n-triples", RdfFormat.N_TRIPLES),
    ],
)
def test_formats_are_named_by_media_type(media_type: str, fmt: RdfFormat) -> None:
    assert RdfFormat.from_media_type(media_type) is fmt
