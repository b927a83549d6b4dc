"""Every format cpgraph reads and writes, in one table: the RDF serialisations and the SPARQL
results formats, each with its media types, names and the parsers' own format.

A format's short name (``ttl``, ``json``) is what the CLI's ``--format`` takes, and for RDF
also the file extension; the endpoint's format parameters take it, the other names clients send
(Fuseki's, SPARQLWrapper's: ``turtle``, ``json-ld``) and media types (:func:`formats_named`).
:class:`RdfFormat` and :class:`ResultsFormat` are the table's two halves as enums; what to offer
a client, and in which order, is decided in :mod:`cpgraph.engine.negotiation`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import pyoxigraph as ox

from cpgraph.errors import UnsupportedFormatError

_Ox = TypeVar("_Ox", ox.RdfFormat, ox.QueryResultsFormat)


@dataclass(frozen=True, slots=True)
class FormatSpec(Generic[_Ox]):
    """One row of the table: how one format is named everywhere it is named."""

    label: str  # how pages and messages name it
    w3c: str  # its name under http://www.w3.org/ns/formats/
    media_type: str  # its registered media type, the one cpgraph answers with
    oxigraph: _Ox
    aliases: tuple[str, ...] = ()  # other media types for it, in Accept and Content-Type
    names: tuple[str, ...] = ()  # other names for it in a format parameter (Fuseki's, ...)
    read_also: tuple[str, ...] = ()  # media types for it in Content-Type only
    suffixes: tuple[str, ...] = ()  # other file extensions that name it
    rdflib: str = ""  # rdflib's name for it (RDF only)
    graphs: bool = False  # whether it carries named graphs


# By the short names, the enums' values: an Enum member hashes in Python, a string in C.
_RDF: dict[str, FormatSpec[ox.RdfFormat]] = {
    "ttl": FormatSpec(
        "Turtle",
        "Turtle",
        "text/turtle",
        ox.RdfFormat.TURTLE,
        aliases=("application/x-turtle",),
        names=("turtle", "n3", "text"),
        suffixes=("n3",),
        rdflib="turtle",
    ),
    "nt": FormatSpec(
        "N-Triples",
        "N-Triples",
        "application/n-triples",
        ox.RdfFormat.N_TRIPLES,
        aliases=("text/plain",),
        names=("n-triples", "ntriples"),
        rdflib="nt",
    ),
    "nq": FormatSpec(
        "N-Quads",
        "N-Quads",
        "application/n-quads",
        ox.RdfFormat.N_QUADS,
        names=("n-quads", "nquads"),
        rdflib="nquads",
        graphs=True,
    ),
    "trig": FormatSpec(
        "TriG", "TriG", "application/trig", ox.RdfFormat.TRIG, rdflib="trig", graphs=True
    ),
    "jsonld": FormatSpec(
        "JSON-LD",
        "JSON-LD",
        "application/ld+json",
        ox.RdfFormat.JSON_LD,
        aliases=("application/json",),
        names=("json-ld", "json"),
        suffixes=("json",),
        rdflib="json-ld",
        graphs=True,
    ),
    "rdf": FormatSpec(
        "RDF/XML",
        "RDF_XML",
        "application/rdf+xml",
        ox.RdfFormat.RDF_XML,
        aliases=("application/xml",),
        names=("rdf+xml", "rdfxml", "xml"),
        read_also=("text/xml",),
        suffixes=("owl", "xml"),
        rdflib="xml",
    ),
}
_RESULTS: dict[str, FormatSpec[ox.QueryResultsFormat]] = {
    "json": FormatSpec(
        "SPARQL JSON",
        "SPARQL_Results_JSON",
        "application/sparql-results+json",
        ox.QueryResultsFormat.JSON,
        aliases=("application/json",),
    ),
    "xml": FormatSpec(
        "SPARQL XML",
        "SPARQL_Results_XML",
        "application/sparql-results+xml",
        ox.QueryResultsFormat.XML,
        aliases=("application/xml", "text/xml"),
        names=("sparql",),
    ),
    "csv": FormatSpec("CSV", "SPARQL_Results_CSV", "text/csv", ox.QueryResultsFormat.CSV),
    "tsv": FormatSpec(
        "TSV", "SPARQL_Results_TSV", "text/tab-separated-values", ox.QueryResultsFormat.TSV
    ),
}

# The short names are one namespace (``?format=`` and ``--format`` take them all), so both
# halves are one table too.
_TABLE: dict[str, FormatSpec[ox.RdfFormat] | FormatSpec[ox.QueryResultsFormat]] = {
    **_RDF,
    **_RESULTS,
}
assert len(_TABLE) == len(_RDF) + len(_RESULTS), "a short name names two formats"


class _Tabled(enum.Enum):
    """An enum of formats whose values are short names, read in the table."""

    @property
    def spec(self) -> FormatSpec[ox.RdfFormat] | FormatSpec[ox.QueryResultsFormat]:
        """The format's row of the table."""
        return _TABLE[self._value_]

    @property
    def media_type(self) -> str:
        """The format's registered media type."""
        return self.spec.media_type

    @property
    def label(self) -> str:
        """The format's name for people (``RDF/XML``, ``SPARQL JSON``)."""
        return self.spec.label

    @property
    def w3c(self) -> str:
        """The format's name under ``http://www.w3.org/ns/formats/`` (``RDF_XML``)."""
        return self.spec.w3c


class RdfFormat(_Tabled):
    """The RDF serialisations cpgraph reads and writes, by their usual file extension."""

    TURTLE = "ttl"
    N_TRIPLES = "nt"
    N_QUADS = "nq"
    TRIG = "trig"
    JSON_LD = "jsonld"
    RDF_XML = "rdf"

    @property
    def oxigraph(self) -> ox.RdfFormat:
        """The matching pyoxigraph format."""
        return _RDF[self._value_].oxigraph

    @property
    def rdflib(self) -> str:
        """rdflib's name for the format."""
        return _RDF[self._value_].rdflib

    @property
    def holds_graphs(self) -> bool:
        """Whether the format can carry named graphs (N-Quads, TriG, JSON-LD)."""
        return _RDF[self._value_].graphs

    @classmethod
    def from_path(cls, path: Path | str) -> RdfFormat:
        """The format a file name's extension names.

        Raises:
            UnsupportedFormatError: for an extension cpgraph does not read.
        """
        suffix = Path(path).suffix.lower().lstrip(".")
        for fmt in cls:
            if suffix == fmt.value or suffix in fmt.spec.suffixes:
                return fmt
        raise UnsupportedFormatError(
            f"cannot tell the RDF format of {path}: use one of "
            + ", ".join(f".{f.value}" for f in cls)
        )

    @classmethod
    def from_media_type(cls, media_type: str) -> RdfFormat:
        """The format a media type names (parameters such as charset are ignored).

        Raises:
            UnsupportedFormatError: for a media type cpgraph does not read.
        """
        bare = media_type.split(";", 1)[0].strip().lower()
        for fmt in cls:
            spec = fmt.spec
            if bare == spec.media_type or bare in spec.aliases or bare in spec.read_also:
                return fmt
        raise UnsupportedFormatError(f"unsupported RDF media type: {media_type!r}")


class ResultsFormat(_Tabled):
    """Serialisations of SELECT and ASK results."""

    JSON = "json"
    XML = "xml"
    CSV = "csv"
    TSV = "tsv"

    @property
    def oxigraph(self) -> ox.QueryResultsFormat:
        """The matching pyoxigraph format."""
        return _RESULTS[self._value_].oxigraph


def _named() -> dict[str, tuple[ResultsFormat | RdfFormat, ...]]:
    """Every name a format parameter may give, with the formats it names (at most one of each
    half): short names and media types first, so that the other names never shadow them."""
    formats: tuple[ResultsFormat | RdfFormat, ...] = (*ResultsFormat, *RdfFormat)
    ranked = [
        *((fmt, (fmt.value, fmt.media_type)) for fmt in formats),
        *((fmt, fmt.spec.aliases) for fmt in formats),
        *((fmt, fmt.spec.names) for fmt in formats),
    ]
    named: dict[str, list[ResultsFormat | RdfFormat]] = {}
    for fmt, names in ranked:
        for name in names:
            taken = named.setdefault(name, [])
            if not any(type(other) is type(fmt) for other in taken):
                taken.append(fmt)
    return {name: tuple(taken) for name, taken in named.items()}


_NAMED = _named()


def formats_named(name: str) -> tuple[ResultsFormat | RdfFormat, ...]:
    """The formats a format parameter's value names, at most one of each half (a results
    format, an RDF format): by short name, by another name clients send, or by media type
    (its parameters ignored), in any case; none for a name it does not know.

    >>> formats_named("json")
    (<ResultsFormat.JSON: 'json'>, <RdfFormat.JSON_LD: 'jsonld'>)
    >>> formats_named("Turtle")
    (<RdfFormat.TURTLE: 'ttl'>,)
    >>> formats_named("text/csv; charset=utf-8")
    (<ResultsFormat.CSV: 'csv'>,)
    >>> formats_named("<script>")
    ()
    """
    return _NAMED.get(name.split(";", 1)[0].strip().lower(), ())


# The RDF formats in the order linked-data answers offer them: the ``Link`` alternates, the
# pages' format links, and the choice for a wildcard in Accept (Turtle for text, JSON-LD for
# application).
LINKED_DATA_FORMATS = (
    RdfFormat.TURTLE,
    RdfFormat.JSON_LD,
    RdfFormat.N_TRIPLES,
    RdfFormat.RDF_XML,
    RdfFormat.TRIG,
    RdfFormat.N_QUADS,
)
# The four serialisations of triples that every RDF toolkit reads: what contributions are
# taken in and reported in, and the RDF the endpoint's documentation names.
CORE_RDF_FORMATS = (RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD, RdfFormat.RDF_XML)
