"""The merged union: how the embedded Oxigraph database lays out the dataset users see.

The default graph users query is the union of the graphs, each statement once. It is kept
merged in the database's own default graph, so that a statement many sources make is matched
once (Oxigraph's union of graphs is a bag: counts and joins over it were inflated, and slow).
What users write to "the default graph" (the Graph Store Protocol's ``?default``, an update
without ``GRAPH``) is kept in a reserved named graph, :data:`DEFAULT_GRAPH_NAME`, hidden from
``GRAPH ?g``. Every write keeps the merge in step; a build marks its folder
(:data:`MERGED_MARK`) so that a database made by an older cpgraph is read as it was made (the
union computed by Oxigraph) and is merged at its first write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from cpgraph.errors import InputError, StoreError
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import check_rdf_file, in_graph, query_syntax_error, rdf_errors
from cpgraph.sparql.lexer import tokens
from cpgraph.sparql.outbound import remote_failure
from cpgraph.sparql.text import as_insertions, data_operations

MERGED_MARK = "cpgraph-merged-union"  # in a database's folder: its default graph is the merge
DEFAULT_GRAPH_NAME = "urn:x-cpgraph:default-graph"  # where writes to the default graph are kept
DEFAULT = ox.DefaultGraph()
KEPT_DEFAULT = ox.NamedNode(DEFAULT_GRAPH_NAME)
_RESERVED = f"{DEFAULT_GRAPH_NAME} is reserved: it keeps the default graph"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a database keeps the dataset's default graphs.

    ``merged``: the database's default graph is the merge of every graph (else Oxigraph
    computes the union at each query, as in builds of older cpgraph versions). ``kept``: the
    graph that holds what users wrote to the default graph. ``visible``: the named graphs a
    query sees, when that is not all of them (the kept default graph is then hidden).
    """

    merged: bool
    kept: ox.NamedNode | ox.DefaultGraph
    visible: list[ox.NamedNode] | None


def is_merged(folder: Path) -> bool:
    """Whether the database in ``folder`` keeps its default graph as the merge of its graphs
    (a build of this cpgraph; an older one's default graph is Oxigraph's union)."""
    return (folder / MERGED_MARK).is_file()


def _mark_merged(folder: Path) -> None:
    """Say in a database's folder that its default graph is the merge (see the module)."""
    (folder / MERGED_MARK).write_text(
        "The default graph of this database is the merge of its graphs (cpgraph).\n",
        encoding="utf-8",
    )


class MergedDatabase:
    """An Oxigraph database on disk (or in memory when ``path`` is None) that keeps the
    merged union: its layout, and every write, each keeping the merge in step. The bulk
    loads, which bypass transactions, merge it once at their end (at the next read, flush or
    optimize). Queries and reads are :class:`cpgraph.store.oxigraph.GraphStore`'s.
    """

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        """Open the store at ``path`` (created if missing unless ``read_only``).

        A database written by an older cpgraph (no :data:`MERGED_MARK`) is read as it was
        written, its union computed by Oxigraph at each query; opened writable, it is merged
        before its first read or write.

        Raises:
            StoreError: if the store cannot be opened (missing, locked by another writer,
                or not an Oxigraph database).
        """
        self.path = path
        self.read_only = read_only
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        marked = path is None or is_merged(path)
        # Writable and unmarked (new, or made by an older cpgraph): merged at first use.
        self._stale = not marked and not read_only
        self._merged = marked or not read_only
        self._kept: ox.NamedNode | ox.DefaultGraph = KEPT_DEFAULT if self._merged else DEFAULT
        self._layout = self._read_layout() if read_only else None
        self.in_memory = path is None

    # -- the layout -------------------------------------------------------------------------

    def _read_layout(self) -> Layout:
        visible = None
        if self._merged and self._store.contains_named_graph(KEPT_DEFAULT):
            visible = [g for g in self._store.named_graphs() if g != KEPT_DEFAULT]
        return Layout(self._merged, self._kept, visible)  # type: ignore[arg-type]

    def _current_layout(self) -> Layout:
        """The layout a query reads: fixed for a read-only database, else read again."""
        if self._layout is not None:
            return self._layout
        self._settle()
        return self._read_layout()

    def _unsettle(self) -> None:
        """Before a bulk load: drop the merge (a range deletion, instant); see :meth:`_settle`."""
        if not self._stale:
            if self.path is not None:  # killed from here on, it reads as unmerged: it is
                (self.path / MERGED_MARK).unlink(missing_ok=True)
            self._store.clear_graph(DEFAULT)
            self._stale = True

    def _settle(self) -> None:
        """Merge the union if a bulk load (or an older cpgraph) left it unmerged.

        What the database's default graph holds then is what was written to the dataset's
        default graph: it moves to the kept default graph, and the merge is made anew.
        """
        if not self._stale:
            return
        written = [
            in_graph(q, KEPT_DEFAULT)
            for q in self._store.quads_for_pattern(None, None, None, DEFAULT)
        ]
        if written:
            self._store.extend(written)
        self._merge()
        self._stale = False
        if self.path is not None:
            _mark_merged(self.path)

    def _merge(self) -> None:
        """Make the database's default graph the merge of every named graph, anew."""
        self._store.clear_graph(DEFAULT)
        self._store.bulk_extend(
            in_graph(q, DEFAULT)
            for g in list(self._store.named_graphs())
            for q in self._store.quads_for_pattern(None, None, None, g)
        )

    def _physical(self, graph: str | None) -> ox.NamedNode | ox.DefaultGraph:
        """The database's graph for a graph of the dataset (``None``: its default graph).

        Raises:
            InputError: if ``graph`` is the reserved name of the kept default graph.
        """
        if graph is None:
            return self._kept
        if graph == DEFAULT_GRAPH_NAME:
            raise InputError(_RESERVED)
        return ox.NamedNode(graph)

    def _unmerge(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        """Take out of the merge the statements that no graph holds any more."""
        for s, p, o in triples:
            if not any(
                not isinstance(q.graph_name, ox.DefaultGraph)
                for q in self._store.quads_for_pattern(s, p, o, None)
            ):
                self._store.remove(ox.Quad(s, p, o, DEFAULT))

    # -- writes -----------------------------------------------------------------------------

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update, all or nothing, and keep the merged union in step.

        The update sees the dataset as it was written: its default graph is what was written
        to the default graph (moved into the database's default graph for the update), and
        ``GRAPH ?g`` ranges over the named graphs. An update of ``INSERT DATA`` and ``DELETE
        DATA`` alone, what programs send (rdflib's SPARQLUpdateStore among them), changes the
        statements it names and the merge with them (:meth:`_update_data`). For any other,
        which statements it changed is not known from outside Oxigraph, so the merge is made
        again whole: a cost in proportion to the store, paid by the writer alone.

        Raises:
            QuerySyntaxError: if the update is malformed.
            InputError: if the update fails on the store's data (``CREATE GRAPH`` of a graph
                that exists, ``DROP GRAPH`` of one that does not, without ``SILENT``), or
                writes data into the reserved graph :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        operations = data_operations(sparql)
        if operations is not None:
            self._settle()
            self._update_data(sparql, operations, base_iri)
            return
        # Parsed first on an empty store (which nothing else can reach), so that a malformed
        # update is refused before the merge is taken apart for nothing.
        check_update_syntax(sparql, base_iri)
        self._settle()
        self._swap(KEPT_DEFAULT, DEFAULT)
        try:
            self._store.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        except RuntimeError as exc:  # the update's own error: CREATE of a graph that exists, ...
            raise remote_failure(sparql, exc) or InputError(f"the update failed: {exc}") from None
        except OSError as exc:  # or a LOAD or SERVICE that failed
            raise remote_failure(sparql, exc) or StoreError(f"update failed: {exc}") from exc
        finally:
            self._swap(DEFAULT, KEPT_DEFAULT)
            self._merge()

    def _update_data(
        self, sparql: str, operations: list[tuple[int, str]], base_iri: str | None
    ) -> None:
        """Apply an update of ``INSERT DATA`` and ``DELETE DATA`` alone (``operations``, from
        :func:`cpgraph.sparql.text.data_operations`), and the merge with it, in proportion to
        the statements the update names rather than to the store.

        Oxigraph runs the update, on a copy in memory of just what it can change: every
        statement it names (those it deletes read as insertions, on an empty store), as far
        as the store holds them. What the update removed from that copy and what it added
        (its blank nodes new) are then taken out of and put into the store's graphs, and the
        merge follows: in the statements added, out the statements removed that no graph
        holds any more.

        Raises:
            QuerySyntaxError: if the update is malformed.
            InputError: if it names the reserved graph :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the write fails.
        """
        named = ox.Store()
        mirror = ox.Store()
        try:
            named.update(as_insertions(sparql, operations), base_iri=base_iri)
            held = [q for q in named if self._held(q) in self._store]
            mirror.extend(held)
            # Run as it was sent: malformed only so (a blank node in DELETE DATA, say), it
            # is refused here, with its line and column.
            mirror.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        if named.contains_named_graph(KEPT_DEFAULT):
            raise InputError(_RESERVED)
        before, after = set(held), set(mirror)
        removed = before - after
        try:
            for q in removed:
                self._store.remove(self._held(q))
            self._unmerge((q.subject, q.predicate, q.object) for q in removed)
            for graph in mirror.named_graphs():  # one left empty stays, as in Oxigraph
                if not self._store.contains_named_graph(graph):
                    self._store.add_graph(graph)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc
        self.load_quads(after - before)

    def _held(self, quad: ox.Quad) -> ox.Quad:
        """Where the database holds a statement of the dataset (its default graph's apart)."""
        if isinstance(quad.graph_name, ox.DefaultGraph):
            return in_graph(quad, self._kept)
        return quad

    def _swap(
        self, source: ox.NamedNode | ox.DefaultGraph, target: ox.NamedNode | ox.DefaultGraph
    ) -> None:
        """Move the kept default graph between its graph and the database's default graph
        (whose content, the merge or the kept graph, ``target`` loses first)."""
        moved = [
            in_graph(q, target) for q in self._store.quads_for_pattern(None, None, None, source)
        ]
        self._store.clear_graph(target)
        if isinstance(source, ox.DefaultGraph):
            self._store.clear_graph(source)
        elif self._store.contains_named_graph(source):
            self._store.remove_graph(source)
        if moved:
            self._store.extend(moved)

    def load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads in one transaction (all or none), and their statements to the merge.

        Raises:
            InputError: if a quad is in the reserved graph :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._settle()
        batch: list[ox.Quad] = []
        for q in quads:
            if q.graph_name == KEPT_DEFAULT:
                raise InputError(_RESERVED)
            batch.append(self._held(q))
            batch.append(in_graph(q, DEFAULT))
        try:
            self._store.extend(batch)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def bulk_load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add many quads fast, bypassing transactions: only for a store nobody reads yet.

        The merge is made once, at the next read, :meth:`flush` or :meth:`optimize`.

        Raises:
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._unsettle()
        try:
            self._store.bulk_extend(quads)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def bulk_load_file(
        self, path: Path, *, format: RdfFormat, reader: IO[bytes] | None = None
    ) -> None:
        """Load an RDF file straight from disk, streamed by Oxigraph (never whole in memory).

        For builds of large trusted data: the parse and the write both run in Rust, so a file
        of tens of millions of statements needs no more memory than the loader's buffers. The
        merge is made once, as for :meth:`bulk_load_quads`. ``reader``, an open binary file
        of ``path``, is read instead of the path (one that counts what is read, for progress).

        Raises:
            RdfSyntaxError: if the file is malformed (file, line and column in the message).
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        check_rdf_file(path, format)  # RDF/XML: no DTD, no runaway nesting
        self._unsettle()
        try:
            with rdf_errors(str(path)):
                if reader is None:
                    self._store.bulk_load(
                        path=str(path), format=format.oxigraph, base_iri=path.resolve().as_uri()
                    )
                else:
                    self._store.bulk_load(
                        reader, format=format.oxigraph, base_iri=path.resolve().as_uri()
                    )
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph and its statements (``None``: empty the default graph); the
        statements no other graph holds leave the merge.

        Raises:
            InputError: if ``graph`` is the reserved name :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._settle()
        name = self._physical(graph)
        try:
            if not self._store.contains_named_graph(name):
                return
            gone = [
                (q.subject, q.predicate, q.object)
                for q in self._store.quads_for_pattern(None, None, None, name)
            ]
            self._store.remove_graph(name)
            self._unmerge(gone)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def replace_graph(self, graph: str | None, quads: Iterable[ox.Quad]) -> None:
        """Make a graph hold exactly ``quads`` (a drop, a declaration and a load: all or none
        where the caller writes a copy, as :func:`cpgraph.store.builds.writing` does).

        Raises:
            InputError: if ``graph`` is the reserved name :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or the write fails.
        """
        self.drop_graph(graph)
        if graph is not None:
            self.add_graph(graph)
        self.load_quads(quads)

    def add_graph(self, graph: str) -> None:
        """Declare an empty named graph (it then exists even with no statements).

        Raises:
            InputError: if ``graph`` is the reserved name :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._settle()
        name = self._physical(graph)
        assert isinstance(name, ox.NamedNode)
        self._store.add_graph(name)

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the store to ``target`` (a new folder), cheaply.

        Raises:
            StoreError: if ``target`` exists or the copy fails.
        """
        self._settle()
        try:
            self._store.backup(str(target))
            if self._merged:
                _mark_merged(target)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a store in memory
            raise StoreError(f"cannot copy the store to {target}: {exc}") from exc

    def flush(self) -> None:
        """Merge the union if a bulk load left it unmerged, and write everything to disk."""
        self._settle()
        self._store.flush()

    def optimize(self) -> None:
        """Merge the union if needed, and compact the database after a large load."""
        self._settle()
        self._store.optimize()

    def __len__(self) -> int:
        """The number of quads of the dataset (the merge is not counted)."""
        self._settle()
        total = len(self._store)
        if self._merged:  # less the merge, counted inside Oxigraph
            merge = self._store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
            total -= int(next(iter(merge))[0].value)  # type: ignore[arg-type]
        return total


def check_update_syntax(sparql: str, base_iri: str | None) -> None:
    """Refuse a malformed update with its line and column (run on an empty store: an update
    calling LOAD or SERVICE is left to the store).

    Raises:
        QuerySyntaxError: if the update is malformed.
    """
    if any(
        t.lastgroup == "word" and t.group().upper() in ("LOAD", "SERVICE") for t in tokens(sparql)
    ):
        return
    try:
        ox.Store().update(sparql, base_iri=base_iri)
    except SyntaxError as exc:
        raise query_syntax_error(exc) from None
    except (OSError, RuntimeError, ValueError):
        pass
