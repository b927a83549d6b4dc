"""Dumps over HTTP and the dataset description, from a real server over a real built store."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import running_server
from tests.linked_data import BASE, as_default, build_mini, isomorphic, parse

from cpgraph.config import Settings
from cpgraph.publish.describe import DCAT, DCTERMS, SPDX, VOID, description_graph
from cpgraph.publish.dumps import DumpCache
from cpgraph.rdf.io import RdfFormat
from cpgraph.rdf.jsonld import context
from cpgraph.store.builds import open_current

DATASET = ox.NamedNode(f"{BASE}dataset")
VOID_GRAPH = description_graph(BASE)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return build_mini(tmp_path_factory.mktemp("dumps"))


@pytest.fixture(scope="module")
def url(built: Settings) -> Iterator[str]:
    with running_server(built) as base_url:
        yield base_url


def store_quads(settings: Settings) -> list[ox.Quad]:
    return list(open_current(settings.store_dir, read_only=True).quads())


def objects(quads: list[ox.Quad], s: ox.NamedNode, p: str) -> list[Any]:
    return [q.object for q in quads if q.subject == s and q.predicate.value == p]


def number(quads: list[ox.Quad], s: ox.NamedNode, p: str) -> int:
    (value,) = objects(quads, s, p)
    return int(value.value)


@pytest.mark.parametrize(
    "name", ["cpgraph.nq", "cpgraph.trig.gz", "cpgraph.jsonld", "cpgraph.jsonld.gz"]
)
def test_quad_dumps_hold_every_graph_and_the_description(
    url: str, built: Settings, name: str
) -> None:
    response = httpx.get(f"{url}/dumps/{name}", timeout=60)
    assert response.status_code == 200
    fmt, packed = RdfFormat(name.split(".")[1]), name.endswith(".gz")
    assert response.headers["content-type"].startswith(
        "application/gzip" if packed else fmt.media_type
    )
    back = parse(response.content, fmt, packed=packed)
    data = [q for q in back if q.graph_name.value != VOID_GRAPH]  # type: ignore[union-attr]
    assert isomorphic(data, store_quads(built))
    assert any(q.subject == DATASET for q in back if q not in data)


@pytest.mark.parametrize("name", ["cpgraph.ttl", "cpgraph.nt.gz", "cpgraph.rdf"])
def test_triple_dumps_hold_the_union_of_the_graphs(url: str, built: Settings, name: str) -> None:
    response = httpx.get(f"{url}/dumps/{name}", timeout=60)
    fmt, packed = RdfFormat(name.split(".")[1]), name.endswith(".gz")
    back = parse(response.content, fmt, packed=packed)
    union = {ox.Triple(q.subject, q.predicate, q.object) for q in as_default(store_quads(built))}
    assert union <= {ox.Triple(q.subject, q.predicate, q.object) for q in back}


def test_one_graph_is_served_with_its_name(url: str, built: Settings) -> None:
    graph = f"{BASE}graph/s004/abstract-p1"
    response = httpx.get(f"{url}/dumps/cpgraph.nq", params={"graph": graph})
    store = open_current(built.store_dir, read_only=True)
    assert isomorphic(parse(response.content, RdfFormat.N_QUADS), store.quads(graph))


def test_a_dump_is_answered_304_when_the_client_has_it(url: str) -> None:
    first = httpx.get(f"{url}/dumps/cpgraph.ttl.gz")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"')
    again = httpx.get(f"{url}/dumps/cpgraph.ttl.gz", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    since = httpx.get(f"{url}/dumps/cpgraph.ttl.gz", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    other = httpx.get(f"{url}/dumps/cpgraph.ttl.gz", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200
    assert other.headers["etag"] == etag
    assert other.headers["last-modified"] == modified


def test_a_head_request_gives_the_headers_without_the_body(url: str) -> None:
    get = httpx.get(f"{url}/dumps/cpgraph.nt")
    head = httpx.head(f"{url}/dumps/cpgraph.nt")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["etag"] == get.headers["etag"]
    assert int(head.headers["content-length"]) == len(get.content)


def test_an_unknown_dump_is_a_404_problem(url: str) -> None:
    response = httpx.get(f"{url}/dumps/cpgraph.xls")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_dump_index_lists_every_format_with_size_and_checksum(url: str) -> None:
    listing = httpx.get(f"{url}/dumps/").json()["dumps"]
    assert {d["name"] for d in listing} == {
        f"cpgraph.{f.value}{gz}" for f in RdfFormat for gz in ("", ".gz")
    }
    nq = next(d for d in listing if d["name"] == "cpgraph.nq.gz")
    body = httpx.get(nq["url"]).content
    assert len(body) == nq["bytes"]
    assert gzip.decompress(body)


def test_the_void_description_is_generated_from_the_store(url: str, built: Settings) -> None:
    response = httpx.get(f"{url}/.well-known/void")
    assert response.headers["content-type"].startswith("text/turtle")
    quads = parse(response.content, RdfFormat.TURTLE)
    store = open_current(built.store_dir, read_only=True)
    union = next(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").rows())["n"]
    assert number(quads, DATASET, VOID + "triples") == int(union.value)  # each statement once
    assert objects(quads, DATASET, VOID + "sparqlEndpoint") == [ox.NamedNode(f"{BASE}sparql")]
    assert ox.NamedNode(f"{BASE}ontology#") in objects(quads, DATASET, VOID + "vocabulary")
    assert objects(quads, DATASET, DCTERMS + "source") == [ox.NamedNode(f"{BASE}id/source/s004")]
    subsets = objects(quads, DATASET, VOID + "subset")
    named = {
        objects(quads, s, "http://www.w3.org/ns/sparql-service-description#name")[0]: s
        for s in subsets
    }
    for graph in store.named_graphs():
        subset = named[ox.NamedNode(graph)]
        assert number(quads, subset, VOID + "triples") == sum(1 for _ in store.quads(graph))
    extract = named[ox.NamedNode(f"{BASE}graph/s004/abstract-p1")]
    assert objects(quads, extract, DCTERMS + "source") == [ox.NamedNode(f"{BASE}id/source/s004")]
    partitions = objects(quads, DATASET, VOID + "classPartition")
    by_class = {objects(quads, p, VOID + "class")[0].value: p for p in partitions}
    assert number(quads, by_class[f"{BASE}ontology#GovernmentBody"], VOID + "entities") == 1


def test_the_void_description_gives_each_dump_its_media_type_size_and_checksum(
    url: str,
) -> None:
    quads = parse(
        httpx.get(f"{url}/.well-known/void", params={"format": "nt"}).content, RdfFormat.N_TRIPLES
    )
    listing = {d["name"]: d for d in httpx.get(f"{url}/dumps/").json()["dumps"]}
    distributions = objects(quads, DATASET, DCAT + "distribution")
    assert len(distributions) == len(listing)
    for dist in distributions:
        (download,) = objects(quads, dist, DCAT + "downloadURL")
        name = download.value.rsplit("/", 1)[1]
        assert number(quads, dist, DCAT + "byteSize") == listing[name]["bytes"]
        (media,) = objects(quads, dist, DCAT + "mediaType")
        assert media.value.endswith(
            listing[name]["mediaType"] if not name.endswith(".gz") else listing[name]["format"]
        )
        (checksum,) = objects(quads, dist, SPDX + "checksum")
        assert objects(quads, checksum, SPDX + "checksumValue")[0].value == listing[name]["sha256"]


def test_the_void_description_negotiates_and_revalidates(url: str) -> None:
    jsonld = httpx.get(f"{url}/.well-known/void", headers={"Accept": "application/ld+json"})
    assert jsonld.headers["content-type"].startswith("application/ld+json")
    back = parse(jsonld.content, RdfFormat.JSON_LD)
    # in the default graph, where a client reading a graph looks: no named-graph wrapper
    assert back
    assert {type(q.graph_name) for q in back} == {ox.DefaultGraph}
    again = httpx.get(
        f"{url}/.well-known/void",
        headers={"Accept": "application/ld+json", "If-None-Match": jsonld.headers["etag"]},
    )
    assert again.status_code == 304


def test_the_jsonld_context_is_published(url: str) -> None:
    response = httpx.get(f"{url}/context.jsonld")
    assert response.headers["content-type"].startswith("application/ld+json")
    assert response.json()["@context"] == context(BASE)


def test_dumps_are_written_once_per_build_and_keep_their_validators(built: Settings) -> None:
    store = open_current(built.store_dir, read_only=True)
    first = DumpCache.for_store_dir(store, base=BASE, store_dir=built.store_dir).get("cpgraph.nq")
    second = DumpCache.for_store_dir(store, base=BASE, store_dir=built.store_dir).get("cpgraph.nq")
    assert first.path == second.path
    assert first.etag == second.etag
    assert first.modified == second.modified
