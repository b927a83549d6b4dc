"""cpgraph in front of another store: cpgraph over Virtuoso beside Virtuoso's own endpoint,
embedded cpgraph and ``oxigraph serve``, on the same synthetic data, in one run.

    python benchmarks/remote.py --triples 1000000 --rounds 3 --seconds 5

Loads: ``cpgraph build --trusted`` into the embedded store, ``oxigraph load``, and ``cpgraph
build --trusted --store URL`` into a fresh Virtuoso (the graphs, the union cpgraph keeps and its
catalogue), each timed with the peak memory of the loading process (and of Virtuoso). Then each
round serves every peer in turn (the order rotates by round) and runs wrk for the endpoint
benchmark's four queries at concurrency 1 and 8. Virtuoso's own endpoint is asked with
``default-graph-uri`` set to the union cpgraph keeps, so that every peer gives the same answers
(checked once before timing). Results: ``benchmarks/results/<date>-remote/remote.json``, with
the machine and versions, medians, spreads and the per-round ratio of cpgraph over Virtuoso to
Virtuoso's own endpoint. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.servers: Virtuoso's set-up

from harness import (
    PYTHON_BIN,
    free_port,
    machine,
    peak_rss_mib,
    server,
    settle,
    versions,
    write_json,
    wrk,
)
from run import queries_for, run_bounded, serving_state, source_tree
from synthetic import Stats, generate
from tests.servers import VIRTUOSO, VIRTUOSO_HOSTING, VIRTUOSO_INI, virtuoso_available

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

KINDS = ("point lookup", "join with filter", "aggregate", "10,000 rows")
ACCEPT = {"Accept": "application/sparql-results+json"}
UNION = "urn:x-cpgraph:union"
HTTP_THREADS = 64  # Virtuoso's HTTP threads and connections


def _dataset(triples: int, seed: int) -> tuple[Path, Stats]:
    data = ROOT / "var" / "bench" / f"synthetic-{triples}-seed{seed}.nq"
    meta = data.with_suffix(".json")
    if not data.exists() or not meta.exists():
        stats = generate(data, triples=triples, seed=seed)
        meta.write_text(json.dumps(stats.__dict__))
    return data, Stats(**json.loads(meta.read_text()))


@contextlib.contextmanager
def _virtuoso(folder: Path, buffers: int) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A fresh Virtuoso on 127.0.0.1 with ``buffers`` 8 KiB pages of cache; yields its URL."""
    sql_port, http_port = free_port(), free_port()
    (folder / "vsp").mkdir(parents=True, exist_ok=True)
    ini = VIRTUOSO_INI.format(
        d=folder, sql_port=sql_port, http_port=http_port, hosting=VIRTUOSO_HOSTING
    )
    ini = ini.replace("NumberOfBuffers          = 10000", f"NumberOfBuffers          = {buffers}")
    ini = ini.replace(
        "MaxDirtyBuffers          = 6000", f"MaxDirtyBuffers          = {buffers * 3 // 4}"
    )
    # As an operator would set it for a front end: as many HTTP threads and kept-alive
    # connections as cpgraph's processes hold open (the tests' 10 make the 11th wait).
    for setting in ("MaxClientConnections", "ServerThreads", "MaxKeepAlives"):
        ini = re.sub(rf"^({setting}\s*=\s*)10$", rf"\g<1>{HTTP_THREADS}", ini, flags=re.M)
    (folder / "virtuoso.ini").write_text(ini)
    url = f"http://127.0.0.1:{http_port}"
    command = [VIRTUOSO, "+foreground", "+configfile", str(folder / "virtuoso.ini")]
    with server(command, ready_url=f"{url}/sparql?query=ASK%7B%7D", startup=120) as process:
        yield url, process


def _get(url: str, query: str, extra: dict[str, str] | None = None) -> str:
    return url + "?" + urllib.parse.urlencode({"query": query, **(extra or {})})


def _answer(url: str) -> Any:
    request = urllib.request.Request(url, headers=ACCEPT)
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.load(response)
    if "boolean" in body:
        return body["boolean"]
    rows = [
        tuple(sorted((k, v["value"]) for k, v in row.items()))
        for row in body["results"]["bindings"]
    ]
    return sorted(rows)


def _summary(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "median": None, "min": None, "max": None}
    return {
        "n": len(values),
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--buffers", type=int, default=340_000, help="Virtuoso's page cache")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if not virtuoso_available():
        print("Debian's virtuoso-opensource is not installed (make test-deps)", file=sys.stderr)
        return 2
    data, stats = _dataset(args.triples, args.seed)
    queries = queries_for(stats)
    out = args.out or HERE / "results" / f"{dt.date.today().isoformat()}-remote"
    out.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "machine": machine(),
        "versions": versions(["cpgraph", "pyoxigraph", "oxigraph", "httpx", "uvicorn"]),
        "virtuoso": subprocess.run(
            [VIRTUOSO, "-?"], capture_output=True, text=True, check=False
        ).stderr.splitlines()[:2],
        "triples": stats.triples,
        "queries": queries,
        "loads": {},
    }
    with tempfile.TemporaryDirectory(prefix="cpgraph-remote-") as scratch:
        work = Path(scratch)
        tree = source_tree(work, data)
        cpgraph = str(PYTHON_BIN / "cpgraph")
        embedded = work / "stores" / "cpgraph"
        seconds, peak = run_bounded(
            [cpgraph, "--store", str(embedded), "build", "--trusted"],
            timeout=3600,
            env={"CPGRAPH_SOURCE_DIR": str(tree)},
            log=work / "build.log",
        )
        report["loads"]["cpgraph build (embedded)"] = {"seconds": seconds, "peak_rss_mib": peak}
        oxigraph_store = work / "stores" / "oxigraph"
        seconds, peak = run_bounded(
            [
                str(PYTHON_BIN / "oxigraph"),
                "load",
                "--location",
                str(oxigraph_store),
                "--file",
                str(data),
            ],
            timeout=3600,
            log=work / "oxigraph-load.log",
        )
        report["loads"]["oxigraph load"] = {"seconds": seconds, "peak_rss_mib": peak}
        print(json.dumps(report["loads"]), flush=True)
        with _virtuoso(work / "virtuoso", args.buffers) as (virtuoso, v_process):
            remote = {
                "CPGRAPH_SOURCE_DIR": str(tree),
                "CPGRAPH_STORE_URL": f"{virtuoso}/sparql",
                "CPGRAPH_STORE_UPDATE_URL": f"{virtuoso}/sparql-auth",
                "CPGRAPH_STORE_USER": "dba",
                "CPGRAPH_STORE_PASSWORD": "dba",
                "CPGRAPH_STORE_AUTH": "digest",
                "CPGRAPH_QUERY_TIMEOUT": "600",
            }
            seconds, peak = run_bounded(
                [cpgraph, "build", "--trusted"],
                timeout=7200,
                env=remote,
                log=work / "remote-build.log",
            )
            report["loads"]["cpgraph build --store (Virtuoso)"] = {
                "seconds": seconds,
                "peak_rss_mib": peak,
                "virtuoso_rss_mib": peak_rss_mib(v_process.pid),
            }
            print(json.dumps(report["loads"]), flush=True)
            report["rates"] = _serve_and_measure(
                args, work, embedded, oxigraph_store, virtuoso, remote, queries
            )
            report["virtuoso_rss_mib"] = peak_rss_mib(v_process.pid)
    write_json(out / "remote.json", report)
    print(json.dumps(report["rates"]["medians"], indent=1))
    return 0


def _serve_and_measure(
    args: argparse.Namespace,
    work: Path,
    embedded: Path,
    oxigraph_store: Path,
    virtuoso: str,
    remote: dict[str, str],
    queries: dict[str, str],
) -> dict[str, Any]:
    cpgraph = str(PYTHON_BIN / "cpgraph")
    ports = {name: free_port() for name in ("embedded", "oxigraph", "over virtuoso")}
    base_env = {"CPGRAPH_CLIENT_CONCURRENCY": "0", "CPGRAPH_QUERY_TIMEOUT": "60"}
    peers: dict[str, tuple[list[str] | None, dict[str, str], str, dict[str, str]]] = {
        "cpgraph embedded": (
            [cpgraph, "--store", str(embedded), "serve", "--port", str(ports["embedded"])],
            base_env,
            f"http://127.0.0.1:{ports['embedded']}/sparql",
            {},
        ),
        "oxigraph serve": (
            [
                str(PYTHON_BIN / "oxigraph"),
                "serve",
                "--location",
                str(oxigraph_store),
                "--bind",
                f"127.0.0.1:{ports['oxigraph']}",
                "--union-default-graph",
            ],
            {},
            f"http://127.0.0.1:{ports['oxigraph']}/query",
            {},
        ),
        "cpgraph over Virtuoso": (
            [cpgraph, "serve", "--port", str(ports["over virtuoso"])],
            {**remote, **base_env},
            f"http://127.0.0.1:{ports['over virtuoso']}/sparql",
            {},
        ),
        "Virtuoso's endpoint": (None, {}, f"{virtuoso}/sparql", {"default-graph-uri": UNION}),
    }
    rates: dict[str, dict[str, list[float]]] = {p: {} for p in peers}
    answers: dict[str, dict[str, Any]] = {p: {} for p in peers}
    for number in range(args.rounds):
        order = list(peers)
        order = order[number % len(order) :] + order[: number % len(order)]
        for name in order:
            command, env, url, extra = peers[name]
            with contextlib.ExitStack() as stack:
                pid = None
                if command is not None:
                    home = url.rsplit("/", 1)[0] + "/"
                    process = stack.enter_context(
                        server(command, ready_url=_get(url, "ASK {}"), env=env, startup=600)
                    )
                    pid = process.pid
                    if name.startswith("cpgraph"):
                        serving_state(home)
                for kind in KINDS:
                    target = _get(url, queries[kind], extra)
                    if number == 0:
                        answers[name][kind] = _answer(target)
                    for c in (1, 8):
                        settle(target if command is None else url.rsplit("/", 1)[0] + "/", pid=pid)
                        run = wrk(target, connections=c, seconds=args.seconds, headers=ACCEPT)
                        rate = (
                            run.requests_per_second if run.non_2xx == 0 and run.errors == 0 else 0.0
                        )
                        rates[name].setdefault(f"{kind} c={c}", []).append(rate)
                        print(f"round {number + 1} {name} {kind} c={c}: {rate:.1f}/s", flush=True)
    same = {
        kind: len({json.dumps(answers[p][kind], sort_keys=True) for p in peers}) == 1
        for kind in KINDS
    }
    medians = {p: {k: _summary(v) for k, v in r.items()} for p, r in rates.items()}
    ratios = {
        key: _summary(
            [
                a / b
                for a, b in zip(
                    rates["cpgraph over Virtuoso"][key],
                    rates["Virtuoso's endpoint"][key],
                    strict=True,
                )
                if b
            ]
        )
        for key in rates["cpgraph over Virtuoso"]
    }
    return {
        "same_answers": same,
        "medians": medians,
        "over_virtuoso_to_virtuoso": ratios,
        "raw": rates,
    }


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
