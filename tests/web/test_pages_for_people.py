"""What a person in a browser meets, where a program gets data: the site's navigation reaches
every page, the dumps are a page, a problem is a page, and opening the endpoint opens the
query page. Programs keep their JSON, problem+json and service description. A real server on
127.0.0.1 over the pages' small store."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

import httpx
import pytest
from tests.conftest import ROOT, running_server
from tests.pages_support import build_pages_store

from cpgraph.saved.library import load_library

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = build_pages_store(tmp_path_factory.mktemp("pages-for-people"))
    (settings.source_dir / "queries").symlink_to(ROOT / "queries")
    with running_server(settings) as base_url:
        yield base_url


class NavLinks(HTMLParser):
    """The links of a page's site navigation."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.inside = False
        self.links: dict[str, str] = {}
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav":
            self.inside = True
        elif tag == "a" and self.inside:
            self._href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._href is not None and data.strip():
            self.links[data.strip()] = self._href
            self._href = None


def test_the_navigation_reaches_saved_queries_contributions_and_dumps_as_pages(url: str) -> None:
    links = NavLinks(httpx.get(url + "/", headers=BROWSER).text).links
    for name, href in {
        "Saved queries": "/queries",
        "Contribute": "/contribute",
        "Dumps": "/dumps/",
    }.items():
        assert links.get(name) == href
    for href in links.values():  # every one of them opens as a page, none downloads a file
        response = httpx.get(url + href, headers=BROWSER, follow_redirects=True, timeout=60)
        assert response.status_code == 200, href
        assert response.headers["content-type"].startswith("text/html"), href


def test_the_dumps_are_a_page_for_a_browser_and_json_for_a_program(url: str) -> None:
    page = httpx.get(url + "/dumps/", headers=BROWSER, timeout=60)
    assert page.headers["content-type"].startswith("text/html")
    listing = httpx.get(url + "/dumps/", timeout=60).json()["dumps"]
    assert listing
    for dump in listing:
        assert f'href="{dump["url"]}"' in page.text
        assert dump["sha256"] in page.text
    assert "Accept" in page.headers["vary"].replace(" ", "").split(",")


def test_opening_the_endpoint_in_a_browser_opens_the_query_page(url: str) -> None:
    opened = httpx.get(url + "/sparql", headers=BROWSER)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/query"
    described = httpx.get(url + "/sparql", headers={"Accept": "text/turtle"})
    assert described.status_code == 200
    assert "sparql-service-description" in described.text
    assert httpx.get(url + "/sparql").headers["content-type"].split(";")[0] != "text/html"


def test_a_bad_saved_query_parameter_is_a_page_for_a_browser_and_a_problem_for_a_program(
    url: str,
) -> None:
    library = load_library(ROOT / "queries")
    query, parameter = next(
        (q, p)
        for q in library
        for p in q.parameters
        if p.type.datatype is not None and p.type.datatype.endswith(("#integer", "#gYear"))
    )
    path = f"{url}/queries/{query.name}"
    problem = httpx.get(path, params={parameter.name: "not-a-number"}, timeout=60)
    assert problem.status_code == 422
    assert problem.headers["content-type"] == "application/problem+json"
    page = httpx.get(path, params={parameter.name: "not-a-number"}, headers=BROWSER, timeout=60)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert problem.json()["title"] in page.text
    assert "<script" not in page.text.split("</header>", 1)[1]


def test_a_missing_page_is_a_page_for_a_browser(url: str) -> None:
    page = httpx.get(url + "/no-such-page", headers=BROWSER)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "content-security-policy" in page.headers
    assert httpx.get(url + "/no-such-page").headers["content-type"] == "application/problem+json"
