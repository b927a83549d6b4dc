"""The home page: what the service is, with the dataset's figures (HTML or JSON).

Browsers get a page with the figures, the source documents, the classes to browse and the
ways in (query page, endpoint, ontology, shapes); programs get the same facts as JSON.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from cpgraph import __version__
from cpgraph.engine.negotiation import wants_html
from cpgraph.publish.linked import best_labels
from cpgraph.publish.service import answering_store
from cpgraph.publish.stats import class_counts, source_counts
from cpgraph.server.deps import SettingsDep, StoreDep
from cpgraph.server.runtime import runtime_of
from cpgraph.store.memory import MemoryCopies
from cpgraph.web.pages import home_page

router = APIRouter(tags=["Service"])

DESCRIPTION = (
    "cpgraph is a knowledge graph of cleaner-production policy in China: the agencies, "
    "councils, working groups, universities, enterprises and people; the laws, measures, "
    "standards, indicator systems, plans and audit schemes; the sectors, programmes, places, "
    "events, historical stages and reported outcomes; every statement traceable to the "
    "source document and the place in it that it came from."
)


@router.get("/", summary="What this service is", response_model=None)
def home(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """The service's self-description: HTML for browsers, JSON for programs."""
    runtime = runtime_of(request.app)
    figures = runtime.figures
    info: dict[str, Any] = {
        "name": "cpgraph",
        "version": __version__,
        "description": DESCRIPTION,
        "base": settings.base_iri,
        "endpoints": {
            "sparql": str(request.url_for("sparql_get")),
            "docs": str(request.url_for("swagger_ui_html")),
            "openapi": str(request.url_for("openapi")),
            "query": str(request.url_for("query")),
            "ontology": str(request.url_for("ontology")),
            "shapes": str(request.url_for("shapes")),
            "browse": str(request.url_for("browse")),
        },
        "dataset": {
            "triples": figures.triples,
            "quads": figures.quads,
            "graphs": figures.graphs,
            "sourceExtracts": figures.source_extracts,
            "entities": figures.entities,
        },
        "store": answering_store(settings),
        "serving": _serving(runtime.memory, runtime.allocator),
    }
    headers = {"Vary": "Accept"}
    if not wants_html(request.headers.get("accept")):
        return JSONResponse(info, headers=headers)
    base = settings.base_iri
    classes = class_counts(store, base=base)
    sources = source_counts(store, base=base)
    page = home_page(
        description=DESCRIPTION,
        figures={
            "Statements": figures.triples,
            "Statements counted per source graph": figures.quads,
            "Entities": figures.entities,
            "Source extracts": figures.source_extracts,
            "Named graphs": figures.graphs,
            "Classes in use": len(classes),
        },
        classes=classes,
        sources=sources,
        base=base,
        names=best_labels(store, [c.cls for c in classes], base=base),
        version=__version__,
    )
    return HTMLResponse(page, headers=headers)


def _serving(memory: MemoryCopies | None, allocator: str) -> dict[str, str]:
    """Where this server process answers from: ``memory``, ``disk`` or ``copying`` (from
    disk until its copy in memory is whole), the build, and why when from disk, or
    ``remote`` (a remote store, no build); and the memory allocator it runs with
    (``mimalloc`` or ``system``, :mod:`cpgraph.server.allocator`)."""
    if memory is None:
        return {"from": "remote", "allocator": allocator}
    state = memory.state
    serving = {"from": state.serving, "allocator": allocator}
    if state.build is not None:
        serving["build"] = state.build
    if state.reason is not None:
        serving["reason"] = state.reason
    return serving
