"""The SPARQL 1.1 Protocol endpoint at ``/sparql``: queries by GET, POST form or POST body.

Queries run in the worker pool (:mod:`cpgraph.engine.pool`), under the operator's time limit,
per-client concurrency limit and, for anonymous SELECTs, row limit; results stream.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from cpgraph.config import Settings
from cpgraph.engine.at_once import answer_or_admit
from cpgraph.engine.negotiation import negotiate, wants_html
from cpgraph.engine.requests import WholeBody
from cpgraph.errors import InputError, PayloadTooLargeError, UnsupportedFormatError
from cpgraph.publish.service import answering_store, service_description
from cpgraph.rdf.formats import CORE_RDF_FORMATS, RdfFormat, ResultsFormat
from cpgraph.rdf.namespaces import prefix_pairs
from cpgraph.server.board import Board
from cpgraph.server.deps import (
    RuntimeDep,
    client_address,
    is_authorised,
    read_body,
    reload_store,
    require_token,
    write_target,
)
from cpgraph.server.query_requests import endpoint_base, query_request
from cpgraph.server.responses import result_response, with_charset, write_headers
from cpgraph.server.runtime import Runtime, runtime_of
from cpgraph.sparql.outbound import check_update
from cpgraph.sparql.text import check_complexity
from cpgraph.store.results import QueryKind
from cpgraph.store.update import apply_update

SERVICE_TYPES = tuple(f.media_type for f in RdfFormat)  # the service description's
router = APIRouter(tags=["SPARQL"])
P = ParamSpec("P")
T = TypeVar("T")

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
FORM_ROOM = 64 * 1024  # a POSTed form's bytes beyond its query: graphs, format, separators
RESULT_TYPES: dict[str, dict[str, object]] = {
    f.media_type: {} for f in (*ResultsFormat, *CORE_RDF_FORMATS)
}


@router.get(
    "/sparql",
    summary="Run a SPARQL query (GET), or describe the service when no query is given",
    responses={200: {"content": RESULT_TYPES}},
)
async def sparql_get(request: Request, runtime: RuntimeDep) -> Response:
    """SPARQL 1.1 Protocol query via GET; with no ``query``, the Service Description (or, to
    a browser asking for a page and naming no RDF type, the query page: what a person
    opening the endpoint wants)."""
    settings = runtime.settings
    params = multi_params(request.query_params.multi_items())
    if "update" in params:
        raise InputError("an update is sent by POST, never by GET")
    if "query" not in params:
        accept = request.headers.get("accept")
        if wants_html(accept, SERVICE_TYPES) and not _names_rdf(accept):
            return RedirectResponse("/query", status_code=303, headers={"Vary": "Accept"})
        return _describe_service(request, settings)
    return await _answer(request, runtime, params)


@router.post(
    "/sparql",
    summary="Run a SPARQL query or, with the operator's token, an update (POST)",
    responses={200: {"content": RESULT_TYPES}},
)
async def sparql_post(request: Request, runtime: RuntimeDep) -> Response:
    """SPARQL 1.1 Protocol query or update, URL-encoded or as the body.

    Updates need the operator's bearer token and are atomic: all of the request or none.
    """
    settings = runtime.settings
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
        return await _update(request, runtime, params)
    if "query" not in params:
        raise InputError("no query: send a 'query' parameter")
    return await _answer(request, runtime, params)


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


async def _update(request: Request, runtime: Runtime, params: dict[str, list[str]]) -> Response:
    settings = runtime.settings
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
    board = runtime.board
    if board is not None:
        board.check(text, "update")
    base_iri = _base_iri(request)
    check_update(
        text, settings.service_allow, prefixes=prefix_pairs(settings.base_iri), base_iri=base_iri
    )
    using, using_named = params.get("using-graph-uri", ()), params.get("using-named-graph-uri", ())
    async with runtime.write_lock:
        rewritten = await run_in_threadpool(
            _tracked(board, text, apply_update),
            write_target(runtime),
            text,
            using=using,
            using_named=using_named,
            base_iri=base_iri,
        )
        reload_store(runtime)
    return Response(status_code=204, headers=write_headers(rewritten))


def _tracked(board: Board | None, text: str, work: Callable[P, T]) -> Callable[P, T]:
    """``work``, recorded on the board as evaluating ``text`` while it runs (a process that
    dies of it puts the text in quarantine)."""
    if board is None:
        return work

    def tracked(*args: P.args, **kwargs: P.kwargs) -> T:
        with board.in_flight(text):
            return work(*args, **kwargs)

    return tracked


def _base_iri(request: Request) -> str | None:
    """The base IRI of a request's query or update: the endpoint's own URL (the URL it was
    retrieved from, RFC 3986 section 5.1.3), or None where that is no plain absolute IRI."""
    return endpoint_base(str(request.url.replace(query="", fragment="")))


def multi_params(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Request parameters by name, each with every value it was given, in order."""
    params: dict[str, list[str]] = {}
    for key, value in items:
        params.setdefault(key, []).append(value)
    return params


async def _answer(request: Request, runtime: Runtime, params: dict[str, list[str]]) -> Response:
    settings = runtime.settings
    query = query_request(
        runtime,
        params,
        accept=request.headers.get("accept"),
        authorised=is_authorised(request, settings),
        base_iri=_base_iri(request),
    )
    pool = runtime.pool
    limiter = runtime.limiter
    client = client_address(request)
    answer = answer_or_admit(query, limiter, client)
    if answer is not None:
        return result_response(answer.head, WholeBody(answer.content), settings, done=_nothing)
    try:
        head, chunks = await pool.run(query)
    except BaseException:
        limiter.release(client)
        raise
    return result_response(head, chunks, settings, done=lambda: limiter.release(client))


def _names_rdf(accept: str | None) -> bool:
    """Whether ``accept`` names one of the service description's types itself (not through
    a wildcard): a client that does gets RDF, whatever else it prefers."""
    named = {part.split(";")[0].strip().lower() for part in (accept or "").split(",")}
    return not named.isdisjoint(SERVICE_TYPES)


def _nothing() -> None:
    """No place under the client's limit to give back (an answer given at once took none)."""


def _describe_service(request: Request, settings: Settings) -> Response:
    endpoint = str(request.url.replace(query=""))
    fmt = negotiate(request.headers.get("accept"), QueryKind.GRAPH)
    assert isinstance(fmt, RdfFormat)  # a graph result negotiates to an RDF format
    figures = runtime_of(request.app).figures
    content = service_description(
        endpoint,
        fmt=fmt,
        base=settings.base_iri,
        figures=figures,
        update=settings.token is not None,
        store=answering_store(settings)["description"],
    )
    return Response(content, media_type=with_charset(fmt.media_type), headers={"Vary": "Accept"})
