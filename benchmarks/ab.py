"""Two commits of cpgraph side by side on one store: did a change make the endpoint slower?

    git worktree add /tmp/before 655d1a2
    python benchmarks/ab.py --before /tmp/before/src \
        --store var/bench/run-1000000/stores/cpgraph-serving \
        --queries benchmarks/results/2026-12-07-after-23/scale.json --size 1000000

Each round serves the store with one commit's code, then the other's (the order alternates
by round), waits until the server answers from its copy in memory, and runs wrk for each
query of the endpoint benchmark at concurrency 1 and 8. It prints the medians with their
spread and the median of the per-round ratios (after / before), so a slow moment of the
machine hits both sides. Both commits run in this checkout's virtual environment.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import free_port, server, settle, wrk
from run import serving_state

ROOT = Path(__file__).resolve().parents[1]
KINDS = ("point lookup", "join with filter", "aggregate", "10,000 rows")
ACCEPT = {"Accept": "application/sparql-results+json"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the older commit's src/")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="the newer one's src/")
    parser.add_argument("--store", type=Path, required=True, help="a store both can serve")
    parser.add_argument("--queries", type=Path, required=True, help="a scale.json of run.py")
    parser.add_argument("--size", default="1000000", help="which size's queries to use")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5)
    args = parser.parse_args(argv)
    queries = json.loads(args.queries.read_text())["sizes"][args.size]["endpoint"]["queries"]
    sides = {"before": args.before, "after": args.after}
    rates: dict[str, dict[tuple[str, int], list[float]]] = {
        side: {(kind, c): [] for kind in KINDS for c in (1, 8)} for side in sides
    }
    for number in range(args.rounds):
        order = list(sides) if number % 2 == 0 else list(reversed(sides))
        for side in order:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            command = [sys.executable, "-m", "cpgraph.cli", "--store", str(args.store), "serve"]
            env = {"PYTHONPATH": str(sides[side]), "CPGRAPH_CLIENT_CONCURRENCY": "0"}
            with server([*command, "--port", str(port)], ready_url=url + "/", env=env) as process:
                serving_state(url + "/")  # every process answers from its copy in memory
                for kind in KINDS:
                    for c in (1, 8):
                        settle(url + "/", pid=process.pid)
                        target = f"{url}/sparql?{urlencode({'query': queries[kind]})}"
                        run = wrk(target, connections=c, seconds=args.seconds, headers=ACCEPT)
                        rates[side][(kind, c)].append(run.requests_per_second)
            print(f"round {number + 1}: {side} done", file=sys.stderr, flush=True)
    print("| query | before (req/s) | after (req/s) | after / before |")
    print("| --- | ---: | ---: | ---: |")
    for kind in KINDS:
        for c in (1, 8):
            before, after = rates["before"][(kind, c)], rates["after"][(kind, c)]
            # A round where the older commit answered nothing in the run has no ratio.
            ratios = sorted(a / b for a, b in zip(after, before, strict=True) if b > 0)
            ratio = (
                f"{statistics.median(ratios):.2f} ({ratios[0]:.2f}-{ratios[-1]:.2f})"
                if ratios
                else "-"
            )
            print(
                f"| {kind} @ c={c} | {statistics.median(before):,.1f} "
                f"({min(before):,.1f}-{max(before):,.1f}) | {statistics.median(after):,.1f} "
                f"({min(after):,.1f}-{max(after):,.1f}) | {ratio} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
