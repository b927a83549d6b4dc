"""What a SPARQL text says, found with the lexer (:mod:`cpgraph.sparql.lexer`) and without
parsing it: pyoxigraph parses SPARQL but tells nothing of what it parsed.

Its readers: the words at a query's top level (``USING`` clauses go before each ``WHERE``,
:mod:`cpgraph.store.update`); a query's own ``FROM`` and ``FROM NAMED``
(:mod:`cpgraph.store.datasets`); an update of ``INSERT DATA`` and ``DELETE DATA`` alone, which
keeps the merged union in step statement by statement; and how deep and large a text is,
measured before any engine parses it.
"""

from __future__ import annotations

import functools
import re

from cpgraph.errors import QueryTooComplexError
from cpgraph.sparql.lexer import lexemes, tokens


def top_level_words(text: str) -> list[tuple[int, str]]:
    """The words of ``text`` outside braces, strings, IRIs, names and comments (see
    :func:`lexemes`): their offsets, and the words upper-cased (keywords are
    case-insensitive).

    >>> top_level_words("PREFIX ex: <http://e/#a> INSERT DATA { ex:s ex:p 'x}' }")
    [(0, 'PREFIX'), (25, 'INSERT'), (32, 'DATA')]
    """
    words: list[tuple[int, str]] = []
    depth = 0
    for lexeme in lexemes(text):
        kind = lexeme.lastgroup
        if kind == "word":
            if depth == 0:
                words.append((lexeme.start(), lexeme.group().upper()))
        elif kind == "open":
            depth += lexeme.group() == "{"
        elif kind == "close":
            depth -= lexeme.group() == "}"
    return words


_QUERY_FORMS = frozenset({"SELECT", "CONSTRUCT", "DESCRIBE", "ASK"})
_DATASET_WORDS = frozenset({("word", "FROM"), ("word", "NAMED")})


def dataset_clauses(query: str) -> tuple[int, list[tuple[bool, str]]] | None:
    """A query's own ``FROM`` and ``FROM NAMED`` clauses: where its prologue ends (the offset
    of its ``SELECT``, ``CONSTRUCT``, ``DESCRIBE`` or ``ASK``), and each clause in order, as
    whether it is ``NAMED`` and its IRI as written (an IRIREF with its brackets, or a
    prefixed name).

    None when in doubt: a ``FROM`` at the top level not followed by what the grammar
    requires there, or before the query's form (the text is malformed), or a name at the top
    level that begins with ``FROM`` or ``NAMED`` (``FROM:g``, ``FROMNAMED``), which
    Oxigraph's parser may read as the keyword glued to what follows it.

    >>> dataset_clauses("PREFIX : <urn:> SELECT*FROM<urn:a>FROM NAMED :b{}")
    (16, [(False, '<urn:a>'), (True, ':b')])
    >>> dataset_clauses("PREFIX : <urn:> SELECT * FROM:a {}") is None
    True
    """
    form: int | None = None
    clauses: list[tuple[bool, str]] = []
    depth = 0
    expecting = ""  # "FROM" after FROM, "NAMED" after FROM NAMED
    for token in tokens(query):
        kind = token.lastgroup
        text = token.group()
        if kind == "open":
            depth += text == "{"
        elif kind == "close":
            depth -= text == "}"
        if depth == 0 and kind in ("word", "pname"):
            upper = text.upper()
            if upper.startswith(("FROM", "NAMED")) and (kind, upper) not in _DATASET_WORDS:
                return None
        if expecting:
            if expecting == "FROM" and kind == "word" and text.upper() == "NAMED":
                expecting = "NAMED"
                continue
            if kind not in ("iri", "pname"):
                return None
            clauses.append((expecting == "NAMED", text))
            expecting = ""
        elif kind == "word" and depth == 0:
            word = text.upper()
            if word == "FROM":
                if form is None:
                    return None
                expecting = "FROM"
            elif form is None and word in _QUERY_FORMS:
                form = token.start()
    if expecting:
        return None
    return (len(query) if form is None else form), clauses


def data_operations(update: str) -> list[tuple[int, str]] | None:
    """The operations of an update made only of ``INSERT DATA`` and ``DELETE DATA`` (and its
    ``PREFIX`` and ``BASE`` declarations): each one's offset and ``"INSERT"`` or
    ``"DELETE"``; None if the update has any other operation, or a word this cannot place.

    The text is not checked for syntax: parse it too.

    >>> data_operations("PREFIX : <urn:> INSERT DATA { :a :b :c } ; delete data { :a :b :c }")
    [(16, 'INSERT'), (43, 'DELETE')]
    >>> data_operations("DELETE WHERE { ?s ?p ?o }") is None
    True
    """
    words = top_level_words(update)
    operations: list[tuple[int, str]] = []
    k = 0
    while k < len(words):
        offset, word = words[k]
        if word in ("BASE", "PREFIX"):  # a prefix's name is no word (see lexemes)
            k += 1
        elif word in ("INSERT", "DELETE") and k + 1 < len(words) and words[k + 1][1] == "DATA":
            operations.append((offset, word))
            k += 2
        else:
            return None
    return operations


def as_insertions(update: str, operations: list[tuple[int, str]]) -> str:
    """``update`` with each ``DELETE DATA`` of ``operations`` (from :func:`data_operations`)
    read as ``INSERT DATA``: run on an empty store, it leaves every statement the update
    names. The keywords are of one length, so lines and columns stay where they were."""
    for offset, word in operations:
        if word == "DELETE":
            update = update[:offset] + "INSERT" + update[offset + len("DELETE") :]
    return update


# ---------------------------------------------------------------------------------------------
# How deep and how large a text is, measured before the engine parses it.
# ---------------------------------------------------------------------------------------------

# Group-pattern keywords that the engine nests like binary operators (a chain of them builds
# a tree as deep as the chain is long).
_PATTERN_OPERATORS = frozenset({"UNION", "OPTIONAL", "MINUS"})
# What an engine may read as operators inside what is lexed as an IRI: '<' is also the
# less-than operator, so '?a<1-1-1>?b' is a valid IRIREF and a comparison of a chain.
_IRI_OPERATORS = re.compile(r"&&|[/+*=!\-]")
_IRI_FREE_OPERATORS = 64  # an IRI's slashes and hyphens, up to this many, count for nothing


class TextShape:
    """How deep a query or update nests its brackets, how many operators it holds, and how
    many triple patterns it joins (the ``.`` and ``;`` between them)."""

    __slots__ = ("depth", "joins", "operators")

    def __init__(self, depth: int, operators: int, joins: int = 0) -> None:
        self.depth = depth
        self.operators = operators
        self.joins = joins

    def __repr__(self) -> str:
        return f"TextShape(depth={self.depth}, operators={self.operators}, joins={self.joins})"


def measure(text: str) -> TextShape:
    """The deepest nesting of ``{``, ``(`` and ``[`` in ``text`` (together), and the number
    of operators: ``||``, ``&&``, comparisons, arithmetic, ``!``, the path operators, and
    ``UNION``, ``OPTIONAL`` and ``MINUS``. Strings, IRIs and comments count for nothing.

    SPARQL parsers build one level of a tree (and of their own stack) for each bracket
    and for each operator of a chain, so these two figures bound how deep a parser recurses.

    >>> measure("SELECT * WHERE { ?s ?p ?o FILTER(?o > 1 || ?o = '(}') } # {{{")
    TextShape(depth=2, operators=4, joins=0)
    >>> measure("SELECT * WHERE { ?s <http://e/a/b> ?o ; se:smart-grid ?x }")
    TextShape(depth=1, operators=1, joins=1)
    """
    depth = deepest = operators = joins = 0
    for match in lexemes(text):  # whitespace, comments, strings: nothing
        kind = match.lastgroup
        if kind == "open":
            depth += 1
            if depth > deepest:
                deepest = depth
        elif kind == "close":
            depth -= 1
        elif kind == "operator" or (kind == "word" and match.group().upper() in _PATTERN_OPERATORS):
            operators += 1
        elif kind == "join":
            joins += 1
        elif kind == "iri":
            iri = match.group()
            if "(" in iri or "[" in iri:
                deepest = max(deepest, depth + _bracket_depth(iri))
            inside = len(_IRI_OPERATORS.findall(iri))
            if inside > _IRI_FREE_OPERATORS:
                operators += inside - _IRI_FREE_OPERATORS
    return TextShape(deepest, operators, joins)


def _bracket_depth(text: str) -> int:
    """The deepest nesting of ``(`` and ``[`` in ``text``, read as code."""
    depth = deepest = 0
    for char in text:
        if char in "([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in ")]":
            depth -= 1
    return deepest


def within_limits(text: str, *, max_depth: int, max_operators: int) -> TextShape | None:
    """None when ``text`` surely nests at most ``max_depth`` deep and holds at most
    ``max_operators`` operators and joins, else its :func:`measure` (which may still be
    within both).

    Most texts are cleared by counting characters, without lexing them: one with no more
    brackets than ``max_depth`` cannot nest deeper, nor hold more operators than it has
    operator characters. A text of a few KiB is judged once (services see the same texts
    again and again).
    """
    if len(text) <= max_operators and len(text) <= max_depth:
        return None
    if len(text) <= _REMEMBERED_TEXT:
        return _remembered(text, max_depth, max_operators)
    return _within(text, max_depth, max_operators)


_REMEMBERED_TEXT = 16 * 1024
_OPERATOR_CHARACTERS = "|&=!<>+-*/^.;"


def _within(text: str, max_depth: int, max_operators: int) -> TextShape | None:
    if text.count("{") + text.count("(") + text.count("[") <= max_depth:
        if len(text) <= max_operators:
            return None
        upper = text.upper()
        bound = sum(map(text.count, _OPERATOR_CHARACTERS)) + sum(
            map(upper.count, _PATTERN_OPERATORS)
        )
        if bound <= max_operators:
            return None
    return measure(text)


_remembered = functools.lru_cache(maxsize=1024)(_within)


def check_complexity(text: str, *, max_depth: int, max_operators: int, what: str = "query") -> None:
    """Refuse ``text`` before any engine parses it if it nests deeper than ``max_depth`` or
    holds more than ``max_operators`` operators (see :func:`measure`).

    Raises:
        QueryTooComplexError: naming the figure, the limit and its setting.

    >>> check_complexity("ASK {{{}}}", max_depth=2, max_operators=10)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cpgraph.errors.QueryTooComplexError: the query nests brackets 3 deep; ...
    """
    shape = within_limits(text, max_depth=max_depth, max_operators=max_operators)
    if shape is None:
        return
    if shape.depth > max_depth:
        raise QueryTooComplexError(
            f"the {what} nests brackets {shape.depth} deep; this service accepts at most "
            f"{max_depth} (CPGRAPH_MAX_QUERY_DEPTH)",
            limit="CPGRAPH_MAX_QUERY_DEPTH",
        )
    # A query's joins cost its planner as operators do (more than cubic time in their
    # number); an update's data blocks (INSERT DATA) hold many statements and plan nothing.
    operators = shape.operators + (shape.joins if what == "query" else 0)
    if operators > max_operators:
        raise QueryTooComplexError(
            f"the {what} holds {operators} operators and joins; this service accepts at most "
            f"{max_operators} (CPGRAPH_MAX_QUERY_OPERATORS): use VALUES for long "
            "alternatives",
            limit="CPGRAPH_MAX_QUERY_OPERATORS",
        )
