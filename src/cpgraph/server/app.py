"""The FastAPI application: :func:`create_app` builds it, :func:`serve` runs it with uvicorn."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import os
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from cpgraph import __version__
from cpgraph.config import Settings
from cpgraph.engine.workers import ClientLimiter, QueryPool, SharedCounts
from cpgraph.errors import MemoryLimitError, StoreError
from cpgraph.publish.service import build_figures
from cpgraph.saved.library import library_folder, load_library
from cpgraph.server.allocator import in_use as allocator_in_use
from cpgraph.server.board import Board
from cpgraph.server.deps import follow_current_build, serve_memory_copy
from cpgraph.server.problems import install_problem_handlers
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
from cpgraph.server.security import SecurityHeaders
from cpgraph.server.static import mount_static
from cpgraph.server.watchdog import MemoryWatchdog
from cpgraph.store.embedded import BuildWatch, GraphStore, current_build, open_current, store_link
from cpgraph.store.memory import MemoryCopies
from cpgraph.validation.contributions import ValidationContext, load_contributors

log = logging.getLogger(__name__)


def create_app(
    settings: Settings,
    *,
    client_counts: SharedCounts | None = None,
    validation_counts: SharedCounts | None = None,
    board: Board | None = None,
    memory_ceiling: int | None = None,
) -> FastAPI:
    """The cpgraph web application over the current store in ``settings.store_dir``.

    Startup opens the current build read-only (for the figures and pages) and starts the
    query worker pool; shutdown stops the workers. Under a supervisor, ``client_counts`` and
    ``validation_counts`` are this process's rows of the per-client counts, ``board`` its row
    of the shared board (:mod:`cpgraph.server.board`), and ``memory_ceiling`` the resident
    size past which it answers 503 and exits (:mod:`cpgraph.server.watchdog`).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The stamp, then the link, then the build it points to: a build published between
        # any two of them is followed at the first request (see follow_current_build).
        app.state.build_watch = BuildWatch(settings.store_dir)
        app.state.build_stamp = app.state.build_watch.stamp()
        app.state.store_link = store_link(settings.store_dir)
        build = current_build(settings.store_dir)
        if build is None:
            raise StoreError(f"no store at {settings.store_dir}: run 'cpgraph build' first")
        app.state.store_path = str(build)
        app.state.store = GraphStore(build, read_only=True)
        app.state.store_lock = threading.Lock()
        app.state.allocator = allocator_in_use()
        app.state.memory = MemoryCopies(
            settings.memory_statements, functools.partial(serve_memory_copy, app)
        )
        app.state.memory.follow(app.state.store)
        app.state.figures = build_figures(app.state.store, build, base=settings.base_iri)
        app.state.board = board
        app.state.pool = QueryPool(
            size=settings.query_workers,
            timeout=settings.query_timeout,
            on_stuck=lambda: app.state.drain(),
            tracker=None if board is None else board.in_flight,
        )
        app.state.limiter = client_limiter(settings, client_counts)
        app.state.write_lock = asyncio.Lock()
        app.state.context = ValidationContext.from_store(app.state.store, base=settings.base_iri)
        app.state.contributor_tokens = load_contributors(
            settings.contributors_file, operator_token=settings.token
        )
        await app.state.pool.start()
        watchdog = None
        if memory_ceiling is not None:
            pool = app.state.pool
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
        # process's life: out of the collector's way, a full collection no longer walks it
        # (that took 70 ms at 1M triples, during which no query was answered).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if watchdog is not None:
                watchdog.close()
            await app.state.pool.close()
            app.state.memory.close(timeout=0)
            app.state.build_watch.close()
            app.state.store = None

    app = FastAPI(
        title="cpgraph",
        version=__version__,
        summary="A knowledge graph of cleaner-production policy in China, over SPARQL.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.board = board
    app.state.validation_counts = validation_counts  # validations per client, every process
    app.state.drain = _no_supervisor
    install_problem_handlers(app)
    app.add_middleware(FollowCurrentBuild)
    # Reads are open to pages on any origin; the Authorization header is not allowed
    # cross-origin, so a browser on another site cannot write with an operator's token.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["Accept", "Content-Type"],
        expose_headers=list(sparql.CORS_EXPOSED),
        max_age=3600,
    )
    app.add_middleware(GZipMiddleware, minimum_size=sparql.GZIP_MINIMUM)
    # Outermost: nosniff and framing on every response, the pages' CSP on documents.
    app.add_middleware(
        SecurityHeaders,
        docs_paths=[
            p for p in (app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p
        ],
    )
    app.include_router(home.router)
    app.include_router(sparql.router)
    queries.install(app, load_library(library_folder(settings.source_dir)))
    for pages in (resources, ontology, browse, query_page):
        app.include_router(pages.router)
    mount_static(app)
    app.include_router(graph_store.router)
    app.include_router(contributions.router)
    app.include_router(dumps.router)
    return app


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
    changed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            follow_current_build(scope["app"])
        await self.app(scope, receive, send)


def _no_supervisor() -> None:
    log.error(
        "a stuck query keeps running in this process: run the service with 'cpgraph serve' "
        "(which replaces such a process) or restart it"
    )


def serve(settings: Settings) -> None:
    """Run the service until interrupted: server processes under a supervisor.

    Raises:
        StoreError: if there is no store to serve, or the address cannot be bound.
    """
    from cpgraph.server.supervisor import serve as supervise

    open_current(settings.store_dir, read_only=True)  # fail early, with a clear message
    supervise(settings)
