"""The ``cpgraph`` command over a remote SPARQL 1.1 store (``--store URL``, or
``CPGRAPH_STORE_URL``), run as a real process against a real Oxigraph server and a real
Virtuoso, each started once for the module on 127.0.0.1.

The repository's own ontology, shapes and data are built into the remote store and compared
with the embedded store built from the same sources (the session's ``shipped`` store). Debian's
Virtuoso keeps ``"100"^^xsd:decimal`` as ``"100"^^xsd:integer``: the validated build says so at
write time and writes the store's forms (a test pins that down); the other Virtuoso tests build
it ``--trusted``.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.conftest import cli_env, free_port, run_cli
from tests.servers import (
    RunningStore,
    oxigraph_command,
    oxigraph_server,
    virtuoso_available,
    virtuoso_server,
)

from cpgraph.config import Settings
from cpgraph.store.builds import open_current

SECRET = "not-a-real-password-5a1c9e"
NOTICE = """
@prefix cp: <https://w3id.org/cpgraph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/cpgraph/id/instrument/remote-test-notice-2009> a cp:Notice ;
    rdfs:label "Notice on auditing key enterprises in 2009"@en ;
    cp:dateIssued "2009"^^xsd:gYear ;
    cp:issuedBy <https://w3id.org/cpgraph/id/org/sepa> .
"""
QUERIES = {
    "instances per class": (
        "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class "
        "ORDER BY ?class"
    ),
    "statements per graph": (
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    ),
    "graphs naming an organisation": (
        "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?org cp:acronym ?acronym } } ORDER BY ?g"
    ),
    "statements of the union": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
}


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def remote(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningStore]:
    """One real store for the module's tests of each kind."""
    if request.param == "oxigraph" and oxigraph_command() is None:
        pytest.skip("the oxigraph server is not installed (make test-deps)")
    if request.param == "virtuoso" and not virtuoso_available():
        pytest.skip("Debian's virtuoso-opensource is not installed (make test-deps, as root)")
    start = oxigraph_server if request.param == "oxigraph" else virtuoso_server
    with start(tmp_path_factory.mktemp(request.param)) as running:
        yield running


def store_env(store: RunningStore) -> dict[str, str]:
    """The credentials of ``store`` as the environment gives them to cpgraph."""
    if store.user is None:
        return {}
    return {
        "CPGRAPH_STORE_USER": store.user,
        "CPGRAPH_STORE_PASSWORD": store.password or "",
        "CPGRAPH_STORE_AUTH": store.auth,
    }


def cpgraph(
    *args: str, settings: Settings, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``cpgraph ARGS`` as a real process with ``env`` added to its environment."""
    return subprocess.run(
        [sys.executable, "-m", "cpgraph.cli.main", *args],
        env=cli_env(settings, **(env or {})),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def remote_sizes(store: RunningStore) -> dict[str, int]:
    """The statements of each graph of the dataset in ``store``, as cpgraph counts them."""
    remote = store.remote_store(read_only=True)
    try:
        return remote.graph_sizes()
    finally:
        remote.close()


def trusted(store: RunningStore) -> list[str]:
    """How the shipped data is built into ``store`` (see the module's description)."""
    return ["--trusted"] if store.name == "virtuoso" else []


@pytest.fixture(scope="module")
def built(remote: RunningStore, shipped: Settings) -> subprocess.CompletedProcess[str]:
    """``cpgraph build --store URL`` of the repository, once per store."""
    return cpgraph(
        "build", *trusted(remote), "--store", remote.query, settings=shipped, env=store_env(remote)
    )


@pytest.fixture(scope="module")
def embedded_sizes(shipped: Settings) -> dict[str, int]:
    return open_current(shipped.store_dir, read_only=True).graph_sizes()


@pytest.fixture(scope="module")
def embedded_answers(shipped: Settings) -> dict[str, list[dict[str, str]]]:
    return {
        name: rows(run_cli("query", "--format", "csv", q, settings=shipped))
        for name, q in QUERIES.items()
    }


def rows(result: subprocess.CompletedProcess[str]) -> list[dict[str, str]]:
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_build_loads_every_graph_of_the_repository_and_counts_each(
    remote: RunningStore, built: subprocess.CompletedProcess[str], embedded_sizes: dict[str, int]
) -> None:
    assert built.returncode == 0, built.stderr
    total = sum(embedded_sizes.values())
    assert built.stdout.strip() == f"{total} statements in {len(embedded_sizes)} graphs"
    assert "every graph counted" in built.stderr
    assert remote_sizes(remote) == embedded_sizes


def test_queries_over_the_store_give_the_embedded_answers(
    remote: RunningStore,
    built: subprocess.CompletedProcess[str],
    shipped: Settings,
    embedded_answers: dict[str, list[dict[str, str]]],
) -> None:
    assert built.returncode == 0, built.stderr
    for name, query in QUERIES.items():
        result = cpgraph(
            "query",
            "--store",
            remote.query,
            "--format",
            "csv",
            query,
            settings=shipped,
            env=store_env(remote),
        )
        assert rows(result) == embedded_answers[name], name
        assert embedded_answers[name], name  # each query has answers to compare


def test_export_equals_the_embedded_export_as_a_dataset(
    remote: RunningStore, built: subprocess.CompletedProcess[str], shipped: Settings
) -> None:
    if remote.name == "virtuoso":
        pytest.skip("the shipped data is built --trusted into Virtuoso, which rewrites decimals")
    assert built.returncode == 0, built.stderr
    args = ("export", "--format", "nq", "--no-description")
    here = subprocess.run(
        [sys.executable, "-m", "cpgraph.cli.main", *args],
        env=cli_env(shipped),
        capture_output=True,
        timeout=180,
        check=False,
    )
    there = subprocess.run(
        [sys.executable, "-m", "cpgraph.cli.main", *args, "--store", remote.query],
        env=cli_env(shipped, **store_env(remote)),
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert here.returncode == 0, here.stderr
    assert there.returncode == 0, there.stderr
    datasets = []
    for output in (here.stdout, there.stdout):
        dataset = ox.Dataset(ox.parse(output, ox.RdfFormat.N_QUADS))
        dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
        datasets.append(set(dataset))
    assert len(datasets[0]) > 1000
    assert datasets[0] == datasets[1]


def test_virtuoso_builds_the_validated_data_and_says_which_literals_it_keeps_otherwise(
    remote: RunningStore,
    built: subprocess.CompletedProcess[str],
    shipped: Settings,
    embedded_sizes: dict[str, int],
) -> None:
    if remote.name != "virtuoso":
        pytest.skip("Oxigraph server keeps the shipped data's literals as written")
    result = cpgraph("build", "--store", remote.query, settings=shipped, env=store_env(remote))
    assert result.returncode == 0, result.stderr
    said = result.stdout + result.stderr
    assert re.search(r"this store keeps \d+ literal\(s\) in another form", said)
    assert re.search(r'"\d+"\^\^xsd:decimal is stored as "\d+"\^\^xsd:integer', said)
    assert "Traceback" not in said
    assert remote_sizes(remote) == embedded_sizes
    again = cpgraph("build", "--store", remote.query, settings=shipped, env=store_env(remote))
    assert again.returncode == 0, again.stderr
    assert remote_sizes(remote) == embedded_sizes  # idempotent, the store's forms compared


def test_credentials_from_the_environment_never_appear_in_the_output(
    remote: RunningStore, built: subprocess.CompletedProcess[str], shipped: Settings
) -> None:
    outputs = [built.stdout, built.stderr]
    if remote.user is None:  # a store that asks for none ignores them
        given = {"CPGRAPH_STORE_USER": "someone", "CPGRAPH_STORE_PASSWORD": SECRET}
        result = cpgraph("stats", "--store", remote.query, settings=shipped, env=given)
        assert result.returncode == 0, result.stderr
    else:
        assert remote.password is not None
        for secret in (remote.password, SECRET):
            assert secret not in built.stdout + built.stderr
        wrong = {**store_env(remote), "CPGRAPH_STORE_PASSWORD": SECRET}
        result = cpgraph("stats", "--store", remote.query, settings=shipped, env=wrong)
        assert result.returncode == 3
        assert "refused cpgraph's credentials" in result.stderr
    outputs += [result.stdout, result.stderr]
    assert not any(SECRET in output for output in outputs)


def test_store_given_before_the_command_or_in_the_environment_is_the_same_store(
    remote: RunningStore,
    built: subprocess.CompletedProcess[str],
    shipped: Settings,
    embedded_answers: dict[str, list[dict[str, str]]],
) -> None:
    query = QUERIES["statements per graph"]
    before = cpgraph(
        "--store",
        remote.query,
        "query",
        "--format",
        "csv",
        query,
        settings=shipped,
        env=store_env(remote),
    )
    environment = cpgraph(
        "query",
        "--format",
        "csv",
        query,
        settings=shipped,
        env={**store_env(remote), "CPGRAPH_STORE_URL": remote.query},
    )
    expected = embedded_answers["statements per graph"]
    assert rows(before) == expected
    assert rows(environment) == expected


def test_stats_and_validate_read_the_remote_store(
    remote: RunningStore,
    built: subprocess.CompletedProcess[str],
    shipped: Settings,
    tmp_path: Path,
) -> None:
    here = run_cli("stats", "--format", "json", settings=shipped)
    there = cpgraph(
        "stats",
        "--format",
        "json",
        "--store",
        remote.query,
        settings=shipped,
        env=store_env(remote),
    )
    assert there.returncode == 0, there.stderr
    assert there.stdout == here.stdout
    notice = tmp_path / "notice.ttl"
    notice.write_text(NOTICE, encoding="utf-8")
    in_context = cpgraph(
        "validate", "--store", remote.query, str(notice), settings=shipped, env=store_env(remote)
    )
    alone = cpgraph("validate", "--no-context", str(notice), settings=shipped)
    assert in_context.returncode == 0, in_context.stdout + in_context.stderr
    assert alone.returncode == 1  # alone, the agency it names is typed nowhere


def test_building_again_rewrites_only_what_it_cannot_compare_and_leaves_contributions(
    remote: RunningStore,
    built: subprocess.CompletedProcess[str],
    shipped: Settings,
    embedded_sizes: dict[str, int],
    tmp_path: Path,
) -> None:
    notice = tmp_path / "notice.ttl"
    notice.write_text(NOTICE, encoding="utf-8")
    env = store_env(remote)
    on = ("--store", remote.query)
    committed = cpgraph(
        "contribute", *on, str(notice), "-m", "a test", "--as", "li-lei", settings=shipped, env=env
    )
    assert committed.returncode == 0, committed.stderr
    listed = cpgraph("contributions", *on, "--format", "json", settings=shipped, env=env)
    [record] = json.loads(listed.stdout)
    graph = f"{shipped.base_iri}graph/contribution/{record['id']}"
    try:
        again = cpgraph("build", *trusted(remote), *on, settings=shipped, env=env)
        assert again.returncode == 0, again.stderr
        assert again.stdout == built.stdout
        kept = re.search(r"(\d+) written, (\d+) already as in the repository", again.stderr)
        assert kept is not None, again.stderr
        assert int(kept.group(2)) > len(embedded_sizes) // 2  # most graphs not written again
        assert "1 other graph(s) of the store, not in the repository, were left" in again.stderr
        assert f"<{graph}>" in again.stderr
        assert remote_sizes(remote) == {**embedded_sizes, graph: record["statements"]}
    finally:
        withdrawn = cpgraph("withdraw", *on, record["id"], settings=shipped, env=env)
    assert withdrawn.returncode == 0, withdrawn.stderr
    assert remote_sizes(remote) == embedded_sizes


def test_a_store_folder_given_to_store_is_the_embedded_store(shipped: Settings) -> None:
    down = f"http://127.0.0.1:{free_port()}/query"
    result = cpgraph(
        "query",
        "--store",
        str(shipped.store_dir),
        "--format",
        "csv",
        QUERIES["statements of the union"],
        settings=shipped,
        env={"CPGRAPH_STORE_URL": down},
    )
    assert rows(result) == rows(
        run_cli("query", "--format", "csv", QUERIES["statements of the union"], settings=shipped)
    )


@pytest.mark.parametrize(
    "command",
    [("build",), ("query", "ASK {}"), ("export", "--format", "nq"), ("stats",)],
    ids=lambda c: c[0],
)
def test_a_store_that_is_down_fails_in_one_line_without_a_traceback(
    command: tuple[str, ...], shipped: Settings
) -> None:
    down = f"http://127.0.0.1:{free_port()}/query"
    result = cpgraph(*command, "--store", down, settings=shipped)
    assert result.returncode == 3
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("cpgraph: the store cannot be reached")
    assert line.endswith(f"(a SPARQL 1.1 store at {down})")
    assert result.stdout == ""


def test_a_store_url_with_credentials_in_it_is_refused_without_echoing_them(
    shipped: Settings,
) -> None:
    result = cpgraph(
        "query",
        "--store",
        f"http://someone:{SECRET}@127.0.0.1:1/query",
        "ASK {}",
        settings=shipped,
    )
    assert result.returncode == 2
    assert "CPGRAPH_STORE_PASSWORD" in result.stderr
    assert SECRET not in result.stdout + result.stderr
