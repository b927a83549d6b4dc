"""The dataset a query reads, and the options that make pyoxigraph read it.

The dataset is the protocol's if it names one (which replaces the query's own whole), else
the query's own ``FROM`` and ``FROM NAMED``, else the store's: its merged union and its named
graphs but the kept default graph (:mod:`cpgraph.store.union`). What a query's text says of
its dataset and of its base IRI is read through the one SPARQL lexer,
:mod:`cpgraph.sparql.lexer`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal, NamedTuple, cast

import pyoxigraph as ox

from cpgraph.sparql.lexer import tokens
from cpgraph.sparql.text import dataset_clauses
from cpgraph.store.union import KEPT_DEFAULT, Layout

_IRI_FUNCTIONS = frozenset({"IRI", "URI"})
_SCHEME_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-")


def _has_scheme(iri: str) -> bool:
    """Whether an IRI reference, as written between its brackets, begins with a scheme."""
    scheme, colon, _ = iri.partition(":")
    return (
        bool(colon)
        and scheme[:1].isascii()
        and scheme[:1].isalpha()
        and all(c in _SCHEME_CHARACTERS for c in scheme)
    )


def _surely_absolute(sparql: str) -> bool:
    """Whether no IRI reference of ``sparql`` can be relative and no IRI() or URI() be called:
    every ``<`` opens a scheme, and no "iri" or "uri" stands beside a ``(``. A necessary
    condition only, cheaper than lexing: the lexer decides the rest."""
    if "(" in sparql:
        lowered = sparql.lower()
        if "iri" in lowered or "uri" in lowered:
            return False
    start = sparql.find("<")
    while start != -1:
        end = sparql.find(":", start + 1)
        if end == -1 or not _has_scheme(sparql[start + 1 : end + 1]):
            return False
        start = sparql.find("<", end)
    return True


@functools.lru_cache(maxsize=1024)
def _lexed_relative(sparql: str) -> bool:
    call = False
    for token in tokens(sparql):
        kind = token.lastgroup
        if kind == "iri":
            if not _has_scheme(token.group()[1:-1]):
                return True
        elif call and token.group() == "(":
            return True
        call = kind == "word" and token.group().upper() in _IRI_FUNCTIONS
    return False


def may_be_relative(sparql: str) -> bool:
    """Whether a query may need a base IRI: an IRI reference without a scheme (a comparison
    such as ``?a<?b&&?c>?d`` lexes as one too), or a call of IRI() or URI(), which resolve
    strings against it (read by :func:`cpgraph.sparql.lexer.tokens`)."""
    return not _surely_absolute(sparql) and _lexed_relative(sparql)


class Dataset(NamedTuple):
    """The dataset one query names (by the protocol, or by its own ``FROM`` and ``FROM
    NAMED``): the graphs whose merge is its default graph, and its named graphs, each once."""

    default: tuple[str, ...]
    named: tuple[str, ...]


def _named(default: Iterable[str], named: Iterable[str]) -> Dataset:
    return Dataset(tuple(dict.fromkeys(default)), tuple(dict.fromkeys(named)))


# A query's own dataset clauses, read once per text: both the dataset (:func:`_own_dataset`) and
# the join planning (:func:`names_no_dataset`) ask at each request of a query that says "from".
_clauses = functools.lru_cache(maxsize=256)(dataset_clauses)

# A query that reads a named graph's IRI and nothing else, on a store that holds nothing:
# Oxigraph resolves the IRI (escapes, prefixes, the base) as it resolves the query's own.
_PROBE = "\nSELECT ?g FROM NAMED {iri} {{ GRAPH ?g {{}} }}"


@functools.lru_cache(maxsize=256)
def _own_dataset(
    sparql: str, base_iri: str | None, prefixes: tuple[tuple[str, str], ...]
) -> Dataset | Literal["unread"] | None:
    """The dataset a query names with its own ``FROM`` and ``FROM NAMED`` (IRIs resolved by
    Oxigraph), None if it names none, or ``"unread"`` if its clauses cannot be read for
    certain (see :func:`cpgraph.sparql.text.dataset_clauses`): the query is then left to
    Oxigraph as written, which refuses it if it is malformed, saying where."""
    found = _clauses(sparql)
    if found is None:
        return "unread"
    form, clauses = found
    if not clauses:
        return None
    prologue = sparql[:form]
    probe = ox.Store()
    default: list[str] = []
    named: list[str] = []
    for is_named, iri in clauses:
        try:
            rows = list(
                cast(
                    "ox.QuerySolutions",
                    probe.query(
                        prologue + _PROBE.format(iri=iri),
                        base_iri=base_iri,
                        prefixes=dict(prefixes) or None,
                    ),
                )
            )
        except (SyntaxError, ValueError, OSError):
            return "unread"
        graph = rows[0]["g"] if len(rows) == 1 else None
        if not isinstance(graph, ox.NamedNode):
            return "unread"
        (named if is_named else default).append(graph.value)
    return _named(default, named)


def names_no_dataset(sparql: str) -> bool:
    """Whether a query surely has no FROM or FROM NAMED of its own."""
    found = _clauses(sparql)
    return found is not None and not found[1]


def query_options(
    sparql: str,
    union_default_graph: bool,
    default_graphs: Iterable[str] | None,
    named_graphs: Iterable[str] | None,
    base_iri: str | None,
    substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] | None,
    prefixes: dict[str, str] | None,
    layout: Layout,
) -> dict[str, Any]:
    """pyoxigraph's query options for ``sparql`` (see :meth:`GraphStore.query`)."""
    options: dict[str, Any] = {}
    if base_iri is not None and may_be_relative(sparql):
        options["base_iri"] = base_iri  # only where needed: Oxigraph parses it per query
    used: dict[str, str] = {}
    if prefixes:
        # Only those the text can use: Oxigraph reads every predeclared prefix per query.
        used = {k: v for k, v in prefixes.items() if k + ":" in sparql}
        if used:
            options["prefixes"] = used
    # The dataset: the protocol's if it names one, which replaces the query's own whole
    # (SPARQL 1.1 Protocol, 2.1.4); else the query's FROM and FROM NAMED; else the store's:
    # the merged union (or the graph written as the default graph), and the named graphs
    # but the one that keeps it.
    protocol_default = () if default_graphs is None else tuple(default_graphs)
    if protocol_default or named_graphs is not None:
        dataset: Dataset | Literal["unread"] | None = _named(protocol_default, named_graphs or ())
    elif "from" in sparql.lower():
        dataset = _own_dataset(
            sparql, options.get("base_iri"), tuple(sorted(used.items())) if used else ()
        )
    else:
        dataset = None
    if isinstance(dataset, Dataset):
        # Both given, so that neither half of the query's own stays: a graph named twice is
        # read once; several default graphs are merged and the hidden graph is named by no
        # one (see GraphStore._evaluate).
        options["default_graph"] = [ox.NamedNode(iri) for iri in dataset.default]
        options["named_graphs"] = [ox.NamedNode(iri) for iri in dataset.named]
    elif dataset is None:
        if not union_default_graph:
            options["default_graph"] = layout.kept
        elif not layout.merged:
            options["use_default_graph_as_union"] = True
        # else the database's default graph: the merged union.
        if layout.visible is not None:
            options["named_graphs"] = layout.visible
    # else "unread": as written, as Oxigraph reads it (or refuses it).
    if substitutions:
        options["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
    return options


def names_merge(options: dict[str, Any]) -> bool:
    """Whether a query's dataset may be other than graphs the database holds as they are:
    a default graph merged from several graphs, or a graph named by the reserved name of the
    kept default graph (which names no graph of the dataset users see)."""
    default = options.get("default_graph")
    if not isinstance(default, list):
        return False
    return len(default) > 1 or KEPT_DEFAULT in default or KEPT_DEFAULT in options["named_graphs"]
