"""Query text as cpgraph sends it to another store: checked here, its prologue and parameters
written out, and read for the dataset it names (:mod:`cpgraph.store.remote`).

What the embedded store is given as options (the predeclared prefixes, a base IRI, bound
variables) another store must be given in the text itself; and a syntax error is reported
here, by Oxigraph's parser, so that it reads the same whatever the store.
"""

from __future__ import annotations

import pyoxigraph as ox

from cpgraph.errors import InputError
from cpgraph.rdf import Term
from cpgraph.rdf.io import query_syntax_error
from cpgraph.sparql.lexer import tokens
from cpgraph.sparql.text import dataset_clauses

_EMPTY = ox.Store()  # parses queries: it holds nothing, so nothing is evaluated on data


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
    except (OSError, RuntimeError, ValueError, TypeError):
        pass  # an evaluation error on no data: only the syntax counts here


def check_update_syntax(sparql: str, base_iri: str | None) -> None:
    """Refuse a malformed update with its line and column (run on an empty store: an update
    calling LOAD or SERVICE is left to the store).

    Raises:
        QuerySyntaxError: if the update is malformed.
    """
    if {"LOAD", "SERVICE"} & _words(sparql):
        return
    try:
        ox.Store().update(sparql, base_iri=base_iri)
    except SyntaxError as exc:
        raise query_syntax_error(exc) from None
    except (OSError, RuntimeError, ValueError):
        pass


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


def names_dataset(sparql: str) -> bool:
    """Whether the query names its own dataset (``FROM`` or ``FROM NAMED``)."""
    clauses = dataset_clauses(sparql)
    return clauses is not None and bool(clauses[1])


def uses_graph(sparql: str) -> bool:
    """Whether ``GRAPH`` appears in the query (outside strings, IRIs and comments)."""
    return "GRAPH" in _words(sparql)
