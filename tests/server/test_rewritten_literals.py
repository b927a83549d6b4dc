"""Literals the store keeps in another form, over HTTP: a contribution is judged, hashed and
committed as stored (the rewrites are Info results), and a Graph Store write or an update that
writes such literals is accepted and says how many it rewrote."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import built_mini_store, running_server

from cpgraph.validation.contributions import content_hash
from cpgraph.validation.stored import STORED_FORM_SHAPE

TOKEN = "token-for-the-rewritten-literals"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {**AUTH, "Content-Type": "text/turtle"}
HEADER = "Cpgraph-Rewritten-Literals"
XSD = "http://www.w3.org/2001/XMLSchema#"
NOTICE = "https://w3id.org/cpgraph/id/instrument/test-notice-rewritten"
SENT = f"""
@prefix cp: <https://w3id.org/cpgraph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{NOTICE}> a cp:Notice ;
    rdfs:label "A notice with literals the store rewrites"@en ;
    cp:dateIssued "2009"^^xsd:gYear ;
    cp:issuedBy <https://w3id.org/cpgraph/id/org/sepa> ;
    <http://example.org/vocab/copies> "007"^^xsd:integer ;
    <http://example.org/vocab/final> "1"^^xsd:boolean .
"""
STORED = SENT.replace('"007"', '"7"').replace('"1"^^', '"true"^^')


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(built_mini_store(tmp_path_factory), CPGRAPH_TOKEN=TOKEN) as served:
        yield served


def triples(text: str, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(text, fmt)}


def info_messages(report: dict[str, object]) -> list[str]:
    results = report["results"]
    assert isinstance(results, list)
    return sorted(
        r["message"]
        for r in results
        if r["severity"] == "Info" and r["sourceShape"] == STORED_FORM_SHAPE
    )


def test_a_contribution_is_validated_hashed_and_committed_in_the_stored_form(url: str) -> None:
    validated = httpx.post(url + "/validate", content=SENT, headers={"Content-Type": "text/turtle"})
    assert validated.status_code == 200
    assert validated.json()["conforms"] is True
    infos = info_messages(validated.json())
    assert len(infos) == 2
    assert infos[0].startswith('"007"^^xsd:integer is stored as "7"^^xsd:integer')
    assert infos[1].startswith('"1"^^xsd:boolean is stored as "true"^^xsd:boolean')

    committed = httpx.post(
        url + "/contributions",
        params={"comment": "Rewritten literals."},
        content=SENT,
        headers=TURTLE,
    )
    assert committed.status_code == 201, committed.text
    assert info_messages(committed.json()) == infos
    record = committed.json()["contribution"]
    graph = record["graph"]

    expected = triples(STORED, ox.RdfFormat.TURTLE)
    through_gsp = httpx.get(
        url + "/store", params={"graph": graph}, headers={"Accept": "application/n-triples"}
    )
    assert through_gsp.status_code == 200
    read_back = {
        t for t in triples(through_gsp.text, ox.RdfFormat.N_TRIPLES) if t.subject.value == NOTICE
    }
    assert read_back == expected
    through_query = httpx.get(
        url + "/sparql",
        params={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"},
        headers={"Accept": "application/n-triples"},
    )
    queried = {
        t for t in triples(through_query.text, ox.RdfFormat.N_TRIPLES) if t.subject.value == NOTICE
    }
    assert queried == expected
    stored_content = [(t.subject, t.predicate, t.object) for t in read_back]
    assert record["contentHash"] == content_hash(stored_content)  # type: ignore[arg-type]


def test_a_graph_store_write_that_rewrites_literals_says_how_many(url: str) -> None:
    body = (
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        '<http://example.org/a> <http://example.org/n> "007"^^xsd:integer, 8,\n'
        '    "1.50"^^xsd:decimal .\n'
    )
    put = httpx.put(
        url + "/store", params={"graph": "http://example.org/g1"}, content=body, headers=TURTLE
    )
    assert put.status_code == 201
    assert put.headers[HEADER] == "2"
    again = httpx.put(
        url + "/store", params={"graph": "http://example.org/g1"}, content=body, headers=TURTLE
    )
    assert again.status_code == 204
    assert again.headers[HEADER] == "2"
    post = httpx.post(url + "/store", content=body, headers=TURTLE)
    assert post.status_code == 201
    assert post.headers[HEADER] == "2"
    assert "location" in post.headers
    read = httpx.get(
        url + "/store",
        params={"graph": "http://example.org/g1"},
        headers={"Accept": "application/n-triples"},
    )
    assert f'"1.5"^^<{XSD}decimal>' in read.text
    assert f'"7"^^<{XSD}integer>' in read.text


def test_a_write_that_rewrites_nothing_answers_as_before(url: str) -> None:
    body = '<http://example.org/a> <http://example.org/n> 7, "x", "y"@en .\n'
    put = httpx.put(
        url + "/store", params={"graph": "http://example.org/g2"}, content=body, headers=TURTLE
    )
    assert put.status_code == 201
    assert HEADER not in put.headers
    assert put.content == b""
    update = httpx.post(
        url + "/sparql",
        content="INSERT DATA { GRAPH <http://example.org/g2> { <http://example.org/a> "
        "<http://example.org/n> 9 } }",
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert update.status_code == 204
    assert HEADER not in update.headers


def test_an_update_that_rewrites_literals_says_how_many(url: str) -> None:
    update = (
        "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"
        "INSERT DATA { GRAPH <http://example.org/g3> { <http://example.org/a> "
        '<http://example.org/n> 007, "1"^^xsd:boolean, "2"^^xsd:positiveInteger, "x" } }'
    )
    response = httpx.post(
        url + "/sparql",
        content=update,
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert response.status_code == 204
    assert response.headers[HEADER] == "3"
    template = httpx.post(
        url + "/sparql",
        data={
            "update": "INSERT { GRAPH <http://example.org/g3> { ?s <http://example.org/m> 010 } } "
            "WHERE { GRAPH <http://example.org/g3> { ?s ?p ?o } }"
        },
        headers=AUTH,
    )
    assert template.status_code == 204
    assert template.headers[HEADER] == "1"
