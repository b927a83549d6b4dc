"""One mapping from errors to ``application/problem+json`` responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cpgraph.errors import CpgraphError, UnauthorizedError
from cpgraph.server.runtime import runtime_of

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


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    def base(request: Request) -> str:
        return runtime_of(request.app).settings.base_iri

    @app.exception_handler(CpgraphError)
    async def cpgraph_error(request: Request, exc: CpgraphError) -> JSONResponse:
        return problem_response(exc, base=base(request))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        body = {
            "type": "about:blank",
            "title": str(exc.detail) if exc.detail else "Error",
            "status": exc.status_code,
        }
        return JSONResponse(
            body,
            status_code=exc.status_code,
            media_type=PROBLEM_JSON,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def request_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        body = {
            "type": f"{base(request)}problems/bad-request",
            "title": "Bad request",
            "status": 422,
            "detail": "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            ),
        }
        return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)
