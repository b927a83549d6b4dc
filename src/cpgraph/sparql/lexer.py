"""The one SPARQL lexer: where a token of query or update text ends (SPARQL 1.1 Query, §19.8).

Everything in cpgraph that reads SPARQL text without parsing it reads it through
:func:`lexemes` or the terminals defined here (but for the final ``LIMIT`` that
:func:`cpgraph.sparql.scans.limited_within` looks for at a text's end). Whitespace is space,
tab, CR and LF and nothing else; a comment ends at CR or LF; strings (short and long) and IRIs
(with ``\\u`` escapes, and ``#`` and ``'`` inside) hide what looks like a brace, a quote or a
keyword. A character the grammar places in no token is a lexeme of its own, so that a reader
that meets one can leave the text as written. Every pattern reads in time linear in the
text's length.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"

WHITESPACE = " \t\r\n"  # WS ::= #x20 | #x9 | #xD | #xA; no other character separates tokens
_WS = r"[ \t\r\n]+"
COMMENT = r"\#[^\r\n]*"
IRIREF = rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{UCHAR})*>"
# Strings, long before short, with their escapes: one left open runs to the end of the text,
# or of its line if it is short.
STRING = r"""\"\"\"(?:[^"\\]|\\.|"(?!""))*+(?:\"\"\"|\\?\Z)
            |'''(?:[^'\\]|\\.|'(?!''))*+(?:'''|\\?\Z)
            |"(?:[^"\\\r\n]|\\.)*+(?:"|\\?(?=[\r\n])|\\?\Z)
            |'(?:[^'\\\r\n]|\\.)*+(?:'|\\?(?=[\r\n])|\\?\Z)"""

_PN_CHARS_BASE = (
    "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_VAR_NAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*"
# PN_PREFIX in linear time: a name without '.', or one with (which may not end with '.'), each
# looked for only where a run of the characters it may hold starts. A prefixed name glued to a
# name character before it ('1-ex:a') is therefore not read as one.
_PN_PREFIX = (
    rf"(?<![{_PN_CHARS}])[{_PN_CHARS_BASE}][{_PN_CHARS}]*+(?=:)"
    rf"|(?<![{_PN_CHARS}.])[{_PN_CHARS_BASE}][{_PN_CHARS}.]*+(?<=[{_PN_CHARS}])"
)
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{PLX})(?:(?:[{_PN_CHARS}.:]|{PLX})*(?:[{_PN_CHARS}:]|{PLX}))?"
_EXPONENT = r"[eE][+-]?[0-9]+"
# One lexeme: whitespace; a comment; a string; an IRIREF; a blank node label or prefixed name
# (whose names may hold '.' but not end with one); a variable; a bare word (keywords, 'a',
# booleans, function names); a number; a language tag; a bracket; an operator; the '.' and ';'
# that join triple patterns; ','. Any other character is "other": nothing in SPARQL, or
# something (RDF 1.2's '~', a stray '\') this does not read.
_LEXEME = re.compile(
    rf"""
      (?P<ws>{_WS})
    | (?P<comment>{COMMENT})
    | (?P<string>{STRING})
    | (?P<iri>{IRIREF})
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
_BLANK = re.compile(rf"(?:{_WS}|{COMMENT})*")


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


def skip_blank(text: str, i: int) -> int:
    """Where the whitespace and comments that start at ``i`` in ``text`` end.

    >>> skip_blank("a \\t#c\\r\\n b", 1)
    8
    """
    blank = _BLANK.match(text, i)
    assert blank is not None  # it matches the empty string at least
    return blank.end()


def unescape_iri(iri: str) -> str:
    r"""The IRI of an ``IRIREF``'s text (without its brackets), its ``\u`` and ``\U`` escapes
    decoded as SPARQL reads them.

    >>> unescape_iri(r"http://127.0.0.\u0031/")
    'http://127.0.0.1/'
    """
    if "\\" not in iri:
        return iri
    return re.sub(UCHAR, lambda m: chr(int(m.group()[2:], 16)), iri)
