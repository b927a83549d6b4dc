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

Every write keeps the three in step, in one update request. Queries are checked by
Oxigraph's parser here first (one syntax error, with its line, whatever the store), then sent
with the dataset made explicit; results stream from the store through pyoxigraph's parsers.
A store that cannot be reached or fails is a 502 problem, one that does not answer in time a
504; credentials never appear in a message or a log line.

Where the embedded store cannot be matched: a blank node read from the store cannot be named
back to it (a query cannot bind one; ``triples`` with one matches nothing), and quads loaded
by two calls never share one; a default graph merged from graphs that share statements is
read here, over a copy of at most :data:`~cpgraph.store.remote_answers.MAX_MERGED`
statements; updates other than ``INSERT DATA`` and ``DELETE DATA`` are refused, and a write
of more than :data:`~cpgraph.store.remote_writes.REQUEST` statements is staged in several
requests, then applied by one (:class:`~cpgraph.store.remote_writes.StagedWrite`).
Virtuoso keeps some literals in forms of its own (:meth:`RemoteStore.stored_forms` says
which), holds booleans as integers, refuses integers beyond 64 bits, transitive paths with
neither end bound and a ``CONSTRUCT`` that makes a literal a subject (others drop the
statement), leaves the start out of what ``+`` reaches through a cycle, reads ``STR()`` of a
blank node, and binds ``GRAPH ?g {}`` to no graph that holds nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

import pyoxigraph as ox

from cpgraph.errors import InputError, StoreError
from cpgraph.rdf import Term
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.rdf.io import in_graph, query_syntax_error
from cpgraph.sparql.text import as_insertions, data_operations
from cpgraph.store.http import Endpoints, SparqlClient
from cpgraph.store.remote_answers import ACCEPT, ACCEPT_GRAPH, BAG, SET, answer_merged, read_answer
from cpgraph.store.remote_writes import (
    CATALOGUE_GRAPH,
    EMPTY_GRAPH,
    NAMED_GRAPH,
    RESERVED,
    UNION_GRAPH,
    add_graph_text,
    dataset_form,
    drop_graph_text,
    held_quad,
    held_query,
    is_reserved,
    probe_forms,
    send_replace,
    send_stream,
    send_write,
    unreserved,
)
from cpgraph.store.results import BinarySink, QueryResult
from cpgraph.store.sending import (
    builds_graph,
    check_syntax,
    graphs_kept_to,
    prologue,
    query_dataset,
    uses_graph,
    with_separators,
    with_values,
    without_dataset,
)
from cpgraph.store.union import DEFAULT, DEFAULT_GRAPH_NAME, check_update_syntax

if TYPE_CHECKING:
    from cpgraph.config import Settings

# How long the list of named graphs is reused: not at all, so that a graph written through
# another server process or front end is seen by the next query (read your writes).
_CATALOGUE_SECONDS = 0.0


class RemoteStore:
    """A dataset held by a SPARQL 1.1 store on another machine (see the module).

    >>> store = RemoteStore(Endpoints("http://127.0.0.1:1/query"), timeout=1.0)
    >>> store.path is None, store.read_only  # no update endpoint given: read only
    (True, True)
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
        dataset = query_dataset(sparql, default_graphs, named_graphs, base_iri, prefixes)
        text = prologue(base_iri, prefixes) + with_separators(
            sparql if dataset is None or dataset == "unread" else without_dataset(sparql)
        )
        if substitutions:
            text = with_values(text, substitutions)
        if dataset == "unread":
            form: list[tuple[str, str]] = []  # as written: the store reads (or refuses) it
        else:
            if dataset is None:
                default, named = self._visible(sparql, union_default_graph)
            else:  # a reserved graph names an empty one, as in the embedded store
                default = [g for g in dataset[0] if g not in RESERVED]
                named = [g for g in dataset[1] if g not in RESERVED]
                if len(default) > 1 and not self._disjoint(default):
                    read = named if uses_graph(sparql) else []  # only GRAPH reads a named graph
                    return answer_merged(text, self._quads_in([*default, *read]), default, read)
            text, outside = graphs_kept_to(text, set(named), EMPTY_GRAPH)
            form = dataset_form(default, [*named, EMPTY_GRAPH] if outside else named)
        accept = ACCEPT_GRAPH if builds_graph(sparql) else ACCEPT
        return read_answer(self._client.query([("query", text), *form], accept=accept))

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

    def _visible(self, sparql: str, union_default_graph: bool) -> tuple[list[str], list[str]]:
        """The default and named graphs that make the store read the dataset users see (for a
        query that names none)."""
        named = self.named_graphs() if uses_graph(sparql) else []  # only GRAPH reads them
        return [UNION_GRAPH if union_default_graph else DEFAULT_GRAPH_NAME], named

    def _disjoint(self, graphs: list[str]) -> bool:
        """Whether no statement is in two of ``graphs`` (a store reads several default graphs
        one after another, a bag, which is their merge only then)."""
        bag, merged = (
            next(self._select(q, default_graphs=graphs), {}).get("n") for q in (BAG, SET)
        )
        return bag == merged

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
            form = dataset_form(*self._visible(sparql, union_default_graph))
        else:
            form = dataset_form(default_graphs or [], named_graphs or [])
        result = read_answer(self._client.query([("query", sparql), *form], accept=ACCEPT))
        try:
            yield from result.rows()
        finally:
            result.close()

    # -- writes -------------------------------------------------------------------------------

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Apply an update of ``INSERT DATA`` and ``DELETE DATA`` operations, all or nothing,
        keeping the union and the catalogue in step.

        The statements it names are read from the store in one query, the update is run on a
        copy of just those here, and what it changed is written (:meth:`_write`).

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
            if any(is_reserved(q.graph_name) for q in named):
                raise InputError("the update writes into a graph that cpgraph keeps for itself")
            held = self._held(list(named))
            mirror.extend(held)
            mirror.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        before, after = set(held), set(mirror)
        self._write(removed=before - after, added=after - before)

    def load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads (to the default graph, those in it), all or none: in one request when
        they fit (:data:`REQUEST` statements), else staged as they come and applied by one
        last request (:class:`StagedWrite`); those with blank nodes are held until the end
        (a later one may share a node).

        Raises:
            InputError: if a quad is in a reserved graph.
            StoreError: if the store is read-only; StoreUnreachableError if it fails.
        """
        self._writable()
        send_stream(self._send_update, quads)

    def add_graph(self, graph: str) -> None:
        """Declare an empty named graph (listed in the catalogue).

        Raises:
            InputError: if ``graph`` is a reserved name.
        """
        self._writable()
        self._send_update(add_graph_text(unreserved(graph)))

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph (``None``: empty the default graph); the statements no other
        graph holds leave the union, in the same request.

        Raises:
            InputError: if ``graph`` is a reserved name.
        """
        self._writable()
        name = DEFAULT_GRAPH_NAME if graph is None else ox.NamedNode(unreserved(graph)).value
        self._send_update(drop_graph_text(name))

    def replace_graph(self, graph: str | None, quads: Iterable[ox.Quad]) -> None:
        """Make a graph hold exactly ``quads``, all or nothing (:func:`send_replace`).

        Raises:
            InputError: if ``graph`` is a reserved name, or a quad is in a reserved graph.
            StoreError: if the store is read-only; StoreUnreachableError if it fails.
        """
        self._writable()
        name = DEFAULT_GRAPH_NAME if graph is None else ox.NamedNode(unreserved(graph)).value
        send_replace(self._send_update, name, list(quads), listed=graph is not None)

    def _writable(self) -> None:
        if self._read_only:
            raise StoreError("the store is open read-only")

    def _held(self, quads: list[ox.Quad]) -> list[ox.Quad]:
        """Those of ``quads`` (with no blank node: a new one is never held) the store holds."""
        asked = held_query(quads)
        if asked is None:
            return []
        text, graphs = asked
        held = {held_quad(row) for row in self._select(text, named_graphs=graphs)}
        return [q for q in quads if q in held]

    def _write(self, *, removed: Iterable[ox.Quad] = (), added: Iterable[ox.Quad] = ()) -> None:
        """Write a change all or nothing (:func:`send_write`)."""
        send_write(self._send_update, list(removed), list(added))

    def _send_update(self, text: str) -> None:
        self._client.update(text)
        with self._lock:
            self._catalogue = None

    # -- reads --------------------------------------------------------------------------------

    def has_graph(self, graph: str | None) -> bool:
        """Whether a named graph is in the catalogue (``None``: the default graph, always)."""
        return graph is None or graph in self.named_graphs()

    def named_graphs(self) -> list[str]:
        """The named graphs of the dataset, sorted, as the catalogue lists them now (reused
        for :data:`_CATALOGUE_SECONDS` at most: another front end may have written)."""
        with self._lock:
            if self._catalogue is not None and time.monotonic() < self._catalogue[0]:
                return list(self._catalogue[1])
        rows = self._select(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH <{CATALOGUE_GRAPH}> {{ ?g a {NAMED_GRAPH} }} }}",
            named_graphs=[CATALOGUE_GRAPH],
        )
        names = sorted(g.value for row in rows if isinstance(g := row.get("g"), ox.NamedNode))
        with self._lock:
            self._catalogue = (time.monotonic() + _CATALOGUE_SECONDS, names)
        return list(names)

    def graph_sizes(self) -> dict[str, int]:
        """The number of statements in each named graph that holds any, counted by the store
        (an empty graph is left out, as the embedded store leaves it out)."""
        text = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        rows = self._select(text, named_graphs=self.named_graphs())
        return {row["g"].value: int(row["n"].value) for row in rows if row.get("g") is not None}

    def __len__(self) -> int:
        """The number of quads of the dataset (named graphs and the default graph)."""
        rows = self._select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", union_default_graph=False)
        kept = sum(int(row["n"].value) for row in rows)
        return kept + sum(self.graph_sizes().values())

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of the dataset (the default graph's first), or those of one named
        graph, in one streamed answer (so that blank nodes keep their identity)."""
        return self._all_quads() if graph is None else self._graph_quads(graph)

    def _graph_quads(self, graph: str) -> Iterator[ox.Quad]:
        return self._quads_in([graph if graph == DEFAULT_GRAPH_NAME else unreserved(graph)])

    def _quads_in(self, graphs: list[str]) -> Iterator[ox.Quad]:
        """The quads of the store's ``graphs``, in one streamed answer."""
        for row in self._select(
            "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=graphs
        ):
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])  # type: ignore[arg-type]

    def _all_quads(self) -> Iterator[ox.Quad]:
        named = self.named_graphs()
        for row in self._select(
            f"SELECT ?s ?p ?o ?g WHERE {{ {{ GRAPH <{DEFAULT_GRAPH_NAME}> {{ ?s ?p ?o }} }} "
            "UNION { GRAPH ?g { ?s ?p ?o } FILTER (?g != "
            f"<{DEFAULT_GRAPH_NAME}>) }} }} ORDER BY ?g",
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
            yield (subject or row["s"], predicate or row["p"], obj or row["o"])  # type: ignore[misc]

    def statements_at(
        self,
        nodes: Iterable[Term],
        *,
        outgoing: Collection[str] | None,
        incoming: Collection[str] | None,
    ) -> Iterator[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]]:
        """The statements at ``nodes`` (:meth:`cpgraph.store.Store.statements_at`), in one
        query per :data:`_NODES_PER_QUERY` nodes. Blank nodes are left out: one from outside
        the store is never in it, and a store's own cannot be named in a query."""
        named = [n for n in dict.fromkeys(nodes) if not isinstance(n, ox.BlankNode)]
        for start in range(0, len(named), _NODES_PER_QUERY):
            batch = named[start : start + _NODES_PER_QUERY]
            parts = []
            subjects = [n for n in batch if not isinstance(n, ox.Literal)]
            if (outgoing is None or outgoing) and subjects:
                parts.append(_side("?s", subjects, outgoing))
            if incoming is None or incoming:
                parts.append(_side("?o", batch, incoming))
            if not parts:
                continue
            query = "SELECT DISTINCT ?s ?p ?o WHERE { " + " UNION ".join(parts) + " }"
            for row in self._select(query):
                yield row["s"], row["p"], row["o"]  # type: ignore[misc]

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
        literals as written: nothing is written to it through cpgraph.

        Raises:
            InputError: naming a literal the store refuses to hold (one it cannot read).
        """
        wanted = list(dict.fromkeys(literals))
        with self._lock:
            new = [lit for lit in wanted if lit not in self._forms]
        if new and not self._read_only:
            found = probe_forms(self._client, new)
            with self._lock:
                self._forms.update(found)
        with self._lock:
            return {lit: self._forms.get(lit, lit) for lit in wanted}


_NODES_PER_QUERY = 200  # nodes named in one query of statements_at


def _side(variable: str, nodes: Sequence[Term], predicates: Collection[str] | None) -> str:
    """One direction of :meth:`RemoteStore.statements_at`: ``variable`` bound to ``nodes``,
    the predicate to ``predicates`` (None: any)."""
    values = f"VALUES {variable} {{ {' '.join(str(n) for n in nodes)} }}"
    if predicates is not None:
        values += f" VALUES ?p {{ {' '.join(str(ox.NamedNode(p)) for p in sorted(predicates))} }}"
    return f"{{ {values} ?s ?p ?o }}"
