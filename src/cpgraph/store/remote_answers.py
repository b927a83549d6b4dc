"""A remote store's answers read as cpgraph's results (:mod:`cpgraph.store.remote`): streamed
through pyoxigraph's parsers, or, for a dataset the store cannot read as the embedded store
does, computed here over a copy of it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import httpx
import pyoxigraph as ox

from cpgraph.errors import InputError, StoreError, StoreUnreachableError
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import in_graph
from cpgraph.store.http import Replacement, ResponseStream, Rewrite, cause
from cpgraph.store.results import QueryKind, QueryResult
from cpgraph.store.union import DEFAULT

# Each query form asks only for its own kind of answer (Virtuoso answers a CONSTRUCT asked for
# results in JSON with solutions it writes in its own way); results in XML first, since
# Virtuoso writes JSON results several times slower than XML (docs/scaling.md). pyoxigraph's
# XML results parser trims the spaces that begin and end a literal, so they are escaped on
# the way where a store writes them raw (LiteralEdges).
ACCEPT = "application/sparql-results+xml, application/sparql-results+json;q=0.9"
ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"
MAX_MERGED = 500_000  # statements of a dataset merged here (see answer_merged)
# How many statements a default graph of several graphs holds as a bag, and as their merge.
BAG = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SET = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
# Virtuoso's blank nodes (nodeID://b1), read as labels.
_VIRTUOSO_BLANKS = {
    "application/sparql-results+json": (
        b'"type": "bnode", "value": "nodeID://',
        b'"type": "bnode", "value": "',
    ),
    "application/sparql-results+xml": (b"<bnode>nodeID://", b"<bnode>"),
}
_LITERAL = re.compile(rb"(<literal[^>]*>)([^<]*)(</literal>)")
_SPACE = re.compile(rb"^[ \t\r\n]+|[ \t\r\n]+$")


class LiteralEdges:
    """Escapes the whitespace that begins or ends a literal in SPARQL XML results (as
    character references, which parsers keep), wherever chunks split the literal.

    >>> edges = LiteralEdges()
    >>> parts = (b"<literal> a </lit", b"eral><literal>b", b"\\t</literal>")
    >>> b"".join(edges.feed(part) for part in parts)
    b'<literal>&#x20;a&#x20;</literal><literal>b&#x9;</literal>'
    """

    def __init__(self) -> None:
        self._held = b""  # an unfinished literal, or an unfinished tag, at the end

    def feed(self, chunk: bytes) -> bytes:
        """The complete part of the bytes so far, its literals' edges escaped."""
        data = self._held + chunk
        cut = len(data)
        start = data.rfind(b"<literal")
        if start != -1 and data.find(b"</literal>", start) == -1:
            cut = start
        else:
            last = data.rfind(b"<")
            if last != -1 and data.find(b">", last) == -1:
                cut = last
        self._held = data[cut:]
        return _LITERAL.sub(_escaped_edges, data[:cut])

    def end(self) -> bytes:
        """The held rest (an answer that ends there is malformed, and its parser says so)."""
        held, self._held = self._held, b""
        return held


def _escaped_edges(match: re.Match[bytes]) -> bytes:
    text = _SPACE.sub(lambda m: b"".join(b"&#x%X;" % c for c in m.group()), match.group(2))
    return match.group(1) + text + match.group(3)


_RESULTS = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
}


def read_answer(response: httpx.Response) -> QueryResult:
    """A store's answer to a query as a result read as it arrives (close it, or read it to
    its end, to free the connection).

    Raises:
        StoreUnreachableError: if the answer is in a form cpgraph cannot read.
    """
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    rewrites: list[Rewrite] = []
    if media in _VIRTUOSO_BLANKS:
        rewrites.append(Replacement(*_VIRTUOSO_BLANKS[media]))
    if media == "application/sparql-results+xml":
        rewrites.append(LiteralEdges())
    stream = io.BufferedReader(ResponseStream(response, rewrites=rewrites), 1 << 16)
    try:
        if media in _RESULTS:
            raw = ox.parse_query_results(stream, _RESULTS[media])
            kind = QueryKind.BOOLEAN if isinstance(raw, ox.QueryBoolean) else QueryKind.SOLUTIONS
            return QueryResult(kind, raw, closer=stream.close)
        rdf = RdfFormat.from_media_type(media)
    except (InputError, SyntaxError, ValueError) as exc:
        stream.close()
        raise StoreUnreachableError(
            f"the store answered in a form cpgraph cannot read ({media or 'no type'}): {cause(exc)}"
        ) from None
    return QueryResult(QueryKind.GRAPH, ox.parse(stream, rdf.oxigraph), closer=stream.close)


def answer_merged(
    text: str, quads: Iterable[ox.Quad], default: list[str], named: list[str]
) -> QueryResult:
    """A query whose default graph merges graphs that share statements (which a store reads
    as a bag: the shared ones twice), answered here over a copy in memory of its dataset:
    ``quads``, those of the graphs ``default`` and ``named``, read in one answer so that
    blank nodes keep their identity, at most :data:`MAX_MERGED` of them.

    Raises:
        InputError: if there are more.
        StoreError: if the query fails.
    """
    view = ox.Store()
    merged, kept = set(default), set(named)
    for count, quad in enumerate(quads, 1):
        if count > MAX_MERGED:
            raise InputError(
                f"the default graph merges graphs that share statements, and their "
                f"{MAX_MERGED:,} statements and more are too many to merge here: name "
                "one default graph, or graphs that share none"
            )
        graph = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else None
        if graph in merged:
            view.add(in_graph(quad, DEFAULT))
        if graph in kept:
            view.add(quad)
    try:
        raw = view.query(text, named_graphs=[ox.NamedNode(g) for g in named])
    except (OSError, RuntimeError, ValueError) as exc:
        raise StoreError(f"query failed: {exc}") from exc
    if isinstance(raw, ox.QuerySolutions):
        return QueryResult(QueryKind.SOLUTIONS, raw)
    if isinstance(raw, ox.QueryBoolean):
        return QueryResult(QueryKind.BOOLEAN, raw)
    return QueryResult(QueryKind.GRAPH, raw)
