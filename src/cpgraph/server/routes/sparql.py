"""The SPARQL 1.1 Protocol endpoint at ``/sparql``: queries by GET, POST form or POST body.

Queries run in the worker pool (:mod:`cpgraph.engine.workers`), under the operator's time limit,
per-client concurrency limit and, for anonymous SELECTs, row limit; results stream.
"""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import Any, ParamSpec
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from cpgraph.config import Settings
from cpgraph.engine.query import negotiate
from cpgraph.engine.workers import (
    ClientLimiter,
    QueryHead,
    QueryPool,
    QueryRequest,
    WholeBody,
    answer_or_admit,
)
from cpgraph.errors import InputError, PayloadTooLargeError, UnsupportedFormatError
from cpgraph.publish.service import service_description
from cpgraph.rdf.io import RdfFormat
from cpgraph.rdf.namespaces import prefix_pairs
from cpgraph.server.board import Board
from cpgraph.server.deps import (
    SettingsDep,
    absolute_iri,
    is_authorised,
    read_body,
    reload_store,
    require_token,
)
from cpgraph.sparql.outbound import check_query, check_update
from cpgraph.sparql.text import check_complexity
from cpgraph.store.embedded import QueryKind
from cpgraph.store.update import apply_update

router = APIRouter(tags=["SPARQL"])
P = ParamSpec("P")

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\x00-\x20<>\"{}|\\^`]*")
CORS_EXPOSED = ("Cpgraph-Row-Limit", "Cpgraph-Truncated", "Link", "Location", "ETag")
GZIP_MINIMUM = 1024
FORM_ROOM = 64 * 1024  # a POSTed form's bytes beyond its query: graphs, format, separators
RESULT_TYPES: dict[str, dict[str, object]] = {
    "application/sparql-results+json": {},
    "application/sparql-results+xml": {},
    "text/csv": {},
    "text/tab-separated-values": {},
    "text/turtle": {},
    "application/n-triples": {},
    "application/ld+json": {},
    "application/rdf+xml": {},
}


@router.get(
    "/sparql",
    summary="Run a SPARQL query (GET), or describe the service when no query is given",
    responses={200: {"content": RESULT_TYPES}},
)
async def sparql_get(request: Request, settings: SettingsDep) -> Response:
    """SPARQL 1.1 Protocol query via GET; with no ``query``, the Service Description."""
    params = multi_params(request.query_params.multi_items())
    if "update" in params:
        raise InputError("an update is sent by POST, never by GET")
    if "query" not in params:
        return _describe_service(request, settings)
    return await _answer(request, settings, params)


@router.post(
    "/sparql",
    summary="Run a SPARQL query or, with the operator's token, an update (POST)",
    responses={200: {"content": RESULT_TYPES}},
)
async def sparql_post(request: Request, settings: SettingsDep) -> Response:
    """SPARQL 1.1 Protocol query or update, URL-encoded or as the body.

    Updates need the operator's bearer token and are atomic: all of the request or none.
    """
    params = multi_params(request.query_params.multi_items())
    media_type, _, parameters = request.headers.get("content-type", "").partition(";")
    content_type = media_type.strip().lower()
    charset = _charset(parameters)
    if charset not in ("utf-8", "utf8"):
        raise UnsupportedFormatError(f"requests are read as UTF-8, not {charset}")
    if content_type not in (FORM, SPARQL_QUERY, SPARQL_UPDATE):
        raise UnsupportedFormatError(
            f"POST /sparql takes {FORM}, {SPARQL_QUERY} or {SPARQL_UPDATE}, "
            f"not {content_type or 'no type'}"
        )
    if content_type == SPARQL_UPDATE:
        require_token(request, settings)  # refused before its body is read
    limit = body_limit(content_type, settings, authorised=is_authorised(request, settings))
    text = _utf8(await read_body(request, limit))
    if content_type == FORM:
        form = parse_qs(text, keep_blank_values=True)
        for key, values in form.items():
            params.setdefault(key, []).extend(values)
    elif content_type == SPARQL_QUERY:
        if "query" in params or "update" in params:
            raise InputError("a direct POST carries the query in its body, not also in the URL")
        params["query"] = [text]
    else:
        if "query" in params or "update" in params:
            raise InputError("a direct POST carries the update in its body, not also in the URL")
        params["update"] = [text]
    if "query" in params and "update" in params:
        raise InputError("send a 'query' or an 'update', not both")
    if "update" in params:
        return await _update(request, settings, params)
    if "query" not in params:
        raise InputError("no query: send a 'query' parameter")
    return await _answer(request, settings, params)


def body_limit(content_type: str, settings: Settings, *, authorised: bool) -> int:
    """The most bytes of a POST to ``/sparql`` that are read, so that a query's limit applies
    while its body comes in rather than after all of it (up to ``max_body_bytes``) is held.

    A query as the body: ``max_query_bytes``. A form: three times that (percent-encoding
    makes a byte up to three) and :data:`FORM_ROOM` for the other parameters; the query in
    it is measured again once decoded. An update, or a form from the operator (it may carry
    one): ``max_body_bytes``.
    """
    if content_type == SPARQL_QUERY:
        return settings.max_query_bytes
    if authorised:
        return settings.max_body_bytes
    return min(3 * settings.max_query_bytes + FORM_ROOM, settings.max_body_bytes)


def _charset(parameters: str) -> str:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return "utf-8"


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"the body is not UTF-8 (byte {exc.start})") from None


async def _update(request: Request, settings: Settings, params: dict[str, list[str]]) -> Response:
    require_token(request, settings)
    if len(params["update"]) != 1:
        raise InputError("send exactly one 'update' parameter")
    text = params["update"][0]
    if len(text.encode("utf-8")) > settings.max_body_bytes:
        raise PayloadTooLargeError(f"the update is longer than {settings.max_body_bytes} bytes")
    check_complexity(
        text,
        max_depth=settings.max_query_depth,
        max_operators=settings.max_query_operators,
        what="update",
    )
    board: Board | None = request.app.state.board
    if board is not None:
        board.check(text, "update")
    base_iri = _base_iri(request)
    check_update(
        text, settings.service_allow, prefixes=prefix_pairs(settings.base_iri), base_iri=base_iri
    )
    async with request.app.state.write_lock:
        await run_in_threadpool(
            _tracked(board, text, apply_update),
            settings.store_dir,
            text,
            using=params.get("using-graph-uri", ()),
            using_named=params.get("using-named-graph-uri", ()),
            base_iri=base_iri,
        )
        reload_store(request.app)
    return Response(status_code=204)


def _tracked(board: Board | None, text: str, work: Callable[P, None]) -> Callable[P, None]:
    """``work``, recorded on the board as evaluating ``text`` while it runs (a process that
    dies of it puts the text in quarantine)."""
    if board is None:
        return work

    def tracked(*args: P.args, **kwargs: P.kwargs) -> None:
        with board.in_flight(text):
            work(*args, **kwargs)

    return tracked


def _base_iri(request: Request) -> str | None:
    """The base IRI of a request's query or update: the endpoint's own URL (the URL it was
    retrieved from, RFC 3986 section 5.1.3), or None where that is no plain absolute IRI."""
    return endpoint_base(str(request.url.replace(query="", fragment="")))


@functools.lru_cache(maxsize=64)
def endpoint_base(url: str) -> str | None:
    """``url`` (the endpoint's, without query) as a base IRI, or None where it is no plain
    absolute IRI (a Host header can hold anything)."""
    return url if _IRI.fullmatch(url) else None


def multi_params(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Request parameters by name, each with every value it was given, in order."""
    params: dict[str, list[str]] = {}
    for key, value in items:
        params.setdefault(key, []).append(value)
    return params


async def _answer(request: Request, settings: Settings, params: dict[str, list[str]]) -> Response:
    query = query_request(
        request.app,
        params,
        accept=request.headers.get("accept"),
        authorised=is_authorised(request, settings),
        base_iri=_base_iri(request),
    )
    pool: QueryPool = request.app.state.pool
    limiter: ClientLimiter = request.app.state.limiter
    client = request.client.host if request.client else "unknown"
    answer = answer_or_admit(query, limiter, client)
    if answer is not None:
        return result_response(answer[0], WholeBody(answer[1]), settings, done=_nothing)
    try:
        head, chunks = await pool.run(query)
    except BaseException:
        limiter.release(client)
        raise
    return result_response(head, chunks, settings, done=lambda: limiter.release(client))


def _nothing() -> None:
    """No place under the client's limit to give back (an answer given at once took none)."""


def query_request(
    app: Any,
    params: dict[str, list[str]],
    *,
    accept: str | None,
    authorised: bool,
    base_iri: str | None,
) -> QueryRequest:
    """The query a protocol request asks for, on the app's current build, with its limits.

    Raises:
        InputError: unless there is exactly one ``query`` parameter.
        PayloadTooLargeError: if the query is longer than the operator allows.
        QueryTooComplexError: if it nests deeper or holds more operators than allowed.
        OutboundRefusedError: if it would call an endpoint the operator has not allowed.
        InputError: if a ``default-graph-uri`` or ``named-graph-uri`` is not an absolute IRI.
    """
    settings: Settings = app.state.settings
    texts = params["query"]
    if len(texts) != 1:
        raise InputError("send exactly one 'query' parameter")
    text = texts[0]
    if len(text) * 4 > settings.max_query_bytes and len(text.encode()) > settings.max_query_bytes:
        raise PayloadTooLargeError(
            f"the query is longer than the {settings.max_query_bytes} bytes this service accepts"
        )
    check_complexity(
        text, max_depth=settings.max_query_depth, max_operators=settings.max_query_operators
    )
    board: Board | None = app.state.board
    if board is not None:
        board.check(text)
    prefixes = prefix_pairs(settings.base_iri)
    check_query(text, settings.service_allow, prefixes=prefixes, base_iri=base_iri)
    return QueryRequest(
        query=text,
        base_iri=base_iri,  # relative IRIs resolve against the endpoint's URL
        store=app.state.store,
        accept=accept,
        format=params["format"][0] if "format" in params else None,
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri")
        if "named-graph-uri" in params
        else None,
        prefixes=prefixes,
        row_limit=None if authorised else settings.row_limit,
    )


def _graph_iris(params: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """The graphs a dataset parameter (``default-graph-uri``, ``named-graph-uri``) names.

    Raises:
        InputError: if one is not an absolute IRI.
    """
    return tuple(absolute_iri(iri, what=name) for iri in params.get(name, ()))


def result_headers(head: QueryHead, settings: Settings) -> dict[str, str]:
    """The headers of a query's answer: Vary, and the row limit where one applies."""
    headers = {"Vary": "Accept"}
    if head.row_limit is not None:
        headers["Cpgraph-Row-Limit"] = str(head.row_limit)
    if head.truncated:
        headers["Cpgraph-Truncated"] = "true"
        headers["Link"] = f'<{settings.base_iri}problems/row-limit>; rel="describedby"'
    return headers


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


def with_charset(media_type: str) -> str:
    """The media type with ``charset=utf-8`` where the format is text."""
    textual = media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json"))
    textual = textual or media_type in (
        "application/n-triples",
        "application/n-quads",
        "application/trig",
        "application/rdf+xml",
    )
    return f"{media_type}; charset=utf-8" if textual else media_type


def _describe_service(request: Request, settings: Settings) -> Response:
    endpoint = str(request.url.replace(query=""))
    fmt = negotiate(request.headers.get("accept"), QueryKind.GRAPH)
    assert isinstance(fmt, RdfFormat)  # a graph result negotiates to an RDF format
    figures = request.app.state.figures
    content = service_description(
        endpoint,
        fmt=fmt,
        base=settings.base_iri,
        figures=figures,
        update=settings.token is not None,
    )
    return Response(content, media_type=with_charset(fmt.media_type), headers={"Vary": "Accept"})
