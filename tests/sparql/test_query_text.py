"""Query text read as SPARQL reads it, and the dataset a query names (cpgraph.sparql.text,
cpgraph.sparql.joins, cpgraph.store.datasets).

cpgraph reads query text before Oxigraph does: to hash a join over whole classes
(:mod:`cpgraph.sparql.joins`), and to find the query's own ``FROM`` and ``FROM NAMED``. Each reading
must end its tokens where SPARQL ends them (whitespace is space, tab, CR and LF, and nothing
else; a comment ends at CR or LF), or a rewrite drops patterns, or answers a query that
Oxigraph refuses. These tests pin each defect once found, on a build large enough for the
join rewrite to fire, and compare generated queries, mutated at every gap between tokens,
with a plain Oxigraph store that evaluates the same text over the same dataset without
cpgraph's rewrites.
"""

from __future__ import annotations

import collections
import itertools
import random
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pytest
from tests.conftest import published

from cpgraph.errors import QuerySyntaxError
from cpgraph.sparql.joins import MIN_STATEMENTS, hash_join_rewrite
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.union import DEFAULT_GRAPH_NAME

EX = "https://example.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
G1, G2, G3 = (f"{EX}g{n}" for n in (1, 2, 3))
GRAPHS = (G1, G2, G3)
PREFIXES = f"PREFIX ex: <{EX}>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
OBSERVATIONS = 12_000  # more than joins.MIN_STATEMENTS: each whole-class pattern is large
AREAS = 30


def node(name: str) -> ox.NamedNode:
    return ox.NamedNode(EX + name)


def dataset() -> list[ox.Quad]:
    """Observations in g1, each typed, valued and in an area, a few in a second area (g2);
    the areas' labels in g2, a third of them again in g3; and notes written to the default
    graph, one of them a label g2 states too."""
    quads: list[ox.Quad] = []
    for n in range(OBSERVATIONS):
        obs = node(f"obs{n}")
        quads.append(ox.Quad(obs, ox.NamedNode(RDF_TYPE), node("Observation"), node("g1")))
        value = ox.Literal(str(n % 13), datatype=ox.NamedNode(XSD_INTEGER))
        quads.append(ox.Quad(obs, node("value"), value, node("g1")))
        quads.append(ox.Quad(obs, node("refArea"), node(f"area{n % AREAS}"), node("g1")))
        if n % 97 == 0:
            quads.append(ox.Quad(obs, node("refArea"), node("area99"), node("g2")))
    for a in range(AREAS):
        label = ox.Literal(f"Area {a}", language="en")
        quads.append(ox.Quad(node(f"area{a}"), ox.NamedNode(LABEL), label, node("g2")))
        if a < AREAS // 3:
            quads.append(ox.Quad(node(f"area{a}"), ox.NamedNode(LABEL), label, node("g3")))
    for n in range(5):
        quads.append(ox.Quad(node(f"note{n}"), node("says"), ox.Literal(f"note {n}")))
    quads.append(ox.Quad(node("area0"), ox.NamedNode(LABEL), ox.Literal("Area 0", language="en")))
    return quads


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> GraphStore:
    """A published build of :func:`dataset`, opened read-only as a server opens it (the join
    rewrite fires on such a build only)."""
    return published(tmp_path_factory.mktemp("query-text"), dataset())


def count(store: GraphStore, sparql: str, **options: Any) -> int:
    row = next(store.query(PREFIXES + sparql, **options).rows())
    return int(row["n"].value)


# -- the defects, one by one ------------------------------------------------------------------


def test_a_comment_ended_by_a_lone_cr_ends_there_and_the_join_keeps_every_pattern(
    served: GraphStore,
) -> None:
    area3 = f"<{EX}area3>"
    sparql = (
        "SELECT (COUNT(*) AS ?n) WHERE { ?o a ex:Observation ; ex:value ?v #c\r"
        f"; ex:refArea {area3}\n}}"
    )
    assert count(served, sparql) == OBSERVATIONS // AREAS
    # the join without the area is rewritten, and answers as written
    plain = "SELECT (COUNT(*) AS ?n) WHERE { ?o a ex:Observation ; ex:value ?v #c\r\n}"
    assert hash_join_rewrite(PREFIXES + plain, lambda _: MIN_STATEMENTS) is not None
    assert count(served, plain) == OBSERVATIONS


@pytest.mark.parametrize(
    "space", ["\xa0", "\x0c", "\x0b", "\x85", "\u2003", "\u3000", "\u2028", "\ufeff"]
)
def test_a_character_sparql_does_not_count_as_whitespace_is_refused_as_oxigraph_refuses_it(
    served: GraphStore, space: str
) -> None:
    sparql = PREFIXES + (
        f"SELECT (COUNT(*) AS ?n) WHERE {{ ?o a ex:Observation ;{space}ex:value ?v }}"
    )
    with pytest.raises(QuerySyntaxError) as served_error:
        served.query(sparql)
    with pytest.raises(SyntaxError) as plain_error:
        ox.Store().query(sparql)
    assert f"{served_error.value.line}:{served_error.value.column}" in str(plain_error.value)


@pytest.mark.parametrize(
    ("clause", "graphs"),
    [
        (f"FROM NAMED<{G2}>", 1),
        (f"FROM NAMED <{G2}>", 1),
        (f"FROM\tNAMED\r<{G2}>FROM NAMED<{G3}>", 2),
        ("FROM NAMED#c\rex:g3", 1),
        (f"FROM<{G1}>", 0),
    ],
)
def test_a_from_written_without_a_space_names_the_dataset(
    served: GraphStore, clause: str, graphs: int
) -> None:
    sparql = f"SELECT (COUNT(DISTINCT ?g) AS ?n) {clause} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert count(served, sparql) == graphs
    assert count(served, f"SELECT (COUNT(*) AS ?n) FROM<{G3}>WHERE{{?s ?p ?o}}") == AREAS // 3


@pytest.mark.parametrize(
    ("clause", "graphs"),
    [("FROMNAMED<https://example.org/g2>", 1), ("FROM NAMED:g3", 1), ("FROMNAMED:g3", 1)],
)
def test_a_keyword_glued_to_the_name_after_it_is_read_as_oxigraph_reads_it(
    served: GraphStore, clause: str, graphs: int
) -> None:
    # Oxigraph's parser reads a keyword wherever its letters stand: the query is left to it
    sparql = (
        f"PREFIX : <{EX}> SELECT (COUNT(DISTINCT ?g) AS ?n) {clause} "
        "WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    assert count(served, sparql) == graphs


LABELS = "SELECT (COUNT(*) AS ?n) {clause} WHERE {{ ?s rdfs:label ?l }}"


def test_a_default_graph_of_several_graphs_is_their_merge(served: GraphStore) -> None:
    both = f"FROM <{G2}> FROM ex:g3"
    assert count(served, LABELS.format(clause=both)) == AREAS  # not AREAS + AREAS // 3
    assert count(served, LABELS.format(clause=f"FROM <{G3}> FROM <{G3}>")) == AREAS // 3
    assert count(served, LABELS.format(clause=""), default_graphs=[G2, G3]) == AREAS
    in_memory = served.memory_copy()
    assert count(in_memory, LABELS.format(clause=both)) == AREAS
    assert count(in_memory, LABELS.format(clause=both)) == AREAS  # a view kept, read again
    # the merge is of the graphs named, the rest of the dataset unread
    assert count(served, LABELS.format(clause=f"FROM <{G1}> FROM <{G3}>")) == AREAS // 3


def test_the_protocols_dataset_replaces_the_querys_own_whole(served: GraphStore) -> None:
    named = f"SELECT (COUNT(DISTINCT ?g) AS ?n) FROM NAMED <{G1}> WHERE {{ GRAPH ?g {{ }} }}"
    assert count(served, named) == 1
    assert count(served, named, default_graphs=[G2]) == 0  # no named graph but the protocol's
    assert count(served, named, named_graphs=[G2, G3]) == 2
    # a named-graph-uri alone: the default graph is no longer the query's FROM
    assert count(served, LABELS.format(clause=f"FROM <{G2}>")) == AREAS
    assert count(served, LABELS.format(clause=f"FROM <{G2}>"), named_graphs=[G2]) == 0
    assert count(served, LABELS.format(clause=f"FROM <{G2}>"), default_graphs=[G3]) == AREAS // 3


@pytest.mark.parametrize(
    "clause",
    [
        f"FROM NAMED <{DEFAULT_GRAPH_NAME}>",
        "FROM NAMED <urn:x-cpgraph:\\u0064efault-graph>",
        f"FROM <{G1}> FROM NAMED <{DEFAULT_GRAPH_NAME}> FROM NAMED <{G3}>",
    ],
)
def test_the_graph_that_keeps_the_default_graph_is_reached_by_no_from_named(
    served: GraphStore, clause: str
) -> None:
    says = f"SELECT (COUNT(*) AS ?n) {clause} WHERE {{ GRAPH ?g {{ ?s ex:says ?o }} }}"
    assert count(served, says) == 0
    assert count(served, says, named_graphs=[DEFAULT_GRAPH_NAME]) == 0
    notes = f"SELECT (COUNT(*) AS ?n) FROM <{DEFAULT_GRAPH_NAME}> WHERE {{ ?s ex:says ?o }}"
    assert count(served, notes) == 0
    assert count(served, "SELECT (COUNT(*) AS ?n) WHERE { ?s ex:says ?o }") == 5


def test_an_update_is_read_past_a_comment_ended_by_cr() -> None:
    store = GraphStore(None)
    store.load_quads([ox.Quad(node("a"), node("b"), node("c"), node("g1"))])
    store.update(
        f"INSERT DATA {{ GRAPH <{G2}> {{ <{EX}d> <{EX}e> 'f' }} }} # and then\r; CLEAR GRAPH <{G1}>"
    )
    assert list(store.quads(G1)) == []
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == 1


# -- a differential run against a plain Oxigraph store ----------------------------------------

GAP = "\u2423"  # where a template may be mutated: a gap between two tokens
# What may fill a gap: SPARQL's whitespace and comments (ended by CR, LF or CRLF) ...
SPACES = [" ", "  ", "\t", "\n", "\r", "\r\n", " #c\r", "#c\n", "#c\r\n", "\t# c \r\n"]
# ... characters that are whitespace to Python, and some to Unicode, but not to SPARQL ...
NOT_SPACES = ["\xa0", "\x0c", "\x0b", "\x85", "\u1680", "\u2003", "\u3000", "\u2028", "\ufeff"]
# ... and nothing at all, where the two tokens stay two (after or before one of these).
GLUED_AFTER = tuple(">)}{(;,*\"'")
GLUED_BEFORE = tuple("<{}()?$;,.\"'")

GRAPH_TERMS = {G1: [f"<{G1}>", "ex:g1", "<https://example.org/\\u00671>"]}
GRAPH_TERMS[G2] = [f"<{G2}>", "ex:g2"]
GRAPH_TERMS[G3] = [f"<{G3}>", "ex:g3"]
GRAPH_TERMS[DEFAULT_GRAPH_NAME] = [f"<{DEFAULT_GRAPH_NAME}>"]

TEMPLATES = [
    # joins the rewrite may hash (the whole-class patterns are large)
    "SELECT␣(COUNT(*)␣AS␣?n)␣«dataset»WHERE␣{␣?o␣a␣ex:Observation␣;␣ex:value␣?v␣;"
    "␣ex:refArea␣«area»␣}",
    "SELECT␣?a␣(COUNT(?o)␣AS␣?n)␣«dataset»WHERE␣{␣?o␣a␣ex:Observation␣.␣?o␣ex:refArea␣?a␣}"
    "␣GROUP␣BY␣?a",
    "ASK␣«dataset»{␣?o␣«value»␣?v␣;␣a␣ex:Observation␣}",
    "SELECT␣?v␣(COUNT(*)␣AS␣?n)␣«dataset»WHERE␣{␣?o␣«value»␣?v␣;␣ex:refArea␣?a␣}␣GROUP␣BY␣?v",
    "SELECT␣(COUNT(*)␣AS␣?n)␣«dataset»WHERE␣{␣?o␣a␣ex:Observation␣;␣ex:refArea␣?a␣.␣?a"
    "␣rdfs:label␣?l␣}",
    # datasets
    "SELECT␣(COUNT(*)␣AS␣?n)␣«dataset»WHERE␣{␣?s␣rdfs:label␣?l␣}",
    "SELECT␣?g␣(COUNT(*)␣AS␣?n)␣«dataset»WHERE␣{␣GRAPH␣?g␣{␣?s␣?p␣?o␣}␣}␣GROUP␣BY␣?g",
    'SELECT␣?l␣«dataset»WHERE␣{␣?s␣rdfs:label␣?l␣FILTER(?l␣!=␣"FROM<urn:x>")␣}',
    "ASK␣«dataset»{␣ex:note1␣?p␣?o␣}",
    "CONSTRUCT␣{␣?s␣rdfs:label␣?l␣}␣«dataset»WHERE␣{␣?s␣rdfs:label␣?l␣}",
    # point lookups
    "SELECT␣?p␣?o␣«dataset»WHERE␣{␣ex:obs«k»␣?p␣?o␣}",
    "SELECT␣*␣«dataset»{␣?s␣?p␣«area»␣}␣ORDER␣BY␣?s␣?p␣LIMIT␣5",
]
WEIGHTS = [4, 4, 4, 4, 1, 1, 1, 1, 1, 1, 1, 1]  # the joins most: a rewrite fires on a few
DATASETS: list[tuple[tuple[str, ...], tuple[str, ...]] | None] = [
    None,
    ((G1,), ()),
    ((G2, G3), ()),
    ((), (G2,)),
    ((G2,), (G3,)),
    ((), (DEFAULT_GRAPH_NAME,)),
    ((DEFAULT_GRAPH_NAME, G3), ()),
    ((G2, G2), ()),
    ((G2, G3), (G1, G2)),
]

Dataset = tuple[tuple[str, ...], tuple[str, ...]]


def dataset_clause(rng: random.Random, chosen: Dataset | None) -> str:
    if chosen is None:
        return ""
    default, named = chosen
    clauses = [f"FROM␣{rng.choice(GRAPH_TERMS[g])}␣" for g in default]
    clauses += [f"FROM␣NAMED␣{rng.choice(GRAPH_TERMS[g])}␣" for g in named]
    return "".join(clauses)


def generated(rng: random.Random) -> tuple[str, Dataset | None, Dataset | None]:
    """A query (its text, the dataset its clauses name, the dataset the protocol names)."""
    own = None if rng.random() < 0.5 else rng.choice(DATASETS)
    template = rng.choices(TEMPLATES, WEIGHTS)[0]
    fills = {
        "dataset": dataset_clause(rng, own),
        "area": rng.choice([f"ex:area{rng.randrange(AREAS)}", f"<{EX}area7>", "?a"]),
        "value": rng.choice(["ex:value", f"<{EX}value>", "<https://example.org/\\u0076alue>"]),
        "k": str(rng.randrange(OBSERVATIONS)),
    }
    text = template
    for name, fill in fills.items():
        text = text.replace(f"«{name}»", fill)
    protocol: Dataset | None = None
    if rng.random() < 0.15:
        protocol = (
            tuple(rng.sample(GRAPHS, rng.randrange(3))),
            tuple(rng.sample((*GRAPHS, DEFAULT_GRAPH_NAME), rng.randrange(3))),
        )
    return mutated(rng, PREFIXES.replace(" ", GAP) + text), own, protocol


def mutated(rng: random.Random, template: str) -> str:
    """The template with its gaps filled: mostly as SPARQL allows, now and then with a
    character SPARQL does not read as whitespace, or with nothing."""
    parts = template.split(GAP)
    mode = rng.random()
    out = [parts[0]]
    for left, right in itertools.pairwise(parts):
        fill = " "
        roll = rng.random()
        if roll < 0.3:
            fill = rng.choice(SPACES)
        elif roll < 0.4 and (left.endswith(GLUED_AFTER) or right.startswith(GLUED_BEFORE)):
            fill = ""
        elif mode < 0.3 and roll < 0.43:
            fill = rng.choice(NOT_SPACES)
        out.append(fill + right)
    return "".join(out)


def normalised(result: Any) -> Any:
    """A query's answer as a value to compare: a multiset of solutions or triples, or a
    boolean."""
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        return collections.Counter(tuple(str(row[n]) for n in names) for row in result)
    return collections.Counter(str(triple) for triple in result)


class Reference:
    """Plain Oxigraph stores holding the dataset users see, one per dataset a query names:
    its default graph the merge of the graphs named, its named graphs those named."""

    def __init__(self, quads: list[ox.Quad]) -> None:
        self.graphs: dict[str, list[ox.Quad]] = collections.defaultdict(list)
        for quad in quads:
            name = quad.graph_name
            key = name.value if isinstance(name, ox.NamedNode) else ""
            self.graphs[key].append(quad)
        self.stores: dict[Dataset | None, ox.Store] = {}

    def store(self, chosen: Dataset | None) -> ox.Store:
        held = self.stores.get(chosen)
        if held is None:
            default, named = chosen if chosen is not None else (("", *GRAPHS), GRAPHS)
            held = ox.Store()
            for g in default:
                held.extend(self.triples_of(g, ox.DefaultGraph()))
            for g in named:
                held.extend(self.triples_of(g, ox.NamedNode(g)))
            self.stores[chosen] = held
        return held

    def triples_of(self, graph: str, into: ox.NamedNode | ox.DefaultGraph) -> Iterator[ox.Quad]:
        for q in self.graphs.get(graph, []) if graph != DEFAULT_GRAPH_NAME else []:
            yield ox.Quad(q.subject, q.predicate, q.object, into)

    def answer(self, sparql: str, chosen: Dataset | None) -> Any:
        named = GRAPHS if chosen is None else chosen[1]
        try:
            return normalised(
                self.store(chosen).query(
                    sparql,
                    default_graph=ox.DefaultGraph(),
                    named_graphs=[ox.NamedNode(g) for g in named],
                )
            )
        except SyntaxError:
            return "refused"


def cpgraph_answer(store: GraphStore, sparql: str, protocol: Dataset | None) -> Any:
    try:
        result = store.query(
            sparql,
            default_graphs=None if protocol is None else protocol[0],
            named_graphs=None if protocol is None else protocol[1],
        )
    except QuerySyntaxError:
        return "refused"
    return normalised(result.raw)


def test_generated_and_mutated_queries_answer_as_a_plain_store_answers_them(
    served: GraphStore,
) -> None:
    rng = random.Random(20231)
    reference = Reference(dataset())
    # the reference reads the dataset its options name, whatever the text's own clauses say
    probe = f"ASK FROM <{G2}> {{ ?s ?p ?o }}"
    assert reference.answer(probe, ((G1,), ())) is True
    assert reference.answer(probe, ((), (G1,))) is False
    answered = refused = 0
    for _ in range(300):
        sparql, own, protocol = generated(rng)
        chosen = protocol if protocol is not None else own
        expected = reference.answer(sparql, chosen)
        assert cpgraph_answer(served, sparql, protocol) == expected, (sparql, own, protocol)
        refused += expected == "refused"
        answered += expected != "refused"
    assert answered > 150  # both kinds are exercised
    assert refused > 20
