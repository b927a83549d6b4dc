"""Ontology quality checks, in the spirit of ROBOT's ``report`` and the OOPS! pitfall catalogue.

The checks cover the ontology (``ontology/*.ttl``), and where a rule is about the terms in use,
the shapes (``shapes/*.ttl``) and the data (``data/*.trig``) too. The data grows while these tests
stand, so no test counts data; each states a rule that any amount of data must keep.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import owlrl
import pyoxigraph as ox
import pytest
from owlrl.XsdDatatypes import OWL_Datatype_Subsumptions
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from cpgraph.rdf.io import parse_file

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "ontology"

OWL = Namespace("http://www.w3.org/2002/07/owl#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
VANN = Namespace("http://purl.org/vocab/vann/")
PROF = Namespace("http://www.w3.org/ns/dx/prof/")
CP = Namespace("https://w3id.org/cpgraph/ontology#")
ONTOLOGY_IRI = URIRef("https://w3id.org/cpgraph/ontology")
# Where owlrl records an inconsistency: a node of this type with an err:error message.
ERR = Namespace("http://www.daml.org/2002/03/agents/agent-ont#")

BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD), str(SH))
# The vocabularies cpgraph reuses: every IRI used from them must be declared locally.
REUSED = (
    "http://www.w3.org/ns/org#",
    "http://www.w3.org/ns/prov#",
    "http://www.w3.org/2004/02/skos/core#",
    "http://purl.org/dc/terms/",
    "http://xmlns.com/foaf/0.1/",
    "http://www.w3.org/2006/time#",
    "http://purl.org/linked-data/cube#",
    "https://schema.org/",
    "http://data.europa.eu/eli/ontology#",
    "http://purl.org/vocab/vann/",
    "http://qudt.org/vocab/unit/",
    "http://qudt.org/schema/qudt/",
)
TERM_TYPES = {
    OWL.NamedIndividual,
    OWL.Class,
    OWL.ObjectProperty,
    OWL.DatatypeProperty,
    OWL.AnnotationProperty,
    RDFS.Datatype,
}
PROPERTY_TYPES = {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty}
# Shape parameters whose values are terms of a vocabulary.
SHAPE_TERM_PARAMETERS = (
    SH["class"],
    SH.targetClass,
    SH.targetObjectsOf,
    SH.targetSubjectsOf,
    SH.datatype,
    SH.disjoint,
    SH.equals,
    SH.lessThan,
    SH.lessThanOrEquals,
)


def ontology_files() -> list[Path]:
    return sorted((ROOT / "ontology").glob("*.ttl"))


def shape_files() -> list[Path]:
    return sorted((ROOT / "shapes").glob("*.ttl"))


def data_files() -> list[Path]:
    return sorted((ROOT / "data").glob("*.trig"))


def union(paths: list[Path]) -> Graph:
    graph = Graph()
    for path in paths:
        graph += parse_file(path)
    return graph


@functools.cache
def ontology() -> Graph:
    return union(ontology_files())


@functools.cache
def core() -> Graph:
    """cpgraph's own ontology file, without the local copy of external terms."""
    return parse_file(ROOT / "ontology" / "cpgraph.ttl")


@functools.cache
def shapes() -> Graph:
    return union(shape_files())


@functools.cache
def data() -> Graph:
    return union(data_files())


def cp_terms() -> list[URIRef]:
    """Every term cpgraph's ontology declares in its own namespace."""
    subjects = {s for s in core().subjects(RDF.type, None) if str(s).startswith(str(CP))}
    return sorted(s for s in subjects if isinstance(s, URIRef))


def typed(types: set[URIRef]) -> list[URIRef]:
    return [t for t in cp_terms() if set(core().objects(t, RDF.type)) & types]


def local(term: Node) -> str:
    return re.split(r"[#/]", str(term))[-1]


def english(graph: Graph, subject: Node, predicate: URIRef) -> list[Literal]:
    return [
        o
        for o in graph.objects(subject, predicate)
        if isinstance(o, Literal) and o.language == "en"
    ]


# ---------------------------------------------------------------------------------------------
# Labels, definitions, names
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", cp_terms(), ids=local)
def test_every_cp_term_has_one_english_label_and_one_english_definition(term: URIRef) -> None:
    assert len(english(core(), term, RDFS.label)) == 1
    assert len(english(core(), term, SKOS.definition)) == 1
    assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in core()


def test_annotations_have_no_stray_white_space() -> None:
    annotations = (
        RDFS.label,
        SKOS.definition,
        SKOS.scopeNote,
        RDFS.comment,
        DCTERMS.title,
        DCTERMS.description,
    )
    for graph in (ontology(), shapes()):
        for predicate in annotations:
            for subject, text in graph.subject_objects(predicate):
                value = str(text)
                assert value, subject
                assert value == value.strip(), (subject, value)
                assert "  " not in value, (subject, value)


def test_no_two_cp_terms_share_a_label() -> None:
    seen: dict[str, list[str]] = {}
    for term in cp_terms():
        for label in english(core(), term, RDFS.label):
            seen.setdefault(str(label).casefold(), []).append(local(term))
    duplicates = {label: terms for label, terms in seen.items() if len(terms) > 1}
    assert not duplicates, f"labels shared by several terms: {duplicates}"


def test_classes_are_named_in_upper_camel_case() -> None:
    for term in typed({OWL.Class, RDFS.Datatype}):
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", local(term)), term


def test_properties_are_named_in_lower_camel_case() -> None:
    for term in typed(PROPERTY_TYPES):
        assert re.fullmatch(r"[a-z][A-Za-z0-9]*", local(term)), term


def test_no_iri_ends_in_a_file_extension() -> None:
    for graph in (ontology(), shapes(), data()):
        for triple in graph:
            for node in triple:
                if isinstance(node, URIRef):
                    assert not re.search(r"\.(ttl|owl|rdf|trig)$", str(node)), node


# ---------------------------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "predicate",
    [
        OWL.versionIRI,
        OWL.versionInfo,
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.license,
        DCTERMS.creator,
        DCTERMS.created,
        DCTERMS.modified,
        VANN.preferredNamespacePrefix,
        VANN.preferredNamespaceUri,
    ],
    ids=local,
)
def test_the_ontology_header_states(predicate: URIRef) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in core()
    assert core().value(ONTOLOGY_IRI, predicate) is not None


def test_the_ontology_document_has_one_header() -> None:
    """Documentation tools (pyLODE, LODE) take every owl:Ontology, skos:ConceptScheme and
    prof:Profile of a document for its header; Widoco and pyLODE show every title."""
    headers = [
        s
        for kind in (OWL.Ontology, SKOS.ConceptScheme, PROF.Profile)
        for s in core().subjects(RDF.type, kind)
    ]
    assert headers == [ONTOLOGY_IRI]
    titles = list(core().objects(ONTOLOGY_IRI, DCTERMS.title))
    languages = [t.language for t in titles if isinstance(t, Literal)]
    assert len(languages) == len(set(languages)) == len(titles) > 0
    assert set(core().objects(ONTOLOGY_IRI, RDFS.label)) <= set(titles)


def test_the_header_names_the_namespace_the_terms_use() -> None:
    assert str(core().value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(CP)
    assert str(core().value(ONTOLOGY_IRI, VANN.preferredNamespacePrefix)) == "cp"


# ---------------------------------------------------------------------------------------------
# Structure
# ---------------------------------------------------------------------------------------------


def cycles(graph: Graph, predicate: URIRef) -> list[list[Node]]:
    """The cycles of ``predicate`` between named nodes (a node linked to itself counts)."""
    edges: dict[Node, set[Node]] = {}
    for s, o in graph.subject_objects(predicate):
        if isinstance(s, URIRef) and isinstance(o, URIRef):
            edges.setdefault(s, set()).add(o)
    found: list[list[Node]] = []
    state: dict[Node, int] = {}  # 1 on the current path, 2 done

    def visit(node: Node, path: list[Node]) -> None:
        state[node] = 1
        for nxt in edges.get(node, ()):
            if state.get(nxt) == 1:
                found.append([*path[path.index(nxt) :], nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in list(edges):
        if start not in state:
            visit(start, [start])
    return found


def test_the_class_hierarchy_has_no_cycle() -> None:
    assert cycles(ontology(), RDFS.subClassOf) == []


def test_the_sector_hierarchy_has_no_cycle() -> None:
    assert cycles(data(), SKOS.broader) == []


def test_cycle_detection_finds_a_cycle() -> None:
    graph = Graph()
    graph.add((CP.A, RDFS.subClassOf, CP.B))
    graph.add((CP.B, RDFS.subClassOf, CP.A))
    assert cycles(graph, RDFS.subClassOf)


def test_no_class_is_also_an_instance_of_a_cp_class() -> None:
    everything = ontology() + data()
    for term in everything.subjects(RDF.type, OWL.Class):
        types = {t for t in everything.objects(term, RDF.type) if str(t).startswith(str(CP))}
        assert not types, f"{term} is a class and an instance of {types}"


# ---------------------------------------------------------------------------------------------
# Every term used is declared
# ---------------------------------------------------------------------------------------------


def declared_terms() -> set[Node]:
    return set(ontology().subjects(RDF.type, None))


def path_terms(graph: Graph, path: Node) -> Iterator[Node]:
    """The IRIs in a SHACL property path."""
    if isinstance(path, URIRef):
        yield path
    elif isinstance(path, BNode):
        if graph.value(path, RDF.first) is not None:
            for member in Collection(graph, path):
                yield from path_terms(graph, member)
        for _, inner in graph.predicate_objects(path):
            if isinstance(inner, BNode) or graph.value(path, RDF.first) is None:
                yield from path_terms(graph, inner)


def used_terms(graph: Graph, *, shapes_graph: bool = False) -> set[Node]:
    """Predicates, classes and, where a shape names them, paths and targets, plus any IRI of
    cpgraph's ontology namespace or of a reused vocabulary."""
    used: set[Node] = set(graph.predicates()) | set(graph.objects(None, RDF.type))
    for triple in graph:
        for node in triple:
            in_vocabulary = str(node).startswith((str(CP), *REUSED)) and str(node) not in REUSED
            if isinstance(node, URIRef) and in_vocabulary:
                used.add(node)
    if shapes_graph:
        for parameter in SHAPE_TERM_PARAMETERS:
            used |= set(graph.objects(None, parameter))
        for path in graph.objects(None, SH.path):
            used |= set(path_terms(graph, path))
    return {t for t in used if isinstance(t, URIRef) and not str(t).startswith(BUILT_IN)}


@pytest.mark.parametrize(
    ("name", "graph", "is_shapes"),
    [("ontology", ontology, False), ("shapes", shapes, True), ("data", data, False)],
    ids=["ontology", "shapes", "data"],
)
def test_every_term_used_is_declared_in_the_ontology(name: str, graph, is_shapes: bool) -> None:
    undeclared = sorted(
        str(t) for t in used_terms(graph(), shapes_graph=is_shapes) - declared_terms()
    )
    assert not undeclared, f"terms used in {name}/ but declared in no ontology/*.ttl: {undeclared}"


def test_the_declared_check_catches_an_undeclared_term() -> None:
    graph = Graph()
    graph.add((URIRef("https://w3id.org/cpgraph/id/org/sepa"), CP.issuedBye, Literal("x")))
    assert CP.issuedBye in used_terms(graph) - declared_terms()


def external_terms() -> list[URIRef]:
    graph = parse_file(ROOT / "ontology" / "external-terms.ttl")
    return sorted(s for s in set(graph.subjects(RDF.type, None)) if isinstance(s, URIRef))


@pytest.mark.parametrize("term", external_terms(), ids=str)
def test_every_external_term_is_typed_labelled_defined_and_attributed(term: URIRef) -> None:
    graph = ontology()
    assert not str(term).startswith((*BUILT_IN, str(CP))), "declare only other vocabularies' terms"
    assert len(set(graph.objects(term, RDF.type)) & TERM_TYPES) == 1
    assert len(english(graph, term, RDFS.label)) == 1
    assert len(english(graph, term, SKOS.definition)) == 1
    namespace = next(ns for ns in REUSED if str(term).startswith(ns))
    assert graph.value(term, RDFS.isDefinedBy) == URIRef(namespace)


def test_external_terms_are_declared_once() -> None:
    core_subjects = set(core().subjects(RDF.type, None))
    assert not set(external_terms()) & core_subjects


# ---------------------------------------------------------------------------------------------
# Parsers agree
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ontology_files() + shape_files(), ids=lambda p: p.name)
def test_rdflib_and_pyoxigraph_read_the_same_triples(path: Path) -> None:
    with_rdflib = Graph().parse(path, format="turtle")
    with_oxigraph = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
    assert len(with_rdflib) == len(set(with_oxigraph)) > 0
    named = {
        (str(s), str(p), str(o))
        for s, p, o in with_rdflib
        if not isinstance(s, BNode) and not isinstance(o, BNode) and isinstance(o, URIRef)
    }
    named_ox = {
        (q.subject.value, q.predicate.value, q.object.value)
        for q in with_oxigraph
        if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode)
    }
    assert named == named_ox


# ---------------------------------------------------------------------------------------------
# Consistency under OWL 2 RL
# ---------------------------------------------------------------------------------------------


def owl_rl_errors(graph: Graph) -> list[str]:
    """The inconsistencies owlrl finds in the OWL 2 RL closure of ``graph``.

    owlrl does not raise on an inconsistency: its rules (cax-dw and cax-adc for disjoint classes,
    dt-not-type for a literal whose lexical form its datatype rejects, cls-nothing2, prp-irp, ...)
    call ``add_error``, and at the end of the closure each message is added to the graph as a
    node of type ``err:ErrorMessage`` with the text in ``err:error``
    (owlrl/Closure.py, ``Core.closure``).
    """
    closure = Graph()
    closure += graph
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closure)
    return sorted(
        str(closure.value(m, ERR.error)) for m in closure.subjects(RDF.type, ERR.ErrorMessage)
    )


# What cp:FlexibleDate admits: a date at the precision its source gives. OWL 2 DL cannot say so
# (none of the three is in its datatype map; the ontology defines the datatype as rdfs:Literal),
# so the shapes say it, and the tests below hold the two together.
FLEXIBLE_DATE = frozenset({XSD.gYear, XSD.gYearMonth, XSD.date})


def range_breaks(graph: Graph, schema: Graph) -> list[tuple[Node, Node, Node]]:
    """The values of datatype properties that do not belong to the property's declared range.

    owlrl does not see these: it infers that a value has its property's range rather than
    reporting a clash, and it ignores xsd:gYear and xsd:gYearMonth, which are outside OWL 2 RL.
    A literal of a datatype derived from the range (an xsd:integer for xsd:decimal) belongs to it;
    one of cp:FlexibleDate is one of ``FLEXIBLE_DATE``.
    """
    breaks = []
    for prop in schema.subjects(RDF.type, OWL.DatatypeProperty):
        declared = schema.value(prop, RDFS.range)
        if declared is None:
            continue
        allowed = FLEXIBLE_DATE if declared == CP.FlexibleDate else {declared}
        for s, o in graph.subject_objects(prop):
            if not isinstance(o, Literal):
                breaks.append((s, prop, o))
                continue
            own = RDF.langString if o.language else (o.datatype or XSD.string)
            ok = own in allowed or set(OWL_Datatype_Subsumptions.get(own, ())) & allowed
            if not ok:
                breaks.append((s, prop, o))
    return breaks


def test_the_ontology_and_the_data_are_consistent_under_owl_rl() -> None:
    assert owl_rl_errors(ontology() + data()) == []


def test_owl_rl_check_detects_an_inconsistent_graph() -> None:
    errors = owl_rl_errors(ontology() + parse_file(FIXTURES / "inconsistent.ttl"))
    text = "\n".join(errors)
    assert "Law and https://w3id.org/cpgraph/ontology#Plan have a common individual" in text
    assert "Person and https://w3id.org/cpgraph/ontology#Organisation have a common" in text
    assert "does not match its datatype (http://www.w3.org/2001/XMLSchema#integer)" in text


def test_no_literal_breaks_its_property_range() -> None:
    assert range_breaks(ontology() + data(), ontology()) == []


def test_range_check_detects_literals_outside_the_range() -> None:
    found = range_breaks(parse_file(FIXTURES / "range-breaking.ttl"), ontology())
    assert {(local(s), local(p)) for s, p, _ in found} == {
        ("observation-with-value-in-words", "value"),
        ("workshop-with-date-in-words", "startDate"),
        ("regulation-with-untagged-obligation", "requires"),
        ("extract-with-locator-as-iri", "locator"),
    }


def shape_datatypes(path: URIRef) -> list[frozenset[Node]]:
    """The datatypes that each property shape on ``path`` allows through an ``sh:or`` list."""
    found = []
    for shape in shapes().subjects(SH.path, path):
        for head in shapes().objects(shape, SH["or"]):
            members = Collection(shapes(), head)
            found.append(frozenset(shapes().value(m, SH.datatype) for m in members))
    return found


def flexible_date_properties() -> list[URIRef]:
    return sorted(p for p in core().subjects(RDFS.range, CP.FlexibleDate) if isinstance(p, URIRef))


@pytest.mark.parametrize("prop", flexible_date_properties(), ids=local)
def test_a_shape_holds_each_flexible_date_to_a_year_a_month_or_a_day(prop: URIRef) -> None:
    assert FLEXIBLE_DATE in shape_datatypes(prop)


def test_the_properties_held_to_those_precisions_range_over_flexible_date() -> None:
    held = {
        p
        for p in set(shapes().objects(None, SH.path))
        if isinstance(p, URIRef) and str(p).startswith(str(CP))
        if FLEXIBLE_DATE in shape_datatypes(p)
    }
    assert held == set(flexible_date_properties())
