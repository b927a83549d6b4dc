"""The FastAPI application of one server process: :func:`create_app` builds it over a
:class:`cpgraph.server.runtime.Runtime` (``cpgraph serve`` runs it under uvicorn, see
:mod:`cpgraph.server.supervisor`)."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, cast

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from cpgraph import __version__
from cpgraph.config import Settings
from cpgraph.engine.limits import ClientLimiter, SharedCounts
from cpgraph.engine.pool import QueryPool
from cpgraph.errors import MemoryLimitError, StoreError
from cpgraph.publish.service import build_figures
from cpgraph.saved.library import library_folder, load_library
from cpgraph.server.allocator import in_use as allocator_in_use
from cpgraph.server.board import Board
from cpgraph.server.deps import follow_current_build
from cpgraph.server.headers import header_middleware
from cpgraph.server.problems import install_problem_handlers
from cpgraph.server.remote import open_remote
from cpgraph.server.routes import (
    browse,
    contributions,
    dumps,
    graph_store,
    home,
    ontology,
    queries,
    query_page,
    resources,
    sparql,
)
from cpgraph.server.runtime import Runtime
from cpgraph.server.static import DOCS_PATH, mount_static
from cpgraph.server.watchdog import MemoryWatchdog
from cpgraph.store.builds import BuildWatch, current_build, store_link
from cpgraph.store.configured import is_remote
from cpgraph.store.following import serve_memory_copy
from cpgraph.store.memory import MemoryCopies
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.remote import RemoteStore
from cpgraph.validation.contributions import ValidationContext
from cpgraph.validation.contributors import load_contributors

if TYPE_CHECKING:
    from cpgraph.store.following import Served

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    client_counts: SharedCounts | None = None,
    validation_counts: SharedCounts | None = None,
    board: Board | None = None,
    memory_ceiling: int | None = None,
) -> FastAPI:
    """The cpgraph web application over the current store in ``settings.store_dir``, or
    over the remote store ``settings.store_url`` names (:mod:`cpgraph.server.remote`).

    Startup opens the current build read-only (for the figures and pages), or the remote
    store, and starts the query worker pool; shutdown stops the workers. Under a supervisor,
    ``client_counts`` and ``validation_counts`` are this process's rows of the per-client
    counts, ``board`` its row of the shared board (:mod:`cpgraph.server.board`), and
    ``memory_ceiling`` the resident size past which it answers 503 and exits
    (:mod:`cpgraph.server.watchdog`).
    """

    runtime = Runtime(
        settings=settings,
        library=load_library(library_folder(settings.source_dir)),
        board=board,
        validation_counts=validation_counts,
        remote=is_remote(settings),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if runtime.remote:
            await asyncio.to_thread(open_remote, runtime)
        else:
            open_embedded(runtime)
        runtime.allocator = allocator_in_use()
        runtime.pool = QueryPool(
            size=settings.query_workers,
            timeout=settings.query_timeout,
            on_stuck=lambda: runtime.drain(),
            tracker=None if board is None else board.in_flight,
            remote=runtime.remote,
        )
        runtime.limiter = client_limiter(settings, client_counts)
        runtime.write_lock = asyncio.Lock()
        runtime.contributor_tokens = load_contributors(
            settings.contributors_file, operator_token=settings.token
        )
        await runtime.pool.start()
        watchdog = None
        if memory_ceiling is not None:
            pool = runtime.pool
            watchdog = MemoryWatchdog(
                memory_ceiling,
                asyncio.get_running_loop(),
                lambda resident: log.error(
                    "%d queries answered 503 for the memory ceiling",
                    pool.fail_all(
                        MemoryLimitError(
                            "the server process answering this query passed its memory "
                            f"ceiling ({resident >> 20} MiB) and is replaced; narrow the "
                            "query (fewer groups, a LIMIT, more specific patterns)"
                        )
                    ),
                ),
            )
            watchdog.start()
        if board is not None:
            board.mark_ready(os.getpid())
        # What start-up made (the validation context, the figures, the modules) stays for the
        # process's life: out of the collector's way, a full collection no longer walks it.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if watchdog is not None:
                watchdog.close()
            await runtime.pool.close()
            if runtime.memory is not None:
                runtime.memory.close(timeout=0)
            if runtime.build_watch is not None:
                runtime.build_watch.close()
            if isinstance(runtime.store, RemoteStore):
                runtime.store.close()
            del runtime.store  # the build is let go of with the application

    app = FastAPI(
        title="cpgraph",
        version=__version__,
        summary="A knowledge graph of cleaner-production policy in China, over SPARQL.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI from the package, not a CDN (cpgraph.server.static)
        redoc_url=None,  # ReDoc would come from a CDN
    )
    app.state.runtime = runtime
    install_problem_handlers(app)
    app.add_middleware(FollowCurrentBuild, runtime=runtime)
    for middleware in header_middleware(  # innermost first
        query_paths=[query_page.QUERY_PATH],
        api_docs_paths=[DOCS_PATH],
    ):
        app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
    app.include_router(home.router)
    app.include_router(sparql.router)
    queries.install(app, runtime.library)
    for pages in (resources, ontology, browse, query_page):
        app.include_router(pages.router)
    mount_static(app)
    app.include_router(graph_store.router)
    app.include_router(contributions.router)
    app.include_router(dumps.router)
    return app


def open_embedded(runtime: Runtime) -> None:
    """Fill in ``runtime``'s build (served, followed, copied into memory), its figures and
    the validation context from the embedded store's current build.

    Raises:
        StoreError: if there is no current build (run ``cpgraph build``).
    """
    settings = runtime.settings
    # The stamp, then the link, then the build it points to: a build published between
    # any two of them is followed at the first request (see follow_current_build).
    runtime.build_watch = BuildWatch(settings.store_dir)
    runtime.build_stamp = runtime.build_watch.stamp()
    runtime.store_link = store_link(settings.store_dir)
    build = current_build(settings.store_dir)
    if build is None:
        raise StoreError(f"no store at {settings.store_dir}: run 'cpgraph build' first")
    runtime.store_path = str(build)
    store = GraphStore(build, read_only=True)
    runtime.store = store
    runtime.store_lock = threading.Lock()
    served = cast("Served", runtime)  # embedded: the store served is a GraphStore
    runtime.memory = MemoryCopies(
        settings.memory_statements, functools.partial(serve_memory_copy, served)
    )
    runtime.memory.follow(store)
    runtime.figures = build_figures(store, build, base=settings.base_iri)
    runtime.context = ValidationContext.from_store(store, base=settings.base_iri)


UNLIMITED = 1 << 40  # the per-client limit when the operator sets none (0)


def client_limiter(settings: Settings, counts: SharedCounts | None) -> ClientLimiter:
    """The per-client limit, kept below the pool of query threads so that one client never
    holds them all: at most ``client_concurrency`` in all, one fewer than the threads of every
    process together, and one fewer than one process's threads in each process; none at all
    when the operator sets 0 (a proxy in front limits each user)."""
    if settings.client_concurrency == 0:  # the operator's choice: no per-client limit
        return ClientLimiter(UNLIMITED, shared=counts)
    processes = settings.processes if counts is not None else 1
    threads = processes * settings.query_workers
    limit = max(1, min(settings.client_concurrency, threads - 1))
    if limit < settings.client_concurrency:
        log.info(
            "CPGRAPH_CLIENT_CONCURRENCY=%d is at least the %d query threads: a client may run "
            "%d queries at once",
            settings.client_concurrency,
            threads,
            limit,
        )
    return ClientLimiter(limit, shared=counts, local_limit=settings.query_workers - 1)


class FollowCurrentBuild:
    """ASGI middleware: before each request, follow a build another process published (a
    write through another server process, a command-line build); a memory read when nothing
    changed. Over a remote store: count the figures again when they are old."""

    def __init__(self, app: ASGIApp, *, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            follow_current_build(self.runtime)
        await self.app(scope, receive, send)
