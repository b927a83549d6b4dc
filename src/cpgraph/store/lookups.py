"""The statements at a set of nodes, by index lookups: how a store on this machine answers
:meth:`cpgraph.store.Store.statements_at` (a remote store answers it in a few batched queries
instead, :mod:`cpgraph.store.remote`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import Protocol

import pyoxigraph as ox

from cpgraph.rdf import Term

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]
SCAN_ABOVE = 4  # above this many predicates, a node's statements are read in one scan


class Lookups(Protocol):
    """A store that finds the distinct statements matching one pattern."""

    def triples(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
    ) -> Iterator[Triple]: ...


def statements_at(
    store: Lookups,
    nodes: Iterable[Term],
    *,
    outgoing: Collection[str] | None,
    incoming: Collection[str] | None,
) -> Iterator[Triple]:
    """The statements whose subject is one of ``nodes`` and whose predicate is in
    ``outgoing`` (None: any), then those whose object is one of them and whose predicate is in
    ``incoming`` (None: any); an empty collection asks for none in that direction."""
    for node in nodes:
        if (outgoing is None or outgoing) and isinstance(node, (ox.NamedNode, ox.BlankNode)):
            yield from _one_way(store, node, outgoing, forward=True)
        if incoming is None or incoming:
            yield from _one_way(store, node, incoming, forward=False)


def _one_way(
    store: Lookups, node: Term, predicates: Collection[str] | None, *, forward: bool
) -> Iterator[Triple]:
    def matching(predicate: ox.NamedNode | None) -> Iterator[Triple]:
        if forward:
            assert isinstance(node, (ox.NamedNode, ox.BlankNode))
            return store.triples(node, predicate, None)
        return store.triples(None, predicate, node)

    if predicates is None:
        yield from matching(None)
    elif len(predicates) > SCAN_ABOVE:  # one scan of the node beats many lookups
        yield from (t for t in matching(None) if t[1].value in predicates)
    else:
        for predicate in predicates:
            yield from matching(ox.NamedNode(predicate))
