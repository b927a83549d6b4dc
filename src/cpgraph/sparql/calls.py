"""What a query or an update would fetch from other hosts: its SERVICE and LOAD calls.

Oxigraph's parser is a PEG: a keyword needs no space before it ('1SERVICE', "'a'SERVICE",
'trueSERVICE' and 'service:x {' all call out), and an IRIREF may hold \\u escapes. So the search
is for the letters themselves, wherever they stand outside what hides them for certain
(comments, strings, IRIs, variable names, the local part of a prefixed name; read by the
lexer's own terminals), and a match counts when what follows can be read as the rest of the
call. Whatever this cannot read exactly is reported as a call it cannot resolve, which
:mod:`cpgraph.sparql.outbound` refuses.
"""

from __future__ import annotations

import functools
import re

from cpgraph.sparql.lexer import COMMENT, IRIREF, PLX, STRING, skip_blank, unescape_iri

_IRIREF = re.compile(IRIREF)
# Narrower than SPARQL's names (ASCII only), so that a name is never thought to go on
# further than Oxigraph reads it: what follows it is searched.
_VARNAME = re.compile(r"[A-Za-z0-9_]*")
_LOCAL = re.compile(
    rf"(?:[A-Za-z0-9_:]|{PLX})(?:(?:[A-Za-z0-9_\-.:]|{PLX})*(?:[A-Za-z0-9_\-:]|{PLX}))?"
)
_HIDDEN = re.compile(
    "|".join([COMMENT, STRING, IRIREF, rf":(?:{_LOCAL.pattern})?", r"[?$][A-Za-z0-9_]*"]),
    re.VERBOSE | re.DOTALL,
)
# More candidates than any real query has are not each read: the text is refused instead.
MAX_CANDIDATES = 1000
_SILENT = re.compile(r"silent", re.IGNORECASE | re.ASCII)
_PREFIX_NAME = re.compile(r"(?:[A-Za-z](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)?:")
# The run of characters a prefixed name may span at most; the name is exact only when the
# whole run, less a final '.', is the ASCII name.
_NAME_RUN = re.compile(r"[^ \t\r\n{}()<>\[\]\"',;#|^`]*")
# Oxigraph reads keywords in ASCII letters of either case, and in no others: they are
# looked for in the text lower-cased in ASCII only (which keeps every offset).
_CALL = {"SERVICE": re.compile("service"), "LOAD": re.compile("load")}
_DECLARATION = re.compile("base|prefix")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def visible(text: str) -> str:
    """``text`` with what can hide a keyword blanked out (each kept in place by its first
    character and spaces): comments, strings, IRIs, variable names and the local parts of
    prefixed names.

    >>> visible("SELECT ?service { 'SERVICE' ex:service <x:service> } # SERVICE").split()
    ['SELECT', '?', '{', "'", 'ex:', '<', '}', '#']
    """
    out: list[str] = []
    i = 0
    for hidden in _HIDDEN.finditer(text):
        j, end = hidden.span()
        out.append(text[i:j])
        out.append(text[j] + " " * (end - j - 1))
        i = end
    out.append(text[i:])
    return "".join(out)


@functools.lru_cache(maxsize=8)
def _searchable(text: str) -> str:
    """:func:`visible`, lower-cased in ASCII: where keywords are looked for (made once for
    the several searches of one text)."""
    shown = visible(text)
    return shown.lower() if shown.isascii() else shown.translate(_ASCII_LOWER)


def _term(text: str, i: int, *, variable: bool) -> tuple[str, str, int] | None:
    """The IRI, prefixed name or (if ``variable``) variable at ``i``: its kind, its text and
    where it ends; None if there is none. A prefixed name that goes on in characters this
    does not read exactly is of kind ``"unread"``."""
    iri = _IRIREF.match(text, i)
    if iri is not None:
        return "iri", unescape_iri(iri.group()[1:-1]), iri.end()
    if variable and text.startswith(("?", "$"), i):
        name = _VARNAME.match(text, i + 1)
        assert name is not None  # it matches the empty string at least
        return "var", text[i : name.end()], name.end()
    prefix = _PREFIX_NAME.match(text, i)
    if prefix is None:
        return None
    run = _NAME_RUN.match(text, prefix.end())
    assert run is not None  # it matches the empty string at least
    rest = run.group().rstrip(".")
    end = prefix.end() + len(rest)
    local = _LOCAL.fullmatch(rest) if rest else None
    if rest and local is None:
        return "unread", text[i:end], end
    return "pname", text[i:end], end


def outbound_calls(text: str, keyword: str) -> list[tuple[int, str, str, bool]]:
    """The ``SERVICE`` (``keyword="SERVICE"``) or ``LOAD`` (``"LOAD"``) calls ``text`` may
    make: each one's offset, the kind of its endpoint (``"iri"``, ``"pname"``, ``"var"``,
    or ``"unread"``: a name not read exactly), the endpoint as written (an IRI with its
    escapes decoded, without brackets) and whether it is SILENT.

    A ``SERVICE`` counts only when a group (``{``) follows its endpoint, as the grammar
    requires; where ``SILENT`` could be a prefix's name, both readings are reported.

    >>> outbound_calls("SELECT * { 'SERVICE <a:b> {}' ?s ?p 1SERVICE ex:e { } }", "SERVICE")
    [(37, 'pname', 'ex:e', False)]
    >>> outbound_calls("SELECT ?service { ?service ?p ex:service }", "SERVICE")
    []
    """
    return [call[:4] for call in _calls(text, keyword)]


def _calls(text: str, keyword: str) -> list[tuple[int, str, str, bool, int, int]]:
    """:func:`outbound_calls`, each with where its endpoint starts and ends in ``text``."""
    pattern = _CALL[keyword]
    calls: list[tuple[int, str, str, bool, int, int]] = []
    for count, found in enumerate(pattern.finditer(_searchable(text))):
        if count == MAX_CANDIDATES:
            return [(found.start(), "unread", f"(one of over {MAX_CANDIDATES})", False, 0, 0)]
        start = skip_blank(text, found.end())
        starts = [(start, False)]
        silent = _SILENT.match(text, start)
        if silent is not None:
            starts.append((skip_blank(text, silent.end()), True))
        for i, is_silent in starts:
            term = _term(text, i, variable=keyword == "SERVICE")
            if term is None:
                continue
            kind, written, end = term
            if keyword == "SERVICE" and not text.startswith("{", skip_blank(text, end)):
                continue
            calls.append((found.start(), kind, written, is_silent, i, end))
    return calls


def declarations(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The ``BASE`` IRIs and the ``PREFIX`` declarations (name without ``:``, IRI as written)
    that ``text`` may make, wherever they stand: every one is a reading to account for.

    >>> declarations("BASE <http://a/> PREFIX ex: <b/> SELECT * {}")
    (['http://a/'], [('ex', 'b/')])
    """
    bases: list[str] = []
    prefixes: list[tuple[str, str]] = []
    for found in _DECLARATION.finditer(_searchable(text)):
        i = skip_blank(text, found.end())
        if found.group() == "base":
            iri = _IRIREF.match(text, i)
            if iri is not None:
                bases.append(unescape_iri(iri.group()[1:-1]))
            continue
        name = _PREFIX_NAME.match(text, i)
        if name is None:
            continue
        iri = _IRIREF.match(text, skip_blank(text, name.end()))
        if iri is not None:
            prefixes.append((name.group()[:-1], unescape_iri(iri.group()[1:-1])))
    return bases, prefixes


def without_calls(text: str) -> str:
    """``text`` with the endpoint of every ``SERVICE`` it may call made a variable of the same
    length (``?vvv``), so that evaluating it only to check its syntax calls no one: Oxigraph
    calls a ``SERVICE`` as soon as the query is made, not when its results are read. Lines
    and columns stay where they were.

    >>> without_calls("SELECT * { SERVICE <http://e/> { ?s ?p ?o } }")
    'SELECT * { SERVICE ?vvvvvvvvvv { ?s ?p ?o } }'
    """
    if "service" not in text.lower():
        return text
    for _ in range(8):  # a rewrite can only leave fewer calls; a few rounds settle any text
        spans = sorted({(c[4], c[5]) for c in _calls(text, "SERVICE") if c[1] != "var"})
        if not spans:
            return text
        done = len(text) + 1
        for start, end in reversed(spans):
            if end > done:
                continue  # overlaps one rewritten already (two readings of SILENT)
            text = text[:start] + "?" + "v" * max(1, end - start - 1) + text[end:]
            done = start
    raise ValueError("a text whose SERVICE calls cannot be taken out")
