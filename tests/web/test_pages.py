"""The HTML pages on a real server: resources, graphs, ontology, shapes, home, browse, query."""

from __future__ import annotations

import ast
import base64
import functools
import hashlib
import json
import re
from collections.abc import Iterator
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, SH
from tests.conftest import ROOT
from tests.pages_support import AWKWARD_LABEL, AWKWARD_ZH, BASE, CP, pages_server

from cpgraph.rdf.namespaces import prefixes
from cpgraph.server.security import YASGUI_STYLE_HASHES

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the mini fixture and one extra extract."""
    folder: Path = tmp_path_factory.mktemp("pages")
    with pages_server(folder) as base_url:
        yield base_url


class Page(HTMLParser):
    """The parts of a page the tests look at: text, links, ids, loaded resources."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self.ids: set[str] = set()
        self.loads: list[str] = []
        self.langs: dict[str, list[str]] = {}
        self.html_lang = ""
        self._lang_stack: list[str | None] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html":
            self.html_lang = a.get("lang") or ""
        if tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")
        if a.get("id"):
            self.ids.add(a["id"] or "")
        if tag in ("script", "img", "iframe") and a.get("src"):
            self.loads.append(a["src"] or "")
        if tag == "link" and a.get("rel") == "stylesheet":
            self.loads.append(a.get("href") or "")
        self._lang_stack.append(a.get("lang"))

    def handle_endtag(self, tag: str) -> None:
        if self._lang_stack:
            self._lang_stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        lang = next((x for x in reversed(self._lang_stack) if x), None)
        if lang and data.strip():
            self.langs.setdefault(lang, []).append(data.strip())

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def page(url: str) -> Page:
    response = httpx.get(url, headers=BROWSER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    return Page(response.text)


def test_a_resource_page_shows_its_label_types_properties_and_sources(url: str) -> None:
    p = page(url + "/id/org/cncpc")
    assert "China National Cleaner Production Centre" in p.plain
    assert "cleaner production centre" in p.plain  # the type, by its label
    assert "/ontology#CleanerProductionCentre" in p.links
    assert "1994-12" in p.plain
    assert "1995" in p.plain
    # each value names its source document and locator, linked
    assert "Tsang, From Cleaner Production to Carbon Management (abstract)" in p.plain
    assert "Abstract, first paragraph" in p.plain
    assert "Abstract, second paragraph" in p.plain
    assert "/graph/s004/abstract-p1" in p.links
    assert "/id/source/s004" in p.links
    # linked values by label, to the local dereference URL
    assert "State Environmental Protection Administration" in p.plain
    assert "/id/org/sepa" in p.links


def test_a_resource_page_lists_incoming_links_with_a_count(url: str) -> None:
    p = page(url + "/id/org/sepa")
    assert "Referenced by 1 resource" in p.plain
    assert "/id/org/cncpc" in p.links


def test_a_resource_page_shows_every_label_in_its_language_escaped(url: str) -> None:
    response = httpx.get(url + "/id/org/awkward-name", headers=BROWSER)
    assert escape(AWKWARD_LABEL) in response.text
    assert AWKWARD_LABEL not in response.text  # never unescaped
    p = Page(response.text)
    assert p.html_lang == "en"
    assert AWKWARD_ZH in p.langs["zh"]
    assert AWKWARD_LABEL in p.langs["en"]


def test_a_resource_page_links_its_other_formats(url: str) -> None:
    p = page(url + "/id/org/sepa")
    for ext in ("ttl", "jsonld", "nt", "rdf"):
        assert f"/id/org/sepa?format={ext}" in p.links  # relative: no Host header in it


def test_a_graph_page_shows_locator_source_and_statements(url: str) -> None:
    p = page(url + "/graph/s004/abstract-p1")
    assert "Source extract: Abstract, first paragraph" in p.plain
    assert "/id/source/s004" in p.links
    assert "China National Cleaner Production Centre" in p.plain
    assert "1994-12" in p.plain
    assert "1995" not in p.plain.replace("abstract-p1", "")


def test_the_home_page_has_figures_sources_and_a_class_index(url: str) -> None:
    p = page(url + "/")
    assert "<h1>cpgraph</h1>" in httpx.get(url + "/", headers=BROWSER).text
    assert "Statements" in p.plain
    assert "/browse?class=cp%3AGovernmentBody" in p.links
    assert "/id/source/s004" in p.links
    assert any(link.startswith("/query?") for link in p.links)


def test_the_home_page_still_answers_json_to_programs(url: str) -> None:
    info = httpx.get(url + "/", headers={"Accept": "application/json"}).json()
    assert info["name"] == "cpgraph"
    assert info["endpoints"]["query"] == url + "/query"


def test_browse_lists_a_class_and_its_instances(url: str) -> None:
    index = page(url + "/browse")
    assert "/browse?class=cp%3ACleanerProductionCentre" in index.links
    members = page(url + "/browse?class=cp:CleanerProductionCentre")
    assert "China National Cleaner Production Centre" in members.plain
    assert "/id/org/cncpc" in members.links


def test_browse_refuses_a_class_that_is_not_an_iri(url: str) -> None:
    response = httpx.get(url + "/browse", params={"class": "not an iri"}, headers=BROWSER)
    assert response.status_code == 400


def test_the_ontology_page_documents_every_term_with_an_anchor(server_url: str) -> None:
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "cpgraph.ttl")
    terms = {
        str(s)[len(CP) :]
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
        for s in ontology.subjects(RDF.type, kind)
        if str(s).startswith(CP)
    }
    p = page(server_url + "/ontology")
    assert len(terms) > 50
    assert terms <= p.ids
    definition = str(
        ontology.value(
            rdflib.URIRef(CP + "Law"),
            rdflib.URIRef("http://www.w3.org/2004/02/skos/core#definition"),
        )
    )
    assert " ".join(definition.split()) in p.plain
    assert "http://www.w3.org/ns/prov#Agent" in p.links  # an alignment, linked


def test_the_shapes_page_lists_node_shapes_with_rules_and_messages(server_url: str) -> None:
    shapes = rdflib.Graph().parse(ROOT / "shapes" / "cpgraph-shapes.ttl")
    names = {str(s).rsplit("#", 1)[-1] for s in shapes.subjects(RDF.type, SH.NodeShape)}
    p = page(server_url + "/shapes")
    assert names <= p.ids
    some_message = next(iter(shapes.objects(None, SH.message)))
    assert " ".join(str(some_message).split()) in p.plain
    assert "/ontology#Organisation" in p.links


def test_the_query_page_has_yasgui_and_a_form_that_works_without_scripts(url: str) -> None:
    response = httpx.get(url + "/query", headers=BROWSER)
    p = Page(response.text)
    assert {"yasgui", "query-form", "query", "format", "download"} <= p.ids
    assert '<label for="query">' in response.text
    assert '<form id="query-form" action="/sparql" method="post">' in response.text
    assert f"PREFIX cp: &lt;{CP}&gt;" in response.text
    assert p.loads == [
        "/static/cpgraph.css",
        "/static/yasgui/yasgui.min.js",
        "/static/query.js",
        "/static/yasgui/yasgui.min.css",
    ]
    for value in ("json", "csv", "tsv", "ttl", "jsonld"):
        assert f'<option value="{value}"' in response.text


def test_the_query_page_predeclares_the_servers_sixteen_prefixes(url: str) -> None:
    text = httpx.get(url + "/query", headers=BROWSER).text
    config = json.loads(re.search(r'id="cpgraph-config">(.*?)</script>', text, re.S)[1])
    assert config["prefixes"] == prefixes(BASE)
    assert len(config["prefixes"]) == 16
    assert config["endpoint"] == "/sparql"
    editor = re.search(r'<textarea id="query"[^>]*>(.*?)</textarea>', text, re.S)[1]
    declared = re.findall(r"^PREFIX (\w+): ", unescape(editor), re.M)
    assert declared == list(prefixes(BASE))


def test_the_query_page_fills_in_a_query_given_in_the_url(url: str) -> None:
    response = httpx.get(url + "/query", params={"query": "ASK { ?s ?p '<x>' }"}, headers=BROWSER)
    assert "ASK { ?s ?p &#x27;&lt;x&gt;&#x27; }" in response.text
    config = re.search(r'id="cpgraph-config">(.*?)</script>', response.text, re.S)[1]
    assert json.loads(config)["query"] == "ASK { ?s ?p '<x>' }"
    assert json.loads(config)["given"] is True


def test_a_query_that_closes_the_script_element_stays_text(url: str) -> None:
    hostile = "</script><script>alert(1)</script><!--"
    text = httpx.get(url + "/query", params={"query": hostile}, headers=BROWSER).text
    assert "<script>alert(1)" not in text
    assert text.count("<script") == text.count("</script>")
    config = re.search(r'id="cpgraph-config">(.*?)</script>', text, re.S)[1]
    assert json.loads(config)["query"] == hostile


def test_the_query_page_allows_no_host_but_its_own(url: str) -> None:
    policy = httpx.get(url + "/query", headers=BROWSER).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'self'"
    allowed = directives["style-src"].split()
    assert allowed[0] == "'self'"
    assert all(a.startswith("'sha256-") for a in allowed[1:])  # no host, no 'unsafe-inline'
    assert "script-src" not in directives  # so scripts come from this origin alone
    assert "unsafe" not in policy


def test_the_query_pages_style_hashes_are_those_yasgui_writes() -> None:
    """The hashes :data:`QUERY_POLICY` allows are of the <style> texts in the vendored
    YASGUI: after a refresh of /static/yasgui this fails until they are brought in step."""
    script = (ROOT / "src/cpgraph/server/static/yasgui/yasgui.min.js").read_text("utf-8")
    grips = re.search(r"createStyle\(a,`( \.grip-resizable[^`]*)`\)", script)
    assert grips, "YASGUI no longer writes the column resizer's styles as it did"
    assert "dragCursor:`col-resize`" in script
    texts = (grips[1], "*{cursor:col-resize!important}")
    digests = tuple(
        "sha256-" + base64.b64encode(hashlib.sha256(t.encode()).digest()).decode() for t in texts
    )
    assert digests == YASGUI_STYLE_HASHES


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/static/yasgui/yasgui.min.js", "text/javascript"),
        ("/static/yasgui/yasgui.min.css", "text/css"),
        ("/static/yasgui/LICENSE", "application/octet-stream"),
    ],
)
def test_yasgui_is_served_from_the_package(url: str, path: str, media: str) -> None:
    response = httpx.get(url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    packaged = ROOT / "src/cpgraph/server" / path.removeprefix("/")
    assert response.content == packaged.read_bytes()


def test_redoc_is_not_served_from_a_cdn(url: str) -> None:
    assert httpx.get(url + "/redoc", headers=BROWSER).status_code == 404
    assert httpx.get(url + "/docs", headers=BROWSER).status_code == 200


@pytest.mark.parametrize(
    ("path", "media"),
    [("/static/query.js", "text/javascript"), ("/static/cpgraph.css", "text/css")],
)
def test_the_pages_own_script_and_style_are_served(url: str, path: str, media: str) -> None:
    response = httpx.get(url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    # Namespace names (of SVG elements, of XSD datatypes) are not addresses to load.
    names = ("http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/2000/svg")
    assert not re.search(
        r"https?://", functools.reduce(lambda t, n: t.replace(n, ""), names, response.text)
    )


@pytest.mark.parametrize(
    "path",
    ["/", "/id/org/cncpc", "/graph/s004/abstract-p1", "/ontology", "/shapes", "/browse", "/query"],
)
def test_pages_load_nothing_from_elsewhere(url: str, path: str) -> None:
    p = page(url + path)
    assert p.loads
    assert all(src.startswith("/") and not src.startswith("//") for src in p.loads)
    assert p.html_lang == "en"
    assert "main" in p.ids


# ---------------------------------------------------------------------------------------------
# The pages come from templates only
# ---------------------------------------------------------------------------------------------

SRC = ROOT / "src" / "cpgraph"
# An HTML or SVG element's start or end tag, as a page or chart writes them.
HTML_TAG = re.compile(
    r"</?(?:html|head|body|main|header|footer|nav|section|div|span|p|a|ul|ol|li|dl|dt|dd|"
    r"table|thead|tbody|tr|th|td|h[1-6]|form|label|input|select|option|optgroup|textarea|"
    r"button|pre|code|small|strong|em|br|figure|figcaption|script|style|link|meta|title|"
    r"svg|g|rect|line|circle|path|text|desc)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
# The one module that makes markup: the template environment (for prebuilt fragments).
MARKUP_MAKER = SRC / "web" / "render.py"


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def html_in_python(path: Path) -> list[str]:
    """What in ``path`` builds HTML in Python: string literals holding tags (docstrings
    aside), an import of :func:`html.escape`, markup made outside the template environment."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        where = f"{path}:{getattr(node, 'lineno', '?')}"
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
            and HTML_TAG.search(node.value)
        ):
            found.append(f"{where}: {node.value[:60]!r}")
        elif isinstance(node, ast.ImportFrom) and node.module == "html":
            found += [
                f"{where}: from html import {a.name}" for a in node.names if a.name == "escape"
            ]
        elif isinstance(node, ast.Import) and any(a.name == "html" for a in node.names):
            found.append(f"{where}: import html")
        elif isinstance(node, ast.Call) and path != MARKUP_MAKER:
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "Markup":
                found.append(f"{where}: Markup")
    return found


def test_no_html_is_built_in_python() -> None:
    # Every page and chart is a template (src/cpgraph/web/templates) with autoescaping.
    found = [hit for path in sorted(SRC.rglob("*.py")) for hit in html_in_python(path)]
    assert found == []


def test_the_guard_sees_html_built_in_python(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A <p> in a docstring is fine."""\n'
        "from html import escape\n"
        "from markupsafe import Markup\n"
        "def page(x: str) -> str:\n"
        "    return f'<li class=\"item\">{escape(x)}</li>' + Markup(x)\n"
        "IRI = f'<{x}>'\n",
        encoding="utf-8",
    )
    hits = html_in_python(sample)
    assert len([h for h in hits if "<li" in h]) == 1
    assert any("from html import escape" in h for h in hits)
    assert any(h.endswith("Markup") for h in hits)
    assert not any("docstring" in h or "<{" in h for h in hits)
