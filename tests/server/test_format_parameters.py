"""The format parameters that clients send, against a real ``cpgraph serve`` on 127.0.0.1.

SPARQLWrapper sends ``format``, ``output`` and ``results``, with its own names for formats
(``turtle``, ``json-ld``, ``xml`` for RDF/XML, and media types), beside an Accept header: every
query form, with its default settings and with each return format, is answered in a format it
reads and means what it should (issue #27). Any value, hostile ones included, gets a clear
answer: what the parameters name for the kind of result, else what Accept asks, else a 406.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterator
from typing import Any
from xml.dom.minidom import parseString

import httpx
import pytest
import rdflib
import rdflib.util
from SPARQLWrapper import CSV, JSON, JSONLD, N3, POST, TSV, TURTLE, XML, SPARQLWrapper
from tests.conftest import built_mini_store, running_server

CP = "https://w3id.org/cpgraph/ontology#"
ID = "https://w3id.org/cpgraph/id/"
RESULTS_JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the mini store."""
    with running_server(built_mini_store(tmp_path_factory)) as url:
        yield url


# -- SPARQLWrapper --------------------------------------------------------------------------------

QUERIES = {
    "SELECT": f"SELECT ?acronym WHERE {{ ?org <{CP}acronym> ?acronym }}",
    "ASK": f"ASK {{ <{ID}org/cncpc> <http://www.w3.org/ns/org#subOrganizationOf> <{ID}org/sepa> }}",
    "CONSTRUCT": f"CONSTRUCT {{ ?org <{CP}acronym> ?a }} WHERE {{ ?org <{CP}acronym> ?a }}",
    "DESCRIBE": f"DESCRIBE <{ID}org/sepa>",
}
SEPA_ACRONYM = (
    rdflib.URIRef(f"{ID}org/sepa"),
    rdflib.URIRef(f"{CP}acronym"),
    rdflib.Literal("SEPA"),
)
CNCPC_ACRONYM = (
    rdflib.URIRef(f"{ID}org/cncpc"),
    rdflib.URIRef(f"{CP}acronym"),
    rdflib.Literal("CNCPC"),
)
SEPA_LABEL = (
    rdflib.URIRef(f"{ID}org/sepa"),
    rdflib.RDFS.label,
    rdflib.Literal("State Environmental Protection Administration", lang="en"),
)
RDF_PARSERS = {
    "application/rdf+xml": "xml",
    "text/turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/n-triples": "nt",
}


def expected_type(form: str, return_format: str | None) -> str:
    """The media type of cpgraph's answer to SPARQLWrapper: what its format parameters name
    for this kind of result, else what its Accept header asks (any type for a format that
    does not fit the query form: SPARQL JSON, or Turtle)."""
    if form in ("CONSTRUCT", "DESCRIBE"):
        rdf_xml, json_ld = "application/rdf+xml", "application/ld+json"
        named = {None: rdf_xml, XML: rdf_xml, JSON: json_ld, JSONLD: json_ld}
        return named.get(return_format, "text/turtle")
    xml = "application/sparql-results+xml"
    named = {None: xml, XML: xml, CSV: "text/csv", TSV: "text/tab-separated-values"}
    return named.get(return_format, RESULTS_JSON)


def meaning(media_type: str, converted: Any) -> object:
    """What SPARQLWrapper's converted answer says: a boolean, the set of values of a
    one-column table, or the set of triples of a graph."""
    if media_type == RESULTS_JSON:
        if "boolean" in converted:
            return converted["boolean"]
        return {cell["value"] for row in converted["results"]["bindings"] for cell in row.values()}
    if media_type == "application/sparql-results+xml":
        booleans = converted.getElementsByTagName("boolean")
        if booleans:
            return booleans[0].firstChild.data == "true"
        return {node.firstChild.data for node in converted.getElementsByTagName("literal")}
    if media_type in ("text/csv", "text/tab-separated-values"):
        delimiter = "," if media_type == "text/csv" else "\t"
        rows = list(csv.reader(io.StringIO(converted.decode()), delimiter=delimiter))
        if rows == [["true"]] or rows == [["false"]]:
            return rows[0][0] == "true"
        return {
            str(rdflib.util.from_n3(cell)) if delimiter == "\t" else cell for (cell,) in rows[1:]
        }
    graph = rdflib.Graph()
    if isinstance(converted, bytes):
        graph.parse(data=converted, format=RDF_PARSERS[media_type])
    else:
        graph += converted
    return set(graph)


def ask_sparqlwrapper(
    url: str, form: str, return_format: str | None, method: str | None = None
) -> tuple[str, object]:
    """The media type and the meaning of SPARQLWrapper's answer to the query ``form``."""
    client = SPARQLWrapper(url + "/sparql")
    client.setQuery(QUERIES[form])
    if return_format is not None:
        client.setReturnFormat(return_format)
    if method is not None:
        client.setMethod(method)
    with warnings.catch_warnings():
        # SPARQLWrapper warns that it sends Accept */* for a format that does not fit the form,
        # and reads RDF into rdflib's ConjunctiveGraph, which rdflib deprecates.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        result = client.query()
        converted = result.convert()
    media_type = result.info()["content-type"].split(";")[0].strip()
    return media_type, meaning(media_type, converted)


def assert_means(form: str, said: object) -> None:
    if form == "SELECT":
        assert said == {"SEPA", "CNCPC"}
    elif form == "ASK":
        assert said is True
    elif form == "CONSTRUCT":
        assert said == {SEPA_ACRONYM, CNCPC_ACRONYM}
    else:
        assert isinstance(said, set)
        assert {SEPA_ACRONYM, SEPA_LABEL} <= said


@pytest.mark.parametrize("return_format", [None, JSON, XML, TURTLE, JSONLD, N3, CSV, TSV])
@pytest.mark.parametrize("form", list(QUERIES))
def test_sparqlwrapper_gets_an_answer_it_reads_for_every_form_and_format(
    server: str, form: str, return_format: str | None
) -> None:
    media_type, said = ask_sparqlwrapper(server, form, return_format)
    assert media_type == expected_type(form, return_format)
    assert_means(form, said)


@pytest.mark.parametrize("form", list(QUERIES))
def test_sparqlwrapper_posting_with_its_default_settings_gets_its_answer(
    server: str, form: str
) -> None:
    media_type, said = ask_sparqlwrapper(server, form, None, POST)
    assert media_type == expected_type(form, None)
    assert_means(form, said)


# -- any value, from any client ---------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("form", "params", "accept", "answered_as"),
    [
        # Fuseki's names, and full media types
        ("SELECT", [("output", "sparql")], None, "application/sparql-results+xml"),
        ("SELECT", [("results", "text/csv")], None, "text/csv"),
        ("CONSTRUCT", [("output", "text")], None, "text/turtle"),
        ("CONSTRUCT", [("format", "n-triples")], None, "application/n-triples"),
        ("CONSTRUCT", [("format", "application/rdf+xml")], RESULTS_JSON, "application/rdf+xml"),
        # the short names as before, and one name for a format of each kind
        ("SELECT", [("format", "tsv")], None, "text/tab-separated-values"),
        ("CONSTRUCT", [("format", "ttl")], None, "text/turtle"),
        ("SELECT", [("format", "json")], "text/html", RESULTS_JSON),
        ("CONSTRUCT", [("format", "json")], None, "application/ld+json"),
        # repeated: the first that fits the result; a value listing several names
        ("SELECT", [("format", "turtle"), ("format", "csv"), ("output", "xml")], None, "text/csv"),
        (
            "CONSTRUCT",
            [("format", "csv"), ("format", "json"), ("results", "tsv")],
            None,
            "application/ld+json",
        ),
        ("CONSTRUCT", [("format", "json-ld,application/x-json+ld")], None, "application/ld+json"),
        # nothing named for the result: Accept decides, not a 406
        ("SELECT", [("format", "turtle")], "text/csv", "text/csv"),
        ("CONSTRUCT", [("format", "csv")], "application/n-triples", "application/n-triples"),
        ("SELECT", [("format", "table")], None, RESULTS_JSON),
        ("SELECT", [("format", "<script>alert(1)</script>")], RESULTS_JSON, RESULTS_JSON),
        ("SELECT", [("format", "x" * 20_000)], "text/csv", "text/csv"),
        ("SELECT", [("format", "\xff\x00 ; q=2, */*")], None, RESULTS_JSON),
        ("SELECT", [("format", "")] * 500, None, RESULTS_JSON),
    ],
)
def test_format_parameters_name_the_format_else_accept_decides(
    server: str,
    method: str,
    form: str,
    params: list[tuple[str, str]],
    accept: str | None,
    answered_as: str,
) -> None:
    fields = [("query", QUERIES[form]), *params]
    headers = {"Accept": accept} if accept else {}
    if method == "GET":
        response = httpx.get(server + "/sparql", params=fields, headers=headers, timeout=30)
    else:
        body: dict[str, list[str]] = {}
        for name, value in fields:
            body.setdefault(name, []).append(value)
        response = httpx.post(server + "/sparql", data=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type == answered_as
    assert_means(form, meaning(media_type, _converted(media_type, response.content)))


def _converted(media_type: str, content: bytes) -> Any:
    """An answer as SPARQLWrapper converts it (so that :func:`meaning` reads it)."""
    if media_type == RESULTS_JSON:
        return json.loads(content)
    if media_type == "application/sparql-results+xml":
        return parseString(content)
    return content


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "turtle", "x" * 20_000])
def test_a_format_parameter_and_an_accept_header_that_fit_nothing_are_a_406_problem(
    server: str, value: str
) -> None:
    response = httpx.post(
        server + "/sparql",
        data={"query": QUERIES["SELECT"], "format": value},
        headers={"Accept": "image/png"},
        timeout=30,
    )
    assert response.status_code == 406
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 406
    assert "<script>" not in response.text
    assert len(response.content) < 2000
