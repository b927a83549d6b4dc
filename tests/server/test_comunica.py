"""Comunica (npm's ``@comunica/query-sparql`` 4.x, which ``make test-deps`` installs into
``tests/clients``) querying a real cpgraph server on 127.0.0.1: as a SPARQL endpoint on its
own, federated with another source, and called by ``SERVICE``. Skipped, saying why, where
Node.js or the package is missing."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import rdflib

ROOT = Path(__file__).resolve().parents[2]
COMUNICA = ROOT / "tests" / "clients" / "node_modules" / ".bin" / "comunica-sparql"
CP = "https://w3id.org/cpgraph/ontology#"
ORG = "https://w3id.org/cpgraph/id/org/"

pytestmark = pytest.mark.skipif(
    not COMUNICA.exists() or shutil.which("node") is None,
    reason="Comunica is not installed (make test-deps installs it with npm into tests/clients)",
)


def comunica(*args: str) -> str:
    """Run ``comunica-sparql ARGS`` and return what it printed."""
    done = subprocess.run(
        [str(COMUNICA), *args], capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def bindings(output: str) -> list[dict[str, str]]:
    """The rows of SPARQL JSON results, each as its variables' values."""
    rows = json.loads(output)["results"]["bindings"]
    return [{k: v["value"] for k, v in row.items()} for row in rows]


@contextlib.contextmanager
def served_turtle(text: str) -> Iterator[str]:
    """A Turtle document served on 127.0.0.1 (Comunica dereferences sources over HTTP)."""
    body = text.encode()

    class Document(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/turtle")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Document)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/notes.ttl"
    finally:
        server.shutdown()
        server.server_close()


def endpoint_rows(url: str, query: str) -> list[dict[str, str]]:
    response = httpx.get(
        url + "/sparql",
        params={"query": query},
        headers={"Accept": "application/sparql-results+json"},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return [
        {k: v["value"] for k, v in row.items()} for row in response.json()["results"]["bindings"]
    ]


def test_comunica_reads_cpgraph_as_a_sparql_endpoint(server_url: str) -> None:
    query = f"SELECT ?org ?acronym WHERE {{ ?org <{CP}acronym> ?acronym }} ORDER BY ?acronym"
    rows = bindings(
        comunica(f"sparql@{server_url}/sparql", "-t", "application/sparql-results+json", query)
    )
    assert rows == endpoint_rows(server_url, query)
    assert {"acronym": "CNCPC", "org": f"{ORG}cncpc"} in rows


def test_comunica_constructs_a_graph_from_cpgraph(server_url: str) -> None:
    query = f"CONSTRUCT {{ ?org <{CP}acronym> ?acronym }} WHERE {{ ?org <{CP}acronym> ?acronym }}"
    output = comunica(f"sparql@{server_url}/sparql", "-t", "application/n-triples", query)
    graph = rdflib.Graph().parse(data=output, format="nt")
    acronyms = {str(o) for o in graph.objects(None, rdflib.URIRef(f"{CP}acronym"))}
    assert {"CNCPC", "SEPA", "CPWG"} <= acronyms
    pairs = f"SELECT DISTINCT ?org ?acronym WHERE {{ ?org <{CP}acronym> ?acronym }}"
    assert len(graph) == len(endpoint_rows(server_url, pairs))


def test_comunica_joins_cpgraph_with_another_source(server_url: str) -> None:
    # A user's own document of notes about organisations, joined with cpgraph's acronyms.
    notes_text = (
        f'<{ORG}cncpc> <urn:x-test:note> "the national centre" .\n'
        f'<{ORG}sepa> <urn:x-test:note> "the environment agency" .\n'
    )
    query = (
        f"SELECT ?acronym ?note WHERE {{ ?org <{CP}acronym> ?acronym ; <urn:x-test:note> ?note }}"
        " ORDER BY ?acronym"
    )
    with served_turtle(notes_text) as notes:
        rows = bindings(
            comunica(
                f"sparql@{server_url}/sparql", notes, "-t", "application/sparql-results+json", query
            )
        )
    assert rows == [
        {"acronym": "CNCPC", "note": "the national centre"},
        {"acronym": "SEPA", "note": "the environment agency"},
    ]


def test_comunica_calls_cpgraph_by_service(server_url: str) -> None:
    notes_text = f'<{ORG}cncpc> <urn:x-test:note> "the national centre" .\n'
    query = (
        "SELECT ?note ?acronym WHERE { ?org <urn:x-test:note> ?note "
        f"SERVICE <{server_url}/sparql> {{ ?org <{CP}acronym> ?acronym }} }}"
    )
    with served_turtle(notes_text) as notes:
        rows = bindings(comunica(notes, "-t", "application/sparql-results+json", query))
    assert rows == [{"note": "the national centre", "acronym": "CNCPC"}]
