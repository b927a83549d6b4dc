"""Saved queries over HTTP, on the command line, as charts and in a real browser.

A real ``cpgraph serve`` over the shipped graph answers; the charts are parsed as XML; the
gallery and a chart are opened in Debian's headless Chromium (skipped, saying why, where it is
not installed).
"""

from __future__ import annotations

import csv
import io
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.browser import CHROMIUM, HEIGHT, WIDTH, assert_painted, chromium
from tests.conftest import run_cli

from cpgraph.config import Settings
from cpgraph.rdf.namespaces import XSD
from cpgraph.saved.query import CHARTS
from cpgraph.web.charts import ChartKind, ResultTable, choose_chart, fractional_year, render_svg

SVG_NS = "{http://www.w3.org/2000/svg}"


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


def test_the_library_lists_every_query_with_typed_parameters(server_url: str) -> None:
    response = httpx.get(f"{server_url}/queries", timeout=30)
    assert response.status_code == 200
    body = response.json()
    names = {q["name"] for q in body["queries"]}
    assert len(names) >= 30
    timeline = next(q for q in body["queries"] if q["name"] == "instrument-timeline")
    assert {p["name"]: p["type"] for p in timeline["parameters"]} == {
        "actor": "iri",
        "sector": "iri",
        "from": "integer",
        "to": "integer",
    }
    tagged = httpx.get(f"{server_url}/queries", params={"tag": "working group"}, timeout=30)
    assert {q["name"] for q in tagged.json()["queries"]} == {
        "working-group-members",
        "working-group-activities",
        "working-group-recommendations",
    }


def test_browsers_get_the_gallery(server_url: str) -> None:
    response = httpx.get(f"{server_url}/queries", headers={"Accept": "text/html"}, timeout=30)
    assert response.headers["content-type"].startswith("text/html")
    assert "The 1999 demonstration in ten cities and five sectors" in response.text
    assert 'href="/queries/demonstration-ten-cities-five-sectors"' in response.text
    assert "<script" not in response.text


@pytest.mark.parametrize(
    ("fmt", "media_type"),
    [
        ("json", "application/sparql-results+json"),
        ("xml", "application/sparql-results+xml"),
        ("csv", "text/csv"),
        ("tsv", "text/tab-separated-values"),
    ],
)
def test_a_saved_query_answers_in_every_result_format(
    server_url: str, fmt: str, media_type: str
) -> None:
    response = httpx.get(
        f"{server_url}/queries/demonstration-ten-cities-five-sectors",
        params={"format": fmt},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert "Fuyang" in response.text


def test_the_accept_header_chooses_the_format(server_url: str) -> None:
    response = httpx.get(
        f"{server_url}/queries/working-group-members",
        headers={"Accept": "text/csv"},
        timeout=30,
    )
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["memberLabel"] for r in rows} == {"Qian Yi", "Tsugio Ide", "Katsuo Seiki"}
    refused = httpx.get(
        f"{server_url}/queries/working-group-members", headers={"Accept": "image/png"}, timeout=30
    )
    assert refused.status_code == 406


def test_parameters_come_from_the_query_string_as_terms(server_url: str) -> None:
    response = httpx.get(
        f"{server_url}/queries/cp-standards",
        params={"year": "2003", "format": "json"},
        timeout=30,
    )
    bindings = response.json()["results"]["bindings"]
    assert {b["standardLabel"]["value"] for b in bindings} == {
        "Cleaner-production standard for petroleum refining (2003)",
        "Cleaner-production standard for coking (2003)",
        "Cleaner-production standard for leather: pig light leather (2003)",
    }
    assert {b["__year_integer"]["datatype"] for b in bindings} == {XSD + "integer"}


def test_a_value_of_the_wrong_type_is_a_422_naming_the_parameter(server_url: str) -> None:
    response = httpx.get(
        f"{server_url}/queries/cp-standards", params={"year": "2003 } ; DROP ALL"}, timeout=30
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["parameter"] == "year"
    assert "integer" in problem["detail"]
    unknown = httpx.get(f"{server_url}/queries/cp-standards", params={"yeer": "1"}, timeout=30)
    assert unknown.status_code == 422
    assert unknown.json()["parameter"] == "yeer"
    page = httpx.get(f"{server_url}/queries/cp-standards", params={"page": "0"}, timeout=30)
    assert page.status_code == 422
    assert page.json()["parameter"] == "page"


def test_an_unknown_saved_query_is_a_404(server_url: str) -> None:
    response = httpx.get(f"{server_url}/queries/no-such-question", timeout=30)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_results_are_paged_with_link_headers(server_url: str) -> None:
    url = f"{server_url}/queries/cp-standards"
    pages: list[list[str]] = []
    response = httpx.get(url, params={"format": "json", "per_page": "10"}, timeout=30)
    while True:
        assert response.status_code == 200
        pages.append([b["standard"]["value"] for b in response.json()["results"]["bindings"]])
        links = response.links
        assert links["first"]["url"].endswith("page=1&per_page=10")
        if len(pages) > 1:
            assert "prev" in links
        if "next" not in links:
            break
        response = httpx.get(response.url.join(links["next"]["url"]), timeout=30)
    assert [len(p) for p in pages] == [10, 10, 10, 10, 2]
    whole = httpx.get(url, params={"format": "json", "per_page": "1000"}, timeout=30)
    assert [b["standard"]["value"] for b in whole.json()["results"]["bindings"]] == [
        s for p in pages for s in p
    ]
    assert "next" not in whole.links


def test_each_saved_query_is_an_openapi_operation_with_typed_parameters(server_url: str) -> None:
    spec = httpx.get(f"{server_url}/openapi.json", timeout=30).json()
    assert spec["openapi"].startswith("3.1")
    operation = spec["paths"]["/queries/instrument-timeline"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["from"]["schema"]["type"] == "integer"
    assert params["actor"]["schema"] == {"type": "string", "format": "iri"}
    assert params["actor"]["required"] is False
    assert {"page", "per_page", "format"} <= set(params)
    members = spec["paths"]["/queries/working-group-members"]["get"]["parameters"]
    group = next(p for p in members if p["name"] == "group")
    assert group["schema"]["default"] == "https://w3id.org/cpgraph/id/org/cpwg"
    listed = {p for p in spec["paths"] if p.startswith("/queries/") and not p.endswith(".svg")}
    assert len(listed) >= 30


def test_the_saved_queries_are_published_as_sparql_examples(server_url: str) -> None:
    turtle = httpx.get(f"{server_url}/.well-known/sparql-examples", timeout=30)
    assert turtle.headers["content-type"].startswith("text/turtle")
    triples = list(ox.parse(turtle.content, ox.RdfFormat.TURTLE))
    executables = {
        t.subject.value
        for t in triples
        if t.predicate.value.endswith("#type")
        and t.object.value == "http://www.w3.org/ns/shacl#SPARQLSelectExecutable"
    }
    assert "https://w3id.org/cpgraph/queries/cp-standards" in executables
    jsonld = httpx.get(
        f"{server_url}/.well-known/sparql-examples",
        headers={"Accept": "application/ld+json"},
        timeout=30,
    )
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    assert len(list(ox.parse(jsonld.content, ox.RdfFormat.JSON_LD))) == len(triples)
    # The same graph answers SPARQL: the saved queries are themselves queryable.
    answer = httpx.get(
        f"{server_url}/sparql",
        params={
            "query": "SELECT (COUNT(?q) AS ?n) WHERE { GRAPH ?g { ?q a sh:SPARQLExecutable ; "
            'schema:keywords "working group" } }'
        },
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert answer.json()["results"]["bindings"][0]["n"]["value"] == "3"


def test_a_chart_downloads_as_svg(server_url: str) -> None:
    for url in (
        f"{server_url}/queries/cp-standards-counted-and-stated.svg",
        f"{server_url}/queries/cp-standards-counted-and-stated?format=svg",
    ):
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/svg+xml"
        root = ET.fromstring(response.content)
        assert root.tag == f"{SVG_NS}svg"
        assert root.find(f"{SVG_NS}title").text.startswith("Cleaner-production standards")  # type: ignore[union-attr]
        texts = [t.text for t in root.iter(f"{SVG_NS}text")]
        assert "2007" in texts
        assert "9" in texts
        assert "7" in texts
    none = httpx.get(f"{server_url}/queries/corrections.svg", timeout=30)
    assert none.status_code == 404


def test_the_page_of_a_query_shows_its_table_and_chart(server_url: str) -> None:
    response = httpx.get(
        f"{server_url}/queries/instrument-timeline",
        params={"actor": "id:org/ndrc"},
        headers={"Accept": "text/html"},
        timeout=30,
    )
    assert response.status_code == 200
    page = response.text
    assert '<figure class="chart" id="chart"><svg' in page
    assert 'id="results-table"' in page
    assert "Cleaner-production evaluation indicator system for tyres (2007)" in page
    assert 'value="id:org/ndrc"' in page
    assert "__actor_iri" not in page.split('id="sparql-h"')[0]  # parameter columns hidden


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_cpgraph_queries_lists_the_library(shipped: Settings) -> None:
    done = run_cli("queries", settings=shipped)
    assert done.returncode == 0
    assert "demonstration-ten-cities-five-sectors" in done.stdout
    listed = json.loads(run_cli("queries", "--format", "json", settings=shipped).stdout)
    assert len(listed) >= 30


def test_cpgraph_query_saved_runs_one_with_parameters(shipped: Settings) -> None:
    done = run_cli(
        "query",
        "--saved",
        "cp-standards",
        "--param",
        "year=2003",
        "--format",
        "csv",
        settings=shipped,
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len({r["standard"] for r in rows}) == 3
    bad = run_cli("query", "--saved", "cp-standards", "--param", "year=x", settings=shipped)
    assert bad.returncode == 2
    assert "'year'" in bad.stderr
    missing = run_cli("query", "--saved", "no-such-question", settings=shipped)
    assert missing.returncode == 2


# ---------------------------------------------------------------------------------------------
# Charts
# ---------------------------------------------------------------------------------------------


def _lit(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


def test_the_chart_is_chosen_from_the_shape_of_the_result() -> None:
    dated = ResultTable(
        ("date", "label"),
        ({"date": _lit("1994-12", "gYearMonth"), "label": ox.Literal("founded")},),
    )
    counted = ResultTable(("label", "n"), ({"label": ox.Literal("a"), "n": _lit("3", "integer")},))
    linked = ResultTable(
        ("a", "b"), ({"a": ox.NamedNode("http://e/a"), "b": ox.NamedNode("http://e/b")},)
    )
    assert choose_chart(dated) is ChartKind.TIMELINE
    assert choose_chart(counted) is ChartKind.BARS
    assert choose_chart(linked) is ChartKind.NETWORK
    assert choose_chart(counted, "timeline") is None
    assert choose_chart(dated, "none") is None
    assert fractional_year("1994-12") == pytest.approx(1994 + 11 / 12)


def test_a_saved_query_header_may_name_every_kind_of_chart() -> None:
    # The header's `#+ chart:` takes the kinds the charts draw, and "none".
    assert set(CHARTS) == {kind.value for kind in ChartKind} | {"none"}


@pytest.mark.parametrize("kind", list(ChartKind))
def test_every_chart_is_accessible_svg_with_text_labels(kind: ChartKind) -> None:
    label = 'Tags <b>& "quotes"'
    table = ResultTable(
        ("date", "a", "aLabel", "b", "bLabel", "n", "value1", "value2"),
        (
            {
                "date": _lit("2002-06-29", "date"),
                "a": ox.NamedNode("http://e/a"),
                "aLabel": ox.Literal(label),
                "b": ox.NamedNode("http://e/b"),
                "bLabel": ox.Literal("B"),
                "n": _lit("42", "integer"),
                "value1": ox.Literal("1994-12"),  # a pair, for the comparison
                "value2": ox.Literal("1995"),
            },
        ),
    )
    svg = render_svg(table, kind, title="A title", description="What it shows.")
    root = ET.fromstring(svg)
    assert root.get("role") == "img"
    assert root.find(f"{SVG_NS}title").text == "A title"  # type: ignore[union-attr]
    assert root.find(f"{SVG_NS}desc").text.startswith("What it shows.")  # type: ignore[union-attr]
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG_NS}text"))
    assert label in texts


# ---------------------------------------------------------------------------------------------
# In a real browser
# ---------------------------------------------------------------------------------------------

browser = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="Chromium is not installed at /usr/bin/chromium: run `make test-deps` as root",
)


@browser
def test_the_gallery_renders_in_a_browser(server_url: str, tmp_path: Path) -> None:
    shot = tmp_path / "gallery.png"
    chromium(
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        f"{server_url}/queries?format=html",
        profile=tmp_path / "p1",
    )
    assert_painted(shot.read_bytes())
    dom = chromium("--dump-dom", f"{server_url}/queries?format=html", profile=tmp_path / "p2")
    assert "The working group: its members, their roles and affiliations" in dom
    assert dom.count('<li id="') >= 30


@browser
def test_a_chart_renders_in_a_browser_with_its_labels(server_url: str, tmp_path: Path) -> None:
    page = f"{server_url}/queries/demonstration-ten-cities-five-sectors?format=html"
    dom = chromium("--dump-dom", page, profile=tmp_path / "p1")
    assert "Fuyang" in dom
    assert "shipbuilding" in dom
    timeline = f"{server_url}/queries/law-status-by-source?format=html"
    dom = chromium("--dump-dom", timeline, profile=tmp_path / "p2")
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in dom
    assert "in force" in dom
    assert "2002-06-29" in dom
    assert 'download="law-status-by-source.svg"' in dom
    shot = tmp_path / "chart.png"
    chromium(
        f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", timeline, profile=tmp_path / "p3"
    )
    assert_painted(shot.read_bytes())
    svg_shot = tmp_path / "svg.png"
    chromium(
        f"--screenshot={svg_shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        f"{server_url}/queries/actor-network.svg",
        profile=tmp_path / "p4",
    )
    assert_painted(svg_shot.read_bytes())
