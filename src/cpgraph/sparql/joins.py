"""Join planning for queries over whole classes: a hash join where Oxigraph would look up.

Why: Oxigraph's planner orders a basic graph pattern by the shape of its triple patterns,
never by how many statements match them, and joins each pattern after the first by looking
it up once per solution so far. For "count the observations of each province":

    ?obs a cp:Observation ; cp:refArea ?province .

it scans the observations and looks up each one's area, one lookup per observation, where
two scans hashed together take a fraction of the time (measured in ``docs/performance.md``).
Oxigraph joins by hashing when the patterns stand in sub-queries of their own, so for
such patterns cpgraph rewrites the query into that form before Oxigraph evaluates it.

When: only where the answer cannot change and the cost model is sure to gain.
- The query is a ``SELECT`` (or ``ASK``) whose ``WHERE`` clause is one group of plain triple
  patterns (no ``FILTER``, ``OPTIONAL``, sub-query, path, blank node or ``VALUES``), each with
  a variable subject, an IRI predicate and a variable object, or ``rdf:type`` and a class; the
  patterns are connected by their variables. Anything else is left as written.
- Every pattern is large (:data:`MIN_STATEMENTS` and more; a selective one is best looked
  up, as Oxigraph does), and scanning them all costs less than the lookups would:
  ``sum(sizes) <= LOOKUP_COST * min(sizes) * (patterns - 1)``, sizes counted in the build.

Why the answer is the same: a basic graph pattern without blank nodes is the join of its
triple patterns, and ``{ SELECT ?v... WHERE { tp } }`` projecting all of a pattern's variables
has exactly that pattern's solutions; a group of such sub-queries is their join. Modifiers
(``GROUP BY``, ``ORDER BY``, aggregates, ``LIMIT``) stand outside the group, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from cpgraph.rdf.namespaces import RDF
from cpgraph.sparql.lexer import WHITESPACE, lexemes

RDF_TYPE = RDF + "type"

# Per statement, a lookup by subject costs Oxigraph about 2.5 times what reading a statement
# in a scan and hashing it does (measured on the benchmark's 1M store, from memory and disk).
LOOKUP_COST = 2.5
# Below this a pattern is small enough that its lookups take a few milliseconds at most.
MIN_STATEMENTS = 10_000

_ABSOLUTE = re.compile(r"<[A-Za-z][A-Za-z0-9+.\-]*:")


class _Token(NamedTuple):
    """A token of a query: its kind (as :func:`~cpgraph.sparql.lexer.lexemes` names it, or
    ``bnode`` for ``[``), its text and its offset."""

    kind: str
    text: str
    start: int


@dataclass(frozen=True, slots=True)
class Pattern:
    """A triple pattern of a whole-class join: ``subject`` and ``object`` are variables (with
    their sigil), or ``object`` is a class IRI when ``predicate`` is ``rdf:type``."""

    subject: str
    predicate: str
    object: str

    @property
    def type_class(self) -> str | None:
        """The class of an ``rdf:type`` pattern with a class, else None."""
        if self.predicate == RDF_TYPE and not self.object.startswith(("?", "$")):
            return self.object
        return None

    def variables(self) -> list[str]:
        """The pattern's variables, each once, by name (``?x`` and ``$x`` are one)."""
        names: list[str] = []
        for term in (self.subject, self.object):
            if term.startswith(("?", "$")) and term[1:] not in names:
                names.append(term[1:])
        return names

    def as_subquery(self) -> str:
        """The pattern alone in a sub-query projecting all its variables (full IRIs)."""
        obj = self.object if self.type_class is None else f"<{self.object}>"
        projection = " ".join(f"?{name}" for name in self.variables())
        return f"{{ SELECT {projection} WHERE {{ {self.subject} <{self.predicate}> {obj} }} }}"


def _tokens(text: str) -> list[_Token] | None:
    """The tokens of ``text`` (no whitespace or comments, as SPARQL delimits them: see
    :func:`cpgraph.sparql.lexer.lexemes`), or None when a part of it is not one this module
    reads (a long string, a character the grammar does not place): a text is rewritten
    only when every character of it is read as Oxigraph reads it."""
    found: list[_Token] = []
    for lexeme in lexemes(text):
        kind = lexeme.lastgroup
        if kind == "ws" or kind == "comment":
            continue
        if kind is None or kind == "other":
            return None
        token = lexeme.group()
        if kind == "string" and token.startswith(('"""', "'''")):
            return None  # long strings: never in a query this module rewrites
        if token == "[":
            kind = "bnode"  # an anonymous node
        found.append(_Token(kind, token, lexeme.start()))
    return found


def whole_class_join(
    sparql: str, prefixes: Mapping[str, str] | None = None
) -> tuple[int, int, list[Pattern]] | None:
    """The ``WHERE`` group of ``sparql`` when it is a join this module may rewrite: the
    offsets of its braces and its patterns (IRIs resolved); else None.

    ``prefixes`` are those declared for the query besides its own ``PREFIX`` lines.
    """
    if sparql.count("{") != 1 or sparql.count("}") != 1:
        return None  # a sub-query, an OPTIONAL, a FILTER EXISTS, VALUES: left as written
    if sparql[sparql.index("{") + 1 :].lstrip(WHITESPACE)[:1] not in ("?", "$", "#"):
        return None  # a constant first subject (a point lookup): decided without lexing
    tokens = _tokens(sparql)
    if tokens is None or any(t.kind == "bnode" for t in tokens):
        return None
    declared = dict(prefixes or {})
    i = 0
    while i < len(tokens) and tokens[i].text.upper() == "PREFIX":
        if i + 2 >= len(tokens) or tokens[i + 2].kind != "iri":
            return None
        name = tokens[i + 1].text
        if tokens[i + 1].kind != "pname" or name.index(":") != len(name) - 1:
            return None  # a prefixed name, not a prefix's
        if not _ABSOLUTE.match(tokens[i + 2].text) or "\\" in tokens[i + 2].text:
            return None
        declared[name[:-1]] = tokens[i + 2].text[1:-1]
        i += 3
    if i >= len(tokens) or tokens[i].text.upper() not in ("SELECT", "ASK"):
        return None  # BASE, CONSTRUCT, DESCRIBE: as written
    opening = next((k for k in range(i, len(tokens)) if tokens[k].text == "{"), None)
    closing = next((k for k in range(i, len(tokens)) if tokens[k].text == "}"), None)
    if opening is None or closing is None or closing < opening:
        return None
    patterns = _patterns(tokens[opening + 1 : closing], declared)
    if patterns is None:
        return None
    return tokens[opening].start, tokens[closing].start, patterns


def _resolve(token: _Token, declared: Mapping[str, str]) -> str | None:
    """The IRI an IRI or prefixed-name token stands for, or None (relative, undeclared, or
    written with escapes)."""
    if "\\" in token.text:
        return None
    if token.kind == "iri":
        return token.text[1:-1] if _ABSOLUTE.match(token.text) else None
    if token.kind == "pname":
        prefix, _, local = token.text.partition(":")
        namespace = declared.get(prefix)
        return None if namespace is None else namespace + local
    return None


def _patterns(body: list[_Token], declared: Mapping[str, str]) -> list[Pattern] | None:
    """The triple patterns of a group's tokens, when every one is of the rewritable kind."""
    patterns: list[Pattern] = []
    i = 0
    n = len(body)

    def at(k: int) -> _Token | None:
        return body[k] if k < n else None

    while i < n:
        subject = body[i]
        if subject.kind != "var":
            return None
        i += 1
        while True:
            verb = at(i)
            if verb is None:
                return None
            if verb.kind == "word" and verb.text == "a":
                predicate: str | None = RDF_TYPE
            else:
                predicate = _resolve(verb, declared)
            if predicate is None:
                return None
            i += 1
            while True:
                obj = at(i)
                if obj is None:
                    return None
                if obj.kind == "var":
                    patterns.append(Pattern(subject.text, predicate, obj.text))
                elif predicate == RDF_TYPE and (cls := _resolve(obj, declared)) is not None:
                    patterns.append(Pattern(subject.text, predicate, cls))
                else:
                    return None  # a constant object: selective, best looked up
                i += 1
                separator = at(i)
                if separator is not None and separator.text == ",":
                    i += 1
                    continue
                break
            if (separator := at(i)) is not None and separator.text == ";":
                while (separator := at(i)) is not None and separator.text == ";":
                    i += 1
                if separator is None or separator.text == ".":
                    break  # a trailing ';'
                continue  # the next predicate of the subject
            break
        separator = at(i)
        if separator is None:
            break
        if separator.text != ".":
            return None
        i += 1
    return patterns


def _connected(patterns: list[Pattern]) -> bool:
    """Whether the patterns are joined by shared variables (not a cross product)."""
    reached = {patterns[0]}
    names = set(patterns[0].variables())
    grew = True
    while grew:
        grew = False
        for pattern in patterns:
            if pattern not in reached and names.intersection(pattern.variables()):
                reached.add(pattern)
                names.update(pattern.variables())
                grew = True
    return len(reached) == len(patterns)


def hash_join_rewrite(
    sparql: str,
    size: Callable[[Pattern], int],
    prefixes: Mapping[str, str] | None = None,
) -> str | None:
    """``sparql`` with its whole-class join written as hash-joined sub-queries, or None when
    the query is not such a join or the rewrite would not pay (see the module's description).

    ``size`` gives how many statements of the dataset a pattern matches.
    """
    found = whole_class_join(sparql, prefixes)
    if found is None:
        return None
    opening, closing, patterns = found
    if len(patterns) < 2 or len(set(patterns)) != len(patterns) or not _connected(patterns):
        return None
    sizes = [size(pattern) for pattern in patterns]
    smallest = min(sizes)
    if smallest < MIN_STATEMENTS:
        return None
    if sum(sizes) > LOOKUP_COST * smallest * (len(patterns) - 1):
        return None
    group = " ".join(pattern.as_subquery() for pattern in patterns)
    return sparql[: opening + 1] + " " + group + " " + sparql[closing:]
