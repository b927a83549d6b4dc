"""The ontology at ``/ontology`` and the shapes at ``/shapes``: documentation or the files.

Term IRIs are ``<base>ontology#Term``: a browser asks for ``/ontology`` and jumps to the
anchor ``#Term``, so every term has one. RDF clients get the store's ontology graph
(``<base>graph/ontology``) or shapes graph (``<base>graph/shapes``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from cpgraph.publish.linked import graph_quads
from cpgraph.rdf.namespaces import graph_iri
from cpgraph.server.deps import SettingsDep, StoreDep
from cpgraph.server.negotiation import negotiated
from cpgraph.server.routes.resources import RDF_TYPES
from cpgraph.web.pages import ontology_page, shapes_page
from cpgraph.web.vocabdoc import ontology_doc, shapes_doc

router = APIRouter(tags=["Linked data"])


@router.get(
    "/ontology",
    summary="The ontology: documentation of every term, or the OWL file",
    response_model=None,
    responses=RDF_TYPES,
)
def ontology(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """``<base>ontology`` (and every ``<base>ontology#Term``)."""
    base = settings.base_iri
    return negotiated(
        request,
        base=base,
        page=lambda links: ontology_page(
            ontology_doc(store, base=base), base=base, alternates=links
        ),
        quads=lambda: graph_quads(store, graph_iri("ontology", base)),
    )


@router.get(
    "/shapes",
    summary="The SHACL shapes: each node shape with its rules and messages, or the file",
    response_model=None,
    responses=RDF_TYPES,
)
def shapes(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
    """``<base>shapes`` (and every ``<base>shapes#Shape``)."""
    base = settings.base_iri
    return negotiated(
        request,
        base=base,
        page=lambda links: shapes_page(shapes_doc(store, base=base), base=base, alternates=links),
        quads=lambda: graph_quads(store, graph_iri("shapes", base)),
    )
