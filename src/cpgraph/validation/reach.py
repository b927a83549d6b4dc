"""What SHACL shapes can reach from their focus nodes, read from the shapes graph alone.

A shape's reach is a list of *steps*, the predicates it may traverse at each distance from its
focus node (forwards or backwards), with a *tail* repeated without end for
``sh:zeroOrMorePath`` and ``sh:oneOrMorePath``. It follows from the shape's targets, property
paths and the checks it makes on the values it finds (``sh:class`` looks at their types,
``sh:node`` at their own properties, SPARQL constraints at the predicates they name).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from cpgraph.errors import InputError
from cpgraph.rdf import Term
from cpgraph.validation.shacl import SH, TARGETS

TYPE = RDF.type.toPython()
SUBCLASS = RDFS.subClassOf.toPython()


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
            reach.merge_at(0, self._compared(shape))
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
        reach.merge_at(0, self._compared(shape))  # compared with the node's own values
        return reach.steps

    def _compared(self, shape: Node) -> list[Step]:
        """The step to the values a property pair constraint compares with (none: no step)."""
        pairs = (SH.equals, SH.disjoint, SH.lessThan, SH.lessThanOrEquals)
        others = [str(other) for pair in pairs for other in self.g.objects(shape, pair)]
        return [_step(others)] if others else []

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
    for p in TARGETS:
        candidates |= set(shapes.subjects(p, None))
    candidates |= set(shapes.subjects(RDF.type, SH.NodeShape))
    candidates |= set(shapes.subjects(RDF.type, SH.PropertyShape))
    for shape in candidates:
        reach.merge_at(0, reader.shape(shape).steps)
    if reader.has_unbounded:
        reach.tail = reader.unbounded
    return reach
