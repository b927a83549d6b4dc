"""GET queries answered in the server's HTTP protocol (:mod:`cpgraph.server.protocol`).

The protocol answers ``GET /sparql?query=`` itself, outside the application; these tests pin
down that a client cannot tell: the same answer and headers as the application gives, requests
pipelined on one connection answered in order, HTTP/1.0, and a client that goes away.
Everything runs against a real ``cpgraph serve`` on 127.0.0.1 over raw sockets where the HTTP
client libraries would hide the connection.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import random
import socket
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from tests.conftest import LIMITED_TOKEN, QUICK, RUNAWAY, built_mini_store, free_port
from uvicorn.protocols.http import httptools_impl

from cpgraph.config import Settings
from cpgraph.server import protocol, turns
from cpgraph.server.app import create_app
from cpgraph.server.protocol_check import fast_path_problem
from cpgraph.server.query_requests import query_params
from cpgraph.server.routes import sparql as sparql_route
from cpgraph.server.supervisor import uvicorn_config

ORIGIN = "https://example.org"


def get_line(query: str, *, version: str = "1.1", headers: str = "") -> bytes:
    """A raw GET request of ``/sparql?query=`` (or of ``/`` when ``query`` is empty)."""
    target = f"/sparql?query={quote(query)}" if query else "/"
    return (
        f"GET {target} HTTP/{version}\r\nHost: 127.0.0.1\r\n"
        f"Accept: application/sparql-results+json, application/json\r\n{headers}\r\n"
    ).encode()


def connect(url: str) -> socket.socket:
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def read_response(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response from a socket, with ``buffer`` holding what was read beyond it."""

    def fill() -> None:
        data = sock.recv(65536)
        if not data:
            raise EOFError("the server closed the connection")
        buffer.extend(data)

    while b"\r\n\r\n" not in buffer:
        fill()
    head, _, _ = bytes(buffer).partition(b"\r\n\r\n")
    del buffer[: len(head) + 4]
    status_line, *lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        while len(buffer) < length:
            fill()
        body = bytes(buffer[:length])
        del buffer[:length]
        return status, headers, body
    assert headers.get("transfer-encoding") == "chunked"
    body = bytearray()
    while True:
        while b"\r\n" not in buffer:
            fill()
        size_line, _, _ = bytes(buffer).partition(b"\r\n")
        del buffer[: len(size_line) + 2]
        size = int(size_line.split(b";")[0], 16)
        while len(buffer) < size + 2:
            fill()
        body += buffer[:size]
        del buffer[: size + 2]
        if size == 0:
            return status, headers, bytes(body)


def assert_same_answer(by_get: httpx.Response, by_post: httpx.Response, *more: str) -> None:
    """The GET answer (written by the protocol) is the application's POST answer: status,
    results, the headers that matter (and ``more``), Vary with Origin."""
    assert by_get.status_code == by_post.status_code == 200
    assert by_get.json() == by_post.json()
    for name in (
        "content-type",
        "cpgraph-row-limit",
        "access-control-allow-origin",
        "access-control-expose-headers",
        *more,
    ):
        assert by_get.headers[name] == by_post.headers[name], name
    assert {v.strip() for v in by_get.headers["vary"].split(",")} >= {"Accept", "Origin"}


def test_a_get_query_has_the_answer_and_headers_the_application_gives(server_url: str) -> None:
    query = "SELECT ?law ?label WHERE { ?law a cp:Law ; rdfs:label ?label } ORDER BY ?law ?label"
    headers = {"Origin": ORIGIN, "Accept": "application/sparql-results+json"}
    by_get = httpx.get(server_url + "/sparql", params={"query": query}, headers=headers)
    by_post = httpx.post(server_url + "/sparql", data={"query": query}, headers=headers)
    assert_same_answer(by_get, by_post)


def test_a_get_query_error_is_the_same_problem_as_the_application_gives(server_url: str) -> None:
    by_get = httpx.get(server_url + "/sparql", params={"query": "SELECT ?x WHERE { ?x"})
    by_post = httpx.post(server_url + "/sparql", data={"query": "SELECT ?x WHERE { ?x"})
    assert by_get.status_code == by_post.status_code == 400
    assert by_get.headers["content-type"] == by_post.headers["content-type"]
    assert by_get.json() == by_post.json()


def plain_and_zipped(url: str, query: str) -> tuple[httpx.Response, httpx.Response]:
    """A GET query's answer asked for without compression, then with gzip."""
    return tuple(  # type: ignore[return-value]
        httpx.get(url + "/sparql", params={"query": query}, headers={"Accept-Encoding": coding})
        for coding in ("identity", "gzip")
    )


def test_a_large_get_answer_is_gzipped_and_streams_whole(server_url: str) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 3000"
    plain, zipped = plain_and_zipped(server_url, query)
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert plain.json() == zipped.json()
    assert len(plain.json()["results"]["bindings"]) == 3000


def test_pipelined_requests_are_answered_in_the_order_they_were_sent(limited: str) -> None:
    # A query stopped at its 2 s limit, then the home page, then a quick query: were the
    # answers sent as each was ready, the home page would come first.
    with connect(limited) as sock:
        sock.sendall(get_line(RUNAWAY) + get_line("") + get_line(QUICK))
        buffer = bytearray()
        started = time.monotonic()
        first = read_response(sock, buffer)
        waited = time.monotonic() - started
        second = read_response(sock, buffer)
        third = read_response(sock, buffer)
    assert first[0] == 503
    assert "stopped after 2 s" in json.loads(first[2])["detail"]
    assert waited >= 1.5
    assert second[0] == 200
    assert json.loads(second[2])["name"] == "cpgraph"
    assert third[0] == 200
    assert [b["acronym"]["value"] for b in json.loads(third[2])["results"]["bindings"]]


def test_a_get_query_over_http_1_0_is_answered_and_the_connection_closed(limited: str) -> None:
    with connect(limited) as sock:
        sock.sendall(get_line(QUICK, version="1.0"))
        buffer = bytearray()
        status, headers, body = read_response(sock, buffer)
        assert status == 200
        assert headers.get("connection") == "close"
        assert json.loads(body)["results"]["bindings"]
        sock.settimeout(10)
        assert sock.recv(1) == b""  # closed by the server


def test_keep_alive_connections_take_one_get_query_after_another(limited: str) -> None:
    with connect(limited) as sock:
        buffer = bytearray()
        answers = []
        for _ in range(5):
            sock.sendall(get_line(QUICK))
            status, _, body = read_response(sock, buffer)
            assert status == 200
            answers.append(json.loads(body))
    assert all(answer == answers[0] for answer in answers)


def test_a_client_that_goes_away_frees_its_query_slots_at_once(limited: str) -> None:
    # The limit is two queries at a time per client. Two runaway queries are sent and their
    # connections closed before either has an answer; the next query is not refused, though
    # neither has reached its time limit. (It may wait for a thread: the two runaways hold
    # theirs until the limit, so its answer may be the time-limit 503, never the 429.)
    sockets = [connect(limited) for _ in range(2)]
    sent = time.monotonic()
    for sock in sockets:
        sock.sendall(get_line(RUNAWAY))
    time.sleep(0.5)  # both are running
    third = httpx.get(limited + "/sparql", params={"query": QUICK}, timeout=30)
    assert third.status_code == 429  # while they run, the client is at its limit
    for sock in sockets:
        sock.close()
    time.sleep(0.3)
    assert time.monotonic() - sent < 1.8  # before either query's time limit
    after = httpx.get(limited + "/sparql", params={"query": QUICK}, timeout=30)
    assert after.status_code in (200, 503)
    if after.status_code == 503:
        assert "stopped after 2 s" in after.json()["detail"]


def test_a_single_pattern_too_big_to_answer_at_once_comes_whole_from_the_pool(
    server_url: str,
) -> None:
    # One pattern over everything is answered on the event loop only while its answer stays
    # small; this one outgrows that and is answered by a pool thread, in full, like a query
    # that is not one scan (the FILTER makes it a different plan with the same solutions).
    scan = httpx.get(server_url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    planned = httpx.get(
        server_url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o FILTER(true) }"}
    )
    assert scan.status_code == planned.status_code == 200
    assert len(scan.content) > 64 * 1024

    def solutions(response: httpx.Response) -> set[tuple[str, ...]]:
        return {
            tuple(row[name]["value"] for name in ("s", "p", "o"))
            for row in response.json()["results"]["bindings"]
        }

    assert solutions(scan) == solutions(planned)
    assert scan.headers.get("cpgraph-truncated") == planned.headers.get("cpgraph-truncated")


def test_a_lookup_answered_at_once_is_gzipped_when_asked_and_big_enough(server_url: str) -> None:
    query = "SELECT ?s ?label WHERE { ?s rdfs:label ?label } LIMIT 40"
    plain, zipped = plain_and_zipped(server_url, query)
    assert len(plain.content) > 1024
    assert "content-encoding" not in plain.headers
    assert zipped.headers["content-encoding"] == "gzip"
    assert plain.json() == zipped.json()
    assert len(plain.json()["results"]["bindings"]) == 40


def test_relative_iris_in_a_get_query_resolve_against_the_endpoint(server_url: str) -> None:
    lookup = httpx.get(
        server_url + "/sparql", params={"query": "SELECT ?p WHERE { <missing> ?p ?o }"}
    )
    bound = httpx.get(
        server_url + "/sparql", params={"query": "SELECT ?x WHERE { BIND(<here> AS ?x) }"}
    )
    assert lookup.status_code == 200
    assert lookup.json()["results"]["bindings"] == []
    [row] = bound.json()["results"]["bindings"]
    assert row["x"]["value"] == server_url + "/here"


def lookups(server_url: str) -> list[str]:
    """Point lookups of a few resources of the shipped graph (answered on the event loop)."""
    found = httpx.post(
        server_url + "/sparql",
        data={"query": "SELECT DISTINCT ?org WHERE { ?org cp:acronym ?a } ORDER BY ?org LIMIT 6"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"]
    assert len(found) == 6
    return [f"SELECT ?p ?o WHERE {{ <{row['org']['value']}> ?p ?o }}" for row in found]


def test_lookups_arriving_together_each_get_their_own_answer(server_url: str) -> None:
    # Lookups read in one turn of the event loop are evaluated together and answered after;
    # each connection must still get the answer to its own query.
    queries = lookups(server_url)
    expected = [
        httpx.post(
            server_url + "/sparql",
            data={"query": q},
            headers={"Accept": "application/sparql-results+json"},
        )
        for q in queries
    ]
    sockets = [connect(server_url) for _ in queries]
    try:
        for sock, query in zip(sockets, queries, strict=True):
            sock.sendall(get_line(query, headers="Accept-Encoding: identity\r\n"))
        answers = [read_response(sock, bytearray()) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
    for (status, _, body), wanted in zip(answers, expected, strict=True):
        assert status == 200
        assert wanted.status_code == 200
        assert json.loads(body) == wanted.json()


def test_clients_that_leave_before_their_answer_keep_their_count_of_queries_exact(
    limited: str,
) -> None:
    # Lookups (answered on the event loop, holding no place) and planned queries (holding a
    # place while they run) whose connections close at once. Afterwards the client has
    # exactly its limit of two places: two runaway queries run, a third is refused.
    lookup = "SELECT ?p ?o WHERE { <https://w3id.org/cpgraph/id/org/cncpc> ?p ?o }"
    for query in [lookup, QUICK] * 10:
        with connect(limited) as sock:
            sock.sendall(get_line(query))
    time.sleep(0.5)
    sockets = [connect(limited) for _ in range(2)]
    try:
        for sock in sockets:
            sock.sendall(get_line(RUNAWAY))
        time.sleep(0.5)  # both are running
        third = httpx.get(limited + "/sparql", params={"query": QUICK}, timeout=30)
        assert third.status_code == 429
        for sock in sockets:
            status, _, _ = read_response(sock, bytearray())
            assert status == 503  # stopped at the 2 s limit, not refused
    finally:
        for sock in sockets:
            sock.close()


@pytest.mark.parametrize(
    "query_string",
    [
        "query=SELECT%20%3Fs%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D",
        "query=a+b&format=json&query=second",
        "default-graph-uri=&named-graph-uri=http%3A%2F%2Fe%2Fg&flag",
        "&&query=%E4%B8%AD%E6%96%87&",
        "q%75ery=x%2By&bad=%zz%4&=empty-name",
        "query=caf\xe9",  # a raw byte beyond ASCII, as latin-1 text
    ],
)
def test_query_parameters_are_read_as_the_application_reads_them(query_string: str) -> None:
    expected: dict[str, list[str]] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        expected.setdefault(name, []).append(value)
    assert query_params(query_string) == expected


class _Recorded:
    """Stands in for a GET query of :class:`cpgraph.server.turns.Turn`: records when it is
    evaluated (which takes 4 ms) and answered."""

    def __init__(self, number: int, events: list[tuple[str, int]], *, gone: bool = False) -> None:
        self.number = number
        self.events = events
        self.gone = gone

    def evaluate(self, request: object) -> None:
        time.sleep(0.004)
        self.events.append(("evaluate", self.number))

    def respond(self, request: object, outcome: object, *context: object) -> None:
        self.events.append(("respond", self.number))


def test_a_turn_evaluates_for_a_bounded_time_and_leaves_the_rest_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(turns, "TURN_SECONDS", 0.005)
    events: list[tuple[str, int]] = []
    queries = [_Recorded(n, events, gone=n == 3) for n in range(7)]

    async def arrive_together() -> None:
        turn = turns.Turn()
        for query in queries:
            turn.add(query, None)  # type: ignore[arg-type]
        while sum(kind == "respond" for kind, _ in events) < 6:
            await asyncio.sleep(0.001)

    asyncio.run(asyncio.wait_for(arrive_together(), timeout=10))
    answered = [0, 1, 2, 4, 5, 6]  # the one whose connection went is skipped
    assert [n for kind, n in events if kind == "evaluate"] == answered
    assert [n for kind, n in events if kind == "respond"] == answered
    # Two evaluations pass the 5 ms a turn may take: the answers so far go out first.
    evaluated_in_a_row = []
    count = 0
    for kind, _ in events:
        if kind == "evaluate":
            count += 1
        elif count:
            evaluated_in_a_row.append(count)
            count = 0
    assert max(evaluated_in_a_row) <= 2
    assert len(evaluated_in_a_row) >= 3


def test_percent_escapes_are_decoded_as_urllib_decodes_them() -> None:
    # Texts made of escapes valid and not (a lone %, a non-hex digit), UTF-8 sequences whole
    # and cut, backslashes, pluses and raw characters beyond ASCII.
    pieces = ["a", "%", "\\", "x", "0", "4", "F", "%C3%A9", "%E4%B8%AD", "%E4", "%zz", "%5C", "é"]
    rng = random.Random(4)
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        expected: dict[str, list[str]] = {}
        for name, value in parse_qsl(f"q={text}", keep_blank_values=True):
            expected.setdefault(name, []).append(value)
        assert query_params(f"q={text}") == expected, text


def test_a_streamed_get_answer_has_the_headers_the_application_gives(server_url: str) -> None:
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 3000"
    headers = {"Origin": ORIGIN, "Accept-Encoding": "identity"}
    by_get = httpx.get(server_url + "/sparql", params={"query": query}, headers=headers)
    by_post = httpx.post(server_url + "/sparql", data={"query": query}, headers=headers)
    assert by_get.headers["transfer-encoding"] == "chunked"  # it streamed
    assert_same_answer(by_get, by_post, "transfer-encoding")


def test_a_client_that_reads_a_streamed_answer_slowly_gets_all_of_it(server_url: str) -> None:
    # The client stops reading after sending, long enough for the socket buffers (~10 MB on
    # loopback) to fill and the query thread to wait for the client; then it reads the rest.
    # Were the thread not let go on when the client reads again, the answer would stop at the
    # time limit.
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 60000"
    sock = connect(server_url)
    with sock:
        sock.sendall(get_line(query))
        time.sleep(1.5)
        status, headers, body = read_response(sock, bytearray())
    assert status == 200
    assert headers["transfer-encoding"] == "chunked"
    assert len(body) > 20_000_000  # more than the socket buffers hold
    assert len(json.loads(body)["results"]["bindings"]) == 60000


def test_a_streamed_answer_past_its_time_limit_is_cut_short_and_others_are_answered(
    limited: str,
) -> None:
    # A client that stops reading holds its query's thread until the time limit (2 s here),
    # then its answer ends without the last chunk and the connection is closed.
    query = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } LIMIT 500000"
    sock = connect(limited)
    with sock:
        sock.sendall(
            get_line(query, headers=f"Authorization: Bearer {LIMITED_TOKEN}\r\n")
        )  # no row limit
        time.sleep(0.5)
        other = httpx.get(limited + "/sparql", params={"query": QUICK}, timeout=30)
        assert other.status_code == 200
        time.sleep(2.5)  # past the limit
        received = bytearray()
        while data := sock.recv(1 << 20):
            received += data
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"transfer-encoding: chunked" in head.lower()
    assert len(body) > 64 * 1024  # chunks were sent before the limit
    assert not body.endswith(b"\r\n0\r\n\r\n")  # the last chunk never came


# -- the uvicorn internals the protocol leans on ----------------------------------------------


def test_the_uvicorn_installed_has_the_internals_the_protocol_uses(shipped: Settings) -> None:
    assert fast_path_problem() is None
    config = uvicorn_config(create_app(shipped), shipped)
    assert isinstance(config.http, type)
    assert issubclass(config.http, protocol.SparqlHttpProtocol)


def test_without_the_internals_it_expects_a_server_answers_get_queries_through_asgi(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A uvicorn whose private method takes a parameter of another name: uvicorn itself still
    # works, the protocol's check refuses it.
    original = httptools_impl.HttpToolsProtocol._start_asgi_task

    def start(self: httptools_impl.HttpToolsProtocol, cycle: Any, application: Any) -> None:
        original(self, cycle, application)

    monkeypatch.setattr(httptools_impl.HttpToolsProtocol, "_start_asgi_task", start)
    answered = []
    route_answer = sparql_route._answer

    async def counted(*args: Any) -> Any:
        answered.append(args)
        return await route_answer(*args)

    monkeypatch.setattr(sparql_route, "_answer", counted)
    settings = built_mini_store(tmp_path_factory)
    port = free_port()
    with caplog.at_level(logging.WARNING, logger="cpgraph.serve"):
        config = uvicorn_config(create_app(settings), settings, host="127.0.0.1", port=port)
    reasons = [r.getMessage() for r in caplog.records if r.name == "cpgraph.serve"]
    assert len(reasons) == 1
    assert "without the fast path" in reasons[0]
    assert "_start_asgi_task" in reasons[0]
    assert config.http == "h11"  # httptools would skip the body of an upgrade offer
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not server.started:
            assert thread.is_alive(), "the server ended as it started"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/sparql"
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        headers = {"Origin": ORIGIN, "Accept": "application/sparql-results+json"}
        by_get = httpx.get(url, params={"query": query}, headers=headers, timeout=30)
        assert len(answered) == 1  # through the application's route
        by_post = httpx.post(url, data={"query": query}, headers=headers, timeout=30)
        offered = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        offered.request(
            "POST",
            "/sparql",
            body=urlencode({"query": query}),
            headers={  # as Java's HttpClient (Jena) offers HTTP/2
                **headers,
                "Content-Type": "application/x-www-form-urlencoded",
                "Connection": "Upgrade, HTTP2-Settings",
                "Upgrade": "h2c",
                "HTTP2-Settings": "AAEAAEAAAAIAAAABAAMAAABkAAQBAAAAAAUAAEAA",
            },
        )
        by_offer = offered.getresponse()
        offer_status, offer_body = by_offer.status, by_offer.read()
        offered.close()
    finally:
        server.should_exit = True
        thread.join(30)
    assert by_get.status_code == 200
    count = int(by_get.json()["results"]["bindings"][0]["n"]["value"])
    assert count > 0
    assert by_get.json() == by_post.json()
    assert offer_status == 200
    assert json.loads(offer_body) == by_get.json()
    assert by_get.headers["access-control-allow-origin"] == "*"
    assert {v.strip() for v in by_get.headers["vary"].split(",")} >= {"Accept", "Origin"}
    assert by_get.headers["x-content-type-options"] == "nosniff"
