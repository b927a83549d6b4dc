"""Copying the dataset into another repository, graph by graph, and checking the copy.

The copy uses the SPARQL 1.1 Graph Store Protocol where the target has it (the first batch of
a graph ``PUT`` to ``?graph=IRI``, replacing whatever the graph held; the next ones ``POST``,
adding) and SPARQL 1.1 Update where it does not (``DROP SILENT GRAPH`` then ``INSERT DATA``).
With :attr:`Protocol.AUTO`, a target whose Graph Store endpoint answers 404, 405 or 501 is
sent updates instead. Batches are N-Triples (which every Turtle parser reads); triples with a
blank node all go in one batch of their graph, so that a blank node stays one node.

A push is resumable: after every batch a state file records, per graph, how many batches
reached the target; a push of the same build to the same target picks up there. The state
is removed once the copy is verified.

Verification compares, per graph, the number of triples in the store with the target's
(``SELECT (COUNT(*) ...)`` on its query endpoint, or the graph fetched over the Graph Store
Protocol), and for graphs up to ``isomorphism_limit`` triples fetches the graph back and checks
that it is isomorphic to the store's (blank nodes matched by canonicalisation). Stores that
rewrite literals to their canonical lexical form (Virtuoso writes ``"007"^^xsd:integer`` as
``"7"``) are judged after canonicalising both sides, and the report says so.

The description graph (``<base>graph/void``) is pushed too, so the copy says what it is.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import json
import logging
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from cpgraph.errors import (
    InputError,
    PushVerificationError,
    RdfSyntaxError,
    RemoteStoreError,
    StoreError,
)
from cpgraph.parts import open_part
from cpgraph.rdf.io import RdfFormat, parse_quads
from cpgraph.rdf.namespaces import XSD
from cpgraph.store.embedded import GraphStore

log = logging.getLogger(__name__)

NOT_SUPPORTED = {404, 405, 501}
DEFAULT_BATCH = 50_000
DEFAULT_UPDATE_BATCH = 2_000
# INSERT templates (for blank nodes) cost some stores far more than INSERT DATA: Virtuoso
# refuses one that compiles to over 10,000 lines of SQL, about 1,000 triples.
BLANK_UPDATE_BATCH = 250
DEFAULT_ISOMORPHISM_LIMIT = 20_000
TURTLE = "text/turtle; charset=utf-8"


class Protocol(enum.Enum):
    """How triples are written into the target."""

    AUTO = "auto"
    GSP = "gsp"
    UPDATE = "update"


@dataclass(frozen=True, slots=True)
class Target:
    """The repository to push into: its endpoints and credentials.

    Attributes:
        gsp: the Graph Store Protocol endpoint (``.../store``), if it has one.
        update: the SPARQL Update endpoint, for the fallback.
        query: the SPARQL query endpoint, for verification (else the graphs are fetched
            over the Graph Store Protocol).
        auth: credentials (basic, digest or a bearer token), or None.
    """

    gsp: str | None = None
    update: str | None = None
    query: str | None = None
    auth: httpx.Auth | None = None

    @property
    def key(self) -> str:
        """What identifies the target in the resume state."""
        return " ".join(u or "-" for u in (self.gsp, self.update))


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: str) -> None:
        """Send ``token``."""
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def make_auth(
    *, user: str | None, password: str | None, scheme: str = "basic", token: str | None = None
) -> httpx.Auth | None:
    """Credentials for a target: ``basic`` or ``digest`` with a user, or a bearer token.

    Raises:
        InputError: for an unknown scheme, or a user without a password.
    """
    if token:
        return BearerAuth(token)
    if user is None:
        return None
    if password is None:
        raise InputError(f"a password is needed for {user!r} (set CPGRAPH_PUSH_PASSWORD)")
    if scheme == "basic":
        return httpx.BasicAuth(user, password)
    if scheme == "digest":
        return httpx.DigestAuth(user, password)
    raise InputError(f"unknown authentication scheme {scheme!r}: use basic or digest")


@dataclass(slots=True)
class GraphReport:
    """What happened to one graph: batches sent, triples on both sides, the checks."""

    graph: str
    triples: int = 0
    batches: int = 0
    sent: int = 0
    protocol: str = ""
    target_triples: int | None = None
    isomorphic: bool | None = None
    note: str = ""

    @property
    def verified(self) -> bool:
        """Counts equal and, where checked, isomorphic."""
        return self.target_triples == self.triples and self.isomorphic is not False


@dataclass(slots=True)
class PushReport:
    """A push's outcome, graph by graph."""

    target: str
    build: str
    graphs: list[GraphReport] = field(default_factory=list)
    resumed: bool = False

    @property
    def verified(self) -> bool:
        """Whether every graph was verified."""
        return all(g.verified for g in self.graphs)

    def summary(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "target": self.target,
            "build": self.build,
            "resumed": self.resumed,
            "verified": self.verified,
            "graphs": [asdict(g) for g in self.graphs],
        }


def push(
    store: GraphStore,
    target: Target,
    *,
    build: str,
    description: Sequence[ox.Quad] = (),
    graphs: Sequence[str] | None = None,
    protocol: Protocol = Protocol.AUTO,
    batch_size: int | None = None,
    state_file: Path | None = None,
    verify: bool = True,
    isomorphism_limit: int = DEFAULT_ISOMORPHISM_LIMIT,
    timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
) -> PushReport:
    """Copy the store's named graphs (and the description graph) into ``target``.

    ``graphs`` limits the copy to some graphs. ``build`` identifies what is pushed, so that a
    resumed push of another build starts over.

    Raises:
        InputError: if the target has no endpoint for ``protocol``, or ``graphs`` names a
            graph the store does not have.
        RemoteStoreError: if the target refuses a request, fails or cannot be reached.
        PushVerificationError: if ``verify`` and a graph's copy differs (``report`` says how).
        StoreError: if the store fails or the state file cannot be written.
    """
    say = progress or log.info
    if protocol is Protocol.GSP and not target.gsp:
        raise InputError("the Graph Store Protocol needs the target's GSP endpoint")
    if protocol is Protocol.UPDATE and not target.update:
        raise InputError("SPARQL Update needs the target's update endpoint")
    if not target.gsp and not target.update:
        raise InputError("give the target's Graph Store endpoint or its update endpoint")
    warn_plain_http(target)
    jobs = _jobs(store, description, graphs)
    state = _State.load(state_file, target.key, f"{build} batch={batch_size or 'default'}")
    report = PushReport(target.key, build, resumed=state.resumed)
    with httpx.Client(auth=target.auth, timeout=timeout, follow_redirects=False) as client:
        writer = _Writer(client, target, protocol)
        for name, held in jobs:
            quads = store.quads(name) if held is None else iter(held)
            graph_report = GraphReport(name)
            report.graphs.append(graph_report)
            done = state.done(name)
            size = batch_size or (
                DEFAULT_UPDATE_BATCH if writer.protocol is Protocol.UPDATE else DEFAULT_BATCH
            )
            blank_size = size
            if writer.protocol is Protocol.UPDATE:
                blank_size = min(size, BLANK_UPDATE_BATCH)
            for index, batch in enumerate(_batches(quads, size, blank_size)):
                graph_report.triples += len(batch)
                graph_report.batches += 1
                if index < done:
                    continue
                writer.write(name, batch, replace=index == 0)
                graph_report.sent += len(batch)
                state.record(name, index + 1)
            if graph_report.batches == 0:  # an empty graph: make it exist, empty, there too
                if done == 0:
                    writer.write(name, [], replace=True)
                state.record(name, 1)
            graph_report.protocol = writer.protocol.value
            say(f"{name}: {graph_report.sent} of {graph_report.triples} triples sent")
        if verify:
            _verify(client, target, store, report, dict(jobs), isomorphism_limit, say)
    state.clear()
    return report


def verify_copy(
    store: GraphStore,
    target: Target,
    *,
    build: str,
    description: Sequence[ox.Quad] = (),
    graphs: Sequence[str] | None = None,
    isomorphism_limit: int = DEFAULT_ISOMORPHISM_LIMIT,
    timeout: float = 120.0,
    progress: Callable[[str], None] | None = None,
) -> PushReport:
    """Check that ``target`` holds a copy of the store's graphs (and the description graph).

    Raises:
        InputError: if the target has neither a query nor a Graph Store endpoint, or
            ``graphs`` names a graph the store does not have.
        RemoteStoreError: if the target refuses a request, fails or cannot be reached.
        PushVerificationError: if a graph's copy differs (``report`` says how).
    """
    if not target.query and not target.gsp:
        raise InputError("verification needs the target's query or Graph Store endpoint")
    warn_plain_http(target)
    jobs = _jobs(store, description, graphs)
    report = PushReport(target.key, build)
    for name, held in jobs:
        quads = store.quads(name) if held is None else held
        report.graphs.append(GraphReport(name, triples=sum(1 for _ in quads)))
    with httpx.Client(auth=target.auth, timeout=timeout, follow_redirects=False) as client:
        _verify(client, target, store, report, dict(jobs), isomorphism_limit, progress or log.info)
    return report


def plain_http_hosts(target: Target) -> list[str]:
    """The hosts ``target``'s credentials would travel to in clear: those of its endpoints
    over ``http://`` that are not this machine (``localhost`` or a loopback address).
    None when it has no credentials."""
    if target.auth is None:
        return []
    hosts: list[str] = []
    for url in (target.gsp, target.update, target.query):
        if not url:
            continue
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".")
        if parts.scheme.lower() != "http" or _is_loopback(host) or host in hosts:
            continue
        hosts.append(host)
    return hosts


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def warn_plain_http(target: Target) -> None:
    """Warn (on the log, which the command line writes to stderr) when ``target``'s
    credentials would go over plain http to another machine, where anyone on the way can
    read them."""
    for host in plain_http_hosts(target):
        log.warning(
            "warning: the credentials for %s are sent over plain http, readable by anyone on "
            "the way; use https",
            host,
        )


def _jobs(
    store: GraphStore, description: Sequence[ox.Quad], graphs: Sequence[str] | None
) -> list[tuple[str, Sequence[ox.Quad] | None]]:
    """The graphs to copy: a store graph (None) or the description graph (its quads)."""
    names = list(store.named_graphs())
    void = description_graph_of(description)
    if graphs is not None:
        missing = [g for g in graphs if g not in names and g != void]
        if missing:
            raise InputError(f"no such graph in the store: {', '.join(missing)}")
        names = [g for g in graphs if g != void]
    jobs: list[tuple[str, Sequence[ox.Quad] | None]] = [(check_graph_iri(g), None) for g in names]
    if void is not None and (graphs is None or void in graphs):
        jobs.append((void, description))
    return jobs


def _verify(
    client: httpx.Client,
    target: Target,
    store: GraphStore,
    report: PushReport,
    held: dict[str, Sequence[ox.Quad] | None],
    limit: int,
    say: Callable[[str], None],
) -> None:
    checker = _Checker(client, target)
    marks = {True: ", isomorphic", False: ", NOT isomorphic", None: ""}
    for graph_report in report.graphs:
        checker.check(store, graph_report, held.get(graph_report.graph), limit)
        say(
            f"{graph_report.graph}: {graph_report.target_triples} of "
            f"{graph_report.triples} triples there{marks[graph_report.isomorphic]}"
        )
    if not report.verified:
        bad = [g.graph for g in report.graphs if not g.verified]
        raise PushVerificationError(
            f"the copy differs from the store in {len(bad)} graph(s): {', '.join(bad)}",
            report=report,
        )


def description_graph_of(description: Sequence[ox.Quad]) -> str | None:
    """The graph the description quads are in (None when there is no description)."""
    for quad in description:
        if isinstance(quad.graph_name, ox.NamedNode):
            return quad.graph_name.value
    return None


def _has_blank(triple: ox.Triple) -> bool:
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


def _batches(quads: Iterable[ox.Quad], size: int, blank_size: int) -> Iterator[list[ox.Triple]]:
    """Triples in batches of ``size``, streamed; then the triples with blank nodes.

    A blank node means one node only within one request, so the triples with blank nodes are
    kept aside and sent last, grouped by the blank nodes they share (the connected components
    of the graph's blank nodes): a component is never split, and components are packed into
    batches of about ``blank_size`` triples (a larger component goes alone).
    """
    batch: list[ox.Triple] = []
    blank: list[ox.Triple] = []
    for quad in quads:
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        if _has_blank(triple):
            blank.append(triple)
            continue
        batch.append(triple)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
    pending: list[ox.Triple] = []
    for component in _components(blank):
        if pending and len(pending) + len(component) > blank_size:
            yield pending
            pending = []
        pending.extend(component)
    if pending:
        yield pending


def _components(triples: list[ox.Triple]) -> list[list[ox.Triple]]:
    """The triples grouped by connected blank nodes (union-find), in first-seen order."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def blanks(triple: ox.Triple) -> list[str]:
        return [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]

    for triple in triples:
        nodes = blanks(triple)
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
    groups: dict[str, list[ox.Triple]] = {}
    for triple in triples:
        groups.setdefault(find(blanks(triple)[0]), []).append(triple)
    return list(groups.values())


class _Writer:
    def __init__(self, client: httpx.Client, target: Target, protocol: Protocol) -> None:
        self.client = client
        self.target = target
        if protocol is Protocol.AUTO:
            protocol = Protocol.GSP if target.gsp else Protocol.UPDATE
            self.may_fall_back = target.update is not None
        else:
            self.may_fall_back = False
        self.protocol = protocol

    def write(self, graph: str, triples: list[ox.Triple], *, replace: bool) -> None:
        if self.protocol is Protocol.GSP:
            body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
            assert self.target.gsp is not None
            response = self._send(
                "PUT" if replace else "POST",
                self.target.gsp,
                params={"graph": graph},
                content=body,
                headers={"Content-Type": TURTLE},
            )
            if response.status_code in NOT_SUPPORTED and self.may_fall_back:
                log.info("no Graph Store Protocol at %s: using SPARQL Update", self.target.gsp)
                self.protocol = Protocol.UPDATE
                self.write(graph, triples, replace=replace)
                return
            _check(response, f"writing {graph}")
            self.may_fall_back = False
            return
        assert self.target.update is not None
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        parts = [f"DROP SILENT GRAPH <{graph}>"] if replace else []
        block = f"GRAPH <{graph}> {{\n{data.decode('utf-8')}}}"
        if any(_has_blank(t) for t in triples):
            # INSERT DATA may hold blank nodes, but some stores (Virtuoso) refuse them there;
            # a template with one solution means the same: one fresh node per label.
            parts.append(f"INSERT {{ {block} }} WHERE {{}}")
        else:
            parts.append(f"INSERT DATA {{ {block} }}")
        response = self._send(
            "POST",
            self.target.update,
            content=" ;\n".join(parts).encode("utf-8"),
            headers={"Content-Type": "application/sparql-update"},
        )
        if response.status_code == 415:  # an older store that only takes the form encoding
            response = self._send(
                "POST", self.target.update, data={"update": " ;\n".join(parts)}, headers={}
            )
        _check(response, f"writing {graph}")

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteStoreError(f"{method} {url} failed: {exc}") from exc


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        text = " ".join(response.text.split())[:300]
        raise RemoteStoreError(
            f"{what}: {response.request.method} {response.request.url} answered "
            f"{response.status_code}: {text}"
        )


class _Checker:
    def __init__(self, client: httpx.Client, target: Target) -> None:
        self.client = client
        self.target = target

    def check(
        self,
        store: GraphStore,
        report: GraphReport,
        description: Sequence[ox.Quad] | None,
        limit: int,
    ) -> None:
        fetched: list[ox.Triple] | None = None
        if self.target.query:
            report.target_triples = self._count(report.graph)
        else:
            fetched = self._fetch(report.graph)
            report.target_triples = len(set(fetched))
        if report.triples > limit or report.target_triples != report.triples:
            return
        if fetched is None:
            fetched = self._fetch(report.graph)
        source = [
            ox.Triple(q.subject, q.predicate, q.object)
            for q in (description if description is not None else store.quads(report.graph))
        ]
        if _isomorphic(source, fetched):
            report.isomorphic = True
        elif _isomorphic(_canonical(source), _canonical(fetched)):
            report.isomorphic = True
            report.note = "isomorphic once literals are in canonical lexical form"
        else:
            report.isomorphic = False

    def _count(self, graph: str) -> int:
        assert self.target.query is not None
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        response = self._post_query(query, "application/sparql-results+json")
        try:
            bindings = response.json()["results"]["bindings"]
            return int(bindings[0]["n"]["value"]) if bindings else 0
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise RemoteStoreError(f"cannot read the count of {graph}: {exc}") from exc

    def _fetch(self, graph: str) -> list[ox.Triple]:
        accept = "application/n-triples, text/turtle;q=0.9"
        if self.target.query:
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            response = self._post_query(query, accept)
        else:
            assert self.target.gsp is not None
            try:
                response = self.client.get(
                    self.target.gsp, params={"graph": graph}, headers={"Accept": accept}
                )
            except httpx.HTTPError as exc:
                raise RemoteStoreError(f"fetching {graph} failed: {exc}") from exc
            if response.status_code == 404:
                return []
            _check(response, f"fetching {graph}")
        media = response.headers.get("content-type", "text/turtle")
        try:
            fmt = RdfFormat.from_media_type(media)
        except InputError:
            fmt = RdfFormat.TURTLE
        try:  # measured first: no entity expansion, no nesting that exhausts the stack
            return [
                ox.Triple(q.subject, q.predicate, q.object)
                for q in parse_quads(response.content, format=fmt)
            ]
        except RdfSyntaxError as exc:
            raise RemoteStoreError(
                f"the target's copy of {graph} does not parse: {exc.message}"
            ) from exc

    def _post_query(self, query: str, accept: str) -> httpx.Response:
        assert self.target.query is not None
        try:
            response = self.client.post(
                self.target.query, data={"query": query}, headers={"Accept": accept}
            )
        except httpx.HTTPError as exc:
            raise RemoteStoreError(f"querying {self.target.query} failed: {exc}") from exc
        _check(response, "verifying")
        return response


def _isomorphic(a: Iterable[ox.Triple], b: Iterable[ox.Triple]) -> bool:
    left = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in a)
    right = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in b)
    if len(left) != len(right):
        return False
    left.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    right.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(left) == set(right)


_INTEGERS = {
    XSD + name
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
}


def canonical_literal(term: ox.Literal) -> ox.Literal:
    """A literal in the canonical lexical form of its datatype (integers, decimals, booleans).

    >>> canonical_literal(ox.Literal("007", datatype=ox.NamedNode(XSD + "integer"))).value
    '7'
    """
    datatype = term.datatype.value
    text = term.value.strip()
    try:
        if datatype in _INTEGERS:
            return ox.Literal(str(int(text)), datatype=term.datatype)
        if datatype == XSD + "decimal":
            number = Decimal(text)
            canonical = format(number.normalize(), "f")
            if "." not in canonical:
                canonical += ".0"
            return ox.Literal(canonical, datatype=term.datatype)
        if datatype == XSD + "dateTime" and text.endswith(("+00:00", "-00:00")):
            return ox.Literal(text[:-6] + "Z", datatype=term.datatype)
        if datatype == XSD + "boolean":
            return ox.Literal("true" if text in ("1", "true") else "false", datatype=term.datatype)
    except (ValueError, InvalidOperation):
        return term
    return term


def _canonical(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    return [
        ox.Triple(
            t.subject,
            t.predicate,
            canonical_literal(t.object) if isinstance(t.object, ox.Literal) else t.object,
        )
        for t in triples
    ]


class _State:
    """Which batches of which graphs reached the target, kept in a JSON file."""

    def __init__(self, path: Path | None, target: str, build: str, graphs: dict[str, int]) -> None:
        self.path = path
        self.target = target
        self.build = build
        self.graphs = graphs
        self.resumed = bool(graphs)  # batches of this build already reached this target

    @classmethod
    def load(cls, path: Path | None, target: str, build: str) -> _State:
        if path is None or not path.exists():
            return cls(path, target, build, {})
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path, target, build, {})
        if saved.get("target") != target or saved.get("build") != build:
            return cls(path, target, build, {})
        return cls(path, target, build, {str(k): int(v) for k, v in saved["graphs"].items()})

    def done(self, graph: str) -> int:
        return self.graphs.get(graph, 0)

    def record(self, graph: str, batches: int) -> None:
        self.graphs[graph] = batches
        if self.path is None:
            return
        body = {"target": self.target, "build": self.build, "graphs": self.graphs}
        tmp: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp, out = open_part(self.path)
            with out:
                out.write(json.dumps(body, indent=1).encode("utf-8"))
            os.replace(tmp, self.path)
        except OSError as exc:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            raise StoreError(f"cannot write the push state {self.path}: {exc}") from exc

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def default_state_file(store_dir: Path, target: Target) -> Path:
    """Where a push to ``target`` keeps its resume state: ``<store_dir>/push/<hash>.json``."""
    digest = hashlib.sha256(target.key.encode()).hexdigest()[:16]
    return store_dir / "push" / f"{digest}.json"


_SAFE_IRI = re.compile(r"^[^<>\"{}|^`\\\s]+$")


def check_graph_iri(iri: str) -> str:
    """``iri`` if it can go between ``<`` and ``>`` in SPARQL.

    Raises:
        InputError: if it cannot.
    """
    if not _SAFE_IRI.match(iri):
        raise InputError(f"not an IRI that can be written in SPARQL: {iri!r}")
    return iri
