"""The FastAPI application: :func:`create_app` builds it, :func:`serve` runs it with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI

from cpgraph import __version__
from cpgraph.config import Settings
from cpgraph.server.problems import install_problem_handlers
from cpgraph.server.routes import home, sparql
from cpgraph.service import dataset_figures
from cpgraph.store import GraphStore, open_current


def create_app(settings: Settings, *, store: GraphStore | None = None) -> FastAPI:
    """The cpgraph web application over the current store in ``settings.store_dir``.

    ``store`` overrides the store that startup would open (for embedding).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or open_current(settings.store_dir, read_only=True)
        app.state.figures = dataset_figures(app.state.store, base=settings.base_iri)
        yield
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
