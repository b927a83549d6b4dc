"""The FastAPI application: :func:`create_app` builds it, :func:`serve` runs it with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from cpgraph import __version__
from cpgraph.config import Settings
from cpgraph.errors import StoreError
from cpgraph.server.problems import install_problem_handlers
from cpgraph.server.routes import home, sparql
from cpgraph.service import dataset_figures
from cpgraph.store import GraphStore, current_build, open_current
from cpgraph.workers import ClientLimiter, QueryPool


def create_app(settings: Settings) -> FastAPI:
    """The cpgraph web application over the current store in ``settings.store_dir``.

    Startup opens the current build read-only (for the figures and pages) and starts the
    query worker pool; shutdown stops the workers.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        build = current_build(settings.store_dir)
        if build is None:
            raise StoreError(f"no store at {settings.store_dir}: run 'cpgraph build' first")
        app.state.store_path = str(build)
        app.state.store = GraphStore(build, read_only=True)
        app.state.figures = dataset_figures(app.state.store, base=settings.base_iri)
        app.state.pool = QueryPool(size=settings.query_workers, timeout=settings.query_timeout)
        app.state.limiter = ClientLimiter(settings.client_concurrency)
        await app.state.pool.start()
        try:
            yield
        finally:
            await app.state.pool.close()
            app.state.store = None

    app = FastAPI(
        title="cpgraph",
        version=__version__,
        summary="A knowledge graph of cleaner-production policy in China, over SPARQL.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(home.router)
    app.include_router(sparql.router)
    return app


def serve(settings: Settings) -> None:
    """Run the service with uvicorn until interrupted.

    Raises:
        StoreError: if there is no store to serve.
    """
    open_current(settings.store_dir, read_only=True)  # fail early, with a clear message
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="info",
        proxy_headers=False,
    )
