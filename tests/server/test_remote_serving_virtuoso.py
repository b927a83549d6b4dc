"""``cpgraph serve`` over OpenLink Virtuoso: the third store of the remote-store tests.

A real Virtuoso (Debian's ``virtuoso-opensource``, which ``make test-deps`` installs) on
127.0.0.1, loaded with the shipped repository's graphs as cpgraph lays them out, and a real
``cpgraph serve`` with ``CPGRAPH_STORE_URL`` and the store's credentials set. The tests are
those of :mod:`tests.server.test_remote_serving` that do not stop or restart the store: they
run here against this module's server, with the same assertions. Skipped, saying why, where
Virtuoso is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.conftest import ROOT, running_server
from tests.server.test_remote_serving import (
    AUTH,
    JSON_RESULTS,
    TOKEN,
    query,
    test_a_construct_gives_the_embedded_store_s_graph,
    test_a_contribution_is_committed_into_the_remote_store_and_withdrawn,
    test_a_contribution_is_validated_against_the_remote_store,
    test_a_graph_store_put_with_the_token_is_read_back,
    test_a_saved_query_answers_from_the_remote_store,
    test_a_select_answers_as_the_embedded_store_does,
    test_an_ask_answers_true_and_false,
    test_an_entity_s_linked_data_page_comes_from_the_remote_store,
    test_an_update_with_the_token_writes_to_the_remote_store,
    test_graph_ranges_over_the_dataset_s_graphs_alone,
)
from tests.servers import RunningStore, virtuoso_available, virtuoso_server

from cpgraph.config import Settings
from cpgraph.store.builds import open_current

pytestmark = pytest.mark.skipif(
    not virtuoso_available(),
    reason="Debian's virtuoso-opensource is not installed (make test-deps installs it as root)",
)

__all__ = [  # the shared tests, collected here against this module's fixtures
    "test_a_construct_gives_the_embedded_store_s_graph",
    "test_a_contribution_is_committed_into_the_remote_store_and_withdrawn",
    "test_a_contribution_is_validated_against_the_remote_store",
    "test_a_graph_store_put_with_the_token_is_read_back",
    "test_a_saved_query_answers_from_the_remote_store",
    "test_a_select_answers_as_the_embedded_store_does",
    "test_an_ask_answers_true_and_false",
    "test_an_entity_s_linked_data_page_comes_from_the_remote_store",
    "test_an_update_with_the_token_writes_to_the_remote_store",
    "test_graph_ranges_over_the_dataset_s_graphs_alone",
]


@pytest.fixture(scope="module")
def virtuoso(shipped: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    """A Virtuoso holding the shipped graphs as cpgraph lays them out (one load: staged in
    requests of 1,000 statements and applied by one)."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as server:
        remote = server.remote_store()
        try:
            remote.load_quads(open_current(shipped.store_dir, read_only=True).quads())
        finally:
            remote.close()
        yield server


@pytest.fixture(scope="module")
def url(virtuoso: RunningStore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("virtuoso-serve")
    settings = Settings(source_dir=ROOT, store_dir=folder / "no-build-here")
    with running_server(
        settings,
        CPGRAPH_STORE_URL=virtuoso.query,
        CPGRAPH_STORE_UPDATE_URL=virtuoso.update,
        CPGRAPH_STORE_USER=virtuoso.user or "",
        CPGRAPH_STORE_PASSWORD=virtuoso.password or "",
        CPGRAPH_STORE_AUTH=virtuoso.auth or "digest",
        CPGRAPH_PROCESSES="1",
        CPGRAPH_TOKEN=TOKEN,
    ) as served:
        assert not (folder / "no-build-here").exists()
        yield served


def test_the_home_page_says_virtuoso_answers_and_shows_no_password(
    url: str, virtuoso: RunningStore
) -> None:
    info = httpx.get(url + "/", headers={"Accept": "application/json"}).json()
    assert info["store"]["kind"] == "remote"
    assert virtuoso.query in info["store"]["description"]
    assert "dba" not in info["store"]["description"].replace(virtuoso.query, "")


def test_a_write_larger_than_one_request_is_whole_through_the_graph_store(url: str) -> None:
    # 2,500 statements: staged in three requests to Virtuoso and applied by one.
    graph = "urn:x-test:virtuoso-large"
    body = "".join(f'<urn:x-test:v{i}> <urn:x-test:p> "{i}" .\n' for i in range(2_500))
    put = httpx.put(
        url + "/store",
        params={"graph": graph},
        content=body,
        headers={**AUTH, "Content-Type": "application/n-triples"},
        timeout=120,
    )
    assert put.status_code == 201, put.text
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    assert query(url, count) == [{"n": "2500"}]
    in_union = "SELECT (COUNT(*) AS ?n) WHERE { ?s <urn:x-test:p> ?o }"
    assert query(url, in_union) == [{"n": "2500"}]
    staging = (
        "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } "
        'FILTER STRSTARTS(STR(?g), "urn:x-cpgraph:") } LIMIT 1'
    )
    assert query(url, staging) == []  # cpgraph's own graphs are in no answer
    deleted = httpx.delete(url + "/store", params={"graph": graph}, headers=AUTH, timeout=60)
    assert deleted.status_code == 204
    assert query(url, in_union) == [{"n": "0"}]
    assert httpx.get(url + "/sparql", params={"query": "ASK {}"}, headers=JSON_RESULTS).json()[
        "boolean"
    ]
