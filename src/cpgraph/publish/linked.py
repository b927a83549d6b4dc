"""Linked data: what the store says about one IRI, for its page and its RDF representations.

Every IRI cpgraph mints dereferences: an instance ``<base>id/{kind}/{slug}`` to its concise
bounded description, a named graph ``<base>graph/{...}`` to its statements. This module reads
those from a :class:`~cpgraph.store.oxigraph.GraphStore` (HTML is built by
:mod:`cpgraph.web.pages`, the
HTTP layer is :mod:`cpgraph.server.routes.resources`). IRIs are never spliced into query text:
the resource is bound by a ``VALUES`` block whose terms pyoxigraph itself writes in
N-Triples syntax (from terms it has validated).

>>> from cpgraph.store.oxigraph import GraphStore
>>> store = GraphStore(None)
>>> mentions(store, "https://w3id.org/cpgraph/id/org/sepa")
False
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from cpgraph.errors import NotFoundError
from cpgraph.publish.disagreements import DisagreementView, disagreements_about
from cpgraph.rdf import Term
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.jsonld import write_jsonld
from cpgraph.rdf.namespaces import RDF, RDFS, prefixes, vocab
from cpgraph.store import Store

RDF_TYPE = RDF + "type"
RDFS_LABEL = RDFS + "label"
INCOMING_LIMIT = 50
MEMBERS_LIMIT = 500
GRAPH_PAGE_LIMIT = 2000
# Paths under the base that the server answers, so that links to them work locally.
SERVED_ROOTS = ("id/", "graph/", "ontology", "shapes")


@dataclass(frozen=True, slots=True)
class GraphInfo:
    """What a named graph says about itself: its kind, source document and locator."""

    iri: str
    kind: str | None = None
    source: str | None = None
    source_label: str | None = None
    locator: str | None = None
    comment: str | None = None


@dataclass(slots=True)
class Statement:
    """One property value of a resource and the named graphs that state it."""

    predicate: ox.NamedNode
    object: Term
    graphs: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ResourceView:
    """Everything a resource's page shows.

    ``names`` maps the IRIs on the page to their best label; ``graphs`` describes every graph
    that a statement on the page comes from; ``disagreements`` are those the resource is part
    of, as the curators modelled them.
    """

    iri: str
    labels: list[ox.Literal]
    types: list[str]
    statements: list[Statement]
    incoming: list[tuple[Term, ox.NamedNode]]
    incoming_count: int
    names: dict[str, str]
    graphs: dict[str, GraphInfo]
    is_graph: bool = False
    disagreements: list[DisagreementView] = field(default_factory=list)


@dataclass(slots=True)
class GraphView:
    """A named graph's page: its self-description and (up to a bound) its statements."""

    iri: str
    info: GraphInfo
    triples: list[ox.Triple]
    size: int
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Member:
    """An instance of a class, with its label (empty when it has none)."""

    iri: str
    label: str


def local_path(iri: str, base: str) -> str | None:
    """The path under which this server answers ``iri``, or None when it is not ours.

    >>> local_path("https://w3id.org/cpgraph/id/org/sepa", "https://w3id.org/cpgraph/")
    '/id/org/sepa'
    >>> local_path("https://w3id.org/cpgraph/ontology#Law", "https://w3id.org/cpgraph/")
    '/ontology#Law'
    >>> local_path("http://www.w3.org/ns/org#Role", "https://w3id.org/cpgraph/") is None
    True
    """
    if not iri.startswith(base):
        return None
    rest = iri[len(base) :]
    if not rest.startswith(SERVED_ROOTS):
        return None
    return "/" + rest


def _values(terms: Iterable[Term]) -> str:
    """Terms in N-Triples syntax for a VALUES block (pyoxigraph writes them, escaped)."""
    return " ".join(str(t) for t in terms)


def _query(store: Store, sparql: str, base: str, **bind: Term) -> list[dict[str, Term]]:
    """Run a SELECT with cpgraph's prefixes, ``bind`` fixing variables by a VALUES block."""
    values = "".join(f"VALUES ?{name} {{ {term} }} " for name, term in bind.items())
    if values:
        head, brace, body = sparql.partition("{")
        sparql = f"{head}{brace} {values}{body}"
    return list(store.query(sparql, prefixes=prefixes(base)).rows())


def mentions(store: Store, iri: str) -> bool:
    """Whether the graph mentions ``iri`` at all: as subject, object or graph name."""
    result = store.query(
        f"ASK {{ VALUES ?r {{ {ox.NamedNode(iri)} }} "
        "{ ?r ?p ?o } UNION { ?s ?p ?r } UNION { GRAPH ?r { ?a ?b ?c } } }"
    )
    return result.boolean


def best_labels(store: Store, iris: Iterable[str], *, base: str) -> dict[str, str]:
    """A label for each IRI that has one: English first, then untagged, then any language."""
    wanted = sorted(set(iris))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 200):
        chunk = [ox.NamedNode(i) for i in wanted[start : start + 200]]
        rows = _query(
            store,
            f"""SELECT ?x ?l WHERE {{ VALUES ?x {{ {_values(chunk)} }}
                 {{ ?x rdfs:label ?l }} UNION {{ ?x skos:prefLabel ?l }} }}""",
            base,
        )
        ranked: dict[str, tuple[int, str]] = {}
        for row in rows:
            label = row["l"]
            if not isinstance(label, ox.Literal):
                continue
            rank = {"en": 0, "": 1}.get(label.language or "", 2)
            key = row["x"].value
            if key not in ranked or (rank, label.value) < ranked[key]:
                ranked[key] = (rank, label.value)
        names.update({k: v for k, (_, v) in ranked.items()})
    return names


def graph_infos(store: Store, graphs: Iterable[str], *, base: str) -> dict[str, GraphInfo]:
    """What each named graph says about itself (source document, locator, kind, comment)."""
    wanted = sorted(set(graphs))
    if not wanted:
        return {}
    rows = _query(
        store,
        f"""SELECT ?g (SAMPLE(?k) AS ?kind) (SAMPLE(?doc) AS ?source) (SAMPLE(?dl) AS ?label)
                   (SAMPLE(?loc) AS ?locator) (SAMPLE(?c) AS ?comment)
        WHERE {{
          VALUES ?g {{ {_values(ox.NamedNode(g) for g in wanted)} }}
          OPTIONAL {{ ?g a ?k FILTER(STRSTARTS(STR(?k), STR(cp:))) }}
          OPTIONAL {{ ?g prov:wasDerivedFrom ?doc
                     OPTIONAL {{ ?doc rdfs:label ?dl FILTER(LANGMATCHES(LANG(?dl), "en")) }} }}
          OPTIONAL {{ ?g cp:locator ?loc }}
          OPTIONAL {{ ?g rdfs:comment ?c }}
        }} GROUP BY ?g""",
        base,
    )
    infos = {g: GraphInfo(g) for g in wanted}
    cp = vocab(base)
    for row in rows:
        g = row["g"].value
        kind = row.get("kind")
        infos[g] = GraphInfo(
            iri=g,
            kind=kind.value[len(cp) :] if kind is not None else None,
            source=row["source"].value if "source" in row else None,
            source_label=row["label"].value if "label" in row else None,
            locator=row["locator"].value if "locator" in row else None,
            comment=row["comment"].value if "comment" in row else None,
        )
    return infos


def resource_view(
    store: Store, iri: str, *, base: str, incoming_limit: int = INCOMING_LIMIT
) -> ResourceView:
    """What the graph says about ``iri``, for its page: labels, types, statements with the
    graphs they come from, incoming links (at most ``incoming_limit``, with the full count).

    Raises:
        NotFoundError: if the graph does not mention ``iri``.
    """
    node = ox.NamedNode(iri)
    rows = _query(
        store,
        "SELECT ?p ?o ?g WHERE { GRAPH ?g { ?r ?p ?o } } ORDER BY ?p ?o ?g",
        base,
        r=node,
    )
    statements: dict[tuple[str, str], Statement] = {}
    for row in rows:
        p, o = row["p"], row["o"]
        assert isinstance(p, ox.NamedNode)
        key = (str(p), str(o))
        statement = statements.setdefault(key, Statement(p, o))
        statement.graphs.append(row["g"].value)
    count_rows = _query(store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?r }", base, r=node)
    incoming_count = int(count_rows[0]["n"].value) if count_rows else 0
    incoming_rows = _query(
        store,
        f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p ?r }} ORDER BY ?s ?p LIMIT {int(incoming_limit)}",
        base,
        r=node,
    )
    incoming: list[tuple[Term, ox.NamedNode]] = []
    for row in incoming_rows:
        p = row["p"]
        assert isinstance(p, ox.NamedNode)
        incoming.append((row["s"], p))
    is_graph = iri in _graph_names(store, [iri])
    if not statements and not incoming and not is_graph:
        raise NotFoundError(f"the graph does not mention <{iri}>")
    listed = list(statements.values())
    labels = [
        s.object
        for s in listed
        if s.predicate.value == RDFS_LABEL and isinstance(s.object, ox.Literal)
    ]
    types = sorted(
        {
            s.object.value
            for s in listed
            if s.predicate.value == RDF_TYPE and isinstance(s.object, ox.NamedNode)
        }
    )
    linked = {iri, *types}
    for s in listed:
        linked.add(s.predicate.value)
        if isinstance(s.object, ox.NamedNode):
            linked.add(s.object.value)
    for subject, predicate in incoming:
        linked.add(predicate.value)
        if isinstance(subject, ox.NamedNode):
            linked.add(subject.value)
    graphs = {g for s in listed for g in s.graphs}
    infos = graph_infos(store, graphs, base=base)
    linked |= {i.source for i in infos.values() if i.source}
    return ResourceView(
        iri=iri,
        labels=sorted(labels, key=lambda lit: (lit.language != "en", lit.language or "")),
        types=types,
        statements=listed,
        incoming=incoming,
        incoming_count=incoming_count,
        names=best_labels(store, linked, base=base),
        graphs=infos,
        is_graph=is_graph,
        disagreements=disagreements_about(store, iri, base=base),
    )


def _graph_names(store: Store, iris: Sequence[str]) -> set[str]:
    rows = store.query(
        f"SELECT ?g WHERE {{ VALUES ?g {{ {_values(ox.NamedNode(i) for i in iris)} }} "
        "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    ).rows()
    return {row["g"].value for row in rows}


def resource_quads(store: Store, iri: str, *, base: str) -> list[ox.Quad]:
    """The concise bounded description of ``iri``, in the graphs that state it.

    Its statements across all graphs, the statements about the blank nodes they reach (up to
    three levels), and the labels of the IRIs it links to. Triple formats drop the graph
    names (see :func:`serialize`); TriG and N-Quads keep them, which shows each statement's
    source.

    Raises:
        NotFoundError: if the graph does not mention ``iri``.
    """
    node = ox.NamedNode(iri)
    rows = _query(
        store,
        """SELECT ?g ?x ?p ?o WHERE {
          { GRAPH ?g { ?r ?p ?o } BIND(?r AS ?x) }
          UNION { GRAPH ?g { ?r ?p1 ?x . ?x ?p ?o } FILTER(ISBLANK(?x)) }
          UNION { GRAPH ?g { ?r ?p1 ?b . ?b ?p2 ?x . ?x ?p ?o }
                  FILTER(ISBLANK(?b) && ISBLANK(?x)) }
        }""",
        base,
        r=node,
    )
    quads = [_quad(row["x"], row["p"], row["o"], row["g"]) for row in rows]
    if not quads:
        if mentions(store, iri):
            return []
        raise NotFoundError(f"the graph does not mention <{iri}>")
    linked = {q.object for q in quads if isinstance(q.object, ox.NamedNode) and q.object != node}
    if linked:
        label_rows = _query(
            store,
            f"""SELECT ?g ?x ?p ?o WHERE {{ VALUES ?x {{ {_values(linked)} }}
                 VALUES ?p {{ rdfs:label }} GRAPH ?g {{ ?x ?p ?o }} }}""",
            base,
        )
        quads += [_quad(row["x"], row["p"], row["o"], row["g"]) for row in label_rows]
    return _unique(quads)


def _quad(s: Term, p: Term, o: Term, g: Term) -> ox.Quad:
    assert isinstance(s, ox.NamedNode | ox.BlankNode)
    assert isinstance(p, ox.NamedNode)
    assert isinstance(g, ox.NamedNode)
    return ox.Quad(s, p, o, g)


def _unique(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    seen: set[ox.Quad] = set()
    kept = []
    for quad in quads:
        if quad not in seen:
            seen.add(quad)
            kept.append(quad)
    return kept


def graph_quads(store: Store, iri: str) -> list[ox.Quad]:
    """Every statement of the named graph ``iri``, in it.

    Raises:
        NotFoundError: if the store has no such graph.
    """
    quads = list(store.quads(iri))
    if not quads:
        raise NotFoundError(f"the store has no graph <{iri}>")
    return quads


def graph_view(store: Store, iri: str, *, base: str, limit: int = GRAPH_PAGE_LIMIT) -> GraphView:
    """A named graph for its page: what it says about itself and up to ``limit`` statements.

    Raises:
        NotFoundError: if the store has no such graph.
    """
    quads = graph_quads(store, iri)
    own = f"<{iri}>"  # the graph's description of itself comes first
    triples = sorted(
        (q.triple for q in quads), key=lambda t: (str(t.subject) != own, str(t.subject), str(t))
    )
    shown = triples[:limit]
    linked = {iri}
    for t in shown:
        linked.add(t.predicate.value)
        for term in (t.subject, t.object):
            if isinstance(term, ox.NamedNode):
                linked.add(term.value)
    info = graph_infos(store, [iri], base=base)[iri]
    if info.source:
        linked.add(info.source)
    return GraphView(
        iri=iri,
        info=info,
        triples=shown,
        size=len(triples),
        names=best_labels(store, linked, base=base),
    )


def class_members(
    store: Store, cls: str, *, base: str, limit: int = MEMBERS_LIMIT
) -> tuple[list[Member], int]:
    """Instances of ``cls`` (directly typed) with their labels, at most ``limit``, and the
    total count."""
    node = ox.NamedNode(cls)
    count = _query(store, "SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c }", base, c=node)
    rows = _query(
        store,
        f"""SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{
              ?x a ?c OPTIONAL {{ ?x rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en")) }}
            }} GROUP BY ?x ORDER BY LCASE(STR(SAMPLE(?l))) ?x LIMIT {int(limit)}""",
        base,
        c=node,
    )
    members = [
        Member(row["x"].value, row["label"].value if "label" in row else "")
        for row in rows
        if isinstance(row["x"], ox.NamedNode)
    ]
    return members, int(count[0]["n"].value) if count else 0


def serialize(quads: Sequence[ox.Quad], fmt: RdfFormat, *, base: str) -> bytes:
    """Quads written in ``fmt``: graph names kept by TriG and N-Quads, dropped (and duplicate
    triples merged) by Turtle, N-Triples, RDF/XML and JSON-LD."""
    if fmt in (RdfFormat.TRIG, RdfFormat.N_QUADS):
        data = ox.serialize(quads, None, fmt.oxigraph, prefixes=_used_prefixes(quads, base))
        assert data is not None
        return data
    triples = _unique(ox.Quad(q.subject, q.predicate, q.object) for q in quads)
    if fmt is RdfFormat.JSON_LD:
        out = io.BytesIO()
        triples.sort(key=lambda q: str(q.subject))  # one node object per subject
        write_jsonld(triples, out, base=base)
        return out.getvalue()
    data = ox.serialize(
        [q.triple for q in triples], None, fmt.oxigraph, prefixes=_used_prefixes(quads, base)
    )
    assert data is not None
    return data


def _used_prefixes(quads: Iterable[ox.Quad], base: str) -> dict[str, str]:
    """The cpgraph prefixes whose namespace one of the quads' IRIs starts with."""
    iris = {
        t.value
        for q in quads
        for t in (q.subject, q.predicate, q.object, q.graph_name)
        if isinstance(t, ox.NamedNode)
    }
    iris |= {q.object.datatype.value for q in quads if isinstance(q.object, ox.Literal)}
    return {
        p: ns
        for p, ns in prefixes(base).items()
        if p != "id" and any(i.startswith(ns) for i in iris)  # id:org\/sepa reads badly
    }
