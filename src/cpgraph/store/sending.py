"""Query text as cpgraph sends it to another store: checked here, its prologue and parameters
written out, and read for the dataset it names (:mod:`cpgraph.store.remote`).

What the embedded store is given as options (the predeclared prefixes, a base IRI, bound
variables) another store must be given in the text itself; and a syntax error is reported
here, by Oxigraph's parser, so that it reads the same whatever the store.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Literal
from urllib.parse import urljoin

import pyoxigraph as ox

from cpgraph.errors import InputError, QuerySyntaxError
from cpgraph.rdf import Term
from cpgraph.rdf.io import query_syntax_error
from cpgraph.sparql.lexer import tokens, unescape_iri
from cpgraph.sparql.text import dataset_clauses
from cpgraph.store.datasets import query_options
from cpgraph.store.union import DEFAULT, Layout

_EMPTY = ox.Store()  # parses queries: it holds nothing, so nothing is evaluated on data
_LAYOUT = Layout(merged=True, kept=DEFAULT, visible=None)  # only the query's own dataset is read


def _words(sparql: str) -> set[str]:
    return {t.group().upper() for t in tokens(sparql) if t.lastgroup == "word"}


def check_syntax(sparql: str, base_iri: str | None, prefixes: dict[str, str] | None) -> None:
    """Refuse a malformed query with its line and column. A query calling SERVICE is left to
    the store: parsing it here would call out.

    Raises:
        QuerySyntaxError: if the query is malformed.
    """
    if "SERVICE" in _words(sparql):
        return
    try:
        _EMPTY.query(sparql, base_iri=base_iri, prefixes=prefixes)
    except SyntaxError as exc:
        raise query_syntax_error(exc) from None
    except ValueError as exc:  # a malformed base IRI or prefix, as the embedded store says
        raise QuerySyntaxError(str(exc)) from None
    except (OSError, RuntimeError, TypeError):
        pass  # an evaluation error on no data: only the syntax counts here


def prologue(base_iri: str | None, prefixes: dict[str, str] | None) -> str:
    """``BASE`` and ``PREFIX`` lines to put before a query (its own declarations come after
    them, and win).

    >>> prologue("http://ex.org/", {"ex": "http://ex.org/ns#"})
    'BASE <http://ex.org/>\\nPREFIX ex: <http://ex.org/ns#>\\n'
    """
    lines = [f"BASE {ox.NamedNode(base_iri)}"] if base_iri else []
    lines += [f"PREFIX {p}: {ox.NamedNode(iri)}" for p, iri in (prefixes or {}).items()]
    return "".join(line + "\n" for line in lines)


def with_values(text: str, substitutions: dict[str, Term]) -> str:
    """``text`` with variables bound by a ``VALUES`` block that opens its WHERE clause, so
    that every pattern and ``BIND`` after it sees them bound.

    >>> with_values("SELECT ?x { ?x ?p ?o }", {"p": ox.NamedNode("http://ex.org/p")})
    'SELECT ?x { VALUES (?p) { (<http://ex.org/p>) } ?x ?p ?o }'

    Raises:
        InputError: if a value is a blank node (no query can name one), or the text has no
            WHERE clause.
    """
    if any(isinstance(t, ox.BlankNode) for t in substitutions.values()):
        raise InputError("a blank node cannot be bound in a query sent to another store")
    names = " ".join(f"?{name}" for name in substitutions)
    values = " ".join(str(term) for term in substitutions.values())
    block = f" VALUES ({names}) {{ ({values}) }}"
    depth, where, construct, opened = 0, False, False, 0
    for token in tokens(text):
        word = token.group()
        if depth == 0 and token.lastgroup == "word":
            where = where or word.upper() == "WHERE"
            construct = construct or word.upper() == "CONSTRUCT"
        if word == "{":
            if depth == 0:
                opened += 1
                if where or not construct or opened == 2:  # a CONSTRUCT's template first
                    return text[: token.end()] + block + text[token.end() :]
            depth += 1
        elif word == "}":
            depth -= 1
    raise InputError("the query has no WHERE clause to bind its parameters in")


def query_dataset(
    sparql: str,
    default_graphs: Iterable[str] | None,
    named_graphs: Iterable[str] | None,
    base_iri: str | None,
    prefixes: dict[str, str] | None,
) -> tuple[list[str], list[str]] | Literal["unread"] | None:
    """The dataset a query reads as the embedded store reads it: the protocol's if it names
    one (which replaces the query's own whole), else the query's own ``FROM`` and ``FROM
    NAMED`` (their IRIs resolved by Oxigraph), as its default graphs and its named graphs;
    None if neither names one, ``"unread"`` if the query's clauses cannot be read for sure
    (it is then sent as written).

    >>> query_dataset("SELECT * FROM <urn:a> FROM NAMED <urn:b> {}", None, None, None, None)
    (['urn:a'], ['urn:b'])
    >>> query_dataset("SELECT * {}", [], None, None, None) is None
    True
    """
    defaults = [] if default_graphs is None else list(default_graphs)
    if defaults or named_graphs is not None:
        return list(dict.fromkeys(defaults)), list(dict.fromkeys(named_graphs or ()))
    if "from" not in sparql.lower():
        return None
    options = query_options(sparql, True, None, None, base_iri, None, prefixes, _LAYOUT)
    if "default_graph" in options:
        return (
            [g.value for g in options["default_graph"]],
            [g.value for g in options["named_graphs"]],
        )
    found = dataset_clauses(sparql)
    return None if found is not None and not found[1] else "unread"


def without_dataset(sparql: str) -> str:
    """``sparql`` without its own ``FROM`` and ``FROM NAMED`` clauses, for a store given the
    dataset by the protocol (Virtuoso reads both, and ranges ``GRAPH ?g`` over all its graphs
    when a query has ``FROM`` and no ``FROM NAMED``).

    >>> without_dataset("SELECT * FROM <urn:a> FROM NAMED :b WHERE { ?s ?p ?o }")
    'SELECT *   WHERE { ?s ?p ?o }'
    """
    spans: list[tuple[int, int]] = []
    depth, start = 0, None
    for token in tokens(sparql):
        kind, text = token.lastgroup, token.group()
        if kind == "open" or kind == "close":
            depth += (text == "{") - (text == "}")
        elif depth == 0 and kind == "word" and text.upper() == "FROM":
            start = token.start()
        elif start is not None and kind in ("iri", "pname"):
            spans.append((start, token.end()))
            start = None
    for begin, end in reversed(spans):
        sparql = sparql[:begin] + sparql[end:]
    return sparql


def with_separators(sparql: str) -> str:
    """``sparql`` with the default ``SEPARATOR=" "`` written into each ``GROUP_CONCAT`` that
    leaves it out (Virtuoso fails on one without it).

    >>> with_separators('SELECT (GROUP_CONCAT(DISTINCT ?o) AS ?all) { ?s ?p ?o }')
    'SELECT (GROUP_CONCAT(DISTINCT ?o ; SEPARATOR=" ") AS ?all) { ?s ?p ?o }'
    """
    if "GROUP_CONCAT" not in _words(sparql):
        return sparql
    ends: list[int] = []
    opened: list[bool] = []  # for each open bracket: whether it is a GROUP_CONCAT's, unseparated
    after_call = False
    for token in tokens(sparql):
        kind, text = token.lastgroup, token.group()
        if kind == "open":
            opened.append(after_call and text == "(")
        elif kind == "close" and opened:
            if opened.pop():
                ends.append(token.start())
        elif kind == "word" and text.upper() == "SEPARATOR" and opened:
            opened[-1] = False
        after_call = kind == "word" and text.upper() == "GROUP_CONCAT"
    for end in reversed(ends):
        sparql = sparql[:end] + ' ; SEPARATOR=" "' + sparql[end:]
    return sparql


def builds_graph(sparql: str) -> bool:
    """Whether a query is a ``CONSTRUCT`` or a ``DESCRIBE`` (its first form keyword).

    >>> builds_graph("PREFIX : <urn:> CONSTRUCT { ?s :p ?o } WHERE { ?s :q ?o }")
    True
    """
    for token in tokens(sparql):
        if token.lastgroup == "word":
            word = token.group().upper()
            if word in ("SELECT", "ASK"):
                return False
            if word in ("CONSTRUCT", "DESCRIBE"):
                return True
    return False


def uses_graph(sparql: str) -> bool:
    """Whether ``GRAPH`` appears in the query (outside strings, IRIs and comments)."""
    return "GRAPH" in _words(sparql)


def graphs_kept_to(text: str, named: Collection[str], empty: str) -> tuple[str, bool]:
    """``text`` with each ``GRAPH <iri>`` (or prefixed name) whose graph is not one of
    ``named`` reading the graph ``empty`` instead, and whether any did.

    Why: such a pattern has no solution, as the dataset has no such graph, but Virtuoso
    answers it with one empty solution; ``empty`` is a graph named in the dataset that holds
    nothing, which every store reads as no solution. Prefixes and the base are read from
    ``text``'s own prologue (the predeclared ones are written there before it is sent).

    >>> graphs_kept_to("PREFIX g: <urn:g:> ASK { GRAPH g:a { ?s ?p ?o } GRAPH <urn:g:b> {} }",
    ...                ["urn:g:b"], "urn:empty")
    ('PREFIX g: <urn:g:> ASK { GRAPH <urn:empty> { ?s ?p ?o } GRAPH <urn:g:b> {} }', True)
    """
    if "GRAPH" not in _words(text):
        return text, False
    declared: dict[str, str] = {}
    base = ""
    found: list[tuple[int, int]] = []
    previous: list[str] = ["", ""]  # the two tokens before, upper-cased
    for token in tokens(text):
        kind, value = token.lastgroup, token.group()
        iri: str | None = None
        if kind == "iri":
            iri = urljoin(base, unescape_iri(value[1:-1])) if base else unescape_iri(value[1:-1])
            if previous[-1] == "BASE":
                base = iri
            elif previous[-2] == "PREFIX":
                declared[previous[-1].removesuffix(":")] = iri
        elif kind == "pname" and previous[-1] == "GRAPH":
            prefix, _, local = value.partition(":")
            if prefix in declared:
                iri = declared[prefix] + local.replace("\\", "")
        if iri is not None and previous[-1] == "GRAPH" and iri not in named:
            found.append((token.start(), token.end()))
        previous = [previous[-1], value.upper() if kind == "word" else value]
    for start, end in reversed(found):
        text = text[:start] + f"<{empty}>" + text[end:]
    return text, bool(found)
