"""Validating a contribution against a large store without validating the whole store.

A contribution changes the conformance of only a few nodes: those whose shapes can reach a
contributed statement (:mod:`cpgraph.validation.reach`). :func:`validate_in_context` finds
those *affected* nodes by walking back from each new statement through the store and the
contribution, extracts what the shapes see from them (the statements along the steps, the
types met and the class hierarchy above them), and runs pySHACL on that extract plus the
contribution, keeping the results about the affected nodes.

The report is the same as validating the whole store with the contribution and keeping the
results about the affected nodes; no other node's results change. The tests check both claims.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator

import pyoxigraph as ox
from rdflib import RDF, BNode, Graph, Literal
from rdflib.term import Node

from cpgraph.rdf import Term
from cpgraph.rdf.io import to_rdflib_term
from cpgraph.store import Store
from cpgraph.validation.reach import (
    SUBCLASS,
    TYPE,
    Reach,
    Step,
    explicit_targets,
    shape_reach,
)
from cpgraph.validation.shacl import SH, ValidationOutcome, focused_report, outcome_from_report

Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]


# ---------------------------------------------------------------------------------------------
# The store and the contribution, seen together
# ---------------------------------------------------------------------------------------------


class _Union:
    """Statements of the store (all graphs) and of a contribution, looked up a level of nodes
    at a time: one :meth:`cpgraph.store.Store.statements_at` call per level, so that a store
    on another machine is asked a few queries rather than one per node."""

    def __init__(self, store: Store | None, contribution: Iterable[Triple]) -> None:
        self.store = store
        self.out: dict[Term, list[Triple]] = defaultdict(list)
        self.into: dict[Term, list[Triple]] = defaultdict(list)
        for triple in contribution:
            self.out[triple[0]].append(triple)
            self.into[triple[2]].append(triple)

    def at(
        self,
        nodes: set[Term],
        *,
        outgoing: Collection[str] | None,
        incoming: Collection[str] | None,
    ) -> Iterator[tuple[Triple, Term]]:
        """The statements at ``nodes`` (the contribution's, then the store's), each with the
        node at its other end: those leaving a node with a predicate in ``outgoing``, those
        arriving with one in ``incoming`` (None: any predicate; empty: none that way)."""
        for node in nodes:
            for triple in self.out.get(node, ()) if outgoing != () else ():
                if outgoing is None or triple[1].value in outgoing:
                    yield triple, triple[2]
            for triple in self.into.get(node, ()) if incoming != () else ():
                if incoming is None or triple[1].value in incoming:
                    yield triple, triple[0]
        if self.store is None or not nodes:
            return
        for triple in self.store.statements_at(nodes, outgoing=outgoing, incoming=incoming):
            s, p, o = triple
            if s in nodes and (outgoing is None or p.value in outgoing):
                yield triple, o
            if o in nodes and (incoming is None or p.value in incoming):
                yield triple, s

    def held(self, triples: list[Triple]) -> set[Triple]:
        """Those of ``triples`` the store holds, asked for in one level."""
        if self.store is None:
            return set()
        subjects: set[Term] = {t[0] for t in triples}
        predicates = {t[1].value for t in triples}
        found = self.store.statements_at(subjects, outgoing=predicates, incoming=())
        wanted = set(triples)
        return {t for t in found if t in wanted}


def _follow(
    union: _Union, nodes: set[Term], step: Step, *, forward: bool
) -> Iterator[tuple[Triple, Term]]:
    """The statements at ``nodes`` that ``step`` follows, with the node at their other end.

    ``forward`` False walks the step backwards (used to find who reaches ``nodes``).
    """
    out_any, out_set = (
        (step.any_forward, step.forward) if forward else (step.any_inverse, step.inverse)
    )
    in_any, in_set = (
        (step.any_inverse, step.inverse) if forward else (step.any_forward, step.forward)
    )
    outgoing = None if out_any else tuple(out_set)
    incoming = None if in_any else tuple(in_set)
    return union.at(nodes, outgoing=outgoing, incoming=incoming)


def affected_nodes(contribution: list[Triple], reach: Reach, union: _Union) -> set[Term]:
    """The nodes whose validation results the contribution can change."""
    affected: set[Term] = set()
    depth = len(reach.steps) + (1 if reach.tail is not None else 0)
    # Seeds: for each distance i, the nodes at which a contributed statement sits at that
    # distance from some focus node (its subject when followed forwards, object backwards).
    for i in range(max(depth, 1)):
        step = reach.step(i)
        if step is None:
            break
        seeds: set[Term] = set()
        for s, p, o in contribution:
            if step.follows_forward(p.value):
                seeds.add(s)
            if step.follows_inverse(p.value) and not isinstance(o, ox.Literal):
                seeds.add(o)
        affected |= _walk_back(seeds, i, reach, union)
    # Every subject of a new statement is validated, and so is every blank node it introduces
    # (a contribution's blank nodes are its own, never the store's); an IRI it only points to
    # is validated where the shapes' reach says the statement can change its results.
    for s, _p, o in contribution:
        affected.add(s)
        if isinstance(o, ox.BlankNode):
            affected.add(o)
    # A class given a new superclass changes the targets of every instance below it.
    for s, p, _o in contribution:
        if p.value == SUBCLASS:
            affected |= _instances_below(s, union)
    return {n for n in affected if not isinstance(n, ox.Literal)}


def _walk_back(seeds: set[Term], distance: int, reach: Reach, union: _Union) -> set[Term]:
    """The nodes from which a node of ``seeds`` is reached in ``distance`` steps."""
    frontier = set(seeds)
    if reach.tail is not None and distance >= len(reach.steps):
        # Inside an unbounded path: everything that reaches the seeds at all.
        seen = set(frontier)
        while frontier:
            nxt = {n for _t, n in _follow(union, frontier, reach.tail, forward=False)} - seen
            seen |= nxt
            frontier = nxt
        frontier = seen
        distance = len(reach.steps)
    for i in range(distance - 1, -1, -1):
        step = reach.steps[i]
        frontier = {n for _t, n in _follow(union, frontier, step, forward=False)}
    return frontier


def _instances_below(cls: Term, union: _Union) -> set[Term]:
    classes: set[Term] = {cls}
    frontier: set[Term] = {cls}
    while frontier:
        below: set[Term] = {n for _t, n in union.at(frontier, outgoing=(), incoming=(SUBCLASS,))}
        frontier = below - classes
        classes |= frontier
    return {n for _t, n in union.at(classes, outgoing=(), incoming=(TYPE,))}


def extract(focus: set[Term], reach: Reach, union: _Union) -> set[Triple]:
    """The statements the shapes see from the focus nodes, with types and class hierarchy."""
    triples: set[Triple] = set()
    nodes: set[Term] = set(focus)
    frontier = set(focus)
    index = 0
    seen_at_tail: set[Term] = set()
    while frontier:
        step = reach.step(index)
        if step is None:
            break
        if index >= len(reach.steps):  # the tail: stop when nothing new appears
            frontier -= seen_at_tail
            seen_at_tail |= frontier
        nxt: set[Term] = set()
        for triple, other in _follow(union, frontier, step, forward=True):
            triples.add(triple)
            if not isinstance(other, ox.Literal):
                nxt.add(other)
        nodes |= nxt
        frontier = nxt
        index += 1
    classes: set[Term] = set()
    for triple, cls in union.at(nodes, outgoing=(TYPE,), incoming=()):
        triples.add(triple)
        classes.add(cls)
    frontier = classes
    while frontier:  # the class hierarchy above every type met
        nxt = set()
        for triple, above in union.at(frontier, outgoing=(SUBCLASS,), incoming=()):
            triples.add(triple)
            nxt.add(above)
        frontier = nxt - classes
        classes |= nxt
    return triples


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def validate_in_context(
    contribution: list[Triple],
    *,
    store: Store | None,
    shapes: Graph,
    hierarchy: Graph | None = None,
    reach: Reach | None = None,
) -> tuple[ValidationOutcome, set[Term]]:
    """Validate ``contribution`` as part of ``store`` by validating only what it affects.

    ``hierarchy`` holds class-hierarchy statements to add (the ontology's, so an instance of a
    subclass meets its superclass's shapes); ``reach`` may be computed once per shapes graph
    with :func:`shape_reach`. Returns the outcome and the affected nodes (the focus nodes whose
    results it reports).

    pySHACL runs on the extract (:func:`~cpgraph.validation.shacl.focused_report`), and only
    the results about the affected nodes are kept: the extract's other nodes are seen in part.

    Raises:
        InputError: if the shapes cannot be read or run.
    """
    reach = reach or shape_reach(shapes)
    union = _Union(store, contribution)
    named, _literal_named = explicit_targets(shapes)
    # Explicitly named targets are always validated: they are few, and a named node is a
    # target whether or not any statement mentions it. Literals are focus nodes where a
    # contributed statement or a shape names them (sh:targetObjectsOf, sh:targetNode).
    # A statement the store already holds changes nothing: only new ones can affect others.
    held = union.held(contribution)
    new = [t for t in contribution if t not in held]
    focus = affected_nodes(new, reach, union) | {t[0] for t in contribution} | named
    focus |= {o for _s, _p, o in contribution if isinstance(o, ox.Literal)}
    focus |= {
        to_ox_literal(o) for o in shapes.objects(None, SH.targetNode) if isinstance(o, Literal)
    }
    triples = extract(focus, reach, union)  # literals: only their incoming statements
    data = Graph()
    for s, p, o in triples | set(contribution):
        data.add((to_rdflib_term(s), to_rdflib_term(p), to_rdflib_term(o)))
    if hierarchy is not None:
        data += hierarchy
    full = focused_report(data, shapes, {to_rdflib_term(n) for n in focus})
    report = Graph()
    root = BNode()
    report.add((root, RDF.type, SH.ValidationReport))
    violation = False
    for result in full.objects(None, SH.result):  # top level; sh:detail ones are copied below
        node = full.value(result, SH.focusNode)
        if node is None or _to_ox(node) not in focus:
            continue
        _copy_result(full, result, report)
        report.add((root, SH.result, result))
        violation |= full.value(result, SH.resultSeverity) == SH.Violation
    report.add((root, SH.conforms, Literal(not violation)))
    return outcome_from_report(report), focus


def _to_ox(node: Node) -> Term:
    if isinstance(node, Literal):
        return to_ox_literal(node)
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    return ox.NamedNode(str(node))


def to_ox_literal(literal: Literal) -> ox.Literal:
    """An rdflib literal as a pyoxigraph one."""
    if literal.language:
        return ox.Literal(str(literal), language=literal.language)
    if literal.datatype is not None:
        return ox.Literal(str(literal), datatype=ox.NamedNode(str(literal.datatype)))
    return ox.Literal(str(literal))


def _copy_result(source: Graph, result: Node, target: Graph) -> None:
    """Copy one sh:ValidationResult (and the blank nodes under it) into ``target``."""
    pending = [result]
    done: set[Node] = set()
    while pending:
        node = pending.pop()
        if node in done:
            continue
        done.add(node)
        for p, o in source.predicate_objects(node):
            target.add((node, p, o))
            if isinstance(o, BNode):
                pending.append(o)
