"""The query page at ``/query``: a SPARQL editor in the browser that calls ``/sparql``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cpgraph.server.deps import SettingsDep
from cpgraph.web.pages import query_page

router = APIRouter(tags=["Pages"])
QUERY_PATH = "/query"


@router.get(QUERY_PATH, summary="Query the graph in the browser", response_class=HTMLResponse)
def query(request: Request, settings: SettingsDep) -> HTMLResponse:
    """The editor, with ``?query=`` filled in when given (and ``?format=`` chosen)."""
    text = request.query_params.get("query")
    fmt = request.query_params.get("format") or "json"
    return HTMLResponse(query_page(base=settings.base_iri, query=text, fmt=fmt))
