"""What a SPARQL text says at its top level, found without parsing it.

pyoxigraph parses SPARQL but tells nothing of what it parsed. Two writers need to know a
little of an update's shape beforehand: the protocol's dataset (``using-graph-uri``) becomes
``USING`` clauses before each operation's ``WHERE`` (:mod:`cpgraph.update`), and an update of
``INSERT DATA`` and ``DELETE DATA`` alone keeps the store's merged union in step statement by
statement instead of making it anew (:meth:`cpgraph.store.GraphStore.update`).

A small lexer finds the words that stand outside braces, skipping what may hide a brace, a
quote or a ``#`` that is not one: strings (short and long, with escapes), IRIs (an ``IRIREF``
can hold ``#`` and ``'``) and comments. What it cannot place, it reports as a word, so a text
it misreads looks more complicated, never simpler.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# SPARQL's IRIREF: no spaces, controls, or any of <>"{}|^`\ between the brackets.
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")


def top_level_words(text: str) -> list[tuple[int, str]]:
    """The words of ``text`` outside braces, strings, IRIs and comments: their offsets, and
    the words upper-cased (keywords are case-insensitive).

    A word that follows a letter, a digit, ``:``, ``?``, ``$`` or ``_`` is part of a name
    (``ex:where``, ``?insert``) and is not reported.

    >>> top_level_words("PREFIX ex: <http://e/#a> INSERT DATA { ex:s ex:p 'x}' }")
    [(0, 'PREFIX'), (7, 'EX'), (25, 'INSERT'), (32, 'DATA')]
    """
    words: list[tuple[int, str]] = []
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif c in "\"'":
            quote = c * 3 if text.startswith(c * 3, i) else c
            i += len(quote)
            while i < n and not text.startswith(quote, i):
                i += 2 if text[i] == "\\" else 1
            i += len(quote)
        elif c == "<":
            iri = _IRI.match(text, i)
            i = i + 1 if iri is None else iri.end()  # else the operator, or '<<' of RDF-star
        elif c == "{":
            depth += 1
            i += 1
        elif c == "}":
            depth -= 1
            i += 1
        elif c.isalpha() or c == "_":
            match = _WORD.match(text, i)
            assert match is not None
            if depth == 0 and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] in ":?$_")):
                words.append((i, match.group().upper()))
            i = match.end()
        else:
            i += 1
    return words


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
        if word == "BASE":
            k += 1
        elif word == "PREFIX":
            k += 1
            # The prefix's name, if it has one ('PREFIX : <...>' has none), ends with ':'.
            if k < len(words) and update.startswith(":", words[k][0] + len(words[k][1])):
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
