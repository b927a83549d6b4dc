"""A second implementation of :class:`cpgraph.store.Store`: a SPARQL 1.1 store on another
machine (Oxigraph server, Virtuoso, QLever, GraphDB, Stardog, Neptune), reached by the SPARQL
1.1 Protocol and SPARQL 1.1 Update alone.

The dataset users see is laid out in the store as the embedded store lays it out
(:mod:`cpgraph.store.union`), in graphs of reserved names that only cpgraph writes:

- :data:`UNION_GRAPH` holds the merge of every graph, each statement once: a query that names
  no dataset reads it as its default graph (stores match a statement once per graph that holds
  it, so their own union would count it again);
- :data:`CATALOGUE_GRAPH` lists the named graphs of the dataset (``<g> a sd:NamedGraph``): a
  query's ``GRAPH ?g`` ranges over them alone (not over a store's own system graphs), and an
  empty graph, which most stores cannot hold, still exists;
- :data:`~cpgraph.store.union.DEFAULT_GRAPH_NAME` keeps what users wrote to the default graph.

Every write is one update request that keeps the three in step. Queries are checked by
Oxigraph's parser here first (one syntax error, with its line, whatever the store), then sent
with the dataset made explicit; results stream from the store through pyoxigraph's parsers.
A store that cannot be reached or fails is a 502 problem, one that does not answer in time a
504; credentials never appear in a message or a log line.
"""

from __future__ import annotations

import io
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx
import pyoxigraph as ox

from cpgraph.errors import InputError, StoreError, StoreUnreachableError
from cpgraph.rdf import Term
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.rdf.io import in_graph, query_syntax_error
from cpgraph.rdf.namespaces import SD
from cpgraph.sparql.text import as_insertions, data_operations
from cpgraph.store.http import Endpoints, ResponseStream, SparqlClient, cause
from cpgraph.store.results import BinarySink, QueryKind, QueryResult
from cpgraph.store.sending import (
    check_syntax,
    check_update_syntax,
    names_dataset,
    prologue,
    uses_graph,
    with_values,
)
from cpgraph.store.union import DEFAULT, DEFAULT_GRAPH_NAME, KEPT_DEFAULT

if TYPE_CHECKING:
    from cpgraph.config import Settings

UNION_GRAPH = "urn:x-cpgraph:union"
CATALOGUE_GRAPH = "urn:x-cpgraph:graphs"
PROBE_GRAPH = "urn:x-cpgraph:probe"
EMPTY_GRAPH = "urn:x-cpgraph:empty"  # never written: a dataset's graph that must hold nothing
RESERVED = frozenset({UNION_GRAPH, CATALOGUE_GRAPH, PROBE_GRAPH, EMPTY_GRAPH, DEFAULT_GRAPH_NAME})
_NAMED_GRAPH = f"<{SD}NamedGraph>"
_ACCEPT = (
    "application/sparql-results+xml, application/n-triples;q=0.9, text/turtle;q=0.8, "
    "application/sparql-results+json;q=0.7, application/rdf+xml;q=0.6"
)
_CATALOGUE_SECONDS = 2.0  # how long the list of named graphs is reused (other writers' graphs)
_MAX_INSERT = 20_000  # statements in one INSERT DATA request (a load of more is split)


class RemoteStore:
    """A dataset held by a SPARQL 1.1 store on another machine (see the module).

    >>> store = RemoteStore(Endpoints("http://127.0.0.1:1/query"), timeout=1.0)
    >>> store.path is None, store.describe()
    (True, 'a SPARQL 1.1 store at http://127.0.0.1:1/query')
    """

    def __init__(
        self, endpoints: Endpoints, *, read_only: bool = False, timeout: float = 30.0
    ) -> None:
        """Talk to the store at ``endpoints``; nothing is sent until the first request.

        ``timeout`` bounds the wait for a connection and for each part of an answer.
        """
        self.endpoints = endpoints
        self._read_only = read_only or endpoints.update is None
        self._client = SparqlClient(endpoints, timeout=timeout)
        self._lock = threading.Lock()
        self._catalogue: tuple[float, list[str]] | None = None
        self._forms: dict[ox.Literal, ox.Literal] = {}

    @classmethod
    def from_settings(cls, settings: Settings, *, read_only: bool = False) -> RemoteStore:
        """The store named by ``CPGRAPH_STORE_*`` (see :class:`Endpoints`)."""
        return cls(
            Endpoints.from_settings(settings), read_only=read_only, timeout=settings.query_timeout
        )

    @property
    def path(self) -> Path | None:
        """None: the data is on another machine."""
        return None

    @property
    def read_only(self) -> bool:
        """Whether writes are refused (opened so, or no update endpoint)."""
        return self._read_only

    def describe(self) -> str:
        """Which store answers, for people: its query endpoint (never its credentials)."""
        return f"a SPARQL 1.1 store at {self.endpoints.query}"

    def close(self) -> None:
        """Close the connections to the store."""
        self._client.close()

    # -- queries ------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        base_iri: str | None = None,
        substitutions: dict[str, Term] | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> QueryResult:
        """Run a query on the store, its dataset as :meth:`cpgraph.store.Store.query` says.

        Raises:
            QuerySyntaxError: if the query is malformed, with its line and column.
            InputError: if a substitution is a blank node (it cannot be written in a query).
            StoreUnreachableError, StoreTimeoutError: if the store fails or is too slow.
        """
        check_syntax(sparql, base_iri, prefixes)
        text = prologue(base_iri, prefixes) + sparql
        if substitutions:
            text = with_values(text, substitutions)
        form: list[tuple[str, str]] = [("query", text)]
        form += self._dataset(sparql, union_default_graph, default_graphs, named_graphs)
        return self._result(self._client.query(form, accept=_ACCEPT))

    def answer_within(
        self,
        sparql: str,
        fmt: ResultsFormat,
        *,
        max_bytes: int,
        seconds: float,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> bytes | None:
        """None: an answer from another machine is never given where the request arrives
        (it would hold the server's event loop for a round trip); the pool answers it."""
        return None

    def _dataset(
        self,
        sparql: str,
        union_default_graph: bool,
        default_graphs: Iterable[str] | None,
        named_graphs: Iterable[str] | None,
    ) -> list[tuple[str, str]]:
        """The protocol's dataset parameters that make the store read cpgraph's dataset."""
        defaults = None if default_graphs is None else list(default_graphs)
        named = None if named_graphs is None else list(named_graphs)
        if defaults is not None or named is not None:  # the protocol's dataset, whole
            return [("default-graph-uri", _visible(g)) for g in defaults or [EMPTY_GRAPH]] + [
                ("named-graph-uri", _visible(g)) for g in named or [EMPTY_GRAPH]
            ]
        if names_dataset(sparql):
            return []  # the query's own FROM and FROM NAMED
        form = [("default-graph-uri", UNION_GRAPH if union_default_graph else DEFAULT_GRAPH_NAME)]
        if uses_graph(sparql):
            form += [("named-graph-uri", g) for g in self.named_graphs() or [EMPTY_GRAPH]]
        else:  # GRAPH appears nowhere: one named graph, so that a store adds none of its own
            form.append(("named-graph-uri", EMPTY_GRAPH))
        return form

    def _result(self, response: httpx.Response) -> QueryResult:
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        stream = io.BufferedReader(ResponseStream(response), 1 << 16)
        try:
            if media in ("application/sparql-results+xml", "application/sparql-results+json"):
                fmt = (
                    ox.QueryResultsFormat.XML
                    if media.endswith("xml")
                    else ox.QueryResultsFormat.JSON
                )
                raw = ox.parse_query_results(stream, fmt)
                kind = (
                    QueryKind.BOOLEAN if isinstance(raw, ox.QueryBoolean) else QueryKind.SOLUTIONS
                )
                return QueryResult(kind, raw, closer=stream.close)
            rdf = RdfFormat.from_media_type(media)
        except (InputError, SyntaxError, ValueError) as exc:
            stream.close()
            raise StoreUnreachableError(
                f"the store answered in a form cpgraph cannot read ({media or 'no type'}): "
                f"{cause(exc)}"
            ) from None
        return QueryResult(QueryKind.GRAPH, ox.parse(stream, rdf.oxigraph), closer=stream.close)

    def _select(
        self,
        sparql: str,
        *,
        default_graphs: list[str] | None = None,
        named_graphs: list[str] | None = None,
        union_default_graph: bool = True,
    ) -> Iterator[dict[str, Term]]:
        """The rows of one of cpgraph's own SELECT queries, over the store's graphs as named
        (reserved ones included), else over the dataset users see."""
        if default_graphs is None and named_graphs is None:
            form = self._dataset(sparql, union_default_graph, None, None)
        else:
            form = [("default-graph-uri", g) for g in default_graphs or [EMPTY_GRAPH]]
            form += [("named-graph-uri", g) for g in named_graphs or [EMPTY_GRAPH]]
        result = self._result(self._client.query([("query", sparql), *form], accept=_ACCEPT))
        try:
            yield from result.rows()
        finally:
            result.close()

    # -- writes -------------------------------------------------------------------------------

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Apply an update of ``INSERT DATA`` and ``DELETE DATA`` operations, all or nothing,
        keeping the union and the catalogue in step.

        The statements it names are looked up in the store in one query; Oxigraph then runs
        the update on a copy in memory of just those, and what it added and removed is written
        to the store in one request.

        Raises:
            QuerySyntaxError: if the update is malformed.
            InputError: if it writes into a reserved graph, or holds other operations (which
                a remote store is sent by its own endpoint: cpgraph could not keep the union).
            StoreError: if the store is read-only; StoreUnreachableError if it fails.
        """
        self._writable()
        operations = data_operations(sparql)
        if operations is None:
            check_update_syntax(sparql, base_iri)
            raise InputError(
                "over a remote store cpgraph applies updates of INSERT DATA and DELETE DATA "
                "(and the Graph Store Protocol); send other updates to the store itself"
            )
        named = ox.Store()
        mirror = ox.Store()
        try:
            named.update(as_insertions(sparql, operations), base_iri=base_iri)
            if any(_reserved(q.graph_name) for q in named):
                raise InputError("the update writes into a graph that cpgraph keeps for itself")
            held = self._held(list(named))
            mirror.extend(held)
            mirror.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        before, after = set(held), set(mirror)
        self._write(removed=before - after, added=after - before)

    def load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads (to the default graph, those in it), all or none when they fit in one
        request (:data:`_MAX_INSERT` statements, or any number holding a blank node).

        Raises:
            InputError: if a quad is in a reserved graph.
            StoreError: if the store is read-only; StoreUnreachableError if it fails.
        """
        self._writable()
        batch: list[ox.Quad] = []
        blank = False
        for q in quads:
            if _reserved(q.graph_name):
                raise InputError(f"{q.graph_name} is reserved: cpgraph keeps it for itself")
            batch.append(q)
            blank = (
                blank or isinstance(q.subject, ox.BlankNode) or isinstance(q.object, ox.BlankNode)
            )
            if len(batch) >= _MAX_INSERT and not blank:
                self._write(added=batch)
                batch = []
        if batch:
            self._write(added=batch)

    def add_graph(self, graph: str) -> None:
        """Declare an empty named graph (listed in the catalogue).

        Raises:
            InputError: if ``graph`` is a reserved name.
        """
        self._writable()
        if graph in RESERVED:
            raise InputError(f"{graph} is reserved: cpgraph keeps it for itself")
        self._send_update(
            f"INSERT DATA {{ GRAPH <{CATALOGUE_GRAPH}> {{ <{graph}> a {_NAMED_GRAPH} }} }}"
        )

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph (``None``: empty the default graph); the statements no other
        graph holds leave the union, in the same request.

        Raises:
            InputError: if ``graph`` is a reserved name.
        """
        self._writable()
        if graph in RESERVED:
            raise InputError(f"{graph} is reserved: cpgraph keeps it for itself")
        name = DEFAULT_GRAPH_NAME if graph is None else str(ox.NamedNode(graph).value)
        kept = ", ".join(f"<{g}>" for g in (name, UNION_GRAPH, CATALOGUE_GRAPH, PROBE_GRAPH))
        self._send_update(
            f"DELETE {{ GRAPH <{UNION_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{name}> "
            f"{{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
            f"FILTER (?h NOT IN ({kept})) }} }} ;\n"
            f"DROP SILENT GRAPH <{name}> ;\n"
            f"DELETE DATA {{ GRAPH <{CATALOGUE_GRAPH}> {{ <{name}> a {_NAMED_GRAPH} }} }}"
        )

    def _writable(self) -> None:
        if self._read_only:
            raise StoreError("the store is open read-only")

    def _held(self, quads: list[ox.Quad]) -> list[ox.Quad]:
        """Those of ``quads`` (with no blank node: a new one is never held) the store holds."""
        wanted = [q for q in quads if not _has_blank(q)]
        if not wanted:
            return []
        rows = " ".join(
            f"({q.subject} {q.predicate} {q.object} <{_physical(q.graph_name)}>)" for q in wanted
        )
        found = self._select(
            "SELECT ?s ?p ?o ?g WHERE { VALUES (?s ?p ?o ?g) { " + rows + " } "
            "GRAPH ?g { ?s ?p ?o } }",
            default_graphs=[EMPTY_GRAPH],
            named_graphs=sorted({_physical(q.graph_name) for q in wanted}),
        )
        held = set()
        for row in found:
            graph = row["g"]
            name = DEFAULT if graph == KEPT_DEFAULT else graph
            held.add(ox.Quad(row["s"], row["p"], row["o"], name))  # type: ignore[arg-type]
        return [q for q in wanted if q in held]

    def _write(self, *, removed: Iterable[ox.Quad] = (), added: Iterable[ox.Quad] = ()) -> None:
        """One update request: ``removed`` out of their graphs and, where no other graph holds
        them, out of the union; ``added`` into their graphs, the union and the catalogue."""
        parts: list[str] = []
        gone = list(removed)
        if gone:
            parts.append("DELETE DATA { " + _quads_text(gone) + " }")
            rows = " ".join(f"({q.subject} {q.predicate} {q.object})" for q in gone)
            reserved = ", ".join(f"<{g}>" for g in (UNION_GRAPH, CATALOGUE_GRAPH, PROBE_GRAPH))
            parts.append(
                f"DELETE {{ GRAPH <{UNION_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ VALUES (?s ?p ?o) "
                f"{{ {rows} }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
                f"FILTER (?h NOT IN ({reserved})) }} }}"
            )
        new = list(added)
        if new:
            graphs = {q.graph_name.value for q in new if isinstance(q.graph_name, ox.NamedNode)}
            union = [
                ox.Quad(q.subject, q.predicate, q.object, ox.NamedNode(UNION_GRAPH)) for q in new
            ]
            catalogue = " ".join(f"<{g}> a {_NAMED_GRAPH} ." for g in sorted(graphs))
            # Blank nodes go in a template (one instance: a label names one node in every
            # graph); stores such as Virtuoso refuse them in INSERT DATA.
            blank = any(_has_blank(q) for q in new)
            parts.append(
                ("INSERT { " if blank else "INSERT DATA { ")
                + _quads_text(new + union)
                + (f" GRAPH <{CATALOGUE_GRAPH}> {{ {catalogue} }}" if catalogue else "")
                + (" } WHERE { }" if blank else " }")
            )
        if parts:
            self._send_update(" ;\n".join(parts))

    def _send_update(self, text: str) -> None:
        self._client.update(text)
        with self._lock:
            self._catalogue = None

    # -- reads --------------------------------------------------------------------------------

    def has_graph(self, graph: str | None) -> bool:
        """Whether a named graph is in the catalogue (``None``: the default graph, always)."""
        return graph is None or graph in self.named_graphs()

    def named_graphs(self) -> list[str]:
        """The named graphs of the dataset, sorted (read again after a write, or when
        :data:`_CATALOGUE_SECONDS` have passed: another front end may have written)."""
        with self._lock:
            if self._catalogue is not None and time.monotonic() < self._catalogue[0]:
                return list(self._catalogue[1])
        rows = self._select(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH <{CATALOGUE_GRAPH}> {{ ?g a {_NAMED_GRAPH} }} }}",
            default_graphs=[EMPTY_GRAPH],
            named_graphs=[CATALOGUE_GRAPH],
        )
        names = sorted(g.value for row in rows if isinstance(g := row.get("g"), ox.NamedNode))
        with self._lock:
            self._catalogue = (time.monotonic() + _CATALOGUE_SECONDS, names)
        return list(names)

    def graph_sizes(self) -> dict[str, int]:
        """The number of statements in each named graph, counted by the store."""
        sizes = dict.fromkeys(self.named_graphs(), 0)
        rows = self._select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            default_graphs=[EMPTY_GRAPH],
            named_graphs=list(sizes) or [EMPTY_GRAPH],
        )
        for row in rows:
            graph, count = row.get("g"), row.get("n")
            if (
                isinstance(graph, ox.NamedNode)
                and graph.value in sizes
                and isinstance(count, ox.Literal)
            ):
                sizes[graph.value] = int(count.value)
        return sizes

    def __len__(self) -> int:
        """The number of quads of the dataset (named graphs and the default graph)."""
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", union_default_graph=False)
        kept = sum(int(row["n"].value) for row in rows)
        return kept + sum(self.graph_sizes().values())

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of the dataset (the default graph's first), or those of one named
        graph, in one streamed answer (so that blank nodes keep their identity)."""
        if graph is not None:
            return self._graph_quads(graph)
        return self._all_quads()

    def _graph_quads(self, graph: str) -> Iterator[ox.Quad]:
        name = ox.NamedNode(_physical_name(graph))
        for row in self._select(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
            default_graphs=[EMPTY_GRAPH],
            named_graphs=[name.value],
        ):
            yield ox.Quad(row["s"], row["p"], row["o"], name)  # type: ignore[arg-type]

    def _all_quads(self) -> Iterator[ox.Quad]:
        named = self.named_graphs()
        for row in self._select(
            f"SELECT ?s ?p ?o ?g WHERE {{ {{ GRAPH <{DEFAULT_GRAPH_NAME}> {{ ?s ?p ?o }} }} "
            "UNION { GRAPH ?g { ?s ?p ?o } FILTER (?g != "
            f"<{DEFAULT_GRAPH_NAME}>) }} }} ORDER BY ?g",
            default_graphs=[EMPTY_GRAPH],
            named_graphs=[DEFAULT_GRAPH_NAME, *named],
        ):
            graph = row.get("g")
            yield ox.Quad(row["s"], row["p"], row["o"], graph if graph is not None else DEFAULT)  # type: ignore[arg-type]

    def triples(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
    ) -> Iterator[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]]:
        """The distinct statements matching a pattern, over every graph (the union). A blank
        node of the pattern matches nothing: one from outside the store is never in it."""
        if isinstance(subject, ox.BlankNode) or isinstance(obj, ox.BlankNode):
            return
        s, p, o = (
            str(t) if t is not None else f"?{v}"
            for t, v in ((subject, "s"), (predicate, "p"), (obj, "o"))
        )
        for row in self._select(f"SELECT DISTINCT * WHERE {{ {s} {p} {o} }}"):
            yield (
                subject or row["s"],  # type: ignore[misc]
                predicate or row["p"],
                obj or row["o"],
            )

    def default_graph_sample(self) -> ox.Quad | None:
        """One statement written to the default graph, or None if none was."""
        for row in self._select(
            "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 1", union_default_graph=False
        ):
            return ox.Quad(row["s"], row["p"], row["o"], DEFAULT)  # type: ignore[arg-type]
        return None

    def dump_graph(self, output: BinarySink, fmt: RdfFormat, graph: str | None) -> None:
        """Stream the triples of one graph (``None``: the default graph) to ``output``."""
        triples = (in_graph(q, DEFAULT) for q in self._graph_quads(graph or DEFAULT_GRAPH_NAME))
        ox.serialize(triples, output, fmt.oxigraph)  # type: ignore[arg-type]

    def dump(
        self,
        output: IO[bytes],
        fmt: RdfFormat,
        *,
        graph: str | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> None:
        """Stream the whole dataset, or one named graph, to ``output`` without holding it.

        Raises:
            InputError: if ``fmt`` holds no graphs and no ``graph`` is given.
        """
        if graph is None and not fmt.holds_graphs:
            raise InputError(f"{fmt.value} holds one graph: name the graph to export")
        quads = self._graph_quads(graph) if graph is not None else self._all_quads()
        if not fmt.holds_graphs:
            quads = (in_graph(q, DEFAULT) for q in quads)
        ox.serialize(quads, output, fmt.oxigraph, prefixes=prefixes)

    def stored_forms(self, literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
        """What the store holds for each of ``literals``, found by writing each new one once
        to :data:`PROBE_GRAPH` and reading it back (Virtuoso keeps ``"007"^^xsd:integer`` as
        ``"7"``); remembered for the life of this object. A read-only store is taken to keep
        literals as written: nothing is written to it through cpgraph."""
        wanted = list(dict.fromkeys(literals))
        with self._lock:
            new = [lit for lit in wanted if lit not in self._forms]
        if new and not self._read_only:
            subjects = [ox.NamedNode(f"{PROBE_GRAPH}#{i}") for i in range(len(new))]
            value = ox.NamedNode(f"{PROBE_GRAPH}#value")
            written = " ".join(f"{s} {value} {lit} ." for s, lit in zip(subjects, new, strict=True))
            graph = f"GRAPH <{PROBE_GRAPH}> {{ {written} }}"
            self._client.update(f"DROP SILENT GRAPH <{PROBE_GRAPH}> ; INSERT DATA {{ {graph} }}")
            try:
                back = {
                    row["s"]: row["o"]
                    for row in self._select(
                        "SELECT ?s ?o WHERE { GRAPH ?g { ?s ?p ?o } }",
                        default_graphs=[EMPTY_GRAPH],
                        named_graphs=[PROBE_GRAPH],
                    )
                }
            finally:
                self._client.update(f"DROP SILENT GRAPH <{PROBE_GRAPH}>")
            with self._lock:
                for s, lit in zip(subjects, new, strict=True):
                    stored = back.get(s)
                    self._forms[lit] = stored if isinstance(stored, ox.Literal) else lit
        with self._lock:
            return {lit: self._forms.get(lit, lit) for lit in wanted}


def _has_blank(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def _visible(graph: str) -> str:
    """A graph a protocol's dataset names, as the store holds it (a reserved name: empty)."""
    return EMPTY_GRAPH if graph in RESERVED else graph


def _reserved(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> bool:
    return isinstance(graph, ox.NamedNode) and graph.value in RESERVED


def _physical_name(graph: str) -> str:
    if graph in RESERVED and graph != DEFAULT_GRAPH_NAME:
        raise InputError(f"{graph} is reserved: cpgraph keeps it for itself")
    return graph


def _physical(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> str:
    """The store's graph for a graph of the dataset (its default graph is kept apart)."""
    return DEFAULT_GRAPH_NAME if isinstance(graph, ox.DefaultGraph) else str(graph.value)


def _quads_text(quads: Iterable[ox.Quad]) -> str:
    """Quads as the ``GRAPH`` blocks of ``INSERT DATA`` or ``DELETE DATA``."""
    by_graph: dict[str, list[str]] = defaultdict(list)
    for q in quads:
        by_graph[_physical(q.graph_name)].append(f"{q.subject} {q.predicate} {q.object} .")
    return " ".join(f"GRAPH <{g}> {{ {' '.join(lines)} }}" for g, lines in by_graph.items())
