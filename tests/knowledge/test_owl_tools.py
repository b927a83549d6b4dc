"""The OWL tools people use on cpgraph's ontology: an OWL 2 DL profile check, HermiT through
owlready2, and pyLODE.

The profile check is structural, over the ontology's RDF mapping (OWL 2 Structural
Specification, sections 4, 5 and 11), because no OWL 2 DL checker that these tests can install
reads the datatype map right: the OWL API 3.4 bundled in owlready2's HermiT.jar takes every XSD
datatype as built in (it passes xsd:gYear) and predates rdf:langString (it reads such a range as
a class), and pyowl2-profiles accepts xsd:gYear on purpose. Each rule is shown to fire on a
small ontology that breaks it.

HermiT needs a Java runtime (the Makefile's test-deps installs Debian's); without one, those
tests skip and say so.
"""

from __future__ import annotations

import functools
import html
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from cpgraph.rdf.io import parse_file

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "ontology" / "cpgraph.ttl"
EXTERNAL = ROOT / "ontology" / "external-terms.ttl"

RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
CP = Namespace("https://w3id.org/cpgraph/ontology#")
ONTOLOGY_IRI = URIRef("https://w3id.org/cpgraph/ontology")
RESERVED = (str(RDF), str(RDFS), str(OWL), str(XSD))

# The OWL 2 datatype map (Structural Specification, section 4), with rdfs:Literal, and with
# rdf:langString: RDF 1.1's name for the language-tagged strings of rdf:PlainLiteral, which OWL
# tools since (the OWL API from version 4, HermiT) take as built in.
XSD_IN_THE_MAP = (
    "decimal integer nonNegativeInteger nonPositiveInteger positiveInteger negativeInteger long "
    "int short byte unsignedLong unsignedInt unsignedShort unsignedByte double float string "
    "normalizedString token language Name NCName NMTOKEN boolean hexBinary base64Binary anyURI "
    "dateTime dateTimeStamp"
)
DATATYPE_MAP = frozenset(
    [RDFS.Literal, RDF.PlainLiteral, RDF.XMLLiteral, RDF.langString, OWL.real, OWL.rational]
    + [XSD[name] for name in XSD_IN_THE_MAP.split()]
)
# The built-in entities of OWL 2 (section 5), which are used without a declaration.
BUILT_IN = {
    OWL.Class: {OWL.Thing, OWL.Nothing},
    OWL.ObjectProperty: {OWL.topObjectProperty, OWL.bottomObjectProperty},
    OWL.DatatypeProperty: {OWL.topDataProperty, OWL.bottomDataProperty},
    OWL.AnnotationProperty: {
        RDFS.label,
        RDFS.comment,
        RDFS.seeAlso,
        RDFS.isDefinedBy,
        OWL.deprecated,
        OWL.versionInfo,
        OWL.priorVersion,
        OWL.backwardCompatibleWith,
        OWL.incompatibleWith,
    },
    OWL.NamedIndividual: set(),
}
PROPERTY_KINDS = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
# Property characteristics and restrictions that OWL 2 DL allows on simple properties only
# (section 11.2): no transitive property, nor one with a transitive subproperty or a chain.
SIMPLE_ONLY_TYPES = (
    OWL.FunctionalProperty,
    OWL.InverseFunctionalProperty,
    OWL.IrreflexiveProperty,
    OWL.AsymmetricProperty,
)
SIMPLE_ONLY_RESTRICTIONS = (
    OWL.cardinality,
    OWL.minCardinality,
    OWL.maxCardinality,
    OWL.qualifiedCardinality,
    OWL.minQualifiedCardinality,
    OWL.maxQualifiedCardinality,
    OWL.hasSelf,
)

Violation = tuple[str, str]


def _named(nodes: Iterable[Node]) -> set[URIRef]:
    return {n for n in nodes if isinstance(n, URIRef)}


def _declared(graph: Graph, kind: URIRef) -> set[URIRef]:
    return _named(graph.subjects(RDF.type, kind))


def _members(graph: Graph, node: Node, predicate: URIRef) -> Iterator[Node]:
    for head in graph.objects(node, predicate):
        yield from Collection(graph, head)


def _non_simple(graph: Graph) -> set[URIRef]:
    """Transitive properties, properties with a chain, and every superproperty of either."""
    found = _declared(graph, OWL.TransitiveProperty) | _named(
        graph.subjects(OWL.propertyChainAxiom, None)
    )
    while True:
        more = {
            sup
            for sub, sup in graph.subject_objects(RDFS.subPropertyOf)
            if sub in found and isinstance(sup, URIRef)
        } - found
        if not more:
            return found
        found |= more


def dl_violations(graph: Graph) -> list[Violation]:
    """Where ``graph`` (an ontology in RDF) leaves OWL 2 DL, as (rule, term) pairs.

    The rules: one owl:Ontology header named by an IRI; no reserved IRI declared as an entity;
    each property of one kind only; no IRI both a class and a datatype; every property and
    class used declared; data ranges built from the datatype map and from declared datatypes
    outside the reserved vocabulary, and no literal of another datatype; no built-in datatype
    redefined; object ranges that are classes; simple properties where OWL 2 DL requires them.
    """
    found: set[Violation] = set()
    declared = {kind: _declared(graph, kind) | built for kind, built in BUILT_IN.items()}
    datatypes = _declared(graph, RDFS.Datatype)
    classes = declared[OWL.Class]
    properties = set().union(*(declared[kind] for kind in PROPERTY_KINDS))

    headers = list(graph.subjects(RDF.type, OWL.Ontology))
    if len(headers) != 1 or not isinstance(headers[0], URIRef):
        found.add(("one owl:Ontology header named by an IRI", str(len(headers))))

    for kind, built in BUILT_IN.items():
        for iri in declared[kind] - built:
            if str(iri).startswith(RESERVED):
                found.add((f"reserved IRI declared as {kind.n3()}", str(iri)))
    for iri in datatypes:
        if str(iri).startswith(RESERVED) and iri not in DATATYPE_MAP:
            found.add(("reserved IRI declared as a datatype", str(iri)))
        if iri in DATATYPE_MAP and graph.value(iri, OWL.equivalentClass) is not None:
            found.add(("built-in datatype redefined", str(iri)))
    for iri in properties:
        if sum(iri in declared[kind] for kind in PROPERTY_KINDS) > 1:
            found.add(("property declared of several kinds", str(iri)))
    for iri in classes & datatypes:
        found.add(("IRI both a class and a datatype", str(iri)))

    for predicate in _named(graph.predicates()) - properties:
        if not str(predicate).startswith(RESERVED):
            found.add(("undeclared property", str(predicate)))
    used_classes = _named(graph.objects(None, RDFS.subClassOf)) | _named(
        graph.subjects(RDFS.subClassOf, None)
    )
    used_classes |= {
        t for t in _named(graph.objects(None, RDF.type)) if not str(t).startswith(RESERVED)
    }
    used_classes |= _named(graph.objects(None, RDFS.domain))
    for prop in declared[OWL.ObjectProperty]:
        used_classes |= _named(graph.objects(prop, RDFS.range))
    for node in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        used_classes |= _named(_members(graph, node, OWL.members))
    for iri in used_classes - classes:
        why = "datatype used as a class" if iri in datatypes | DATATYPE_MAP else "undeclared class"
        found.add((why, str(iri)))

    def data_range(node: Node) -> None:
        if isinstance(node, URIRef):
            if node in classes:
                found.add(("class used as a data range", str(node)))
            elif node not in DATATYPE_MAP and not (
                node in datatypes and not str(node).startswith(RESERVED)
            ):
                found.add(("datatype outside the OWL 2 datatype map", str(node)))
            return
        for predicate in (OWL.unionOf, OWL.intersectionOf):
            for member in _members(graph, node, predicate):
                data_range(member)
        for predicate in (OWL.datatypeComplementOf, OWL.onDatatype):
            for inner in graph.objects(node, predicate):
                data_range(inner)

    for prop in declared[OWL.DatatypeProperty]:
        for target in graph.objects(prop, RDFS.range):
            data_range(target)
    for restriction, prop in graph.subject_objects(OWL.onProperty):
        if prop in declared[OWL.DatatypeProperty]:
            for predicate in (OWL.someValuesFrom, OWL.allValuesFrom, OWL.onDataRange):
                for target in graph.objects(restriction, predicate):
                    data_range(target)
    for iri in datatypes:
        for target in graph.objects(iri, OWL.equivalentClass):
            data_range(target)
    for literal in graph.objects():
        kind = literal.datatype if isinstance(literal, Literal) else None
        declared_outside_reserved = kind in datatypes and not str(kind).startswith(RESERVED)
        if kind is not None and kind not in DATATYPE_MAP and not declared_outside_reserved:
            found.add(("literal of a datatype outside the OWL 2 datatype map", str(kind)))

    for prop in declared[OWL.ObjectProperty]:
        for target in _named(graph.objects(prop, RDFS.range)):
            if target in datatypes | DATATYPE_MAP:
                found.add(("object property ranging over a datatype", str(prop)))

    non_simple = _non_simple(graph)
    for kind in SIMPLE_ONLY_TYPES:
        for prop in _declared(graph, kind) & non_simple:
            found.add((f"non-simple property in {kind.n3()}", str(prop)))
    for restriction, prop in graph.subject_objects(OWL.onProperty):
        if prop in non_simple and any(
            graph.value(restriction, p) is not None for p in SIMPLE_ONLY_RESTRICTIONS
        ):
            found.add(("non-simple property in a cardinality restriction", str(prop)))
    return sorted(found)


@functools.cache
def core() -> Graph:
    return parse_file(CORE)


@functools.cache
def external() -> Graph:
    return parse_file(EXTERNAL)


@functools.cache
def ontology() -> Graph:
    return core() + external()


@functools.cache
def data() -> Graph:
    graph = Graph()
    for path in sorted((ROOT / "data").glob("*.trig")):
        graph += parse_file(path)
    return graph


def turtle(text: str) -> Graph:
    prefixes = "".join(
        f"@prefix {p}: <{ns}> .\n"
        for p, ns in (("rdf", RDF), ("rdfs", RDFS), ("owl", OWL), ("xsd", XSD), ("cp", CP))
    )
    return Graph().parse(data=prefixes + "@prefix ex: <http://example.org/> .\n" + text)


HEADER = "<http://example.org/o> a owl:Ontology .\n"

# ---------------------------------------------------------------------------------------------
# OWL 2 DL
# ---------------------------------------------------------------------------------------------


def test_the_ontology_with_its_external_terms_is_in_owl_2_dl() -> None:
    assert dl_violations(ontology()) == []


def test_the_ontology_document_alone_lacks_only_the_declarations_of_external_terms() -> None:
    declared_outside = {str(s) for s in external().subjects(RDF.type, None)}
    missing = dl_violations(core())
    assert missing, "the ontology document uses terms of other vocabularies"
    assert {rule for rule, _ in missing} <= {"undeclared class", "undeclared property"}
    assert {term for _, term in missing} <= declared_outside


def test_the_data_leave_owl_2_dl_only_through_dates_of_mixed_precision() -> None:
    """xsd:gYear, xsd:gYearMonth and xsd:date are outside the OWL 2 datatype map."""
    dates = {str(XSD.gYear), str(XSD.gYearMonth), str(XSD.date)}
    violations = dl_violations(ontology() + data())
    assert {rule for rule, _ in violations} == {
        "literal of a datatype outside the OWL 2 datatype map"
    }
    assert {term for _, term in violations} <= dates


BREAKS = {
    "a second header": (
        "<http://example.org/other> a owl:Ontology .",
        ("one owl:Ontology header named by an IRI", "2"),
    ),
    "a data restriction outside the datatype map": (
        "ex:A a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:founded ; "
        "owl:someValuesFrom xsd:gYearMonth ] . ex:founded a owl:DatatypeProperty .",
        ("datatype outside the OWL 2 datatype map", str(XSD.gYearMonth)),
    ),
    "a datatype as a superclass": (
        "ex:A a owl:Class ; rdfs:subClassOf xsd:string .",
        ("datatype used as a class", str(XSD.string)),
    ),
    "the former cp:FlexibleDate, a union of XSD date types": (
        "ex:Date a rdfs:Datatype ; owl:equivalentClass "
        "[ a rdfs:Datatype ; owl:unionOf ( xsd:gYear xsd:gYearMonth xsd:date ) ] .",
        ("datatype outside the OWL 2 datatype map", str(XSD.gYearMonth)),
    ),
    "a range outside the datatype map": (
        "ex:founded a owl:DatatypeProperty ; rdfs:range xsd:gYear .",
        ("datatype outside the OWL 2 datatype map", str(XSD.gYear)),
    ),
    "a reserved IRI declared as a datatype": (
        "xsd:gYear a rdfs:Datatype . ex:founded a owl:DatatypeProperty ; rdfs:range xsd:gYear .",
        ("reserved IRI declared as a datatype", str(XSD.gYear)),
    ),
    "a literal outside the datatype map": (
        "ex:founded a owl:DatatypeProperty . ex:x a owl:NamedIndividual ; "
        'ex:founded "1997"^^xsd:gYear .',
        ("literal of a datatype outside the OWL 2 datatype map", str(XSD.gYear)),
    ),
    "a property of two kinds": (
        "ex:p a owl:ObjectProperty, owl:DatatypeProperty .",
        ("property declared of several kinds", "http://example.org/p"),
    ),
    "an IRI both a class and a datatype": (
        "ex:T a owl:Class, rdfs:Datatype .",
        ("IRI both a class and a datatype", "http://example.org/T"),
    ),
    "an undeclared property": (
        "ex:A a owl:Class ; ex:note 'x' .",
        ("undeclared property", "http://example.org/note"),
    ),
    "an undeclared class": (
        "ex:A a owl:Class ; rdfs:subClassOf ex:B .",
        ("undeclared class", "http://example.org/B"),
    ),
    "a class as a data range": (
        "ex:A a owl:Class . ex:p a owl:DatatypeProperty ; rdfs:range ex:A .",
        ("class used as a data range", "http://example.org/A"),
    ),
    "a datatype as an object range": (
        "ex:p a owl:ObjectProperty ; rdfs:range xsd:string .",
        ("object property ranging over a datatype", "http://example.org/p"),
    ),
    "a built-in datatype redefined": (
        "xsd:string a rdfs:Datatype ; owl:equivalentClass xsd:token .",
        ("built-in datatype redefined", str(XSD.string)),
    ),
    "a reserved IRI declared as a class": (
        "rdfs:Resource a owl:Class .",
        (f"reserved IRI declared as {OWL.Class.n3()}", str(RDFS.Resource)),
    ),
    "a functional transitive property": (
        "ex:within a owl:ObjectProperty, owl:TransitiveProperty . "
        "ex:directlyWithin a owl:ObjectProperty, owl:FunctionalProperty, owl:TransitiveProperty .",
        (
            f"non-simple property in {OWL.FunctionalProperty.n3()}",
            "http://example.org/directlyWithin",
        ),
    ),
    "a cardinality on a property with a transitive subproperty": (
        "ex:A a owl:Class ; rdfs:subClassOf [ a owl:Restriction ; owl:onProperty ex:near ; "
        'owl:maxCardinality "1"^^xsd:nonNegativeInteger ] . '
        "ex:near a owl:ObjectProperty . ex:within a owl:ObjectProperty, owl:TransitiveProperty ; "
        "rdfs:subPropertyOf ex:near .",
        ("non-simple property in a cardinality restriction", "http://example.org/near"),
    ),
}


@pytest.mark.parametrize(("text", "violation"), BREAKS.values(), ids=BREAKS.keys())
def test_the_dl_check_catches(text: str, violation: Violation) -> None:
    assert violation in dl_violations(turtle(HEADER + text))


def test_the_dl_check_accepts_a_datatype_defined_from_the_map() -> None:
    graph = turtle(
        HEADER + "ex:Date a rdfs:Datatype ; owl:equivalentClass rdfs:Literal . "
        "ex:founded a owl:DatatypeProperty ; rdfs:range ex:Date . "
        "ex:x a owl:NamedIndividual ; ex:founded 'soon'@en ."
    )
    assert dl_violations(graph) == []


# ---------------------------------------------------------------------------------------------
# HermiT, through owlready2
# ---------------------------------------------------------------------------------------------


def owlready() -> ModuleType:
    """owlready2, when it and a Java runtime for its HermiT can be had; else the test skips."""
    module = pytest.importorskip("owlready2", reason="owlready2 is in the test extra")
    if shutil.which(module.JAVA_EXE) is None and not Path(module.JAVA_EXE).is_file():
        pytest.skip("no Java runtime for HermiT: `make test-deps` installs Debian's as root")
    return module


def hermit(
    graph: Graph, tmp_path: Path, *, ignore_unsupported_datatypes: bool = False
) -> list[str]:
    """The named classes HermiT finds unsatisfiable in ``graph`` (owl:Nothing aside); raises
    owlready2's OwlReadyInconsistentOntologyError when the graph is inconsistent."""
    owlready2 = owlready()
    path = tmp_path / "ontology.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    loaded = world.get_ontology(path.as_uri()).load()
    with loaded:
        owlready2.sync_reasoner_hermit(
            world, debug=0, ignore_unsupported_datatypes=ignore_unsupported_datatypes
        )
    return sorted(c.iri for c in world.inconsistent_classes() if c is not owlready2.Nothing)


def test_hermit_finds_the_ontology_consistent_with_no_unsatisfiable_class(tmp_path: Path) -> None:
    assert hermit(ontology(), tmp_path) == []


def test_hermit_finds_the_ontology_and_the_data_consistent(tmp_path: Path) -> None:
    """HermiT is told to take the data's xsd:gYear, xsd:gYearMonth and xsd:date literals as
    opaque: they are outside the datatype map, and HermiT refuses them otherwise."""
    assert hermit(ontology() + data(), tmp_path, ignore_unsupported_datatypes=True) == []


def test_hermit_finds_an_individual_of_two_disjoint_classes_inconsistent(tmp_path: Path) -> None:
    owlready2 = owlready()
    both = turtle(
        "<https://w3id.org/cpgraph/id/org/sepa> a owl:NamedIndividual, cp:Person, "
        "cp:GovernmentBody ."
    )
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        hermit(ontology() + both, tmp_path)


def test_hermit_finds_a_subclass_of_two_disjoint_classes_unsatisfiable(tmp_path: Path) -> None:
    hybrid = turtle("ex:Hybrid a owl:Class ; rdfs:subClassOf cp:Person, cp:Organisation .")
    assert hermit(ontology() + hybrid, tmp_path) == ["http://example.org/Hybrid"]


# ---------------------------------------------------------------------------------------------
# pyLODE
# ---------------------------------------------------------------------------------------------


def pylode_header(graph: Graph, tmp_path: Path) -> tuple[str, str, str]:
    """The page title, the heading and the IRI of the header that pyLODE's command renders."""
    html5lib = pytest.importorskip("html5lib", reason="a dependency of pylode")
    command = Path(sys.executable).parent / "pylode"
    if not command.is_file():
        pytest.skip("no pylode command beside this Python: pylode is in the test extra")
    source, page = tmp_path / "ontology.ttl", tmp_path / "ontology.html"
    graph.serialize(source, format="turtle", encoding="utf-8")
    subprocess.run([command, source, "-o", page], check=True, capture_output=True, timeout=120)
    tree = html5lib.parse(page.read_bytes(), namespaceHTMLElements=False)
    metadata = tree.find(".//div[@id='metadata']")
    assert metadata is not None, "pyLODE renders no metadata section"
    title = tree.findtext(".//head/title") or ""
    heading = metadata.findtext("h1") or ""
    iri = metadata.findtext(".//dd/code") or ""
    return html.unescape(title), html.unescape(heading), iri


def test_pylode_documents_the_ontology_under_its_own_iri_and_title(tmp_path: Path) -> None:
    title = str(next(t for t in core().objects(ONTOLOGY_IRI, DCTERMS.title) if t.language == "en"))
    page_title, heading, iri = pylode_header(parse_file(CORE), tmp_path)
    assert (page_title, heading, iri) == (title, title, str(ONTOLOGY_IRI))


def test_pylode_takes_a_concept_scheme_for_the_header(tmp_path: Path) -> None:
    """Why the ontology document holds no skos:ConceptScheme: pyLODE takes the last one."""
    graph = turtle(
        "<http://example.org/o> a owl:Ontology ; rdfs:label 'An ontology'@en .\n"
        "ex:Scheme a <http://www.w3.org/2004/02/skos/core#ConceptScheme> ; "
        "rdfs:label 'A scheme'@en ."
    )
    _, heading, iri = pylode_header(graph, tmp_path)
    assert iri == "http://example.org/Scheme"
    assert "A scheme" in heading
