"""What a server process serves with, typed: one :class:`Runtime` per application.

:func:`cpgraph.server.app.create_app` makes it with what is known before start-up (the
settings, the saved queries, the supervisor's shared rows); the app's lifespan fills in
the rest (the store, the figures, the pool, the limits). The routes read it through
:data:`cpgraph.server.deps.RuntimeDep`, the fast GET path (:mod:`cpgraph.server.protocol`)
holds it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the types only: the supervisor imports this module, and stays light
    import asyncio
    import threading

    from starlette.applications import Starlette

    from cpgraph.config import Settings
    from cpgraph.engine.limits import ClientLimiter, SharedCounts
    from cpgraph.engine.pool import QueryPool
    from cpgraph.publish.dumps import DumpCache
    from cpgraph.publish.service import DatasetFigures
    from cpgraph.saved.library import Library
    from cpgraph.server.board import Board
    from cpgraph.store import Store
    from cpgraph.store.builds import BuildWatch
    from cpgraph.store.memory import MemoryCopies
    from cpgraph.validation.contributions import ValidationContext
    from cpgraph.validation.contributors import Contributor
    from cpgraph.validation.jobs import ValidationRunner

log = logging.getLogger(__name__)


def no_supervisor() -> None:
    """What a stuck query does outside ``cpgraph serve``: it is logged, nothing more."""
    log.error(
        "a stuck query keeps running in this process: run the service with 'cpgraph serve' "
        "(which replaces such a process) or restart it"
    )


@dataclass(slots=True, eq=False)
class Runtime:
    """The state of one application: made once, never replaced.

    The fields without a default are set by the app's lifespan, before any request; the
    build's fields (``store`` to ``figures``) change as new builds are followed
    (:func:`cpgraph.server.deps.reload_store`). Over a remote store (``remote``) there is no
    build: ``store`` is the one :class:`~cpgraph.store.remote.RemoteStore` for the process's
    life, the build's other fields keep their inert defaults, and the figures are counted
    again now and then (:mod:`cpgraph.server.remote`).
    """

    settings: Settings
    library: Library
    board: Board | None = None  # this process's row of the shared board, under a supervisor
    validation_counts: SharedCounts | None = None  # validations per client, every process
    drain: Callable[[], None] = no_supervisor  # what a stuck query calls for
    validations: ValidationRunner | None = None  # made at the first validation
    dump_cache: DumpCache | None = None  # made at the first dump

    remote: bool = False  # answered by a remote SPARQL 1.1 store (CPGRAPH_STORE_URL)

    # The build served, and how it is followed (the embedded store's; inert over a remote).
    store: Store = field(init=False)  # a GraphStore, or the RemoteStore
    store_path: str | None = None  # the build's folder, as a string
    store_link: str | None = None  # where the store's link pointed when read
    store_lock: threading.Lock | None = None  # against a memory copy put in place
    build_watch: BuildWatch | None = None
    build_stamp: int | str | None = None
    memory: MemoryCopies | None = None
    figures: DatasetFigures = field(init=False)  # the home page's and service's counts
    figures_counted: float = 0.0  # when (monotonic) the figures were last counted (remote)

    # Made at start-up.
    allocator: str = field(init=False)  # the allocator this process runs with
    pool: QueryPool = field(init=False)
    limiter: ClientLimiter = field(init=False)
    write_lock: asyncio.Lock = field(init=False)  # one write at a time in this process
    context: ValidationContext = field(init=False)
    contributor_tokens: dict[str, Contributor] = field(init=False)


def runtime_of(app: Starlette) -> Runtime:
    """The runtime of an application made by :func:`cpgraph.server.app.create_app`."""
    runtime: Runtime = app.state.runtime
    return runtime
