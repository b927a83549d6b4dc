"""The header rules of every response, written once: CORS, gzip and the security headers
(:mod:`cpgraph.server.security`).

The application applies them as middleware (:func:`header_middleware`). The fast GET path
(:mod:`cpgraph.server.protocol`) writes what they give an answer it writes itself
(:data:`CORS_SIMPLE`, :data:`VARY_ORIGIN`, :data:`GZIP_MINIMUM`,
:data:`cpgraph.server.security.HEADER_LINES`), and sends every other response through the
same middleware (:func:`header_stack`).
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from cpgraph.server.security import SecurityHeaders

CORS_EXPOSED = ("Cpgraph-Row-Limit", "Cpgraph-Truncated", "Link", "Location", "ETag")
GZIP_MINIMUM = 1024  # bytes: a smaller answer is sent as it is


def cors(app: ASGIApp) -> CORSMiddleware:
    """The CORS middleware over ``app``. Reads are open to pages on any origin; the
    Authorization header is not allowed cross-origin, so a browser on another site cannot
    write with an operator's token."""
    return CORSMiddleware(
        app,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD", "POST"],
        allow_headers=["Accept", "Content-Type"],
        expose_headers=list(CORS_EXPOSED),
        max_age=3600,
    )


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """No application: :data:`CORS_SIMPLE` is read from the middleware, never called."""


# What the CORS middleware adds to the answer to a request with an Origin (every origin is
# allowed, without credentials); with an Origin or without, it adds Origin to Vary.
CORS_SIMPLE: tuple[tuple[bytes, bytes], ...] = tuple(
    (name.lower().encode("latin-1"), value.encode("latin-1"))
    for name, value in cors(_nothing).simple_headers.items()
)
VARY_ORIGIN = "Origin"


def header_middleware(
    *, query_paths: Collection[str] = (), api_docs_paths: Collection[str] = ()
) -> list[Middleware]:
    """The middleware that applies the rules, innermost first: CORS, gzip, then the security
    headers outermost (on every response; the pages' CSP on documents, ``query_paths`` being
    the query page's and ``api_docs_paths`` the API documentation's: see
    :class:`~cpgraph.server.security.SecurityHeaders`)."""
    return [
        Middleware(cors),
        Middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM),
        Middleware(SecurityHeaders, query_paths=query_paths, api_docs_paths=api_docs_paths),
    ]


def header_stack(app: ASGIApp) -> ASGIApp:
    """``app`` wrapped in :func:`header_middleware`, as the application is wrapped."""
    for cls, args, kwargs in header_middleware():
        app = cls(app, *args, **kwargs)
    return app
