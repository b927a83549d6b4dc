"""The security headers of every response, and the Content-Security-Policy of documents.

Every response says ``X-Content-Type-Options: nosniff`` (a browser never reads a result or a
problem as HTML or script), ``X-Frame-Options: DENY`` and a ``Referrer-Policy``. A document
a browser renders (HTML, SVG) also carries a Content-Security-Policy: cpgraph's pages load
their stylesheet and their one script from ``/static`` and nothing from elsewhere, so
:data:`PAGE_POLICY` allows only this origin, no inline script or style, no framing.

The query page (``/query``) runs YASGUI, served from the package (``/static/yasgui``). Its
table's column resizer writes two fixed ``<style>`` elements; :data:`QUERY_POLICY` allows
those two by their hashes (:data:`YASGUI_STYLE_HASHES`) and nothing else inline. The API
documentation (Swagger UI at ``/docs``, from the package, started by a script of its own)
draws icons as ``data:`` images and sets inline styles: :data:`API_DOCS_POLICY`. There is no
ReDoc page: FastAPI's loads its code from a CDN. None of them reflects anything from the
request.

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
# The two <style> texts YASGUI's column resizer inserts (yasgui.min.js): its grips' rules, and
# the cursor while a column is dragged. A test recomputes them from the vendored file.
YASGUI_STYLE_HASHES = (
    "sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=",
    "sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg=",
)
QUERY_POLICY = (
    "default-src 'self'; "
    f"style-src 'self' {' '.join(repr(h) for h in YASGUI_STYLE_HASHES)}; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
)
API_DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"
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
_QUERY_CSP = (_CSP, QUERY_POLICY.encode("latin-1"))
_API_DOCS_CSP = (_CSP, API_DOCS_POLICY.encode("latin-1"))


def secured(
    headers: list[tuple[bytes, bytes]], *, policy: tuple[bytes, bytes] = _PAGE_CSP
) -> list[tuple[bytes, bytes]]:
    """``headers`` (a response's, as ASGI sends them) with the security headers added, and
    ``policy`` (the pages' Content-Security-Policy unless said) where the response is a
    document."""
    out = [*headers, *HEADERS]
    for name, value in headers:
        if name.lower() == b"content-type":
            if value.split(b";", 1)[0].strip().lower() in DOCUMENT_TYPES:
                out.append(policy)
            break
    return out


class SecurityHeaders:
    """ASGI middleware: every HTTP response gets :func:`secured` headers; ``query_paths`` are
    the routes of :data:`QUERY_POLICY`, ``api_docs_paths`` those of :data:`API_DOCS_POLICY`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        query_paths: Collection[str] = (),
        api_docs_paths: Collection[str] = (),
    ) -> None:
        self.app = app
        self.policies = {
            **dict.fromkeys(query_paths, _QUERY_CSP),
            **dict.fromkeys(api_docs_paths, _API_DOCS_CSP),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policies.get(scope["path"], _PAGE_CSP)

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                message = {**message, "headers": secured(headers, policy=policy)}
            await send(message)

        await self.app(scope, receive, send_secured)
