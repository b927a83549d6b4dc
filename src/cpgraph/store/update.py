"""SPARQL 1.1 Update: protocol datasets and atomic application to the store.

The SPARQL 1.1 Protocol lets a request name the dataset of an update's WHERE clauses with
``using-graph-uri`` and ``using-named-graph-uri``; they act as ``USING`` / ``USING NAMED``
clauses on every operation that has a WHERE clause. pyoxigraph takes no such option, so
:func:`with_protocol_dataset` adds the clauses to the update text, after a small lexer has
found the operations' top-level ``WHERE`` keywords
(:func:`cpgraph.sparql.text.top_level_words`). An update that has its own ``USING`` or ``WITH``
and protocol graphs is refused, as the protocol requires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox

from cpgraph.errors import InputError
from cpgraph.sparql.calls import declarations
from cpgraph.sparql.lexer import tokens
from cpgraph.sparql.text import top_level_words
from cpgraph.store.builds import writing
from cpgraph.store.interface import Store


def with_protocol_dataset(
    update: str, using: Sequence[str] = (), using_named: Sequence[str] = ()
) -> str:
    """``update`` with ``USING`` / ``USING NAMED`` clauses for the protocol's graphs.

    Raises:
        InputError: if the update already names its dataset (USING or WITH) while the request
            also does, or if a graph is not an absolute IRI.
    """
    if not using and not using_named:
        return update
    for iri in (*using, *using_named):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*", iri):
            raise InputError(f"not an absolute IRI: {iri!r}")
    words = top_level_words(update)
    if any(word in ("USING", "WITH") for _, word in words):
        raise InputError(
            "the update names its own dataset (USING or WITH): do not also send "
            "using-graph-uri or using-named-graph-uri"
        )
    clause = "".join(f" USING <{g}>" for g in using)
    clause += "".join(f" USING NAMED <{g}>" for g in using_named)
    clause += " "
    # A WHERE that follows DELETE directly is the short form DELETE WHERE, which takes no USING.
    offsets = [
        offset
        for k, (offset, word) in enumerate(words)
        if word == "WHERE" and not (k > 0 and words[k - 1][1] == "DELETE")
    ]
    for offset in reversed(offsets):
        update = update[:offset] + clause + update[offset:]
    return update


def apply_update(
    target: Path | Store,
    update: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    base_iri: str | None = None,
) -> int:
    """Run a SPARQL update against the store ``target`` names (its folder, or a store written
    straight: :func:`cpgraph.store.builds.writing`), all or nothing; return how
    many of the literals it writes the store holds in another form than written
    (:func:`written_literals`).

    Raises:
        QuerySyntaxError: if the update is malformed (line and column).
        InputError: if the protocol dataset conflicts with the update's own.
        StoreError: if the store cannot be written; the store is then unchanged.
    """
    text = with_protocol_dataset(update, using, using_named)
    with writing(target) as store:
        store.update(text, base_iri=base_iri)
        written = written_literals(update, base_iri=base_iri)
        forms = store.stored_forms(written)
    return sum(forms.get(literal, literal) != literal for literal in written)


_SIGNS = frozenset({"+", "-"})
_PROBE = "<urn:x-cpgraph:literal> <urn:x-cpgraph:value> "


def written_literals(update: str, *, base_iri: str | None = None) -> list[ox.Literal]:
    """The literals an update writes out in its text, one per place: those of its ``INSERT
    DATA`` blocks and ``INSERT`` templates (with its own ``PREFIX`` declarations).

    Values its ``WHERE`` clauses compute or bind (``BIND``, ``VALUES``, functions) are the
    engine's own and not counted. A literal that cannot be read alone is left out.

    >>> [str(x) for x in written_literals("INSERT DATA { <a:s> <a:p> 007, 'x'@en, true }")]
    ['"007"^^<http://www.w3.org/2001/XMLSchema#integer>', '"x"@en', '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>']
    """
    written: list[str] = []
    depth = 0
    template: int | None = None  # the depth of the INSERT block being read
    after_insert = False
    found = list(tokens(update))
    for k, token in enumerate(found):
        kind, text = token.lastgroup, token.group()
        if kind == "open" and text == "{":
            if after_insert and template is None:
                template = depth
            after_insert = False
            depth += 1
        elif kind == "close" and text == "}":
            depth -= 1
            if template == depth:
                template = None
        elif kind == "word" and depth == 0:
            word = text.upper()
            after_insert = word == "INSERT" or (after_insert and word == "DATA")
        elif template is not None and kind in ("string", "number", "word"):
            if kind == "word" and text not in ("true", "false"):
                continue
            written.append(_literal_text(found, k))
    return _parse_literals(written, declarations(update)[1], base_iri)


def _literal_text(found: list[re.Match[str]], k: int) -> str:
    """The text of the literal whose first token is ``found[k]``: a number with the sign
    written against it, a string with its language tag or datatype."""
    token = found[k]
    start, end = token.start(), token.end()
    if token.lastgroup == "number" and k > 0:
        sign = found[k - 1]
        if sign.group() in _SIGNS and sign.end() == start:
            start = sign.start()
    if token.lastgroup == "string" and k + 1 < len(found):
        after = found[k + 1]
        if after.lastgroup == "lang":
            end = after.end()
        elif after.group() == "^^" and k + 2 < len(found):
            end = found[k + 2].end()
    return token.string[start:end]


def _parse_literals(
    written: list[str], prefixes: list[tuple[str, str]], base_iri: str | None
) -> list[ox.Literal]:
    """``written`` read as literals (Turtle writes them as SPARQL does): all in one text,
    else one by one, leaving out those that cannot be read alone."""
    head = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in prefixes)
    try:
        return _read(head + "".join(f"{_PROBE}{text} .\n" for text in written), base_iri)
    except (SyntaxError, ValueError):
        pass
    literals: list[ox.Literal] = []
    for text in written:
        try:
            literals += _read(f"{head}{_PROBE}{text} .", base_iri)
        except (SyntaxError, ValueError):
            continue
    return literals


def _read(turtle: str, base_iri: str | None) -> list[ox.Literal]:
    quads = ox.parse(turtle, ox.RdfFormat.TURTLE, base_iri=base_iri)
    return [q.object for q in quads if isinstance(q.object, ox.Literal)]
