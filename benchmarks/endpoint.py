"""Endpoint throughput and latency: cpgraph against ``oxigraph serve`` and rdflib-endpoint.

The same store and the same queries for each server, side by side in one session: a point
lookup, a join with a filter, an aggregate over the whole store and a 10,000-row result, at
concurrency 1 and 8, with wrk as the load generator (its own ceiling is measured too, against
a trivial request to the fastest server, to show it is not the bottleneck). cpgraph runs with
its time limit in force; oxigraph with ``--timeout-s`` set to the same limit.

    python benchmarks/endpoint.py --store var/store --label shipped
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (
    ENDPOINT_PACKAGES,
    PYTHON_BIN,
    Figure,
    free_port,
    machine,
    server,
    settle,
    versions,
    write_json,
    wrk,
)

from cpgraph.store import GraphStore, current_build

TIMEOUT_S = 30


@dataclass(frozen=True)
class Peer:
    """A server under test and how to send it a query."""

    name: str
    query_url: str  # the query endpoint, to which ?query= is appended
    accept: str = "application/sparql-results+json"


def queries_for(store: GraphStore) -> dict[str, str]:
    """The four query kinds, with a subject for the point lookup taken from the store."""
    row = next(
        store.query(
            "SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } "
            "ORDER BY ?s LIMIT 1 OFFSET 7"
        ).rows()
    )
    subject = row["s"].value
    return {
        "point lookup": f"SELECT ?p ?o WHERE {{ <{subject}> ?p ?o }}",
        "join with filter": (
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
            "SELECT ?s ?label ?type WHERE { ?s a ?type ; rdfs:label ?label . "
            "?type rdfs:label ?tl FILTER(LANG(?label) = 'en' && CONTAINS(LCASE(?label), 'a')) }"
        ),
        "aggregate": "SELECT ?type (COUNT(?s) AS ?n) WHERE { ?s a ?type } GROUP BY ?type",
        "10,000 rows": "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o LIMIT 10000",
    }


def rows(peer: Peer, query: str) -> int:
    """How many solutions a peer returns (the harness checks that peers agree)."""
    url = peer.query_url + "?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": peer.accept})
    with urllib.request.urlopen(request, timeout=120) as response:
        return len(json.load(response)["results"]["bindings"])


def measure(
    peers: list[Peer], queries: dict[str, str], *, runs: int, seconds: int, concurrency: list[int]
) -> dict[str, dict[str, dict[str, object]]]:
    results: dict[str, dict[str, dict[str, object]]] = {}
    for kind, query in queries.items():
        counts = {peer.name: rows(peer, query) for peer in peers}
        for c in concurrency:
            key = f"{kind} @ c={c}"
            figures = {peer.name: Figure() for peer in peers}
            latency = {peer.name: Figure() for peer in peers}
            ratios = {peer.name: Figure() for peer in peers}
            failures = {peer.name: 0 for peer in peers}
            for _ in range(runs):
                run = {}
                for peer in peers:  # side by side, run by run
                    for other in peers:  # all settled: none still busy with abandoned requests
                        settle(other.query_url + "?" + urllib.parse.urlencode({"query": "ASK {}"}))
                    url = peer.query_url + "?" + urllib.parse.urlencode({"query": query})
                    result = wrk(
                        url, connections=c, seconds=seconds, headers={"Accept": peer.accept}
                    )
                    run[peer.name] = result.requests_per_second
                    figures[peer.name].values.append(result.requests_per_second)
                    latency[peer.name].values.append(result.latency_p50_ms)
                    failures[peer.name] += result.non_2xx + result.errors
                for peer in peers:
                    if run["cpgraph"] and run[peer.name]:
                        ratios[peer.name].values.append(run["cpgraph"] / run[peer.name])
            results[key] = {
                peer.name: {
                    "rows": counts[peer.name],
                    "rps_median": figures[peer.name].median,
                    "rps_spread": figures[peer.name].spread,
                    "p50_ms_median": latency[peer.name].median,
                    "cpgraph_ratio_median": ratios[peer.name].median,
                    "failures": failures[peer.name],
                }
                for peer in peers
            }
            print(key, {p: round(figures[p].median) for p in figures}, flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a cpgraph store folder")
    parser.add_argument("--label", default="shipped", help="name of the store in the results")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--peers", nargs="+", default=["cpgraph", "oxigraph", "rdflib-endpoint"])
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)

    build = current_build(args.store)
    if build is None:
        parser.error(f"no store at {args.store}: run 'cpgraph build' first")
    store = GraphStore(build, read_only=True)
    queries = queries_for(store)
    work = Path(tempfile.mkdtemp(prefix="cpgraph-bench-"))
    try:
        store.backup(work / "oxigraph")  # oxigraph serve opens its store read-write
        dump = work / "dataset.nq"
        with dump.open("wb") as out:
            from cpgraph.rdfio import RdfFormat

            store.dump(out, RdfFormat.N_QUADS)
        del store
        ports = {name: free_port() for name in args.peers}
        commands = {
            "cpgraph": (
                [
                    str(PYTHON_BIN / "cpgraph"),
                    "--store",
                    str(args.store),
                    "serve",
                    "--port",
                    str(ports["cpgraph"]),
                ]
                if "cpgraph" in ports
                else [],
                f"http://127.0.0.1:{ports.get('cpgraph')}/sparql",
            ),
            "oxigraph": (
                [
                    str(PYTHON_BIN / "oxigraph"),
                    "serve",
                    "--location",
                    str(work / "oxigraph"),
                    "--bind",
                    f"127.0.0.1:{ports.get('oxigraph')}",
                    "--union-default-graph",
                    "--timeout-s",
                    str(TIMEOUT_S),
                ],
                f"http://127.0.0.1:{ports.get('oxigraph')}/query",
            ),
            "rdflib-endpoint": (
                [
                    str(PYTHON_BIN / "rdflib-endpoint"),
                    "serve",
                    str(dump),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(ports.get("rdflib-endpoint")),
                ],
                f"http://127.0.0.1:{ports.get('rdflib-endpoint')}/sparql",
            ),
        }
        peers = [Peer(name, commands[name][1]) for name in args.peers]
        from contextlib import ExitStack

        with ExitStack() as stack:
            for peer in peers:
                command, url = commands[peer.name]
                ready = url + "?" + urllib.parse.urlencode({"query": "ASK {}"})
                stack.enter_context(
                    server(command, ready_url=ready, env={"CPGRAPH_QUERY_TIMEOUT": str(TIMEOUT_S)})
                )
            ceiling = wrk(
                peers[1 if len(peers) > 1 else 0].query_url + "?query=ASK%7B%7D",
                connections=8,
                seconds=args.seconds,
                headers={"Accept": "application/sparql-results+json"},
            )
            results = measure(
                peers, queries, runs=args.runs, seconds=args.seconds, concurrency=args.concurrency
            )
        args.output.mkdir(parents=True, exist_ok=True)
        write_json(
            args.output / f"endpoint-{args.label}.json",
            {
                "machine": machine(),
                "versions": versions(ENDPOINT_PACKAGES),
                "store": args.label,
                "queries": queries,
                "load_generator_ceiling_rps": ceiling.requests_per_second,
                "results": results,
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
