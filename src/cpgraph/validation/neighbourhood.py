"""Validating a contribution against a large store without validating the whole store.

A contribution changes the conformance of only a few nodes: those whose shapes can reach a
contributed statement. Which statements a shape can reach follows from the shapes alone: its
targets, its property paths, the checks it makes on the values it finds (``sh:class`` looks at
their types, ``sh:node`` at their own properties), its SPARQL constraints. :func:`shape_reach`
reads that from the shapes graph as a list of *steps*, the predicates a shape may traverse at
each distance from its focus node (forwards or backwards), with a *tail* repeated without end
for ``sh:zeroOrMorePath`` and ``sh:oneOrMorePath``.

:func:`validate_in_context` then

1. finds the *affected* nodes: every node that reaches a contributed statement along the steps
   (walking backwards from each statement through the store and the contribution);
2. extracts from the store what the shapes see from those nodes: the statements along the
   steps, the types of every node met and the class hierarchy above them;
3. runs pySHACL on that extract plus the contribution, with the affected nodes as the only
   focus nodes (blank nodes are skolemised for that, since pySHACL takes IRIs as focus nodes,
   and turned back in the report).

The report is the same as that of validating the whole store with the contribution and
keeping the results about the affected nodes; every other node's results are unchanged by the
contribution. Both claims are tested, on the W3C SHACL Core suite and on random contributions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import pyshacl
from pyshacl.graph_abstraction import DataGraph
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from cpgraph.errors import InputError
from cpgraph.rdf.io import to_rdflib_term
from cpgraph.store.embedded import GraphStore
from cpgraph.validation.shacl import ValidationOutcome, outcome_from_report

SH = Namespace("http://www.w3.org/ns/shacl#")
TYPE = RDF.type.toPython()
SUBCLASS = RDFS.subClassOf.toPython()

_LOOKUPS = 4  # above this many predicates, a node's statements are read in one scan

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]


# ---------------------------------------------------------------------------------------------
# What the shapes can reach
# ---------------------------------------------------------------------------------------------


@dataclass
class Step:
    """The predicates a shape may follow at one distance from its focus node."""

    forward: set[str] = field(default_factory=set)
    inverse: set[str] = field(default_factory=set)
    any_forward: bool = False
    any_inverse: bool = False

    def merge(self, other: Step) -> None:
        self.forward |= other.forward
        self.inverse |= other.inverse
        self.any_forward |= other.any_forward
        self.any_inverse |= other.any_inverse

    def flipped(self) -> Step:
        return Step(set(self.inverse), set(self.forward), self.any_inverse, self.any_forward)

    def follows_forward(self, predicate: str) -> bool:
        return self.any_forward or predicate in self.forward

    def follows_inverse(self, predicate: str) -> bool:
        return self.any_inverse or predicate in self.inverse

    @property
    def empty(self) -> bool:
        return not (self.forward or self.inverse or self.any_forward or self.any_inverse)


@dataclass
class Reach:
    """Steps by distance from a focus node; ``tail`` repeats for unbounded paths."""

    steps: list[Step] = field(default_factory=list)
    tail: Step | None = None

    def merge_at(self, offset: int, steps: list[Step]) -> None:
        while len(self.steps) < offset + len(steps):
            self.steps.append(Step())
        for i, step in enumerate(steps):
            self.steps[offset + i].merge(step)

    def step(self, index: int) -> Step | None:
        """The step at distance ``index + 1`` (the tail beyond the fixed steps)."""
        if index < len(self.steps):
            return self.steps[index]
        return self.tail


def _step(
    forward: Iterable[str] = (),
    inverse: Iterable[str] = (),
    *,
    any_forward: bool = False,
    any_inverse: bool = False,
) -> Step:
    return Step(set(forward), set(inverse), any_forward, any_inverse)


class _ShapeReader:
    """Reads the reach of every shape of a shapes graph."""

    def __init__(self, shapes: Graph) -> None:
        self.g = shapes
        self.unbounded = Step()
        self.has_unbounded = False
        self.prefixes = self._declared_prefixes()

    def _declared_prefixes(self) -> dict[str, str]:
        found = {prefix: str(ns) for prefix, ns in self.g.namespaces()}
        for declaration in self.g.objects(None, SH.declare):
            prefix = self.g.value(declaration, SH.prefix)
            namespace = self.g.value(declaration, SH.namespace)
            if prefix is not None and namespace is not None:
                found[str(prefix)] = str(namespace)
        return found

    def path(self, path: Node) -> list[Step]:
        """The steps a property path takes (an unbounded part is also added to the tail)."""
        steps, _unbounded = self._path(path)
        return steps

    def _path(self, path: Node) -> tuple[list[Step], bool]:
        g = self.g
        if isinstance(path, URIRef):
            return [_step([str(path)])], False
        if (path, RDF.first, None) in g:  # a sequence (read first, as pySHACL does)
            sequence: list[Step] = []
            unbounded = False
            for element in Collection(g, path):
                steps, element_unbounded = self._path(element)
                if unbounded:  # what follows an unbounded part may come at any distance
                    self._to_tail(steps)
                sequence += steps
                unbounded |= element_unbounded
            return sequence, unbounded
        inverse = g.value(path, SH.inversePath)
        if inverse is not None:
            steps, unbounded = self._path(inverse)
            return [s.flipped() for s in reversed(steps)], unbounded
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            reach = Reach()
            any_unbounded = False
            for alternative in Collection(g, alternatives):
                steps, unbounded = self._path(alternative)
                reach.merge_at(0, steps)
                any_unbounded |= unbounded
            return reach.steps, any_unbounded
        for repeat in (SH.zeroOrMorePath, SH.oneOrMorePath):
            inner = g.value(path, repeat)
            if inner is not None:
                steps, _ = self._path(inner)
                self._to_tail(steps)
                return steps, True
        optional = g.value(path, SH.zeroOrOnePath)
        if optional is not None:
            return self._path(optional)
        raise InputError(f"a property path cpgraph cannot read: {path}")

    def _to_tail(self, steps: list[Step]) -> None:
        for step in steps:
            self.unbounded.merge(step)
        self.has_unbounded = True

    def shape(self, shape: Node, seen: frozenset[Node] = frozenset()) -> Reach:
        """What a shape reaches from its focus node (targets included)."""
        reach = Reach()
        if shape in seen:  # recursive shapes: what they reach is already being counted
            return reach
        seen = seen | {shape}
        g = self.g
        if (
            any(True for _ in g.objects(shape, SH.targetClass))
            or (shape, RDF.type, RDFS.Class) in g
        ):
            reach.merge_at(0, [_step([TYPE])])
        for predicate in g.objects(shape, SH.targetSubjectsOf):
            reach.merge_at(0, [_step([str(predicate)])])
        for predicate in g.objects(shape, SH.targetObjectsOf):
            reach.merge_at(0, [_step(inverse=[str(predicate)])])
        path = g.value(shape, SH.path)
        if path is None:  # a node shape: its checks apply to the focus node itself
            reach.merge_at(0, self._value_checks(shape, seen))
        else:  # a property shape: its checks apply to the values at the end of the path
            steps, unbounded = self._path(path)
            checks = self._value_checks(shape, seen)
            reach.merge_at(0, steps)
            reach.merge_at(len(steps), checks)
            if unbounded:  # the values may lie at any distance
                self._to_tail(checks)
            for pair in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
                for other in g.objects(shape, pair):
                    reach.merge_at(0, [_step([str(other)])])
        return reach

    def _value_checks(self, shape: Node, seen: frozenset[Node]) -> list[Step]:
        """The steps taken from a value node (or the focus node) by the shape's own checks."""
        g = self.g
        reach = Reach()
        if any(True for _ in g.objects(shape, SH["class"])):
            reach.merge_at(0, [_step([TYPE])])
        if (shape, SH.closed, Literal(True)) in g:
            reach.merge_at(0, [_step(any_forward=True)])
        nested: list[Node] = list(g.objects(shape, SH.node)) + list(g.objects(shape, SH["not"]))
        nested += list(g.objects(shape, SH.qualifiedValueShape))
        for logical in (SH["and"], SH["or"], SH.xone):
            for members in g.objects(shape, logical):
                nested += list(Collection(g, members))
        for inner in nested:
            reach.merge_at(0, self.shape(inner, seen).steps)
        for constraint in g.objects(shape, SH.sparql):
            reach.merge_at(0, self._sparql(constraint))
        for property_shape in g.objects(shape, SH.property):
            reach.merge_at(0, self.shape(property_shape, seen).steps)
        for pair in (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals):
            for other in g.objects(shape, pair):  # compared with the node's own values
                reach.merge_at(0, [_step([str(other)])])
        return reach.steps

    _IRI = re.compile(r"<([^<>\s]+)>")
    _PNAME = re.compile(r"(?<![\w?$])([A-Za-z][\w-]*)?:([A-Za-z_][\w-]*)")

    def _sparql(self, constraint: Node) -> list[Step]:
        """A SPARQL constraint may follow any predicate its query names, two steps deep."""
        text = str(self.g.value(constraint, SH.select) or self.g.value(constraint, SH.ask) or "")
        predicates = set(self._IRI.findall(text))
        for prefix, local in self._PNAME.findall(text):
            namespace = self.prefixes.get(prefix or "")
            if namespace is not None:
                predicates.add(namespace + local)
        step = _step(predicates | {TYPE}, predicates)
        return [step, _step(step.forward, step.inverse)]


def explicit_targets(shapes: Graph) -> tuple[set[Term], bool]:
    """The IRIs the shapes name with ``sh:targetNode``, and whether any literal is named."""
    iris: set[Term] = set()
    literal = False
    for node in shapes.objects(None, SH.targetNode):
        if isinstance(node, URIRef):
            iris.add(ox.NamedNode(str(node)))
        elif isinstance(node, Literal):
            literal = True
    return iris, literal


def shape_reach(shapes: Graph) -> Reach:
    """What the shapes of ``shapes`` can reach from their focus nodes, merged over shapes.

    Raises:
        InputError: if a shape uses a property path that is not SHACL Core.
    """
    reader = _ShapeReader(shapes)
    reach = Reach()
    candidates: set[Node] = set()
    for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf):
        candidates |= set(shapes.subjects(p, None))
    candidates |= set(shapes.subjects(RDF.type, SH.NodeShape))
    candidates |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    for shape in candidates:
        reach.merge_at(0, reader.shape(shape).steps)
    if reader.has_unbounded:
        reach.tail = reader.unbounded
    return reach


# ---------------------------------------------------------------------------------------------
# The store and the contribution, seen together
# ---------------------------------------------------------------------------------------------


class _Union:
    """Statements of the store (all graphs) and of a contribution, looked up by node."""

    def __init__(self, store: GraphStore | None, contribution: Iterable[Triple]) -> None:
        self.store = store
        self.out: dict[Term, list[Triple]] = defaultdict(list)
        self.into: dict[Term, list[Triple]] = defaultdict(list)
        for triple in contribution:
            self.out[triple[0]].append(triple)
            self.into[triple[2]].append(triple)

    def outgoing(self, node: Term, predicate: str | None = None) -> Iterator[Triple]:
        if isinstance(node, ox.Literal):
            return
        for triple in self.out.get(node, ()):
            if predicate is None or triple[1].value == predicate:
                yield triple
        if self.store is not None:
            p = ox.NamedNode(predicate) if predicate is not None else None
            yield from self.store.triples(node, p, None)

    def incoming(self, node: Term, predicate: str | None = None) -> Iterator[Triple]:
        for triple in self.into.get(node, ()):
            if predicate is None or triple[1].value == predicate:
                yield triple
        if self.store is not None:
            p = ox.NamedNode(predicate) if predicate is not None else None
            yield from self.store.triples(None, p, node)


def _follow(
    union: _Union, node: Term, step: Step, *, forward: bool
) -> Iterator[tuple[Triple, Term]]:
    """The statements at ``node`` that ``step`` follows, with the node at their other end.

    ``forward`` False walks the step backwards (used to find who reaches ``node``).
    """
    out_any, out_set = (
        (step.any_forward, step.forward) if forward else (step.any_inverse, step.inverse)
    )
    in_any, in_set = (
        (step.any_inverse, step.inverse) if forward else (step.any_forward, step.forward)
    )
    if out_any or len(out_set) > _LOOKUPS:  # one scan of the node beats many lookups
        for t in union.outgoing(node):
            if out_any or t[1].value in out_set:
                yield t, t[2]
    else:
        for predicate in out_set:
            for t in union.outgoing(node, predicate):
                yield t, t[2]
    if in_any:
        for t in union.incoming(node):
            yield t, t[0]
    else:
        for predicate in in_set:
            for t in union.incoming(node, predicate):
                yield t, t[0]


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
            nxt = {
                n for node in frontier for _t, n in _follow(union, node, reach.tail, forward=False)
            } - seen
            seen |= nxt
            frontier = nxt
        frontier = seen
        distance = len(reach.steps)
    for i in range(distance - 1, -1, -1):
        step = reach.steps[i]
        frontier = {n for node in frontier for _t, n in _follow(union, node, step, forward=False)}
    return frontier


def _instances_below(cls: Term, union: _Union) -> set[Term]:
    classes: set[Term] = {cls}
    frontier: set[Term] = {cls}
    while frontier:
        below: set[Term] = {t[0] for c in frontier for t in union.incoming(c, SUBCLASS)}
        frontier = below - classes
        classes |= frontier
    return {t[0] for c in classes for t in union.incoming(c, TYPE)}


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
        for node in frontier:
            for triple, other in _follow(union, node, step, forward=True):
                triples.add(triple)
                if not isinstance(other, ox.Literal):
                    nxt.add(other)
        nodes |= nxt
        frontier = nxt
        index += 1
    classes: set[Term] = set()
    for node in nodes:
        for triple in union.outgoing(node, TYPE):
            triples.add(triple)
            classes.add(triple[2])
    frontier = classes
    while frontier:  # the class hierarchy above every type met
        nxt = set()
        for cls in frontier:
            for triple in union.outgoing(cls, SUBCLASS):
                triples.add(triple)
                nxt.add(triple[2])
        frontier = nxt - classes
        classes |= nxt
    return triples


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


def validate_in_context(
    contribution: list[Triple],
    *,
    store: GraphStore | None,
    shapes: Graph,
    hierarchy: Graph | None = None,
    reach: Reach | None = None,
) -> tuple[ValidationOutcome, set[Term]]:
    """Validate ``contribution`` as part of ``store`` by validating only what it affects.

    ``hierarchy`` holds class-hierarchy statements to add (the ontology's, so an instance of a
    subclass meets its superclass's shapes); ``reach`` may be computed once per shapes graph
    with :func:`shape_reach`. Returns the outcome and the affected nodes (the focus nodes whose
    results it reports).

    pySHACL runs on the extract without its ``focus_nodes`` option (which also filters the value
    nodes of nested shapes, and so misses results) and its report is then cut down to the
    affected nodes; the extract's other nodes, seen only in part, are validated and dropped.

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
    new = [t for t in contribution if store is None or next(store.triples(*t), None) is None]
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
    full = _run_focused(data, shapes, {_to_rdflib(n) for n in focus})
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


def _to_rdflib(term: Term) -> Node:
    return to_rdflib_term(term)


def _run_focused(data: Graph, shapes: Graph, focus: set[Node]) -> Graph:
    """pySHACL's report on the focus nodes only, each against the shapes that target it.

    pySHACL's own ``focus_nodes`` option also filters the value nodes that nested shapes
    (``sh:node``, ``sh:or``, ...) are evaluated on, and so loses results; here each shape is
    evaluated on its targets among the focus nodes, the way pySHACL evaluates a shape on its
    targets, and the nested evaluations are left alone. The other nodes of the extract (seen
    only in part) are not evaluated at all.

    Raises:
        InputError: if the shapes cannot be read or run.
    """
    try:
        target = DataGraph.from_rdflib_graph(data)
        validator = pyshacl.Validator(
            target,
            shacl_graph=shapes,
            options={
                "inference": "none",
                "advanced": False,
                "allow_warnings": True,
                "allow_infos": True,
                "inplace": True,
            },
        )
        executor = validator.make_executor()
        conforms = True
        results: list[Any] = []
        for shape in validator.shacl_graph.shapes:
            if shape.is_property_shape and not _has_targets(shapes, shape.node):
                continue
            targets = [n for n in shape.focus_nodes(target) if n in focus]
            if not targets:
                continue
            ok, reports = shape.validate(executor, target, focus=targets)
            conforms = conforms and ok
            results.extend(reports)
        report, _text = validator.create_validation_report(validator.shacl_graph, conforms, results)
    except (pyshacl.errors.ReportableRuntimeError, pyshacl.errors.ShapeLoadError) as exc:
        raise InputError(f"the shapes could not be run: {exc}") from exc
    assert isinstance(report, Graph)
    return report


def _has_targets(shapes: Graph, shape: Node) -> bool:
    return (
        any(
            True
            for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
            for _ in shapes.objects(shape, p)
        )
        or (shape, RDF.type, RDFS.Class) in shapes
    )


def _run(data: Graph, shapes: Graph, **options: object) -> Graph:
    try:
        _conforms, report, _text = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            allow_warnings=True,
            allow_infos=True,
            advanced=True,
            **options,  # type: ignore[arg-type]
        )
    except (pyshacl.errors.ReportableRuntimeError, pyshacl.errors.ShapeLoadError) as exc:
        raise InputError(f"the shapes could not be run: {exc}") from exc
    assert isinstance(report, Graph)
    return report


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
