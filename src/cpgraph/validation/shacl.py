"""SHACL validation: judge RDF against cpgraph's shapes and summarise the report.

pySHACL is the engine. The ontology's class hierarchy is mixed into the data graph (no
RDFS domain or range entailment), so that an instance of a subclass meets its superclass's
shapes while a reference to a node typed nowhere still fails ``sh:class``.

Violations make a graph non-conforming; warnings and infos are reported and pass.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyshacl
from pyshacl.graph_abstraction import DataGraph
from rdflib import RDF, RDFS, BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.term import Node

from cpgraph.errors import InputError
from cpgraph.jsonable import json_fields
from cpgraph.rdf import namespaces
from cpgraph.rdf.io import parse_file

SH = Namespace(namespaces.SH)
TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
"""The predicates that give a shape its targets (an ``rdfs:Class`` shape targets itself)."""

# What every run of pySHACL assumes: no entailment; warnings and infos do not fail a graph.
_OPTIONS: dict[str, Any] = {"inference": "none", "allow_warnings": True, "allow_infos": True}


class Severity(enum.Enum):
    """SHACL severities, in increasing order of weight."""

    INFO = "Info"
    WARNING = "Warning"
    VIOLATION = "Violation"

    @classmethod
    def from_iri(cls, iri: Node) -> Severity:
        """The severity named by an ``sh:`` IRI (an unknown one counts as a violation)."""
        local = str(iri).rsplit("#", 1)[-1]
        return next((s for s in cls if s.value == local), cls.VIOLATION)


@dataclass(frozen=True, slots=True)
class ValidationResult:
    """One result of a SHACL report, in the terms a contributor acts on."""

    focus_node: str
    path: str | None
    value: str | None
    severity: Severity
    source_shape: str
    constraint: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """This result as JSON-ready data."""
        return json_fields(self)

    def describe(self) -> str:
        """One line for a terminal: severity, focus node, path, message."""
        where = self.focus_node + (f" {self.path}" if self.path else "")
        value = f" (value: {self.value})" if self.value is not None else ""
        return f"{self.severity.value}: {where}: {self.message}{value}"


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """A SHACL validation report and its summary.

    ``conforms`` is false only when there is at least one violation.
    """

    conforms: bool
    results: tuple[ValidationResult, ...]
    report: Graph

    @property
    def violations(self) -> tuple[ValidationResult, ...]:
        """The results of severity violation."""
        return tuple(r for r in self.results if r.severity is Severity.VIOLATION)

    def summary(self) -> dict[str, Any]:
        """``{"conforms": ..., "results": [...]}``, as the HTTP API returns it."""
        return {"conforms": self.conforms, "results": [r.to_dict() for r in self.results]}

    def describe(self, *, limit: int | None = None) -> str:
        """A readable report: one line per result, violations first."""
        order = {Severity.VIOLATION: 0, Severity.WARNING: 1, Severity.INFO: 2}
        ranked = sorted(self.results, key=lambda r: (order[r.severity], r.focus_node))
        lines = [
            f"{'Conforms' if self.conforms else 'Does not conform'}: "
            f"{len(self.violations)} violation(s), {len(self.results)} result(s)"
        ]
        shown = ranked if limit is None else ranked[:limit]
        lines += [r.describe() for r in shown]
        if len(shown) < len(ranked):
            lines.append(f"... and {len(ranked) - len(shown)} more")
        return "\n".join(lines)


def load_shapes(shapes_dir: Path) -> Graph:
    """Every Turtle file under ``shapes_dir`` as one shapes graph.

    Raises:
        RdfSyntaxError: if a shapes file is malformed.
        InputError: if the folder holds no shapes.
    """
    return _load_folder(shapes_dir, "shapes")


def load_ontology(ontology_dir: Path) -> Graph:
    """Every Turtle file under ``ontology_dir`` as one graph.

    Raises:
        RdfSyntaxError: if an ontology file is malformed.
        InputError: if the folder holds no ontology.
    """
    return _load_folder(ontology_dir, "ontology")


def _load_folder(folder: Path, what: str) -> Graph:
    files = sorted(folder.glob("*.ttl"))
    if not files:
        raise InputError(f"no {what} (*.ttl) in {folder}")
    return merge_graphs(parse_file(path) for path in files)


def merge_graphs(graphs: Iterable[Graph | Dataset]) -> Graph:
    """The union of the triples of several graphs or datasets (graph names dropped)."""
    union = Graph()
    for graph in graphs:
        triples = graph.quads() if isinstance(graph, Dataset) else graph
        for triple in triples:
            union.add(triple[:3])
    return union


def class_hierarchy(ontology: Graph) -> Graph:
    """The ``rdfs:subClassOf`` triples of the ontology between named classes."""
    hierarchy = Graph()
    for sub, sup in ontology.subject_objects(RDFS.subClassOf):
        if isinstance(sub, URIRef) and isinstance(sup, URIRef):
            hierarchy.add((sub, RDFS.subClassOf, sup))
    return hierarchy


def validate_graph(
    data: Graph,
    *,
    shapes: Graph,
    ontology: Graph | None = None,
) -> ValidationOutcome:
    """Validate ``data`` against ``shapes``, seeing the ontology's class hierarchy.

    ``data`` is not modified.

    Raises:
        InputError: if pySHACL cannot run the shapes (a malformed shapes graph).
    """
    target = Graph()
    for triple in data:
        target.add(triple)
    if ontology is not None:
        target += class_hierarchy(ontology)
    with _shapes_errors():
        conforms, report, _text = pyshacl.validate(
            target, shacl_graph=shapes, advanced=True, meta_shacl=False, **_OPTIONS
        )
    assert isinstance(report, Graph)
    return outcome_from_report(report, conforms=bool(conforms))


def focused_report(data: Graph, shapes: Graph, focus: set[Node]) -> Graph:
    """pySHACL's report on the focus nodes only, each against the shapes that target it.

    pySHACL's own ``focus_nodes`` option also filters the value nodes that nested shapes
    (``sh:node``, ``sh:or``, ...) are evaluated on, and so loses results; here each targeting
    shape is evaluated on its targets among ``focus`` and nested evaluations are left alone.
    ``data`` is used in place, not copied.

    Raises:
        InputError: if the shapes cannot be read or run.
    """
    with _shapes_errors():
        target = DataGraph.from_rdflib_graph(data)
        options = {**_OPTIONS, "advanced": False, "inplace": True}
        validator = pyshacl.Validator(target, shacl_graph=shapes, options=options)
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
    assert isinstance(report, Graph)
    return report


def _has_targets(shapes: Graph, shape: Node) -> bool:
    return any(True for p in TARGETS for _ in shapes.objects(shape, p)) or (
        (shape, RDF.type, RDFS.Class) in shapes
    )


@contextmanager
def _shapes_errors() -> Iterator[None]:
    """pySHACL's failures to read or run the shapes, as :class:`InputError`."""
    try:
        yield
    except (pyshacl.errors.ReportableRuntimeError, pyshacl.errors.ShapeLoadError) as exc:
        raise InputError(f"the shapes could not be run: {exc}") from exc


def outcome_from_report(report: Graph, *, conforms: bool = True) -> ValidationOutcome:
    """The outcome a SHACL validation report describes (violations make it non-conforming)."""
    results = tuple(_results(report))
    conforming = not any(r.severity is Severity.VIOLATION for r in results)
    return ValidationOutcome(conforms=conforming and conforms, results=results, report=report)


def _results(report: Graph) -> Iterable[ValidationResult]:
    # The report's own results; nested ones (sh:detail) explain these and are not counted.
    for node in report.objects(None, SH.result):
        messages = [m for m in report.objects(node, SH.resultMessage) if isinstance(m, Literal)]
        english = [m for m in messages if m.language in (None, "en")]
        message = str((english or messages or [Literal("")])[0])
        yield ValidationResult(
            focus_node=_text(report.value(node, SH.focusNode)) or "",
            path=_text(report.value(node, SH.resultPath)),
            value=_text(report.value(node, SH.value)),
            severity=Severity.from_iri(report.value(node, SH.resultSeverity) or SH.Violation),
            source_shape=_text(report.value(node, SH.sourceShape)) or "",
            constraint=_text(report.value(node, SH.sourceConstraintComponent)) or "",
            message=message,
        )


def _text(node: Node | None) -> str | None:
    if node is None:
        return None
    if isinstance(node, BNode):
        return f"_:{node}"
    return str(node)


def validate_files(paths: Iterable[Path], *, source_dir: Path) -> ValidationOutcome:
    """Validate RDF files (their union) against the shapes and ontology in ``source_dir``.

    Raises:
        UnsupportedFormatError: if a file's extension names no RDF format.
        RdfSyntaxError: if a file is malformed (file, line and column in the message).
        InputError: if a file cannot be read, or the shapes cannot be loaded.
    """
    graphs = []
    for path in paths:
        try:
            graphs.append(parse_file(path))
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return validate_graph(
        merge_graphs(graphs),
        shapes=load_shapes(source_dir / "shapes"),
        ontology=load_ontology(source_dir / "ontology"),
    )
