"""The endpoint over the shipped graph: a real uvicorn server on 127.0.0.1, real clients."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, SPARQLWrapper

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
COUNT_LAWS = "SELECT (COUNT(?law) AS ?n) WHERE { ?law a cp:Law }"


def test_home_says_what_the_service_is_with_counts(server_url: str) -> None:
    info = httpx.get(server_url + "/", headers={"Accept": "application/json"}).json()
    assert info["name"] == "cpgraph"
    assert "cleaner-production" in info["description"]
    assert info["dataset"]["triples"] > 1000
    assert info["endpoints"]["sparql"] == server_url + "/sparql"


def test_home_is_a_page_for_browsers(server_url: str) -> None:
    response = httpx.get(server_url + "/", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>cpgraph</h1>" in response.text


@pytest.mark.parametrize("path", ["/", "/contributions", "/queries"])
def test_every_route_takes_html_by_one_rule(server_url: str, path: str) -> None:
    # text/plain is offered by none of them, so the client's HTML wins everywhere (#23)
    response = httpx.get(server_url + path, headers={"Accept": "text/plain, text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    anything = httpx.get(server_url + path, headers={"Accept": "*/*"})
    assert anything.headers["content-type"].startswith("application/json")


def test_get_query_answers_in_sparql_json(server_url: str) -> None:
    response = httpx.get(server_url + "/sparql", params={"query": COUNT_LAWS})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    n = int(response.json()["results"]["bindings"][0]["n"]["value"])
    assert n >= 3


def test_the_default_graph_holds_a_fact_of_several_sources_once(server_url: str) -> None:
    # The shipped graph types and labels each law in the graph of every source that states it.
    def n(query: str) -> int:
        response = httpx.get(server_url + "/sparql", params={"query": query})
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    in_graphs = n("SELECT (COUNT(?law) AS ?n) WHERE { GRAPH ?g { ?law a cp:Law } }")
    laws = n("SELECT (COUNT(DISTINCT ?law) AS ?n) WHERE { ?law a cp:Law }")
    assert in_graphs > laws >= 3
    assert n("SELECT (COUNT(?law) AS ?n) WHERE { ?law a cp:Law }") == laws
    pairs = "{ ?law a cp:Law ; rdfs:label ?label }"
    assert n(f"SELECT (COUNT(*) AS ?n) WHERE {pairs}") == n(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT DISTINCT ?law ?label WHERE {pairs} }}"
    )


def test_post_form_and_post_body_give_the_same_answer(server_url: str) -> None:
    form = httpx.post(server_url + "/sparql", data={"query": COUNT_LAWS})
    direct = httpx.post(
        server_url + "/sparql",
        content=COUNT_LAWS,
        headers={"Content-Type": "application/sparql-query"},
    )
    assert form.status_code == direct.status_code == 200
    assert form.json() == direct.json()


def test_accept_header_chooses_csv(server_url: str) -> None:
    response = httpx.get(
        server_url + "/sparql", params={"query": COUNT_LAWS}, headers={"Accept": "text/csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert int(rows[0]["n"]) >= 3


def test_construct_answers_in_turtle_by_default(server_url: str) -> None:
    response = httpx.get(
        server_url + "/sparql", params={"query": "CONSTRUCT { ?s a cp:Law } WHERE { ?s a cp:Law }"}
    )
    assert response.headers["content-type"].startswith("text/turtle")
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    assert len(graph) >= 3


def test_a_malformed_query_is_a_400_problem_with_line_and_column(server_url: str) -> None:
    response = httpx.get(server_url + "/sparql", params={"query": "SELECT *\nWHERE { ?s ?p"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["line"] == 2
    assert problem["column"] > 0
    assert problem["status"] == 400


def test_an_unacceptable_format_is_a_406(server_url: str) -> None:
    response = httpx.get(
        server_url + "/sparql", params={"query": "ASK {}"}, headers={"Accept": "image/png"}
    )
    assert response.status_code == 406


@pytest.mark.parametrize("content_type", ["text/plain", "application/json"])
def test_a_post_of_an_unknown_type_is_a_415(server_url: str, content_type: str) -> None:
    response = httpx.post(
        server_url + "/sparql", content="ASK {}", headers={"Content-Type": content_type}
    )
    assert response.status_code == 415


def test_get_without_a_query_describes_the_service(server_url: str) -> None:
    response = httpx.get(server_url + "/sparql", headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    endpoint = rdflib.URIRef(server_url + "/sparql")
    assert (endpoint, SD.endpoint, endpoint) in graph
    assert (endpoint, SD.supportedLanguage, SD.SPARQL11Query) in graph


def test_sparqlwrapper_reads_results(server_url: str) -> None:
    client = SPARQLWrapper(server_url + "/sparql")
    client.setQuery("PREFIX cp: <https://w3id.org/cpgraph/ontology#>\n" + COUNT_LAWS)
    client.setReturnFormat(JSON)
    result = client.query().convert()
    assert isinstance(result, dict)
    assert int(result["results"]["bindings"][0]["n"]["value"]) >= 3


def test_rdflib_sparqlstore_reads_results(server_url: str) -> None:
    graph = rdflib.Graph(store=SPARQLStore(server_url + "/sparql", returnFormat="json"))
    rows = list(
        graph.query(
            "SELECT ?label WHERE { ?law a <https://w3id.org/cpgraph/ontology#Law> ; "
            "<http://www.w3.org/2000/01/rdf-schema#label> ?label }"
        )
    )
    assert len(rows) >= 3


def test_default_graph_uri_restricts_the_default_graph(server_url: str) -> None:
    ontology = "https://w3id.org/cpgraph/graph/ontology"
    query = "ASK { ?s a cp:Law }"
    in_ontology = httpx.get(
        server_url + "/sparql", params={"query": query, "default-graph-uri": ontology}
    ).json()
    everywhere = httpx.get(server_url + "/sparql", params={"query": query}).json()
    assert in_ontology["boolean"] is False
    assert everywhere["boolean"] is True


def test_openapi_documents_the_endpoint(server_url: str) -> None:
    spec = json.loads(httpx.get(server_url + "/openapi.json").text)
    assert "/sparql" in spec["paths"]


def test_reads_are_open_to_other_origins(server_url: str) -> None:
    response = httpx.get(
        server_url + "/sparql",
        params={"query": "ASK {}"},
        headers={"Origin": "https://example.org"},
    )
    assert response.headers["access-control-allow-origin"] == "*"


def test_a_cross_origin_write_with_a_token_is_not_allowed_by_preflight(server_url: str) -> None:
    response = httpx.options(
        server_url + "/store",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert response.status_code == 400


def test_large_results_are_gzipped_for_clients_that_ask(server_url: str) -> None:
    response = httpx.get(
        server_url + "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 500"},
        headers={"Accept-Encoding": "gzip"},
    )
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["results"]["bindings"]) == 500
