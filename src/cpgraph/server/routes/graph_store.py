"""The SPARQL 1.1 Graph Store HTTP Protocol at ``/store``.

Indirect identification: ``/store?graph=IRI`` or ``/store?default``. Direct identification:
``/store/...`` names the graph whose IRI is that URL. GET and HEAD are open to everyone; PUT,
POST and DELETE need the operator's bearer token, and each is one atomic write. A POST may
carry several RDF documents as ``multipart/form-data``, one a part; all of them are merged.
"""

from __future__ import annotations

import email.policy
import io
from email.message import EmailMessage
from email.parser import BytesParser

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from cpgraph.config import Settings
from cpgraph.engine.negotiation import negotiate
from cpgraph.errors import InputError, NotFoundError, UnsupportedFormatError
from cpgraph.rdf.formats import RdfFormat
from cpgraph.server.deps import (
    SettingsDep,
    absolute_iri,
    read_body,
    reload_store,
    require_token,
    write_target,
)
from cpgraph.server.responses import with_charset, write_headers
from cpgraph.server.runtime import runtime_of
from cpgraph.store import Store
from cpgraph.store import graph_store as graphstore
from cpgraph.store.results import QueryKind

router = APIRouter(tags=["Graph Store"])

MULTIPART = "multipart/form-data"
_RDF: dict[str, object] = {"content": {f.media_type: {} for f in RdfFormat}}


class _Target:
    """The graph a request names: ``iri`` None is the default graph; ``collection`` is a POST
    to the graph store itself."""

    def __init__(self, iri: str | None, *, collection: bool = False) -> None:
        self.iri = iri
        self.collection = collection


def _indirect(request: Request) -> _Target:
    params = request.query_params
    graphs = params.getlist("graph")
    if "default" in params and graphs:
        raise InputError("name either ?default or ?graph=IRI, not both")
    if len(graphs) > 1:
        raise InputError("name one graph")
    if graphs:
        return _Target(absolute_iri(graphs[0]))
    if "default" in params:
        return _Target(None)
    return _Target(None, collection=True)


def _direct(request: Request) -> _Target:
    return _Target(absolute_iri(str(request.url.replace(query="", fragment=""))))


def _store(request: Request) -> Store:
    return runtime_of(request.app).store


async def _read(request: Request, target: _Target, *, head: bool) -> Response:
    if target.collection:
        raise InputError("GET a graph: /store?graph=IRI or /store?default")
    fmt = negotiate(request.headers.get("accept"), QueryKind.GRAPH)
    assert isinstance(fmt, RdfFormat)
    store = _store(request)

    def work() -> bytes:
        buffer = io.BytesIO()
        graphstore.read_graph(store, target.iri, buffer, fmt)
        return buffer.getvalue()

    content = await run_in_threadpool(work)
    headers = {"Vary": "Accept", "Content-Length": str(len(content))}
    media_type = with_charset(fmt.media_type)
    if head:
        return Response(status_code=200, media_type=media_type, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def _body_format(request: Request) -> RdfFormat:
    content_type = request.headers.get("content-type")
    if not content_type:
        raise UnsupportedFormatError("say the body's RDF format in Content-Type")
    return RdfFormat.from_media_type(content_type)


def _is_multipart(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == MULTIPART


def _documents(request: Request, body: bytes) -> list[tuple[bytes, RdfFormat]]:
    """The RDF documents of a ``multipart/form-data`` body (RFC 7578), one a part, each in
    the format its part's Content-Type names.

    Raises:
        InputError: if the body is not well-formed multipart or holds no part.
        UnsupportedFormatError: if a part does not say its RDF format.
    """
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not isinstance(message, EmailMessage) or not message.is_multipart() or message.defects:
        raise InputError("a multipart/form-data body that cannot be read (check the boundary)")
    documents: list[tuple[bytes, RdfFormat]] = []
    for number, part in enumerate(message.iter_parts(), start=1):
        content_type = part.get("content-type")
        if not content_type:
            raise UnsupportedFormatError(f"say part {number}'s RDF format in its Content-Type")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise InputError(f"part {number} of the multipart body holds no document")
        documents.append((payload, RdfFormat.from_media_type(str(content_type))))
    if not documents:
        raise InputError("a multipart/form-data body with no part")
    return documents


async def _write(request: Request, settings: Settings, target: _Target, method: str) -> Response:
    require_token(request, settings)
    headers: dict[str, str] = {}
    written_to = write_target(runtime_of(request.app))
    if method == "DELETE":
        if target.collection:
            raise InputError("DELETE a graph: /store?graph=IRI or /store?default")
        graph = target.iri

        def operation() -> graphstore.GraphWrite:
            graphstore.delete_graph(written_to, graph)
            return graphstore.GraphWrite(created=False)

    else:
        multipart = method == "POST" and _is_multipart(request)
        fmt = None if multipart else _body_format(request)  # refused before reading the body
        body = await read_body(request, settings.max_body_bytes)
        documents = _documents(request, body) if fmt is None else [(body, fmt)]
        if target.collection:
            if method != "POST":
                raise InputError("PUT a graph: /store?graph=IRI or /store?default")
            collection = str(request.url.replace(query="", fragment=""))
            target = _Target(graphstore.new_graph_iri(collection))
            headers["Location"] = target.iri or ""
        graph = target.iri

        def operation() -> graphstore.GraphWrite:
            if method == "PUT":
                return graphstore.replace_graph(written_to, graph, *documents[0])
            return graphstore.merge_documents_into_graph(written_to, graph, documents)

    async with runtime_of(request.app).write_lock:
        written = await run_in_threadpool(operation)
        reload_store(runtime_of(request.app))
    headers.update(write_headers(written.rewritten))
    if headers.get("Location") or written.created:
        return Response(status_code=201, headers=headers)
    return Response(status_code=204, headers=headers)


@router.get(
    "/store", summary="Get a graph (indirect: ?graph=IRI or ?default)", responses={200: _RDF}
)
async def get_indirect(request: Request) -> Response:
    """The triples of the graph named by ``?graph=`` (or the default graph), by Accept."""
    return await _read(request, _indirect(request), head=False)


@router.head("/store", include_in_schema=False)
async def head_indirect(request: Request) -> Response:
    """Like GET, without the body."""
    return await _read(request, _indirect(request), head=True)


@router.put("/store", summary="Replace a graph (needs the operator's token)")
async def put_indirect(request: Request, settings: SettingsDep) -> Response:
    """Make the graph hold exactly the request body's triples; 201 if it is new."""
    return await _write(request, settings, _indirect(request), "PUT")


@router.post("/store", summary="Add to a graph, or create one (needs the operator's token)")
async def post_indirect(request: Request, settings: SettingsDep) -> Response:
    """Merge the body's triples into the graph; without a graph, create one (201, Location)."""
    return await _write(request, settings, _indirect(request), "POST")


@router.delete("/store", summary="Delete a graph (needs the operator's token)")
async def delete_indirect(request: Request, settings: SettingsDep) -> Response:
    """Remove the graph (the default graph is emptied); 404 if there is no such graph."""
    return await _write(request, settings, _indirect(request), "DELETE")


@router.get(
    "/store/{path:path}", summary="Get a graph (direct identification)", responses={200: _RDF}
)
async def get_direct(request: Request, path: str) -> Response:
    """The triples of the graph whose IRI is this URL."""
    return await _read(request, _direct(request), head=False)


@router.head("/store/{path:path}", include_in_schema=False)
async def head_direct(request: Request, path: str) -> Response:
    """Like GET, without the body."""
    return await _read(request, _direct(request), head=True)


@router.put("/store/{path:path}", summary="Replace a graph (direct; needs the token)")
async def put_direct(request: Request, path: str, settings: SettingsDep) -> Response:
    """Make the graph whose IRI is this URL hold exactly the body's triples."""
    return await _write(request, settings, _direct(request), "PUT")


@router.post("/store/{path:path}", summary="Add to a graph (direct; needs the token)")
async def post_direct(request: Request, path: str, settings: SettingsDep) -> Response:
    """Merge the body's triples into the graph whose IRI is this URL."""
    return await _write(request, settings, _direct(request), "POST")


@router.delete("/store/{path:path}", summary="Delete a graph (direct; needs the token)")
async def delete_direct(request: Request, path: str, settings: SettingsDep) -> Response:
    """Remove the graph whose IRI is this URL; 404 if there is none."""
    return await _write(request, settings, _direct(request), "DELETE")


__all__ = ["NotFoundError", "router"]
