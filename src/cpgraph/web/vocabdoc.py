"""Readable documentation of the ontology and the shapes, read from the store's graphs.

:func:`ontology_doc` collects every class, property and named individual of the ``cp:``
namespace (label, definition, scope notes, super- and subclasses, domain and range,
alignments to external vocabularies) from ``<base>graph/ontology``; :func:`shapes_doc` every
node shape with its property shapes and messages from ``<base>graph/shapes``. The pages are
rendered by :mod:`cpgraph.web.pages`. Both graphs are small, so they are walked with rdflib.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS
from rdflib.term import Node

from cpgraph.errors import NotFoundError
from cpgraph.rdf.io import to_rdflib_triples
from cpgraph.rdf.namespaces import graph_iri, ontology_iri, shapes_ns, vocab
from cpgraph.store import Store

DCTERMS_NS = "http://purl.org/dc/terms/"
# Properties that tie a cpgraph term to a term of another vocabulary, as the page names them.
ALIGNMENTS = (
    (RDFS.subClassOf, "subclass of"),
    (RDFS.subPropertyOf, "subproperty of"),
    (OWL.equivalentClass, "equivalent class"),
    (OWL.equivalentProperty, "equivalent property"),
    (SKOS.exactMatch, "exact match"),
    (SKOS.closeMatch, "close match"),
    (SKOS.broadMatch, "broad match"),
    (SKOS.narrowMatch, "narrow match"),
    (SKOS.relatedMatch, "related match"),
)


@dataclass(slots=True)
class TermDoc:
    """One term of the ontology as its documentation shows it. IRIs are plain strings; a
    class expression that is a union is a tuple of its members' IRIs."""

    iri: str
    name: str
    kind: str
    label: str
    definition: str = ""
    scope_notes: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    supers: list[str] = field(default_factory=list)
    subs: list[str] = field(default_factory=list)
    domains: list[str | tuple[str, ...]] = field(default_factory=list)
    ranges: list[str | tuple[str, ...]] = field(default_factory=list)
    alignments: list[tuple[str, str]] = field(default_factory=list)
    types: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OntologyDoc:
    """The ontology's header and its terms, grouped by kind (classes, properties, ...)."""

    iri: str
    title: str
    description: str
    version: str
    license: str
    sections: list[tuple[str, list[TermDoc]]]
    names: dict[str, str]


@dataclass(slots=True)
class PropertyRule:
    """One property shape: its path, what it requires, its severity and its message."""

    iri: str | None
    label: str
    path: Phrase
    constraints: list[Phrase]
    severity: str
    message: str


@dataclass(slots=True)
class NodeShapeDoc:
    """One node shape: what it targets and the rules it checks."""

    iri: str
    name: str
    label: str
    comment: str
    targets: list[str]
    message: str
    rules: list[PropertyRule]
    constraint: Phrase = field(default_factory=list)


@dataclass(slots=True)
class ShapesDoc:
    """The shapes graph's header and its node shapes."""

    iri: str
    title: str
    description: str
    shapes: list[NodeShapeDoc]
    names: dict[str, str]


def _load(store: Store, name: str, base: str) -> Graph:
    graph = Graph()
    for triple in to_rdflib_triples(store.quads(graph_iri(name, base))):
        graph.add(triple)
    if not len(graph):
        raise NotFoundError(f"the store has no {name} graph")
    return graph


def _text(graph: Graph, subject: Node, predicate: URIRef) -> str:
    """The English (or untagged) value of a literal property, or ''."""
    values = [o for o in graph.objects(subject, predicate) if isinstance(o, Literal)]
    values.sort(key=lambda lit: (lit.language not in ("en", None), str(lit)))
    return str(values[0]) if values else ""


def _texts(graph: Graph, subject: Node, predicate: URIRef) -> list[str]:
    return sorted(str(o) for o in graph.objects(subject, predicate) if isinstance(o, Literal))


def _iris(graph: Graph, subject: Node, predicate: URIRef) -> list[str]:
    return sorted(str(o) for o in graph.objects(subject, predicate) if isinstance(o, URIRef))


def _class_expressions(
    graph: Graph, subject: Node, predicate: URIRef
) -> list[str | tuple[str, ...]]:
    """Named classes as IRIs, ``owl:unionOf`` expressions as tuples of their members."""
    found: list[str | tuple[str, ...]] = []
    for obj in graph.objects(subject, predicate):
        if isinstance(obj, URIRef):
            found.append(str(obj))
        elif isinstance(obj, BNode):
            union = graph.value(obj, OWL.unionOf)
            if union is not None:
                found.append(tuple(str(m) for m in Collection(graph, union)))
    return sorted(found, key=str)


def _labels(graph: Graph) -> dict[str, str]:
    names: dict[str, str] = {}
    for s in set(graph.subjects(RDFS.label, None)):
        if isinstance(s, URIRef):
            names[str(s)] = _text(graph, s, RDFS.label)
    return names


SECTIONS = (
    ("Classes", (OWL.Class, RDFS.Class)),
    ("Object properties", (OWL.ObjectProperty,)),
    ("Datatype properties", (OWL.DatatypeProperty,)),
    ("Annotation properties", (OWL.AnnotationProperty,)),
    ("Datatypes", (RDFS.Datatype,)),
    ("Named individuals", (OWL.NamedIndividual,)),
)


def ontology_doc(store: Store, *, base: str) -> OntologyDoc:
    """The documentation of every ``cp:`` term, from the store's ontology graph.

    Raises:
        NotFoundError: if the store has no ontology graph.
    """
    graph = _load(store, "ontology", base)
    ns = vocab(base)
    onto = URIRef(ontology_iri(base))
    terms: dict[str, TermDoc] = {}
    sections: list[tuple[str, list[TermDoc]]] = []
    for title, kinds in SECTIONS:
        docs = []
        for kind in kinds:
            for subject in sorted(set(graph.subjects(RDF.type, kind)), key=str):
                iri = str(subject)
                if not isinstance(subject, URIRef) or not iri.startswith(ns) or iri in terms:
                    continue
                doc = _term(graph, subject, ns, title)
                terms[iri] = doc
                docs.append(doc)
        if docs:
            sections.append((title, sorted(docs, key=lambda d: d.name.lower())))
    return OntologyDoc(
        iri=str(onto),
        title=_text(graph, onto, URIRef(DCTERMS_NS + "title")) or "cpgraph ontology",
        description=_text(graph, onto, URIRef(DCTERMS_NS + "description")),
        version=_text(graph, onto, OWL.versionInfo),
        license=str(graph.value(onto, URIRef(DCTERMS_NS + "license")) or ""),
        sections=sections,
        names=_labels(graph),
    )


def _term(graph: Graph, subject: URIRef, ns: str, section: str) -> TermDoc:
    iri = str(subject)
    is_class = section in ("Classes", "Datatypes")
    parent = RDFS.subClassOf if is_class else RDFS.subPropertyOf
    supers = _iris(graph, subject, parent)
    doc = TermDoc(
        iri=iri,
        name=iri[len(ns) :],
        kind=section,
        label=_text(graph, subject, RDFS.label),
        definition=_text(graph, subject, SKOS.definition),
        scope_notes=_texts(graph, subject, SKOS.scopeNote),
        comments=_texts(graph, subject, RDFS.comment),
        supers=[s for s in supers if s.startswith(ns)],
        subs=sorted(str(s) for s in graph.subjects(parent, subject) if isinstance(s, URIRef)),
        domains=_class_expressions(graph, subject, RDFS.domain),
        ranges=_class_expressions(graph, subject, RDFS.range),
        types=[t for t in _iris(graph, subject, RDF.type) if t != str(OWL.NamedIndividual)],
    )
    for predicate, name in ALIGNMENTS:
        for target in _iris(graph, subject, predicate):
            if not target.startswith(ns):
                doc.alignments.append((name, target))
    for expression in _class_expressions(graph, subject, OWL.equivalentClass):
        if isinstance(expression, tuple):
            doc.alignments.append(("equivalent to the union of", " ".join(expression)))
    return doc


def shapes_doc(store: Store, *, base: str) -> ShapesDoc:
    """Every node shape with its property shapes and messages, from the store's shapes graph.

    Raises:
        NotFoundError: if the store has no shapes graph.
    """
    graph = _load(store, "shapes", base)
    names = _labels(_load(store, "ontology", base)) if _has_graph(store, "ontology", base) else {}
    names.update(_labels(graph))
    ns = shapes_ns(base)
    head = URIRef(ns[:-1])
    shapes = []
    for subject in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str):
        if not isinstance(subject, URIRef):
            continue
        rules = [
            _rule(graph, p)
            for p in sorted(graph.objects(subject, SH.property), key=lambda n: str(n))
        ]
        rules.sort(key=lambda r: [str(x) for x in r.path])
        targets = _iris(graph, subject, SH.targetClass)
        targets += [f"subjects of {p}" for p in _iris(graph, subject, SH.targetSubjectsOf)]
        shapes.append(
            NodeShapeDoc(
                iri=str(subject),
                name=str(subject)[len(ns) :] if str(subject).startswith(ns) else str(subject),
                label=_text(graph, subject, RDFS.label),
                comment=_text(graph, subject, RDFS.comment),
                targets=targets,
                message=_message(graph, subject),
                rules=rules,
                constraint=_node_summary(graph, subject),
            )
        )
    return ShapesDoc(
        iri=str(head),
        title=_text(graph, head, URIRef(DCTERMS_NS + "title")) or "cpgraph shapes",
        description=_text(graph, head, URIRef(DCTERMS_NS + "description")),
        shapes=shapes,
        names=names,
    )


def _has_graph(store: Store, name: str, base: str) -> bool:
    return next(iter(store.quads(graph_iri(name, base))), None) is not None


@dataclass(frozen=True, slots=True)
class Ref:
    """An IRI inside a rule's wording, for the page to show by name and link."""

    iri: str


Phrase = list[str | Ref]
"""Words and IRIs, in order: how a rule reads."""


def _value(node: Node) -> str | Ref:
    return Ref(str(node)) if isinstance(node, URIRef) else f"\u201c{node}\u201d"


def _path(graph: Graph, path: Node | None) -> Phrase:
    if isinstance(path, URIRef):
        return [Ref(str(path))]
    if isinstance(path, BNode):
        for predicate, mark in ((SH.zeroOrMorePath, "*"), (SH.oneOrMorePath, "+")):
            inner = graph.value(path, predicate)
            if inner is not None:
                return ["(", *_path(graph, inner), f"){mark}"]
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return ["^", *_path(graph, inverse)]
        if graph.value(path, RDF.first) is not None:
            return _join([_path(graph, n) for n in Collection(graph, path)], " / ")
    return ["(a complex path)"]


def _rule(graph: Graph, shape: Node) -> PropertyRule:
    constraints: list[Phrase] = []
    for predicate, word in ((SH.minCount, "at least"), (SH.maxCount, "at most")):
        value = graph.value(shape, predicate)
        if value is not None:
            constraints.append([f"{word} {value} value{'s' if str(value) != '1' else ''}"])
    qualified = graph.value(shape, SH.qualifiedMinCount)
    if qualified is not None:
        inner = _node_summary(graph, graph.value(shape, SH.qualifiedValueShape))
        constraints.append([f"at least {qualified} value with ", *inner])
    summary = _node_summary(graph, shape)
    if summary:
        constraints.append(summary)
    severity = graph.value(shape, SH.severity)
    return PropertyRule(
        iri=str(shape) if isinstance(shape, URIRef) else None,
        label=_text(graph, shape, RDFS.label),
        path=_path(graph, graph.value(shape, SH.path)),
        constraints=constraints,
        severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
        message=_message(graph, shape),
    )


def _message(graph: Graph, shape: Node) -> str:
    """A shape's message, or those of its SPARQL constraints (which carry their own)."""
    own = _text(graph, shape, SH.message)
    if own:
        return own
    return " ".join(_text(graph, c, SH.message) for c in graph.objects(shape, SH.sparql))


def _join(phrases: list[Phrase], word: str) -> Phrase:
    joined: Phrase = []
    for i, phrase in enumerate(phrases):
        if i:
            joined.append(word)
        joined += phrase
    return joined


def _node_summary(graph: Graph, shape: Node | None) -> Phrase:
    """The value constraints of a shape in words and IRIs."""
    if shape is None:
        return []
    parts: list[Phrase] = []
    for predicate, word in (
        (SH["class"], "instance of "),
        (SH.datatype, "datatype "),
        (SH.nodeKind, "node kind "),
        (SH.hasValue, "value "),
        (SH.pattern, "matches "),
    ):
        for value in sorted(graph.objects(shape, predicate), key=str):
            parts.append([word, _value(value)])
    for predicate, word in ((SH["in"], "one of "), (SH.languageIn, "language ")):
        values = graph.value(shape, predicate)
        if values is not None:
            parts.append([word, *_join([[_value(v)] for v in Collection(graph, values)], ", ")])
    alternatives = graph.value(shape, SH["or"])
    if alternatives is not None:
        options = [_node_summary(graph, n) for n in Collection(graph, alternatives)]
        parts.append(["either ", *_join([o for o in options if o], " or ")])
    negated = graph.value(shape, SH["not"])
    if negated is not None:
        parts.append(["not (", *_node_summary(graph, negated), ")"])
    if (shape, SH.uniqueLang, Literal(True)) in graph:
        parts.append(["one value per language"])
    for constraint in graph.objects(shape, SH.sparql):
        label = _text(graph, constraint, RDFS.label) or "see the shapes file"
        parts.append([f"SPARQL rule: {label}"])
    return _join(parts, "; ")
