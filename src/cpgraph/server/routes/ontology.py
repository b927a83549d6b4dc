"""The ontology at ``/ontology`` and the shapes at ``/shapes``: documentation or the files.

Term IRIs are ``<base>ontology#Term``: a browser asks for ``/ontology`` and jumps to the
anchor ``#Term``, so every term has one. RDF clients get the store's ontology graph
(``<base>graph/ontology``) or shapes graph (``<base>graph/shapes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request, Response

from cpgraph.publish.linked import graph_quads
from cpgraph.rdf.namespaces import graph_iri
from cpgraph.server.deps import SettingsDep, StoreDep
from cpgraph.server.negotiation import Page, negotiated
from cpgraph.server.routes.resources import RDF_TYPES
from cpgraph.web.pages import ontology_page, shapes_page
from cpgraph.web.vocabdoc import ontology_doc, shapes_doc

router = APIRouter(tags=["Linked data"])

_Doc = TypeVar("_Doc")


def _documented(
    name: str, anchor: str, summary: str, doc: Callable[..., _Doc], page: Page[_Doc]
) -> None:
    """Route ``/{name}``: the documentation of the store's graph ``<base>graph/{name}`` as
    ``page``, or the graph itself in RDF."""

    def answer(request: Request, settings: SettingsDep, store: StoreDep) -> Response:
        base = settings.base_iri
        return negotiated(
            request,
            base=base,
            view=lambda: doc(store, base=base),
            page=page,
            quads=lambda: graph_quads(store, graph_iri(name, base)),
        )

    router.get(
        f"/{name}",
        name=name,
        summary=summary,
        description=f"``<base>{name}`` (and every ``<base>{name}#{anchor}``).",
        response_model=None,
        responses=RDF_TYPES,
    )(answer)


_documented(
    "ontology",
    "Term",
    "The ontology: documentation of every term, or the OWL file",
    ontology_doc,
    ontology_page,
)
_documented(
    "shapes",
    "Shape",
    "The SHACL shapes: each node shape with its rules and messages, or the file",
    shapes_doc,
    shapes_page,
)
