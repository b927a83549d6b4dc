"""The parameters of a saved query and the RDF terms their values become.

A variable ``?_name_type`` is a required parameter ``name``, ``?__name_type`` an optional one
(the grlc / BASIL convention). The type suffix is ``iri``, ``integer``, ``decimal``,
``boolean``, ``string``, ``xsd_<datatype>`` or a two-letter language tag; without one, the
value is a plain string. Values are checked against their type and bound as terms through the
store's substitutions, so a value never becomes query text.

grlc reads the same variables (a name of letters and digits), but takes a suffix it does not
know (``decimal``, ``boolean``, ``string``) for a language tag: a file meant for grlc too
writes ``xsd_decimal``, ``xsd_boolean``, ``xsd_string``.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pyoxigraph as ox

from cpgraph.rdf import Term
from cpgraph.rdf.namespaces import XSD, prefixes

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_BOOLEAN = re.compile(r"true|false|1|0")
_GYEAR = re.compile(r"-?[0-9]{4}")
_GYEARMONTH = re.compile(r"-?[0-9]{4}-(?:0[1-9]|1[0-2])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_XSD_TYPES = ("string", "integer", "decimal", "boolean", "date", "gYear", "gYearMonth", "anyURI")
_CHECKS = {
    "integer": _INTEGER,
    "decimal": _DECIMAL,
    "boolean": _BOOLEAN,
    "gYear": _GYEAR,
    "gYearMonth": _GYEARMONTH,
    "date": _DATE,
}
_SCHEMAS: dict[str, dict[str, object]] = {  # by the local name of an XSD datatype
    "integer": {"type": "integer"},
    "decimal": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "gYear": {"type": "string", "pattern": "^-?[0-9]{4}$"},
    "gYearMonth": {"type": "string", "pattern": "^-?[0-9]{4}-(0[1-9]|1[0-2])$"},
    "anyURI": {"type": "string", "format": "uri"},
}


@dataclass(frozen=True, slots=True)
class ParamType:
    """The kind of RDF term a parameter takes.

    ``name`` is how the type is shown (``iri``, ``integer``, ``xsd:gYear``, ``@en``,
    ``string``); an IRI type has no datatype, a language-tagged one has ``language``.
    """

    name: str
    iri: bool = False
    datatype: str | None = None
    language: str | None = None

    @classmethod
    def from_suffix(cls, suffix: str) -> ParamType | None:
        """The type a variable-name suffix (``iri``, ``xsd_gYear``, ``en``) names, if any."""
        if suffix == "iri":
            return cls("iri", iri=True)
        if suffix in ("integer", "decimal", "boolean", "string"):
            return cls(suffix, datatype=XSD + suffix)
        if suffix.startswith("xsd_") and suffix[4:] in _XSD_TYPES:
            return cls(f"xsd:{suffix[4:]}", datatype=XSD + suffix[4:])
        if _LANGUAGE.fullmatch(suffix):
            return cls(f"@{suffix}", language=suffix)
        return None

    def json_schema(self) -> dict[str, object]:
        """The JSON Schema (OpenAPI 3.1) of a value of this type, as a query-string value."""
        if self.iri:
            return {"type": "string", "format": "iri"}
        local = self.datatype[len(XSD) :] if self.datatype else ""
        return dict(_SCHEMAS.get(local, {"type": "string"}))

    def term(self, value: str, *, base: str) -> Term:
        """``value`` as an RDF term of this type.

        IRIs may be written in full or as a prefixed name with one of cpgraph's prefixes
        (``cp:Law``, ``id:org/sepa``).

        Raises:
            ValueError: if ``value`` is not a valid value of this type (the message says why).
        """
        if self.iri:
            return ox.NamedNode(expand_iri(value, base=base))
        if self.language is not None:
            return ox.Literal(value, language=self.language)
        assert self.datatype is not None
        local = self.datatype[len(XSD) :]
        pattern = _CHECKS.get(local)
        if pattern is not None and not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not an xsd:{local}")
        if local == "date":
            try:
                datetime.date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a calendar date") from None
        if local == "anyURI":
            ox.NamedNode(expand_iri(value, base=base))
        if local == "string":
            return ox.Literal(value)
        return ox.Literal(value, datatype=ox.NamedNode(self.datatype))


def expand_iri(value: str, *, base: str) -> str:
    """An absolute IRI from ``value``: as given, or a cpgraph prefixed name expanded.

    Raises:
        ValueError: if ``value`` is neither an absolute IRI nor a known prefixed name.
    """
    prefix, colon, local = value.partition(":")
    table = prefixes(base)
    if colon and prefix in table and not local.startswith("//"):
        value = table[prefix] + local
    if not _SCHEME.match(value):
        raise ValueError(f"{value!r} is not an absolute IRI or a known prefixed name")
    try:
        return ox.NamedNode(value).value
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid IRI ({exc})") from None


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter of a saved query: the variable it binds and its type."""

    name: str
    variable: str
    type: ParamType
    required: bool
    default: str | None = None
    description: str = ""


def name_and_type(stem: str) -> tuple[str, ParamType]:
    """A parameter variable's name less its underscores, split into the parameter's name and
    type: ``actor_iri`` -> (``actor``, iri); ``from_xsd_gYear`` -> (``from``, xsd:gYear)."""
    if "_xsd_" in stem:
        head, _, local = stem.rpartition("_xsd_")
        found = ParamType.from_suffix(f"xsd_{local}")
        if found is not None:
            return head, found
    head, sep, suffix = stem.rpartition("_")
    if sep:
        found = ParamType.from_suffix(suffix)
        if found is not None:
            return head, found
    return stem, ParamType("string", datatype=XSD + "string")
