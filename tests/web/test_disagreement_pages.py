"""A resource's page shows the disagreements it is part of: each claim with its value, its
source document and the place in it, and the kind of disagreement. Read from the documents:
004 founds the national centre in December 1994, the 2015 call (000) in 1995; 002 has the NPC
Standing Committee pass the 2002 law, 004 the National People's Congress. A real server over
the shipped store on 127.0.0.1, and a real in-memory store for hostile labels."""

from __future__ import annotations

from html.parser import HTMLParser

import httpx
import pyoxigraph as ox
from tests.conftest import ROOT

from cpgraph.publish.linked import resource_view
from cpgraph.store.oxigraph import GraphStore
from cpgraph.web.pages import resource_page

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
BASE = "https://w3id.org/cpgraph/"


class Section(HTMLParser):
    """The text and links of a page's "Sources disagree" section (empty when there is none)."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inside = False
        self.text: list[str] = []
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h2":
            self.inside = a.get("id") == "disagreements"
        if self.inside and tag == "a":
            self.links.append(a.get("href") or "")

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.text.append(data)

    @property
    def words(self) -> str:
        return " ".join("".join(self.text).split())


def section(url: str) -> Section:
    response = httpx.get(url, headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return Section(response.text)


def test_the_national_centres_page_shows_000_and_004_disagreeing_on_its_founding(
    server_url: str,
) -> None:
    shown = section(server_url + "/id/org/cncpc")
    assert "Sources disagree" in shown.words
    assert "When the China National Cleaner Production Centre was founded" in shown.words
    assert "conflict" in shown.words
    assert "Founded in December 1994 (004): 1994-12" in shown.words
    assert "Founded in 1995 (000): 1995" in shown.words
    for place in ("/id/source/s004", "/graph/s004/paragraph-1", "/id/source/s000"):
        assert any(link.endswith(place) for link in shown.links), place
    assert any(link.endswith("/graph/s000/introduction") for link in shown.links)
    assert any(link.endswith("/id/disagreement/cncpc-founding") for link in shown.links)
    assert any(link.endswith("/ontology#Conflict") for link in shown.links)


def test_the_page_of_a_body_a_claim_names_shows_the_disagreement_it_is_named_in(
    server_url: str,
) -> None:
    # 004: "passed in the National People's Congress"; 002: its Standing Committee.
    shown = section(server_url + "/id/org/npc")
    assert "Which body passed the Cleaner Production Promotion Law" in shown.words
    assert "different body" in shown.words
    assert "Passed in the National People's Congress (004)" in shown.words
    assert "Passed by the NPC Standing Committee (002, section 2.2)" in shown.words
    assert any(link.endswith("/graph/s002/table1-2002") for link in shown.links)


def test_a_resource_no_source_disputes_has_no_disagreement_section(server_url: str) -> None:
    shown = section(server_url + "/id/org/unido")
    assert shown.words == ""
    assert shown.links == []


HOSTILE = f"""
@prefix cp: <{BASE}ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
GRAPH <{BASE}graph/s009/one> {{
  <{BASE}graph/s009/one> a cp:SourceExtract ; cp:locator "<b>page</b> 1" .
  <{BASE}id/org/x> rdfs:label "X"@en ; cp:foundingDate "1994" .
}}
GRAPH <{BASE}graph/curation/disagreements> {{
  <{BASE}id/disagreement/x> a cp:Disagreement ; rdfs:label "<script>alert(1)</script>"@en ;
      rdfs:comment "a & b <i>c</i>"@en ; dcterms:subject <{BASE}id/org/x> ;
      cp:disagreementKind cp:Conflict ;
      cp:competingClaim <{BASE}id/disagreement/x-1>, <{BASE}id/disagreement/x-2> .
  <{BASE}id/disagreement/x-1> rdfs:label "<img src=x onerror=alert(1)>"@en ;
      cp:claimedValue "\\"><svg onload=alert(1)>" ;
      prov:wasDerivedFrom <{BASE}graph/s009/one> .
  <{BASE}id/disagreement/x-2> rdfs:label "two"@en ; cp:claimedValue "1995" .
}}
"""


def test_markup_in_a_disagreements_labels_values_and_locators_is_shown_as_text() -> None:
    store = GraphStore(None)
    ontology = ox.NamedNode(BASE + "graph/ontology")
    store.load_quads(
        [
            *ox.parse(HOSTILE, ox.RdfFormat.TRIG),
            *(
                ox.Quad(q.subject, q.predicate, q.object, ontology)
                for q in ox.parse(path=str(ROOT / "ontology" / "cpgraph.ttl"))
            ),
        ]
    )
    view = resource_view(store, BASE + "id/org/x", base=BASE)
    assert [d.label for d in view.disagreements] == ["<script>alert(1)</script>"]
    html = resource_page(view, base=BASE, alternates=[])
    for hostile in ("<script>alert", "<img src=x", "<svg onload", "<b>page</b>", "<i>c</i>"):
        assert hostile not in html
    shown = Section(html)
    assert "<script>alert(1)</script>" in shown.words
    assert '"><svg onload=alert(1)>' in shown.words
    assert "<b>page</b> 1" in shown.words
    # A claim without an extract is listed with its value and no source.
    assert "two: 1995" in shown.words
