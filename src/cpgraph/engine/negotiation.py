"""Content negotiation, one rule for every route and for the fast path: which of the media
types an answer can take the client's ``Accept`` header ranks best.

The rule (:func:`choose`): the Accept ranges are taken best first (by q, then the more
specific, then the header's order), and the first range that matches an offered type decides;
a wildcard takes the offered types in the server's order of preference. A wildcard never
chooses a page (HTML, SVG), nor a type a route gives only to a client that names it: a client
that wants a page says so, as browsers do. ``?format=`` names a format outright and wins.

A query's format parameters (:data:`FORMAT_PARAMETERS`: ``format``, and ``output`` and
``results`` as other servers call it) take any name :func:`~cpgraph.rdf.formats.formats_named`
knows, Fuseki's and SPARQLWrapper's among them; a name may stand for a format of each kind
(``json``: SPARQL JSON for a SELECT, JSON-LD for a CONSTRUCT). What they name goes before the
Accept header (:func:`with_format_parameters`), so where they name nothing for the kind of
result, the Accept header decides: the answer a client gets from Fuseki, not a 406.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Sequence
from typing import NamedTuple

from cpgraph.errors import InputError, NotAcceptableError
from cpgraph.rdf.formats import LINKED_DATA_FORMATS, RdfFormat, ResultsFormat, formats_named
from cpgraph.store.results import QueryKind

HTML_TYPES = ("text/html", "application/xhtml+xml")
SVG = "image/svg+xml"
PAGE_TYPES = frozenset({*HTML_TYPES, SVG})
JSON = "application/json"
FORMAT_PARAMETER = "format"
# The parameters that name a query result's format: Virtuoso's, Fuseki's, and Rasqal's;
# SPARQLWrapper sends all three.
FORMAT_PARAMETERS = (FORMAT_PARAMETER, "output", "results")


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """An Accept header as (media range, q) pairs, best first, q=0 dropped.

    Ties keep the header's order; more specific ranges win over wildcards of equal q.
    """
    if not header:
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int, int]] = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if q > 0:
            specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
            ranges.append((media, q, specificity, position))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def choose(
    accept: str | None, offered: Sequence[str], *, named: Collection[str] = ()
) -> str | None:
    """The type of ``offered`` (in the server's order of preference) that ``accept`` ranks
    best; None if it accepts none. Pages and the ``named`` types are chosen only by name.

    >>> choose("text/plain, text/html", ["application/json", "text/html"])
    'text/html'
    >>> choose("*/*", ["application/json", "text/html"])
    'application/json'
    >>> choose("text/*", ["application/json", "text/html"]) is None
    True
    """
    for media, _q in parse_accept(accept):
        if media.endswith("/*"):
            family = "" if media == "*/*" else media[:-1]
            for offer in offered:
                if offer.startswith(family) and offer not in PAGE_TYPES and offer not in named:
                    return offer
        elif media in offered:
            return media
    return None


def wants_html(accept: str | None, offered: Sequence[str] = (JSON,)) -> bool:
    """Whether the client would rather have the HTML page than the data types ``offered``."""
    chosen = choose(accept, (*offered, *HTML_TYPES))
    return chosen is not None and chosen in HTML_TYPES


class _Offer(NamedTuple):
    """What an answer can be sent as: media types in the server's order, those given only by
    name (the aliases), and the format each stands for."""

    types: tuple[str, ...]
    named: frozenset[str]
    formats: dict[str, ResultsFormat | RdfFormat]


def _offer(formats: Sequence[ResultsFormat | RdfFormat]) -> _Offer:
    types = {f.media_type: f for f in formats}
    aliases = {a: f for f in formats for a in f.spec.aliases if a not in types}
    return _Offer((*types, *aliases), frozenset(aliases), {**aliases, **types})


_RESULTS = _offer(tuple(ResultsFormat))
_OFFERS = {
    QueryKind.SOLUTIONS: _RESULTS,
    QueryKind.BOOLEAN: _RESULTS,
    QueryKind.GRAPH: _offer(tuple(RdfFormat)),
}
_LINKED = _offer(LINKED_DATA_FORMATS)


def negotiate(accept: str | None, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """The best result format for ``kind`` that the Accept header allows (JSON for SELECT and
    ASK, Turtle for CONSTRUCT and DESCRIBE, when any will do).

    Raises:
        NotAcceptableError: if nothing cpgraph writes for this kind fits (HTTP 406).
    """
    offer = _OFFERS[kind]
    chosen = choose(accept, offer.types, named=offer.named)
    if chosen is None:
        offered = ", ".join(sorted({f.media_type for f in offer.formats.values()}))
        raise NotAcceptableError(f"no acceptable format for this result; cpgraph offers {offered}")
    return offer.formats[chosen]


def with_format_parameters(names: Sequence[str], accept: str | None) -> str | None:
    """The Accept header that a query's format parameters (``names``, their values in order)
    and its Accept header (``accept``) add up to: the media types of the formats they name,
    then ``accept`` (any type, without one). A value may list names separated by commas;
    ``accept`` is returned as it is when they name nothing.

    >>> with_format_parameters(["turtle"], None)
    'text/turtle, */*'
    >>> with_format_parameters(["xml", "<script>"], "application/json")
    'application/sparql-results+xml, application/rdf+xml, application/json'
    """
    types: dict[str, None] = {}  # in order, once each
    for value in names:
        for name in value.split(","):
            for fmt in formats_named(name):
                types[fmt.media_type] = None
    if not types:
        return accept
    return ", ".join((*types, accept or "*/*"))


def wants_page(accept: str | None, kind: QueryKind, pages: Sequence[str]) -> str | None:
    """The page type of ``pages`` that the client ranks above every result format of
    ``kind``; None when it would rather have a result (or accepts nothing offered)."""
    offer = _OFFERS[kind]
    chosen = choose(accept, (*offer.types, *pages), named=offer.named)
    return chosen if chosen is not None and chosen in pages else None


def representation(accept: str | None, override: str | None = None) -> RdfFormat | None:
    """Which representation of a resource to send: an RDF format, or None for the HTML page.

    ``override`` is the ``?format=`` parameter (``html``, ``ttl``, ``jsonld``, ``nt``,
    ``rdf``, ``trig``, ``nq``, or another name or media type of one of them) and wins over
    the Accept header. Without either, and for ``*/*``, the answer is Turtle; browsers ask
    for ``text/html`` first and get the page.

    >>> representation("text/html,application/xhtml+xml,*/*;q=0.8") is None
    True
    >>> representation("application/ld+json")
    <RdfFormat.JSON_LD: 'jsonld'>
    >>> representation(None, "nt")
    <RdfFormat.N_TRIPLES: 'nt'>

    Raises:
        InputError: if ``override`` names no format.
        NotAcceptableError: if nothing the Accept header allows is offered.
    """
    if override is not None:
        if override == "html":
            return None
        for named in formats_named(override):
            if isinstance(named, RdfFormat):
                return named
        names = ", ".join(["html", *(f.value for f in RdfFormat)])
        raise InputError(f"unknown format {override!r}: use one of {names}")
    chosen = choose(accept, (*_LINKED.types, *HTML_TYPES), named=_LINKED.named)
    if chosen is None:
        offered = ", ".join(["text/html", *(f.media_type for f in RdfFormat)])
        raise NotAcceptableError(f"no acceptable representation; cpgraph offers {offered}")
    fmt = _LINKED.formats.get(chosen)
    assert fmt is None or isinstance(fmt, RdfFormat)
    return fmt


class QueryFormat(enum.Enum):
    """Output formats by their short name, as the CLI's ``--format`` and ``?format=`` take them:
    a table for a terminal, then every results format and every RDF format of the table in
    :mod:`cpgraph.rdf.formats`, by the same names (``QueryFormat.JSON``, ``QueryFormat.TURTLE``).
    """

    _ignore_ = "fmt"  # the loop's name, not a member
    TABLE = "table"
    for fmt in (*ResultsFormat, *RdfFormat):
        vars()[fmt.name] = fmt.value

    @classmethod
    def _missing_(cls, value: object) -> QueryFormat | None:
        """The member for a name of exactly one format (``turtle``, ``json-ld``, a media
        type): see :func:`~cpgraph.rdf.formats.formats_named`."""
        named = formats_named(value) if isinstance(value, str) else ()
        return cls(named[0].value) if len(named) == 1 else None

    def concrete(self, kind: QueryKind) -> ResultsFormat | RdfFormat | None:
        """The serialisation this name stands for, given the kind of result (None: a table).

        Raises:
            NotAcceptableError: if the format cannot carry that kind of result.
        """
        if self is QueryFormat.TABLE:
            return None if kind is not QueryKind.GRAPH else RdfFormat.TURTLE
        if self.value in {f.value for f in ResultsFormat}:
            if kind is QueryKind.GRAPH:
                raise NotAcceptableError(
                    f"a CONSTRUCT or DESCRIBE result is RDF: choose one of "
                    f"{', '.join(f.value for f in RdfFormat)}, not {self.value}"
                )
            return ResultsFormat(self.value)
        if kind is not QueryKind.GRAPH:
            raise NotAcceptableError(
                f"a SELECT or ASK result is a table: choose one of "
                f"{', '.join(f.value for f in ResultsFormat)}, not {self.value}"
            )
        return RdfFormat(self.value)
