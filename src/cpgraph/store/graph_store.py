"""The SPARQL 1.1 Graph Store HTTP Protocol's operations, as library functions.

A graph is named by its IRI, or ``None`` for the store's default graph. Reads use the
current build; a write goes to a store's folder, as one copy-on-write transaction of the
embedded store (all or nothing), or to a store written straight (a remote store, each change
one request: :func:`cpgraph.store.builds.writing`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cpgraph.errors import InputError, NotFoundError
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import parse_quads
from cpgraph.store.builds import writing
from cpgraph.store.interface import Store
from cpgraph.store.results import BinarySink
from cpgraph.store.stored_forms import in_stored_form

if TYPE_CHECKING:
    from pyoxigraph import Quad


def read_graph(store: Store, graph: str | None, output: BinarySink, fmt: RdfFormat) -> None:
    """Write the triples of ``graph`` to ``output``.

    Raises:
        NotFoundError: if the named graph does not exist.
    """
    if not store.has_graph(graph):
        raise NotFoundError(f"no graph <{graph}> in this store")
    store.dump_graph(output, fmt, graph)


def _parse(body: bytes, fmt: RdfFormat, graph: str | None, base_iri: str | None) -> list[Quad]:
    if fmt.holds_graphs and fmt is not RdfFormat.JSON_LD:
        raise InputError(f"a graph is sent as triples: {fmt.media_type} carries a dataset")
    return parse_quads(
        body, format=fmt, base_iri=base_iri, source="body", fresh_blank_nodes=True, to_graph=graph
    )


@dataclass(frozen=True, slots=True)
class GraphWrite:
    """What a write did: whether the graph is new, and how many of the literals written the
    store holds in another form than sent (``"007"^^xsd:integer`` as ``"7"``; see
    :mod:`cpgraph.store.stored_forms`)."""

    created: bool
    rewritten: int = 0


def replace_graph(
    target: Path | Store,
    graph: str | None,
    body: bytes,
    fmt: RdfFormat,
    *,
    base_iri: str | None = None,
) -> GraphWrite:
    """PUT: make ``graph`` hold exactly the triples in ``body``; say whether it is new and
    how many literals the store rewrote.

    Raises:
        RdfSyntaxError: if ``body`` is malformed (nothing changes).
        InputError: if ``fmt`` carries a dataset rather than a graph.
        StoreError: if the write fails (nothing changes).
    """
    quads = _parse(body, fmt, graph, base_iri)
    with writing(target) as store:
        created = not store.has_graph(graph)
        stored, rewrites = in_stored_form(quads, store.stored_forms)
        store.replace_graph(graph, stored)
        return GraphWrite(created, len(rewrites))


def _load(store: Store, quads: list[Quad], *, created: bool) -> GraphWrite:
    """Load ``quads`` in the form ``store`` holds them, counting the literals rewritten."""
    stored, rewrites = in_stored_form(quads, store.stored_forms)
    store.load_quads(stored)
    return GraphWrite(created, len(rewrites))


def merge_documents_into_graph(
    target: Path | Store,
    graph: str | None,
    documents: Sequence[tuple[bytes, RdfFormat]],
    *,
    base_iri: str | None = None,
) -> GraphWrite:
    """POST of one or several RDF documents (a multipart body): add the triples of all of
    them to ``graph`` in one write; say whether the graph is new and how many literals the
    store rewrote.

    Each document's blank nodes are its own (renamed): they merge neither with each other's
    nor with the store's.

    Raises:
        RdfSyntaxError, InputError, StoreError: as :func:`replace_graph`; nothing changes.
    """
    quads = [q for body, fmt in documents for q in _parse(body, fmt, graph, base_iri)]
    with writing(target) as store:
        created = not store.has_graph(graph)
        if graph is not None and created:
            store.add_graph(graph)
        return _load(store, quads, created=created)


def delete_graph(target: Path | Store, graph: str | None) -> None:
    """DELETE: remove ``graph`` (the default graph is emptied).

    Raises:
        NotFoundError: if the named graph does not exist (nothing changes).
        StoreError: if the write fails (nothing changes).
    """
    with writing(target) as store:
        if not store.has_graph(graph):
            raise NotFoundError(f"no graph <{graph}> in this store")
        store.drop_graph(graph)


def new_graph_iri(collection: str) -> str:
    """A fresh graph IRI under ``collection`` (the graph store's own URL), for a POST to it."""
    return f"{collection.rstrip('/')}/{uuid.uuid4().hex}"
