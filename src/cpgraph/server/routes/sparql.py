"""The SPARQL 1.1 Protocol endpoint at ``/sparql``: queries by GET, POST form or POST body."""

from __future__ import annotations

import io
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from cpgraph.config import Settings
from cpgraph.errors import InputError, NotAcceptableError, UnsupportedFormatError
from cpgraph.namespaces import prefixes
from cpgraph.query import QueryFormat, negotiate
from cpgraph.rdfio import RdfFormat
from cpgraph.server.deps import SettingsDep, StoreDep
from cpgraph.service import service_description
from cpgraph.store import GraphStore, QueryKind, ResultsFormat

router = APIRouter(tags=["SPARQL"])

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"


@router.get(
    "/sparql",
    summary="Run a SPARQL query (GET), or describe the service when no query is given",
    responses={200: {"content": {"application/sparql-results+json": {}, "text/turtle": {}}}},
)
async def sparql_get(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """SPARQL 1.1 Protocol query via GET; with no ``query``, the Service Description."""
    params = _multi(request.query_params.multi_items())
    if "query" not in params:
        return _describe_service(request, settings)
    return await _answer(request, store, settings, params)


@router.post("/sparql", summary="Run a SPARQL query (POST form or direct body)")
async def sparql_post(request: Request, store: StoreDep, settings: SettingsDep) -> Response:
    """SPARQL 1.1 Protocol query via URL-encoded POST or POST with the query as the body."""
    params = _multi(request.query_params.multi_items())
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    body = await request.body()
    if content_type == FORM:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        for key, values in form.items():
            params.setdefault(key, []).extend(values)
    elif content_type == SPARQL_QUERY:
        if "query" in params:
            raise InputError("a direct POST carries the query in its body, not also in the URL")
        params["query"] = [body.decode("utf-8")]
    else:
        raise UnsupportedFormatError(
            f"POST /sparql takes {FORM} or {SPARQL_QUERY}, not {content_type or 'no type'}"
        )
    if "query" not in params:
        raise InputError("no query: send a 'query' parameter")
    return await _answer(request, store, settings, params)


def _multi(items: list[tuple[str, str]]) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in items:
        params.setdefault(key, []).append(value)
    return params


async def _answer(
    request: Request, store: GraphStore, settings: Settings, params: dict[str, list[str]]
) -> Response:
    if len(params["query"]) != 1:
        raise InputError("send exactly one 'query' parameter")
    text = params["query"][0]
    wanted = params.get("format", [None])[0]
    accept = request.headers.get("accept")

    def work() -> tuple[bytes, str]:
        result = store.query(
            text,
            default_graphs=params.get("default-graph-uri"),
            named_graphs=params.get("named-graph-uri"),
            prefixes=prefixes(settings.base_iri),
        )
        fmt = _format_param(wanted, result.kind) if wanted else negotiate(accept, result.kind)
        buffer = io.BytesIO()
        result.serialize(buffer, fmt)
        return buffer.getvalue(), fmt.media_type

    content, media_type = await run_in_threadpool(work)
    return Response(content, media_type=_with_charset(media_type), headers={"Vary": "Accept"})


def _format_param(value: str, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """The ``format`` parameter: a short name (json, ttl, ...) or a media type."""
    try:
        concrete = QueryFormat(value).concrete(kind)
    except ValueError:
        return negotiate(value, kind)
    if concrete is None:
        raise NotAcceptableError("format=table is for the command line; use json, csv or tsv")
    return concrete


def _with_charset(media_type: str) -> str:
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
    content = service_description(endpoint, fmt=fmt, base=settings.base_iri, figures=figures)
    return Response(content, media_type=_with_charset(fmt.media_type), headers={"Vary": "Accept"})
