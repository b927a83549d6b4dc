"""Contributions: facts from outside, judged against the shapes in context, committed safely.

A contribution is a set of triples. :func:`read_contribution` parses it (with fresh blank
nodes) and refuses what no contribution may do: named graphs, writes into or descriptions of
cpgraph's own graphs, vocabulary definitions, ``owl:imports``. :func:`check` validates it as
part of the store (:mod:`cpgraph.validation.neighbourhood`), in the form the store will hold
it (:mod:`cpgraph.store.stored_forms`; each literal rewritten is an Info result of the
report), which is also the form hashed and committed; :func:`commit` validates again
under the write lock and writes it with its PROV description into a graph of its own,
``<base>graph/contribution/<id>``, the id a digest of the canonical content (the same content
is committed once), in one copy-on-write transaction.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, URIRef

from cpgraph.errors import (
    ContributionRefusedError,
    InputError,
    NotFoundError,
    ValidationFailedError,
)
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import parse_quads, to_rdflib_triples
from cpgraph.rdf.literals import ill_typed_reason
from cpgraph.rdf.namespaces import DCTERMS, OWL, PROV, RDF, RDFS, SH, SLUG, XSD, graph_iri
from cpgraph.store import Store
from cpgraph.store.builds import writing
from cpgraph.store.stored_forms import Rewrite, in_stored_form, oxigraph_stored_forms
from cpgraph.validation.contributors import OPERATOR, Contributor
from cpgraph.validation.neighbourhood import Triple, validate_in_context
from cpgraph.validation.reach import Reach, shape_reach
from cpgraph.validation.records import ContributionRecord, get_record, list_contributions
from cpgraph.validation.shacl import ValidationOutcome, class_hierarchy, load_ontology, load_shapes
from cpgraph.validation.stored import with_rewrites

__all__ = [
    "OPERATOR",
    "CommitResult",
    "ContributionRecord",
    "Contributor",
    "Triple",
    "ValidationContext",
    "check",
    "commit",
    "content_hash",
    "get_record",
    "in_store_form",
    "list_contributions",
    "read_contribution",
    "validate_files_in_context",
    "withdraw",
    "writing",
]

_DEFINING = {
    RDFS + "subClassOf",
    RDFS + "subPropertyOf",
    RDFS + "domain",
    RDFS + "range",
    OWL + "equivalentClass",
    OWL + "equivalentProperty",
    OWL + "inverseOf",
    OWL + "disjointWith",
    OWL + "propertyChainAxiom",
}
_TERM_TYPES = {
    OWL + "Class",
    RDFS + "Class",
    OWL + "ObjectProperty",
    OWL + "DatatypeProperty",
    OWL + "AnnotationProperty",
    RDF + "Property",
    OWL + "Ontology",
    SH + "NodeShape",
    SH + "PropertyShape",
}


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """What contributions are judged by: the shapes, the class hierarchy, the shapes' reach."""

    shapes: Graph
    hierarchy: Graph
    reach: Reach
    terms: frozenset[str]  # every IRI the ontology describes: not to be redefined

    @classmethod
    def from_graphs(cls, shapes: Graph, ontology: Graph) -> ValidationContext:
        """A context from a shapes graph and an ontology graph."""
        terms = frozenset(str(s) for s in ontology.subjects() if isinstance(s, URIRef))
        return cls(
            shapes=shapes,
            hierarchy=class_hierarchy(ontology),
            reach=shape_reach(shapes),
            terms=terms,
        )

    @classmethod
    def from_files(cls, source_dir: Path) -> ValidationContext:
        """A context from the repository's ``shapes/`` and ``ontology/`` folders.

        Raises:
            RdfSyntaxError, InputError: if the shapes or ontology cannot be read.
        """
        return cls.from_graphs(
            load_shapes(source_dir / "shapes"), load_ontology(source_dir / "ontology")
        )

    @classmethod
    def from_store(cls, store: Store, *, base: str) -> ValidationContext:
        """A context from the store's own shapes and ontology graphs (as deployed)."""

        def graph(name: str) -> Graph:
            g = Graph()
            for triple in to_rdflib_triples(store.quads(graph_iri(name, base))):
                g.add(triple)
            return g

        return cls.from_graphs(graph("shapes"), graph("ontology"))


@dataclass(frozen=True, slots=True)
class CommitResult:
    """A commit's record, its validation, and whether it was new (False: already there)."""

    record: ContributionRecord
    outcome: ValidationOutcome
    created: bool


def read_contribution(
    data: bytes | str,
    fmt: RdfFormat,
    *,
    base: str,
    terms: frozenset[str] = frozenset(),
    source: str | None = None,
) -> list[Triple]:
    """Parse a contribution and refuse what no contribution may do.

    Raises:
        RdfSyntaxError: if the data is malformed (line and column).
        ContributionRefusedError: for named graphs, writes into cpgraph's own graphs or
            vocabulary, term definitions, ``owl:imports``, or no statements at all.
    """
    quads = parse_quads(data, format=fmt, source=source, fresh_blank_nodes=True)
    triples: list[Triple] = []
    vocabularies = (f"{base}ontology", f"{base}shapes")
    for quad in quads:
        if not isinstance(quad.graph_name, ox.DefaultGraph):
            raise ContributionRefusedError(
                f"a contribution is committed into a graph of its own: send triples, not "
                f"statements in the graph <{quad.graph_name.value}>"
            )
        s, p, o = quad.subject, quad.predicate, quad.object
        if isinstance(s, ox.Triple) or isinstance(o, ox.Triple):
            raise ContributionRefusedError("RDF 1.2 triple terms cannot be contributed")
        subject = s.value if isinstance(s, ox.NamedNode) else ""
        if p.value == OWL + "imports":
            raise ContributionRefusedError(
                "owl:imports is never followed: send the statements themselves"
            )
        if subject.startswith(vocabularies) or subject in terms:
            raise ContributionRefusedError(
                f"<{subject}> is a term of cpgraph's ontology or shapes (or one it reuses): "
                "contributions cannot redefine it"
            )
        if subject.startswith(f"{base}graph/"):
            raise ContributionRefusedError(
                f"<{subject}> is one of cpgraph's graphs: its description (source, locator, "
                "contributor) cannot be contributed"
            )
        if p.value in _DEFINING or (p.value == RDF + "type" and o.value in _TERM_TYPES):
            raise ContributionRefusedError(
                f"a contribution states facts; it cannot define vocabulary (<{p.value}> "
                f"on <{subject or s}>)"
            )
        triples.append((s, p, o))
    if not triples:
        raise ContributionRefusedError("the contribution holds no statements")
    _refuse_ill_typed(triples)
    return triples


def _refuse_ill_typed(triples: list[Triple]) -> None:
    """Refuse literals of an XSD datatype that are not values of it (``"abc"^^xsd:integer``),
    whether or not a shape covers their property.

    Raises:
        ContributionRefusedError: naming the first few such literals.
    """
    wrong: list[str] = []
    for _s, _p, o in triples:
        if isinstance(o, ox.Literal):
            reason = ill_typed_reason(o)
            if reason is not None:
                wrong.append(f"{_short(str(o))} is {reason}")
                if len(wrong) == 3:
                    break
    if wrong:
        raise ContributionRefusedError("ill-typed literals: " + "; ".join(wrong))


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def content_hash(triples: list[Triple]) -> str:
    """``sha256:`` and the digest of the triples in canonical form (RDFC-1.0), so that the
    same statements give the same digest whatever their blank-node labels or order."""
    dataset = ox.Dataset(ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    lines = sorted(str(quad) + " .\n" for quad in dataset)
    return "sha256:" + hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()


def in_store_form(triples: list[Triple], store: Store | None) -> tuple[list[Triple], list[Rewrite]]:
    """The contribution in the form ``store`` will hold it (the embedded Oxigraph's, with no
    store), and the literals that form rewrites: what is validated, hashed and committed."""
    return in_stored_form(
        triples, store.stored_forms if store is not None else oxigraph_stored_forms
    )


def check(
    triples: list[Triple], *, store: Store | None, context: ValidationContext
) -> ValidationOutcome:
    """Validate a contribution as part of ``store`` (violations fail it; warnings pass), in
    the form the store will hold it; each literal that form rewrites is an Info result."""
    stored, rewrites = in_store_form(triples, store)
    return with_rewrites(_validate(stored, store, context), rewrites)


def _validate(
    triples: list[Triple], store: Store | None, context: ValidationContext
) -> ValidationOutcome:
    outcome, _focus = validate_in_context(
        triples,
        store=store,
        shapes=context.shapes,
        hierarchy=context.hierarchy,
        reach=context.reach,
    )
    return outcome


def _metadata(
    graph: str,
    triples: list[Triple],
    *,
    contributor: Contributor,
    comment: str,
    source: str | None,
    digest: str,
    base: str,
    now: datetime,
) -> list[Triple]:
    g = ox.NamedNode(graph)
    who = ox.NamedNode(contributor.iri(base))
    kind = "Organisation" if contributor.organisation else "Person"
    cp = f"{base}ontology#"
    meta: list[Triple] = [
        (g, ox.NamedNode(RDF + "type"), ox.NamedNode(cp + "Contribution")),
        (g, ox.NamedNode(PROV + "wasAttributedTo"), who),
        (
            g,
            ox.NamedNode(PROV + "generatedAtTime"),
            ox.Literal(now.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=ox.NamedNode(XSD + "dateTime")),
        ),
        (g, ox.NamedNode(cp + "contentHash"), ox.Literal(digest)),
        (g, ox.NamedNode(RDFS + "comment"), ox.Literal(comment, language="en")),
        (who, ox.NamedNode(RDF + "type"), ox.NamedNode(cp + kind)),
        (who, ox.NamedNode(RDFS + "label"), ox.Literal(contributor.name, language="en")),
    ]
    if source:
        meta.append((g, ox.NamedNode(DCTERMS + "source"), ox.NamedNode(source)))
    return meta


class _AlreadyCommittedError(Exception):
    """Raised inside the write transaction to leave it without writing."""

    def __init__(self, record: ContributionRecord) -> None:
        super().__init__(record.id)
        self.record = record


def commit(
    target: Path | Store,
    triples: list[Triple],
    *,
    contributor: Contributor,
    comment: str,
    base: str,
    context: ValidationContext,
    source: str | None = None,
    now: datetime | None = None,
) -> CommitResult:
    """Validate and commit a contribution into a graph of its own, atomically, in the form
    the store will hold it (which is what is hashed; :func:`check`). ``target`` is the
    embedded store's folder, or a store written straight (:func:`writing`).

    Validation runs inside the write lock against the copy being written, so what is
    committed was valid against the store it joined. The same content committed twice is
    written once: the second call returns the first record with ``created`` False.

    Raises:
        ContributionRefusedError: if ``comment`` is empty or ``source`` is not an IRI.
        ValidationFailedError: if the contribution (with its description) has violations;
            nothing is written.
        StoreError: if the store cannot be written; nothing is written.
    """
    if not comment.strip():
        raise ContributionRefusedError("say what the contribution adds and why (a comment)")
    if source is not None and not re.fullmatch(
        r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+", source
    ):
        raise ContributionRefusedError(f"the source must be an IRI: {source!r}")
    try:
        with writing(target) as store:  # the copy being written, or the remote store
            triples, rewrites = in_store_form(triples, store)
            digest = content_hash(triples)
            identifier = digest.removeprefix("sha256:")[:16]
            graph = graph_iri(f"contribution/{identifier}", base)
            if store.has_graph(graph):
                raise _AlreadyCommittedError(get_record(store, identifier, base=base))
            meta = _metadata(
                graph,
                triples,
                contributor=contributor,
                comment=comment.strip(),
                source=source,
                digest=digest,
                base=base,
                now=now or datetime.now(UTC),
            )
            outcome = with_rewrites(_validate([*triples, *meta], store, context), rewrites)
            if not outcome.conforms:
                raise ValidationFailedError(
                    f"the contribution does not conform ({len(outcome.violations)} violations); "
                    "nothing was committed",
                    outcome=outcome,
                )
            name = ox.NamedNode(graph)
            store.load_quads(ox.Quad(s, p, o, name) for s, p, o in [*triples, *meta])
            record = get_record(store, identifier, base=base)
            return CommitResult(record=record, outcome=outcome, created=True)
    except _AlreadyCommittedError as already:
        empty = ValidationOutcome(conforms=True, results=(), report=Graph())
        return CommitResult(record=already.record, outcome=empty, created=False)


def withdraw(target: Path | Store, identifier: str, *, base: str) -> None:
    """Remove a contribution's graph, atomically (``target`` as :func:`commit` takes it).

    Raises:
        NotFoundError: if there is no contribution with that id (nothing changes).
    """
    if not SLUG.fullmatch(identifier):
        raise NotFoundError(f"no contribution {identifier!r}")
    graph = graph_iri(f"contribution/{identifier}", base)
    with writing(target) as store:
        if not store.has_graph(graph):
            raise NotFoundError(f"no contribution {identifier!r}")
        store.drop_graph(graph)


def validate_files_in_context(
    paths: list[Path], *, store: Store, source_dir: Path
) -> ValidationOutcome:
    """Validate RDF files (every graph's statements) as part of ``store``, offline.

    Raises:
        UnsupportedFormatError, RdfSyntaxError: if a file cannot be parsed.
        InputError: if a file cannot be read.
    """
    triples: set[Triple] = set()
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
        for quad in parse_quads(
            data, format=RdfFormat.from_path(path), source=str(path), fresh_blank_nodes=True
        ):
            triples.add((quad.subject, quad.predicate, quad.object))  # type: ignore[arg-type]
    return check(
        sorted(triples, key=str), store=store, context=ValidationContext.from_files(source_dir)
    )
