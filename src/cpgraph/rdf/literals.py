"""Whether a literal of an XSD datatype is written in that datatype's lexical space.

``"abc"^^xsd:integer`` parses as RDF, but it names no value: a store answers queries over it
oddly, and a shape that does not cover its property never notices. Contributions refuse it
(:func:`ill_typed_reason`). The lexical spaces are those of XML Schema 1.1; values are read with
surrounding whitespace collapsed, as the datatypes' ``whiteSpace`` facet says.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import re

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"

_TZ = r"(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))?"
_YEAR = r"-?(?:[1-9]\d{3,}|0\d{3})"
_MONTH = r"(?:0[1-9]|1[0-2])"
_DAY = r"(?:0[1-9]|[12]\d|3[01])"
_TIME = r"(?:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?|24:00:00(?:\.0+)?)"
_INTEGER = r"[+-]?\d+"
_DAY_TIME = r"(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?"
_PATTERNS = {
    "boolean": r"true|false|1|0",
    "decimal": r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)",
    "integer": _INTEGER,
    "double": r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|INF)|NaN",
    "float": r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|INF)|NaN",
    "dateTime": rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_TZ}",
    "dateTimeStamp": rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}(?:Z|[+-](?:(?:0\d|1[0-3]):[0-5]\d|14:00))",
    "date": rf"{_YEAR}-{_MONTH}-{_DAY}{_TZ}",
    "time": rf"{_TIME}{_TZ}",
    "gYear": rf"{_YEAR}{_TZ}",
    "gYearMonth": rf"{_YEAR}-{_MONTH}{_TZ}",
    "gMonth": rf"--{_MONTH}{_TZ}",
    "gMonthDay": rf"--{_MONTH}-{_DAY}{_TZ}",
    "gDay": rf"---{_DAY}{_TZ}",
    "duration": rf"-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?{_DAY_TIME}",
    "dayTimeDuration": rf"-?P(?=\d|T\d){_DAY_TIME}",
    "yearMonthDuration": r"-?P(?:\d+Y(?:\d+M)?|\d+M)",
    "hexBinary": r"(?:[0-9a-fA-F]{2})*",
    "language": r"[a-zA-Z]{1,8}(?:-[a-zA-Z0-9]{1,8})*",
}
_COMPILED = {name: re.compile(pattern) for name, pattern in _PATTERNS.items()}
# The integer types, by their bounds (inclusive; None: unbounded).
_RANGES: dict[str, tuple[int | None, int | None]] = {
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-(2**7), 2**7 - 1),
    "nonNegativeInteger": (0, None),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 2**8 - 1),
    "positiveInteger": (1, None),
}
_DATED = re.compile(r"(-?\d{4,})-(\d\d)-(\d\d)")


def ill_typed_reason(literal: ox.Literal) -> str | None:
    """Why ``literal`` is not a value of its XSD datatype, or None if it is one (or its
    datatype is not one checked here: strings, IRIs, other vocabularies' types)."""
    datatype = literal.datatype.value
    if not datatype.startswith(XSD):
        return None
    name = datatype[len(XSD) :]
    text = " ".join(literal.value.split())
    if name in _RANGES:
        if not re.fullmatch(_INTEGER, text):
            return f"not an integer, as xsd:{name} must be"
        low, high = _RANGES[name]
        value = int(text)
        if (low is not None and value < low) or (high is not None and value > high):
            return f"out of the range of xsd:{name}"
        return None
    if name == "base64Binary":
        try:
            base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            return "not base64, as xsd:base64Binary must be"
        return None
    pattern = _COMPILED.get(name)
    if pattern is None:
        return None
    if not pattern.fullmatch(text):
        return f"not in the lexical space of xsd:{name}"
    if name in ("date", "dateTime", "dateTimeStamp"):
        match = _DATED.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            # The leap-year rule repeats every 400 years (year 0 is a leap year).
            if day > calendar.monthrange(2000 + year % 400, month)[1]:
                return f"a day that does not exist (xsd:{name})"
    return None
