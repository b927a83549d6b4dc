"""The embedded implementation of :class:`cpgraph.store.Store`: a pyoxigraph database.

:class:`GraphStore` answers queries over the dataset users see, read from the merged union
that :class:`~cpgraph.store.union.MergedDatabase` keeps and writes. Terms crossing the
interface are pyoxigraph terms; results are :class:`~cpgraph.store.results.QueryResult`.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import pyoxigraph as ox

from cpgraph.errors import InputError, NotAcceptableError, QuerySyntaxError, StoreError
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.rdf.io import in_graph, query_syntax_error
from cpgraph.sparql.joins import Pattern, hash_join_rewrite
from cpgraph.sparql.outbound import remote_failure
from cpgraph.store.copies import copy_database
from cpgraph.store.datasets import names_merge, names_no_dataset, query_options
from cpgraph.store.lookups import statements_at
from cpgraph.store.results import (
    BinarySink,
    BoundedSink,
    PastBoundError,
    QueryKind,
    QueryResult,
)
from cpgraph.store.stored_forms import oxigraph_stored_forms
from cpgraph.store.union import DEFAULT, DEFAULT_GRAPH_NAME, KEPT_DEFAULT, MergedDatabase

_KEPT_VIEWS = 4  # views of a build's named datasets kept (GraphStore._view), at most
_KEPT_VIEW_QUADS = 200_000  # and each of at most these many quads
_BAG = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
_SET = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"
# How many statements of the default graph match a predicate (and a class).
_COUNT_PATTERN = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s {predicate} {obj} }}"


class GraphStore(MergedDatabase):
    """An Oxigraph store on disk (or in memory when ``path`` is None).

    The dataset it holds is the one users see: named graphs, and a default graph of what was
    written to it without a name; a query's default graph is the union of all of them, each
    statement once, kept merged (:mod:`cpgraph.store.union`).

    >>> store = GraphStore(None)
    >>> g1, g2 = ox.NamedNode("urn:g1"), ox.NamedNode("urn:g2")
    >>> t = (ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"))
    >>> store.load_quads([ox.Quad(*t, g1), ox.Quad(*t, g2)])
    >>> len(store), next(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").rows())["n"].value
    (2, '1')
    """

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        """Open the store at ``path``, as :class:`MergedDatabase` does.

        Raises:
            StoreError: if the store cannot be opened (missing, locked by another writer,
                or not an Oxigraph database).
        """
        super().__init__(path, read_only=read_only)
        self._sizes: dict[tuple[str, str | None], int] = {}
        self._views: dict[tuple[tuple[ox.NamedNode, ...], tuple[ox.NamedNode, ...]], ox.Store] = {}
        self._disjoints: dict[tuple[ox.NamedNode, ...], bool] = {}

    def memory_copy(self) -> GraphStore:
        """A read-only copy of this store held in memory: the same dataset, read faster.

        A build never changes once published, so a server may answer from a copy of it
        (:mod:`cpgraph.store.memory`). The copy keeps :attr:`path` (it describes the same
        build) and the physical layout (the merged union, the kept default graph), empty
        named graphs included.

        Raises:
            StoreError: if the copy cannot be made, or does not hold every quad.
        """
        self._settle()
        copy = copy_database(self._store)
        held = GraphStore.__new__(GraphStore)
        held.path = self.path
        held.read_only = True
        held._store = copy
        held._stale = False
        held._merged = self._merged
        held._kept = self._kept
        held._layout = held._read_layout()
        held.in_memory = True
        held._sizes = dict(self._sizes)
        held._views = {}
        held._disjoints = dict(self._disjoints)
        return held

    # -- queries ----------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        base_iri: str | None = None,
        substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query.

        The dataset is the one the protocol names, if it names one (``default_graphs`` and
        ``named_graphs``: ``default-graph-uri`` and ``named-graph-uri``), which replaces the
        query's own whole; else the query's own ``FROM`` and ``FROM NAMED``; else the union
        of all graphs (what was written to the default graph, if ``union_default_graph`` is
        false) and every named graph. A default graph of several graphs is their merge, each
        statement once, and the reserved :data:`DEFAULT_GRAPH_NAME` names an empty graph.
        ``substitutions`` binds variables to terms before evaluation, so that values are never
        spliced into the query text. ``prefixes`` are predeclared (the query's own PREFIX
        declarations take precedence).

        Raises:
            QuerySyntaxError: if the query is malformed, with its line and column.
            StoreError: if the store fails while evaluating.
        """
        raw = self._evaluate(
            sparql,
            query_options(
                sparql,
                union_default_graph,
                default_graphs,
                named_graphs,
                base_iri,
                substitutions,
                prefixes,
                self._current_layout(),
            ),
        )
        if isinstance(raw, ox.QuerySolutions):
            return QueryResult(QueryKind.SOLUTIONS, raw)
        if isinstance(raw, ox.QueryBoolean):
            return QueryResult(QueryKind.BOOLEAN, raw)
        return QueryResult(QueryKind.GRAPH, raw)

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
        """The results of a SELECT or an ASK in ``fmt``, or None as soon as they pass
        ``max_bytes`` or take longer than ``seconds``.

        For an answer that must stay small and quick (a point lookup answered where it
        arrives): the evaluation is abandoned at the first bound it passes. The dataset and
        prefixes are as for :meth:`query`.

        Raises:
            QuerySyntaxError: if the query is malformed, with its line and column.
            NotAcceptableError: if the query is a CONSTRUCT or a DESCRIBE.
            StoreError: if the store fails while evaluating.
        """
        options = query_options(
            sparql,
            True,
            default_graphs,
            named_graphs,
            base_iri,
            None,
            prefixes,
            self._current_layout(),
        )
        if names_merge(options):
            return None  # graphs to merge first: not a quick answer
        raw = self._evaluate(sparql, options)
        if not isinstance(raw, (ox.QuerySolutions, ox.QueryBoolean)):
            raise NotAcceptableError(f"a graph result cannot be written as {fmt.value}")
        sink = BoundedSink(max_bytes, time.monotonic() + seconds)
        try:
            raw.serialize(cast("IO[bytes]", sink), fmt.oxigraph)
        except PastBoundError:
            return None
        except Exception as exc:  # an evaluation error, raised as the solutions are written
            raise remote_failure(sparql, exc) or StoreError(f"query failed: {exc}") from exc
        return sink.getvalue()

    def _evaluate(self, sparql: str, options: dict[str, Any]) -> Any:
        store = self._store
        if names_merge(options):
            store, options = self._dataset(sparql, options)
        planned = self._planned(sparql, options) if store is self._store else None
        if planned is not None:
            try:
                return store.query(planned, **options)
            except (SyntaxError, ValueError):
                pass  # the query's own text gives the error, with its own line and column
            except OSError as exc:
                raise remote_failure(sparql, exc) or StoreError(f"query failed: {exc}") from exc
        try:
            return store.query(sparql, **options)
        except SyntaxError as exc:
            raise query_syntax_error(exc, text=sparql, prefixes=options.get("prefixes")) from None
        except ValueError as exc:
            raise QuerySyntaxError(str(exc)) from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: a SERVICE's answer unreadable
            failure = remote_failure(sparql, exc)
            if failure is not None:
                raise failure from exc
            if isinstance(exc, RuntimeError):
                raise
            raise StoreError(f"query failed: {exc}") from exc

    def _dataset(self, sparql: str, options: dict[str, Any]) -> tuple[ox.Store, dict[str, Any]]:
        """Where a query whose dataset :func:`names_merge` reads it, and the options that
        read it there.

        A default graph of several graphs is their merge, each statement once: Oxigraph
        reads them one after another, a bag, which is the merge when no statement is in two
        of them (counted once per build). The reserved name of the kept default graph names
        an empty graph. Otherwise the query reads a view of its dataset (:meth:`_view`).
        """
        default = [g for g in options["default_graph"] if g != KEPT_DEFAULT]
        if KEPT_DEFAULT not in options["named_graphs"] and (
            len(default) < 2 or self._disjoint(default)
        ):
            return self._store, {**options, "default_graph": default}
        return self._view(sparql, default, options)

    def _disjoint(self, graphs: list[ox.NamedNode]) -> bool:
        """Whether no statement is in two of ``graphs``."""
        key = tuple(graphs)
        disjoint = self._disjoints.get(key)
        if disjoint is None:
            read: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = list(graphs)
            try:
                bag, merged = (
                    next(cast("ox.QuerySolutions", self._store.query(q, default_graph=read)))
                    for q in (_BAG, _SET)
                )
            except OSError as exc:
                raise StoreError(f"query failed: {exc}") from exc
            disjoint = bag["n"] == merged["n"]
            if self._layout is not None:  # a build that never changes
                self._disjoints[key] = disjoint
        return disjoint

    def _view(
        self, sparql: str, default: list[ox.NamedNode], options: dict[str, Any]
    ) -> tuple[ox.Store, dict[str, Any]]:
        """A store in memory holding a query's dataset, and the options that read it: its
        default graph the merge of the graphs ``default``, and its named graphs (copied only
        for a query that can read them: one with ``GRAPH``), the kept default graph never.
        A build never changes, so a small view of it is kept for the next query that names
        the same dataset."""
        named = [g for g in options["named_graphs"] if g != KEPT_DEFAULT]
        if "graph" not in sparql.lower():
            named = []  # only GRAPH reads a named graph
        key = (tuple(default), tuple(named))
        view = self._views.get(key)
        if view is None:
            view = ox.Store()
            try:
                view.bulk_extend(
                    in_graph(q, DEFAULT)
                    for g in default
                    for q in self._store.quads_for_pattern(None, None, None, g)
                )
                view.bulk_extend(
                    q for g in named for q in self._store.quads_for_pattern(None, None, None, g)
                )
            except OSError as exc:
                raise StoreError(f"query failed: {exc}") from exc
            if self._layout is not None and len(view) <= _KEPT_VIEW_QUADS:  # read-only
                while len(self._views) >= _KEPT_VIEWS:
                    self._views.pop(next(iter(self._views)), None)
                self._views[key] = view
        return view, {**options, "default_graph": DEFAULT}

    def _planned(self, sparql: str, options: dict[str, Any]) -> str | None:
        """The query as Oxigraph should evaluate it when a join over whole classes is better
        hashed than looked up (:mod:`cpgraph.sparql.joins`), else None.

        Only on a build that never changes (read-only or a copy in memory), whose default
        graph the query reads as stored (the merged union), since the sizes that decide are
        counted there once per build.
        """
        if (
            not self.read_only
            or not self._merged
            or options.keys() - {"prefixes", "named_graphs"}
            or ("from" in sparql.lower() and not names_no_dataset(sparql))
        ):
            return None
        return hash_join_rewrite(sparql, self._pattern_size, options.get("prefixes"))

    def _pattern_size(self, pattern: Pattern) -> int:
        """How many statements of the default graph match ``pattern`` (counted once)."""
        key = (pattern.predicate, pattern.type_class)
        size = self._sizes.get(key)
        if size is None:
            try:
                # Terms written by Oxigraph itself (a NamedNode refuses a malformed IRI).
                obj = "?o" if pattern.type_class is None else str(ox.NamedNode(pattern.type_class))
                count = _COUNT_PATTERN.format(predicate=ox.NamedNode(pattern.predicate), obj=obj)
                solutions = cast("ox.QuerySolutions", self._store.query(count))
                size = int(cast("ox.Literal", next(solutions)["n"]).value)
            except (OSError, StopIteration, TypeError, ValueError):
                size = 0  # never rewrite on a size not known
            self._sizes[key] = size
        return size

    def stored_forms(self, literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
        """What Oxigraph holds for each of ``literals`` (:func:`oxigraph_stored_forms`)."""
        return oxigraph_stored_forms(literals)

    # -- reads ------------------------------------------------------------------------------

    def default_graph_sample(self) -> ox.Quad | None:
        """One statement written to the default graph (not the union), or None if none was."""
        graphs = (DEFAULT, self._kept) if self._stale else (self._kept,)
        for graph in graphs:
            for q in self._store.quads_for_pattern(None, None, None, graph):
                return in_graph(q, DEFAULT)
        return None

    def graph_sizes(self) -> dict[str, int]:
        """The number of statements in each named graph, counted inside Oxigraph."""
        solutions = self.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            union_default_graph=False,
        )
        sizes: dict[str, int] = {}
        for row in solutions.rows():
            graph, count = row["g"], row["n"]
            if isinstance(graph, ox.NamedNode) and isinstance(count, ox.Literal):
                sizes[graph.value] = int(count.value)
        return sizes

    def triples(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None,
    ) -> Iterator[
        tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
    ]:
        """The distinct statements matching a pattern, over every graph (an index lookup)."""
        self._settle()
        if self._merged:
            for quad in self._store.quads_for_pattern(subject, predicate, obj, DEFAULT):
                yield quad.subject, quad.predicate, quad.object  # type: ignore[misc]
            return
        seen: set[tuple[Any, Any, Any]] = set()
        for quad in self._store.quads_for_pattern(subject, predicate, obj, None):
            triple = (quad.subject, quad.predicate, quad.object)
            if triple not in seen:
                seen.add(triple)
                yield triple  # type: ignore[misc]

    def statements_at(
        self,
        nodes: Iterable[ox.NamedNode | ox.BlankNode | ox.Literal],
        *,
        outgoing: Collection[str] | None,
        incoming: Collection[str] | None,
    ) -> Iterator[
        tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
    ]:
        """The statements at ``nodes`` (:meth:`cpgraph.store.Store.statements_at`), by index
        lookups."""
        return statements_at(self, nodes, outgoing=outgoing, incoming=incoming)

    def named_graphs(self) -> list[str]:
        """The IRIs of the store's named graphs, sorted."""
        self._settle()
        return sorted(
            g.value
            for g in self._store.named_graphs()
            if isinstance(g, ox.NamedNode) and g != KEPT_DEFAULT
        )

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of the dataset (what was written to the default graph first), or those
        of one named graph."""
        self._settle()
        if graph is not None:
            return self._store.quads_for_pattern(None, None, None, self._physical(graph))
        return self._all_quads()

    def _all_quads(self) -> Iterator[ox.Quad]:
        for q in self._store.quads_for_pattern(None, None, None, self._kept):
            yield in_graph(q, DEFAULT)
        for g in self._store.named_graphs():
            if g != KEPT_DEFAULT:
                yield from self._store.quads_for_pattern(None, None, None, g)

    def dump(
        self,
        output: IO[bytes],
        fmt: RdfFormat,
        *,
        graph: str | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> None:
        """Stream the whole dataset, or one named graph, to ``output`` without building it.

        Formats that hold no graphs (Turtle, N-Triples, RDF/XML) need ``graph``.

        Raises:
            InputError: if ``fmt`` holds no graphs and no ``graph`` is given.
            StoreError: if the store fails while reading.
        """
        if graph is None and not fmt.holds_graphs:
            raise InputError(f"{fmt.value} holds one graph: name the graph to export")
        self._settle()
        try:
            if graph is not None:
                self._store.dump(
                    output, fmt.oxigraph, from_graph=self._physical(graph), prefixes=prefixes
                )
            elif not self._merged:
                self._store.dump(output, fmt.oxigraph, prefixes=prefixes)
            else:  # the database's default graph is the merge: the dataset is written quad by quad
                ox.serialize(self._all_quads(), output, fmt.oxigraph, prefixes=prefixes)
        except OSError as exc:
            raise StoreError(f"dumping the store failed: {exc}") from exc

    def has_graph(self, graph: str | None) -> bool:
        """Whether a named graph exists (``None``: the default graph, which always exists)."""
        if graph is None:
            return True
        if graph == DEFAULT_GRAPH_NAME and self._merged:
            return False
        return bool(self._store.contains_named_graph(ox.NamedNode(graph)))

    def dump_graph(self, output: BinarySink, fmt: RdfFormat, graph: str | None) -> None:
        """Stream the triples of one graph (``None``: the default graph) to ``output``.

        Raises:
            StoreError: if the store fails while reading.
        """
        self._settle()
        try:
            self._store.dump(
                cast("IO[bytes]", output), fmt.oxigraph, from_graph=self._physical(graph)
            )
        except OSError as exc:
            raise StoreError(f"dumping the graph failed: {exc}") from exc
