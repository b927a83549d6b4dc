"""Reading and writing RDF files: parsing (a syntax error with its line and column), rdflib
conversion.

The formats themselves are in :mod:`cpgraph.rdf.formats`; where a literal is written in a
file, in :mod:`cpgraph.rdf.positions`.

Parsing uses Oxigraph's parsers (pure functions, no store), because they report the line and
column of a syntax error precisely; :func:`to_rdflib_triples` hands the result to rdflib-based
code (pySHACL, owlrl). The store itself is owned by :mod:`cpgraph.store`.

Every text from outside is measured before a parser sees it (:func:`check_rdf_text`,
:func:`check_rdf_file`): Oxigraph's RDF/XML parser expands the entities a DOCTYPE declares (a
few hundred bytes stand for gigabytes) and takes time quadratic in the nesting depth, and its
JSON-LD, N-Triples and Turtle parsers recurse into nested objects and triple terms until the
stack or memory runs out. So RDF/XML with a DOCTYPE or entity declaration is refused, and so is
any text nested deeper than :data:`MAX_NESTING`.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from xml.parsers import expat

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from cpgraph.errors import InputError, QuerySyntaxError, RdfSyntaxError
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.namespaces import XSD


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
    check_rdf_text(data, format, source=source)
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
    check_rdf_file(path, fmt)
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


MAX_NESTING = 100
"""The deepest nesting accepted in an RDF text: XML elements in RDF/XML; objects and arrays in
JSON-LD; blank-node property lists, collections, triple terms, annotations and graph blocks in
the Turtle family (each bracket counts: ``<<`` two, ``<<(`` three). Real data stays far
below it."""

_REFUSED_DTD = (
    "a DOCTYPE or entity declaration: RDF/XML with a DTD is not accepted "
    "(entities are never expanded)"
)
_XML_DECLARATION = re.compile(rb"<!\s*(?i:doctype|entity)")
# What the Turtle family holds brackets in without nesting: strings, IRIs, comments, escapes.
_TURTLE_SKIPPED = re.compile(
    rb'"""(?:[^"\\]|\\.|"(?!""))*"""'
    rb"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    rb'|"(?:[^"\\\n\r]|\\.)*"'
    rb"|'(?:[^'\\\n\r]|\\.)*'"
    rb'|<[^<>"{}|^`\\\x00-\x20]*>'
    rb"|#[^\n\r]*"
    rb"|\\.",
    re.DOTALL,
)
_JSON_SKIPPED = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


class _RefusedXmlError(Exception):
    """Raised inside expat's callbacks to stop at what is refused: (reason, position)."""


def check_rdf_text(data: bytes | str, format: RdfFormat, *, source: str | None = None) -> None:
    """Refuse an RDF text that no parser should be handed, before parsing it.

    RDF/XML with a DOCTYPE or entity declaration is refused (entity expansion, external
    entities); so is a text nested deeper than :data:`MAX_NESTING`. RDF/XML is measured by
    expat (which reads no DTD here), so malformed XML is refused at this step, with expat's
    line and column. The other formats are measured by their brackets, in linear time.

    Raises:
        RdfSyntaxError: naming what is refused and where.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if format is RdfFormat.RDF_XML:
        _check_xml([raw], source)
    elif format is RdfFormat.JSON_LD:
        _check_nesting(raw, _JSON_SKIPPED, b"[{", b"]}", source)
    else:
        _check_nesting(raw, _TURTLE_SKIPPED, b"[(<{", b"])>}", source)


def check_rdf_file(path: Path, format: RdfFormat) -> None:
    """:func:`check_rdf_text` for a file, read in chunks; RDF/XML only (files of the other
    formats on disk are the operator's own, and may be larger than memory).

    Raises:
        RdfSyntaxError: as :func:`check_rdf_text`, naming the file.
        OSError: if the file cannot be read.
    """
    if format is not RdfFormat.RDF_XML:
        return
    with path.open("rb") as stream:
        _check_xml(iter(lambda: stream.read(1 << 20), b""), str(path))


def _check_xml(chunks: Iterable[bytes], source: str | None) -> None:
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0

    def where() -> dict[str, int]:
        return {"line": parser.CurrentLineNumber, "column": parser.CurrentColumnNumber + 1}

    def start(_name: str, _attributes: object) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_NESTING:
            raise _RefusedXmlError(f"XML nested deeper than {MAX_NESTING} elements", where())

    def end(_name: str) -> None:
        nonlocal depth
        depth -= 1

    def declaration(*_args: object) -> None:
        raise _RefusedXmlError(_REFUSED_DTD, where())

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = declaration
    parser.EntityDeclHandler = declaration
    tail = b""
    try:
        for chunk in chunks:
            parser.Parse(chunk, False)
            # Oxigraph reads the bytes as UTF-8 whatever the XML declaration says: a
            # declaration in them is refused even where expat, decoding otherwise, saw none.
            if _XML_DECLARATION.search(tail + chunk):
                raise _RefusedXmlError(_REFUSED_DTD, {})
            tail = chunk[-16:]
        parser.Parse(b"", True)
    except _RefusedXmlError as refused:
        reason, position = refused.args
        raise RdfSyntaxError(reason, source=source, **position) from None
    except expat.ExpatError as exc:
        raise RdfSyntaxError(
            f"not well-formed XML: {expat.ErrorString(exc.code)}",
            line=exc.lineno,
            column=exc.offset + 1,
            source=source,
        ) from None


def _check_nesting(
    raw: bytes, skipped: re.Pattern[bytes], openers: bytes, closers: bytes, source: str | None
) -> None:
    """Refuse ``raw`` if its brackets (outside strings, IRIs and comments) nest too deep.

    The count runs in C (a substitution, a translation, an accumulation); only a refused text
    is read again, token by token, to say where.
    """
    weights = [0] * 256
    for byte in openers:
        weights[byte] = 1
    for byte in closers:
        weights[byte] = -1
    brackets = skipped.sub(b"", raw).translate(None, _all_but(openers + closers))
    if not brackets or max(itertools.accumulate(map(weights.__getitem__, brackets))) <= MAX_NESTING:
        return
    tokens = re.compile(
        rb"\n|[" + re.escape(openers + closers) + rb"]|" + skipped.pattern, re.DOTALL
    )
    depth, line, line_start = 0, 1, 0
    for match in tokens.finditer(raw):
        token = match.group()
        if len(token) == 1 and weights[token[0]]:
            depth += weights[token[0]]
            if depth > MAX_NESTING:
                raise RdfSyntaxError(
                    f"nested deeper than {MAX_NESTING} levels (blank nodes, lists, triple "
                    "terms, objects or arrays)",
                    line=line,
                    column=match.start() - line_start + 1,
                    source=source,
                )
        elif b"\n" in token:
            line += token.count(b"\n")
            line_start = match.start() + token.rindex(b"\n") + 1
    raise RdfSyntaxError(f"nested deeper than {MAX_NESTING} levels", source=source)


def _all_but(kept: bytes) -> bytes:
    return bytes(b for b in range(256) if b not in kept)


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


_XSD_STRING = XSD + "string"


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
    text = str(term)
    if len(text) > _MAX_MESSAGE:
        text = text[:_MAX_MESSAGE] + " ..."
    raise InputError(f"RDF 1.2 triple terms are not supported: {text}")


def to_rdflib_triples(quads: Iterable[ox.Quad]) -> Iterator[tuple[Node, Node, Node]]:
    """The triples of some quads as rdflib terms, graph names dropped."""
    for quad in quads:
        yield (
            to_rdflib_term(quad.subject),
            to_rdflib_term(quad.predicate),
            to_rdflib_term(quad.object),
        )


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


def query_syntax_error(
    exc: SyntaxError,
    *,
    source: str | None = None,
    text: str | None = None,
    prefixes: Mapping[str, str] | None = None,
) -> QuerySyntaxError:
    """An Oxigraph SPARQL parser error as cpgraph's, with its line and column.

    Given the query's ``text`` (and the predeclared ``prefixes``), a prefixed name cut short
    by a ``/`` is explained, with the IRI to write instead: the parser alone lists the
    characters it expected.
    """
    message = exc.msg or str(exc)
    line, column = exc.lineno, exc.offset
    match = _QUERY_POSITION.match(message)
    if match:
        message = message[match.end() :]
        line, column = int(match.group(1)), int(match.group(2))
    hint = _slash_hint(text, line, column, prefixes) if text is not None else None
    return QuerySyntaxError(hint or _readable(message), line=line, column=column, source=source)


_PNAME_BEFORE = re.compile(r"(?:^|[\s{}()\[\];,.^/|])([A-Za-z][\w.-]*)?:([\w.:%-]*)$")
_REST = re.compile(r"[^\s{}()\[\];,<>\"'^|]*")
_DECLARED = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)


def _slash_hint(
    text: str, line: int | None, column: int | None, prefixes: Mapping[str, str] | None
) -> str | None:
    """What to say when the parser stopped at a ``/`` inside a prefixed name
    (``id:instrument/x``), or None.

    >>> _slash_hint("SELECT * { id:instrument/x ?p ?o }", 1, 25, {"id": "https://ex.org/id/"})
    "a prefixed name cannot hold '/': write id:instrument/x as <https://ex.org/id/instrument/x>"
    """
    if not line or not column:
        return None
    lines = text.split("\n")
    if line > len(lines):
        return None
    offset = sum(len(row) + 1 for row in lines[: line - 1]) + column - 1
    if not 0 < offset < len(text) or text[offset] != "/":
        return None
    found = _PNAME_BEFORE.search(text[:offset])
    if found is None:
        return None
    prefix, local = found.group(1) or "", found.group(2)
    written = f"{prefix}:{local}{_REST.match(text, offset).group()}"  # type: ignore[union-attr]
    namespaces = {**(prefixes or {}), **{p or "": ns for p, ns in _DECLARED.findall(text)}}
    namespace = namespaces.get(prefix)
    iri = f" as <{namespace}{written[len(prefix) + 1 :]}>" if namespace else " as a full IRI in <>"
    return f"a prefixed name cannot hold '/': write {written}{iri}"


_MAX_MESSAGE = 240


def _readable(message: str) -> str:
    """The parser's message, with its longest lists of expected characters cut short."""
    if "Prefix not found" in message:
        return "undefined prefix: declare it with PREFIX name: <namespace>"
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[:_MAX_MESSAGE].rsplit(" ", 1)[0] + " ..."
    return message
