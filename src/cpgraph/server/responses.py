"""A query's answer as an HTTP response: its media type and headers, its body whole or
streamed. The endpoint's routes and the fast GET path (:mod:`cpgraph.server.protocol`)
both answer with these."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable

from starlette.responses import Response, StreamingResponse

from cpgraph.config import Settings
from cpgraph.engine.requests import QueryHead, WholeBody
from cpgraph.rdf.formats import RdfFormat
from cpgraph.server.headers import VARY_ORIGIN


def result_headers(head: QueryHead, settings: Settings) -> dict[str, str]:
    """The headers of a query's answer: Vary, and the row limit where one applies."""
    headers = {"Vary": "Accept"}
    if head.row_limit is not None:
        headers["Cpgraph-Row-Limit"] = str(head.row_limit)
    if head.truncated:
        headers["Cpgraph-Truncated"] = "true"
        headers["Link"] = f'<{settings.base_iri}problems/row-limit>; rel="describedby"'
    return headers


REWRITTEN_LITERALS = "Cpgraph-Rewritten-Literals"
"""The header of a write's response that says how many of the literals it wrote the store
holds in another form than sent (see docs/sparql.md); absent when none."""


def write_headers(rewritten: int) -> dict[str, str]:
    """The headers of a write's response: :data:`REWRITTEN_LITERALS` where it rewrote any."""
    return {REWRITTEN_LITERALS: str(rewritten)} if rewritten else {}


def result_response(
    head: QueryHead, chunks: AsyncIterable[bytes], settings: Settings, *, done: Callable[[], None]
) -> Response:
    """A query's answer as a response; ``done`` is called once the body is sent (or not)."""
    headers = result_headers(head, settings)
    media_type = with_charset(head.media_type)
    if isinstance(chunks, WholeBody):  # a small result: no streaming machinery needed
        done()
        return Response(chunks.content, media_type=media_type, headers=headers)

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            done()

    return StreamingResponse(body(), media_type=media_type, headers=headers)


_RDF_TYPES = frozenset(f.media_type for f in RdfFormat)  # every RDF serialisation is text


def with_charset(media_type: str) -> str:
    """The media type with ``charset=utf-8`` where the format is text."""
    textual = media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json"))
    textual = textual or media_type in _RDF_TYPES
    return f"{media_type}; charset=utf-8" if textual else media_type


_HEAD_LINES: dict[tuple[QueryHead, str], bytes] = {}


def head_lines(head: QueryHead, settings: Settings) -> bytes:
    """The header lines of an answer written to the connection without the middleware (the
    fast GET path), as sent: :func:`result_headers` with its media type, and Origin in Vary
    (the CORS rule). A service sends few kinds of head: each is made once."""
    key = (head, settings.base_iri)
    block = _HEAD_LINES.get(key)
    if block is None:
        lines = [(b"content-type", with_charset(head.media_type).encode("latin-1"))]
        for name, value in result_headers(head, settings).items():
            if name == "Vary":
                value = f"{value}, {VARY_ORIGIN}"
            lines.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        block = b"".join(name + b": " + value + b"\r\n" for name, value in lines)
        if len(_HEAD_LINES) >= 64:
            _HEAD_LINES.clear()
        _HEAD_LINES[key] = block
    return block
