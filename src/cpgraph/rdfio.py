"""Reading and writing RDF files: formats, parsing with positions, rdflib conversion.

Parsing uses Oxigraph's parsers (pure functions, no store), because they report the line and
column of a syntax error precisely; :func:`to_rdflib` hands the result to rdflib-based code
(pySHACL, owlrl). The store itself is owned by :mod:`cpgraph.store`.
"""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.term import Node

from cpgraph.errors import InputError, QuerySyntaxError, RdfSyntaxError, UnsupportedFormatError


class RdfFormat(enum.Enum):
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
        return _OX_FORMATS[self]

    @property
    def media_type(self) -> str:
        """The format's registered media type."""
        return self.oxigraph.media_type

    @property
    def holds_graphs(self) -> bool:
        """Whether the format can carry named graphs (N-Quads, TriG, JSON-LD)."""
        return self in (RdfFormat.N_QUADS, RdfFormat.TRIG, RdfFormat.JSON_LD)

    @classmethod
    def from_path(cls, path: Path | str) -> RdfFormat:
        """The format a file name's extension names.

        Raises:
            UnsupportedFormatError: for an extension cpgraph does not read.
        """
        suffix = Path(path).suffix.lower().lstrip(".")
        aliases = {"owl": "rdf", "xml": "rdf", "json": "jsonld", "n3": "ttl"}
        suffix = aliases.get(suffix, suffix)
        try:
            return cls(suffix)
        except ValueError:
            raise UnsupportedFormatError(
                f"cannot tell the RDF format of {path}: use one of "
                + ", ".join(f".{f.value}" for f in cls)
            ) from None

    @classmethod
    def from_media_type(cls, media_type: str) -> RdfFormat:
        """The format a media type names (parameters such as charset are ignored).

        Raises:
            UnsupportedFormatError: for a media type cpgraph does not read.
        """
        bare = media_type.split(";", 1)[0].strip().lower()
        for fmt in cls:
            if bare == fmt.media_type or bare in _EXTRA_MEDIA_TYPES.get(fmt, ()):
                return fmt
        raise UnsupportedFormatError(f"unsupported RDF media type: {media_type!r}")


_OX_FORMATS = {
    RdfFormat.TURTLE: ox.RdfFormat.TURTLE,
    RdfFormat.N_TRIPLES: ox.RdfFormat.N_TRIPLES,
    RdfFormat.N_QUADS: ox.RdfFormat.N_QUADS,
    RdfFormat.TRIG: ox.RdfFormat.TRIG,
    RdfFormat.JSON_LD: ox.RdfFormat.JSON_LD,
    RdfFormat.RDF_XML: ox.RdfFormat.RDF_XML,
}
_EXTRA_MEDIA_TYPES = {
    RdfFormat.TURTLE: ("application/x-turtle",),
    RdfFormat.N_TRIPLES: ("text/plain",),
    RdfFormat.RDF_XML: ("application/xml", "text/xml"),
    RdfFormat.JSON_LD: ("application/json",),
}


def parse_quads(
    data: bytes | str,
    *,
    format: RdfFormat,
    base_iri: str | None = None,
    source: str | None = None,
    fresh_blank_nodes: bool = False,
    to_graph: str | None = None,
) -> list[ox.Quad]:
    """Parse RDF text into quads (triples land in the default graph, or ``to_graph``).

    ``fresh_blank_nodes`` renames the text's blank nodes to new ones, so that data from
    outside never shares a blank node with the store's own.

    Raises:
        RdfSyntaxError: if the text is malformed, with the line and column where.
    """
    with rdf_errors(source):
        quads = list(
            ox.parse(data, format.oxigraph, base_iri=base_iri, rename_blank_nodes=fresh_blank_nodes)
        )
    if to_graph is not None:
        graph = ox.NamedNode(to_graph)
        quads = [in_graph(q, graph) for q in quads]
    return quads


def in_graph(quad: ox.Quad, graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph) -> ox.Quad:
    """The statement of ``quad`` in ``graph``."""
    return ox.Quad(quad.subject, quad.predicate, quad.object, graph)


@contextlib.contextmanager
def rdf_errors(source: str | None) -> Iterator[None]:
    """Oxigraph's parser errors inside the block as cpgraph's, naming ``source``.

    Raises:
        RdfSyntaxError: for a malformed text (line and column kept) or an invalid IRI or
            language tag in an otherwise valid one.
    """
    try:
        yield
    except SyntaxError as exc:
        raise rdf_syntax_error(exc, source=source) from None
    except ValueError as exc:
        raise RdfSyntaxError(str(exc), source=source) from None


def read_quads(path: Path, *, format: RdfFormat | None = None) -> list[ox.Quad]:
    """Parse an RDF file into quads, the format from its extension unless given.

    Raises:
        UnsupportedFormatError: if the extension names no RDF format.
        RdfSyntaxError: if the file is malformed (the message names the file, line and column).
        OSError: if the file cannot be read.
    """
    fmt = format or RdfFormat.from_path(path)
    return parse_quads(
        path.read_bytes(), format=fmt, base_iri=path.resolve().as_uri(), source=str(path)
    )


def iter_quads(path: Path, *, format: RdfFormat | None = None) -> Iterator[ox.Quad]:
    """Parse an RDF file lazily, quad by quad, so that a large file is never whole in memory.

    Raises:
        UnsupportedFormatError: if the extension names no RDF format.
        RdfSyntaxError: when the parse reaches a malformed part (file, line and column named);
            the quads before it have been yielded.
        OSError: if the file cannot be read.
    """
    fmt = format or RdfFormat.from_path(path)
    with rdf_errors(str(path)):
        yield from ox.parse(path=path, format=fmt.oxigraph, base_iri=path.resolve().as_uri())


def parse_file(path: Path, *, format: RdfFormat | None = None) -> Graph:
    """An RDF file's triples (of every graph) as an rdflib graph.

    Raises:
        UnsupportedFormatError, RdfSyntaxError, OSError: as :func:`read_quads`.
    """
    graph = Graph()
    for triple in to_rdflib_triples(read_quads(path, format=format)):
        graph.add(triple)
    return graph


def parse_term(text: str) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """One RDF term written in N-Triples syntax (``<iri>``, ``"text"@en``, ``"1"^^<...>``).

    Raises:
        InputError: if ``text`` is not exactly one such term.
    """
    try:
        quads = list(ox.parse(f"<urn:x:s> <urn:x:p> {text} .", ox.RdfFormat.N_TRIPLES))
    except (SyntaxError, ValueError):
        raise InputError(f"not an RDF term in N-Triples syntax: {text!r}") from None
    term = quads[0].object
    if not isinstance(term, ox.NamedNode | ox.BlankNode | ox.Literal):
        raise InputError(f"triple terms are not supported: {text!r}")
    return term


_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def ox_iri(iri: str) -> ox.NamedNode:
    """An IRI as a pyoxigraph term (for code that must not import pyoxigraph itself)."""
    return ox.NamedNode(iri)


def to_rdflib_term(
    term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple | ox.DefaultGraph,
) -> Node:
    """The rdflib term equal to a pyoxigraph term.

    Raises:
        InputError: for an RDF 1.2 triple term, which rdflib (and so pySHACL) cannot hold.
    """
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == _XSD_STRING:  # RDF 1.1: a simple literal is an xsd:string
            return Literal(term.value)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise InputError(f"RDF 1.2 triple terms are not supported: {term}")


def to_rdflib_triples(quads: Iterable[ox.Quad]) -> Iterator[tuple[Node, Node, Node]]:
    """The triples of some quads as rdflib terms, graph names dropped."""
    for quad in quads:
        yield (
            to_rdflib_term(quad.subject),
            to_rdflib_term(quad.predicate),
            to_rdflib_term(quad.object),
        )


def to_rdflib_dataset(quads: Iterable[ox.Quad]) -> Dataset:
    """Some quads as an rdflib dataset, keeping their graphs."""
    dataset = Dataset()
    for quad in quads:
        triple = (
            to_rdflib_term(quad.subject),
            to_rdflib_term(quad.predicate),
            to_rdflib_term(quad.object),
        )
        if isinstance(quad.graph_name, ox.DefaultGraph):
            dataset.default_graph.add(triple)
        else:
            dataset.graph(to_rdflib_term(quad.graph_name)).add(triple)  # type: ignore[arg-type]
    return dataset


def rdf_syntax_error(exc: SyntaxError, *, source: str | None = None) -> RdfSyntaxError:
    """An Oxigraph parser error as cpgraph's, keeping its line and column."""
    reason = _strip_position(exc.msg or str(exc))
    return RdfSyntaxError(reason, line=exc.lineno, column=exc.offset, source=source)


_QUERY_POSITION = re.compile(r"^error at (\d+):(\d+): ?")
_PARSER_POSITION = re.compile(
    r"^Parser error (?:at|between) line \d+ column \d+(?: and line \d+ column \d+)?: ?"
)


def _strip_position(message: str) -> str:
    return _PARSER_POSITION.sub("", message)


def query_syntax_error(exc: SyntaxError, *, source: str | None = None) -> QuerySyntaxError:
    """An Oxigraph SPARQL parser error as cpgraph's, with its line and column."""
    message = exc.msg or str(exc)
    line, column = exc.lineno, exc.offset
    match = _QUERY_POSITION.match(message)
    if match:
        message = message[match.end() :]
        line, column = int(match.group(1)), int(match.group(2))
    return QuerySyntaxError(_readable(message), line=line, column=column, source=source)


_MAX_MESSAGE = 240


def _readable(message: str) -> str:
    """The parser's message, with its longest lists of expected characters cut short."""
    if "Prefix not found" in message:
        return "undefined prefix: declare it with PREFIX name: <namespace>"
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE].rsplit(" ", 1)[0] + " ..."
    return message
