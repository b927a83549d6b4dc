"""The form a store holds literals in, and statements put into that form before they are
judged.

A store may keep a literal in another form than it was written: Oxigraph keeps
``"2"^^xsd:positiveInteger`` as ``"2"^^xsd:integer``, ``"007"^^xsd:integer`` as ``"7"`` and
``"1"^^xsd:boolean`` as ``"true"``. What cpgraph validates, hashes and commits is therefore
the form the store will hold (:func:`in_stored_form`), and what a write changed is said.

Each store says its own forms (:meth:`cpgraph.store.Store.stored_forms`); the embedded
Oxigraph's are found here, by a round trip through a small store in memory
(:func:`oxigraph_stored_forms`), cached per literal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import pyoxigraph as ox

from cpgraph.rdf.namespaces import XSD

StoredForms = Callable[[Iterable[ox.Literal]], Mapping[ox.Literal, ox.Literal]]
"""What a store holds for each of some literals (:meth:`cpgraph.store.Store.stored_forms`)."""

_XSD_STRING = XSD + "string"
_PROBE = "urn:x-cpgraph:stored-form:"
_PREDICATE = ox.NamedNode(_PROBE + "value")
_CACHED = 100_000  # literals whose stored form is kept, at most (then the cache starts again)
_cache: dict[tuple[str, str, str | None], ox.Literal] = {}
_cache_lock = threading.Lock()

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
S = TypeVar("S", ox.Quad, Triple)


def _key(literal: ox.Literal) -> tuple[str, str, str | None]:
    return literal.value, literal.datatype.value, literal.language


def oxigraph_stored_forms(literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
    """What the embedded Oxigraph holds for each of ``literals``: the literal read back
    after a round trip through a store in memory (the literal itself where it is kept as
    written). Plain strings are kept as written and never probed.

    >>> xsd = "http://www.w3.org/2001/XMLSchema#"
    >>> sent = ox.Literal("007", datatype=ox.NamedNode(xsd + "integer"))
    >>> oxigraph_stored_forms([sent])[sent].value
    '7'
    """
    forms: dict[ox.Literal, ox.Literal] = {}
    missing: list[ox.Literal] = []
    with _cache_lock:
        for literal in literals:
            if literal.language is None and literal.datatype.value == _XSD_STRING:
                forms[literal] = literal
                continue
            cached = _cache.get(_key(literal))
            if cached is None:
                missing.append(literal)
            else:
                forms[literal] = cached
    if not missing:
        return forms
    probe = ox.Store()
    probe.extend(
        ox.Quad(ox.NamedNode(f"{_PROBE}{number}"), _PREDICATE, literal)
        for number, literal in enumerate(missing)
    )
    found: dict[int, ox.Literal] = {}
    for quad in probe:
        if isinstance(quad.object, ox.Literal):
            found[int(quad.subject.value.removeprefix(_PROBE))] = quad.object
    with _cache_lock:
        if len(_cache) + len(missing) > _CACHED:
            _cache.clear()
        for number, literal in enumerate(missing):
            stored = found.get(number, literal)
            _cache[_key(literal)] = stored
            forms[literal] = stored
    return forms


@dataclass(frozen=True, slots=True)
class Rewrite:
    """A literal the store holds in another form than it was sent: in which statement."""

    subject: ox.NamedNode | ox.BlankNode
    predicate: ox.NamedNode
    original: ox.Literal
    stored: ox.Literal

    def describe(self) -> str:
        """One line: the literal as sent, and as the store holds it."""
        return f"{shown(self.original)} is stored as {shown(self.stored)}"


def shown(literal: ox.Literal) -> str:
    """A literal as Turtle writes it, an XSD datatype with the ``xsd:`` prefix."""
    datatype = literal.datatype.value
    if not datatype.startswith(XSD):
        return str(literal)
    return str(literal).replace(f"^^<{datatype}>", f"^^xsd:{datatype.removeprefix(XSD)}")


def in_stored_form(statements: Sequence[S], forms: StoredForms) -> tuple[list[S], list[Rewrite]]:
    """``statements`` (quads, or triples as tuples) with every literal in the form the
    store holds (``forms``: :meth:`cpgraph.store.Store.stored_forms`), and what changed, in
    the statements' order.

    >>> xsd = "http://www.w3.org/2001/XMLSchema#"
    >>> s, p = ox.NamedNode("urn:s"), ox.NamedNode("urn:p")
    >>> sent = [(s, p, ox.Literal("1", datatype=ox.NamedNode(xsd + "boolean")))]
    >>> stored, changed = in_stored_form(sent, oxigraph_stored_forms)
    >>> stored[0][2].value, [r.original.value for r in changed]
    ('true', ['1'])
    """
    mapping = forms({o for o in map(_object, statements) if isinstance(o, ox.Literal)})
    kept: list[S] = []
    changed: list[Rewrite] = []
    for statement in statements:
        literal = _object(statement)
        if not isinstance(literal, ox.Literal) or mapping.get(literal, literal) == literal:
            kept.append(statement)
            continue
        stored = mapping[literal]
        subject, predicate = statement[0], statement[1]
        if isinstance(statement, ox.Quad):
            kept.append(ox.Quad(subject, predicate, stored, statement.graph_name))
        else:
            kept.append((subject, predicate, stored))
        if isinstance(subject, ox.NamedNode | ox.BlankNode):
            changed.append(Rewrite(subject, predicate, literal, stored))
    return kept, changed


def _object(statement: ox.Quad | Triple) -> object:
    return statement[2]
