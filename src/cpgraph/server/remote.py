"""Serving over a remote SPARQL 1.1 store (``CPGRAPH_STORE_URL``): what differs from the
embedded store.

There is no build to open, follow or copy into memory: the process holds one
:class:`~cpgraph.store.remote.RemoteStore` for its life, and each request reads the store as
it is. The dataset's figures are counted from the store at start-up, again after each write
through this process, and again now and then (:data:`FIGURES_SECONDS`) for writes through
other front ends, always in a thread of their own. A write goes straight to the store, each
of its changes one update request (:func:`cpgraph.store.builds.writing`): there is no
copy-on-write transaction to publish.

A store that does not answer at start-up does not stop the service: it starts with no
figures and the validation context of the repository's files, answers 502 until the store
answers, and counts the figures once it does.
"""

from __future__ import annotations

import logging
import threading
import time

from cpgraph.errors import CpgraphError
from cpgraph.publish.service import DatasetFigures, dataset_figures
from cpgraph.server.runtime import Runtime
from cpgraph.store import Store
from cpgraph.store.configured import describe_store, open_store
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
