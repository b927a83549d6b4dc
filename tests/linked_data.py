"""Helpers for the linked-data tests (export, dumps, description, bundle, push)."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox
from tests.conftest import FIXTURES, ROOT

from cpgraph.config import Settings
from cpgraph.progress import SILENT
from cpgraph.rdf.io import RdfFormat
from cpgraph.store.build import build_store
from cpgraph.store.oxigraph import GraphStore

BASE = "https://w3id.org/cpgraph/"
AWKWARD_GRAPH = f"{BASE}graph/test/awkward"
XSD = "http://www.w3.org/2001/XMLSchema#"

# Terms that serialisers get wrong: shared blank nodes, escapes, languages, odd datatypes.
AWKWARD = f"""
@prefix xsd: <{XSD}> .
<{AWKWARD_GRAPH}> {{
  <{BASE}id/org/a%20b> <http://www.w3.org/2000/01/rdf-schema#label>
      "国家环境保护总局"@zh-Hans, "quote \\" backslash \\\\ tab \\t\\nnew line"@en ;
    <{BASE}ontology#ordinal> "007"^^xsd:integer, "1.50"^^xsd:decimal ;
    <{BASE}ontology#foundingDate> "1994-12"^^xsd:gYearMonth ;
    <http://example.org/custom> "x"^^<http://example.org/datatype#odd> ;
    <http://example.org/knows> _:b1 .
  _:b1 <http://example.org/knows> _:b2 ; <http://example.org/name> "one" .
  _:b2 <http://example.org/knows> _:b1 ; <http://example.org/name> "two" .
  <urn:isbn:9780000000000> <http://example.org/p> <{BASE}id/org/a%20b> .
}}
"""


def awkward_store() -> GraphStore:
    """An in-memory store with the mini fixture, the ontology and the awkward graph."""
    store = GraphStore(None)
    quads = list(ox.parse(path=str(FIXTURES / "mini.trig")))
    ontology = ox.NamedNode(f"{BASE}graph/ontology")
    quads += [
        ox.Quad(q.subject, q.predicate, q.object, ontology)
        for q in ox.parse(path=str(ROOT / "ontology" / "cpgraph.ttl"))
    ]
    quads += list(ox.parse(AWKWARD, ox.RdfFormat.TRIG))
    store.load_quads(quads)
    return store


def build_mini(folder: Path) -> Settings:
    """A real on-disk store built (and validated) from the mini fixture."""
    source = folder / "source"
    (source / "data").mkdir(parents=True)
    for name in ("ontology", "shapes"):
        (source / name).symlink_to(ROOT / name)
    (source / "data" / "mini.trig").write_bytes((FIXTURES / "mini.trig").read_bytes())
    settings = Settings(source_dir=source, store_dir=folder / "store")
    build_store(settings, progress=SILENT)
    return settings


def parse(data: bytes, fmt: RdfFormat, *, packed: bool = False) -> list[ox.Quad]:
    """Parse an export back into quads (triples land in the default graph)."""
    if packed:
        data = gzip.decompress(data)
    return list(ox.parse(data, fmt.oxigraph))


def canonical(quads: Iterable[ox.Quad]) -> set[ox.Quad]:
    """The quads with blank nodes renamed canonically, for an isomorphism check."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(dataset)


def isomorphic(a: Iterable[ox.Quad], b: Iterable[ox.Quad]) -> bool:
    """Whether two sets of quads are the same dataset up to blank node names."""
    return canonical(a) == canonical(b)


def as_default(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The quads' triples in the default graph (what a triple format holds)."""
    return [ox.Quad(q.subject, q.predicate, q.object) for q in quads]
