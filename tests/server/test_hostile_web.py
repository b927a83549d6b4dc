"""Hostile web clients against a real server: links, security headers, and oversized requests.

Replays item 6 and parts of item 7 of the hardening issue: ``javascript:`` IRIs reflected or
stored into pages, pages without a Content-Security-Policy, nosniff or framing rules, a 401
without its challenge, a ``Host`` header echoed into ``Link``, a long GET answered in plain
text, and a POSTed query read whole before its limit applied. All traffic goes to 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import ROOT, running_server
from tests.pages_support import BASE, SEPA, build_pages_store

from cpgraph.saved.library import load_library
from cpgraph.web.charts import ResultTable
from cpgraph.web.gallery import PageLinks
from cpgraph.web.gallery import query_page as gallery_query_page
from cpgraph.web.pages import may_link

TOKEN = "a-hostile-web-test-token"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
HOSTILE = "javascript:alert(document.domain)"
SAFE_SCHEMES = ("http", "https", "mailto")
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}
PAGES = ["/", "/browse", "/query", "/id/org/sepa", "/graph/s004/abstract-p1", "/ontology"]
PAGES += ["/shapes", "/contribute", "/queries", "/queries/cp-standards?format=html"]
PAGES += ["/browse?class=cp:GovernmentBody"]
QUICK = "SELECT ?o WHERE { <https://w3id.org/cpgraph/id/org/sepa> ?p ?o } LIMIT 1"
BIG = "SELECT * WHERE { ?s ?p ?o }"  # more than a kilobyte over the small store


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the pages' small store, with the saved queries and a token."""
    settings = build_pages_store(tmp_path_factory.mktemp("hostile-web"))
    (settings.source_dir / "queries").symlink_to(ROOT / "queries")
    with running_server(settings, CPGRAPH_TOKEN=TOKEN) as base_url:
        yield base_url


class Targets(HTMLParser):
    """Every URL a page would follow or load: href, src, action and formaction values."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline = 0  # style elements and attributes, event handler attributes
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src", "action", "formaction", "xlink:href") and value:
                self.urls.append(value)
            if name == "style" or name.startswith("on"):
                self.inline += 1
        if tag == "style":
            self.inline += 1


def unsafe_targets(html: str) -> list[str]:
    """The URLs in ``html`` that are neither relative nor http, https or mailto (checked as
    a browser reads them: whitespace and controls dropped, scheme case-insensitive)."""
    bad = []
    for target in Targets(html).urls:
        cleaned = "".join(c for c in target if c > " ")
        scheme, colon, _ = cleaned.partition(":")
        relative = not colon or "/" in scheme or "?" in scheme or "#" in scheme
        if not relative and scheme.lower() not in SAFE_SCHEMES:
            bad.append(target)
    return bad


def assert_secured(response: httpx.Response) -> None:
    """The headers every response carries."""
    for name, value in SECURITY.items():
        assert response.headers.get(name) == value, (name, dict(response.headers))
    assert response.headers.get("referrer-policy"), dict(response.headers)


def read_response(sock: socket.socket) -> bytes:
    """One response's bytes from ``sock``: its head, and its body by its Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)  # times out (fails) if no answer comes
        assert chunk, "the server closed the connection without an answer"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = parse_raw(head + b"\r\n\r\n")[1].get("content-length", "0")
    while len(body) < int(length):
        chunk = sock.recv(65536)
        assert chunk, "the answer was cut short"
        body += chunk
    return head + b"\r\n\r\n" + body


def raw_exchange(url: str, request: bytes, *, timeout: float = 10) -> bytes:
    """Send ``request`` (bytes as they go on the wire) on a fresh connection; the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(request)
        return read_response(sock)


def parse_raw(data: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def still_whole(url: str) -> None:
    """Another client is answered at once after the attack."""
    started = time.monotonic()
    response = httpx.get(url + "/sparql", params={"query": QUICK}, timeout=5)
    assert response.status_code == 200
    assert time.monotonic() - started < 1.0


# ---------------------------------------------------------------------------------------------
# Links: only http, https and mailto
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iri",
    [
        "http://example.org/a",
        "https://example.org/a",
        "HTTPS://example.org/a",
        "mailto:someone@example.org",
        " http://example.org/a",
        "ht\ttp://example.org/a",
    ],
)
def test_http_https_and_mailto_iris_may_be_links(iri: str) -> None:
    assert may_link(iri)


@pytest.mark.parametrize(
    "iri",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "urn:isbn:0451450523",
        "no scheme at all",
        "",
    ],
)
def test_any_other_iri_is_never_a_link(iri: str) -> None:
    assert not may_link(iri)


def test_a_javascript_class_in_browse_is_shown_as_text_never_as_a_link(url: str) -> None:
    response = httpx.get(url + "/browse", params={"class": HOSTILE}, headers=BROWSER)
    assert response.status_code == 200
    assert HOSTILE in response.text  # shown, escaped, as text
    assert unsafe_targets(response.text) == []


def test_a_mixed_case_javascript_class_is_not_a_link_either(url: str) -> None:
    response = httpx.get(url + "/browse", params={"class": "JaVaScRiPt:alert(1)"}, headers=BROWSER)
    assert response.status_code == 200
    assert unsafe_targets(response.text) == []


def test_a_stored_see_also_and_source_never_become_links(url: str) -> None:
    body = (
        f"<{SEPA}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <{HOSTILE}> .\n"
        f"<{SEPA}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://example.org/fine> .\n"
    )
    response = httpx.post(
        url + "/contributions",
        params={"comment": "a hostile link", "source": "javascript:alert(2)"},
        content=body,
        headers={"Content-Type": "application/n-triples", "Authorization": f"Bearer {TOKEN}"},
        timeout=60,
    )
    assert response.status_code in (200, 201), response.text
    graph = response.json()["contribution"]["graph"]
    resource = httpx.get(url + "/id/org/sepa", headers=BROWSER)
    assert HOSTILE in resource.text
    assert unsafe_targets(resource.text) == []
    assert "https://example.org/fine" in Targets(resource.text).urls  # others stay links
    contribution = httpx.get(url + "/" + graph.removeprefix(BASE), headers=BROWSER)
    assert contribution.status_code == 200
    assert "javascript:alert(2)" in contribution.text
    assert unsafe_targets(contribution.text) == []


def test_query_results_drawn_by_the_server_never_link_a_javascript_iri() -> None:
    # The gallery draws a saved query's result on the server (the query page's script draws
    # it in the browser: see test_browser.py).
    query = next(iter(load_library(ROOT / "queries")))
    table = ResultTable(
        ("x",),
        (
            {"x": ox.NamedNode(HOSTILE)},
            {"x": ox.NamedNode("JavaScript:alert(1)")},
            {"x": ox.NamedNode("https://example.org/fine")},
        ),
    )
    page = gallery_query_page(
        query, table, values={}, chart_svg=None, links=PageLinks(1, 10, ""), base=BASE
    )
    assert HOSTILE in page
    assert unsafe_targets(page) == []
    assert "https://example.org/fine" in Targets(page).urls


# ---------------------------------------------------------------------------------------------
# Security headers
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_sends_its_content_security_policy_and_framing_rules(
    url: str, path: str
) -> None:
    response = httpx.get(url + path, headers=BROWSER, timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_secured(response)
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert Targets(response.text).inline == 0  # what the policy would block


def test_the_api_docs_load_nothing_from_another_host_and_refuse_framing(url: str) -> None:
    response = httpx.get(url + "/docs")
    assert response.status_code == 200
    assert_secured(response)
    policy = response.headers["content-security-policy"]
    assert "https://" not in policy  # Swagger UI comes from the package, not a CDN
    assert "script-src" not in policy  # so scripts fall under default-src 'self'
    assert "frame-ancestors 'none'" in policy
    assert Targets(response.text).inline == 0
    assert "https://" not in response.text
    assert "http://" not in response.text
    script = httpx.get(url + "/static/swagger-ui/swagger-ui-bundle.js")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text


@pytest.mark.parametrize(
    ("name", "params", "headers"),
    [
        ("answered at once, written by the protocol", {"query": QUICK}, {"Accept-Encoding": ""}),
        ("streamed by the protocol", {"query": BIG}, {"Accept-Encoding": ""}),
        ("compressed, through the protocol's own cycle", {"query": BIG}, {}),
        ("a syntax error from the protocol", {"query": "SELEC"}, {}),
        ("a service description, by the application", {}, {}),
    ],
)
def test_every_sparql_get_answer_says_nosniff(
    url: str, name: str, params: dict[str, str], headers: dict[str, str]
) -> None:
    response = httpx.get(url + "/sparql", params=params, headers=headers, timeout=30)
    assert response.status_code in (200, 400), name
    assert_secured(response)


def test_a_posted_query_and_its_problems_say_nosniff(url: str) -> None:
    answered = httpx.post(url + "/sparql", data={"query": QUICK})
    assert answered.status_code == 200
    assert_secured(answered)
    wrong = httpx.post(url + "/sparql", data={"query": "SELEC"})
    assert wrong.status_code == 400
    assert wrong.headers["content-type"] == "application/problem+json"
    assert_secured(wrong)
    missing = httpx.get(url + "/no-such-route")
    assert missing.status_code == 404
    assert_secured(missing)


def test_a_401_names_the_bearer_scheme(url: str) -> None:
    update = httpx.post(
        url + "/sparql",
        content="CLEAR ALL",
        headers={"Content-Type": "application/sparql-update"},
    )
    assert update.status_code == 401
    assert update.headers["www-authenticate"].startswith("Bearer")
    assert update.headers["content-type"] == "application/problem+json"
    assert_secured(update)
    contribution = httpx.post(
        url + "/contributions?comment=x",
        content=f"<{SEPA}> <http://www.w3.org/2000/01/rdf-schema#seeAlso> <https://e.org/> .",
        headers={"Content-Type": "application/n-triples", "Authorization": "Bearer wrong"},
    )
    assert contribution.status_code == 401
    assert contribution.headers["www-authenticate"].startswith("Bearer")


def test_link_headers_ignore_a_hostile_host(url: str) -> None:
    evil = {"Host": "evil.example", "Accept": "text/turtle"}
    resource = httpx.get(url + "/id/org/sepa", headers=evil)
    assert resource.status_code == 200
    assert "evil.example" not in resource.headers["link"]
    assert '</id/org/sepa?format=ttl>; rel="alternate"' in resource.headers["link"]
    page = httpx.get(url + "/id/org/sepa", headers={**BROWSER, "Host": "evil.example"})
    assert "evil.example" not in page.headers["link"]
    assert "evil.example" not in page.text
    saved = httpx.get(
        url + "/queries/cp-standards",
        params={"format": "json", "per_page": "10"},
        headers={"Host": "evil.example"},
        timeout=30,
    )
    assert saved.status_code == 200
    assert "evil.example" not in saved.headers["link"]
    assert saved.links["first"]["url"].startswith("/queries/cp-standards?")


# ---------------------------------------------------------------------------------------------
# Oversized requests
# ---------------------------------------------------------------------------------------------


def test_a_70_kb_get_is_a_413_problem(url: str) -> None:
    query = quote(QUICK + " #" + "a" * 70_000)
    request = f"GET /sparql?query={query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    status, headers, body = parse_raw(raw_exchange(url, request))
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert headers["x-content-type-options"] == "nosniff"
    problem = json.loads(body)
    assert problem["status"] == 413
    assert "POST" in problem["detail"]
    still_whole(url)


def test_a_request_that_is_not_http_is_a_400_problem(url: str) -> None:
    status, headers, body = parse_raw(raw_exchange(url, b"GET / HTTP/1.1\r\nHost\x01: x\r\n\r\n"))
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 400
    still_whole(url)


def refused_before_read(url: str, head: bytes, first: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` and a first part of a body that is never finished; the answer, which
    must come while the rest is still owed."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head + b"\r\n" + first)
        return parse_raw(read_response(sock))


def test_a_10_mb_posted_query_is_refused_before_it_is_read(url: str) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/sparql-query\r\nContent-Length: 10000000\r\n"
    )
    status, headers, body = refused_before_read(url, head, b"SELECT * WHERE { ?s ?p ?o } #")
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 413
    still_whole(url)


def test_a_10_mb_posted_form_is_refused_before_it_is_read(url: str) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n"
    )
    status, _, _ = refused_before_read(url, head, urlencode({"query": QUICK}).encode())
    assert status == 413
    still_whole(url)


def test_a_chunked_query_is_refused_once_it_passes_the_query_limit(url: str) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/sparql-query\r\nTransfer-Encoding: chunked\r\n"
    )
    piece = b"#" * 32_768
    first = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(9))  # 288 KiB
    status, _, _ = refused_before_read(url, head, first)
    assert status == 413
    still_whole(url)


def test_a_posted_query_under_the_limit_is_still_answered(url: str) -> None:
    text = QUICK + " #" + "a" * 200_000
    direct = httpx.post(
        url + "/sparql", content=text, headers={"Content-Type": "application/sparql-query"}
    )
    assert direct.status_code == 200
    form = httpx.post(url + "/sparql", data={"query": QUICK + " # 清洁生产" * 12_000})
    assert form.status_code == 200  # percent-encoded past the query limit, and still read


def test_an_update_without_the_token_is_refused_before_its_body_is_read(url: str) -> None:
    head = (
        b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/sparql-update\r\nContent-Length: 10000000\r\n"
    )
    status, headers, _ = refused_before_read(url, head, b"INSERT DATA {")
    assert status == 401
    assert headers["www-authenticate"].startswith("Bearer")


def test_the_store_is_unchanged_by_the_attacks(url: str) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    before = httpx.get(url + "/sparql", params={"query": count}).json()
    test_a_10_mb_posted_query_is_refused_before_it_is_read(url)
    test_an_update_without_the_token_is_refused_before_its_body_is_read(url)
    after = httpx.get(url + "/sparql", params={"query": count}).json()
    assert before == after
