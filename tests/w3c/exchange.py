"""Send a W3C test's requests to a running cpgraph server and compare the answers.

The server under test is a real ``cpgraph serve`` over a store built from the repository's
ontology and shapes and an empty data file, with an operator's token set. Before each test
the store is emptied (``DROP ALL``) and the graphs the test names are loaded, both with the
token. A test's requests then go out in order, as the manifest writes them: the path prefix
rewritten to cpgraph's (``/sparql/`` to ``/sparql``, ``/gsp`` to ``/store``), the ``Host``
header set to the manifest's connection authority (``www.example``), and the token sent only
on the requests that write, so that every other request meets the server as anyone would.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from rdflib import Graph
from rdflib.compare import isomorphic, to_isomorphic
from tests.conftest import ROOT, running_server
from tests.w3c.manifest import ExpectedResponse, GraphData, HttpRequest, W3CTest

from cpgraph.config import Settings
from cpgraph.progress import SILENT
from cpgraph.store.build import build_store

TOKEN = "w3c-conformance-operator-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RESULTS = "{http://www.w3.org/2005/sparql-results#}"

# The result formats the protocol tests accept, by media type.
BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
# "expect one of: RDF/XML, Turtle, N-Triples, RDFa"; rdflib reads the first three (cpgraph
# never answers in RDFa, so an RDFa answer would fail here as not among them).
RDF_TYPES = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/n-triples": "nt"}
# Everything rdflib can read, for comparing Graph Store bodies.
RDF_PARSERS = {
    **RDF_TYPES,
    "application/n-quads": "nquads",
    "application/trig": "trig",
    "application/ld+json": "json-ld",
    "text/n3": "n3",
}


@contextlib.contextmanager
def w3c_server(folder: Path) -> Iterator[str]:
    """A writable ``cpgraph serve`` (token :data:`TOKEN`) over an all-but-empty store."""
    source = folder / "source"
    (source / "data").mkdir(parents=True)
    for name in ("ontology", "shapes"):
        (source / name).symlink_to(ROOT / name)
    (source / "data" / "empty.trig").write_text(
        "# Empty on purpose: each W3C test loads the graphs it names.\n", encoding="utf-8"
    )
    settings = Settings(source_dir=source, store_dir=folder / "store")
    build_store(settings, progress=SILENT)
    with running_server(settings, CPGRAPH_TOKEN=TOKEN) as url:
        yield url


def reset(client: httpx.Client, url: str, data: tuple[GraphData, ...] = ()) -> None:
    """Empty the store, then load ``data`` through the Graph Store Protocol, with the token."""
    dropped = client.post(
        url + "/sparql",
        content="DROP ALL",
        headers={**AUTH, "Content-Type": "application/sparql-update"},
    )
    assert dropped.status_code == 204, f"DROP ALL before the test: {dropped.text}"
    load(client, url, data, AUTH)


def load(client: httpx.Client, url: str, data: tuple[GraphData, ...], auth: dict[str, str]) -> None:
    """Load each graph of ``data`` through the Graph Store Protocol (``PUT``), with ``auth``."""
    for item in data:
        params = {"graph": item.graph} if item.graph is not None else {"default": ""}
        media_type = {".nt": "application/n-triples", ".ttl": "text/turtle"}[item.file.suffix]
        loaded = client.put(
            url + "/store",
            params=params,
            content=item.file.read_bytes(),
            headers={**auth, "Content-Type": media_type},
        )
        assert loaded.status_code in (201, 204), f"loading {item.file.name}: {loaded.text}"


def _media_type(value: str | None) -> tuple[str, dict[str, str]]:
    """A Content-Type's media type (lower case) and its parameters."""
    if not value:
        return "", {}
    media_type, *parameters = value.split(";")
    params = {}
    for parameter in parameters:
        name, _, param_value = parameter.partition("=")
        params[name.strip().lower()] = param_value.strip().strip('"')
    return media_type.strip().lower(), params


def carries_update(request: HttpRequest) -> bool:
    """Whether a SPARQL Protocol request asks for an update (the requests that write).

    An update is named by an ``update`` parameter, in the URL or in a URL-encoded body
    (whatever Content-Type the request declares), or sent as the body itself: declared as
    ``application/sparql-update``, or under another type, as text that starts like an update.
    """
    if "update" in parse_qs(urlsplit(request.path).query):
        return True
    media_type, _ = _media_type(request.header("content-type"))
    if media_type == "application/sparql-update":
        return True
    text = request.text or ""
    if "update" in parse_qs(text):
        return True
    if media_type in ("application/sparql-query", "application/x-www-form-urlencoded"):
        return False
    words = text.split()
    keywords = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD"}
    return bool(words) and words[0].upper() in keywords


def writes_graph(request: HttpRequest) -> bool:
    """Whether a Graph Store Protocol request changes the store (PUT, POST, DELETE)."""
    return request.method in ("PUT", "POST", "DELETE")


@dataclass(frozen=True, slots=True)
class Suite:
    """How a suite's requests reach cpgraph: its path prefix and ours, and which write."""

    path_prefix: str
    endpoint_path: str
    writes: Callable[[HttpRequest], bool]

    def rewrite(self, path: str) -> str:
        if not path.startswith(self.path_prefix):
            raise AssertionError(f"a request path outside the suite's endpoint: {path}")
        return self.endpoint_path + path.removeprefix(self.path_prefix)


PROTOCOL = Suite("/sparql/", "/sparql", carries_update)
GRAPH_STORE = Suite("/gsp", "/store", writes_graph)


def run(url: str, suite: Suite, test: W3CTest) -> None:
    """Reset the store to ``test``'s graphs (:func:`reset`), then send its requests in order;
    fail at the first answer that is not as expected."""
    assert test.requests, f"{test.name}: the manifest gives no requests"
    with httpx.Client(timeout=30) as client:
        reset(client, url, test.data)
        _send(client, url, suite, test)


def _send(client: httpx.Client, url: str, suite: Suite, test: W3CTest) -> None:
    variables: dict[str, str] = {}
    for number, request in enumerate(test.requests, start=1):
        path = suite.rewrite(request.path)
        body = request.body
        for variable, value in variables.items():
            path = path.replace(variable, value)
            body = None if body is None else body.replace(variable.encode(), value.encode())
        headers = dict(request.headers)
        if test.authority:
            headers["host"] = test.authority
        token = suite.writes(request)
        if token:
            headers.update(AUTH)
        response = client.request(request.method, url + path, headers=headers, content=body)
        where = f"{test.name}, request {number} ({request.method} {path})"
        check(response, request.response, where=where, with_token=token)
        if request.response.location_variable:
            location = response.headers.get("location")
            assert location, f"{where}: no Location header"
            variables[request.response.location_variable] = location


def check(
    response: httpx.Response, expected: ExpectedResponse, *, where: str, with_token: bool
) -> None:
    """Compare one answer with what the manifest expects of it."""
    status = response.status_code
    detail = response.text[:500] if response.content else ""
    assert expected.status.allows(status), (
        f"{where}: status {status}, expected {expected.status}; {detail}"
    )
    if 400 <= status < 500:
        # A request refused for its protocol fault, not for want of the operator's token
        # (the token goes with every request that writes; queries never need it).
        assert status != 401, f"{where}: refused as unauthorised (token sent: {with_token})"
    media_type, params = _media_type(response.headers.get("content-type"))
    if expected.result_format == "boolean":
        assert media_type in BOOLEAN_TYPES, f"{where}: {media_type} is not a boolean result"
        answer = _boolean(response.content, media_type)
        if expected.boolean is not None:
            assert answer is expected.boolean, f"{where}: ASK answered {answer}"
    elif expected.result_format == "tabular":
        assert media_type in TABULAR_TYPES, f"{where}: {media_type} is not a results table"
        assert _variables(response.content, media_type), f"{where}: a table without columns"
    elif expected.result_format == "RDF":
        assert media_type in RDF_TYPES, f"{where}: {media_type} is not RDF/XML, Turtle or N-Triples"
        Graph().parse(data=response.content, format=RDF_TYPES[media_type])
    elif expected.result_format is not None:
        raise AssertionError(f"{where}: unknown expected format {expected.result_format!r}")
    wanted = expected.header("content-type")
    if wanted is not None:
        wanted_type, wanted_params = _media_type(wanted)
        assert media_type == wanted_type, f"{where}: Content-Type {media_type}, not {wanted_type}"
        if "charset" in wanted_params:
            assert params.get("charset", "").lower() == wanted_params["charset"].lower(), (
                f"{where}: charset {params.get('charset')}, not {wanted_params['charset']}"
            )
    if expected.body is not None:
        _same_graph(response, expected, where=where)


def _boolean(content: bytes, media_type: str) -> bool:
    if media_type == "application/sparql-results+json":
        answer = json.loads(content)["boolean"]
    else:
        element = ET.fromstring(content).find(f"{RESULTS}boolean")
        assert element is not None, "no <boolean> in the XML result"
        assert element.text in ("true", "false"), f"<boolean> holds {element.text!r}"
        answer = element.text == "true"
    assert isinstance(answer, bool), f"the boolean is {answer!r}"
    return answer


def _variables(content: bytes, media_type: str) -> list[str]:
    """The column names of a SELECT result (checking that the rows are there to read)."""
    if media_type == "application/sparql-results+json":
        document = json.loads(content)
        assert isinstance(document["results"]["bindings"], list)
        return list(document["head"]["vars"])
    if media_type == "application/sparql-results+xml":
        root = ET.fromstring(content)
        assert root.find(f"{RESULTS}results") is not None, "no <results>"
        return [v.attrib["name"] for v in root.iter(f"{RESULTS}variable")]
    delimiter = "," if media_type == "text/csv" else "\t"
    rows = list(csv.reader(io.StringIO(content.decode("utf-8")), delimiter=delimiter))
    return [name.lstrip("?") for name in rows[0]] if rows else []


def _same_graph(response: httpx.Response, expected: ExpectedResponse, *, where: str) -> None:
    expected_type, _ = _media_type(expected.header("content-type") or "text/turtle")
    actual_type, _ = _media_type(response.headers.get("content-type"))
    assert actual_type in RDF_PARSERS, f"{where}: cannot read a {actual_type} body as RDF"
    base = str(response.request.url)
    want = Graph().parse(data=expected.body, format=RDF_PARSERS[expected_type], publicID=base)
    got = Graph().parse(data=response.content, format=RDF_PARSERS[actual_type], publicID=base)
    if not isomorphic(got, want):
        missing = to_isomorphic(want) - to_isomorphic(got)
        extra = to_isomorphic(got) - to_isomorphic(want)
        raise AssertionError(
            f"{where}: the graph differs; missing {sorted(missing)}; unexpected {sorted(extra)}"
        )
