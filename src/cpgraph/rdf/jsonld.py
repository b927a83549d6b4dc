"""cpgraph's JSON-LD: the published context and a streaming writer that uses it.

The context (``context.jsonld`` beside this module, served at ``<base>context.jsonld``) gives
every term of the cpgraph ontology a short key equal to its local name (``issuedBy``,
``Law``), the most used terms of the reused vocabularies a short key too (``label``,
``wasDerivedFrom``), and the usual prefixes (``cp:``, ``prov:``, ...). Keys are never removed
or re-pointed: a key that once meant a term always means it.

The writer is a hand-written compaction of flat JSON-LD, chosen over a general JSON-LD
processor because it streams (one node object per run of quads with the same subject, whatever
the size of the store) and because its round trip is provable by construction:

- the context defines only plain string terms, with no type coercion, no containers, no
  ``@vocab`` and no ``@base``, so a key means exactly one IRI;
- a property is written as its short key, else as ``prefix:local``, else as its full IRI;
  subjects, objects and graph names likewise as ``prefix:local`` or the full IRI;
- every literal is written in the expanded value form (``{"@value", "@type"}`` or
  ``{"@value", "@language"}``), except ``xsd:string`` literals, which are plain JSON strings;
  no literal ever becomes a JSON number or boolean, so no lexical form is lost.

Expanding what it writes gives back exactly the quads it was given; the tests check this with
two independent JSON-LD parsers (Oxigraph's and rdflib's).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from itertools import groupby
from typing import IO, Any

import pyoxigraph as ox

from cpgraph.rdf import Term
from cpgraph.rdf.namespaces import DEFAULT_BASE, RDF, XSD

CONTEXT_FILE = "context.jsonld"
RDF_TYPE = RDF + "type"
XSD_STRING = XSD + "string"
_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]*")
# An IRI whose scheme is also a defined prefix would be misread as a compact IRI.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*):")


@cache
def _published_context() -> dict[str, str]:
    text = resources.files("cpgraph.rdf").joinpath(CONTEXT_FILE).read_text(encoding="utf-8")
    body: dict[str, str] = json.loads(text)["@context"]
    return body


def context(base: str = DEFAULT_BASE) -> dict[str, str]:
    """The body of cpgraph's JSON-LD context (key to IRI), with its IRIs under ``base``.

    >>> context()["issuedBy"]
    'https://w3id.org/cpgraph/ontology#issuedBy'
    >>> context("http://example.org/kg/")["cp"]
    'http://example.org/kg/ontology#'
    """
    published = _published_context()
    if base == DEFAULT_BASE:
        return dict(published)
    return {
        k: base + v[len(DEFAULT_BASE) :] if v.startswith(DEFAULT_BASE) else v
        for k, v in published.items()
    }


def context_document(base: str = DEFAULT_BASE) -> dict[str, Any]:
    """The context as a JSON-LD context document (``{"@context": {...}}``)."""
    return {"@context": context(base)}


class Compactor:
    """Writes IRIs the short way a context allows, and expands nothing it cannot prove."""

    def __init__(self, ctx: Mapping[str, str]) -> None:
        """Index ``ctx`` (key to IRI) for compaction.

        Raises:
            ValueError: if the context has a key that is a keyword or holds a colon, or two
                keys for one IRI, which would make compaction ambiguous.
        """
        self.terms: dict[str, str] = {}
        self.prefixes: list[tuple[str, str]] = []
        for key, iri in ctx.items():
            if key.startswith("@") or ":" in key:
                raise ValueError(f"not a plain term: {key!r}")
            if iri.endswith(("#", "/")):
                self.prefixes.append((key, iri))
            elif iri in self.terms:
                raise ValueError(f"two keys for {iri}: {self.terms[iri]!r} and {key!r}")
            else:
                self.terms[iri] = key
        self.prefixes.sort(key=lambda p: -len(p[1]))  # the longest namespace wins
        self.names = set(ctx)

    def vocab(self, iri: str) -> str:
        """``iri`` as a key or a ``@type`` value: a term, a compact IRI or the IRI itself."""
        return self.terms.get(iri) or self.iri(iri)

    def iri(self, iri: str) -> str:
        """``iri`` as an ``@id`` value: a compact IRI where a prefix fits, else the IRI."""
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if _LOCAL.fullmatch(local) or (local and _safe_path(local)):
                    return f"{prefix}:{local}"
        scheme = _SCHEME.match(iri)
        if scheme and scheme.group(1) in self.names:
            raise ValueError(f"the IRI {iri} would read as a compact IRI; rename the key")
        return iri

    def node(self, term: ox.NamedNode | ox.BlankNode) -> str:
        """A subject, object or graph name as an ``@id`` value."""
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}"
        return self.iri(term.value)

    def value(self, term: Term | ox.Triple) -> Any:
        """An object as a JSON-LD value (a string for ``xsd:string``, else a value object)."""
        if isinstance(term, ox.Literal):
            if term.language:
                return {"@value": term.value, "@language": term.language}
            if term.datatype.value == XSD_STRING:
                return term.value
            return {"@value": term.value, "@type": self.vocab(term.datatype.value)}
        if isinstance(term, ox.NamedNode | ox.BlankNode):
            return {"@id": self.node(term)}
        raise ValueError(f"JSON-LD 1.1 cannot hold the RDF 1.2 triple term {term}")


def _safe_path(local: str) -> bool:
    """A local part that stays an IRI path (``org/sepa``) and cannot start ``//``."""
    return not local.startswith("/") and re.fullmatch(r"[A-Za-z0-9_\-.~/%]+", local) is not None


def node_objects(quads: Iterable[ox.Quad], compactor: Compactor) -> Iterator[dict[str, Any]]:
    """One node object per run of quads with the same subject (in the order given)."""
    for subject, run in groupby(quads, key=lambda q: q.subject):
        if isinstance(subject, ox.Triple):
            raise ValueError(f"JSON-LD 1.1 cannot hold the RDF 1.2 triple term {subject}")
        node: dict[str, Any] = {"@id": compactor.node(subject)}
        for quad in run:
            if quad.predicate.value == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
                node.setdefault("@type", []).append(compactor.vocab(quad.object.value))
            else:
                key = compactor.vocab(quad.predicate.value)
                node.setdefault(key, []).append(compactor.value(quad.object))
        yield node


def write_jsonld(
    quads: Iterable[ox.Quad],
    output: IO[bytes],
    *,
    base: str = DEFAULT_BASE,
) -> None:
    """Write quads as compacted JSON-LD, streaming: memory holds one subject at a time.

    Quads of one graph should come together (as a store's quads do) for a compact document;
    any order is still correct, since node objects with the same ``@id`` merge. The published
    context is written inline, verbatim, so that the document reads offline and no parser
    has to fetch anything to expand it.

    Raises:
        ValueError: for an RDF 1.2 triple term, which JSON-LD 1.1 cannot hold.
        OSError: if writing fails.
    """
    ctx = context(base)
    compactor = Compactor(ctx)
    sink = _Buffered(output)
    _write_document(quads, sink, ctx, compactor)
    sink.flush()


class _Buffered:
    """Collects small writes into large ones (a gzip stream pays for every call)."""

    def __init__(self, output: IO[bytes], size: int = 1 << 16) -> None:
        self.output = output
        self.size = size
        self.parts: list[bytes] = []
        self.pending = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.pending += len(data)
        if self.pending >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.output.write(b"".join(self.parts))
            self.parts.clear()
            self.pending = 0


def _write_document(
    quads: Iterable[ox.Quad], output: _Buffered, ctx: dict[str, str], compactor: Compactor
) -> None:
    output.write(b'{"@context":')
    output.write(_dumps(ctx))
    output.write(b',"@graph":[')
    first = True
    for graph_name, run in groupby(quads, key=lambda q: q.graph_name):
        nodes = node_objects(run, compactor)
        if isinstance(graph_name, ox.DefaultGraph):
            for node in nodes:
                output.write(b"\n" if first else b",\n")
                output.write(_dumps(node))
                first = False
            continue
        output.write(b"\n" if first else b",\n")
        first = False
        output.write(b'{"@id":' + _dumps(compactor.node(graph_name)) + b',"@graph":[')
        for i, node in enumerate(nodes):
            output.write(b"\n" if i == 0 else b",\n")
            output.write(_dumps(node))
        output.write(b"]}")
    output.write(b"]}\n")


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def context_from_terms(terms: Iterable[str], *, extra: Mapping[str, str]) -> dict[str, str]:
    """A context body: ``extra`` (prefixes and chosen keys) plus each term by its local name.

    Used to draft ``context.jsonld`` when the ontology grows; a local name already taken
    keeps its first meaning (the later term is reached as ``cp:name``).
    """
    body = dict(extra)
    taken = set(body.values())
    for iri in sorted(terms):
        local = re.split(r"[#/]", iri)[-1]
        if iri not in taken and local and local not in body and _LOCAL.fullmatch(local):
            body[local] = iri
    return body
