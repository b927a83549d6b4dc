"""No outbound access unless the operator allows it: SERVICE and LOAD against
``CPGRAPH_SERVICE_ALLOW``, remote failures as 502 problems, and push's warning about
credentials over plain http.

All traffic stays on 127.0.0.1: a small SPARQL endpoint started here (it records every
request it gets) and a real ``cpgraph serve``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import built_mini_store, running_server

from cpgraph.config import load_settings
from cpgraph.errors import InputError, OutboundRefusedError
from cpgraph.publish.push import push
from cpgraph.publish.remote import Target, plain_http_hosts
from cpgraph.sparql.calls import outbound_calls
from cpgraph.sparql.outbound import check_endpoint, check_query, check_update, parse_endpoint
from cpgraph.store.http import make_auth
from cpgraph.store.oxigraph import GraphStore

TOKEN = "an-outbound-test-token"
SECRET = "SECRET-REMOTE-BODY"
ROWS = {
    "head": {"vars": ["x"]},
    "results": {"bindings": [{"x": {"type": "literal", "value": "from the remote endpoint"}}]},
}


class _Endpoint(BaseHTTPRequestHandler):
    """A SPARQL endpoint of one row at ``/sparql``; ``/fail`` answers 500 with a body that
    must never reach a client of cpgraph. Every request's path is recorded."""

    paths: list[str]

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        self.paths.append(self.path)
        if self.path.startswith("/sparql"):
            body = json.dumps(ROWS).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
        else:
            body = f"{SECRET}: internal details".encode()
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[str, list[str]]]:
    """The loopback endpoint's base URL and the list of paths it was asked for."""
    paths: list[str] = []
    handler = type("Handler", (_Endpoint,), {"paths": paths})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, remote: tuple[str, list[str]]
) -> Iterator[str]:
    """A real cpgraph server that allows exactly ``/sparql`` and ``/fail`` of the loopback
    endpoint, with a saved query that calls another port of it."""
    settings = built_mini_store(tmp_path_factory)
    base, _ = remote
    queries = settings.source_dir / "queries"
    queries.mkdir()
    (queries / "elsewhere.rq").write_text(
        "#+ summary: A query that calls an endpoint the operator has not allowed\n"
        f"SELECT * WHERE {{ SERVICE <{base}/elsewhere> {{ ?s ?p ?o }} }}\n",
        encoding="utf-8",
    )
    with running_server(
        settings,
        CPGRAPH_SERVICE_ALLOW=f"{base}/sparql, {base}/fail",
        CPGRAPH_TOKEN=TOKEN,
    ) as url:
        yield url


def _problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    return body


def _still_whole(url: str) -> None:
    response = httpx.get(url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, timeout=5)
    assert response.status_code == 200


# ---------------------------------------------------------------------------------------------
# Through a real server
# ---------------------------------------------------------------------------------------------


def test_a_service_not_allowed_is_refused_with_a_problem_naming_the_setting(
    served: str, remote: tuple[str, list[str]]
) -> None:
    base, paths = remote
    query = f"SELECT * WHERE {{ SERVICE <{base}/x> {{ ?s ?p ?o }} }}"
    answers = [
        httpx.get(served + "/sparql", params={"query": query}),
        httpx.post(served + "/sparql", data={"query": query}),
        httpx.post(
            served + "/sparql",
            content=query,
            headers={"Content-Type": "application/sparql-query"},
        ),
    ]
    for response in answers:
        problem = _problem(response, 400)
        assert str(problem["type"]).endswith("/outbound-refused")
        assert problem["setting"] == "CPGRAPH_SERVICE_ALLOW"
        assert "CPGRAPH_SERVICE_ALLOW" in str(problem["detail"])
    assert "/x" not in paths
    _still_whole(served)


def test_an_allowed_service_answers_the_remote_rows(
    served: str, remote: tuple[str, list[str]]
) -> None:
    base, paths = remote
    query = f"SELECT ?x WHERE {{ SERVICE <{base}/sparql> {{ ?x ?p ?o }} }}"
    response = httpx.get(
        served + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    rows = response.json()["results"]["bindings"]
    assert [row["x"]["value"] for row in rows] == ["from the remote endpoint"]
    assert "/sparql" in paths


def test_an_allowed_endpoint_that_fails_is_a_502_without_its_body(
    served: str, remote: tuple[str, list[str]]
) -> None:
    base, paths = remote
    query = f"SELECT * WHERE {{ SERVICE <{base}/fail> {{ ?s ?p ?o }} }}"
    response = httpx.get(served + "/sparql", params={"query": query}, timeout=10)
    problem = _problem(response, 502)
    assert str(problem["type"]).endswith("/remote-endpoint")
    assert SECRET not in response.text
    assert "/fail" in paths
    _still_whole(served)


def test_loopback_is_refused_under_another_name_or_port(
    served: str, remote: tuple[str, list[str]]
) -> None:
    base, paths = remote
    port = base.rsplit(":", 1)[1]
    before = list(paths)
    for endpoint in (
        f"http://localhost:{port}/sparql",
        f"http://127.1:{port}/sparql",
        f"http://[::1]:{port}/sparql",
        f"http://127.0.0.1:{port}/sparql/../fail",
        f"{base}/sparql2",
    ):
        query = f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"
        response = httpx.get(served + "/sparql", params={"query": query})
        _problem(response, 400)
    assert paths == before


def test_a_variable_or_silent_service_is_refused_unless_allowed(
    served: str, remote: tuple[str, list[str]]
) -> None:
    base, _ = remote
    refused = [
        f"SELECT * WHERE {{ VALUES ?e {{ <{base}/sparql> }} SERVICE ?e {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{base}/x> {{ ?s ?p ?o }} }}",
    ]
    for query in refused:
        _problem(httpx.get(served + "/sparql", params={"query": query}), 400)
    query = f"SELECT ?x WHERE {{ SERVICE SILENT <{base}/sparql> {{ ?x ?p ?o }} }}"
    assert httpx.get(served + "/sparql", params={"query": query}, timeout=10).status_code == 200


def test_a_saved_query_is_held_to_the_same_list(served: str, remote: tuple[str, list[str]]) -> None:
    _, paths = remote
    response = httpx.get(served + "/queries/elsewhere", headers={"Accept": "application/json"})
    problem = _problem(response, 400)
    assert problem["setting"] == "CPGRAPH_SERVICE_ALLOW"
    assert "/elsewhere" not in paths


def test_load_and_an_update_calling_a_service_are_refused_unless_allowed(
    served: str, remote: tuple[str, list[str]]
) -> None:
    base, paths = remote
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"}
    for update in (
        f"LOAD <{base}/data.ttl>",
        f"LOAD SILENT <http://localhost:{base.rsplit(':', 1)[1]}/sparql> INTO GRAPH <urn:g>",
        f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{base}/x> {{ ?s ?p ?o }} }}",
    ):
        response = httpx.post(served + "/sparql", content=update, headers=auth)
        assert _problem(response, 400)["setting"] == "CPGRAPH_SERVICE_ALLOW"
    assert "/data.ttl" not in paths
    assert "/x" not in paths
    # An allowed LOAD that fails is a 502 that does not repeat what the endpoint said.
    response = httpx.post(served + "/sparql", content=f"LOAD <{base}/fail>", headers=auth)
    assert str(_problem(response, 502)["type"]).endswith("/remote-endpoint")
    assert SECRET not in response.text
    _still_whole(served)


# ---------------------------------------------------------------------------------------------
# The lexer and the rules, in process
# ---------------------------------------------------------------------------------------------


def test_service_in_a_string_comment_iri_or_name_is_no_call() -> None:
    for text in (
        "SELECT * { ?s ?p 'SERVICE <http://127.0.0.1:1/> { }' }",
        'SELECT * { ?s ?p """SERVICE <http://127.0.0.1:1/> { }""" }',
        "SELECT * { ?s ?p ?o } # SERVICE <http://127.0.0.1:1/> { }",
        "SELECT * { ?s <http://e/SERVICE> ?o }",
        "SELECT ?service { ?service ?p $service }",
        "PREFIX ex: <http://e/> SELECT * { ?s ex:service ex:SERVICE }",
        "PREFIX service: <http://e/> SELECT * { service:x ?p ?o }",
    ):
        assert outbound_calls(text, "SERVICE") == [], text
        check_query(text, ())


def test_service_in_any_case_and_without_spaces_is_a_call() -> None:
    for text in (
        "SELECT * { service <http://127.0.0.1:1/> { } }",
        "SELECT * { SeRvIcE\t<http://127.0.0.1:1/>{} }",
        "SELECT * { ?s ?p 'a'SERVICE <http://127.0.0.1:1/> { } }",
        "SELECT * { ?s ?p 1SERVICE <http://127.0.0.1:1/> { } }",
        "SELECT * { ?s ?p ?o.SERVICE <http://127.0.0.1:1/> { } }",
        "SELECT * { ?s ?p ?o # comment\rSERVICE <http://127.0.0.1:1/> { } }",
        "SELECT * { SERVICE#comment\n<http://127.0.0.1:1/> { } }",
        r"SELECT * { SERVICE <http://127.0.0.\u0031:1/> { } }",
        "PREFIX : <http://127.0.0.1:1/> SELECT * { service:x { } }",
        "BASE <http://127.0.0.1:1/> SELECT * { SERVICE <x> { } }",
    ):
        with pytest.raises(OutboundRefusedError):
            check_query(text, ())


def test_an_endpoint_is_resolved_as_the_engine_resolves_it() -> None:
    allow = ("http://127.0.0.1:1/sparql",)
    check_query("SELECT * { SERVICE <http://127.0.0.1:1/sparql> { } }", allow)
    check_query("PREFIX e: <http://127.0.0.1:1/> SELECT * { SERVICE e:sparql { } }", allow)
    check_query(r"SELECT * { SERVICE <http://127.0.0.1:1/spar\u0071l> { } }", allow)
    check_query("SELECT * { SERVICE <sparql> { } }", allow, base_iri="http://127.0.0.1:1/x")
    with pytest.raises(OutboundRefusedError):  # relative to the endpoint's own URL
        check_query("SELECT * { SERVICE <sparql> { } }", allow, base_iri="http://127.0.0.1:8/")
    with pytest.raises(OutboundRefusedError):  # a prefix it cannot resolve
        check_query("SELECT * { SERVICE nowhere:sparql { } }", allow)
    with pytest.raises(OutboundRefusedError):  # the second of two readings is not allowed
        check_query(
            "PREFIX e: <http://127.0.0.1:1/> PREFIX e: <http://127.0.0.1:2/> "
            "SELECT * { SERVICE e:sparql { } }",
            allow,
        )


def test_private_ranges_need_an_exact_entry_even_under_a_prefix() -> None:
    check_endpoint("http://10.0.0.5:7878/query", ("http://10.0.0.5:7878/query",))
    for iri, allow in (
        ("http://10.0.0.5:7878/query", ("http://10.0.0.5:7878/",)),
        ("http://localhost:7878/query", ("http://localhost:7878/",)),
        ("http://169.254.169.254/latest/", ("http://169.254.169.254/",)),
        ("http://[fe80::1]/x", ("http://[fe80::1]/",)),
        ("http://0.0.0.0:8000/sparql", ("http://0.0.0.0:8000/",)),
    ):
        with pytest.raises(OutboundRefusedError, match="listed exactly"):
            check_endpoint(iri, allow)
    with pytest.raises(OutboundRefusedError, match="empty"):
        check_endpoint("http://10.0.0.5/", ())
    assert parse_endpoint("http://user:pw@example.org/") is None
    assert parse_endpoint("ftp://example.org/") is None


def test_an_update_is_checked_for_load_as_well_as_service() -> None:
    with pytest.raises(OutboundRefusedError):
        check_update("LOAD <http://127.0.0.1:1/data.ttl>", ())
    with pytest.raises(OutboundRefusedError):
        check_update("PREFIX e: <http://127.0.0.1:1/> LOAD SILENT e:d INTO GRAPH <urn:g>", ())
    check_update("INSERT DATA { <urn:a> <urn:load> 'LOAD <http://127.0.0.1:1/>' }", ())
    check_update("LOAD <http://127.0.0.1:1/data.ttl>", ("http://127.0.0.1:1/data.ttl",))


def test_the_allow_list_is_read_from_the_environment() -> None:
    settings = load_settings(
        {"CPGRAPH_SERVICE_ALLOW": " https://query.wikidata.org/sparql,http://10.0.0.5/q "}
    )
    assert settings.service_allow == ("https://query.wikidata.org/sparql", "http://10.0.0.5/q")
    assert load_settings({}).service_allow == ()
    for wrong in ("query.wikidata.org/sparql", "ftp://example.org/", "http://u@example.org/"):
        with pytest.raises(InputError, match="CPGRAPH_SERVICE_ALLOW"):
            load_settings({"CPGRAPH_SERVICE_ALLOW": wrong})


# ---------------------------------------------------------------------------------------------
# cpgraph push
# ---------------------------------------------------------------------------------------------


def test_push_warns_when_credentials_go_over_plain_http(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    auth = make_auth(user="dba", password="secret")
    plain = Target(
        gsp="http://203.0.113.7:8890/store", query="http://203.0.113.7:8890/q", auth=auth
    )
    assert plain_http_hosts(plain) == ["203.0.113.7"]
    assert plain_http_hosts(Target(gsp="http://203.0.113.7/store")) == []  # no credentials
    assert plain_http_hosts(Target(gsp="https://example.org/store", auth=auth)) == []
    assert plain_http_hosts(Target(gsp="http://localhost:7878/store", auth=auth)) == []
    assert plain_http_hosts(Target(gsp="http://127.0.0.1:7878/store", auth=auth)) == []
    # Through push itself: the warning comes before anything is sent (here, nothing is: the
    # graph asked for does not exist).
    with (
        caplog.at_level(logging.WARNING, logger="cpgraph.publish.remote"),
        pytest.raises(InputError),
    ):
        push(GraphStore(None), plain, build="b", graphs=["urn:none"], state_file=None)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("plain http" in w and "203.0.113.7" in w for w in warnings)


def _evaluate(store: ox.Store, text: str, is_update: bool) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        if is_update:
            store.update(text)
        else:
            result = store.query(text)
            if isinstance(result, ox.QuerySolutions):
                list(result)


def test_every_text_that_makes_the_engine_call_out_is_refused() -> None:
    """The lexer against the engine itself: pyoxigraph runs each text against a listener on
    127.0.0.1 (which hangs up at once), and every text that reaches it must have been refused
    beforehand. That each one does reach it keeps the cases honest."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    calls: list[int] = []
    arrived = threading.Event()

    def hang_up() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # the listener closed: the test is over
            connection.close()
            calls.append(1)
            arrived.set()

    threading.Thread(target=hang_up, daemon=True).start()
    endpoint = f"http://127.0.0.1:{port}/x"
    prologue = f"PREFIX : <{endpoint}> PREFIX ex: <http://127.0.0.1:{port}/> "
    shapes = [
        "SERVICE <{e}> {{ }}",
        "?s ?p 1SERVICE <{e}> {{ }}",
        "?s ?p 'a'SERVICE <{e}> {{ }}",
        "?s ?p trueSERVICE <{e}> {{ }}",
        "?s ?p ?o.SERVICE <{e}> {{ }}",
        "?s ?p ex:.SERVICE <{e}> {{ }}",
        "?s ?p []SERVICE<{e}>{{}}",
        "SERVICE#c\n<{e}>{{ }}",
        "?s ?p ?o # c\rSERVICE <{e}> {{ }}",
        "service:x {{ }}",
        "SERVICEex:x {{ }}",
        "SERVICE SILENTex:x {{ }}",
        "SERVICE <http://127.0.0.\\u0031:{port}/x> {{ }}",
        "FILTER EXISTS {{ SERVICE <{e}> {{ }} }}",
    ]
    texts = [
        prologue + "SELECT * WHERE { " + s.format(e=endpoint, port=port) + " }" for s in shapes
    ]
    updates = [
        prologue + u for u in (f"LOAD <{endpoint}>", "LOAD SILENT ex:x", f"load<{endpoint}>")
    ]
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("a")))
    try:
        for text in texts + updates:
            is_update = text in updates
            with pytest.raises(OutboundRefusedError):
                (check_update if is_update else check_query)(text, ())
            arrived.clear()
            # In a thread of its own: pyoxigraph's client has no time limit of its own, and a
            # call that hangs after reaching the listener must not hold the suite.
            threading.Thread(target=_evaluate, args=(store, text, is_update), daemon=True).start()
            assert arrived.wait(10), f"the engine did not call out: {text!r}"
    finally:
        listener.close()
