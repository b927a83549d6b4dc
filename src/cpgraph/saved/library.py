"""Saved queries: the library of research questions in ``queries/*.rq``.

Each file is one SPARQL query with a metadata header in grlc's ``#+`` decorator style::

    #+ summary: Timeline of policy instruments: what was issued, when, by whom
    #+ description: Every instrument with the date a source gives for it, oldest first.
    #+   A continuation line is indented and joins the line above.
    #+ tags:
    #+   - timeline
    #+   - instruments
    #+ defaults:
    #+   - actor: https://w3id.org/cpgraph/id/org/sepa
    #+ parameters:
    #+   - actor: the actor that issued the instruments
    #+ chart: timeline
    SELECT ...

The header is read by this module's own small parser (no YAML): a key is split from its value
at the *first* colon only, so a colon inside a summary or description survives. Keys are
``summary``, ``description``, ``tags``, ``defaults``, ``parameters`` (a description per
parameter), ``chart`` (``timeline``, ``bars``, ``network`` or ``none``), ``pagination`` (the
default page size) and grlc's ``endpoint`` and ``method`` (read and ignored); any other key is
an error, so a typo does not pass silently.

Parameters follow the grlc / BASIL convention: a variable ``?_name_type`` is a required
parameter ``name``, ``?__name_type`` an optional one. The type suffix is ``iri``, ``integer``,
``decimal``, ``boolean``, ``string``, ``xsd_<datatype>`` (``date``, ``gYear``,
``gYearMonth``, ``integer``, ``decimal``, ``boolean``, ``string``, ``anyURI``) or a two-letter
language tag (``en``, ``zh``); without one, the value is a plain string. Values are checked
against their type and bound as RDF terms through the store's substitutions: a value never
becomes query text.

Oxigraph binds a substituted variable only when the SELECT clause projects it, and folds
``BOUND(?x)`` and a bare ``BIND(?x AS ?y)`` of a substituted variable at planning time. So a
saved query projects its parameter variables (they come back as columns; pages and charts hide
columns whose names start with ``_``) and never tests one with ``BOUND``. An optional
parameter is tested with ``COALESCE``: ``FILTER(COALESCE(?year = ?__year_integer, true))``
for a comparison, and ``FILTER(COALESCE(STR(?__actor_iri), "") = "" || EXISTS { ... })`` for a
pattern (an ``EXISTS`` with an unbound variable matches anything, so it cannot stand alone).
:func:`parse_saved_query` refuses a parameter the SELECT clause does not project.

The same metadata is published as RDF in the SIB ``sparql-examples`` convention
(:func:`examples_quads`), in the named graph ``<base>graph/queries``.
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from cpgraph.errors import (
    CpgraphError,
    InputError,
    NotFoundError,
    ParameterError,
    QuerySyntaxError,
    RemoteEndpointError,
)
from cpgraph.rdf.namespaces import DCTERMS, PROV, RDF, RDFS, SCHEMA, SH, XSD, graph_iri, prefixes
from cpgraph.sparql.text import without_calls
from cpgraph.store.embedded import GraphStore, QueryResult
from cpgraph.web.charts import ResultTable

QUERIES_FOLDER = "queries"
QUERIES_GRAPH = "queries"
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
DEFAULT_PAGE_SIZE = 100
CHARTS = ("timeline", "bars", "network", "none")
KNOWN_KEYS = {
    "summary",
    "description",
    "tags",
    "defaults",
    "parameters",
    "chart",
    "pagination",
    "endpoint",
    "method",
}
LIST_KEYS = {"tags", "defaults", "parameters"}
Term = ox.NamedNode | ox.BlankNode | ox.Literal


class QueryForm(enum.Enum):
    """What a saved query returns, by its query form."""

    SELECT = "select"
    ASK = "ask"
    CONSTRUCT = "construct"
    DESCRIBE = "describe"

    @property
    def executable_class(self) -> str:
        """The SHACL (or SIB) class of an executable of this form."""
        return {
            QueryForm.SELECT: SH + "SPARQLSelectExecutable",
            QueryForm.ASK: SH + "SPARQLAskExecutable",
            QueryForm.CONSTRUCT: SH + "SPARQLConstructExecutable",
            QueryForm.DESCRIBE: "https://purl.expasy.org/sparql-examples/ontology#DescribeExecutable",
        }[self]

    @property
    def text_property(self) -> str:
        """The property that holds the query text of this form."""
        return {
            QueryForm.SELECT: SH + "select",
            QueryForm.ASK: SH + "ask",
            QueryForm.CONSTRUCT: SH + "construct",
            QueryForm.DESCRIBE: "https://purl.expasy.org/sparql-examples/ontology#describe",
        }[self]


# ---------------------------------------------------------------------------------------------
# Parameter types
# ---------------------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_BOOLEAN = re.compile(r"true|false|1|0")
_GYEAR = re.compile(r"-?[0-9]{4}")
_GYEARMONTH = re.compile(r"-?[0-9]{4}-(?:0[1-9]|1[0-2])")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LANGUAGE = re.compile(r"[a-z]{2}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_XSD_TYPES = ("string", "integer", "decimal", "boolean", "date", "gYear", "gYearMonth", "anyURI")


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
        local = (self.datatype or "")[len(XSD) :] if self.datatype else ""
        if self.iri:
            return {"type": "string", "format": "iri"}
        if local == "integer":
            return {"type": "integer"}
        if local == "decimal":
            return {"type": "number"}
        if local == "boolean":
            return {"type": "boolean"}
        if local == "date":
            return {"type": "string", "format": "date"}
        if local == "gYear":
            return {"type": "string", "pattern": "^-?[0-9]{4}$"}
        if local == "gYearMonth":
            return {"type": "string", "pattern": "^-?[0-9]{4}-(0[1-9]|1[0-2])$"}
        if local == "anyURI":
            return {"type": "string", "format": "uri"}
        return {"type": "string"}

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
        checks = {
            "integer": _INTEGER,
            "decimal": _DECIMAL,
            "boolean": _BOOLEAN,
            "gYear": _GYEAR,
            "gYearMonth": _GYEARMONTH,
            "date": _DATE,
        }
        pattern = checks.get(local)
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


# ---------------------------------------------------------------------------------------------
# The saved query and its header
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SavedQuery:
    """A parsed ``.rq`` file: metadata, parameters and the query text."""

    name: str
    title: str
    description: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    text: str
    form: QueryForm
    variables: tuple[str, ...] = ()
    chart: str | None = None
    page_size: int = DEFAULT_PAGE_SIZE
    path: Path | None = None
    prologue: str = ""
    body: str = field(default="", repr=False)
    header_lines: int = 0

    def parameter(self, name: str) -> Parameter | None:
        """The parameter called ``name``, if any."""
        return next((p for p in self.parameters if p.name == name), None)

    def iri(self, base: str) -> str:
        """The IRI of this query as an example in the SIB convention."""
        return f"{base}{QUERIES_FOLDER}/{self.name}"

    def bind(self, values: Mapping[str, str], *, base: str) -> dict[str, Term]:
        """The substitutions for ``values`` (parameter name to text), defaults filled in.

        Raises:
            ParameterError: (HTTP 422) naming the parameter, for an unknown parameter, a
                missing required one, or a value of the wrong type.
        """
        for name in values:
            if self.parameter(name) is None:
                known = ", ".join(p.name for p in self.parameters) or "none"
                raise ParameterError(
                    f"{self.name} has no parameter {name!r} (its parameters: {known})",
                    parameter=name,
                )
        bound: dict[str, Term] = {}
        for param in self.parameters:
            value = values.get(param.name)
            if value is None or value == "":
                value = param.default
            if value is None:
                if param.required:
                    raise ParameterError(
                        f"the parameter {param.name!r} ({param.type.name}) is required",
                        parameter=param.name,
                    )
                continue
            try:
                bound[param.variable] = param.type.term(value, base=base)
            except ValueError as exc:
                raise ParameterError(
                    f"the parameter {param.name!r} takes a value of type {param.type.name}: {exc}",
                    parameter=param.name,
                ) from None
        return bound

    def page(self, *, page: int, per_page: int) -> str:
        """The query text for one page of a SELECT's solutions (one row more than the page,
        so that the caller learns whether another page follows).

        The saved query is the inner sub-select of ``SELECT <its variables> { ... }`` with a
        LIMIT and OFFSET. Composing text here is safe: the query is the library's own, and
        the two numbers are validated positive integers, formatted with ``%d``; parameter
        values are never written into the text (they are bound as terms).
        """
        if self.form is not QueryForm.SELECT:
            return self.text
        if page < 1 or per_page < 1:
            raise ValueError("page and per_page are positive")
        projection = " ".join(f"?{v}" for v in self.variables) if self.variables else "*"
        offset = (page - 1) * per_page
        return "%sSELECT %s WHERE {\n{\n%s\n}\n}\nLIMIT %d OFFSET %d\n" % (  # noqa: UP031
            self.prologue,
            projection,
            self.body,
            per_page + 1,
            offset,
        )


@dataclass(frozen=True, slots=True)
class Library:
    """The saved queries, by name, in file-name order."""

    queries: tuple[SavedQuery, ...] = ()

    def __iter__(self) -> Iterator[SavedQuery]:
        return iter(self.queries)

    def __len__(self) -> int:
        return len(self.queries)

    def names(self) -> list[str]:
        """Every query's name."""
        return [q.name for q in self.queries]

    def get(self, name: str) -> SavedQuery:
        """The query called ``name``.

        Raises:
            NotFoundError: if there is none.
        """
        for query in self.queries:
            if query.name == name:
                return query
        raise NotFoundError(f"no saved query {name!r}; GET /queries lists them")

    def tags(self) -> list[str]:
        """Every tag used, sorted."""
        return sorted({t for q in self.queries for t in q.tags})


def parse_header(text: str, *, source: str = "query") -> dict[str, str | list[str]]:
    """The ``#+`` decorators at the top of ``text``, as scalars and lists of strings.

    Raises:
        InputError: for an unknown key, a list item outside a list, or a malformed line.
    """
    header: dict[str, str | list[str]] = {}
    key: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#+"):
            if line.strip() == "" and not header:
                continue
            break
        content = line[2:]
        stripped = content.strip()
        if not stripped:
            continue
        if stripped.startswith("- "):
            if key is None or not isinstance(header.get(key), list):
                raise InputError(f"{source}: line {number}: a list item outside a list")
            items = header[key]
            assert isinstance(items, list)
            items.append(_unquote(stripped[2:].strip()))
            continue
        if content.startswith(("  ", "\t")) and key is not None:
            value = header.get(key)
            if isinstance(value, str):  # a continuation line of a scalar
                header[key] = stripped if value in ("", "|", ">") else f"{value} {stripped}"
                continue
        name, colon, value = stripped.partition(":")
        name = name.strip()
        if not colon or not re.fullmatch(r"[A-Za-z_]+", name):
            raise InputError(f"{source}: line {number}: expected 'key: value', got {stripped!r}")
        if name not in KNOWN_KEYS:
            raise InputError(
                f"{source}: line {number}: unknown header key {name!r} "
                f"(known: {', '.join(sorted(KNOWN_KEYS))})"
            )
        key = name
        value = value.strip()
        if name in LIST_KEYS:
            header[name] = [] if not value else [_unquote(v.strip()) for v in _inline_list(value)]
        else:
            header[name] = _unquote(value)
    for name, value in header.items():
        if value in ("|", ">"):
            header[name] = ""
    return header


def _inline_list(value: str) -> list[str]:
    if value.startswith("[") and value.endswith("]"):
        return [v for v in value[1:-1].split(",") if v.strip()]
    return [value]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _pairs(items: Iterable[str], *, key: str, source: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in items:
        name, colon, value = item.partition(":")
        if not colon:
            raise InputError(f"{source}: '{key}' items are 'name: value', got {item!r}")
        pairs[name.strip()] = _unquote(value.strip())
    return pairs


def mask(text: str) -> str:
    """``text`` with comments, string literals and IRIs blanked out (same length), so that
    keywords and variables can be found by pattern without matching inside them."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out[i:j] = " " * (j - i)
            i = j
        elif c == "<" and re.match(r"<[^<>\"{}|^`\\\s]*>", text[i:]):
            j = text.index(">", i) + 1
            out[i + 1 : j - 1] = " " * (j - i - 2)
            i = j
        elif c in "\"'":
            quote = text[i : i + 3] if text[i : i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            j = min(n, j + len(quote))
            out[i + len(quote) : j - len(quote)] = " " * max(0, j - i - 2 * len(quote))
            i = j
        else:
            i += 1
    return "".join(out)


_PROLOGUE_ITEM = re.compile(r"\s*(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>)", re.IGNORECASE)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_VARIABLE = re.compile(r"[?$]([A-Za-z0-9_]+)")


def split_prologue(text: str) -> tuple[str, str]:
    """``text`` split into its prologue (PREFIX and BASE declarations, comments) and the
    query after it."""
    masked = mask(text)
    end = 0
    while True:
        match = _PROLOGUE_ITEM.match(masked, end)
        if match is None:
            break
        end = match.end()
    while end < len(masked) and masked[end].isspace():
        end += 1
    # Comments are blanked in the masked text, so a comment line counts as white space.
    return text[:end], text[end:]


def projection(body: str) -> tuple[str, ...]:
    """The variables a SELECT projects, in order (empty for ``SELECT *`` and other forms)."""
    masked = mask(body)
    form = _FORM.search(masked)
    if form is None or form.group(1).upper() != "SELECT":
        return ()
    names: list[str] = []
    depth, start, i = 0, 0, form.end()
    while i < len(masked):
        c = masked[i]
        if depth == 0 and (c == "{" or re.match(r"WHERE\b", masked[i:], re.IGNORECASE)):
            break
        if c == "(":
            depth += 1
            start = i if depth == 1 else start
        elif c == ")":
            depth -= 1
            if depth == 0:
                alias = re.search(r"\bAS\s+[?$](\w+)\s*$", masked[start + 1 : i], re.IGNORECASE)
                if alias is not None:
                    names.append(alias.group(1))
        elif depth == 0 and c == "*":
            return ()
        elif depth == 0 and c in "?$":
            match = _VARIABLE.match(masked, i)
            if match is not None:
                names.append(match.group(1))
                i = match.end()
                continue
        i += 1
    return tuple(names)


def parse_saved_query(text: str, *, name: str, path: Path | None = None) -> SavedQuery:
    """A saved query from the text of its ``.rq`` file.

    Raises:
        InputError: for a bad name, header or parameter, or a parameter the SELECT clause
            does not project.
    """
    source = str(path) if path is not None else name
    if not NAME.fullmatch(name):
        raise InputError(f"{source}: a saved query's name is a lower-case slug, not {name!r}")
    header = parse_header(text, source=source)
    lines = text.splitlines(keepends=True)
    header_lines = 0
    for line in lines:
        if not (line.startswith("#+") or (not line.strip() and header_lines == 0)):
            break
        header_lines += 1
    query_text = "".join(line for line in lines if not line.startswith("#+")).strip() + "\n"
    prologue, body = split_prologue(query_text)
    form_match = _FORM.search(mask(body))
    if form_match is None:
        raise InputError(f"{source}: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    form = QueryForm(form_match.group(1).lower())
    variables = projection(body)
    title = str(header.get("summary", "")).strip()
    if not title:
        raise InputError(f"{source}: the header needs a '#+ summary:'")
    defaults = _pairs(_list(header, "defaults"), key="defaults", source=source)
    described = _pairs(_list(header, "parameters"), key="parameters", source=source)
    params: dict[str, Parameter] = {}
    for match in _VARIABLE.finditer(mask(body)):
        variable = match.group(1)
        if not variable.startswith("_") or variable in {p.variable for p in params.values()}:
            continue
        required = not variable.startswith("__")
        stem = variable.lstrip("_")
        pname, ptype = _name_and_type(stem)
        if not pname:
            raise InputError(f"{source}: ?{variable} names no parameter")
        if pname in params:
            raise InputError(f"{source}: two variables for the parameter {pname!r}")
        if form is QueryForm.SELECT and variable not in variables:
            raise InputError(
                f"{source}: the parameter variable ?{variable} must be in the SELECT clause "
                "(Oxigraph binds only projected variables)"
            )
        params[pname] = Parameter(
            name=pname,
            variable=variable,
            type=ptype,
            required=required,
            default=defaults.get(pname),
            description=described.get(pname, ""),
        )
    for key, table in (("defaults", defaults), ("parameters", described)):
        unknown = set(table) - set(params)
        if unknown:
            raise InputError(f"{source}: '{key}' names no parameter: {', '.join(sorted(unknown))}")
    chart = str(header.get("chart", "")).strip() or None
    if chart is not None and chart not in CHARTS:
        raise InputError(f"{source}: chart is one of {', '.join(CHARTS)}, not {chart!r}")
    page_size = str(header.get("pagination", "")).strip()
    if page_size and not page_size.isdigit():
        raise InputError(f"{source}: pagination is a number of rows, not {page_size!r}")
    query = SavedQuery(
        name=name,
        title=title,
        description=str(header.get("description", "")).strip(),
        tags=tuple(t.strip() for t in _list(header, "tags") if t.strip()),
        parameters=tuple(params.values()),
        text=query_text,
        form=form,
        variables=variables,
        chart=chart,
        page_size=int(page_size) if page_size else DEFAULT_PAGE_SIZE,
        path=path,
        prologue=prologue,
        body=body.rstrip(),
        header_lines=header_lines,
    )
    for param in query.parameters:
        if param.default is not None:
            try:
                param.type.term(param.default, base="https://w3id.org/cpgraph/")
            except ValueError as exc:
                raise InputError(f"{source}: the default of {param.name!r}: {exc}") from None
    return query


def _list(header: Mapping[str, str | list[str]], key: str) -> list[str]:
    value = header.get(key, [])
    return [value] if isinstance(value, str) and value else list(value or [])


def _name_and_type(stem: str) -> tuple[str, ParamType]:
    """``actor_iri`` -> (``actor``, iri); ``from_xsd_gYear`` -> (``from``, xsd:gYear)."""
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


def load_library(folder: Path) -> Library:
    """Every ``*.rq`` file in ``folder`` (none when the folder does not exist), checked.

    Each query is also parsed by Oxigraph (run on an empty store with its defaults bound), so
    a library that loads is a library of well-formed queries.

    Raises:
        InputError: for a malformed header, parameter or query (file, line and column).
    """
    if not folder.is_dir():
        return Library()
    queries = []
    for path in sorted(folder.glob("*.rq")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from None
        query = parse_saved_query(text, name=path.stem, path=path)
        check_syntax(query)
        queries.append(query)
    return Library(tuple(queries))


def check_syntax(query: SavedQuery) -> None:
    """Parse ``query`` (plain, and one page of it) with Oxigraph, its defaults bound.

    Raises:
        QuerySyntaxError: naming the file, with line and column.
        InputError: if Oxigraph refuses a parameter binding.
    """
    store = GraphStore(None)
    base = "https://w3id.org/cpgraph/"
    bound = {p.variable: p.type.term(p.default, base=base) for p in query.parameters if p.default}
    for text in (query.text, query.page(page=1, per_page=1)):
        try:
            # Evaluated (pyoxigraph only parses by evaluating), on an empty store, with no
            # SERVICE endpoint left to call.
            store.query(without_calls(text), prefixes=prefixes(base), substitutions=bound)
        except RemoteEndpointError:
            pass  # the SERVICE made a variable, unbound: the syntax is fine
        except QuerySyntaxError as exc:
            line = exc.line + query.header_lines if exc.line is not None else None
            source = str(query.path or query.name)
            if text is not query.text:
                source += " (as one page)"
            raise QuerySyntaxError(
                exc.reason, line=line, column=exc.column, source=source
            ) from None
        except CpgraphError as exc:
            raise type(exc)(f"{query.path or query.name}: {exc.message}") from None
        except RuntimeError as exc:
            raise InputError(f"{query.path or query.name}: {exc}") from None


def result_table(data: bytes) -> ResultTable:
    """A SPARQL JSON result (as the worker pool sends it) as a table in memory."""
    solutions = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    if not isinstance(solutions, ox.QuerySolutions):
        return ResultTable((), ())
    variables = tuple(v.value for v in solutions.variables)
    rows = []
    for solution in solutions:
        row = {}
        for name in variables:
            value = solution[name]
            if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal):
                row[name] = value
        rows.append(row)
    return ResultTable(variables, tuple(rows))


def run_saved(
    store: GraphStore, query: SavedQuery, values: Mapping[str, str], *, base: str
) -> QueryResult:
    """Run ``query`` on ``store`` with ``values`` bound (the command line's way).

    Raises:
        ParameterError: for a bad parameter; QuerySyntaxError, StoreError: as the store.
    """
    return store.query(
        query.text, prefixes=prefixes(base), substitutions=query.bind(values, base=base)
    )


def library_folder(source_dir: Path) -> Path:
    """Where the saved queries of a source tree are: ``<source_dir>/queries``."""
    return source_dir / QUERIES_FOLDER


# ---------------------------------------------------------------------------------------------
# The library as RDF: SIB sparql-examples
# ---------------------------------------------------------------------------------------------


def examples_quads(library: Library, *, base: str) -> list[ox.Quad]:
    """The saved queries as SPARQL examples (SIB convention) in ``<base>graph/queries``.

    Each query is a ``sh:SPARQLExecutable`` (and ``sh:SPARQLSelectExecutable`` or the class
    of its form) with its title as ``rdfs:label``, its description as ``rdfs:comment``, its
    text as ``sh:select`` (without the header), its tags as ``schema:keywords``, the
    endpoint as ``schema:target`` and the prefixes it may use as ``sh:prefixes``.
    """
    graph = ox.NamedNode(graph_iri(QUERIES_GRAPH, base))
    declarations = ox.NamedNode(f"{graph.value}#prefixes")
    quads: list[ox.Quad] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: Term) -> None:
        quads.append(ox.Quad(s, ox.NamedNode(p), o, graph))

    add(graph, RDF + "type", ox.NamedNode(f"{base}ontology#CurationGraph"))
    add(graph, PROV + "wasAttributedTo", ox.NamedNode(f"{base}id/org/cpgraph-curators"))
    add(
        graph,
        RDFS + "comment",
        ox.Literal(
            "The saved queries of cpgraph as SPARQL examples (SIB sparql-examples "
            "convention), generated from the queries/ folder at build time.",
            language="en",
        ),
    )
    for prefix, namespace in sorted(prefixes(base).items()):
        declaration = ox.BlankNode(f"prefix{prefix}")
        add(declarations, SH + "declare", declaration)
        add(declaration, SH + "prefix", ox.Literal(prefix))
        add(
            declaration,
            SH + "namespace",
            ox.Literal(namespace, datatype=ox.NamedNode(XSD + "anyURI")),
        )
    for query in library:
        node = ox.NamedNode(query.iri(base))
        add(node, RDF + "type", ox.NamedNode(SH + "SPARQLExecutable"))
        add(node, RDF + "type", ox.NamedNode(query.form.executable_class))
        add(node, RDFS + "label", ox.Literal(query.title, language="en"))
        add(node, RDFS + "comment", ox.Literal(query.description or query.title, language="en"))
        add(node, query.form.text_property, ox.Literal(query.text))
        add(node, SH + "prefixes", declarations)
        add(node, SCHEMA + "target", ox.NamedNode(f"{base}sparql"))
        add(node, DCTERMS + "identifier", ox.Literal(query.name))
        for tag in query.tags:
            add(node, SCHEMA + "keywords", ox.Literal(tag))
    return quads


def saved_query_quads(source_dir: Path, *, base: str) -> list[ox.Quad]:
    """The examples graph of the library in ``source_dir`` (for the build).

    Raises:
        InputError, QuerySyntaxError: if a saved query is malformed.
    """
    return examples_quads(load_library(library_folder(source_dir)), base=base)


__all__ = [
    "Library",
    "ParamType",
    "Parameter",
    "QueryForm",
    "SavedQuery",
    "examples_quads",
    "load_library",
    "parse_saved_query",
    "saved_query_quads",
]
