"""Clients that no one here wrote, against a real ``cpgraph serve`` on 127.0.0.1 (issue #27).

Java's HttpClient, and so Apache Jena, offers HTTP/2 on every cleartext request
(``Upgrade: h2c``); the server reads such a request as the HTTP/1.1 request it also is, body
and all (:mod:`cpgraph.server.upgrades`). Pinned down with the offer exactly as Java sends it,
over raw sockets, on every route that takes a body; with ``curl --http2``; and with Jena
itself: Debian's ``libapache-jena-java`` on a Java runtime (``make test-deps`` installs both),
its ``rsparql`` POSTing a long query, and its ``QueryExecutionHTTP`` POSTing a form.

SPARQLWrapper, the other client of issue #27, is in ``test_format_parameters.py``.
"""

from __future__ import annotations

import http.client
import io
import json
import re
import shutil
import socket
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
import pytest
from tests.conftest import built_mini_store, running_server

from cpgraph.server import protocol_check
from cpgraph.server.upgrades import head_without_offer

CP = "https://w3id.org/cpgraph/ontology#"
ID = "https://w3id.org/cpgraph/id/"
TOKEN = "operator-token-of-the-real-client-tests"
CONTRIBUTOR_TOKEN = "contributor-token-of-the-real-client-tests"
# The offer Java's HttpClient (17) makes on a cleartext request, header for header.
JAVA_OFFER = (
    "Connection: Upgrade, HTTP2-Settings\r\n"
    "HTTP2-Settings: AAEAAEAAAAIAAAAAAAMAAAAAAAQBAAAAAAUAAEAAAAYABgAA\r\n"
    "Upgrade: h2c\r\n"
    "User-Agent: Java-http-client/17.0.15\r\n"
)
RESULTS_JSON = "application/sparql-results+json"
ACRONYMS = f"SELECT ?acronym WHERE {{ ?org <{CP}acronym> ?acronym }}"
SUB_ORGANISATION = (
    f"ASK {{ <{ID}org/cncpc> <http://www.w3.org/ns/org#subOrganizationOf> <{ID}org/sepa> }}"
)
NOTICE = f"""
@prefix cp: <{CP}> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{ID}instrument/test-notice-2009> a cp:Notice ;
    rdfs:label "Notice on auditing key enterprises in 2009"@en ;
    cp:dateIssued "2009"^^xsd:gYear ;
    cp:issuedBy <{ID}org/sepa> .
"""
DANGLING = NOTICE.replace("org/sepa", "org/no-such-agency")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A writable server over the mini store: an operator's token and a contributor's."""
    settings = built_mini_store(tmp_path_factory)
    people = tmp_path_factory.mktemp("people") / "contributors.json"
    people.write_text(json.dumps([{"token": CONTRIBUTOR_TOKEN, "slug": "jo", "name": "Jo"}]))
    with running_server(
        settings, CPGRAPH_TOKEN=TOKEN, CPGRAPH_CONTRIBUTORS_FILE=str(people)
    ) as url:
        yield url


def acronyms(answer: dict[str, Any]) -> set[str]:
    """The acronyms a SPARQL JSON answer to :data:`ACRONYMS` holds."""
    return {row["acronym"]["value"] for row in answer["results"]["bindings"]}


def asks(url: str, query: str) -> bool:
    """The answer of an ASK query, asked plainly."""
    response = httpx.get(url + "/sparql", params={"query": query}, headers={"Accept": RESULTS_JSON})
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


# -- the offer as Java makes it, over raw sockets ----------------------------------------------


class _Kept(io.BufferedReader):
    """A connection's reader that http.client's responses leave open when they end."""

    def close(self) -> None:
        """Kept open: the next response on the connection is read from it."""

    def release(self) -> None:
        super().close()


class _Connection:
    """A raw connection, and responses read from it one after another by the standard
    library's own HTTP client (so that pipelined answers are read in order)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=60)
        self.file = _Kept(socket.SocketIO(self.socket, "rb"))

    def makefile(self, *args: object, **kwargs: object) -> io.BufferedReader:
        return self.file  # what http.client reads each response from

    def answer(self, method: str = "POST") -> tuple[int, str, bytes]:
        response = http.client.HTTPResponse(self, method=method)  # type: ignore[arg-type]
        response.begin()
        return response.status, response.getheader("content-type", ""), response.read()

    def close(self) -> None:
        self.file.release()
        self.socket.close()


def offering(
    method: str, target: str, body: bytes = b"", *, headers: str = "", chunked: bool = False
) -> tuple[bytes, bytes]:
    """A request with Java's upgrade offer: its head and its body (framed)."""
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"
    if chunked:
        body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if body else b"0\r\n\r\n"
    head = (
        f"{method} {target} HTTP/1.1\r\n{JAVA_OFFER}Host: 127.0.0.1\r\n{headers}{framing}\r\n\r\n"
    )
    return head.encode(), body


def exchange(url: str, *parts: bytes, method: str = "POST") -> tuple[int, str, bytes]:
    """Send ``parts`` (each written on its own) and read one answer."""
    connection = _Connection(url)
    try:
        for part in parts:
            connection.socket.sendall(part)
        return connection.answer(method)
    finally:
        connection.close()


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


QUERY_FORM = "Content-Type: application/x-www-form-urlencoded\r\nAccept: " + RESULTS_JSON + "\r\n"
DIRECT = "Content-Type: application/sparql-query\r\nAccept: " + RESULTS_JSON + "\r\n"
TURTLE_BODY = "Content-Type: text/turtle\r\nAccept: application/json\r\n"


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_query_posted_with_an_upgrade_offer_is_answered_from_its_body(
    server: str, chunked: bool
) -> None:
    head, body = offering(
        "POST", "/sparql", form(query=ACRONYMS), headers=QUERY_FORM, chunked=chunked
    )
    status, _, content = exchange(server, head + body)
    assert status == 200, content
    assert acronyms(json.loads(content)) == {"SEPA", "CNCPC"}
    head, body = offering("POST", "/sparql", SUB_ORGANISATION.encode(), headers=DIRECT)
    status, _, content = exchange(server, head + body)
    assert (status, json.loads(content)["boolean"]) == (200, True)


def test_a_body_that_comes_after_the_head_of_an_offer_is_read(server: str) -> None:
    head, body = offering("POST", "/sparql", form(query=ACRONYMS), headers=QUERY_FORM)
    status, _, content = exchange(server, head, body[:10], body[10:])
    assert status == 200, content
    assert acronyms(json.loads(content)) == {"SEPA", "CNCPC"}


def test_validate_reads_a_contribution_sent_with_an_upgrade_offer(server: str) -> None:
    for data, conforms in ((NOTICE, True), (DANGLING, False)):
        head, body = offering("POST", "/validate", data.encode(), headers=TURTLE_BODY)
        status, _, content = exchange(server, head + body)
        assert status == 200, content
        assert json.loads(content)["conforms"] is conforms


def test_writes_sent_with_an_upgrade_offer_are_written_whole(server: str) -> None:
    contributed = f"<{ID}instrument/test-notice-2009> a <{CP}Notice> ."
    head, body = offering(
        "POST",
        "/contributions?comment=with+an+offer",
        NOTICE.encode(),
        headers=f"{TURTLE_BODY}Authorization: Bearer {CONTRIBUTOR_TOKEN}\r\n",
    )
    status, _, content = exchange(server, head + body)
    assert status == 201, content
    assert asks(server, f"ASK {{ {contributed} }}")
    graph = "http://example.org/offered"
    label = f'<{ID}org/sepa> <http://www.w3.org/2000/01/rdf-schema#label> "Offered"@en .'
    head, body = offering(
        "PUT",
        "/store?graph=" + quote(graph, safe=""),
        label.encode(),
        headers=f"Content-Type: application/n-triples\r\nAuthorization: Bearer {TOKEN}\r\n",
    )
    status, _, content = exchange(server, head + body)
    assert status == 201, content
    assert asks(server, f"ASK {{ GRAPH <{graph}> {{ {label} }} }}")
    comment = f"<{ID}org/sepa> <http://www.w3.org/2000/01/rdf-schema#comment> 'Offered'"
    update = f"INSERT DATA {{ GRAPH <{graph}> {{ {comment} }} }}"
    head, body = offering(
        "POST",
        "/sparql",
        update.encode(),
        headers=f"Content-Type: application/sparql-update\r\nAuthorization: Bearer {TOKEN}\r\n",
    )
    assert exchange(server, head + body)[0] == 204
    assert asks(server, f"ASK {{ GRAPH <{graph}> {{ {comment} }} }}")


def test_requests_with_offers_pipelined_on_one_connection_are_answered_in_order(
    server: str,
) -> None:
    direct = offering("POST", "/sparql", SUB_ORGANISATION.encode(), headers=DIRECT)
    by_form = offering("POST", "/sparql", form(query=ACRONYMS), headers=QUERY_FORM)
    by_get = offering("GET", "/sparql?query=" + quote(SUB_ORGANISATION), headers=DIRECT)
    plain = (
        f"GET /sparql?query={quote(ACRONYMS)} HTTP/1.1\r\nHost: x\r\nAccept: {RESULTS_JSON}\r\n\r\n"
    )
    connection = _Connection(server)
    try:
        connection.socket.sendall(b"".join((*direct, *by_form, *by_get, plain.encode())))
        answers = [connection.answer(method) for method in ("POST", "POST", "GET", "GET")]
    finally:
        connection.close()
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    assert json.loads(answers[0][2])["boolean"] is True
    assert acronyms(json.loads(answers[1][2])) == {"SEPA", "CNCPC"}
    assert json.loads(answers[2][2])["boolean"] is True
    assert acronyms(json.loads(answers[3][2])) == {"SEPA", "CNCPC"}


def test_many_offers_in_one_packet_are_each_answered(server: str) -> None:
    one = b"".join(offering("GET", "/sparql?query=" + quote(SUB_ORGANISATION), headers=DIRECT))
    count = 300
    connection = _Connection(server)
    try:
        connection.socket.sendall(one * count)
        answers = [connection.answer("GET") for _ in range(count)]
    finally:
        connection.close()
    assert all(status == 200 and json.loads(body)["boolean"] for status, _, body in answers)


def test_a_websocket_offer_is_answered_as_plain_http(server: str) -> None:
    request = (
        f"GET /sparql?query={quote(SUB_ORGANISATION)} HTTP/1.1\r\nHost: x\r\n"
        "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAccept: {RESULTS_JSON}\r\n\r\n"
    )
    status, _, content = exchange(server, request.encode(), method="GET")
    assert (status, json.loads(content)["boolean"]) == (200, True)


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n",
        b"".join(
            offering("POST", "/sparql", b"query=ASK", headers=QUERY_FORM, chunked=True)
        ).replace(b"\r\n0\r\n\r\n", b"\r\nzz\r\n\r\n"),
    ],
    ids=["connect", "broken-chunks"],
)
def test_an_offer_that_is_not_http_is_a_400_problem_and_the_server_goes_on(
    server: str, request_bytes: bytes
) -> None:
    status, content_type, content = exchange(server, request_bytes)
    assert status == 400
    assert content_type == "application/problem+json"
    assert json.loads(content)["status"] == 400
    assert asks(server, SUB_ORGANISATION)


def test_a_client_that_leaves_in_the_middle_of_an_offered_body_leaves_the_server_well(
    server: str,
) -> None:
    head, body = offering("POST", "/sparql", form(query=ACRONYMS), headers=QUERY_FORM)
    connection = _Connection(server)
    connection.socket.sendall(head + body[:5])
    connection.close()
    assert asks(server, SUB_ORGANISATION)


def test_the_head_read_again_keeps_all_but_the_offer() -> None:
    headers = [
        (b"host", b"x"),
        (b"connection", b"close, Upgrade, HTTP2-Settings"),
        (b"upgrade", b"h2c"),
        (b"http2-settings", b"AAMAAABkAAQCAAAAAAIAAAAA"),
        (b"content-length", b"6"),
    ]
    head = head_without_offer(b"POST", b"/sparql?a=1", "1.1", headers)
    assert head == (
        b"POST /sparql?a=1 HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 6\r\n\r\n"
    )
    offer_only = [(b"connection", b"Upgrade"), (b"upgrade", b"websocket")]
    assert head_without_offer(b"GET", b"/", "1.0", offer_only) == b"GET / HTTP/1.0\r\n\r\n"


def test_an_httptools_that_reads_offers_otherwise_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert protocol_check.fast_path_problem() is None
    # A parser that read the body of an offer would not stop where the protocol reads again.
    plain = protocol_check.UPGRADE_OFFER.replace(b"Upgrade: h2c\r\n", b"")
    monkeypatch.setattr(protocol_check, "UPGRADE_OFFER", plain)
    problem = protocol_check.fast_path_problem()
    assert problem is not None
    assert "offering an upgrade" in problem


# -- curl --http2 -------------------------------------------------------------------------------


def test_curl_offering_http2_gets_its_answer(server: str) -> None:
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    features = subprocess.run([curl, "--version"], capture_output=True, text=True, check=True)
    if "HTTP2" not in features.stdout:
        pytest.skip("this curl has no HTTP/2 (it would not offer h2c)")
    command = [curl, "-sS", "--http2", "-H", f"Accept: {RESULTS_JSON}", server + "/sparql"]
    by_form = subprocess.run(
        [*command, "--data-urlencode", f"query={ACRONYMS}"], capture_output=True, timeout=60
    )
    assert acronyms(json.loads(by_form.stdout)) == {"SEPA", "CNCPC"}, by_form.stderr
    direct = subprocess.run(
        [
            *command,
            "-H",
            "Content-Type: application/sparql-query",
            "--data-binary",
            SUB_ORGANISATION,
        ],
        capture_output=True,
        timeout=60,
    )
    assert json.loads(direct.stdout)["boolean"] is True, direct.stderr


# -- Apache Jena (Debian's), on a Java runtime -------------------------------------------------

JAVA_LIBRARIES = Path("/usr/share/java")
JENA_PACKAGE = "libapache-jena-java"
# A jar by its plain name (the versioned names are the same jars), not a logging binding.
UNVERSIONED_JAR = re.compile(r"(?!.*(?:slf4j|log4j))(?!.*-\d[^/]*\.jar$).*\.jar")
# A query longer than Jena sends by GET (2,048 characters): it POSTs it.
LONG_QUERY = (
    f"SELECT ?acronym WHERE {{ VALUES ?org {{ <{ID}org/sepa> <{ID}org/cncpc> "
    + " ".join(f"<{ID}org/not-in-the-graph-{n}>" for n in range(80))
    + f" }} ?org <{CP}acronym> ?acronym }}"
)
# What Jena's own HTTP client does beyond rsparql: a query as a form, a CONSTRUCT, and a
# contribution sent to /validate with the same Java HttpClient (a Java program of one file).
JENA_CLIENT = Path(__file__).resolve().parents[1] / "fixtures" / "JenaClient.java"


def _jena_classpath() -> list[str]:
    """Debian's Jena jars and those of the packages it depends on, without the logging
    bindings that clash (slf4j's no-op binding instead)."""
    depends = subprocess.run(
        ["dpkg-query", "-W", "-f=${Depends}", JENA_PACKAGE], capture_output=True, text=True
    )
    packages = [JENA_PACKAGE]
    packages += [part.split()[0] for part in depends.stdout.split(",") if part.strip()]
    jars: list[str] = []
    for package in packages:
        listed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True)
        jars += [
            line
            for line in listed.stdout.splitlines()
            if Path(line).parent == JAVA_LIBRARIES and UNVERSIONED_JAR.fullmatch(Path(line).name)
        ]
    return [*jars, str(JAVA_LIBRARIES / "slf4j-api.jar"), str(JAVA_LIBRARIES / "slf4j-nop.jar")]


def _xerces_messages(core: Path, folder: Path) -> Path:
    """A folder holding the messages of Jena's copy of Xerces where its classes look for them.

    Debian's Jena 4.5 moved that copy to the package ``xerces`` but left its messages under
    ``org/apache/jena/ext/xerces``: without them Jena fails as it starts
    (``ExceptionInInitializerError`` in ``XSSimpleTypeDecl.applyFacets1``)."""
    moved = "org/apache/jena/ext/xerces/"
    with zipfile.ZipFile(core) as jar:
        for name in jar.namelist():
            if name.startswith(moved) and name.endswith(".properties"):
                target = folder / "xerces" / name.removeprefix(moved)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(jar.read(name))
    return folder


@pytest.fixture(scope="module")
def java_with_jena(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The command that runs Java with Debian's Jena on its class path."""
    java = shutil.which("java")
    if java is None:
        pytest.skip("no Java runtime: `make test-deps` (as root) installs default-jre-headless")
    core = JAVA_LIBRARIES / "jena-core.jar"
    if not core.exists() or shutil.which("dpkg") is None:
        pytest.skip(f"no Debian {JENA_PACKAGE}: `make test-deps` (as root) installs it")
    classpath = [*_jena_classpath(), str(_xerces_messages(core, tmp_path_factory.mktemp("x")))]
    return [java, "-cp", ":".join(classpath)]


def run_java(command: list[str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*command, *args], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    return done


def test_jena_offers_http2_on_the_long_query_it_posts(
    java_with_jena: list[str], tmp_path: Path
) -> None:
    # The tests below go the way a user's Jena goes: a POST with the offer.
    query = tmp_path / "long.rq"
    query.write_text(LONG_QUERY)
    listener = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def take_one() -> None:
        connection, _ = listener.accept()
        with connection:
            data = b""
            while b"\r\n\r\n" not in data:
                data += connection.recv(65536)
            heads.append(data.partition(b"\r\n\r\n")[0])
            connection.sendall(b"HTTP/1.1 503 Taken\r\ncontent-length: 0\r\n\r\n")

    taker = threading.Thread(target=take_one, daemon=True)
    taker.start()
    port = listener.getsockname()[1]
    service = f"http://127.0.0.1:{port}/sparql"
    rsparql = [*java_with_jena, "arq.rsparql", "--service", service, "--query", str(query)]
    subprocess.run(rsparql, capture_output=True, timeout=180)
    taker.join(10)
    listener.close()
    assert len(LONG_QUERY) > 2048
    assert heads, "Jena sent nothing"
    lines = heads[0].decode("latin-1").lower().split("\r\n")
    assert lines[0].startswith("post /sparql")
    assert "upgrade: h2c" in lines


def test_jena_rsparql_posts_a_long_query_and_reads_the_answer(
    java_with_jena: list[str], server: str, tmp_path: Path
) -> None:
    query = tmp_path / "long.rq"
    query.write_text(LONG_QUERY)
    done = run_java(
        java_with_jena,
        *("arq.rsparql", "--service", server + "/sparql", "--query", str(query)),
        "--results=json",
    )
    assert acronyms(json.loads(done.stdout)) == {"SEPA", "CNCPC"}


def test_jena_posts_forms_and_contributions_and_reads_the_answers(
    java_with_jena: list[str], server: str, tmp_path: Path
) -> None:
    construct = f"CONSTRUCT {{ ?org <{CP}acronym> ?a }} WHERE {{ ?org <{CP}acronym> ?a }}"
    done = run_java(java_with_jena, str(JENA_CLIENT), server, ACRONYMS, construct, DANGLING)
    lines = [line.split("\t") for line in done.stdout.splitlines()]
    assert {line[1] for line in lines if line[0] == "row"} == {"SEPA", "CNCPC"}
    triples = {tuple(line[1:]) for line in lines if line[0] == "triple"}
    assert triples == {
        (f"{ID}org/sepa", f"{CP}acronym", "SEPA"),
        (f"{ID}org/cncpc", f"{CP}acronym", "CNCPC"),
    }
    [(_, status, report)] = [line for line in lines if line[0] == "validate"]
    assert status == "200"
    assert json.loads(report)["conforms"] is False
