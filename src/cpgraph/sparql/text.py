"""What a SPARQL text says, found without parsing it.

pyoxigraph parses SPARQL but tells nothing of what it parsed. Several readers need to know a
little of a text's shape beforehand: the protocol's dataset (``using-graph-uri``) becomes
``USING`` clauses before each operation's ``WHERE`` (:mod:`cpgraph.store.update`); an update of
``INSERT DATA`` and ``DELETE DATA`` alone keeps the store's merged union in step statement by
statement instead of making it anew (:meth:`cpgraph.store.embedded.GraphStore.update`); a query's
own
``FROM`` and ``FROM NAMED`` choose its dataset (:mod:`cpgraph.store.embedded`); a join over whole
classes is rewritten (:mod:`cpgraph.sparql.joins`); a text is measured before it is parsed.

They read it through one lexer, :func:`lexemes`, which ends each token where the SPARQL
grammar ends it: whitespace is space, tab, CR and LF and nothing else; a comment ends at CR
or LF; strings (short and long) and IRIs (with ``\\u`` escapes, and ``#`` and ``'`` inside)
hide what looks like a brace, a quote or a keyword. A character the grammar places in no
token is a lexeme of its own, so that a reader that meets one can leave the text as written.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from cpgraph.errors import QueryTooComplexError

_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"

# ---------------------------------------------------------------------------------------------
# The lexer: SPARQL's terminals (SPARQL 1.1 Query, §19.8), the one place that says where a
# token of query or update text ends. Everything in this package that reads SPARQL text
# without parsing it reads it through :func:`lexemes`.
# ---------------------------------------------------------------------------------------------

WHITESPACE = " \t\r\n"  # WS ::= #x20 | #x9 | #xD | #xA; no other character separates tokens
_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_VAR_NAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
# PN_PREFIX, read in linear time: a name without '.', or one with (which may not end with
# '.'), each looked for only where a run of the characters it may hold starts (in the middle
# of one it was looked for already and not found: the run ends where it ended). A prefixed
# name glued to a name character before it ('1-ex:a') is therefore not read as one.
_PN_PREFIX = (
    rf"(?<![{_PN_CHARS}])[{_PN_CHARS_BASE}][{_PN_CHARS}]*+(?=:)"
    rf"|(?<![{_PN_CHARS}.])[{_PN_CHARS_BASE}][{_PN_CHARS}.]*+(?<=[{_PN_CHARS}])"
)
_PN_LOCAL = (
    rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})"
    rf"(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?"
)
_EXPONENT = r"[eE][+-]?[0-9]+"
# One lexeme of SPARQL text, by the grammar's rules: whitespace (the four characters of WS);
# comments, which end at CR or LF; strings, long and short, with their escapes (one left open
# runs to the end of the text, or of its line if it is short); IRIREFs with their \u escapes;
# prefixed names and blank node labels, whose names may hold '.' but not end with one;
# variables; bare words (keywords, 'a', booleans, function names); numbers; language tags;
# brackets; operators; the '.' and ';' that join triple patterns; ','. Any other character
# is a lexeme of its own, "other": nothing in SPARQL, or something (RDF 1.2's '~', a stray
# '\') this does not read. Every part is read in time linear in the text's length.
_LEXEME = re.compile(
    rf"""
      (?P<ws>[ \t\r\n]+)
    | (?P<comment>\#[^\r\n]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*+(?:\"\"\"|\\?\Z)
                |'''(?:[^'\\]|\\.|'(?!''))*+(?:'''|\\?\Z)
                |"(?:[^"\\\r\n]|\\.)*+(?:"|\\?(?=[\r\n])|\\?\Z)
                |'(?:[^'\\\r\n]|\\.)*+(?:'|\\?(?=[\r\n])|\\?\Z))
    | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
    | (?P<bnode>_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
    | (?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)
    | (?P<var>[?$]{_VAR_NAME})
    | (?P<word>[^\W\d]\w*)
    | (?P<number>[0-9]+\.[0-9]*{_EXPONENT}|\.[0-9]+{_EXPONENT}|[0-9]+{_EXPONENT}
                |[0-9]*\.[0-9]+|[0-9]+)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<open>[{{(\[])
    | (?P<close>[}})\]])
    | (?P<operator>\|\||&&|!=|<=|>=|\^\^|[|/^*+\-!=<>?])
    | (?P<join>[.;])
    | (?P<comma>,)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SKIPPED = frozenset({"ws", "comment"})


def lexemes(text: str) -> Iterator[re.Match[str]]:
    """The lexemes of ``text`` in order, one after another from its first character to its
    last (``match.lastgroup`` names the kind: ``ws``, ``comment``, ``string``, ``iri``,
    ``bnode``, ``pname``, ``var``, ``word``, ``number``, ``lang``, ``open``, ``close``,
    ``operator``, ``join``, ``comma``, ``other``).

    >>> [(m.lastgroup, m.group()) for m in lexemes("?s ex:p 1.#c\\r}") if m.lastgroup != "ws"]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('var', '?s'), ('pname', 'ex:p'), ('number', '1'), ('join', '.'), ('comment', '#c'),
     ('close', '}')]
    """
    return _LEXEME.finditer(text)


def tokens(text: str) -> Iterator[re.Match[str]]:
    """:func:`lexemes` less whitespace and comments."""
    return (m for m in _LEXEME.finditer(text) if m.lastgroup not in _SKIPPED)


def top_level_words(text: str) -> list[tuple[int, str]]:
    """The words of ``text`` outside braces, strings, IRIs, names and comments (see
    :func:`lexemes`): their offsets, and the words upper-cased (keywords are
    case-insensitive).

    >>> top_level_words("PREFIX ex: <http://e/#a> INSERT DATA { ex:s ex:p 'x}' }")
    [(0, 'PREFIX'), (25, 'INSERT'), (32, 'DATA')]
    """
    words: list[tuple[int, str]] = []
    depth = 0
    for lexeme in _LEXEME.finditer(text):
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
# What a query or an update would fetch from other hosts: SERVICE and LOAD.
#
# Oxigraph's parser is a PEG: a keyword needs no space before it ('1SERVICE', "'a'SERVICE",
# 'trueSERVICE' and 'service:x {' all call out), and an IRIREF may hold \u escapes. So the
# search is for the letters themselves, wherever they stand outside what hides them for
# certain (comments, strings, IRIs, variable names, the local part of a prefixed name), and
# a match counts when what follows can be read as the rest of the call. Whatever this cannot
# read exactly is reported as a call it cannot resolve, which is refused.
# ---------------------------------------------------------------------------------------------

_IRIREF = re.compile(rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>")
# Narrower than SPARQL's names (ASCII only), so that a name is never thought to go on
# further than Oxigraph reads it: what follows it is searched.
_VARNAME = re.compile(r"[A-Za-z0-9_]*")
_LOCAL = re.compile(
    rf"(?:[A-Za-z0-9_:]|{_PLX})(?:(?:[A-Za-z0-9_\-.:]|{_PLX})*(?:[A-Za-z0-9_\-:]|{_PLX}))?"
)
_STRINGS = [  # long before short; an unterminated one runs to the end, as the lexer above
    rf"{q}{q}{q}(?:[^{q}\\]|\\.|{q}(?!{q}{q}))*+(?:{q}{q}{q}|\\?\Z)|{q}(?:[^{q}\\]|\\.)*+(?:{q}|\\?\Z)"
    for q in ('"', "'")
]
_HIDDEN = re.compile(
    "|".join(
        [r"#[^\n\r]*", *_STRINGS, _IRIREF.pattern, rf":(?:{_LOCAL.pattern})?", r"[?$][A-Za-z0-9_]*"]
    ),
    re.DOTALL,
)
# More candidates than any real query has are not each read: the text is refused instead.
MAX_CANDIDATES = 1000
_SKIP = re.compile(r"(?:\s|#[^\n\r]*)*")
_SILENT = re.compile(r"silent", re.IGNORECASE | re.ASCII)
_PREFIX_NAME = re.compile(r"(?:[A-Za-z](?:[A-Za-z0-9_\-.]*[A-Za-z0-9_\-])?)?:")
# The run of characters a prefixed name may span at most; the name is exact only when the
# whole run, less a final '.', is the ASCII name.
_NAME_RUN = re.compile(r"[^\s{}()<>\[\]\"',;#|^`]*")
# Oxigraph reads keywords in ASCII letters of either case, and in no others: they are
# looked for in the text lower-cased in ASCII only (which keeps every offset).
_CALL = {"SERVICE": re.compile("service"), "LOAD": re.compile("load")}
_DECLARATION = re.compile("base|prefix")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def unescape_iri(iri: str) -> str:
    r"""The IRI of an ``IRIREF``'s text (without its brackets), its ``\u`` and ``\U`` escapes
    decoded as SPARQL reads them.

    >>> unescape_iri(r"http://127.0.0.\u0031/")
    'http://127.0.0.1/'
    """
    if "\\" not in iri:
        return iri
    return re.sub(_UCHAR, lambda m: chr(int(m.group()[2:], 16)), iri)


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


def _skip(text: str, i: int) -> int:
    skipped = _SKIP.match(text, i)
    return i if skipped is None else skipped.end()


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
        start = _skip(text, found.end())
        starts = [(start, False)]
        silent = _SILENT.match(text, start)
        if silent is not None:
            starts.append((_skip(text, silent.end()), True))
        for i, is_silent in starts:
            term = _term(text, i, variable=keyword == "SERVICE")
            if term is None:
                continue
            kind, written, end = term
            if keyword == "SERVICE" and not text.startswith("{", _skip(text, end)):
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
        i = _skip(text, found.end())
        if found.group() == "base":
            iri = _IRIREF.match(text, i)
            if iri is not None:
                bases.append(unescape_iri(iri.group()[1:-1]))
            continue
        name = _PREFIX_NAME.match(text, i)
        if name is None:
            continue
        iri = _IRIREF.match(text, _skip(text, name.end()))
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
    for match in _LEXEME.finditer(text):  # whitespace, comments, strings: nothing
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
