"""Saved queries over HTTP: ``/queries`` (the library, JSON or the HTML gallery),
``/queries/{name}`` (one query's result in every format of the endpoint, a page for browsers),
``/queries/{name}.svg`` (its chart) and ``/.well-known/sparql-examples`` (the library as RDF).

Each saved query is also an operation of its own in the OpenAPI document, with its parameters
typed (:func:`install`). Queries run in the worker pool like any other (time limit,
per-client concurrency, streaming); parameter values are bound as RDF terms, never written
into the query text; a SELECT is paged (``page``, ``per_page``) with ``Link`` headers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from cpgraph.engine.negotiation import (
    FORMAT_PARAMETER,
    HTML_TYPES,
    SVG,
    representation,
    wants_html,
    wants_page,
)
from cpgraph.engine.requests import QueryRequest
from cpgraph.errors import NotAcceptableError, NotFoundError, ParameterError
from cpgraph.publish.linked import serialize
from cpgraph.rdf.formats import CORE_RDF_FORMATS, RdfFormat, ResultsFormat
from cpgraph.rdf.namespaces import graph_iri, prefix_pairs
from cpgraph.saved.library import QUERIES_GRAPH, Library
from cpgraph.saved.query import QueryForm, SavedQuery
from cpgraph.server.deps import SettingsDep, StoreDep, client_address
from cpgraph.server.negotiation import own_reference
from cpgraph.server.responses import with_charset
from cpgraph.server.routes.sparql import RESULT_TYPES
from cpgraph.server.runtime import runtime_of
from cpgraph.sparql.outbound import check_query
from cpgraph.store.results import QueryKind
from cpgraph.web.charts import ResultTable, choose_chart, render_svg, result_table
from cpgraph.web.gallery import PageLinks, gallery_page, labels_of, query_page

router = APIRouter(tags=["Saved queries"])

RESERVED = ("format", "page", "per_page")
MAX_PER_PAGE = 10_000
_EXAMPLE_FORMATS = (RdfFormat.TURTLE, RdfFormat.JSON_LD)  # named in the OpenAPI document


def get_library(request: Request) -> Library:
    """The saved queries loaded at startup."""
    return runtime_of(request.app).library


def describe(query: SavedQuery, *, base_url: str) -> dict[str, Any]:
    """A saved query as JSON: its metadata, parameters and where to run it."""
    return {
        "name": query.name,
        "title": query.title,
        "description": query.description,
        "tags": list(query.tags),
        "form": query.form.value,
        "chart": query.chart,
        "parameters": [
            {
                "name": p.name,
                "variable": f"?{p.variable}",
                "type": p.type.name,
                "required": p.required,
                "default": p.default,
                "description": p.description,
            }
            for p in query.parameters
        ],
        "url": f"{base_url}queries/{query.name}",
        "svg": f"{base_url}queries/{query.name}.svg",
        "sparql": query.text,
    }


@router.get("/queries", summary="The saved queries (JSON, or the gallery for browsers)")
def list_queries(request: Request) -> Response:
    """Every saved query with its title, description, tags and typed parameters; an HTML
    gallery for browsers. ``?tag=`` keeps the queries with that tag."""
    library = get_library(request)
    tag = request.query_params.get("tag") or None
    fmt = request.query_params.get("format")
    headers = {"Vary": "Accept"}
    if fmt == "html" or (fmt is None and wants_html(request.headers.get("accept"))):
        return HTMLResponse(gallery_page(library, tag=tag), headers=headers)
    base_url = str(request.base_url)
    queries = [describe(q, base_url=base_url) for q in library if tag is None or tag in q.tags]
    return JSONResponse({"queries": queries, "tags": library.tags()}, headers=headers)


@router.get(
    "/.well-known/sparql-examples",
    summary="The saved queries as SPARQL examples (SIB convention), in RDF",
    responses={200: {"content": {f.media_type: {} for f in _EXAMPLE_FORMATS}}},
)
def sparql_examples(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """The named graph ``<base>graph/queries``: each saved query as an ``sh:SPARQLExecutable``
    with its text, comment and keywords. Turtle unless ``Accept`` or ``?format=`` asks for
    JSON-LD, N-Triples, RDF/XML, TriG or N-Quads."""
    fmt = representation(request.headers.get("accept"), request.query_params.get(FORMAT_PARAMETER))
    if fmt is None:  # a browser: Turtle is readable text
        fmt = RdfFormat.TURTLE
    quads = list(store.quads(graph_iri(QUERIES_GRAPH, settings.base_iri)))
    body = serialize(quads, fmt, base=settings.base_iri)
    return Response(body, media_type=with_charset(fmt.media_type), headers={"Vary": "Accept"})


@router.get("/queries/{name}.svg", include_in_schema=False)
async def chart_any(name: str, request: Request) -> Response:
    """The chart of any saved query (404 for a name the library does not have)."""
    return await answer(request, name, svg=True)


@router.get("/queries/{name}", include_in_schema=False)
async def run_any(name: str, request: Request) -> Response:
    """Any saved query by name (404 for a name the library does not have)."""
    return await answer(request, name)


def install(app: FastAPI, library: Library) -> None:
    """Add one documented operation per saved query (and its chart), then the router."""
    for query in library:
        app.add_api_route(
            f"/queries/{query.name}",
            _endpoint(query.name, svg=False),
            methods=["GET"],
            summary=query.title,
            description=query.description,
            operation_id=f"saved_query_{query.name.replace('-', '_')}",
            tags=["Saved queries"],
            response_class=Response,
            responses={
                200: {"description": "The result", "content": {**RESULT_TYPES, HTML_TYPES[0]: {}}},
                422: {"description": "A parameter is missing or not of its type"},
            },
            openapi_extra={"parameters": _openapi_parameters(query)},
        )
        if query.form is QueryForm.SELECT:
            app.add_api_route(
                f"/queries/{query.name}.svg",
                _endpoint(query.name, svg=True),
                methods=["GET"],
                summary=f"Chart: {query.title}",
                operation_id=f"saved_query_{query.name.replace('-', '_')}_svg",
                tags=["Saved queries"],
                response_class=Response,
                responses={200: {"description": "The chart", "content": {SVG: {}}}},
                openapi_extra={"parameters": _openapi_parameters(query, paged=False)},
            )
    app.include_router(router)


def _endpoint(name: str, *, svg: bool) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return await answer(request, name, svg=svg)

    return endpoint


def _openapi_parameters(query: SavedQuery, *, paged: bool = True) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for p in query.parameters:
        schema: dict[str, Any] = dict(p.type.json_schema())
        if p.default is not None:
            schema["default"] = int(p.default) if schema.get("type") == "integer" else p.default
        params.append(
            {
                "name": p.name,
                "in": "query",
                "required": p.required and p.default is None,
                "description": (p.description or f"a value of type {p.type.name}")
                + f" (binds ?{p.variable})",
                "schema": schema,
            }
        )
    if paged and query.form is QueryForm.SELECT:
        params += [
            {
                "name": "page",
                "in": "query",
                "required": False,
                "schema": {"type": "integer", "minimum": 1, "default": 1},
            },
            {
                "name": "per_page",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_PER_PAGE,
                    "default": query.page_size,
                },
            },
        ]
    params.append(
        {
            "name": FORMAT_PARAMETER,
            "in": "query",
            "required": False,
            "description": "json, xml, csv, tsv (SELECT, ASK); ttl, nt, jsonld, rdf (CONSTRUCT); "
            "html (the gallery page); svg (the chart). Without it, the Accept header decides.",
            "schema": {
                "type": "string",
                "enum": [f.value for f in (*ResultsFormat, *CORE_RDF_FORMATS)] + ["html", "svg"],
            },
        }
    )
    return params


# ---------------------------------------------------------------------------------------------
# Answering
# ---------------------------------------------------------------------------------------------


def _shown(request: Request, form: QueryForm) -> str | None:
    """The picture (SVG, or an HTML page) the client ranks above the query's results."""
    graph = form in (QueryForm.CONSTRUCT, QueryForm.DESCRIBE)
    kind = QueryKind.GRAPH if graph else QueryKind.SOLUTIONS
    return wants_page(request.headers.get("accept"), kind, (SVG, *HTML_TYPES))


def _positive(params: dict[str, str], name: str, default: int, *, maximum: int) -> int:
    text = params.get(name)
    if text is None or text == "":
        return default
    if not text.isdigit() or int(text) < 1:
        raise ParameterError(f"{name} is a positive integer, not {text!r}", parameter=name)
    if int(text) > maximum:
        raise ParameterError(f"{name} is at most {maximum}", parameter=name)
    return int(text)


def _single(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in params:
            raise ParameterError(f"give the parameter {key!r} once", parameter=key)
        params[key] = value
    return params


async def answer(request: Request, name: str, *, svg: bool = False) -> Response:
    """Run saved query ``name`` with the request's parameters; reply in the format asked.

    Raises:
        NotFoundError: if there is no such saved query.
        ParameterError: (422) for a bad parameter, ``page`` or ``per_page``.
        NotAcceptableError, QueryTimeoutError, ...: as the endpoint.
    """
    runtime = runtime_of(request.app)
    settings = runtime.settings
    query = runtime.library.get(name)
    params = _single(request)
    fmt = params.get("format")
    values = {k: v for k, v in params.items() if k not in RESERVED}
    substitutions = query.bind(values, base=settings.base_iri)
    limit = min(MAX_PER_PAGE, settings.row_limit)
    per_page = _positive(params, "per_page", min(query.page_size, limit), maximum=limit)
    page = _positive(params, "page", 1, maximum=10**9 // per_page)
    shown = _shown(request, query.form) if fmt is None else None
    svg = svg or fmt == "svg" or shown == SVG
    html = not svg and (fmt == "html" or shown in HTML_TYPES)
    paged = query.form is QueryForm.SELECT
    text = query.page(page=page, per_page=per_page) if paged else query.text
    wire = tuple((variable, str(term)) for variable, term in substitutions.items())
    request_format = "json" if (svg or html) else fmt
    if (svg or html) and not paged:
        raise NotAcceptableError("only a SELECT query has a table and a chart")
    check_query(text, settings.service_allow, prefixes=prefix_pairs(settings.base_iri))
    pool_request = QueryRequest(
        query=text,
        store=runtime.store,
        accept=request.headers.get("accept"),
        format=request_format,
        prefixes=prefix_pairs(settings.base_iri),
        row_limit=per_page if paged else None,
        substitutions=wire,
    )
    pool = runtime.pool
    limiter = runtime.limiter
    client = client_address(request)
    limiter.acquire(client)
    try:
        head, chunks = await pool.run(pool_request)
    except BaseException:
        limiter.release(client)
        raise
    links = _links(request, page=page, per_page=per_page, more=head.truncated, paged=paged)
    headers = {"Vary": "Accept"}
    if links.first and paged:
        headers["Link"] = _link_header(links)
    if svg or html:
        try:
            data = b"".join([chunk async for chunk in chunks])
        finally:
            limiter.release(client)
        table = result_table(data)
        return _picture(
            query,
            table,
            svg=svg,
            values=values,
            links=links,
            headers=headers,
            base=settings.base_iri,
        )

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            limiter.release(client)

    return StreamingResponse(body(), media_type=with_charset(head.media_type), headers=headers)


def _picture(
    query: SavedQuery,
    table: ResultTable,
    *,
    svg: bool,
    values: dict[str, str],
    links: PageLinks,
    headers: dict[str, str],
    base: str,
) -> Response:
    kind = choose_chart(table, query.chart)
    chart = None
    if kind is not None:
        chart = render_svg(table, kind, title=query.title, description=query.description)
    if svg:
        if chart is None:
            raise NotFoundError(
                f"{query.name} has no chart for this result: "
                + ("it has no rows" if not table.rows else "its columns suit no chart")
            )
        filename = f"{query.name}.svg"
        headers = {**headers, "Content-Disposition": f'inline; filename="{filename}"'}
        return Response(chart, media_type=SVG, headers=headers)
    page = query_page(
        query,
        table,
        values=values,
        chart_svg=chart,
        links=links,
        base=base,
        names=labels_of(table),
    )
    return HTMLResponse(page, headers=headers)


def _links(request: Request, *, page: int, per_page: int, more: bool, paged: bool) -> PageLinks:
    def at(number: int) -> str:
        return own_reference(request, page=number, per_page=per_page)

    if not paged:
        return PageLinks(page=1, per_page=per_page, first="")
    return PageLinks(
        page=page,
        per_page=per_page,
        first=at(1),
        previous=at(page - 1) if page > 1 else None,
        next=at(page + 1) if more else None,
    )


def _link_header(links: PageLinks) -> str:
    parts = [f'<{links.first}>; rel="first"']
    if links.previous:
        parts.append(f'<{links.previous}>; rel="prev"')
    if links.next:
        parts.append(f'<{links.next}>; rel="next"')
    return ", ".join(parts)
