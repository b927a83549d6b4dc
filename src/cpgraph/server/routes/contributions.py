"""Contributions over HTTP: ``POST /validate`` (open to all), ``/contributions`` (with a token).

The library (:mod:`cpgraph.validation.contributions`) does the work; these routes parse bodies,
check
tokens and choose the report's form (JSON summary, a SHACL report in RDF, or an HTML page).
"""

from __future__ import annotations

import hmac
import io
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from cpgraph.config import Settings
from cpgraph.engine.negotiation import HTML_TYPES, JSON, choose, wants_html
from cpgraph.errors import InputError, UnauthorizedError, UnsupportedFormatError
from cpgraph.rdf.formats import CORE_RDF_FORMATS, RdfFormat
from cpgraph.server.deps import (
    SettingsDep,
    StoreDep,
    bearer_token,
    client_address,
    is_authorised,
    read_body,
    reload_store,
    write_target,
)
from cpgraph.server.responses import with_charset
from cpgraph.server.runtime import runtime_of
from cpgraph.validation import contributions as contrib
from cpgraph.validation.jobs import ValidationRunner, check_job, commit_job
from cpgraph.validation.neighbourhood import Triple
from cpgraph.validation.shacl import ValidationOutcome
from cpgraph.web.pages import contribute_page, contributions_page

router = APIRouter(tags=["Contributions"])

FORM = "application/x-www-form-urlencoded"
_RDF_TYPES = {f.media_type: f for f in CORE_RDF_FORMATS}  # given only to a client naming them
_READ: dict[str, object] = {"content": {media: {} for media in _RDF_TYPES}}


def _contributor(request: Request, settings: Settings) -> contrib.Contributor:
    """Who the request's bearer token authenticates.

    Raises:
        UnauthorizedError: with no token configured, or no or an unknown token.
    """
    tokens = runtime_of(request.app).contributor_tokens
    if not tokens:
        raise UnauthorizedError("contributions are closed: the operator has set no tokens")
    sent = bearer_token(request.headers.get("authorization"))
    if sent is not None:
        for token, who in tokens.items():
            if hmac.compare_digest(sent, token.encode()):
                return who
    raise UnauthorizedError("this needs a contributor's token: Authorization: Bearer <token>")


def _has_token(request: Request, settings: Settings) -> bool:
    """Whether the request carries the operator's or a contributor's token."""
    if is_authorised(request, settings):
        return True
    try:
        _contributor(request, settings)
    except UnauthorizedError:
        return False
    return True


def _body_limit(request: Request, settings: Settings) -> int:
    """The most bytes ``/validate`` reads: ``max_validate_bytes`` without a token."""
    if _has_token(request, settings):
        return settings.max_body_bytes
    return min(settings.max_validate_bytes, settings.max_body_bytes)


def _runner(request: Request) -> ValidationRunner:
    """This server process's validation runner (made at its first use)."""
    runtime = runtime_of(request.app)
    if runtime.validations is None:
        runtime.validations = ValidationRunner(runtime.settings, runtime.validation_counts)
    return runtime.validations


async def _check(request: Request, triples: list[Triple]) -> ValidationOutcome:
    """The contribution's validation in the current store, in a process of its own (see
    :mod:`cpgraph.validation.jobs`): stopped at its time limit or when the client leaves."""
    runner = _runner(request)
    runtime = runtime_of(request.app)
    return await runner.run(
        client_address(request),
        check_job,
        triples,
        runtime.settings if runtime.remote else runtime.store_path,
        runner.context_bytes(runtime.context),
        gone=request.is_disconnected,
    )


def _form_fields(body: bytes) -> dict[str, list[str]]:
    """The fields of a form body.

    Raises:
        InputError: if the body or a field in it is not UTF-8.
    """
    try:
        return parse_qs(body.decode("utf-8"), errors="strict")
    except UnicodeDecodeError:
        raise InputError("the form is not valid UTF-8: send it encoded as UTF-8") from None


async def _body_triples(request: Request, settings: Settings, limit: int) -> list[Triple]:
    content_type = request.headers.get("content-type")
    if not content_type:
        raise UnsupportedFormatError("say the contribution's RDF format in Content-Type")
    fmt = RdfFormat.from_media_type(content_type)
    return await _read(request, settings, await read_body(request, limit), fmt, source="body")


async def _read(
    request: Request, settings: Settings, data: bytes | str, fmt: RdfFormat, *, source: str
) -> list[Triple]:
    """The triples of a contribution's ``data``, read in a worker thread against the served
    context (``source`` names where the data came from in messages)."""
    terms = runtime_of(request.app).context.terms
    return await run_in_threadpool(
        contrib.read_contribution, data, fmt, base=settings.base_iri, terms=terms, source=source
    )


def _rdf_wanted(request: Request) -> RdfFormat | None:
    """The RDF format the client ranks above JSON for a report or a record; None for JSON."""
    chosen = choose(request.headers.get("accept"), (JSON, *_RDF_TYPES), named=_RDF_TYPES)
    return _RDF_TYPES.get(chosen) if chosen is not None else None


def _report(
    request: Request,
    outcome: ValidationOutcome,
    *,
    status: int = 200,
    extra: dict[str, object] | None = None,
) -> Response:
    fmt = _rdf_wanted(request)
    if fmt is not None:
        buffer = io.BytesIO()
        outcome.report.serialize(buffer, format=fmt.rdflib)
        return Response(
            buffer.getvalue(), status_code=status, media_type=with_charset(fmt.media_type)
        )
    return JSONResponse({**outcome.summary(), **(extra or {})}, status_code=status)


@router.post(
    "/validate",
    summary="Validate RDF against the shapes, in the context of the graph (no token needed)",
    responses={
        200: {
            "content": {
                JSON: {},
                RdfFormat.TURTLE.media_type: {},
                RdfFormat.JSON_LD.media_type: {},
                HTML_TYPES[0]: {},
            }
        }
    },
)
async def validate(request: Request, settings: SettingsDep) -> Response:
    """The SHACL report on the body (Turtle, N-Triples, JSON-LD or RDF/XML by Content-Type),
    validated as part of the graph: references to what the graph holds are checked, and so
    are the shapes of the nodes the body touches. Nothing is written."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    limit = _body_limit(request, settings)
    if media_type == FORM:  # the HTML form: fields "data" and "format"
        form = _form_fields(await read_body(request, limit))
        data = form.get("data", [""])[0]
        fmt = (
            RdfFormat(form.get("format", ["ttl"])[0])
            if form.get("format", ["ttl"])[0] in {f.value for f in RdfFormat}
            else RdfFormat.TURTLE
        )
        try:
            triples = await _read(request, settings, data, fmt, source="data")
        except InputError as exc:
            return HTMLResponse(
                contribute_page(data=data, fmt=fmt, error=exc.message), status_code=exc.status
            )
        outcome = await _check(request, triples)
        return HTMLResponse(contribute_page(data=data, fmt=fmt, outcome=outcome))
    triples = await _body_triples(request, settings, limit)
    return _report(request, await _check(request, triples))


@router.get("/contribute", summary="A form to validate a contribution", response_class=HTMLResponse)
def contribute_form() -> HTMLResponse:
    """Paste Turtle (or another format) and read the report."""
    return HTMLResponse(contribute_page())


@router.post(
    "/contributions",
    status_code=201,
    summary="Validate and commit a contribution (needs a contributor's token)",
)
async def create(
    request: Request, settings: SettingsDep, comment: str = "", source: str | None = None
) -> Response:
    """Commit the body into a graph of its own with who, when, why and from where.

    Violations refuse it (422, with the report); warnings are reported and pass. The same
    content sent again is not committed again (200 with the first record)."""
    contributor = _contributor(request, settings)
    triples = await _body_triples(request, settings, settings.max_body_bytes)
    context = runtime_of(request.app).context
    runner = _runner(request)
    async with runtime_of(request.app).write_lock:
        try:  # validated and written in a process of its own, with the validation's limits
            result = await runner.run(
                client_address(request),
                commit_job,
                settings if runtime_of(request.app).remote else str(settings.store_dir),
                triples,
                contributor,
                comment,
                source,
                settings.base_iri,
                runner.context_bytes(context),
                gone=request.is_disconnected,
            )
        finally:
            reload_store(runtime_of(request.app))
    location = str(request.url_for("get_contribution", identifier=result.record.id))
    body = {
        "contribution": result.record.to_dict(),
        "created": result.created,
        **result.outcome.summary(),
    }
    return JSONResponse(
        body, status_code=201 if result.created else 200, headers={"Location": location}
    )


@router.get("/contributions", summary="Every committed contribution")
def list_all(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """The contributions, oldest first (JSON, or a page for browsers)."""
    records = contrib.list_contributions(store, base=settings.base_iri)
    if wants_html(request.headers.get("accept")):
        entries = [(r, str(request.url_for("get_contribution", identifier=r.id))) for r in records]
        return HTMLResponse(contributions_page(entries))
    return JSONResponse({"contributions": [r.to_dict() for r in records]})


@router.get("/contributions/{identifier}", summary="One contribution", responses={200: _READ})
def get_contribution(
    request: Request,
    identifier: str,
    settings: SettingsDep,
    store: StoreDep,
    format: str | None = None,
) -> Response:
    """Its record (JSON) or its graph (Turtle, N-Triples, JSON-LD, RDF/XML by Accept)."""
    record = contrib.get_record(store, identifier, base=settings.base_iri)
    wanted = format
    if wanted is None:
        chosen = _rdf_wanted(request)
        if chosen is None:
            return JSONResponse(record.to_dict())
        wanted = chosen.value
    if wanted == "json":
        return JSONResponse(record.to_dict())
    try:
        fmt = RdfFormat(wanted or "ttl")
    except ValueError:
        raise InputError(f"unknown format {wanted!r}") from None
    buffer = io.BytesIO()
    store.dump_graph(buffer, fmt, record.graph)
    return Response(buffer.getvalue(), media_type=with_charset(fmt.media_type))


@router.delete(
    "/contributions/{identifier}",
    status_code=204,
    summary="Withdraw a contribution (its contributor's or the operator's token)",
)
async def withdraw(
    request: Request, identifier: str, settings: SettingsDep, store: StoreDep
) -> Response:
    """Remove the contribution's graph; only its contributor or the operator may."""
    who = _contributor(request, settings)
    record = contrib.get_record(store, identifier, base=settings.base_iri)
    if who != contrib.OPERATOR and record.contributor != who.iri(settings.base_iri):
        raise UnauthorizedError("only its contributor or the operator may withdraw it")
    runtime = runtime_of(request.app)
    async with runtime.write_lock:
        await run_in_threadpool(
            contrib.withdraw, write_target(runtime), identifier, base=settings.base_iri
        )
        reload_store(runtime)
    return Response(status_code=204)
