"""One saved query: a ``.rq`` file read into its metadata, parameters and query text.

The query text is read through the one SPARQL lexer (:mod:`cpgraph.sparql.lexer`): its
prologue, its form, the variables its SELECT projects and the parameter variables it uses.

A file is written to run as it stands under grlc and other SPARQL tools as well: it declares
its prefixes, and a parameter stands only where grlc may write a value in its place (grlc
substitutes the text ``?_name_type``), never in the SELECT clause or a GROUP BY. cpgraph binds
the values through Oxigraph's substitutions instead, and Oxigraph binds a substituted variable
only when the SELECT clause projects it; so :func:`parse_saved_query` adds each parameter the
header declares (under ``parameters`` or ``defaults``) to the projection of the query it runs,
and to its GROUP BY, and refuses an undeclared one the SELECT clause does not project, and one
used inside a sub-select that does not project it (which Oxigraph would leave unbound there).
The declarations of cpgraph's own prefixes under :data:`DEFAULT_BASE` are dropped from the
query it runs, so that ``cp:`` and ``id:`` follow a deployment's base IRI as the data does.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cpgraph.errors import InputError, ParameterError
from cpgraph.rdf import Term
from cpgraph.rdf.namespaces import DEFAULT_BASE, SH, SLUG, prefixes
from cpgraph.saved.header import (
    header_list,
    header_pairs,
    parse_header,
    split_header,
    strip_lines,
)
from cpgraph.saved.params import Parameter, name_and_type
from cpgraph.sparql.lexer import lexemes, tokens, unescape_iri

QUERIES_FOLDER = "queries"
DEFAULT_PAGE_SIZE = 100
CHARTS = ("timeline", "bars", "network", "comparison", "none")
_SIB = "https://purl.expasy.org/sparql-examples/ontology#"
_AGGREGATES = {"COUNT", "SUM", "MIN", "MAX", "AVG", "SAMPLE", "GROUP_CONCAT"}
_AFTER_GROUP_BY = {"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"}


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
    header_lines: int = 0  # the lines of the file before the first line of ``text``

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


def drop_predeclared(prologue: str) -> str:
    """``prologue`` without the declarations of cpgraph's own prefixes as they are under
    :data:`DEFAULT_BASE` (``PREFIX cp: <https://w3id.org/cpgraph/ontology#>``, ``PREFIX rdfs:
    <http://www.w3.org/2000/01/rdf-schema#>``, ...), each line kept (empty), so that a line of
    what is left is still the line it was.

    The query then runs with the prefixes cpgraph predeclares for the deployment's base, so
    that a file declaring its prefixes for grlc and the Oxigraph CLI follows the base as the
    data does. Any other declaration (another IRI for ``cp:``, a prefix of one's own) stays.
    """
    own = prefixes(DEFAULT_BASE)
    spans: list[tuple[int, int]] = []
    start, name = -1, None
    for token in tokens(prologue):
        kind, written = token.lastgroup, token.group()
        if kind == "word" and written.upper() == "PREFIX":
            start, name = token.start(), None
        elif start >= 0 and name is None and kind == "pname":
            name = written[:-1]
        elif start >= 0 and name is not None and kind == "iri":
            if own.get(name) == unescape_iri(written[1:-1]):
                spans.append((start, token.end()))
            start, name = -1, None
        else:
            start, name = -1, None
    for begin, end in reversed(spans):
        prologue = prologue[:begin] + prologue[end:]
    return prologue


def parse_saved_query(text: str, *, name: str, path: Path | None = None) -> SavedQuery:
    """A saved query from the text of its ``.rq`` file.

    Raises:
        InputError: for a bad name, header or parameter, an undeclared parameter the SELECT
            clause does not project, or a parameter inside a sub-select that does not
            project it.
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
    title = str(header.get("summary", "")).strip()
    if not title:
        raise InputError(f"{source}: the header needs a '#+ summary:'")
    defaults = header_pairs(header, "defaults", source=source)
    described = header_pairs(header, "parameters", source=source)
    if form is QueryForm.SELECT:
        body = project_parameters(body, [*described, *defaults])
    query_text, dropped = strip_lines(drop_predeclared(prologue) + body)
    header_lines += dropped
    prologue, body = split_prologue(query_text)
    variables = projection(body)
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


def project_parameters(body: str, declared: list[str]) -> str:
    """A SELECT ``body`` with the parameters named in ``declared`` (in that order) that its
    SELECT clause does not project added at the end of that clause, and to its GROUP BY (one
    made, if the query aggregates without one), each on the line where the clause ends.

    A parameter is a constant (or unbound) in every solution, so projecting it and grouping
    by it change no row. ``SELECT *`` and a parameter the SELECT clause already projects (the
    form cpgraph's files had before they ran under grlc) are left as they are.
    """
    form = _form(body)
    projected = projection(body)
    if form is None or not projected:
        return body
    variables: dict[str, str] = {}  # parameter name: its variable, in the order of the body
    for token in tokens(body):
        variable = token.group()[1:]
        if token.lastgroup == "var" and variable.startswith("_"):
            variables.setdefault(name_and_type(variable.lstrip("_"))[0], variable)
    missing = list(
        dict.fromkeys(
            variables[n] for n in declared if n in variables and variables[n] not in projected
        )
    )
    if not missing:
        return body
    added = "".join(f" ?{v}" for v in missing)
    clause_end, aggregates, where = _select_clause(body, form.end())
    group_end, grouped = _group_by(body, where)
    if grouped:
        body = body[:group_end] + added + body[group_end:]
    elif aggregates:
        body = body[:group_end] + " GROUP BY" + added + body[group_end:]
    return body[:clause_end] + added + body[clause_end:]


def _select_clause(body: str, start: int) -> tuple[int, bool, int]:
    """Where the SELECT clause that starts at ``start`` ends (after its last variable or
    expression), whether it aggregates, and where the WHERE clause's ``{`` is."""
    end, depth, aggregates = start, 0, False
    for token in tokens(body[start:]):
        kind, text = token.lastgroup, token.group()
        word = text.upper() if kind == "word" else ""
        if depth == 0 and (text == "{" or word in ("WHERE", "FROM")):
            where = next(t for t in tokens(body[start + token.start() :]) if t.group() == "{")
            return end, aggregates, start + token.start() + where.start()
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
        aggregates = aggregates or (depth > 0 and word in _AGGREGATES)
        end = start + token.end()
    return end, aggregates, len(body)


def _group_by(body: str, where: int) -> tuple[int, bool]:
    """Where the conditions of the GROUP BY after the WHERE clause that opens at ``where``
    end, and whether there is one; without one, where the WHERE clause ends."""
    depth, inside, found = 0, True, False
    end = len(body)
    for token in tokens(body[where:]):
        kind, text = token.lastgroup, token.group()
        word = text.upper() if kind == "word" else ""
        depth += 1 if kind == "open" else -1 if kind == "close" else 0
        if inside:  # the WHERE clause, up to the brace that closes it
            if depth == 0:
                inside, end = False, where + token.end()
            continue
        if not found and word != "GROUP":
            break
        if depth == 0 and word in _AFTER_GROUP_BY:
            break
        if word not in ("GROUP", "BY"):
            end = where + token.end()
        found = True
    return end, found


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
            SELECT does not project or a sub-select uses without projecting it, or a default
            or description of no parameter.
    """
    params: dict[str, Parameter] = {}
    subselects = _subselects(body)
    seen = list(tokens(body))
    for index, token in enumerate(seen):
        if token.lastgroup != "var":
            continue
        variable = token.group()[1:]
        if not variable.startswith("_"):
            continue
        after = seen[index + 1].group().upper() if index + 1 < len(seen) else ""
        if index and seen[index - 1].group() == "(" and after == "AS":
            raise InputError(
                f"{source}: (?{variable} AS ?y) leaves ?y unbound (Oxigraph takes ?y for "
                f"another name of ?{variable}, which its substitution does not bind): use the "
                f"parameter itself, or compare with it (FILTER(?y = ?{variable}))"
            )
        inner = next(
            (s for s in subselects if s[0] <= token.start() < s[1] and variable not in s[2]), None
        )
        if inner is not None:
            raise InputError(
                f"{source}: the parameter variable ?{variable} is used inside a sub-select that "
                "does not project it, where Oxigraph leaves it unbound: use it in the outer "
                "query (join the sub-select's answer with it there)"
            )
        if variable in {p.variable for p in params.values()}:
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
                "(Oxigraph binds only projected variables), or be declared in the header "
                f"('#+ parameters:' or '#+ defaults:') for cpgraph to project it"
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


def _subselects(body: str) -> list[tuple[int, int, tuple[str, ...]]]:
    """The sub-selects of a query ``body``: where each starts and ends, and what it projects
    (nothing for ``SELECT *``, which projects whatever its pattern binds)."""
    found: list[tuple[int, int, tuple[str, ...]]] = []
    opened: list[int] = []  # the groups open, by where each opened
    starts: dict[int, int] = {}  # a group that holds a sub-select: where the SELECT is
    outer = _form(body)
    for token in tokens(body):
        kind, text = token.lastgroup, token.group()
        if text == "{":
            opened.append(token.start())
        elif text == "}" and opened:
            group = opened.pop()
            if group in starts:
                start = starts.pop(group)
                found.append((start, token.start(), projection(body[start : token.start()])))
        elif (
            kind == "word"
            and text.upper() == "SELECT"
            and opened
            and (outer is None or token.start() != outer.start())
        ):
            starts.setdefault(opened[-1], token.start())
    return [s for s in found if s[2]]
