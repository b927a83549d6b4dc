"""The W3C SPARQL 1.1 Service Description tests
(``../shared/w3c/sparql11-service-description/``), each one run against a real
``cpgraph serve`` and listed under its manifest name.

The manifest names its three tests and no more; what each checks is written here, from the
Service Description recommendation: a GET on the endpoint with no query returns RDF; the RDF
has an ``sd:endpoint`` triple naming the URL that was asked; and the description keeps to the
``sd:`` vocabulary's terms, domains and ranges. Skipped where the suites are absent.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.term import Node
from tests.w3c import W3C
from tests.w3c.exchange import RDF_PARSERS, TOKEN
from tests.w3c.manifest import W3CTest, params, suite

TESTS = suite(W3C / "sparql11-service-description", "Service Description")

# W3C tests that cpgraph does not pass by design, with the reason (none at present).
ALLOWED_FAILURES: dict[str, str] = {}

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")

# The sd: vocabulary (SPARQL 1.1 Service Description, section 3).
SD_CLASSES = {
    SD[n]
    for n in [
        "Service",
        "Feature",
        "Language",
        "Function",
        "Aggregate",
        "EntailmentRegime",
        "EntailmentProfile",
        "GraphCollection",
        "Dataset",
        "Graph",
        "NamedGraph",
    ]
}
SD_PROPERTIES = {
    SD[n]
    for n in [
        "endpoint",
        "feature",
        "defaultEntailmentRegime",
        "entailmentRegime",
        "defaultSupportedEntailmentProfile",
        "supportedEntailmentProfile",
        "extensionFunction",
        "extensionAggregate",
        "languageExtension",
        "supportedLanguage",
        "propertyFeature",
        "defaultDataset",
        "availableGraphs",
        "resultFormat",
        "inputFormat",
        "defaultGraph",
        "namedGraph",
        "name",
        "graph",
    ]
}
SD_LANGUAGES = {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
SD_FEATURES = {
    SD.DereferencesURIs,
    SD.UnionDefaultGraph,
    SD.RequiresDataset,
    SD.EmptyGraphs,
    SD.BasicFederatedQuery,
}
SD_INSTANCES = SD_LANGUAGES | SD_FEATURES
# The W3C's unique IRIs for file formats (http://www.w3.org/ns/formats/).
W3C_FORMATS = {
    FORMATS[n]
    for n in [
        "JSON-LD",
        "N3",
        "N-Triples",
        "N-Quads",
        "LD_Patch",
        "microdata",
        "OWL_XML",
        "OWL_Functional",
        "OWL_Manchester",
        "POWDER",
        "POWDER-S",
        "PROV-N",
        "PROV-XML",
        "RDFa",
        "RDF_JSON",
        "RDF_XML",
        "RIF_XML",
        "SPARQL_Results_XML",
        "SPARQL_Results_JSON",
        "SPARQL_Results_CSV",
        "SPARQL_Results_TSV",
        "Turtle",
        "TriG",
    ]
}
# The media type each result format is asked for by (for checking that advertised ones are
# really served).
FORMAT_MEDIA_TYPES = {
    FORMATS.SPARQL_Results_JSON: ("SELECT * {}", "application/sparql-results+json"),
    FORMATS.SPARQL_Results_XML: ("SELECT * {}", "application/sparql-results+xml"),
    FORMATS.SPARQL_Results_CSV: ("SELECT * {}", "text/csv"),
    FORMATS.SPARQL_Results_TSV: ("SELECT * {}", "text/tab-separated-values"),
    FORMATS.Turtle: ("CONSTRUCT {} {}", "text/turtle"),
    FORMATS["N-Triples"]: ("CONSTRUCT {} {}", "application/n-triples"),
    FORMATS["N-Quads"]: ("CONSTRUCT {} {}", "application/n-quads"),
    FORMATS.TriG: ("CONSTRUCT {} {}", "application/trig"),
    FORMATS["JSON-LD"]: ("CONSTRUCT {} {}", "application/ld+json"),
    FORMATS.RDF_XML: ("CONSTRUCT {} {}", "application/rdf+xml"),
}
ACCEPTS = (
    None,
    "text/turtle",
    "application/rdf+xml",
    "application/n-triples",
    "application/ld+json",
    "text/html;q=0.9, text/turtle;q=0.5",
)


def describe(url: str, *, accept: str | None = None, host: str | None = None) -> Graph:
    """The description a GET on ``url``/sparql with no query gives, parsed by its type."""
    headers = {"Accept": accept} if accept else {}
    if host:
        headers["Host"] = host
    response = httpx.get(url + "/sparql", headers=headers)
    assert response.status_code == 200, response.text
    media_type = response.headers["content-type"].split(";")[0].strip()
    assert media_type in RDF_PARSERS, f"Accept {accept!r}: a {media_type} description"
    return Graph().parse(data=response.content, format=RDF_PARSERS[media_type])


def the_service(graph: Graph) -> Node:
    services = set(graph.subjects(RDF.type, SD.Service))
    assert len(services) == 1, f"{len(services)} sd:Service nodes"
    return services.pop()


def returns_rdf(url: str) -> None:
    """A GET on the endpoint with no query returns RDF, in each format one may ask for."""
    for accept in ACCEPTS:
        graph = describe(url, accept=accept)
        assert len(graph) > 0, f"Accept {accept!r}: an empty description"
        the_service(graph)


def has_endpoint_triple(url: str) -> None:
    """The description has an sd:endpoint triple naming the URL the client asked."""
    graph = describe(url)
    assert (the_service(graph), SD.endpoint, URIRef(url + "/sparql")) in graph
    # Asked under another name (the W3C suites' host), it names the endpoint by that name.
    graph = describe(url, host="www.example")
    assert (the_service(graph), SD.endpoint, URIRef("http://www.example/sparql")) in graph


def conforms_to_schema(url: str) -> None:
    """The description uses only the sd: vocabulary's terms, as its domains and ranges say."""
    graph = describe(url)
    service = the_service(graph)
    for s, p, o in graph:
        if p == RDF.type and isinstance(o, URIRef) and o.startswith(str(SD)):
            assert o in SD_CLASSES, f"{o} is no class of the sd: vocabulary"
        if isinstance(p, URIRef) and p.startswith(str(SD)):
            assert p in SD_PROPERTIES, f"{p} is no property of the sd: vocabulary"
            assert s == service or p in (SD.defaultGraph, SD.namedGraph, SD.name, SD.graph), (
                f"{p} describes something other than the service"
            )
        if isinstance(o, URIRef) and o.startswith(str(SD)) and p != RDF.type:
            assert o in SD_INSTANCES, f"{o} is no instance the sd: vocabulary defines"

    endpoints = list(graph.objects(service, SD.endpoint))
    assert endpoints, "no sd:endpoint"
    assert all(isinstance(e, URIRef) for e in endpoints), "an sd:endpoint that is no IRI"
    languages = set(graph.objects(service, SD.supportedLanguage))
    assert languages, "no sd:supportedLanguage"
    assert languages <= SD_LANGUAGES, f"not SPARQL languages: {languages - SD_LANGUAGES}"
    features = set(graph.objects(service, SD.feature))
    assert features <= SD_FEATURES, f"not sd:Feature instances: {features - SD_FEATURES}"
    for prop in (SD.resultFormat, SD.inputFormat):
        for value in graph.objects(service, prop):
            assert isinstance(value, URIRef), f"an {prop} that is no IRI"
            if value.startswith(str(FORMATS)):
                assert value in W3C_FORMATS, f"{value} is no W3C format IRI"
    assert set(graph.objects(service, SD.resultFormat)), "no sd:resultFormat"

    datasets = list(graph.objects(service, SD.defaultDataset))
    assert len(datasets) == 1, f"{len(datasets)} sd:defaultDataset"
    for dataset in datasets:
        assert (dataset, RDF.type, SD.Dataset) in graph, "the default dataset is no sd:Dataset"
        default_graphs = list(graph.objects(dataset, SD.defaultGraph))
        assert len(default_graphs) <= 1, "more than one sd:defaultGraph"
        for default_graph in default_graphs:
            assert (default_graph, RDF.type, SD.Graph) in graph, "a default graph not sd:Graph"
        for named in graph.objects(dataset, SD.namedGraph):
            assert (named, RDF.type, SD.NamedGraph) in graph, "a named graph not sd:NamedGraph"
            names = list(graph.objects(named, SD.name))
            assert len(names) == 1, f"a named graph with {len(names)} sd:name"
            assert isinstance(names[0], URIRef), "an sd:name that is no IRI"
            for g in graph.objects(named, SD.graph):
                assert (g, RDF.type, SD.Graph) in graph, "an sd:graph that is not sd:Graph"


CHECKS: dict[str, Callable[[str], None]] = {
    "returns-rdf": returns_rdf,
    "has-endpoint-triple": has_endpoint_triple,
    "conforms-to-schema": conforms_to_schema,
}


def test_the_suite_is_read_whole_and_each_test_has_its_check() -> None:
    assert len(TESTS) == 3
    assert all(t.kind == "ServiceDescriptionTest" for t in TESTS)
    assert {t.name for t in TESTS} == set(CHECKS)


@pytest.mark.parametrize("test", params(TESTS, ALLOWED_FAILURES))
def test_w3c_service_description(w3c_endpoint: str, test: W3CTest) -> None:
    """The endpoint describes itself as the SPARQL 1.1 Service Description requires."""
    CHECKS[test.name](w3c_endpoint)


def test_every_advertised_result_format_is_served(w3c_endpoint: str) -> None:
    graph = describe(w3c_endpoint)
    advertised = set(graph.objects(the_service(graph), SD.resultFormat))
    assert advertised <= set(FORMAT_MEDIA_TYPES), advertised - set(FORMAT_MEDIA_TYPES)
    for fmt in advertised:
        query, media_type = FORMAT_MEDIA_TYPES[fmt]
        response = httpx.get(
            w3c_endpoint + "/sparql", params={"query": query}, headers={"Accept": media_type}
        )
        assert response.status_code == 200, f"{fmt}: {response.text}"
        assert response.headers["content-type"].split(";")[0] == media_type


def test_the_description_lists_update_where_the_operator_allows_writes(
    w3c_endpoint: str,
) -> None:
    # This server has a token, so it takes SPARQL Update (with that token).
    graph = describe(w3c_endpoint)
    assert (the_service(graph), SD.supportedLanguage, SD.SPARQL11Update) in graph
    response = httpx.post(
        w3c_endpoint + "/sparql",
        content="INSERT DATA { <http://example.org/s> <http://example.org/p> 1 }",
        headers={"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 204


def test_the_description_lists_no_update_where_writes_are_disabled(server_url: str) -> None:
    # The shipped server has no token: it takes no update, and does not claim to.
    graph = describe(server_url)
    assert (the_service(graph), SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (the_service(graph), SD.supportedLanguage, SD.SPARQL11Update) not in graph
