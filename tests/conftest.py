"""Shared fixtures: the shipped graph built into a real on-disk Oxigraph store, a real
uvicorn server over it on 127.0.0.1, and small source trees for build tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import rdflib

from cpgraph.config import Settings
from cpgraph.progress import SILENT
from cpgraph.store.build import build_store
from cpgraph.store.builds import new_build_dir, open_current, publish_build
from cpgraph.store.oxigraph import GraphStore

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SHARED = ROOT.parent / "shared"
SEEDS = SHARED / "seeds"
# Over the mini store (built_mini_store): a cross product no time limit lets finish, and a
# query answered at once (two rows).
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
QUICK = "SELECT ?acronym WHERE { ?org cp:acronym ?acronym }"
# A point lookup, and the statements of the named graphs counted.
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/cpgraph/id/org/cncpc> ?p ?o }"
NAMED_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

Select = Callable[[str], list[dict[str, str]]]


def construct_everything(url: str) -> rdflib.Graph:
    """Every statement a running server's default graph holds (a CONSTRUCT through it)."""
    response = httpx.get(
        url + "/sparql",
        params={"query": "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/n-triples"},
    )
    assert response.status_code == 200
    return rdflib.Graph().parse(data=response.text, format="nt")


@pytest.fixture(scope="session")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a store built from the repository's own ontology, shapes and data."""
    settings = Settings(source_dir=ROOT, store_dir=tmp_path_factory.mktemp("shipped-store"))
    build_store(settings, progress=SILENT)
    return settings


@pytest.fixture(scope="session")
def select(shipped: Settings) -> Select:
    """Run a SELECT over the union of the shipped graphs; bindings as plain strings.

    IRIs come back as their IRI string, literals as their lexical form, unbound variables
    are left out of the row.
    """
    store = open_current(shipped.store_dir, read_only=True)

    def run(query: str) -> list[dict[str, str]]:
        return [
            {name: term.value for name, term in row.items()} for row in store.query(query).rows()
        ]

    return run


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment for running the ``cpgraph`` command over ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPGRAPH_")}
    env.update(
        CPGRAPH_STORE_DIR=str(settings.store_dir),
        CPGRAPH_SOURCE_DIR=str(settings.source_dir),
        CPGRAPH_BASE_IRI=settings.base_iri,
        **extra,
    )
    return env


def run_cli(
    *args: str, settings: Settings, stdin: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``cpgraph ARGS`` as a real process and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "cpgraph.cli.main", *args],
        env=cli_env(settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextlib.contextmanager
def running_server(settings: Settings, *, ready_path: str = "/", **env: str) -> Iterator[str]:
    """A real ``cpgraph serve`` over ``settings`` on 127.0.0.1; yields its base URL once
    ``ready_path`` answers 200 (``/sparql``, the service description, needs no store).

    ``env`` adds ``CPGRAPH_*`` variables (limits, token). The server is stopped afterwards.
    Its log goes to a file, shown if it fails to start: a pipe nobody reads fills (64 KiB)
    and then blocks every server process that logs.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "cpgraph.cli.main", "serve", "--port", str(port)],
            env=cli_env(settings, **env),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"server exited: {log.read()[-4000:]}")
                try:
                    if httpx.get(url + ready_path, timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("server did not start within 60 s")
                time.sleep(0.2)
            yield url
        finally:
            stop(process)


def stop(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    """Stop ``process`` if it runs: SIGTERM, then SIGKILL if it has not ended in ``timeout`` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def server_pids(url: str) -> list[int]:
    """The server processes of the ``cpgraph serve`` listening at ``url`` (children of its
    supervisor), found through /proc."""
    port = url.rsplit(":", 1)[1]
    supervisors = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in command and port.encode() in command:
            supervisors.append(int(entry.name))
    children = []
    for supervisor in supervisors:
        for task in Path(f"/proc/{supervisor}/task").iterdir():
            text = (task / "children").read_text()
            children.extend(int(pid) for pid in text.split())
    return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Wait until ``condition`` holds; fail if it does not within ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the service did not come back"
        time.sleep(0.2)


def statement_count(url: str) -> str:
    """The statements of the named graphs a running server holds (:data:`NAMED_COUNT`)."""
    response = httpx.get(
        url + "/sparql",
        params={"query": NAMED_COUNT},
        headers={"Accept": "application/sparql-results+json"},
        timeout=30,
    )
    assert response.status_code == 200
    return str(response.json()["results"]["bindings"][0]["n"]["value"])


def assert_whole(url: str, count: str) -> None:
    """Another client is answered within a second, this one is not locked out, and the
    statements are all there."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
        started = time.monotonic()
        response = other.get(url + "/sparql", params={"query": LOOKUP}, timeout=5)
        assert response.status_code == 200
        assert time.monotonic() - started < 1.0
    for query in (LOOKUP, QUICK):  # the attacker's own address: a lookup and a pooled query
        assert httpx.get(url + "/sparql", params={"query": query}, timeout=10).status_code == 200
    assert statement_count(url) == count


@pytest.fixture(scope="session")
def server_url(shipped: Settings) -> Iterator[str]:
    """The base URL of a real ``cpgraph serve`` over the shipped store on 127.0.0.1."""
    with running_server(shipped) as url:
        yield url


LIMITED_TOKEN = "a-test-token-of-some-length"


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``cpgraph serve`` over the mini store with tight limits: 2 s per query, two
    queries at a time per client (three threads a process,
    so one client never holds them all), five rows for anonymous SELECTs, 2,000-byte queries."""
    settings = built_mini_store(tmp_path_factory)
    with running_server(
        settings,
        CPGRAPH_QUERY_TIMEOUT="2",
        CPGRAPH_QUERY_WORKERS="3",
        CPGRAPH_MAX_QUERY_BYTES="2000",
        CPGRAPH_ROW_LIMIT="5",
        CPGRAPH_CLIENT_CONCURRENCY="2",
        CPGRAPH_TOKEN=LIMITED_TOKEN,
    ) as url:
        yield url


def published(
    tmp_path: Path, quads: list[ox.Quad], *, empty_graphs: Iterable[str] = ()
) -> GraphStore:
    """A build on disk in ``tmp_path / "store"`` holding ``quads`` (and the named graphs
    ``empty_graphs``, empty), published and opened read-only as a server opens it."""
    store_dir = tmp_path / "store"
    build = new_build_dir(store_dir)
    writer = GraphStore(build)
    writer.load_quads(quads)
    for graph in empty_graphs:
        writer.add_graph(graph)
    writer.flush()
    del writer
    publish_build(store_dir, build)
    return GraphStore(build, read_only=True)


@pytest.fixture
def mini_source(tmp_path: Path) -> Settings:
    """A source tree with the real ontology and shapes and a small real data file."""
    source = tmp_path / "source"
    (source / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "ontology", source / "ontology")
    shutil.copytree(ROOT / "shapes", source / "shapes")
    shutil.copy(FIXTURES / "mini.trig", source / "data" / "mini.trig")
    return Settings(source_dir=source, store_dir=tmp_path / "store")


def built_mini_store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A built store of the small real data file, with the real ontology and shapes linked in
    (for servers that a test may write to or stop: each gets a store of its own)."""
    from cpgraph.store.build import build_store

    source = tmp_path_factory.mktemp("source")
    for folder in ("ontology", "shapes"):
        (source / folder).symlink_to(ROOT / folder)
    (source / "data").mkdir()
    (source / "data" / "mini.trig").write_bytes((FIXTURES / "mini.trig").read_bytes())
    settings = Settings(source_dir=source, store_dir=tmp_path_factory.mktemp("store"))
    build_store(settings)
    return settings
