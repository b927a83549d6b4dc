"""Serving over a remote SPARQL 1.1 store (``CPGRAPH_STORE_URL``): what differs from the
embedded store.

There is no build to open, follow or copy into memory: the process holds one
:class:`~cpgraph.store.remote.RemoteStore` for its life, and each request reads the store as
it is. The dataset's figures are counted from the store at start-up, again after each write
through this process, and again now and then (:data:`FIGURES_SECONDS`) for writes through
other front ends, always in a thread of their own. A write goes straight to the store, each
of its changes one update request (:func:`replace_graph` and the others): there is no
copy-on-write transaction to publish.

A store that does not answer at start-up does not stop the service: it starts with no
figures and the validation context of the repository's files, answers 502 until the store
answers, and counts the figures once it does.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

import pyoxigraph as ox

from cpgraph.errors import CpgraphError, InputError, NotFoundError
from cpgraph.publish.service import DatasetFigures, dataset_figures
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import parse_quads
from cpgraph.server.runtime import Runtime
from cpgraph.store import Store
from cpgraph.store.configured import describe_store, open_store
from cpgraph.store.graph_store import GraphWrite
from cpgraph.store.stored_forms import in_stored_form
from cpgraph.store.update import with_protocol_dataset, written_literals
from cpgraph.validation.contributions import ValidationContext

log = logging.getLogger(__name__)

FIGURES_SECONDS = 60.0  # how often the figures are counted again (other front ends' writes)
NO_FIGURES = DatasetFigures(triples=0, graphs=0, source_extracts=0, entities=0, quads=0)


def open_remote(runtime: Runtime) -> None:
    """Fill in ``runtime``'s store, figures and validation context from the remote store.

    The store is opened writable where the settings give an update endpoint: the routes that
    write (Graph Store, updates, contributions) check their tokens first.
    """
    settings = runtime.settings
    store = open_store(settings)
    runtime.store = store
    runtime.figures = NO_FIGURES
    try:
        context = ValidationContext.from_store(store, base=settings.base_iri)
        if len(context.shapes) == 0:
            log.warning(
                "the store holds no shapes graph (load the repository into it with "
                "'cpgraph build'); contributions are judged by the repository's files"
            )
            context = ValidationContext.from_files(settings.source_dir)
        runtime.context = context
        runtime.figures = dataset_figures(store, base=settings.base_iri)
        runtime.figures_counted = time.monotonic()
    except CpgraphError as exc:
        log.warning(
            "%s does not answer (%s); serving, with the figures counted once it does",
            describe_store(settings),
            exc.message,
        )
        if not hasattr(runtime, "context"):
            runtime.context = ValidationContext.from_files(settings.source_dir)


def refresh_figures(runtime: Runtime, *, now: bool = False) -> None:
    """Count the figures again in a thread of their own: ``now`` (after a write through this
    process), else only when :data:`FIGURES_SECONDS` have passed since the last count (a
    memory read otherwise: it is called before every request)."""
    moment = time.monotonic()
    if not now and moment - runtime.figures_counted < FIGURES_SECONDS:
        return
    runtime.figures_counted = moment  # one count at a time, whatever it comes to
    threading.Thread(
        target=_count, args=(runtime, runtime.store), name="cpgraph-figures", daemon=True
    ).start()


def _count(runtime: Runtime, store: Store) -> None:
    try:
        runtime.figures = dataset_figures(store, base=runtime.settings.base_iri)
    except CpgraphError as exc:
        log.warning("counting the figures failed: %s", exc.message)


# -- writes: each change one request to the store ----------------------------------------------


def _parse(body: bytes, fmt: RdfFormat, graph: str | None) -> list[ox.Quad]:
    if fmt.holds_graphs and fmt is not RdfFormat.JSON_LD:
        raise InputError(f"a graph is sent as triples: {fmt.media_type} carries a dataset")
    return parse_quads(body, format=fmt, source="body", fresh_blank_nodes=True, to_graph=graph)


def _load(store: Store, quads: list[ox.Quad], *, created: bool) -> GraphWrite:
    stored, rewrites = in_stored_form(quads, store.stored_forms)
    store.load_quads(stored)
    return GraphWrite(created, len(rewrites))


def replace_graph(store: Store, graph: str | None, body: bytes, fmt: RdfFormat) -> GraphWrite:
    """PUT (:func:`cpgraph.store.graph_store.replace_graph`) on a remote store: the graph is
    emptied, declared and loaded, three requests (readers between them see it empty).

    Raises:
        RdfSyntaxError, InputError: if the body cannot be read (nothing changes).
        StoreUnreachableError, StoreTimeoutError: if the store fails.
    """
    quads = _parse(body, fmt, graph)
    created = not store.has_graph(graph)
    store.drop_graph(graph)
    if graph is not None:
        store.add_graph(graph)
    return _load(store, quads, created=created)


def merge_documents_into_graph(
    store: Store, graph: str | None, documents: Sequence[tuple[bytes, RdfFormat]]
) -> GraphWrite:
    """POST (:func:`cpgraph.store.graph_store.merge_documents_into_graph`) on a remote store:
    every document read first, then added in one request.

    Raises:
        RdfSyntaxError, InputError: if a document cannot be read (nothing changes).
        StoreUnreachableError, StoreTimeoutError: if the store fails.
    """
    quads = [q for body, fmt in documents for q in _parse(body, fmt, graph)]
    created = not store.has_graph(graph)
    if graph is not None and created:
        store.add_graph(graph)
    return _load(store, quads, created=created)


def delete_graph(store: Store, graph: str | None) -> None:
    """DELETE (:func:`cpgraph.store.graph_store.delete_graph`) on a remote store.

    Raises:
        NotFoundError: if the named graph does not exist.
    """
    if not store.has_graph(graph):
        raise NotFoundError(f"no graph <{graph}> in this store")
    store.drop_graph(graph)


def apply_update(
    store: Store,
    update: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    base_iri: str | None = None,
) -> int:
    """A SPARQL update (:func:`cpgraph.store.update.apply_update`) on a remote store, in one
    request; how many of the literals it writes the store holds in another form.

    Raises:
        QuerySyntaxError, InputError: as the remote store's ``update`` raises them.
    """
    store.update(with_protocol_dataset(update, using, using_named), base_iri=base_iri)
    written = written_literals(update, base_iri=base_iri)
    forms = store.stored_forms(written)
    return sum(forms.get(literal, literal) != literal for literal in written)
