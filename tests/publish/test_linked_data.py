"""Dereferencing cpgraph's IRIs on a real server: RDF by content negotiation, 404s, headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, XSD
from tests.pages_support import BASE, CNCPC, CP, EXTRACT, SEPA, pages_server

CPNS = rdflib.Namespace(CP)
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
FOUNDED_1994 = (
    rdflib.URIRef(CNCPC),
    CPNS.foundingDate,
    rdflib.Literal("1994-12", datatype=XSD.gYearMonth),
)
RDF_CLIENTS = [
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "xml"),
]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the mini fixture and one extra extract."""
    folder: Path = tmp_path_factory.mktemp("linked-data")
    with pages_server(folder) as base_url:
        yield base_url


def parse(response: httpx.Response, fmt: str) -> rdflib.Graph:
    return rdflib.Graph().parse(data=response.content, format=fmt)


@pytest.mark.parametrize(("accept", "fmt"), RDF_CLIENTS)
def test_an_instance_gives_its_description_in_the_format_asked(
    url: str, accept: str, fmt: str
) -> None:
    response = httpx.get(url + "/id/org/cncpc", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept)
    graph = parse(response, fmt)
    assert FOUNDED_1994 in graph
    assert (rdflib.URIRef(CNCPC), RDF.type, CPNS.CleanerProductionCentre) in graph
    assert (
        rdflib.URIRef(CNCPC),
        rdflib.URIRef("http://www.w3.org/ns/org#subOrganizationOf"),
        rdflib.URIRef(SEPA),
    ) in graph


def test_the_description_holds_every_graph_statement_and_linked_labels(url: str) -> None:
    graph = parse(httpx.get(url + "/id/org/cncpc", headers={"Accept": "text/turtle"}), "turtle")
    dates = set(graph.objects(rdflib.URIRef(CNCPC), CPNS.foundingDate))
    assert dates == {
        rdflib.Literal("1994-12", datatype=XSD.gYearMonth),
        rdflib.Literal("1995", datatype=XSD.gYear),
    }
    sepa_label = rdflib.Literal("State Environmental Protection Administration", lang="en")
    assert (rdflib.URIRef(SEPA), RDFS.label, sepa_label) in graph
    subjects = {s for s in graph.subjects() if isinstance(s, rdflib.URIRef)}
    assert subjects <= {rdflib.URIRef(CNCPC), rdflib.URIRef(SEPA), CPNS.CleanerProductionCentre}


@pytest.mark.parametrize(
    ("accept", "fmt"), [("application/trig", "trig"), ("application/n-quads", "nquads")]
)
def test_trig_and_nquads_keep_the_graph_each_statement_comes_from(
    url: str, accept: str, fmt: str
) -> None:
    response = httpx.get(url + "/id/org/cncpc", headers={"Accept": accept})
    assert response.headers["content-type"].startswith(accept)
    dataset = rdflib.Dataset()
    dataset.parse(data=response.content, format=fmt)
    assert FOUNDED_1994 in dataset.graph(rdflib.URIRef(EXTRACT))
    assert FOUNDED_1994 not in dataset.graph(rdflib.URIRef(BASE + "graph/s004/abstract-p2"))


def test_format_parameter_wins_over_accept(url: str) -> None:
    response = httpx.get(url + "/id/org/cncpc?format=nt", headers={"Accept": "text/html"})
    assert response.headers["content-type"].startswith("application/n-triples")
    assert FOUNDED_1994 in parse(response, "nt")


def test_a_client_that_accepts_anything_gets_turtle(url: str) -> None:
    response = httpx.get(url + "/id/org/sepa", headers={"Accept": "*/*"})
    assert response.headers["content-type"].startswith("text/turtle")


def test_every_answer_varies_on_accept_and_links_its_alternates(url: str) -> None:
    for accept in ("text/html", "text/turtle"):
        response = httpx.get(url + "/id/org/sepa", headers={"Accept": accept})
        assert "Accept" in response.headers["vary"]
        links = response.headers["link"]
        for ext, media in [
            ("ttl", "text/turtle"),
            ("jsonld", "application/ld+json"),
            ("nt", "application/n-triples"),
            ("rdf", "application/rdf+xml"),
            ("trig", "application/trig"),
            ("nq", "application/n-quads"),
            ("html", "text/html"),
        ]:
            assert f'</id/org/sepa?format={ext}>; rel="alternate"; type="{media}"' in links


@pytest.mark.parametrize("link", [("ttl", "text/turtle"), ("jsonld", "application/ld+json")])
def test_each_alternate_link_answers_in_its_type(url: str, link: tuple[str, str]) -> None:
    ext, media = link
    response = httpx.get(f"{url}/id/org/sepa?format={ext}")
    assert response.headers["content-type"].startswith(media)


def test_an_iri_the_graph_does_not_mention_is_a_404_problem(url: str) -> None:
    response = httpx.get(url + "/id/org/no-such-body", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


@pytest.mark.parametrize(
    "path",
    [
        "/id/org/SEPA",
        "/id/Org/sepa",
        "/id/org/sepa_x",
        "/id/org/-sepa",
        "/id/org/sepa--x",
        "/id/org/%3Cscript%3E",
        "/id/org/sepa%20x",
        "/id/org/..%2F..%2Fetc",
        "/graph/s004/Abstract-p1",
        "/graph/s004//abstract-p1",
        "/graph/s004/abstract-p1%3E%20%3Cx",
    ],
)
def test_path_segments_that_are_not_slugs_are_404(url: str, path: str) -> None:
    response = httpx.get(url + path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_graph_iri_gives_the_graphs_statements(url: str) -> None:
    graph = parse(httpx.get(url + "/graph/s004/abstract-p1?format=ttl"), "turtle")
    locator = rdflib.Literal("Abstract, first paragraph")
    assert (rdflib.URIRef(EXTRACT), CPNS.locator, locator) in graph
    assert FOUNDED_1994 in graph
    assert (
        rdflib.URIRef(CNCPC),
        CPNS.foundingDate,
        rdflib.Literal("1995", datatype=XSD.gYear),
    ) not in graph


def test_a_graph_in_trig_keeps_its_name(url: str) -> None:
    response = httpx.get(url + "/graph/s004/abstract-p1", headers={"Accept": "application/trig"})
    dataset = rdflib.Dataset()
    dataset.parse(data=response.content, format="trig")
    named = dataset.graph(rdflib.URIRef(EXTRACT))
    assert (
        rdflib.URIRef(EXTRACT),
        PROV.wasDerivedFrom,
        rdflib.URIRef(BASE + "id/source/s004"),
    ) in named


def test_an_unknown_graph_is_a_404_problem(url: str) -> None:
    response = httpx.get(url + "/graph/s004/no-such-place", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_an_accept_header_with_nothing_offered_is_a_406(url: str) -> None:
    response = httpx.get(url + "/id/org/sepa", headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_an_unknown_format_parameter_is_a_400(url: str) -> None:
    response = httpx.get(url + "/id/org/sepa?format=docx")
    assert response.status_code == 400
    assert "ttl" in response.json()["detail"]


@pytest.mark.parametrize(("path", "graph"), [("/ontology", "ontology"), ("/shapes", "shapes")])
def test_ontology_and_shapes_give_their_graph_to_rdf_clients(
    url: str, path: str, graph: str
) -> None:
    served = parse(httpx.get(url + path, headers={"Accept": "text/turtle"}), "turtle")
    stored = parse(httpx.get(f"{url}/graph/{graph}", headers={"Accept": "text/turtle"}), "turtle")
    assert len(served) == len(stored) > 100
    assert (rdflib.URIRef(BASE + graph), RDF.type, OWL.Ontology) in served


def test_the_shipped_ontology_dereferences_with_its_terms(server_url: str) -> None:
    response = httpx.get(server_url + "/ontology", headers={"Accept": "application/rdf+xml"})
    graph = parse(response, "xml")
    assert (CPNS.Law, RDF.type, OWL.Class) in graph
    assert (CPNS.issuedBy, RDF.type, OWL.ObjectProperty) in graph


def test_the_shipped_sepa_dereferences(server_url: str) -> None:
    response = httpx.get(server_url + "/id/org/sepa", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = parse(response, "turtle")
    labels = {str(o) for o in graph.objects(rdflib.URIRef(SEPA), RDFS.label)}
    assert any("Environmental Protection" in label for label in labels)
