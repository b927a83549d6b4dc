"""The home page: what the service is, with the dataset's figures (HTML or JSON)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from cpgraph import __version__
from cpgraph.query import parse_accept
from cpgraph.server.deps import SettingsDep
from cpgraph.service import DatasetFigures

router = APIRouter(tags=["Service"])

DESCRIPTION = (
    "cpgraph is a knowledge graph of cleaner-production policy in China: the agencies, "
    "councils, working groups, universities, enterprises and people; the laws, measures, "
    "standards, indicator systems, plans and audit schemes; the sectors, programmes, places, "
    "events, historical stages and reported outcomes; every statement traceable to the "
    "source document and the place in it that it came from."
)


@router.get("/", summary="What this service is", response_model=None)
def home(request: Request, settings: SettingsDep) -> Response:
    """The service's self-description: HTML for browsers, JSON for programs."""
    figures: DatasetFigures = request.app.state.figures
    info = {
        "name": "cpgraph",
        "version": __version__,
        "description": DESCRIPTION,
        "base": settings.base_iri,
        "endpoints": {
            "sparql": str(request.url_for("sparql_get")),
            "docs": str(request.url_for("swagger_ui_html")),
            "openapi": str(request.url_for("openapi")),
        },
        "dataset": {
            "triples": figures.triples,
            "graphs": figures.graphs,
            "sourceExtracts": figures.source_extracts,
            "entities": figures.entities,
        },
    }
    if _prefers_html(request.headers.get("accept")):
        return HTMLResponse(_page(info))
    return JSONResponse(info)


def _prefers_html(accept: str | None) -> bool:
    for media, _q in parse_accept(accept):
        if media in ("text/html", "application/xhtml+xml"):
            return True
        if media in ("application/json", "*/*"):
            return False
    return False


def _page(info: dict) -> str:  # type: ignore[type-arg]
    d = info["dataset"]
    e = info["endpoints"]
    example = escape(
        "PREFIX cp: <" + info["base"] + "ontology#>\n"
        "SELECT ?instrument ?label WHERE { ?instrument a cp:Law ; rdfs:label ?label }"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cpgraph</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}}
dt{{font-weight:600}}pre{{background:#f4f4f4;padding:.75rem;overflow:auto}}</style></head>
<body><h1>cpgraph</h1><p>{escape(info["description"])}</p>
<h2>The dataset</h2><dl>
<dt>Statements</dt><dd>{d["triples"]}</dd><dt>Named graphs</dt><dd>{d["graphs"]}</dd>
<dt>Source extracts</dt><dd>{d["sourceExtracts"]}</dd><dt>Entities</dt><dd>{d["entities"]}</dd>
</dl><h2>Use it</h2><ul>
<li>SPARQL endpoint: <a href="{escape(e["sparql"])}">{escape(e["sparql"])}</a>
(GET or POST, SPARQL 1.1 Protocol)</li>
<li>API documentation: <a href="{escape(e["docs"])}">{escape(e["docs"])}</a></li></ul>
<pre>{example}</pre>
<p>cpgraph {escape(info["version"])}</p></body></html>"""
