"""Content negotiation over HTTP for the linked-data routes: one URL, an HTML page or RDF by
Accept, as :mod:`cpgraph.engine.negotiation` decides.

Each resource, graph, the ontology and the shapes answer on one URL (direct content
negotiation): browsers get HTML, other clients Turtle, JSON-LD, N-Triples, RDF/XML, TriG or
N-Quads by ``Accept``, or by ``?format=`` (which wins). Every answer carries ``Vary: Accept``
and a ``Link: </id/org/sepa?format=ttl>; rel="alternate"; type="text/turtle"`` entry per
format: references relative to the server (:func:`own_reference`), never built from the
request's ``Host`` header, which a client may set to anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar
from urllib.parse import quote

import pyoxigraph as ox
from fastapi import Request, Response
from fastapi.responses import HTMLResponse

from cpgraph.engine.negotiation import FORMAT_PARAMETER, HTML_TYPES, representation
from cpgraph.publish.linked import serialize
from cpgraph.rdf.formats import LINKED_DATA_FORMATS, RdfFormat
from cpgraph.server.responses import with_charset
from cpgraph.web.pages import Alternate


def own_reference(request: Request, **params: str | int) -> str:
    """The requested path and query with ``params`` set, as a reference relative to this
    server (``/path?query``): links and ``Link`` headers name no host, so a hostile ``Host``
    header is never echoed in them."""
    raw: bytes | None = request.scope.get("raw_path")
    path = raw.decode("latin-1") if raw else quote(request.url.path)
    path = "/" + path.lstrip("/")  # "//x" would be a reference to the host x
    query = request.url.include_query_params(**params).query if params else request.url.query
    return f"{path}?{query}" if query else path


def alternates(
    request: Request, formats: Sequence[RdfFormat] = tuple(RdfFormat)
) -> list[Alternate]:
    """The other representations of the requested URL, one ``?format=`` link each."""
    return [
        Alternate(own_reference(request, **{FORMAT_PARAMETER: f.value}), f.media_type, f.label)
        for f in LINKED_DATA_FORMATS
        if f in formats
    ] + [Alternate(own_reference(request, **{FORMAT_PARAMETER: "html"}), HTML_TYPES[0], "HTML")]


def link_header(links: Sequence[Alternate]) -> str:
    """The ``Link`` header value naming every alternate representation."""
    return ", ".join(f'<{a.href}>; rel="alternate"; type="{a.media_type}"' for a in links)


_View = TypeVar("_View")
_ViewIn = TypeVar("_ViewIn", contravariant=True)


class Page(Protocol[_ViewIn]):
    """A page of :mod:`cpgraph.web.pages` drawn from a view, such as ``resource_page``."""

    def __call__(self, view: _ViewIn, /, *, base: str, alternates: Sequence[Alternate]) -> str:
        """The page's HTML."""
        ...


def negotiated(
    request: Request,
    *,
    base: str,
    view: Callable[[], _View],
    page: Page[_View],
    quads: Callable[[], Sequence[ox.Quad]],
) -> Response:
    """The HTML ``page`` of ``view`` or the RDF of ``quads``, as the request asks; only the
    one asked for is read from the store.

    Raises:
        InputError: for an unknown ``?format=``.
        NotAcceptableError: if the Accept header allows nothing offered.
        NotFoundError: as ``view`` or ``quads`` raise it.
    """
    fmt = representation(request.headers.get("accept"), request.query_params.get(FORMAT_PARAMETER))
    links = alternates(request)
    headers = {"Vary": "Accept", "Link": link_header(links)}
    if fmt is None:
        shown = [a for a in links if a.media_type not in HTML_TYPES]
        return HTMLResponse(page(view(), base=base, alternates=shown), headers=headers)
    body = serialize(quads(), fmt, base=base)
    return Response(body, media_type=with_charset(fmt.media_type), headers=headers)
