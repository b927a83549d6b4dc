"""What a query's text says about the work it costs, read before it is evaluated.

:func:`single_scan` tells a query that is one triple pattern (a single scan of one index,
which yields its solutions steadily) from any other, reading the text through the one lexer
(:func:`cpgraph.sparql.lexer.lexemes`); :func:`limited_within` tells whether its own final
``LIMIT`` keeps it within a row limit.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from cpgraph.sparql.lexer import lexemes

_FINAL_LIMIT = re.compile(
    r"(?:\bOFFSET\s+\d+\s+)?\bLIMIT\s+(\d+)(?:\s+OFFSET\s+\d+)?\s*\Z", re.IGNORECASE
)


def limited_within(query: str, max_rows: int) -> bool:
    """Whether a query's own final ``LIMIT`` already keeps it within ``max_rows`` solutions.

    Then a row limit cannot cut it, and the result can be written straight in the format
    asked for instead of being counted on the way. Solution modifiers come last in SPARQL, so
    a LIMIT at the very end of the text belongs to the outermost query (a sub-select's is
    followed by its closing brace). Only the plain case is recognised: a ``#`` anywhere on
    the lines of that clause (a comment could hide it) or a trailing ``VALUES`` block means
    no, and the row limit is applied as usual.

    Not read through the lexer: asked of every query that has a row limit, this looks only at
    the text's end, and every doubt answers no (which costs the count, never a row too many).
    """
    if "limit" not in query.lower():
        return False  # cheaper than the search below
    match = _FINAL_LIMIT.search(query)
    if match is None:
        return False
    line_start = query.rfind("\n", 0, match.start()) + 1
    if "#" in query[line_start:]:
        return False
    return int(match.group(1)) <= max_rows


class SingleScan(NamedTuple):
    """What :func:`single_scan` found: an ASK or a SELECT, and the SELECT's LIMIT if any."""

    ask: bool
    limit: int | None


def single_scan(query: str) -> SingleScan | None:
    """The shape of a query that is one triple pattern, evaluated as a single scan of one
    index; None for any other query.

    Such a query (a SELECT, with a LIMIT or without, or an ASK, of one pattern whose variables
    are all different) yields its solutions at the pace of the scan: no step (a sort, a group,
    a filter, a join, an OFFSET) works for long without output, so it may be evaluated where
    it cannot be interrupted, its output bounded (:mod:`cpgraph.engine.at_once`). DISTINCT (or
    REDUCED) is let in only when the SELECT keeps every variable of the pattern: a solution it
    drops is then a statement met again in another graph of the default graph. Anything else,
    or any doubt, is None; a text of this shape that is not valid SPARQL is refused by the
    parser as usual.
    """
    # Characters that say at a glance, before lexing, that most queries are no single scan.
    if len(query) > 4096 or "(" in query or ";" in query or query.count("{") != 1:
        return None
    return _scanned(query)


# What a single scan is written with: terms, keywords, the braces, a dot, LIMIT's number. A
# comment, a blank node, a comma or anything else is a doubt.
_LEXEMES = frozenset(
    {"word", "var", "iri", "pname", "string", "lang", "operator", "open", "close", "join", "number"}
)


@functools.lru_cache(maxsize=256)
def _scanned(query: str) -> SingleScan | None:
    """:func:`single_scan`'s reading, remembered for the texts seen last (at most 4 KiB each):
    a query asked again, or asked about twice (the protocol, then the answer at once), is read
    once."""
    found: list[re.Match[str]] = []
    for lexeme in lexemes(query):
        if lexeme.lastgroup == "ws":
            continue
        if lexeme.lastgroup not in _LEXEMES:
            return None
        found.append(lexeme)
    return _Reader(found).single_scan()


class _Reader:
    """The tokens of one query, read from the first on."""

    def __init__(self, found: list[re.Match[str]]) -> None:
        self._found = found
        self._at = 0

    def _peek(self, ahead: int = 0) -> re.Match[str] | None:
        at = self._at + ahead
        return self._found[at] if at < len(self._found) else None

    def _take(self, kind: str, text: str | None = None) -> re.Match[str] | None:
        """The next token, taken, if it is of ``kind`` (and is ``text``: a keyword, in any
        case); else None."""
        token = self._peek()
        if token is None or token.lastgroup != kind:
            return None
        if (
            text is not None
            and (token.group().upper() if kind == "word" else token.group()) != text
        ):
            return None
        self._at += 1
        return token

    def single_scan(self) -> SingleScan | None:
        """The query as a single scan: its prologue, its form, one pattern, a LIMIT."""
        if not self._prologue():
            return None
        ask = self._take("word", "ASK") is not None
        kept: set[str] | None = None  # the projection, when DISTINCT or REDUCED narrows it
        if not ask:
            if self._take("word", "SELECT") is None:
                return None
            distinct = bool(self._take("word", "DISTINCT") or self._take("word", "REDUCED"))
            if self._take("operator", "*") is None:
                projected: list[str] = []
                while (variable := self._take("var")) is not None:
                    projected.append(variable.group()[1:])
                if not projected:
                    return None
                kept = set(projected) if distinct else None
        self._take("word", "WHERE")
        if self._take("open", "{") is None:
            return None
        names: list[str] = []
        for position in "spo":
            term = self._term(position)
            if term is None:
                return None
            if term.lastgroup == "var":
                names.append(term.group()[1:])
        self._take("join", ".")
        if self._take("close", "}") is None:
            return None
        limit: int | None = None
        if self._take("word", "LIMIT") is not None:
            number = self._take("number")
            if number is None or not number.group().isdigit():
                return None
            limit = int(number.group())
        if self._peek() is not None:
            return None
        if len(names) != len(set(names)):
            return None  # a repeated variable filters the scan
        if kept is not None and kept != set(names):
            return None  # DISTINCT over fewer variables may drop almost everything scanned
        return SingleScan(ask, limit)

    def _prologue(self) -> bool:
        """Take the ``PREFIX name: <iri>`` and ``BASE <iri>`` declarations; False if one is
        not written so."""
        while True:
            if self._take("word", "PREFIX") is not None:
                name = self._take("pname")
                if name is None or name.group().index(":") != len(name.group()) - 1:
                    return False
            elif self._take("word", "BASE") is None:
                return True
            if self._take("iri") is None:
                return False

    def _term(self, position: str) -> re.Match[str] | None:
        """Take the subject, predicate or object (``position``) of the pattern: a variable, an
        IRI or a prefixed name, ``a`` as the predicate, a plain literal as the object."""
        token = self._peek()
        if token is None:
            return None
        kind = token.lastgroup
        if kind in ("var", "iri", "pname") or (position == "p" and token.group() == "a"):
            self._at += 1
            return token
        if position == "o" and kind == "string" and self._literal():
            return token
        return None

    def _literal(self) -> bool:
        """Take a short string with no escape, glued to its language tag or to ``^^`` and its
        datatype if it has one; False if the literal is not written so."""
        string = self._found[self._at]
        text = string.group()
        if len(text) < 2 or text[-1] != text[0] or "\\" in text or text.startswith(('"""', "'''")):
            return False
        self._at += 1
        after = self._peek()
        if after is None or after.start() != string.end():
            return True
        if after.lastgroup == "lang":
            self._at += 1
        elif after.lastgroup == "operator" and after.group() == "^^":
            datatype = self._peek(1)
            if datatype is None or datatype.lastgroup not in ("iri", "pname"):
                return False
            if datatype.start() != after.end():
                return False
            self._at += 2
        return True
