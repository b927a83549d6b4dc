"""Exports: every format round-trips to what the store holds, plus the dataset description."""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic as rdflib_isomorphic
from tests.conftest import ROOT, run_cli
from tests.linked_data import (
    AWKWARD_GRAPH,
    BASE,
    as_default,
    awkward_store,
    build_mini,
    isomorphic,
    parse,
)

from cpgraph.config import Settings
from cpgraph.errors import InputError, NotFoundError
from cpgraph.publish.describe import describe, description_graph, dump_distributions
from cpgraph.publish.export import export, export_file, format_of
from cpgraph.rdf.io import RdfFormat, to_rdflib_term
from cpgraph.rdf.jsonld import context, context_document
from cpgraph.rdf.namespaces import RDF, RDFS
from cpgraph.store.builds import open_current
from cpgraph.store.oxigraph import GraphStore

QUAD_FORMATS = [RdfFormat.N_QUADS, RdfFormat.TRIG, RdfFormat.JSON_LD]
TRIPLE_FORMATS = [RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.RDF_XML]
VOID = description_graph(BASE)


@pytest.fixture(scope="module")
def store() -> GraphStore:
    return awkward_store()


@pytest.fixture(scope="module")
def description(store: GraphStore) -> list[ox.Quad]:
    return describe(store, base=BASE, distributions=dump_distributions())


def exported(store: GraphStore, fmt: RdfFormat, **options: object) -> bytes:
    out = io.BytesIO()
    export(store, out, fmt=fmt, base=BASE, **options)  # type: ignore[arg-type]
    return out.getvalue()


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("fmt", QUAD_FORMATS, ids=lambda f: f.value)
def test_quad_formats_round_trip_to_every_graph_plus_the_description(
    store: GraphStore, description: list[ox.Quad], fmt: RdfFormat, packed: bool
) -> None:
    data = exported(store, fmt, description=description, gzip=packed)
    back = parse(data, fmt, packed=packed)
    assert isomorphic(back, [*store.quads(), *description])
    assert {q.graph_name.value for q in back} == {*store.named_graphs(), VOID}  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", TRIPLE_FORMATS, ids=lambda f: f.value)
def test_triple_formats_export_the_union_with_the_description(
    store: GraphStore, description: list[ox.Quad], fmt: RdfFormat
) -> None:
    back = parse(exported(store, fmt, union=True, description=description), fmt)
    assert isomorphic(back, as_default([*store.quads(), *description]))


@pytest.mark.parametrize("fmt", list(RdfFormat), ids=lambda f: f.value)
def test_one_graph_exports_exactly_that_graph(store: GraphStore, fmt: RdfFormat) -> None:
    back = parse(exported(store, fmt, graph=AWKWARD_GRAPH), fmt)
    expected = list(store.quads(AWKWARD_GRAPH))
    assert isomorphic(back, expected if fmt.holds_graphs else as_default(expected))


@pytest.mark.parametrize("fmt", list(RdfFormat), ids=lambda f: f.value)
def test_the_description_graph_exports_by_its_name(
    store: GraphStore, description: list[ox.Quad], fmt: RdfFormat
) -> None:
    back = parse(exported(store, fmt, graph=VOID, description=description), fmt)
    assert isomorphic(back, description if fmt.holds_graphs else as_default(description))


@pytest.mark.parametrize("fmt", TRIPLE_FORMATS, ids=lambda f: f.value)
def test_a_triple_format_without_graph_or_union_is_refused_and_says_why(
    store: GraphStore, fmt: RdfFormat
) -> None:
    with pytest.raises(InputError, match=r"holds no named graphs.*--union"):
        exported(store, fmt)


def test_an_unknown_graph_is_not_found(store: GraphStore) -> None:
    with pytest.raises(NotFoundError):
        exported(store, RdfFormat.N_QUADS, graph=f"{BASE}graph/nothing-here")


def test_gzipped_exports_are_the_same_bytes_every_time(
    store: GraphStore, description: list[ox.Quad]
) -> None:
    first = exported(store, RdfFormat.TRIG, description=description, gzip=True)
    assert first == exported(store, RdfFormat.TRIG, description=description, gzip=True)


def test_jsonld_export_uses_the_published_context_and_its_short_keys(
    store: GraphStore,
) -> None:
    document = json.loads(exported(store, RdfFormat.JSON_LD, graph=f"{BASE}graph/s004/abstract-p1"))
    assert document["@context"] == context(BASE)
    nodes = document["@graph"][0]["@graph"]
    sepa = next(n for n in nodes if n["@id"] == "id:org/sepa")
    assert sepa["@type"] == ["GovernmentBody"]
    assert sepa["acronym"] == ["SEPA"]
    assert sepa["label"] == [
        {"@value": "State Environmental Protection Administration", "@language": "en"}
    ]


def test_jsonld_export_reads_the_same_with_rdflib(store: GraphStore) -> None:
    """A second, independent JSON-LD processor expands the compacted document identically."""
    data = exported(store, RdfFormat.JSON_LD, graph=AWKWARD_GRAPH)
    parsed = rdflib.Dataset()
    parsed.parse(data=data, format="json-ld")
    got = parsed.graph(rdflib.URIRef(AWKWARD_GRAPH))
    want = rdflib.Graph()
    for q in store.quads(AWKWARD_GRAPH):
        want.add((to_rdflib_term(q.subject), to_rdflib_term(q.predicate), _plain(q.object)))
    assert rdflib_isomorphic(got, want)


def _plain(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    """rdflib keeps "x" and "x"^^xsd:string apart (RDF 1.1 does not): use its plain form."""
    if isinstance(term, ox.Literal) and term.datatype.value.endswith("#string"):
        return rdflib.Literal(term.value)
    return to_rdflib_term(term)


def test_the_context_file_gives_every_ontology_term_a_short_key() -> None:
    terms = {
        q.subject.value
        for q in ox.parse(path=str(ROOT / "ontology" / "cpgraph.ttl"))
        if isinstance(q.subject, ox.NamedNode)
        and q.subject.value.startswith(f"{BASE}ontology#")
        and q.predicate.value == RDF + "type"
    }
    keyed = set(context(BASE).values())
    assert sorted(terms - keyed) == [], "add these terms to src/cpgraph/context.jsonld"


def test_the_context_under_another_base_moves_cpgraph_iris_only() -> None:
    moved = context("http://example.org/kg/")
    assert moved["issuedBy"] == "http://example.org/kg/ontology#issuedBy"
    assert moved["label"] == "http://www.w3.org/2000/01/rdf-schema#label"
    assert context_document()["@context"] == context(BASE)


def test_export_file_names_the_format_and_writes_atomically(
    store: GraphStore, description: list[ox.Quad], tmp_path: Path
) -> None:
    target = tmp_path / "copy.trig.gz"
    export_file(store, target, base=BASE, description=description)
    assert format_of(target.name) == (RdfFormat.TRIG, True)
    assert isomorphic(
        parse(target.read_bytes(), RdfFormat.TRIG, packed=True), [*store.quads(), *description]
    )
    assert [p.name for p in tmp_path.iterdir()] == ["copy.trig.gz"]


def test_exports_stream_rather_than_build_the_dataset_in_memory() -> None:
    """60,000 quads export with a Python memory peak far below the size of the output."""
    store = GraphStore(None)
    g = ox.NamedNode(f"{BASE}graph/test/big")
    p = ox.NamedNode("http://example.org/p")
    store.load_quads(
        ox.Quad(ox.NamedNode(f"{BASE}id/thing/t{i // 4}"), p, ox.Literal(f"value {i}"), g)
        for i in range(60_000)
    )
    for fmt, options in ((RdfFormat.JSON_LD, {}), (RdfFormat.TURTLE, {"union": True})):
        sink = _CountingSink()
        tracemalloc.start()
        export(store, sink, fmt=fmt, base=BASE, **options)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert sink.size > 1_500_000
        assert peak < sink.size / 5, (fmt, peak, sink.size)


class _CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.size += len(data)
        return len(data)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_mini(tmp_path_factory.mktemp("export-cli"))


def test_export_command_writes_what_the_file_extension_names(
    built: Settings, tmp_path: Path
) -> None:
    target = tmp_path / "cpgraph.nq.gz"
    result = run_cli("export", "-o", str(target), settings=built)
    assert result.returncode == 0, result.stderr
    quads = parse(target.read_bytes(), RdfFormat.N_QUADS, packed=True)
    graphs = {q.graph_name.value for q in quads}  # type: ignore[union-attr]
    assert f"{BASE}graph/s004/abstract-p1" in graphs
    assert VOID in graphs


def test_export_command_refuses_turtle_of_the_whole_dataset_with_exit_2(built: Settings) -> None:
    result = run_cli("export", "--format", "ttl", settings=built)
    assert result.returncode == 2
    assert "--union" in result.stderr


def test_export_command_writes_the_union_as_turtle_to_stdout(built: Settings) -> None:
    result = run_cli("export", "--format", "nt", "--union", "--no-description", settings=built)
    assert result.returncode == 0, result.stderr
    triples = parse(result.stdout.encode(), RdfFormat.N_TRIPLES)
    sepa = ox.NamedNode(f"{BASE}id/org/sepa")
    assert any(q.subject == sepa for q in triples)
    assert not any(q.subject.value == f"{BASE}dataset" for q in triples)  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", QUAD_FORMATS, ids=lambda f: f.value)
def test_the_shipped_dataset_round_trips_in_every_quad_format(
    shipped: Settings, fmt: RdfFormat
) -> None:
    store = open_current(shipped.store_dir, read_only=True)
    description = describe(store, base=BASE, distributions=dump_distributions())
    back = parse(exported(store, fmt, description=description, gzip=True), fmt, packed=True)
    assert isomorphic(back, [*store.quads(), *description])


def test_the_union_export_holds_each_statement_once_in_every_format(shipped: Settings) -> None:
    store = open_current(shipped.store_dir, read_only=True)
    distinct = int(next(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").rows())["n"].value)
    assert distinct < len(store)  # the shipped graph repeats statements across its sources
    lines = exported(store, RdfFormat.N_TRIPLES, union=True).decode().splitlines()
    assert len(lines) == len(set(lines)) == distinct
    for fmt in (RdfFormat.N_QUADS, RdfFormat.JSON_LD):  # a quad format: the default graph only
        back = parse(exported(store, fmt, union=True), fmt)
        assert len(back) == distinct
        assert {type(q.graph_name) for q in back} == {ox.DefaultGraph}


def test_the_description_counts_the_union_and_property_partitions_each_statement_once(
    shipped: Settings,
) -> None:
    store = open_current(shipped.store_dir, read_only=True)
    description = describe(store, base=BASE, distributions=dump_distributions())
    dataset = ox.NamedNode(f"{BASE}dataset")
    void = "http://rdfs.org/ns/void#"

    def value(subject: ox.NamedNode | ox.BlankNode, predicate: str) -> int:
        (found,) = [
            q.object for q in description if q.subject == subject and q.predicate.value == predicate
        ]
        return int(found.value)

    assert value(dataset, void + "triples") == sum(1 for _ in store.triples(None, None, None))
    label = f"{RDFS}label"
    (partition,) = [
        q.subject
        for q in description
        if q.predicate.value == void + "property" and q.object == ox.NamedNode(label)
    ]
    labels = sum(1 for _ in store.triples(None, ox.NamedNode(label), None))
    assert value(partition, void + "triples") == labels  # type: ignore[arg-type]
