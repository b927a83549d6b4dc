"""Where a literal is written in an RDF text: the lines to name when a file's literal is
refused.

Oxigraph's parsers give the position of a syntax error, not of each statement, so a literal
is found by how it can be written: quoted with ``^^`` and its datatype (an IRI or a prefixed
name), or, for the numbers and booleans Turtle writes bare, bare. A text where neither is
found (JSON-LD, RDF/XML) is searched for a line holding both the quoted value and the
datatype's name.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from cpgraph.rdf.namespaces import XSD

_BARE = {XSD + "integer", XSD + "decimal", XSD + "double", XSD + "boolean"}


def literal_lines(text: str, literal: ox.Literal) -> list[int]:
    """The lines (from 1) of ``text`` where ``literal`` is written, in order.

    >>> literal_lines('@prefix x: <http://www.w3.org/2001/XMLSchema#> .\\n'
    ...     '<a:s> <a:p> "2"^^x:positiveInteger ;\\n <a:q> 1.50 .\\n',
    ...     ox.Literal("2", datatype=ox.NamedNode(XSD + "positiveInteger")))
    [2]
    """
    datatype = literal.datatype.value
    local = re.split(r"[#/:]", datatype)[-1]
    quoted = rf"(?:\"{re.escape(literal.value)}\"|'{re.escape(literal.value)}')"
    written = rf"{quoted}\s*\^\^\s*(?:<{re.escape(datatype)}>|[\w.-]*:{re.escape(local)}\b)"
    if datatype in _BARE:
        written += rf"|(?<![\w.:\"'+-]){re.escape(literal.value)}(?![\w]|\.\d)"
    lines = _lines(text, re.compile(written))
    if not lines and literal.language is None:
        lines = [
            number
            for number, line in enumerate(text.splitlines(), start=1)
            if re.search(quoted, line) and local in line
        ]
    return lines


def _lines(text: str, pattern: re.Pattern[str]) -> list[int]:
    return [text.count("\n", 0, match.start()) + 1 for match in pattern.finditer(text)]
