"""The repository a push writes into: its endpoints, its credentials, the requests sent to it.

Writes use the SPARQL 1.1 Graph Store Protocol where the target has it (``PUT`` to
``?graph=IRI`` replaces the graph, ``POST`` adds) and SPARQL 1.1 Update where it does not
(``DROP SILENT GRAPH`` then ``INSERT DATA``); with :attr:`Protocol.AUTO`, a Graph Store
endpoint that answers 404, 405 or 501 is given up for updates. Reads count a graph's triples
on the query endpoint, or fetch the graph back. Every failure is a :class:`RemoteStoreError`.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox

from cpgraph.errors import InputError, RdfSyntaxError, RemoteStoreError
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.rdf.io import parse_quads

log = logging.getLogger(__name__)

NOT_SUPPORTED = {404, 405, 501}
TURTLE = f"{RdfFormat.TURTLE.media_type}; charset=utf-8"


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

    def client(self, timeout: float) -> httpx.Client:
        """An HTTP client with the target's credentials that follows no redirect."""
        return httpx.Client(auth=self.auth, timeout=timeout, follow_redirects=False)


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


def has_blank(triple: ox.Triple) -> bool:
    """Whether the triple's subject or object is a blank node."""
    return isinstance(triple.subject, ox.BlankNode) or isinstance(triple.object, ox.BlankNode)


class Remote:
    """The requests made to a target over one client: writing, counting and fetching graphs.

    ``protocol`` is the one writes use now: :attr:`Protocol.AUTO` starts with the Graph Store
    Protocol where the target has it and may fall back to updates on its first answer.
    """

    def __init__(
        self, client: httpx.Client, target: Target, protocol: Protocol = Protocol.AUTO
    ) -> None:
        self.client = client
        self.target = target
        if protocol is Protocol.AUTO:
            protocol = Protocol.GSP if target.gsp else Protocol.UPDATE
            self.may_fall_back = target.update is not None
        else:
            self.may_fall_back = False
        self.protocol = protocol

    def write(self, graph: str, triples: list[ox.Triple], *, replace: bool) -> None:
        """Write ``triples`` into ``graph``, replacing what it held if ``replace``."""
        data = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        if self.protocol is Protocol.GSP:
            assert self.target.gsp is not None
            response = self._send(
                "PUT" if replace else "POST",
                self.target.gsp,
                params={"graph": graph},
                content=data,
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
        parts = [f"DROP SILENT GRAPH <{graph}>"] if replace else []
        block = f"GRAPH <{graph}> {{\n{data.decode('utf-8')}}}"
        if any(has_blank(t) for t in triples):
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

    def count(self, graph: str) -> int:
        """The number of triples in ``graph``, asked of the query endpoint."""
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
        response = self._query(query, ResultsFormat.JSON.media_type)
        try:
            bindings = response.json()["results"]["bindings"]
            return int(bindings[0]["n"]["value"]) if bindings else 0
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise RemoteStoreError(f"cannot read the count of {graph}: {exc}") from exc

    def fetch(self, graph: str) -> list[ox.Triple]:
        """The triples of ``graph`` there: a CONSTRUCT on the query endpoint, or a Graph Store
        GET (a graph it does not have is empty)."""
        accept = f"{RdfFormat.N_TRIPLES.media_type}, {RdfFormat.TURTLE.media_type};q=0.9"
        if self.target.query:
            query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
            response = self._query(query, accept)
        else:
            assert self.target.gsp is not None
            response = self._send(
                "GET",
                self.target.gsp,
                failed=f"fetching {graph}",
                params={"graph": graph},
                headers={"Accept": accept},
            )
            if response.status_code == 404:
                return []
            _check(response, f"fetching {graph}")
        media = response.headers.get("content-type", RdfFormat.TURTLE.media_type)
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

    def _query(self, query: str, accept: str) -> httpx.Response:
        url = self.target.query
        assert url is not None
        response = self._send(
            "POST", url, failed=f"querying {url}", data={"query": query}, headers={"Accept": accept}
        )
        _check(response, "verifying")
        return response

    def _send(
        self, method: str, url: str, *, failed: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        """The answer to one request; ``failed`` says what failed when none comes."""
        try:
            return self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            raise RemoteStoreError(f"{failed or f'{method} {url}'} failed: {exc}") from exc


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code >= 400:
        text = " ".join(response.text.split())[:300]
        raise RemoteStoreError(
            f"{what}: {response.request.method} {response.request.url} answered "
            f"{response.status_code}: {text}"
        )
