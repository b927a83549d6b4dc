"""Contribution validation at a size the full suite does not reach (10M statements).

Generates the synthetic graph, loads it with pyoxigraph's bulk loader (the fastest way to a
store of that size; cpgraph's build is measured in ``run.py``), and times cpgraph's
in-context validation (:func:`cpgraph.validation.contributions.check`) of a ~1,000-statement
synthetic
contribution, several runs. Full-store pySHACL is not attempted at this size: it needs hours
and more memory than the machine has (``run.py`` measures it at 100k and 1M).

    python benchmarks/contribution.py --triples 10000000 --runs 5
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pyoxigraph as ox
from harness import ROOT, machine, versions, write_json
from synthetic import contribution_nquads, generate

from cpgraph.store.oxigraph import GraphStore
from cpgraph.validation import contributions as contrib


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cpgraph-contribution-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        stats = generate(work / "synthetic.nq", triples=args.triples, seed=args.seed)
        generated = time.perf_counter() - started
        started = time.perf_counter()
        ox.Store(str(work / "db")).bulk_load(
            path=str(work / "synthetic.nq"), format=ox.RdfFormat.N_QUADS
        )
        loaded = time.perf_counter() - started
        store = GraphStore(work / "db", read_only=True)
        context = contrib.ValidationContext.from_files(ROOT)
        text = contribution_nquads(enterprises=stats.enterprises, seed=args.seed)
        triples = [(q.subject, q.predicate, q.object) for q in ox.parse(text, ox.RdfFormat.N_QUADS)]
        times = []
        outcome = None
        for _ in range(args.runs):
            started = time.perf_counter()
            outcome = contrib.check(triples, store=store, context=context)  # type: ignore[arg-type]
            times.append(time.perf_counter() - started)
        assert outcome is not None
        result = {
            "machine": machine(),
            "versions": versions(["cpgraph", "pyoxigraph", "pyshacl", "rdflib"]),
            "store_statements": len(store),
            "generated_s": generated,
            "bulk_loaded_s": loaded,
            "contribution_statements": len(triples),
            "validation_s_median": statistics.median(times),
            "validation_s_spread": [min(times), max(times)],
            "validation_s_runs": times,
            "conforms": outcome.conforms,
            "results": len(outcome.results),
        }
    args.output.mkdir(parents=True, exist_ok=True)
    label = f"{args.triples // 1_000_000}M" if args.triples >= 1_000_000 else f"{args.triples}"
    write_json(args.output / f"contribution-{label}.json", result)
    print(
        f"{result['store_statements']:,} statements: {len(triples)}-statement contribution "
        f"validated in {result['validation_s_median']:.3f} s (median of {args.runs})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
