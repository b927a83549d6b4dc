"""Linked-data access for other repositories: dumps, the dataset description, the context.

- ``/dumps/`` lists the dumps; ``/dumps/cpgraph.<ext>[.gz]`` is the whole dataset (triple
  formats: the union of the graphs), ``?graph=IRI`` one graph;
- ``/.well-known/void`` is the VoID and DCAT description (Turtle unless asked otherwise);
- ``/context.jsonld`` is the JSON-LD context the JSON-LD dumps use.

Every response carries a strong ETag and the build's time as Last-Modified, both stable for a
build, and answers ``If-None-Match`` / ``If-Modified-Since`` with 304. The files come from
:class:`cpgraph.publish.dumps.DumpCache`; the work runs off the event loop.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from cpgraph.engine.negotiation import negotiate, wants_html
from cpgraph.errors import NotAcceptableError
from cpgraph.publish.dumps import DumpCache, DumpFile
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.jsonld import context_document
from cpgraph.server.deps import RuntimeDep, SettingsDep, StoreDep
from cpgraph.store.results import QueryKind
from cpgraph.web.pages import render_page

router = APIRouter(tags=["Linked data"])
_lock = threading.Lock()


def get_dump_cache(runtime: RuntimeDep, store: StoreDep) -> DumpCache:
    """The dump cache of the store being served (made on first use)."""
    with _lock:
        cache = runtime.dump_cache
        if cache is None or cache.store is not store:
            settings = runtime.settings
            cache = DumpCache.for_store_dir(
                store, base=settings.base_iri, store_dir=settings.store_dir
            )
            runtime.dump_cache = cache
        return cache


CacheDep = Annotated[DumpCache, Depends(get_dump_cache)]


def _validators(etag: str, modified: datetime) -> dict[str, str]:
    return {
        "ETag": etag,
        "Last-Modified": format_datetime(modified, usegmt=True),
        "Cache-Control": "public, max-age=3600",
    }


def not_modified(request: Request, etag: str, modified: datetime) -> bool:
    """Whether a conditional GET or HEAD can be answered 304 (RFC 9110, section 13.2.2)."""
    if request.method not in ("GET", "HEAD"):
        return False
    match = request.headers.get("if-none-match")
    if match is not None:
        tags = {t.strip().removeprefix("W/") for t in match.split(",")}
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since is not None:
        try:
            when = parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
        return when.tzinfo is not None and modified.replace(microsecond=0) <= when
    return False


def _bytes_response(
    request: Request, content: bytes, media_type: str, modified: datetime
) -> Response:
    etag = f'"{hashlib.sha256(content).hexdigest()}"'
    headers = _validators(etag, modified) | {"Vary": "Accept"}
    if not_modified(request, etag, modified):
        return Response(status_code=304, headers=headers)
    body = b"" if request.method == "HEAD" else content
    response = Response(body, media_type=media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["content-length"] = str(len(content))
    return response


def _file_response(request: Request, dump: DumpFile) -> Response:
    headers = _validators(dump.etag, dump.modified)
    if not_modified(request, dump.etag, dump.modified):
        return Response(status_code=304, headers=headers)
    media_type = dump.distribution.media_type
    if not dump.distribution.gzip and media_type != RdfFormat.JSON_LD.media_type:
        media_type += "; charset=utf-8"
    return FileResponse(
        dump.path,
        media_type=media_type,
        headers=headers,
        filename=dump.name,
        content_disposition_type="inline",
    )


@router.api_route("/dumps/", methods=["GET", "HEAD"], summary="The dumps of the dataset")
async def dumps_index(request: Request, cache: CacheDep) -> Response:
    """Every dump with its URL, media type, format, size and SHA-256."""
    files = await run_in_threadpool(cache.all)
    listing = [
        {
            "name": f.name,
            "url": str(request.url_for("dump", name=f.name)),
            "mediaType": f.distribution.media_type,
            "format": f.distribution.fmt.media_type,
            "gzip": f.distribution.gzip,
            "graphs": f.distribution.fmt.holds_graphs,
            "bytes": f.size,
            "sha256": f.sha256,
        }
        for f in files
    ]
    if wants_html(request.headers.get("accept")):
        page = render_page(
            "dumps.html",
            "Dumps",
            dumps=listing,
            void=str(request.url_for("void_description")),
        )
        return _bytes_response(
            request, page.encode(), "text/html; charset=utf-8", cache.build.created
        )
    content = json.dumps({"build": cache.build.id, "dumps": listing}, indent=2).encode()
    return _bytes_response(request, content, "application/json", cache.build.created)


@router.api_route(
    "/dumps/{name}",
    methods=["GET", "HEAD"],
    name="dump",
    summary="A dump of the dataset, or of one graph",
    response_model=None,
)
async def dump(
    request: Request,
    cache: CacheDep,
    name: str,
    graph: Annotated[str | None, Query(description="the IRI of one named graph")] = None,
) -> Response:
    """``cpgraph.nq``, ``cpgraph.trig.gz``, ...: the whole dataset; ``?graph=`` one graph."""
    if graph is None:
        file = await run_in_threadpool(cache.get, name)
    else:
        file = await run_in_threadpool(cache.get_graph, name, graph)
    return _file_response(request, file)


@router.api_route(
    "/.well-known/void",
    methods=["GET", "HEAD"],
    summary="The VoID and DCAT description of the dataset",
    response_model=None,
)
async def void_description(
    request: Request,
    cache: CacheDep,
    format: Annotated[str | None, Query(description="ttl, nt, nq, trig, jsonld or rdf")] = None,
) -> Response:
    """The dataset description, generated from the store: Turtle unless asked otherwise."""
    if format is not None:
        try:
            fmt = RdfFormat(format)
        except ValueError:
            raise NotAcceptableError(f"no description in {format!r}") from None
    else:
        negotiated = negotiate(request.headers.get("accept"), QueryKind.GRAPH)
        assert isinstance(negotiated, RdfFormat)  # a graph result negotiates to RDF
        fmt = negotiated
    content = await run_in_threadpool(cache.render_description, fmt)
    media_type = fmt.media_type
    if fmt is not RdfFormat.JSON_LD:
        media_type += "; charset=utf-8"
    return _bytes_response(request, content, media_type, cache.build.created)


@router.api_route(
    "/context.jsonld",
    methods=["GET", "HEAD"],
    summary="The JSON-LD context of cpgraph's JSON-LD",
    response_model=None,
)
async def jsonld_context(request: Request, cache: CacheDep, settings: SettingsDep) -> Response:
    """The published context: a short key for every cpgraph term and the usual prefixes."""
    content = json.dumps(context_document(settings.base_iri), indent=2).encode()
    return _bytes_response(request, content, RdfFormat.JSON_LD.media_type, cache.build.created)
