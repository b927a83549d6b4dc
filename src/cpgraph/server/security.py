"""The security headers of every response, and the Content-Security-Policy of documents.

Every response says ``X-Content-Type-Options: nosniff`` (a browser never reads a result or a
problem as HTML or script), ``X-Frame-Options: DENY`` and a ``Referrer-Policy``. A document
a browser renders (HTML, SVG) also carries a Content-Security-Policy: cpgraph's pages load
their stylesheet and their one script from ``/static`` and nothing from elsewhere, so
:data:`PAGE_POLICY` allows only this origin, no inline script or style, no framing.

FastAPI's API documentation (``/docs``, Swagger UI; ``/redoc``, ReDoc) is the exception:
its pages load their code and styles from the jsDelivr CDN and start it with an inline
script, so those routes alone get :data:`DOCS_POLICY`, which allows exactly that. They reflect
nothing from the request.

:class:`SecurityHeaders` adds the headers to what the application sends; the fast protocol
(:mod:`cpgraph.server.protocol`) writes :data:`HEADER_LINES` itself.
"""

from __future__ import annotations

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cpgraph.engine.negotiation import PAGE_TYPES

PAGE_POLICY = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
DOCS_POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com; "
    "font-src 'self' https://fonts.gstatic.com; "
    "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly; "
    "worker-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
REFERRER_POLICY = "strict-origin-when-cross-origin"
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", REFERRER_POLICY.encode("latin-1")),
)
HEADER_LINES = b"".join(name + b": " + value + b"\r\n" for name, value in HEADERS)
DOCUMENT_TYPES = frozenset(media.encode("latin-1") for media in PAGE_TYPES)
_CSP = b"content-security-policy"
_PAGE_CSP = (_CSP, PAGE_POLICY.encode("latin-1"))
_DOCS_CSP = (_CSP, DOCS_POLICY.encode("latin-1"))


def secured(headers: list[tuple[bytes, bytes]], *, docs: bool = False) -> list[tuple[bytes, bytes]]:
    """``headers`` (a response's, as ASGI sends them) with the security headers added, and
    the Content-Security-Policy where the response is a document (:data:`DOCS_POLICY` for
    the API documentation's pages when ``docs``)."""
    out = [*headers, *HEADERS]
    for name, value in headers:
        if name.lower() == b"content-type":
            if value.split(b";", 1)[0].strip().lower() in DOCUMENT_TYPES:
                out.append(_DOCS_CSP if docs else _PAGE_CSP)
            break
    return out


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets :func:`secured` headers; ``docs_paths`` are
    the API documentation's routes (:data:`DOCS_POLICY`)."""

    def __init__(self, app: ASGIApp, *, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in self.docs_paths

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                message = {**message, "headers": secured(headers, docs=docs)}
            await send(message)

        await self.app(scope, receive, send_secured)
