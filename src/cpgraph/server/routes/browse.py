"""Browsing: ``/browse`` lists the classes with instances, ``/browse?class=cp:Law`` one's."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from cpgraph.errors import InputError
from cpgraph.publish.linked import best_labels, class_members
from cpgraph.publish.stats import class_counts
from cpgraph.rdf.io import ox_iri
from cpgraph.rdf.namespaces import prefixes
from cpgraph.server.deps import SettingsDep, StoreDep
from cpgraph.web.pages import browse_page, members_page

router = APIRouter(tags=["Pages"])


def expand(name: str, *, base: str) -> str:
    """A class given as ``prefix:Local`` or as a full IRI, as an IRI.

    Raises:
        InputError: if ``name`` is neither a known prefixed name nor a valid IRI.
    """
    prefix, colon, local = name.partition(":")
    table = prefixes(base)
    iri = table[prefix] + local if colon and prefix in table else name
    try:
        return ox_iri(iri).value
    except ValueError:
        raise InputError(f"not a class name or IRI: {name!r}") from None


@router.get("/browse", summary="Browse the graph by class", response_class=HTMLResponse)
def browse(request: Request, settings: SettingsDep, store: StoreDep) -> HTMLResponse:
    """The class index, or with ``?class=`` the instances of one class."""
    base = settings.base_iri
    name = request.query_params.get("class")
    if name:
        cls = expand(name, base=base)
        members, total = class_members(store, cls, base=base)
        names = best_labels(store, [cls], base=base)
        return HTMLResponse(members_page(cls, members, total, base=base, names=names))
    counts = class_counts(store, base=base)
    names = best_labels(store, [c.cls for c in counts], base=base)
    return HTMLResponse(browse_page(counts, base=base, names=names))
