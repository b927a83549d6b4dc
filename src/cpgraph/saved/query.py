"""One saved query: a ``.rq`` file read into its metadata, parameters and query text.

The query text is read through the one SPARQL lexer (:mod:`cpgraph.sparql.lexer`): its
prologue, its form, the variables its SELECT projects and the parameter variables it uses.
Oxigraph binds a substituted variable only when the SELECT clause projects it, so
:func:`parse_saved_query` refuses a parameter the SELECT clause does not project.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cpgraph.errors import InputError, ParameterError
from cpgraph.rdf import Term
from cpgraph.rdf.namespaces import DEFAULT_BASE, SH, SLUG
from cpgraph.saved.header import header_list, header_pairs, parse_header, split_header
from cpgraph.saved.params import Parameter, name_and_type
from cpgraph.sparql.lexer import lexemes, tokens

QUERIES_FOLDER = "queries"
DEFAULT_PAGE_SIZE = 100
CHARTS = ("timeline", "bars", "network", "none")
_SIB = "https://purl.expasy.org/sparql-examples/ontology#"


class QueryForm(enum.Enum):
    """What a saved query returns, by its query form."""

    SELECT = "select"
    ASK = "ask"
    CONSTRUCT = "construct"
    DESCRIBE = "describe"

    @property
    def executable_class(self) -> str:
        """The SHACL (or SIB) class of an executable of this form."""
        if self is QueryForm.DESCRIBE:
            return _SIB + "DescribeExecutable"
        return f"{SH}SPARQL{self.name.capitalize()}Executable"

    @property
    def text_property(self) -> str:
        """The property that holds the query text of this form."""
        return (_SIB if self is QueryForm.DESCRIBE else SH) + self.value


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
        """The query text for one page of a SELECT's solutions, one row more than the page so
        that the caller learns whether another page follows: the saved query as the
        sub-select of ``SELECT <its variables> { ... }`` with a LIMIT and OFFSET.

        Composing text is safe here: the query is the library's own, the two numbers are
        positive integers formatted with ``%d``, and parameter values are bound as terms.
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


def split_prologue(text: str) -> tuple[str, str]:
    """``text`` split into its prologue (PREFIX and BASE declarations, and the whitespace and
    comments around them) and the query after it."""
    end = 0  # where the prologue read so far ends
    item = -1  # where the declaration being read starts; -1 between declarations
    expect = ""  # what that declaration needs next: "name" (PREFIX's) or "iri"
    for lexeme in lexemes(text):
        kind = lexeme.lastgroup
        if kind in ("ws", "comment"):
            continue
        written = lexeme.group()
        word = written.upper() if kind == "word" else ""
        if item < 0 and word in ("PREFIX", "BASE"):
            item, expect = lexeme.start(), "name" if word == "PREFIX" else "iri"
        elif expect == "name" and kind == "pname" and written.index(":") == len(written) - 1:
            expect = "iri"  # the prefix's name: a prefixed name with no local part
        elif expect == "iri" and kind == "iri":
            item, expect = -1, ""
        else:
            end = item if item >= 0 else lexeme.start()
            break
    else:
        end = item if item >= 0 else len(text)
    return text[:end], text[end:]


def _form(body: str) -> re.Match[str] | None:
    """The word that gives ``body`` its form (``SELECT``, ``ASK``, ...), if any."""
    forms = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
    return next(
        (t for t in tokens(body) if t.lastgroup == "word" and t.group().upper() in forms), None
    )


def projection(body: str) -> tuple[str, ...]:
    """The variables a SELECT projects, in order (empty for ``SELECT *`` and other forms)."""
    form = _form(body)
    if form is None or form.group().upper() != "SELECT":
        return ()
    names: list[str] = []
    depth = 0
    last = [("", ""), ("", "")]  # the two tokens before this one: kind, text (a word upper-cased)
    for token in tokens(body[form.end() :]):
        kind, text = token.lastgroup or "", token.group()
        if depth == 0 and (text == "{" or (kind == "word" and text.upper() == "WHERE")):
            break
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0 and last[0] == ("word", "AS") and last[1][0] == "var":
                names.append(last[1][1][1:])  # (expression AS ?name)
        elif depth == 0 and text == "*":
            return ()
        elif depth == 0 and kind == "var":
            names.append(text[1:])
        last = [last[1], (kind, text.upper() if kind == "word" else text)]
    return tuple(names)


def parse_saved_query(text: str, *, name: str, path: Path | None = None) -> SavedQuery:
    """A saved query from the text of its ``.rq`` file.

    Raises:
        InputError: for a bad name, header or parameter, or a parameter the SELECT clause
            does not project.
    """
    source = str(path) if path is not None else name
    if not SLUG.fullmatch(name):
        raise InputError(f"{source}: a saved query's name is a lower-case slug, not {name!r}")
    header = parse_header(text, source=source)
    query_text, header_lines = split_header(text)
    prologue, body = split_prologue(query_text)
    form_word = _form(body)
    if form_word is None:
        raise InputError(f"{source}: no SELECT, ASK, CONSTRUCT or DESCRIBE")
    form = QueryForm(form_word.group().lower())
    variables = projection(body)
    title = str(header.get("summary", "")).strip()
    if not title:
        raise InputError(f"{source}: the header needs a '#+ summary:'")
    defaults = header_pairs(header, "defaults", source=source)
    described = header_pairs(header, "parameters", source=source)
    params = _parameters(body, form, variables, defaults, described, source=source)
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
        tags=tuple(t.strip() for t in header_list(header, "tags") if t.strip()),
        parameters=params,
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
                param.type.term(param.default, base=DEFAULT_BASE)
            except ValueError as exc:
                raise InputError(f"{source}: the default of {param.name!r}: {exc}") from None
    return query


def _parameters(
    body: str,
    form: QueryForm,
    variables: tuple[str, ...],
    defaults: Mapping[str, str],
    described: Mapping[str, str],
    *,
    source: str,
) -> tuple[Parameter, ...]:
    """The parameters of a query ``body``: its variables whose names start with ``_``.

    Raises:
        InputError: for a variable that names no parameter, two for one parameter, one the
            SELECT does not project, or a default or description of no parameter.
    """
    params: dict[str, Parameter] = {}
    for token in tokens(body):
        if token.lastgroup != "var":
            continue
        variable = token.group()[1:]
        if not variable.startswith("_") or variable in {p.variable for p in params.values()}:
            continue
        required = not variable.startswith("__")
        pname, ptype = name_and_type(variable.lstrip("_"))
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
    return tuple(params.values())
