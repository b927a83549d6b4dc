"""One mapping from errors to ``application/problem+json`` responses (and, for a browser
asking for a page, the same problem as an HTML page with the same status)."""

from __future__ import annotations

import json

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cpgraph.engine.negotiation import wants_html
from cpgraph.errors import CpgraphError, UnauthorizedError
from cpgraph.server.runtime import runtime_of
from cpgraph.web.pages import render_page

PROBLEM_JSON = "application/problem+json"
# RFC 9110 section 11.6.1: a 401 names the scheme that would be accepted.
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="cpgraph"'}


def problem_response(error: CpgraphError, *, base: str) -> JSONResponse:
    """The problem details response for a cpgraph error (a 401 with its challenge, a
    refusal for a while with ``Retry-After``)."""
    headers = CHALLENGE if isinstance(error, UnauthorizedError) else None
    retry_after = error.extra.get("retry_after")
    if isinstance(retry_after, int):
        headers = {"Retry-After": str(retry_after)}
    return JSONResponse(
        error.to_problem(base=base),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def for_reader(request: Request, response: JSONResponse) -> JSONResponse | HTMLResponse:
    """``response`` as it is, or, to a browser asking for a page (a GET whose ``Accept``
    prefers HTML), the same problem as a page, with the same status and headers."""
    if request.method not in ("GET", "HEAD") or not wants_html(request.headers.get("accept")):
        return response
    problem = json.loads(bytes(response.body))
    page = render_page(
        "problem.html",
        str(problem.get("title") or "Error"),
        problem=problem,
        status=response.status_code,
    )
    headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
    return HTMLResponse(page, status_code=response.status_code, headers=headers)


_KEPT_HEADERS = frozenset({"www-authenticate", "retry-after", "allow"})


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    def base(request: Request) -> str:
        return runtime_of(request.app).settings.base_iri

    @app.exception_handler(CpgraphError)
    async def cpgraph_error(request: Request, exc: CpgraphError) -> JSONResponse | HTMLResponse:
        return for_reader(request, problem_response(exc, base=base(request)))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(
        request: Request, exc: StarletteHTTPException
    ) -> JSONResponse | HTMLResponse:
        body = {
            "type": "about:blank",
            "title": str(exc.detail) if exc.detail else "Error",
            "status": exc.status_code,
        }
        return for_reader(
            request,
            JSONResponse(
                body,
                status_code=exc.status_code,
                media_type=PROBLEM_JSON,
                headers=getattr(exc, "headers", None),
            ),
        )

    @app.exception_handler(RequestValidationError)
    async def request_error(
        request: Request, exc: RequestValidationError
    ) -> JSONResponse | HTMLResponse:
        body = {
            "type": f"{base(request)}problems/bad-request",
            "title": "Bad request",
            "status": 422,
            "detail": "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            ),
        }
        return for_reader(request, JSONResponse(body, status_code=422, media_type=PROBLEM_JSON))
