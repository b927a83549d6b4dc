"""Read W3C test manifests (the ``mf:`` test-manifest vocabulary) into plain records.

A manifest lists its tests in ``mf:entries`` and may pull in other manifests with
``mf:include``; both are RDF lists, followed here in order. A protocol test's ``mf:action`` is
an ``ht:Connection`` whose ``ht:requests`` list holds ``ht:Request`` nodes (method, path,
headers, body), each with an ``ht:resp`` saying what the answer must be: status codes or
classes (``mf:expectedStatus``), a result format (``mf:expectedFormat``), an ASK answer
(``mf:expectedBoolean``), a Location to remember (``mf:expectedLocation``), or headers and a
body to compare. The graphs a test needs loaded first are its ``ut:graphData`` (a file, named
by its ``rdfs:label``) and ``ut:data`` (the default graph).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

# hts: names a status by its reason phrase in CamelCase ("No Content" is hts:NoContent), or a
# class of statuses as hts:StatusCode2xx.
_STATUS_NAMES = {re.sub(r"[^A-Za-z]", "", s.phrase): int(s) for s in HTTPStatus}
_STATUS_NAMES["RequestEntityTooLarge"] = 413  # RFC 2616's name, renamed in later Pythons
_STATUS_CLASS = re.compile(r"StatusCode([1-5])xx")


@dataclass(frozen=True, slots=True)
class StatusExpectation:
    """The statuses a response may have: exact codes, or whole classes (2 for 2xx)."""

    codes: frozenset[int] = frozenset()
    classes: frozenset[int] = frozenset()

    def allows(self, status: int) -> bool:
        return status in self.codes or status // 100 in self.classes

    def __str__(self) -> str:
        return " or ".join(
            [str(c) for c in sorted(self.codes)] + [f"{c}xx" for c in sorted(self.classes)]
        )


@dataclass(frozen=True, slots=True)
class ExpectedResponse:
    """What the answer to one request must be (None: not checked)."""

    status: StatusExpectation
    result_format: str | None = None  # "boolean", "tabular" or "RDF"
    boolean: bool | None = None
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    location_variable: str | None = None  # the Location is substituted for it later on

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """One request of a test, as the manifest writes it (path not yet rewritten)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    response: ExpectedResponse
    text: str | None = None  # the body's characters, before encoding

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)


@dataclass(frozen=True, slots=True)
class GraphData:
    """A file to load before the test: into the named graph ``graph``, or the default graph."""

    file: Path
    graph: str | None


@dataclass(frozen=True, slots=True)
class W3CTest:
    """One manifest entry: its IRI, type, title, the data it needs and its requests."""

    iri: str
    kind: str
    title: str
    authority: str | None = None
    requests: tuple[HttpRequest, ...] = ()
    data: tuple[GraphData, ...] = ()
    requires: tuple[str, ...] = ()
    manifest: Path = field(default=Path())

    @property
    def name(self) -> str:
        """The entry's local name (``query_post_form``): unique in a suite, unlike titles."""
        return re.split(r"[#/]", self.iri)[-1]


def load_manifest(path: Path) -> list[W3CTest]:
    """The tests of the manifest at ``path`` and of those it includes, in manifest order."""
    graph = Graph()
    graph.parse(path, format="turtle", publicID=path.resolve().as_uri())
    manifest = URIRef(path.resolve().as_uri())
    tests: list[W3CTest] = []
    for included in _list(graph, graph.value(manifest, MF.include)):
        tests.extend(load_manifest(_file(included)))
    for entry in _list(graph, graph.value(manifest, MF.entries)):
        tests.append(_test(graph, entry, path))
    return tests


def _list(graph: Graph, head: Node | None) -> list[Node]:
    return [] if head is None else list(Collection(graph, head))


def _file(iri: Node) -> Path:
    text = str(iri)
    if not text.startswith("file://"):
        raise ValueError(f"not a local file: {text}")
    return Path(text.removeprefix("file://"))


def _text(graph: Graph, subject: Node, predicate: URIRef) -> str | None:
    value = graph.value(subject, predicate)
    return None if value is None else str(value)


def _test(graph: Graph, entry: Node, manifest: Path) -> W3CTest:
    kind = graph.value(entry, RDF.type)
    action = graph.value(entry, MF.action)
    requests: tuple[HttpRequest, ...] = ()
    authority = None
    if action is not None and (action, RDF.type, HT.Connection) in graph:
        authority = _text(graph, action, HT.connectionAuthority)
        requests = tuple(_request(graph, r) for r in _list(graph, graph.value(action, HT.requests)))
    data = [GraphData(_file(f), None) for f in graph.objects(entry, UT.data)]
    for node in graph.objects(entry, UT.graphData):
        label = graph.value(node, RDFS.label)
        file = graph.value(node, UT.graph)
        if label is None or file is None:
            raise ValueError(f"{entry}: ut:graphData needs ut:graph and rdfs:label")
        data.append(GraphData(_file(file), str(label)))
    return W3CTest(
        iri=str(entry),
        kind=str(kind).rpartition("#")[2],
        title=_text(graph, entry, MF.name) or str(entry),
        authority=authority,
        requests=requests,
        data=tuple(sorted(data, key=lambda d: (d.graph or "", d.file.name))),
        requires=tuple(
            sorted(str(r).rpartition("#")[2] for r in graph.objects(entry, MF.requires))
        ),
        manifest=manifest,
    )


def _headers(graph: Graph, node: Node) -> tuple[tuple[str, str], ...]:
    headers = []
    for header in _list(graph, graph.value(node, HT.headers)):
        name = _text(graph, header, HT.fieldName)
        value = _text(graph, header, HT.fieldValue)
        if name is None or value is None:
            raise ValueError(f"a header without ht:fieldName or ht:fieldValue in {node}")
        headers.append((name.lower(), value))
    return tuple(headers)


def _body(graph: Graph, node: Node) -> tuple[str, str] | None:
    """The body's characters and the encoding the manifest says it is sent in."""
    body = graph.value(node, HT.body)
    if body is None:
        return None
    chars = graph.value(body, CNT.chars)
    if not isinstance(chars, Literal):
        raise ValueError(f"{node}: a body without cnt:chars")
    return str(chars), _text(graph, body, CNT.characterEncoding) or "UTF-8"


def _status(graph: Graph, response: Node) -> StatusExpectation:
    codes: set[int] = set()
    classes: set[int] = set()
    for value in graph.objects(response, MF.expectedStatus):
        name = str(value).removeprefix(str(HTS))
        if match := _STATUS_CLASS.fullmatch(name):
            classes.add(int(match.group(1)))
        elif name in _STATUS_NAMES:
            codes.add(_STATUS_NAMES[name])
        else:
            raise ValueError(f"unknown status {value}")
    return StatusExpectation(frozenset(codes), frozenset(classes))


def _request(graph: Graph, node: Node) -> HttpRequest:
    method = _text(graph, node, HT.methodName)
    path = _text(graph, node, HT.absolutePath)
    response = graph.value(node, HT.resp)
    if method is None or path is None or response is None:
        raise ValueError(f"{node}: a request needs ht:methodName, ht:absolutePath and ht:resp")
    body = _body(graph, node)
    expected_body = _body(graph, response)
    boolean = graph.value(response, MF.expectedBoolean)
    return HttpRequest(
        method=method,
        path=path,
        headers=_headers(graph, node),
        body=None if body is None else body[0].encode(body[1]),
        response=ExpectedResponse(
            status=_status(graph, response),
            result_format=_text(graph, response, MF.expectedFormat),
            boolean=None if boolean is None else bool(boolean.toPython()),
            headers=_headers(graph, response),
            body=None if expected_body is None else expected_body[0],
            location_variable=_text(graph, response, MF.expectedLocation),
        ),
        text=None if body is None else body[0],
    )


def suite(folder: Path, title: str) -> list[W3CTest]:
    """The tests of the suite in ``folder``; the calling test module is skipped without it."""
    if not (folder / "manifest.ttl").is_file():
        pytest.skip(f"no W3C {title} suite at {folder}", allow_module_level=True)
    return load_manifest(folder / "manifest.ttl")


def params(tests: list[W3CTest], allowed_failures: dict[str, str]) -> list[object]:
    """The tests as pytest parameters named by their manifest names; an allowed failure (with
    its reason) is a strict xfail, so one that starts passing is noticed."""
    return [
        pytest.param(
            test,
            id=test.name,
            marks=[pytest.mark.xfail(reason=allowed_failures[test.name], strict=True)]
            if test.name in allowed_failures
            else [],
        )
        for test in tests
    ]
