"""Join planning (sparql.joins): a join over whole classes is hashed, never answered otherwise.

Every rewrite is checked by meaning: the rewritten query's solutions are those of the query
as written, evaluated by Oxigraph on the same small real store whose observations lack an
area, have two, or are not typed, so that a join that lost or doubled a solution shows.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.conftest import published

from cpgraph.errors import QuerySyntaxError
from cpgraph.sparql import joins
from cpgraph.sparql.joins import RDF_TYPE, Pattern, hash_join_rewrite
from cpgraph.store.oxigraph import GraphStore

EX = "https://example.org/"
PREFIX = f"PREFIX ex: <{EX}>\n"


def dataset() -> list[ox.Quad]:
    """Observations, areas and labels with every irregularity a join must keep."""
    quads: list[ox.Quad] = []

    def add(s: str, p: str, o: ox.NamedNode | ox.Literal, graph: str = "g1") -> None:
        quads.append(ox.Quad(ox.NamedNode(EX + s), ox.NamedNode(p), o, ox.NamedNode(EX + graph)))

    for n in range(60):
        obs = f"obs{n}"
        if n % 7 != 0:  # some observations are not typed
            add(obs, RDF_TYPE, ox.NamedNode(EX + "Observation"))
        if n % 5 != 0:  # some have no area
            add(obs, EX + "refArea", ox.NamedNode(EX + f"area{n % 4}"))
        if n % 11 == 0:  # some have two, one of them in another graph
            add(obs, EX + "refArea", ox.NamedNode(EX + "area9"), graph="g2")
        add(obs, EX + "value", ox.Literal(str(n % 13), datatype=ox.NamedNode(EX + "num")))
    for a in range(4):
        add(f"area{a}", RDF_TYPE, ox.NamedNode(EX + "Province"))
        add(f"area{a}", EX + "label", ox.Literal(f"Area {a}", language="en"))
    add("obs3", RDF_TYPE, ox.NamedNode(EX + "Observation"), graph="g2")  # the same, twice
    return quads


@pytest.fixture(scope="module")
def store() -> ox.Store:
    held = ox.Store()
    held.extend(dataset())
    return held


def large(pattern: Pattern) -> int:
    """Sizes under which every whole-class join is rewritten."""
    return 100_000


def solutions(store: ox.Store, sparql: str) -> collections.Counter[tuple[str, ...]]:
    result = store.query(sparql, use_default_graph_as_union=True)
    if isinstance(result, ox.QueryBoolean):
        return collections.Counter({(str(bool(result)),): 1})
    assert isinstance(result, ox.QuerySolutions)
    names = [v.value for v in result.variables]
    return collections.Counter(
        tuple(str(row[name]) if row[name] is not None else "" for name in names) for row in result
    )


REWRITTEN = {
    "star count per group": PREFIX
    + "SELECT ?area (COUNT(DISTINCT ?obs) AS ?n) WHERE {\n"
    + "  ?obs a ex:Observation ; ex:refArea ?area .\n} GROUP BY ?area",
    "bag of a star (duplicates kept)": PREFIX
    + "SELECT ?obs ?area WHERE { ?obs a ex:Observation . ?obs ex:refArea ?area }",
    "chain over two classes": PREFIX
    + "SELECT ?obs ?label WHERE { ?obs ex:refArea ?area . ?area ex:label ?label ; "
    + "a ex:Province . }",
    "object list, trailing ';', comments and $vars": PREFIX
    + "SELECT * WHERE { # all of them\n"
    + "  $obs ex:refArea ?area , ?other ; ex:value ?v ; }",
    "full IRIs, a variable class and ORDER BY / LIMIT": "SELECT ?obs ?c ?v WHERE { "
    + f"?obs <{RDF_TYPE}> ?c ; <{EX}value> ?v }} ORDER BY ?v ?obs ?c LIMIT 30",
    "ASK": PREFIX + "ASK { ?obs a ex:Observation ; ex:refArea ?area }",
    "lower-case keywords and a predeclared-looking prefix": "prefix ex: <"
    + EX
    + "> select distinct ?area where { ?obs ex:refArea ?area ; a ex:Observation }",
}


@pytest.mark.parametrize("name", list(REWRITTEN))
def test_a_whole_class_join_is_rewritten_into_hashed_subqueries_with_the_same_solutions(
    store: ox.Store, name: str
) -> None:
    sparql = REWRITTEN[name]
    rewritten = hash_join_rewrite(sparql, large)
    assert rewritten is not None
    assert rewritten.count("{ SELECT") >= 2  # a sub-query per pattern
    assert solutions(store, rewritten) == solutions(store, sparql)
    assert sum(solutions(store, sparql).values()) > 0


NOT_REWRITTEN = {
    "a FILTER": "SELECT * WHERE { ?o a ex:Observation ; ex:value ?v FILTER(?v > 3) }",
    "an OPTIONAL": "SELECT * WHERE { ?o a ex:Observation OPTIONAL { ?o ex:refArea ?a } }",
    "a sub-query": "SELECT * WHERE { ?o a ex:Observation { SELECT ?o WHERE { ?o ?p ?x } } }",
    "a constant object": "SELECT * WHERE { ?o ex:refArea ex:area1 ; a ex:Observation }",
    "a constant subject": "SELECT * WHERE { ex:obs1 ex:refArea ?a . ?a ex:label ?l }",
    "a blank node": "SELECT * WHERE { _:o a ex:Observation ; ex:refArea ?a }",
    "an anonymous node": "SELECT * WHERE { ?a ex:label ?l . [] ex:refArea ?a }",
    "a property path": "SELECT * WHERE { ?o a ex:Observation ; ex:refArea/ex:label ?l }",
    "a variable predicate": "SELECT * WHERE { ?o a ex:Observation ; ?p ?x }",
    "a cross product": "SELECT * WHERE { ?o a ex:Observation . ?a ex:label ?l }",
    "one pattern": "SELECT ?o WHERE { ?o a ex:Observation }",
    "an undeclared prefix": "SELECT * WHERE { ?o a nope:Observation ; ex:refArea ?a }",
    "a relative IRI": "SELECT * WHERE { ?o a <Observation> ; ex:refArea ?a }",
    "a BASE": "BASE <https://example.org/> SELECT * WHERE { ?o a ex:O ; ex:refArea ?a }",
    "a CONSTRUCT": "CONSTRUCT WHERE { ?o a ex:Observation ; ex:refArea ?a }",
    "VALUES": "SELECT * WHERE { ?o a ex:O ; ex:refArea ?a } VALUES ?a { ex:area1 }",
    "a GRAPH": "SELECT * WHERE { GRAPH ?g { ?o a ex:O ; ex:refArea ?a } }",
    "a literal object": 'SELECT * WHERE { ?o ex:value "3" ; ex:refArea ?a }',
    "a brace in a string": 'SELECT ("}" AS ?b) * WHERE { ?o a ex:O ; ex:refArea ?a }',
    "the same pattern twice": "SELECT * WHERE { ?o ex:refArea ?a . ?o ex:refArea ?a }",
}


@pytest.mark.parametrize("name", list(NOT_REWRITTEN))
def test_anything_but_a_plain_whole_class_join_is_left_as_written(name: str) -> None:
    assert hash_join_rewrite(PREFIX + NOT_REWRITTEN[name], large) is None


def test_a_join_is_rewritten_only_where_scans_cost_less_than_the_lookups() -> None:
    sparql = PREFIX + "SELECT * WHERE { ?o a ex:Observation ; ex:refArea ?a }"

    def sized(observations: int, areas: int) -> int | None:
        def size(pattern: Pattern) -> int:
            return observations if pattern.type_class else areas

        rewritten = hash_join_rewrite(sparql, size)
        return None if rewritten is None else len(rewritten)

    assert sized(60_000, 60_000) is not None  # as many of each: two scans beat the lookups
    assert sized(60_000, 89_000) is not None
    assert sized(1_000, 200_000) is None  # few observations: look their areas up
    assert sized(200_000, 1_000) is None
    assert sized(5_000, 5_000) is None  # small: not worth it


def test_prefixes_predeclared_for_the_query_resolve_its_names() -> None:
    sparql = "SELECT * WHERE { ?o a ex:Observation ; ex:refArea ?a }"
    assert hash_join_rewrite(sparql, large) is None
    rewritten = hash_join_rewrite(sparql, large, {"ex": EX})
    assert rewritten is not None
    assert f"<{EX}refArea>" in rewritten


def test_a_served_build_hashes_large_joins_and_answers_as_written(
    tmp_path: Path, store: ox.Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(joins, "MIN_STATEMENTS", 10)  # the fixture's classes count as large
    served = published(tmp_path, dataset())
    sparql = REWRITTEN["star count per group"]
    answer = served.query(sparql)
    rows = collections.Counter((str(row["area"]), str(row["n"])) for row in answer.rows())
    assert rows == solutions(store, sparql)
    assert (RDF_TYPE, EX + "Observation") in served._sizes  # planned with the build's sizes
    copy = served.memory_copy()
    in_memory = collections.Counter(
        (str(r["area"]), str(r["n"])) for r in copy.query(sparql).rows()
    )
    assert in_memory == rows


def test_a_malformed_query_that_looks_rewritable_reports_its_own_line_and_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(joins, "MIN_STATEMENTS", 10)
    served = published(tmp_path, dataset())
    sparql = (
        PREFIX
        + "SELECT ?a (COUNT(?o) AS ?n) WHERE {\n"
        + "  ?o a ex:Observation ; ex:refArea ?a\n} GRUOP BY ?a"
    )
    assert hash_join_rewrite(sparql, large) is not None
    with pytest.raises(QuerySyntaxError) as served_error:
        served.query(sparql)
    plain = GraphStore(None)
    with pytest.raises(QuerySyntaxError) as plain_error:
        plain.query(sparql)
    assert (served_error.value.line, served_error.value.column) == (
        plain_error.value.line,
        plain_error.value.column,
    )
    assert served_error.value.line == 4
