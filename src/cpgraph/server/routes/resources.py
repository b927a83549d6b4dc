"""Dereferencing: ``/id/{kind}/{slug}`` and ``/graph/{...}`` answer for the IRIs the graph mints.

The request path is mapped onto the configured base (``/id/org/sepa`` serves
``<base>id/org/sepa``) after checking that every segment is a slug, so no IRI is ever built
from unescaped input. Browsers get the page, other clients the RDF (see
:mod:`cpgraph.server.negotiation`); an IRI the graph does not mention is a 404 problem.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from cpgraph.engine.negotiation import HTML_TYPES
from cpgraph.errors import NotFoundError
from cpgraph.publish.linked import graph_quads, graph_view, resource_quads, resource_view
from cpgraph.rdf.formats import LINKED_DATA_FORMATS
from cpgraph.rdf.namespaces import graph_iri, instance_iri
from cpgraph.server.deps import SettingsDep, StoreDep
from cpgraph.server.negotiation import negotiated
from cpgraph.web.pages import graph_page, resource_page

router = APIRouter(tags=["Linked data"])

RDF_TYPES: dict[int | str, dict[str, object]] = {
    200: {"content": {HTML_TYPES[0]: {}, **{f.media_type: {} for f in LINKED_DATA_FORMATS}}},
    404: {"description": "The graph does not mention this IRI"},
}


def _minted(mint: Callable[[], str], missing: str) -> str:
    """The IRI ``mint`` makes of the requested path; 404 with ``missing`` if it names none."""
    try:
        return mint()
    except ValueError:
        raise NotFoundError(missing) from None


@router.get(
    "/id/{kind}/{slug}",
    summary="An instance: its page, or its concise bounded description in RDF",
    response_model=None,
    responses=RDF_TYPES,
)
def instance(
    kind: str, slug: str, request: Request, settings: SettingsDep, store: StoreDep
) -> Response:
    """``<base>id/{kind}/{slug}``: HTML for browsers, RDF by Accept or ``?format=``."""
    base = settings.base_iri
    iri = _minted(
        lambda: instance_iri(kind, slug, base),
        f"no such resource: /id/{kind}/{slug} (kinds and slugs are lower-case a-z, 0-9 "
        "and single hyphens)",
    )
    return negotiated(
        request,
        base=base,
        view=lambda: resource_view(store, iri, base=base),
        page=resource_page,
        quads=lambda: resource_quads(store, iri, base=base),
    )


@router.get(
    "/graph/{name:path}",
    summary="A named graph: where it comes from and its statements",
    response_model=None,
    responses=RDF_TYPES,
)
def graph(name: str, request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """``<base>graph/{name}``: HTML for browsers, the graph's statements in RDF otherwise
    (TriG and N-Quads keep the graph name)."""
    base = settings.base_iri
    iri = _minted(
        lambda: graph_iri(name, base),
        f"no such graph: /graph/{name} (graph names are slugs separated by slashes)",
    )
    return negotiated(
        request,
        base=base,
        view=lambda: graph_view(store, iri, base=base),
        page=graph_page,
        quads=lambda: graph_quads(store, iri),
    )
