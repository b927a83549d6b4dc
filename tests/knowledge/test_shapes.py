"""The SHACL shapes, pinned down by fixtures: data that meets each shape, and data that breaks it.

The fixtures live in ``tests/knowledge/shapes/<NodeShapeName>/``. ``valid.ttl`` must conform
with no result at all (not even a warning or an info). Each ``invalid-<what>.ttl`` starts with
comment lines that name the result it must produce::

    # expect-shape: cpsh:IssuerRequiredProperty   (the source shape, or the node shape holding it)
    # expect-component: sh:MinCountConstraintComponent
    # expect-severity: Violation
    # expect-message: needs the actor that issued it
    # also-shape: cpsh:PlaceShape                  (optional: another shape allowed to report)

Every other result the file produces must come from the expected shape or an ``also-shape``, so
a fixture breaks one rule, not several. Each fixture is validated together with
``tests/knowledge/shapes/common.ttl`` (valid nodes the fixtures point to) and the ontology's
individuals, as the build validates the data together with the ontology.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from cpgraph.rdf.io import parse_file
from cpgraph.validation.shacl import (
    Severity,
    ValidationOutcome,
    ValidationResult,
    load_ontology,
    load_shapes,
    validate_graph,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "shapes"
COMMON = FIXTURES / "common.ttl"

SH = Namespace("http://www.w3.org/ns/shacl#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
CP = Namespace("https://w3id.org/cpgraph/ontology#")
CPSH = Namespace("https://w3id.org/cpgraph/shapes#")
SHAPES_IRI = URIRef("https://w3id.org/cpgraph/shapes")
CURIES = {"cpsh": str(CPSH), "sh": str(SH), "cp": str(CP)}

# Classes of the reused vocabularies that cpgraph's data instantiates directly.
REUSED_CLASSES = {
    URIRef("http://www.w3.org/ns/org#Membership"),
    URIRef("http://www.w3.org/ns/org#Role"),
    URIRef("http://purl.org/linked-data/cube#DataSet"),
    URIRef("http://www.w3.org/2004/02/skos/core#ConceptScheme"),
}
# Types that make a term part of a schema rather than an individual.
SCHEMA_TYPES = {
    OWL.Class,
    OWL.Ontology,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    RDFS.Datatype,
    RDFS.Class,
    RDF.Property,
    URIRef("http://purl.org/linked-data/cube#DimensionProperty"),
    URIRef("http://purl.org/linked-data/cube#MeasureProperty"),
    URIRef("http://purl.org/linked-data/cube#AttributeProperty"),
}
# Parameters of core constraint components that a node shape may state about the node itself.
NODE_LEVEL_CONSTRAINTS = {
    SH["class"],
    SH.datatype,
    SH.nodeKind,
    SH["in"],
    SH.hasValue,
    SH["not"],
    SH["or"],
    SH["and"],
    SH.xone,
    SH.node,
    SH.pattern,
    SH.minLength,
    SH.maxLength,
    SH.closed,
}


@functools.cache
def shapes() -> Graph:
    return load_shapes(ROOT / "shapes")


@functools.cache
def ontology() -> Graph:
    return load_ontology(ROOT / "ontology")


@functools.cache
def common() -> Graph:
    return parse_file(COMMON)


@functools.cache
def ontology_individuals() -> Graph:
    """The statements about the ontology's individuals (cp:Exactly, cp:LegalStatusScheme, ...).

    The build validates the data together with the whole ontology; the fixtures take only the
    individuals, the part of the ontology that the shapes target, to stay fast. A test below
    validates the whole ontology.
    """
    graph = Graph()
    for subject in set(ontology().subjects(RDF.type, None)):
        types = set(ontology().objects(subject, RDF.type))
        if isinstance(subject, URIRef) and not types & SCHEMA_TYPES:
            for triple in ontology().triples((subject, None, None)):
                graph.add(triple)
    return graph


@functools.cache
def outcome_of(path: Path) -> ValidationOutcome:
    """The validation of one fixture, with the common nodes and the ontology's individuals."""
    data = parse_file(path) + common() + ontology_individuals()
    return validate_graph(data, shapes=shapes(), ontology=ontology())


def expand(curie: str) -> str:
    prefix, _, local = curie.strip().partition(":")
    return CURIES[prefix] + local if prefix in CURIES else curie.strip()


@dataclass(frozen=True)
class Expectation:
    """The result an invalid fixture must produce, read from its header comments."""

    shape: str
    component: str
    severity: Severity
    message: str
    also_shapes: frozenset[str]

    @classmethod
    def read(cls, path: Path) -> Expectation:
        fields: dict[str, list[str]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            match = re.match(r"#\s*(expect-[a-z]+|also-shape):\s*(.+?)\s*$", line)
            if match:
                fields.setdefault(match.group(1), []).append(match.group(2))
        missing = {"expect-shape", "expect-component", "expect-severity", "expect-message"}
        missing -= fields.keys()
        assert not missing, f"{path.name} lacks the header line(s) {sorted(missing)}"
        return cls(
            shape=expand(fields["expect-shape"][0]),
            component=expand(fields["expect-component"][0]),
            severity=Severity(fields["expect-severity"][0]),
            message=fields["expect-message"][0],
            also_shapes=frozenset(expand(s) for s in fields.get("also-shape", [])),
        )


def owning_shapes(result: ValidationResult) -> set[str]:
    """The result's source shape and every node shape that holds it as a property shape."""
    source = URIRef(result.source_shape)
    owners = {str(s) for s in shapes().subjects(SH.property, source) if isinstance(s, URIRef)}
    return {result.source_shape, *owners}


def matches(result: ValidationResult, expected: Expectation) -> bool:
    return (
        expected.shape in owning_shapes(result)
        and result.constraint == expected.component
        and result.severity is expected.severity
        and expected.message in result.message
    )


def node_shapes() -> list[URIRef]:
    found = {s for s in shapes().subjects(RDF.type, SH.NodeShape) if isinstance(s, URIRef)}
    return sorted(found)


def local_name(iri: URIRef | str) -> str:
    return str(iri).rsplit("#", 1)[-1]


def valid_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*/valid.ttl"))


def invalid_fixtures() -> list[Path]:
    return sorted(FIXTURES.glob("*/invalid-*.ttl"))


def fixture_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


@pytest.mark.parametrize("path", valid_fixtures(), ids=fixture_id)
def test_valid_fixture_conforms_without_any_result(path: Path) -> None:
    outcome = outcome_of(path)
    assert outcome.conforms, outcome.describe()
    assert outcome.results == (), outcome.describe()


@pytest.mark.parametrize("path", invalid_fixtures(), ids=fixture_id)
def test_invalid_fixture_reports_the_expected_result(path: Path) -> None:
    expected = Expectation.read(path)
    outcome = outcome_of(path)
    assert outcome.conforms is (expected.severity is not Severity.VIOLATION), outcome.describe()
    assert any(matches(r, expected) for r in outcome.results), (
        f"no result from {expected.shape} ({expected.component}, {expected.severity.value}, "
        f"message containing {expected.message!r}) in:\n{outcome.describe()}"
    )
    allowed = {expected.shape, *expected.also_shapes}
    strays = [r for r in outcome.results if not owning_shapes(r) & allowed]
    assert not strays, "the fixture breaks other rules too:\n" + "\n".join(
        f"{r.source_shape}: {r.describe()}" for r in strays
    )


def test_every_node_shape_has_a_valid_and_an_invalid_fixture() -> None:
    for shape in node_shapes():
        folder = FIXTURES / local_name(shape)
        assert (folder / "valid.ttl").is_file(), f"{local_name(shape)} has no valid.ttl"
        own = {str(shape)} | {str(p) for p in shapes().objects(shape, SH.property)}
        targeted = [p for p in folder.glob("invalid-*.ttl") if Expectation.read(p).shape in own]
        assert targeted, f"{local_name(shape)} has no invalid-*.ttl that breaks one of its rules"


def test_every_fixture_folder_is_named_after_a_node_shape() -> None:
    names = {local_name(s) for s in node_shapes()}
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders <= names, f"fixture folders without a node shape: {sorted(folders - names)}"


def test_every_property_shape_is_broken_by_some_fixture() -> None:
    property_shapes = {
        s
        for s in shapes().objects(None, SH.property)
        if isinstance(s, URIRef) and str(s).startswith(str(CPSH))
    }
    broken: set[str] = set()
    for path in invalid_fixtures():
        expected = Expectation.read(path)
        broken |= {r.source_shape for r in outcome_of(path).results if matches(r, expected)}
    unbroken = sorted(local_name(s) for s in property_shapes if str(s) not in broken)
    assert not unbroken, f"property shapes no invalid fixture breaks: {unbroken}"


def test_every_class_of_the_ontology_has_its_own_node_shape() -> None:
    classes = {c for c in ontology().subjects(RDF.type, OWL.Class) if str(c).startswith(str(CP))}
    targeted = set(shapes().objects(None, SH.targetClass))
    missing = sorted(local_name(c) for c in (classes | REUSED_CLASSES) - targeted)
    assert not missing, f"classes without a node shape: {missing}"


def test_every_rule_carries_an_english_message_saying_what_to_do() -> None:
    holders: list[URIRef | BNode] = []
    for shape in node_shapes():
        if any((shape, p, None) in shapes() for p in NODE_LEVEL_CONSTRAINTS):
            holders.append(shape)
    for prop in set(shapes().objects(None, SH.property)):
        if set(shapes().predicates(prop)) - {RDF.type, RDFS.label, SH.path, SH.sparql}:
            holders.append(prop)
    holders += list(shapes().subjects(RDF.type, SH.SPARQLConstraint))
    for holder in holders:
        messages = [m for m in shapes().objects(holder, SH.message) if isinstance(m, Literal)]
        assert [m.language for m in messages] == ["en"], f"{holder}: one sh:message@en needed"
        what, _, todo = str(messages[0]).partition(": ")
        assert what.strip(), f"{holder}: the message must say what is wrong, then a colon"
        assert todo.strip(), f"{holder}: the message must say what to do after the colon"


def test_every_node_shape_is_labelled_and_described() -> None:
    for shape in node_shapes():
        labels = list(shapes().objects(shape, RDFS.label))
        comments = list(shapes().objects(shape, RDFS.comment))
        assert len(labels) == 1, local_name(shape)
        assert len(comments) == 1, local_name(shape)


def test_the_shapes_graph_describes_itself_and_declares_its_sparql_prefixes() -> None:
    graph = shapes()
    assert (SHAPES_IRI, RDF.type, OWL.Ontology) in graph
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.license, DCTERMS.creator):
        assert graph.value(SHAPES_IRI, predicate) is not None, predicate
    declared = {str(graph.value(d, SH.prefix)) for d in graph.objects(SHAPES_IRI, SH.declare)}
    for constraint in graph.subjects(RDF.type, SH.SPARQLConstraint):
        assert graph.value(constraint, SH.prefixes) == SHAPES_IRI
        query = str(graph.value(constraint, SH.select))
        used = set(re.findall(r"\b([a-z]+):[A-Za-z]", query))
        assert used <= declared, f"{constraint} uses undeclared prefixes {used - declared}"


def test_shape_lists_hold_only_named_members() -> None:
    graph = shapes()
    for head in graph.objects(None, SH["in"]):
        assert all(isinstance(m, URIRef) for m in Collection(graph, head))


def test_the_ontology_on_its_own_conforms_without_any_result() -> None:
    outcome = validate_graph(ontology(), shapes=shapes(), ontology=ontology())
    assert outcome.results == (), outcome.describe()


def test_the_shipped_data_conforms() -> None:
    files = sorted((ROOT / "data").glob("*.trig"))
    if not files:
        pytest.skip("no data/*.trig yet")
    data = Graph()
    data += ontology()
    for path in files:
        data += parse_file(path)
    outcome = validate_graph(data, shapes=shapes(), ontology=ontology())
    assert outcome.conforms, outcome.describe(limit=40)
