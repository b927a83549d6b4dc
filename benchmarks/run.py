"""cpgraph at scale, against its peers: one command that runs every benchmark and writes the report.

    python benchmarks/run.py --sizes 100k 1M 10M

For each size it generates the synthetic graph (``synthetic.py``, seeded) and measures, side by
side in the same session, run by run:

- build/load: ``cpgraph build --trusted`` against pyoxigraph's bulk loader alone and the
  ``oxigraph load`` command, with each one's peak RSS; ``cpgraph build`` with its SHACL
  validation is measured on its own, bounded in time;
- the endpoint: four query kinds (a point lookup on an enterprise, a join with a filter, an
  aggregate over the whole store, a 10,000-row result) at concurrency 1 and 8 with wrk, against
  ``oxigraph serve``, rdflib-endpoint and the Python floor (``floor_server.py``: the least a
  Python server over pyoxigraph does, to show what a Python server can reach at all), with the
  load generator's own ceiling, and the peak RSS of each server; the same four kinds on the
  shipped graph (the part ``shipped-endpoint``), with queries on its own entities;
- the saved queries (``queries/*.rq``) through :class:`cpgraph.store.oxigraph.GraphStore`, on the
shipped
  graph and on the synthetic one;
- contribution validation: a 1,000-statement contribution against the store, with full-store
  pySHACL, a scoped pySHACL sketch, and cpgraph's own fast path
  (``cpgraph.validation.contributions.check``);
- writes (the part ``writes``): SPARQL updates through the copy-on-write transaction on a copy
  of the store, data in and out and one with a WHERE clause, as cpgraph makes them and beside
  them every update the general way (the union merged anew), on the shipped graph too;

then fits how each cost grows with the store's size (the slope on log-log axes) and writes
``benchmarks/RESULTS.md`` and the raw numbers as ``benchmarks/results/scale.json``. Every run is
bounded in time; a peer that does not finish is reported as such, never waited for.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    ENDPOINT_PACKAGES,
    PYTHON_BIN,
    ROOT,
    free_port,
    machine,
    peak_rss_mib,
    server,
    settle,
    versions,
    wrk,
)
from synthetic import Stats, contribution_nquads, generate, iter_sizes

from cpgraph.config import load_settings
from cpgraph.server import allocator
from cpgraph.store.builds import new_build_path, publish_build
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.union import is_merged

HERE = Path(__file__).resolve().parent
PREFIXES = (
    "PREFIX cp: <https://w3id.org/cpgraph/ontology#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
)
ACCEPT = "application/sparql-results+json"
QUERY_TIMEOUT_S = 30
FLOOR = "python floor"  # floor_server.py: the least a Python server over pyoxigraph does


class DidNotFinishError(Exception):
    """A run that was stopped at its time limit."""


@dataclass
class Settings:
    """How hard the suite measures."""

    sizes: list[int]
    seed: int = 1
    runs: int = 3
    seconds: int = 5
    concurrency: list[int] = field(default_factory=lambda: [1, 8])
    build_timeout: float = 1800.0
    validate_timeout: float = 900.0
    probe_timeout: float = 60.0
    rdflib_max_triples: int = 2_000_000
    pyshacl_max_triples: int = 2_000_000
    validating_max_triples: int = 2_000_000  # pySHACL over the whole graph: ~4.4 GiB per 1M
    saved_max_triples: int = 2_000_000  # the issue asks for the shipped graph and 1M
    whole_merge_max_triples: int = 2_000_000  # updates the general way: ~15 s a 1M each
    work: Path = ROOT / "var" / "bench"
    output: Path = HERE
    parts: tuple[str, ...] = (
        "build",
        "endpoint",
        "shipped-endpoint",
        "saved",
        "validation",
        "writes",
    )
    merge: bool = False
    saved_limit: int | None = None  # time only the first N saved queries (the CI smoke run)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def summary(values: list[float]) -> dict[str, Any]:
    """Median and min-max spread of several runs."""
    finite = [v for v in values if v is not None and not math.isnan(v)]
    if not finite:
        return {"runs": len(values), "median": None, "min": None, "max": None, "values": values}
    return {
        "runs": len(finite),
        "median": statistics.median(finite),
        "min": min(finite),
        "max": max(finite),
        "values": finite,
    }


def slope(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of log(cost) against log(size): 1 is linear growth."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(x for x, _ in pts) / len(pts)
    my = sum(y for _, y in pts) / len(pts)
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    return sum((x - mx) * (y - my) for x, y in pts) / sxx if sxx else None


# ---------------------------------------------------------------------------------------------
# Bounded processes
# ---------------------------------------------------------------------------------------------


def run_bounded(
    command: list[str],
    *,
    timeout: float,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> tuple[float, float]:
    """Run ``command`` to its end within ``timeout`` seconds: (wall seconds, peak RSS MiB).

    Raises:
        DidNotFinishError: if it was still running at the limit (it is killed).
        RuntimeError: if it failed.
    """
    out = log.open("wb") if log else subprocess.DEVNULL
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        env={**os.environ, **(env or {})},
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                process.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - started > timeout:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise DidNotFinishError(f"did not finish within {timeout:.0f} s")
            time.sleep(0.05)
    finally:
        if log:
            out.close()  # type: ignore[union-attr]
    elapsed = time.perf_counter() - started
    if process.returncode != 0:
        tail = log.read_text(errors="replace")[-2000:] if log else ""
        raise RuntimeError(f"{command[0]} exited with {process.returncode}: {tail}")
    return elapsed, usage.ru_maxrss / 1024


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# Build and load
# ---------------------------------------------------------------------------------------------


def source_tree(work: Path, data: Path) -> Path:
    """A folder ``cpgraph build`` reads: the repository's ontology and shapes, and ``data``."""
    tree = work / "source"
    shutil.rmtree(tree, ignore_errors=True)
    (tree / "data").mkdir(parents=True)
    (tree / "ontology").symlink_to(ROOT / "ontology")
    (tree / "shapes").symlink_to(ROOT / "shapes")
    (tree / "data" / "synthetic.nq").symlink_to(data.resolve())
    return tree


BULK_LOAD = (
    "import sys, pyoxigraph as ox\n"
    "store = ox.Store(sys.argv[1])\n"
    "store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_QUADS)\n"
    "store.flush()\n"
)


def loaders(
    work: Path, data: Path, tree: Path, timeout: float
) -> dict[str, Callable[[], tuple[float, float]]]:
    """The peers of the build benchmark, each a function that builds once from scratch."""
    python = str(PYTHON_BIN / "python")

    def cpgraph_build(trusted: bool) -> Callable[[], tuple[float, float]]:
        def go() -> tuple[float, float]:
            store = fresh(work / "stores" / "cpgraph")
            command = [str(PYTHON_BIN / "cpgraph"), "--store", str(store), "build"]
            return run_bounded(
                [*command, "--trusted"] if trusted else command,
                timeout=timeout,
                env={"CPGRAPH_SOURCE_DIR": str(tree)},
                log=work / "build.log",
            )

        return go

    def bulk() -> tuple[float, float]:
        store = fresh(work / "stores" / "pyoxigraph")
        return run_bounded(
            [python, "-c", BULK_LOAD, str(store), str(data)], timeout=timeout, log=work / "bulk.log"
        )

    def oxigraph_load() -> tuple[float, float]:
        store = fresh(work / "stores" / "oxigraph")
        return run_bounded(
            [str(PYTHON_BIN / "oxigraph"), "load", "--location", str(store), "--file", str(data)],
            timeout=timeout,
            log=work / "oxigraph-load.log",
        )

    return {
        "cpgraph build --trusted": cpgraph_build(True),
        "pyoxigraph bulk_load": bulk,
        "oxigraph load": oxigraph_load,
        "cpgraph build (validating)": cpgraph_build(False),
    }


def bench_build(
    settings: Settings, work: Path, data: Path, triples: int, validating_dnf: str | None
) -> dict[str, Any]:
    """Build/load throughput and peak RSS, side by side run by run; the validating build apart.

    The validating build runs last and once per size (it is the slow one), and not at all once
    it failed to finish at a smaller size.
    """
    tree = source_tree(work, data)
    peers = loaders(work, data, tree, settings.build_timeout)
    main_peers = [p for p in peers if p != "cpgraph build (validating)"]
    seconds: dict[str, list[float]] = {p: [] for p in peers}
    rss: dict[str, list[float]] = {p: [] for p in peers}
    dnf: dict[str, str | None] = {p: None for p in peers}
    ratios: dict[str, list[float]] = {p: [] for p in main_peers if p != main_peers[0]}
    for run in range(settings.runs):
        this: dict[str, float] = {}
        for peer in main_peers:
            if dnf[peer]:
                continue
            try:
                elapsed, peak = peers[peer]()
            except DidNotFinishError as exc:
                dnf[peer] = str(exc)
                continue
            seconds[peer].append(elapsed)
            rss[peer].append(peak)
            this[peer] = elapsed
            print(f"  build run {run + 1}: {peer}: {elapsed:.1f} s, {peak:.0f} MiB", flush=True)
        for peer in ratios:
            if main_peers[0] in this and peer in this:
                ratios[peer].append(this[main_peers[0]] / this[peer])
    # the stores the endpoint benchmark serves: the last cpgraph and oxigraph builds
    keep = work / "stores" / "cpgraph-serving"
    shutil.rmtree(keep, ignore_errors=True)
    shutil.copytree(work / "stores" / "cpgraph", keep, symlinks=True)
    validating = "cpgraph build (validating)"
    if validating_dnf:
        dnf[validating] = f"not attempted: {validating_dnf} at a smaller size"
    elif triples > settings.validating_max_triples:
        dnf[validating] = (
            f"not attempted above {settings.validating_max_triples:,} statements: pySHACL holds "
            "the whole graph in rdflib (4.4 GiB at 1M), more memory than this machine has"
        )
    else:
        try:
            elapsed, peak = run_bounded(
                [
                    str(PYTHON_BIN / "cpgraph"),
                    "--store",
                    str(fresh(work / "stores" / "val")),
                    "build",
                ],
                timeout=settings.validate_timeout,
                env={"CPGRAPH_SOURCE_DIR": str(tree)},
                log=work / "build-validating.log",
            )
            seconds[validating].append(elapsed)
            rss[validating].append(peak)
            print(f"  build: {validating}: {elapsed:.1f} s, {peak:.0f} MiB", flush=True)
        except DidNotFinishError as exc:
            dnf[validating] = str(exc)
        shutil.rmtree(work / "stores" / "val", ignore_errors=True)
    return {
        "triples": triples,
        "peers": {
            p: {
                "seconds": summary(seconds[p]),
                "triples_per_second": summary([triples / s for s in seconds[p]]),
                "peak_rss_mib": summary(rss[p]),
                "did_not_finish": dnf[p],
            }
            for p in peers
        },
        "cpgraph_time_ratio": {p: summary(v) for p, v in ratios.items()},
    }


# ---------------------------------------------------------------------------------------------
# Endpoint
# ---------------------------------------------------------------------------------------------


def queries_for(stats: Stats) -> dict[str, str]:
    """The endpoint issue's four query kinds, on the synthetic data.

    As on the shipped graph (see :func:`shipped_queries`), a statement may be in several graphs,
    so the queries ask for distinct solutions and distinct counts: what every peer answers alike.
    """
    year = stats.sample_year
    return {
        "point lookup": f"SELECT DISTINCT ?p ?o WHERE {{ <{stats.sample_enterprise}> ?p ?o }}",
        "join with filter": PREFIXES
        + (
            "SELECT DISTINCT ?audit ?enterprise ?label WHERE {\n"
            f"  ?enterprise cp:inSector <{stats.sample_sector}> ; rdfs:label ?label .\n"
            "  ?audit cp:auditedEnterprise ?enterprise ; cp:startDate ?date .\n"
            f'  FILTER(STRSTARTS(STR(?date), "{year}"))\n}}'
        ),
        "aggregate": PREFIXES
        + (
            "SELECT ?province (COUNT(DISTINCT ?obs) AS ?n) WHERE {\n"
            "  ?obs a cp:Observation ; cp:refArea ?province .\n} GROUP BY ?province"
        ),
        "10,000 rows": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10000",
    }


# The CCICED Cleaner Production Working Group, one of the shipped graph's best-described actors.
SHIPPED_SUBJECT = "https://w3id.org/cpgraph/id/org/cpwg"


def shipped_queries() -> dict[str, str]:
    """The four query kinds on the shipped graph's own entities and vocabulary.

    A statement of the shipped graph is repeated in the named graph of every source that makes
    it, and the default graph is the union of the graphs: Oxigraph's union matches a pattern
    once per graph that holds it (a bag), cpgraph's and rdflib's once in all. The queries ask
    for what a user would, and what every peer answers alike: DISTINCT solutions, distinct
    counts, and for the large result every statement with its graph (fewer than 10,000: all
    of them).
    """
    return {
        "point lookup": f"SELECT DISTINCT ?p ?o WHERE {{ <{SHIPPED_SUBJECT}> ?p ?o }}",
        "join with filter": PREFIXES
        + (
            "SELECT DISTINCT ?instrument ?label ?body ?date WHERE {\n"
            "  ?instrument cp:issuedBy ?body ; cp:dateIssued ?date ; rdfs:label ?label .\n"
            "  ?body a cp:GovernmentBody .\n"
            '  FILTER(LANG(?label) = "en" && STR(?date) >= "2003")\n}'
        ),
        "aggregate": (
            "SELECT ?type (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type"
        ),
        "10,000 rows": "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 10000",
    }


@dataclass(frozen=True)
class Peer:
    """A server under test: how to start it and where to send queries."""

    name: str
    command: tuple[str, ...]
    query_url: str
    env: tuple[tuple[str, str], ...] = ()
    startup: float = 900.0
    home_url: str | None = None  # cpgraph: where it says whether it serves from memory

    def url(self, query: str) -> str:
        return self.query_url + "?" + urllib.parse.urlencode({"query": query})


def probe(peer: Peer, query: str, *, timeout: float) -> tuple[int, float]:
    """One request: (rows, seconds). Raises DidNotFinishError past ``timeout``."""
    request = urllib.request.Request(peer.url(query), headers={"Accept": ACCEPT})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            rows = len(json.load(response)["results"]["bindings"])
    except (TimeoutError, urllib.error.URLError) as exc:
        if isinstance(exc, TimeoutError) or isinstance(getattr(exc, "reason", None), TimeoutError):
            raise DidNotFinishError(f"did not finish within {timeout:.0f} s") from None
        raise
    return rows, time.perf_counter() - started


def serving_state(home_url: str, *, limit: float = 600.0) -> dict[str, Any]:
    """Where a started cpgraph answers from, once every process has settled: it answers at
    once from disk and, for a store that fits, from a copy in memory once made (seconds at
    1M). Waits until ten answers in a row say ``memory`` or ``disk`` alike, within ``limit``.
    """
    started = time.perf_counter()
    deadline = time.monotonic() + limit
    last: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        request = urllib.request.Request(home_url, headers={"Accept": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            state = dict(json.load(response)["serving"])
        last = [*last[-9:], state]
        if len(last) == 10 and all(s["from"] == state["from"] != "copying" for s in last):
            return {**state, "settled_after_s": time.perf_counter() - started}
        time.sleep(0.1)
    return {**(last[-1] if last else {}), "settled_after_s": None}


class Servers:
    """The peers' servers, each restartable (a peer stuck on an abandoned query is restarted)."""

    def __init__(self, peers: list[Peer]) -> None:
        self.peers = {p.name: p for p in peers}
        self.stacks: dict[str, contextlib.ExitStack] = {}
        self.pids: dict[str, int] = {}
        self.peak: dict[str, float] = {}
        self.serving: dict[str, dict[str, Any]] = {}

    def start(self, name: str) -> None:
        peer = self.peers[name]
        stack = contextlib.ExitStack()
        process = stack.enter_context(
            server(
                peer.command, ready_url=peer.url("ASK {}"), env=dict(peer.env), startup=peer.startup
            )
        )
        self.stacks[name] = stack
        self.pids[name] = process.pid
        if peer.home_url is not None:  # measured once it answers the way it will go on
            self.serving[name] = serving_state(peer.home_url)

    def stop(self, name: str) -> None:
        self.record(name)
        stack = self.stacks.pop(name, None)
        if stack is not None:
            stack.close()

    def restart(self, name: str) -> None:
        self.stop(name)
        self.start(name)

    def record(self, name: str) -> None:
        if name in self.pids:
            self.peak[name] = max(self.peak.get(name, 0.0), peak_rss_mib(self.pids[name]))

    def close(self) -> None:
        for name in list(self.stacks):
            self.stop(name)


def endpoint_peers(
    work: Path, data: Path, triples: int, settings: Settings
) -> tuple[list[Peer], dict[str, str]]:
    """cpgraph, oxigraph serve, the Python floor (``floor_server.py``) and (up to a size)
    rdflib-endpoint over the same data.

    ``oxigraph serve`` runs without ``--timeout-s``: with it, Oxigraph 0.5 starts a thread per
    query, and under wrk at concurrency 8 here thread creation failed ("failed to set up
    alternative stack guard page"), the server answering 500s and then dying. Every single
    query is bounded by the harness instead.
    """
    skipped: dict[str, str] = {}
    port = free_port()
    peers = [
        Peer(
            "cpgraph",
            (
                str(PYTHON_BIN / "cpgraph"),
                "--store",
                str(work / "stores" / "cpgraph-serving"),
                "serve",
                "--port",
                str(port),
            ),
            f"http://127.0.0.1:{port}/sparql",
            # wrk is one client with many connections: no per-client limit, as behind a
            # proxy that limits each user itself.
            env=(
                ("CPGRAPH_QUERY_TIMEOUT", str(QUERY_TIMEOUT_S)),
                ("CPGRAPH_CLIENT_CONCURRENCY", "0"),
            ),
            home_url=f"http://127.0.0.1:{port}/",
        )
    ]
    # The floor reads from memory when cpgraph does (the default limit's stores), and
    # allocates with the allocator cpgraph's server processes get: its ratio to cpgraph is
    # then still what cpgraph's own work costs, not where the store is read or how memory is.
    defaults = load_settings({})
    in_memory = triples <= defaults.memory_statements
    floor_allocator = allocator.choose(defaults.allocator, os.environ, allocator.mimalloc_library())
    oxigraph = PYTHON_BIN / "oxigraph"
    if oxigraph.exists() and (work / "stores" / "oxigraph").exists():
        port = free_port()
        peers.append(
            Peer(
                "oxigraph",
                (
                    str(oxigraph),
                    "serve",
                    "--location",
                    str(work / "stores" / "oxigraph"),
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--union-default-graph",
                ),
                f"http://127.0.0.1:{port}/query",
            )
        )
    else:
        skipped["oxigraph"] = "the oxigraph command or its store is missing"
    port = free_port()
    peers.append(
        Peer(
            FLOOR,
            (
                sys.executable,
                str(HERE / "floor_server.py"),
                "--store",
                str(work / "stores" / "cpgraph-serving"),
                "--port",
                str(port),
                *(["--memory"] if in_memory else []),
            ),
            f"http://127.0.0.1:{port}/sparql",
            env=tuple(floor_allocator.environment.items()),
        )
    )
    rdflib_endpoint = PYTHON_BIN / "rdflib-endpoint"
    if not rdflib_endpoint.exists():
        skipped["rdflib-endpoint"] = "rdflib-endpoint is not installed"
    elif triples > settings.rdflib_max_triples:
        skipped["rdflib-endpoint"] = (
            f"not run above {settings.rdflib_max_triples:,} statements: rdflib holds the whole "
            "graph in Python objects (several GiB and minutes to load at this size)"
        )
    else:
        port = free_port()
        peers.append(
            Peer(
                "rdflib-endpoint",
                (
                    str(rdflib_endpoint),
                    "serve",
                    str(data),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ),
                f"http://127.0.0.1:{port}/",
            )
        )  # rdflib-endpoint answers at /
    return peers, skipped


def bench_endpoint(
    settings: Settings, work: Path, data: Path, triples: int, queries: dict[str, str]
) -> dict[str, Any]:
    """Throughput and latency per query kind and concurrency, side by side run by run.

    ``work`` holds the stores the peers serve (``stores/cpgraph-serving``, ``stores/oxigraph``);
    ``data`` is the same statements as N-Quads, which rdflib-endpoint loads.
    """
    if shutil.which("wrk") is None:
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    peers, skipped = endpoint_peers(work, data, triples, settings)
    servers = Servers(peers)
    results: dict[str, dict[str, Any]] = {}
    started_at: dict[str, float] = {}
    try:
        for peer in peers:
            t0 = time.perf_counter()
            servers.start(peer.name)
            started_at[peer.name] = time.perf_counter() - t0
            print(f"  {peer.name} ready in {started_at[peer.name]:.1f} s", flush=True)
        fastest = next((p for p in peers if p.name == "oxigraph"), peers[0])
        ceiling = wrk(
            fastest.url("ASK {}"),
            connections=8,
            seconds=settings.seconds,
            headers={"Accept": ACCEPT},
        ).requests_per_second
        for kind, query in queries.items():
            rows: dict[str, int | None] = {}
            single: dict[str, float | None] = {}
            dnf: dict[str, str | None] = {}
            for peer in peers:
                # Once to bring the store's pages into memory, untimed (a cold store reads
                # from disk: at 10M cpgraph's first join took 11 s to over 30 s, the next
                # 0.3 s), then once timed.
                try:
                    probe(peer, query, timeout=settings.probe_timeout)
                except (DidNotFinishError, OSError, ValueError):
                    servers.restart(peer.name)  # it may still be working on the query
                try:
                    rows[peer.name], single[peer.name] = probe(
                        peer, query, timeout=settings.probe_timeout
                    )
                    dnf[peer.name] = None
                except (DidNotFinishError, OSError, ValueError) as exc:
                    why = str(exc) if isinstance(exc, DidNotFinishError) else f"failed: {exc}"
                    rows[peer.name], single[peer.name], dnf[peer.name] = None, None, why
                    servers.restart(peer.name)  # it may still be working on the query
            for c in settings.concurrency:
                key = f"{kind} @ c={c}"
                rps: dict[str, list[float]] = {p.name: [] for p in peers}
                p50: dict[str, list[float]] = {p.name: [] for p in peers}
                p99: dict[str, list[float]] = {p.name: [] for p in peers}
                failures = {p.name: 0 for p in peers}
                ratios: dict[str, list[float]] = {p.name: [] for p in peers if p.name != "cpgraph"}
                to_oxigraph: dict[str, list[float]] = {p.name: [] for p in peers}
                too_slow: dict[str, str | None] = {}
                for peer in peers:
                    s = single[peer.name]
                    too_slow[peer.name] = dnf[peer.name] or (
                        f"one request took {s:.1f} s, longer than a {settings.seconds} s run: "
                        "not loaded with wrk"
                        if s is not None and s > settings.seconds
                        else None
                    )
                for _ in range(settings.runs):
                    this: dict[str, float] = {}
                    for peer in peers:
                        if too_slow[peer.name]:
                            continue
                        # Every peer, not only this one: a server still working on requests
                        # the last wrk run abandoned (rdflib-endpoint answers one at a time)
                        # would take the cores from the one measured now.
                        for other in peers:
                            if not too_slow[other.name]:
                                settle(
                                    other.url("ASK {}"),
                                    pid=servers.pids.get(other.name),
                                    limit=120,
                                )
                        run = wrk(
                            peer.url(query),
                            connections=c,
                            seconds=settings.seconds,
                            headers={"Accept": ACCEPT},
                        )
                        rps[peer.name].append(run.requests_per_second)
                        p50[peer.name].append(run.latency_p50_ms)
                        p99[peer.name].append(run.latency_p99_ms)
                        failures[peer.name] += run.non_2xx + run.errors
                        this[peer.name] = run.requests_per_second
                    for name in ratios:
                        if this.get("cpgraph") and this.get(name):
                            ratios[name].append(this["cpgraph"] / this[name])
                    for name in to_oxigraph:
                        if this.get(name) and this.get("oxigraph"):
                            to_oxigraph[name].append(this[name] / this["oxigraph"])
                results[key] = {
                    p.name: {
                        "rows": rows[p.name],
                        "single_request_s": single[p.name],
                        "rps": summary(rps[p.name]),
                        "p50_ms": summary(p50[p.name]),
                        "p99_ms": summary(p99[p.name]),
                        "failures": failures[p.name],
                        "did_not_finish": too_slow[p.name],
                        "cpgraph_rps_ratio": summary(ratios[p.name]) if p.name in ratios else None,
                        "oxigraph_rps_ratio": summary(to_oxigraph[p.name])
                        if to_oxigraph[p.name]
                        else None,
                    }
                    for p in peers
                }
                print(
                    f"  {key}: "
                    + ", ".join(
                        f"{p.name} {summary(rps[p.name])['median'] or 0:.0f}/s" for p in peers
                    ),
                    flush=True,
                )
        for peer in peers:
            servers.record(peer.name)
    finally:
        servers.close()
    best = max((v["rps"]["median"] or 0 for r in results.values() for v in r.values()), default=0)
    return {
        "queries": queries,
        "skipped_peers": skipped,
        "startup_s": started_at,
        "load_generator_ceiling_rps": ceiling,
        "highest_measured_rps": best,
        "load_generator_not_bottleneck": best < 0.5 * ceiling,
        "results": results,
        "server_peak_rss_mib": servers.peak,
        "cpgraph_serving": servers.serving.get("cpgraph"),
    }


# ---------------------------------------------------------------------------------------------
# Saved queries
# ---------------------------------------------------------------------------------------------


def saved_queries() -> dict[str, str]:
    folder = ROOT / "queries"
    return {p.stem: p.read_text() for p in sorted(folder.glob("*.rq"))} if folder.is_dir() else {}


SAVED_QUERY = """
import json, sys, time
from pathlib import Path
from cpgraph.rdf.namespaces import DEFAULT_BASE
from cpgraph.saved.library import run_saved
from cpgraph.saved.query import parse_saved_query
from cpgraph.store.oxigraph import GraphStore
store = GraphStore(Path(sys.argv[1]), read_only=True)
path = Path(sys.argv[2])
query = parse_saved_query(path.read_text(), name=path.stem, path=path)
times, rows = [], 0
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    result = run_saved(store, query, {}, base=DEFAULT_BASE)  # its default parameters
    rows = sum(1 for _ in result.rows()) if result.kind.name == 'SOLUTIONS' else 1
    times.append(time.perf_counter() - t)
print(json.dumps({'seconds': times, 'rows': rows}))
"""


def time_saved_queries(
    store_dir: Path, runs: int, timeout: float, limit: int | None = None
) -> dict[str, Any]:
    """Each saved query's time through GraphStore.query (all rows read), each bounded in time
    in its own process (a slow one is reported as not finishing, the others still measured)."""
    queries = dict(list(saved_queries().items())[:limit])
    if not queries:
        return {"skipped": "no saved queries (queries/*.rq) yet"}
    out: dict[str, Any] = {}
    log = Path(tempfile.mkstemp(prefix="cpgraph-saved-")[1])
    try:
        for name in queries:
            try:
                run_bounded(
                    [
                        str(PYTHON_BIN / "python"),
                        "-c",
                        SAVED_QUERY,
                        str(store_dir),
                        str(ROOT / "queries" / f"{name}.rq"),
                        str(runs),
                        str(HERE),
                    ],
                    timeout=timeout,
                    log=log,
                )
            except DidNotFinishError as exc:
                out[name] = {"error": f"{runs} runs {exc}"}
                continue
            except RuntimeError as exc:
                out[name] = {"error": str(exc).splitlines()[-1][:200]}
                continue
            raw = json.loads(log.read_text().strip().splitlines()[-1])
            out[name] = {"rows": raw["rows"], "seconds": summary(raw["seconds"])}
    finally:
        log.unlink(missing_ok=True)
    return out


def with_shipped(work: Path, data: Path, timeout: float) -> Path:
    """A store of the synthetic graph together with the shipped data (``--trusted``), so that
    the saved queries' default parameters, which name shipped entities, find them."""
    tree = source_tree(work, data)
    for path in sorted((ROOT / "data").glob("*.trig")):
        (tree / "data" / path.name).symlink_to(path)
    store = fresh(work / "stores" / "with-shipped")
    run_bounded(
        [str(PYTHON_BIN / "cpgraph"), "--store", str(store), "build", "--trusted"],
        timeout=timeout,
        env={"CPGRAPH_SOURCE_DIR": str(tree)},
        log=work / "with-shipped.log",
    )
    return store


def shipped_endpoint(settings: Settings) -> dict[str, Any]:
    """The endpoint benchmark on the shipped graph: cpgraph's store built from the repository,
    and the peers loaded from its N-Quads export, so that every server holds the same quads."""
    work = settings.work / "run-shipped"
    work.mkdir(parents=True, exist_ok=True)
    store = build_shipped(fresh(work / "stores" / "cpgraph-serving"), log=work / "build.log")
    cpgraph = str(PYTHON_BIN / "cpgraph")
    data = work / "shipped.nq"
    # Without the dataset description, which an export adds and the store does not hold.
    run_bounded(
        [cpgraph, "--store", str(store), "export", "--no-description", "-o", str(data)],
        timeout=600,
        log=work / "export.log",
    )
    oxigraph = PYTHON_BIN / "oxigraph"
    if oxigraph.exists():
        run_bounded(
            [
                str(oxigraph),
                "load",
                "--location",
                str(fresh(work / "stores" / "oxigraph")),
                "--file",
                str(data),
            ],
            timeout=600,
            log=work / "oxigraph-load.log",
        )
    with data.open("rb") as lines:
        triples = sum(1 for line in lines if line.strip())
    return {
        "statements": triples,
        **bench_endpoint(settings, work, data, triples, shipped_queries()),
    }


def build_shipped(store: Path, *, log: Path) -> Path:
    """Build ``store`` from the repository's own data (``--trusted``: the test suite validates
    the shipped data, and the store is the same either way)."""
    run_bounded(
        [str(PYTHON_BIN / "cpgraph"), "--store", str(store), "build", "--trusted"],
        timeout=600,
        env={"CPGRAPH_SOURCE_DIR": str(ROOT)},
        log=log,
    )
    return store


def shipped_store(work: Path) -> Path:
    """The store of the shipped data for the saved queries, built once and kept (and again
    when an older cpgraph built it, without the merged union)."""
    store = work / "shipped-store"
    if not is_merged(store / "current"):
        build_shipped(fresh(store), log=work / "shipped-build.log")
    return store


# ---------------------------------------------------------------------------------------------
# Contribution validation
# ---------------------------------------------------------------------------------------------

FULL_STORE = """
import json, sys, time
from pathlib import Path
from cpgraph.rdf.io import parse_file
from cpgraph.validation.shacl import load_ontology, load_shapes, validate_graph
t0 = time.perf_counter()
ontology = load_ontology(Path(sys.argv[3]) / 'ontology')
shapes = load_shapes(Path(sys.argv[3]) / 'shapes')
data = parse_file(Path(sys.argv[1]))
data += parse_file(Path(sys.argv[2]))
data += ontology  # as cpgraph build validates: the data with the ontology
t1 = time.perf_counter()
outcome = validate_graph(data, shapes=shapes, ontology=ontology)
t2 = time.perf_counter()
print(json.dumps({'parse_s': t1 - t0, 'validate_s': t2 - t1, 'conforms': outcome.conforms,
                  'results': len(outcome.results)}))
"""

SCOPED = """
import json, sys, time
from pathlib import Path
import pyoxigraph as ox
from rdflib import Graph, URIRef
from cpgraph.rdf.io import parse_file, to_rdflib_triples
from cpgraph.store.oxigraph import GraphStore
from cpgraph.validation.shacl import load_ontology, load_shapes, validate_graph
ontology = load_ontology(Path(sys.argv[3]) / 'ontology')
shapes = load_shapes(Path(sys.argv[3]) / 'shapes')
store = GraphStore(Path(sys.argv[1]), read_only=True)
t0 = time.perf_counter()
contribution = parse_file(Path(sys.argv[2]))
mentioned = {str(n) for t in contribution for n in (t[0], t[2]) if isinstance(n, URIRef)}
own = {str(s) for s in contribution.subjects()}
values = ' '.join(f'<{iri}>' for iri in sorted(mentioned - own))
query = ('CONSTRUCT { ?n ?p ?o . ?o a ?t } WHERE { VALUES ?n { ' + values + ' } '
         '?n ?p ?o OPTIONAL { ?o a ?t } }')
data = Graph()
for triple in to_rdflib_triples(ox.Quad(t.subject, t.predicate, t.object)
                                for t in store.query(query).triples()):
    data.add(triple)
data += contribution
t1 = time.perf_counter()
outcome = validate_graph(data, shapes=shapes, ontology=ontology)
relevant = [r for r in outcome.violations if r.focus_node in own]
t2 = time.perf_counter()
print(json.dumps({'gather_s': t1 - t0, 'validate_s': t2 - t1, 'conforms': not relevant,
                  'neighbourhood_triples': len(data)}))
"""

FAST_PATH = """
# cpgraph's own fast path (cpgraph.validation.contributions.check, the lead's): the
# contribution validated
# in the context of the store, only what it can affect. Its statements go in as triples (the
# graph description is cpgraph's to write, so it is left out, as the service leaves it out).
import json, sys, time
from pathlib import Path
import pyoxigraph as ox
try:
    from cpgraph.validation.contributions import ValidationContext, check
except ImportError as exc:
    print(json.dumps({'skipped': f'no fast path in cpgraph yet ({exc})'}))
    sys.exit(0)
from cpgraph.store.oxigraph import GraphStore
t0 = time.perf_counter()
context = ValidationContext.from_files(Path(sys.argv[3]))
store = GraphStore(Path(sys.argv[1]), read_only=True)
triples = [(q.subject, q.predicate, q.object)
           for q in ox.parse(path=sys.argv[2], format=ox.RdfFormat.N_QUADS)
           if not q.subject.value.startswith('https://w3id.org/cpgraph/graph/')]
t1 = time.perf_counter()
outcome = check(triples, store=store, context=context)
t2 = time.perf_counter()
print(json.dumps({'context_s': t1 - t0, 'validate_s': t2 - t1, 'conforms': outcome.conforms}))
"""


def bounded_json(script: str, args: list[str], timeout: float, work: Path) -> dict[str, Any]:
    """Run a Python snippet bounded in time; its last output line is JSON."""
    log = work / "snippet.log"
    try:
        elapsed, peak = run_bounded(
            [str(PYTHON_BIN / "python"), "-c", script, *args], timeout=timeout, log=log
        )
    except DidNotFinishError as exc:
        return {"did_not_finish": str(exc)}
    result = json.loads(log.read_text().strip().splitlines()[-1])
    result.update({"wall_s": elapsed, "peak_rss_mib": peak})
    return result


def bench_validation(
    settings: Settings,
    work: Path,
    data: Path,
    stats: Stats,
    full_dnf: str | None,
    validating_dnf: str | None,
) -> dict[str, Any]:
    """A 1,000-statement contribution against the store: full-store pySHACL, scoped, fast."""
    text = contribution_nquads(enterprises=stats.enterprises, seed=settings.seed)
    contribution = work / "contribution.nq"
    contribution.write_text(text)
    store = work / "stores" / "cpgraph-serving"
    build = (store / "current").resolve()
    args = [str(build), str(contribution), str(ROOT)]
    out: dict[str, Any] = {"contribution_triples": text.count("\n")}
    runs = settings.runs
    scoped = [bounded_json(SCOPED, args, settings.validate_timeout, work) for _ in range(runs)]
    out["scoped pyshacl (sketch)"] = _collect(scoped, "validate_s", ("gather_s", "wall_s"))
    out["cpgraph fast path"] = bench_fast_path(settings, work, stats)
    if full_dnf:
        out["full-store pyshacl"] = {
            "did_not_finish": f"not attempted: {full_dnf} at a smaller size"
        }
    elif validating_dnf:
        out["full-store pyshacl"] = {
            "did_not_finish": "not attempted: the validating build (the same pySHACL run over "
            f"the whole store) {validating_dnf} at this size"
        }
    elif stats.triples > settings.pyshacl_max_triples:
        out["full-store pyshacl"] = {
            "did_not_finish": f"not attempted above {settings.pyshacl_max_triples:,} statements"
        }
    else:
        full = [
            bounded_json(
                FULL_STORE,
                [str(data), str(contribution), str(ROOT)],
                settings.validate_timeout,
                work,
            )
            for _ in range(1 if stats.triples > 200_000 else runs)
        ]
        out["full-store pyshacl"] = _collect(full, "validate_s", ("parse_s", "wall_s"))
    return out


def bench_fast_path(settings: Settings, work: Path, stats: Stats) -> dict[str, Any]:
    """The contribution through ``cpgraph.validation.contributions.check`` against the store."""
    contribution = work / "contribution.nq"
    if not contribution.exists():
        contribution.write_text(
            contribution_nquads(enterprises=stats.enterprises, seed=settings.seed)
        )
    build = (work / "stores" / "cpgraph-serving" / "current").resolve()
    fast = [
        bounded_json(
            FAST_PATH, [str(build), str(contribution), str(ROOT)], settings.validate_timeout, work
        )
        for _ in range(settings.runs)
    ]
    return _collect(fast, "validate_s", ("context_s", "wall_s"))


WRITES = """
# SPARQL updates one after another on a copy of a store, each timed through write_transaction
# (the copy-on-write build, the update, the publication: what a request to /sparql waits for)
# and through GraphStore.update alone. With 'whole', every update goes the general way, the
# merged union made anew, as every update did before data updates kept it statement by
# statement.
import json, sys, time
from pathlib import Path
import cpgraph.store.union
from cpgraph.store.builds import current_build, write_transaction
from cpgraph.store.oxigraph import GraphStore
store_dir, updates = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
if sys.argv[3] == 'whole':
    cpgraph.store.union.data_operations = lambda _: None
out = {}
sizes = [len(GraphStore(current_build(store_dir), read_only=True))]  # before, then after each
for name, text in updates.items():
    t0 = time.perf_counter()
    with write_transaction(store_dir) as store:
        t1 = time.perf_counter()
        store.update(text)
        t2 = time.perf_counter()
        # The checks, not timed: the dataset's size and the union's after the update.
        sizes.append(len(store))
        union = store.query('SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }')
        count = int(next(union.rows())['n'].value)
        t3 = time.perf_counter()
    request = (t2 - t0) + (time.perf_counter() - t3)
    out[name] = {'update_s': t2 - t1, 'request_s': request, 'union': count}
print(json.dumps({'updates': out, 'statements': sizes}))
"""

WRITES_GRAPH = "https://example.org/bench/writes"


def write_updates(statements: int = 1000) -> dict[str, str]:
    """The updates of the write benchmark, in the order they run: data in and out, one
    statement and a thousand, and between them an update with a WHERE clause (which goes the
    general way in any case) that rewrites the thousand."""
    g, p, q = WRITES_GRAPH, WRITES_GRAPH + "#p", WRITES_GRAPH + "#q"

    def rows(predicate: str) -> str:
        return " ".join(f'<{g}/s{i}> <{predicate}> "value {i}" .' for i in range(statements))

    one = f'<{g}/one> <{p}> "one" .'
    return {
        "INSERT DATA, 1 statement": f"INSERT DATA {{ GRAPH <{g}> {{ {one} }} }}",
        f"INSERT DATA, {statements:,} statements": (
            f"INSERT DATA {{ GRAPH <{g}> {{ {rows(p)} }} }}"
        ),
        f"DELETE/INSERT WHERE, {statements:,} statements": (
            f"DELETE {{ GRAPH <{g}> {{ ?s <{p}> ?v }} }} INSERT {{ GRAPH <{g}> {{ ?s <{q}> ?v }} }}"
            f" WHERE {{ GRAPH <{g}> {{ ?s <{p}> ?v }} FILTER(?s != <{g}/one>) }}"
        ),
        f"DELETE DATA, {statements:,} statements": (
            f"DELETE DATA {{ GRAPH <{g}> {{ {rows(q)} }} }}"
        ),
        "DELETE DATA, 1 statement": f"DELETE DATA {{ GRAPH <{g}> {{ {one} }} }}",
    }


def bench_writes(settings: Settings, work: Path, build: Path) -> dict[str, Any]:
    """The write benchmark on copies of ``build``: each run on a fresh copy, data updates as
    cpgraph makes them and, up to ``whole_merge_max_triples``, the general way beside them."""
    statements = len(GraphStore(build, read_only=True))
    texts = write_updates()
    work.mkdir(parents=True, exist_ok=True)  # where no other part made it (no wrk)
    updates = work / "write-updates.json"
    updates.write_text(json.dumps(texts))
    modes = ["statement by statement"]
    if statements <= settings.whole_merge_max_triples:
        modes.append("whole merge")
    raw: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    scratch = work / "stores" / "writes"
    for _ in range(settings.runs):
        for mode in modes:  # alternating, run by run
            shutil.rmtree(scratch, ignore_errors=True)
            copy = new_build_path(scratch)
            GraphStore(build, read_only=True).backup(copy)
            publish_build(scratch, copy)
            arg = "whole" if mode == "whole merge" else "data"
            raw[mode].append(
                bounded_json(
                    WRITES, [str(scratch), str(updates), arg], settings.build_timeout, work
                )
            )
    shutil.rmtree(scratch, ignore_errors=True)
    out: dict[str, Any] = {"statements": statements}
    for mode, runs in raw.items():
        failed = next((r for r in runs if "did_not_finish" in r), None)
        if failed is not None:
            out[mode] = {"did_not_finish": failed["did_not_finish"]}
            continue
        out[mode] = {
            "updates": {
                name: {
                    key: summary([r["updates"][name][key] for r in runs])
                    for key in ("update_s", "request_s")
                }
                for name in texts
            },
            # What each update left, the dataset's size (before and after each) and the
            # union's: the same in every run and either way if both are right, and after the
            # last update the store as it was.
            "statements": runs[0]["statements"],
            "union": [runs[0]["updates"][name]["union"] for name in texts],
        }
    if len(modes) == 1:
        out["whole merge"] = {
            "did_not_finish": f"not attempted above {settings.whole_merge_max_triples:,} "
            "statements (five merges of the whole store a run)"
        }
    return out


def _collect(results: list[dict[str, Any]], main: str, others: tuple[str, ...]) -> dict[str, Any]:
    for r in results:
        if "did_not_finish" in r or "skipped" in r:
            return {k: r[k] for k in ("did_not_finish", "skipped") if k in r}
    out = {main: summary([r[main] for r in results])}
    for key in (*others, "peak_rss_mib"):
        if key in results[0]:
            out[key] = summary([r[key] for r in results])
    out["conforms"] = results[0].get("conforms")
    if "neighbourhood_triples" in results[0]:
        out["neighbourhood_triples"] = results[0]["neighbourhood_triples"]
    return out


# ---------------------------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------------------------


def dataset(settings: Settings, size: int) -> tuple[Path, Stats, float | None]:
    """The synthetic graph of ``size`` (generated once per size and seed, then reused)."""
    path = settings.work / f"synthetic-{size}-seed{settings.seed}.nq"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, Stats(**json.loads(meta.read_text())), None
    started = time.perf_counter()
    stats = generate(path, triples=size, seed=settings.seed)
    elapsed = time.perf_counter() - started
    meta.write_text(json.dumps(asdict(stats)))
    return path, stats, elapsed


def run_suite(settings: Settings) -> dict[str, Any]:
    """Every benchmark at every size; the raw results."""
    settings.work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": machine(),
        "versions": versions([*ENDPOINT_PACKAGES, "pyshacl"]),
        "settings": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()
        },
        "sizes": {},
    }
    previous = settings.output / "results" / "scale.json"
    if settings.merge and previous.exists():  # add these sizes to an earlier run's
        earlier = json.loads(previous.read_text())
        report["sizes"] = earlier["sizes"]  # a size measured again keeps the parts not re-run
        report["earlier_runs"] = [
            *earlier.get("earlier_runs", []),
            {"machine": earlier["machine"], "settings": earlier["settings"]},
        ]
        for kept_part in ("shipped_saved_queries", "shipped_endpoint", "shipped_writes"):
            if kept_part in earlier:
                report[kept_part] = earlier[kept_part]
    validating_dnf: str | None = None
    full_dnf: str | None = None
    for size in settings.sizes:
        kept = report["sizes"].get(str(size), {})
        report["sizes"] = dict(
            sorted({**report["sizes"], str(size): kept}.items(), key=lambda item: int(item[0]))
        )
        print(f"size {size:,}", flush=True)
        data, stats, gen_s = dataset(settings, size)
        work = settings.work / f"run-{size}"
        work.mkdir(parents=True, exist_ok=True)
        entry: dict[str, Any] = report["sizes"][str(size)]
        entry.update({"data": asdict(stats)})
        entry.setdefault("generate_s", gen_s)
        if gen_s is not None:
            entry["generate_s"] = gen_s
        serving = work / "stores" / "cpgraph-serving" / "current"
        if "build" in settings.parts or not is_merged(serving):
            entry["build"] = bench_build(settings, work, data, stats.triples, validating_dnf)
            validating_dnf = (
                validating_dnf
                or entry["build"]["peers"]["cpgraph build (validating)"]["did_not_finish"]
            )
        if "endpoint" in settings.parts:
            entry["endpoint"] = bench_endpoint(
                settings, work, data, stats.triples, queries_for(stats)
            )
        if "saved" in settings.parts and stats.triples > settings.saved_max_triples:
            entry["saved_queries"] = {
                "skipped": f"not timed above {settings.saved_max_triples:,} statements (the "
                "shipped graph and 1M are the sizes asked for; several queries read the whole "
                "store, three runs of each would take hours here)"
            }
        elif "saved" in settings.parts and saved_queries():
            build = (with_shipped(work, data, settings.build_timeout) / "current").resolve()
            entry["saved_queries"] = time_saved_queries(
                build, settings.runs, 300, settings.saved_limit
            )
            shutil.rmtree(work / "stores" / "with-shipped", ignore_errors=True)
        if "fastpath" in settings.parts and "validation" not in settings.parts:
            entry.setdefault("validation", {})["cpgraph fast path"] = bench_fast_path(
                settings, work, stats
            )
            entry["validation"].pop("cpgraph.contribute", None)
        if "validation" in settings.parts:
            entry["validation"] = bench_validation(
                settings, work, data, stats, full_dnf, validating_dnf
            )
            full = entry["validation"].get("full-store pyshacl", {})
            full_dnf = full_dnf or (
                full.get("did_not_finish")
                if "not attempted" not in str(full.get("did_not_finish"))
                else None
            )
        if "writes" in settings.parts:
            entry["writes"] = bench_writes(settings, work, serving.resolve())
        write_outputs(report, settings)
    if "shipped-endpoint" in settings.parts:
        print("the shipped graph", flush=True)
        report["shipped_endpoint"] = shipped_endpoint(settings)
        write_outputs(report, settings)
    if "writes" in settings.parts:
        print("writes on the shipped graph", flush=True)
        shipped = (shipped_store(settings.work) / "current").resolve()
        report["shipped_writes"] = bench_writes(settings, settings.work / "run-shipped", shipped)
        write_outputs(report, settings)
    if "saved" in settings.parts:
        shipped = (shipped_store(settings.work) / "current").resolve()
        report["shipped_saved_queries"] = time_saved_queries(
            shipped, settings.runs, 300, settings.saved_limit
        )
    report["growth"] = growth(report)
    write_outputs(report, settings)
    return report


def figures(entry: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """The median of every cost measured at one size, by name."""
    for peer, f in entry.get("build", {}).get("peers", {}).items():
        if f["seconds"]["median"]:
            yield f"build time: {peer} (s)", f["seconds"]["median"]
        if f["peak_rss_mib"]["median"]:
            yield f"build peak RSS: {peer} (MiB)", f["peak_rss_mib"]["median"]
    endpoint = entry.get("endpoint", {})
    for key, peers in endpoint.get("results", {}).items():
        for peer, f in peers.items():
            if f["p50_ms"]["median"]:
                yield f"latency p50: {key}: {peer} (ms)", f["p50_ms"]["median"]
    for peer, mib in endpoint.get("server_peak_rss_mib", {}).items():
        yield f"server peak RSS: {peer} (MiB)", mib
    for name, f in entry.get("saved_queries", {}).items():
        if isinstance(f, dict) and "seconds" in f:
            yield f"saved query: {name} (s)", f["seconds"]["median"]
    for name, f in entry.get("validation", {}).items():
        if isinstance(f, dict) and "validate_s" in f:
            yield f"contribution validation: {name} (s)", f["validate_s"]["median"]


def growth(report: dict[str, Any]) -> dict[str, Any]:
    """Each cost at every size it was measured at, and its log-log slope."""
    table: dict[str, dict[str, Any]] = {}
    for size, entry in report["sizes"].items():
        triples = entry["data"]["triples"]
        for name, value in figures(entry):
            row = table.setdefault(name, {"points": []})
            row["points"].append([int(size), triples, value])
    for row in table.values():
        row["slope"] = slope([(t, v) for _, t, v in row["points"]])
    return table


def write_outputs(report: dict[str, Any], settings: Settings) -> None:
    results = settings.output / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "scale.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    from charts import embed, redraw, section
    from report import render

    full = {**report, "contribution_runs": contribution_runs(results)}
    text = render(full)
    try:
        drawn = redraw(full, results / "charts")
    except ImportError as missing:
        print(f"charts not drawn: {missing} (pip install -e '.[bench]')", file=sys.stderr)
    else:
        text = embed(text, section(full, drawn, directory="results/charts"))
    (settings.output / "RESULTS.md").write_text(text)


def contribution_runs(results: Path) -> list[dict[str, Any]]:
    """The runs of ``benchmarks/contribution.py`` (10M: its own command) that join the report."""
    runs = []
    for path in sorted(results.glob("contribution-*.json")):
        with contextlib.suppress(ValueError, KeyError):
            runs.append({**json.loads(path.read_text()), "file": path.name})
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes",
        nargs="*",
        default=["100k", "1M", "10M"],
        help="synthetic store sizes in statements (100k 1M 10M; none: only the shipped graph)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median, spread)")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--validate-timeout", type=float, default=900.0, help="limit for one SHACL validation (s)"
    )
    parser.add_argument(
        "--build-timeout", type=float, default=1800.0, help="limit for one build or load (s)"
    )
    parser.add_argument(
        "--parts",
        nargs="+",
        default=list(Settings.parts),
        choices=[*Settings.parts, "fastpath"],
        help="what to measure (fastpath: only cpgraph's contribution check)",
    )
    parser.add_argument(
        "--work",
        type=Path,
        default=ROOT / "var" / "bench",
        help="where data and stores go (several GiB at 10M)",
    )
    parser.add_argument(
        "--output", type=Path, default=HERE, help="where RESULTS.md and results/scale.json go"
    )
    parser.add_argument(
        "--merge",
        action="store_true",
        help="keep the other sizes of the results already in --output",
    )
    args = parser.parse_args(argv)
    sizes = [n for text in args.sizes for n in iter_sizes(text)]
    settings = Settings(
        sizes=sizes,
        seed=args.seed,
        runs=args.runs,
        seconds=args.seconds,
        concurrency=args.concurrency,
        build_timeout=args.build_timeout,
        validate_timeout=args.validate_timeout,
        work=args.work,
        output=args.output,
        parts=tuple(args.parts),
        merge=args.merge,
    )
    run_suite(settings)
    print(f"wrote {settings.output / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
