"""RESULTS.md from the raw results of ``run.py``: every figure as its median and min-max spread."""

from __future__ import annotations

from typing import Any


def _n(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}" if value < 100 else f"{value:.0f}"


def fig(f: dict[str, Any] | None, digits: int = 1) -> str:
    """``median (min-max, n runs)``."""
    if not f or f.get("median") is None:
        return "-"
    if f["runs"] == 1:
        return f"{_n(f['median'], digits)} (1 run)"
    return f"{_n(f['median'], digits)} ({_n(f['min'], digits)}-{_n(f['max'], digits)})"


def size_name(size: str | int) -> str:
    n = int(size)
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def render(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    m, v, s = report["machine"], report["versions"], report["settings"]
    sizes = " ".join(size_name(k) for k in report["sizes"])
    runs = [*report.get("earlier_runs", []), {"machine": m, "settings": s}]
    counts = sorted({run["settings"]["runs"] for run in runs})
    how_many = (
        f"{counts[0]} runs"
        if len(counts) == 1
        else "the runs its invocation made ("
        + " or ".join(str(c) for c in counts)
        + ", listed below)"
    )
    out = [
        "# cpgraph at scale: benchmark results",
        "",
        f"Measured {m['date']} with `python benchmarks/run.py --sizes {sizes} --runs {s['runs']} "
        f"--seconds {s['seconds']}` (raw numbers: `benchmarks/results/scale.json`). Every figure "
        f"is the **median of {how_many} with the min-max spread** in brackets, unless it "
        "says 1 run. Peers ran side by side in the same session, alternating run by run, and "
        "each ratio is the median of the per-run ratios (cpgraph / peer), so a slow moment of "
        "the machine hits both sides of a ratio.",
        "",
    ]
    load = m.get("load_at_start")
    if load is None or load > 0.5:
        out += [
            "**The machine was not idle** when the run started (1-minute load average "
            f"{load if load is not None else 'not recorded'}): other work shared its 2 cores, so "
            "absolute numbers are noisy; the side-by-side ratios less so.",
            "",
        ]
    else:
        out += [
            f"The machine was idle when the run started (1-minute load average {load}).",
            "",
        ]
    if len(runs) > 1:
        out += [
            "The figures come from these invocations, each later one merged into the "
            "earlier results with `--merge` (it replaces only the parts it measures):",
            "",
        ]
        for number, run in enumerate(runs, 1):
            rs = run["settings"]
            sized = " ".join(size_name(n) for n in rs["sizes"])
            out.append(
                f"{number}. {run['machine']['date']}: `--sizes {sized + ' ' if sized else ''}"
                f"--parts {' '.join(rs['parts'])} --runs {rs['runs']}`"
            )
        out.append("")
    out += [
        "## Machine and versions",
        "",
        f"- CPU: {m['cpu']}, {m['cores']} cores; memory {m['memory_mib']:,} MiB; {m['os']}; "
        f"Python {m['python']}",
        "- " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        "## The synthetic graphs",
        "",
        "`benchmarks/synthetic.py` (seed "
        f"{s['seed']}): enterprises in 31 provinces, 310 prefectures and 24 sectors, each with 1 "
        "to 3 yearly audits (voluntary or compulsory, 2004-2023) of 3 observations each; "
        "standards and indicator systems per sector, audit schemes and yearly provincial "
        "notices issued by actors; one source extract per province register and province-year, "
        "audits from 2021 on as PROV-described contributions. It conforms to the shapes (no "
        "result at all; tested at 20k statements).",
        "",
        "| size | statements | enterprises | audits | observations | named graphs | generated in |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, entry in report["sizes"].items():
        d = entry["data"]
        gen = entry.get("generate_s")
        out.append(
            f"| {size_name(size)} | {d['triples']:,} | {d['enterprises']:,} | "
            f"{d['audits']:,} | {d['observations']:,} | {d['graphs']:,} | "
            f"{_n(gen) + ' s' if gen else '(cached)'} |"
        )
    out += _build(report) + _endpoint(report) + _memory(report) + _saved(report)
    out += _validation(report) + _writes(report) + _growth(report)
    return "\n".join(out) + "\n"


def _build(report: dict[str, Any]) -> list[str]:
    out = [
        "",
        "## Build and load",
        "",
        "From the same N-Quads file into a fresh on-disk store, each a separate process: "
        "`cpgraph build --trusted` (parse, the named-graph rule, bulk load, count per graph, "
        "atomic switch), pyoxigraph's `Store.bulk_load` alone, and `oxigraph load`. "
        "`cpgraph build` with its SHACL validation (the default) is measured once per size, "
        "bounded in time. Time in seconds; peak RSS of the process in MiB; the ratio is "
        "cpgraph's time over the peer's (above 1: cpgraph is slower).",
        "",
    ]
    for size, entry in report["sizes"].items():
        b = entry.get("build")
        if not b:
            continue
        out += [
            f"**{size_name(size)}** ({b['triples']:,} statements)",
            "",
            "| loader | time (s) | statements/s | peak RSS (MiB) | cpgraph time / peer |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for peer, f in b["peers"].items():
            if f["did_not_finish"]:
                out.append(f"| {peer} | {f['did_not_finish']} | | | |")
                continue
            ratio = fig(b["cpgraph_time_ratio"].get(peer), 2)
            out.append(
                f"| {peer} | {fig(f['seconds'])} | {fig(f['triples_per_second'], 0)} | "
                f"{fig(f['peak_rss_mib'], 0)} | {ratio if ratio != '-' else ''} |"
            )
        out.append("")
    return out


def _serving(state: dict[str, Any] | None) -> str:
    """Where cpgraph answered from in a block of the endpoint benchmark, and with which
    allocator (recorded since the 2026-11-25 runs; before, the C library's)."""
    if not state:
        return " cpgraph answered from disk (measured before it could answer from memory)."
    allocator = state.get("allocator", "the C library's")
    if state.get("from") == "memory":
        return (
            " cpgraph answered from its copy in memory, whole in every process "
            f"{_n(state['settled_after_s'])} s after it first answered (from disk): its "
            f"start-up above includes that wait. Its processes allocated with {allocator}."
        )
    return (
        f" cpgraph answered from disk: {state.get('reason', state.get('from'))}. "
        f"Its processes allocated with {allocator}."
    )


def _endpoint(report: dict[str, Any]) -> list[str]:
    out = [
        "## The endpoint",
        "",
        "wrk on loopback, GET with `Accept: application/sparql-results+json`, each run "
        "preceded by a wait until every server answers `ASK {}` quickly again and its processes "
        "are idle (a server may still be working on requests wrk abandoned; the idle check "
        "came with the 2026-11-24 runs). cpgraph runs with its defaults (2 server "
        "processes of 4 query threads each, 30 s limit, and a store of up to 2,000,000 "
        "statements answered from a copy in memory that each process makes in the background "
        "after it starts: it is measured once every process answers from it, and each size "
        "says where it answered from); "
        "`oxigraph serve --union-default-graph` on its database on disk (its in-memory mode "
        "starts empty and holds only what is posted to it until it stops), without "
        "`--timeout-s` (with it, Oxigraph 0.5 starts a thread per query and, under wrk at "
        "concurrency 8 on this machine, failed to create threads, answered 500s and died); "
        "rdflib-endpoint on the same N-Quads; and the **python floor** "
        "(`benchmarks/floor_server.py`), the least a Python server over pyoxigraph does: the "
        "same event loop, HTTP parser and 2 x 4 layout as cpgraph, reading from memory "
        "where cpgraph does, each query evaluated in a "
        "thread (as any server must that keeps a query that may never end off its event loop) "
        "and nothing else: no limits, no negotiation, answers built whole. Its ratio to "
        "Oxigraph (in its notes) is the most a Python server of this design reaches on that "
        "query; cpgraph's ratio to it is what cpgraph's own work costs. "
        "A query is first sent twice per peer, once "
        "untimed to bring the store's pages into memory and once timed (bounded in "
        "time, the row counts compared); a peer whose single answer takes longer than a wrk "
        "run is not loaded with wrk. Throughput in requests/s; latency p50 and p99 in ms; the "
        "ratio is cpgraph's throughput over the peer's (below 1: cpgraph is slower).",
        "",
    ]
    blocks: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
    shipped = report.get("shipped_endpoint")
    if shipped:
        blocks.append(
            (
                f"The shipped graph ({shipped.get('statements', 0):,} statements, with the "
                "ontology and shapes; queries on its own entities)",
                shipped,
                None,
            )
        )
    for size, entry in report["sizes"].items():
        blocks.append((size_name(size), entry.get("endpoint"), entry.get("endpoint_second_run")))
    for title, e, second in blocks:
        if not e:
            continue
        if "skipped" in e:
            out += [f"**{title}**: not measured: {e['skipped']}", ""]
            continue
        mine = max(
            (
                peers["cpgraph"]["rps"]["median"] or 0
                for peers in e["results"].values()
                if "cpgraph" in peers
            ),
            default=0,
        )
        verdict = (
            "so wrk is not the bottleneck"
            if e["load_generator_not_bottleneck"]
            else "so wrk and the server share the 2 cores there and **the fastest oxigraph "
            "figures are a lower bound**; cpgraph's highest is "
            f"{_n(mine, 0)}, far below the ceiling, so wrk does not limit cpgraph's"
        )
        out += [
            f"**{title}**. Load generator ceiling (wrk, `ASK {{}}` on "
            f"oxigraph, c=8): {_n(e['load_generator_ceiling_rps'], 0)} requests/s; the "
            f"highest figure below is {_n(e['highest_measured_rps'], 0)}, {verdict}. "
            "Server start-up: "
            + ", ".join(f"{k} {_n(t)} s" for k, t in e["startup_s"].items())
            + "."
            + _serving(e.get("cpgraph_serving"))
        ]
        for peer, why in e.get("skipped_peers", {}).items():
            out.append(f"{peer}: {why}.")
        out += [
            "",
            "| query @ concurrency | server | rows | requests/s | p50 (ms) | p99 (ms) |"
            " cpgraph / peer | notes |",
            "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for key, peers in e["results"].items():
            for peer, f in peers.items():
                notes = f["did_not_finish"] or (
                    f"{f['failures']} failed responses" if f["failures"] else ""
                )
                if not notes and f["rps"]["median"] == 0:
                    notes = "no answer completed within a run"
                if not notes and peer == "python floor" and f.get("oxigraph_rps_ratio"):
                    notes = f"its own / oxigraph: {fig(f['oxigraph_rps_ratio'], 2)}"
                ratio = fig(f["cpgraph_rps_ratio"], 2) if f["cpgraph_rps_ratio"] else ""
                out.append(
                    f"| {key} | {peer} | {f['rows'] if f['rows'] is not None else '-'} | "
                    f"{fig(f['rps'])} | {fig(f['p50_ms'], 2)} | {fig(f['p99_ms'], 2)} | "
                    f"{ratio} | {notes} |"
                )
        if second:
            out += [
                "",
                second["note"],
                "",
                "| query @ concurrency | rdflib-endpoint rows | rdflib-endpoint requests/s | "
                "oxigraph requests/s (same run) | notes |",
                "| --- | ---: | ---: | ---: | --- |",
            ]
            for key, peers in second["results"].items():
                r, o = peers.get("rdflib-endpoint"), peers.get("oxigraph")
                if not r:
                    continue
                notes = r["did_not_finish"] or (
                    "no answer completed within a run" if r["rps"]["median"] == 0 else ""
                )
                out.append(
                    f"| {key} | {r['rows'] if r['rows'] is not None else '-'} | "
                    f"{fig(r['rps'])} | {fig(o['rps']) if o else '-'} | {notes} |"
                )
        out += ["", "<details><summary>queries</summary>", ""]
        for kind, text in e["queries"].items():
            out += [f"{kind}:", "", "```sparql", text, "```", ""]
        out += ["</details>", ""]
    return out


def _memory(report: dict[str, Any]) -> list[str]:
    out = [
        "## Memory",
        "",
        "Peak resident memory (VmHWM, MiB) of each server over the whole endpoint benchmark "
        "(for cpgraph, the supervisor plus its server processes), and of each build.",
        "",
        "| size | "
        + " | ".join(
            [
                "cpgraph server",
                "oxigraph server",
                "rdflib-endpoint",
                "cpgraph build --trusted",
                "cpgraph build (validating)",
                "oxigraph load",
            ]
        )
        + " |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for size, entry in report["sizes"].items():
        second = entry.get("endpoint_second_run", {}).get("server_peak_rss_mib", {})
        servers = {
            **{k: v for k, v in second.items() if k != "cpgraph"},
            **entry.get("endpoint", {}).get("server_peak_rss_mib", {}),
        }
        builds = entry.get("build", {}).get("peers", {})
        cells = [_n(servers.get(p), 0) for p in ("cpgraph", "oxigraph", "rdflib-endpoint")]
        for p in ("cpgraph build --trusted", "cpgraph build (validating)", "oxigraph load"):
            f = builds.get(p)
            cells.append("-" if not f or f["did_not_finish"] else fig(f["peak_rss_mib"], 0))
        out.append(f"| {size_name(size)} | " + " | ".join(cells) + " |")
    return [*out, ""]


def _saved(report: dict[str, Any]) -> list[str]:
    out = [
        "## Saved queries",
        "",
        "Each `queries/*.rq` through `cpgraph.store.oxigraph.GraphStore.query` with the usual "
        "prefixes and its default parameters bound, every row read (no pagination), in "
        "seconds, with the rows it returned. The synthetic columns query the synthetic graph "
        "together with the shipped data, so that the defaults (shipped entities) are found.",
        "",
    ]
    shipped = report.get("shipped_saved_queries")
    columns = [("shipped graph", shipped)] + [
        (size_name(size), entry.get("saved_queries")) for size, entry in report["sizes"].items()
    ]
    skipped = [
        (
            name,
            c["skipped"]
            if c
            else "not part of the runs that measured this size (saved queries are timed on "
            "the shipped graph and up to 2M statements)",
        )
        for name, c in columns
        if not c or "skipped" in c
    ]
    columns = [(name, c) for name, c in columns if c and "skipped" not in c]
    names = sorted({n for _, c in columns if c for n in c})
    notes = [f"{name}: {reason}." for name, reason in skipped]
    if not names:
        return [*out, f"Not measured: {' '.join(notes) or 'not run.'}", ""]
    out += [
        "| query | " + " | ".join(c for c, _ in columns) + " |",
        "| --- |" + " ---: |" * len(columns),
    ]
    for name in names:
        cells = []
        for _, c in columns:
            f = (c or {}).get(name)
            cells.append(
                "-" if not f else f.get("error", "") or f"{fig(f['seconds'], 3)} [{f['rows']} rows]"
            )
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return [*out, "", *(f"Not timed at {note}" for note in notes), *([""] if notes else [])]


def _validation(report: dict[str, Any]) -> list[str]:
    out = [
        "## Contribution validation",
        "",
        "A 1,000-statement contribution (24 new audits with their observations, about "
        "enterprises already in the store, and its PROV description) validated against the "
        "store. **Full-store pySHACL**: the whole store parsed into rdflib with the "
        "contribution and validated (what `cpgraph build` does), the validation time apart "
        "from the parse. **Scoped pySHACL (sketch)**: a sketch in the benchmark, not "
        "cpgraph's code: the contribution plus the store's statements about every node it "
        "mentions (and their types), validated, results kept for the contribution's own "
        "nodes. **cpgraph fast path**: `cpgraph.validation.contributions.check`, what the "
        "service runs on a contribution: only the nodes the contribution can affect, found "
        "from the shapes, validated on an extract of the store (its context, the shapes' "
        "reach, is built once per server and shown apart). Seconds.",
        "",
        "| size | full-store pySHACL: validate (parse) | scoped sketch: validate (gather) | "
        "cpgraph fast path: check (context) |",
        "| --- | --- | --- | --- |",
    ]
    for size, entry in report["sizes"].items():
        val = entry.get("validation")
        if not val:
            continue
        cells = []
        for name, extra in (
            ("full-store pyshacl", "parse_s"),
            ("scoped pyshacl (sketch)", "gather_s"),
            ("cpgraph fast path", "context_s"),
        ):
            f = val.get(name, {})
            if "did_not_finish" in f or "skipped" in f:
                cells.append(f.get("did_not_finish") or f.get("skipped"))
            elif "validate_s" in f:
                more = f" ({fig(f[extra])})" if extra and extra in f else ""
                rss = f"; {fig(f['peak_rss_mib'], 0)} MiB" if "peak_rss_mib" in f else ""
                cells.append(f"{fig(f['validate_s'])}{more}{rss}; conforms: {f['conforms']}")
            else:
                cells.append("-")
        out.append(f"| {size_name(size)} | " + " | ".join(cells) + " |")
    out.append("")
    for run in report.get("contribution_runs", []):
        spread = run.get("validation_s_spread") or [None, None]
        out += [
            f"At {size_name(run['store_statements'])} statements (`python "
            "benchmarks/contribution.py`, measured "
            f"{run['machine']['date']}, raw numbers in `benchmarks/results/{run['file']}`; the "
            f"store bulk-loaded with pyoxigraph in {_n(run['bulk_loaded_s'], 0)} s), a "
            f"contribution of {run['contribution_statements']} statements of the same kind is "
            f"checked by cpgraph's fast path in **{_n(run['validation_s_median'], 2)} s** "
            f"(median of {len(run.get('validation_s_runs', []))}, "
            f"{_n(spread[0], 2)}-{_n(spread[1], 2)}); "
            "full-store pySHACL is not attempted at this size (at the growth measured above it "
            "needs well over half an hour and more memory than the machine has).",
            "",
        ]
    return out


def _writes(report: dict[str, Any]) -> list[str]:
    stores = [("shipped graph", report.get("shipped_writes"))] + [
        (size_name(size), entry.get("writes")) for size, entry in report["sizes"].items()
    ]
    stores = [(name, w) for name, w in stores if w]
    if not stores:
        return []
    out = [
        "## Writes",
        "",
        "SPARQL updates one after another on a copy of the store, each through "
        "`write_transaction` as a request to `/sparql` makes it: **request** is the whole "
        "(the copy-on-write build, the update, the publication), **update** "
        "`GraphStore.update` alone. **Statement by statement** is cpgraph: an update of "
        "`INSERT DATA` and `DELETE DATA` alone changes the statements it names and the merged "
        "union with them. **Whole merge** is every update the general way, the union merged "
        "anew from every graph (what an update with a `WHERE` clause still costs, and what "
        "every update cost before). Request in seconds, median (min-max); the update's own share "
        "in milliseconds, median; ratio: whole merge / statement by statement, per request.",
        "",
        "| store | update | statement by statement: request s; update | "
        "whole merge: request s; update | ratio |",
        "| --- | --- | --- | --- | ---: |",
    ]
    for name, w in stores:
        ours, whole = w.get("statement by statement", {}), w.get("whole merge", {})
        if "updates" not in ours:
            out.append(f"| {name} | every update | {ours.get('did_not_finish', '-')} | | |")
            continue
        for update, f in ours["updates"].items():
            g = whole.get("updates", {}).get(update)
            if g is None:
                other = whole.get("did_not_finish", "-")
                ratio = "-"
            else:
                other = _write_cell(g)
                ratio = _n(g["request_s"]["median"] / f["request_s"]["median"], 1) + "x"
            out.append(
                f"| {name} ({w['statements']:,} statements) | {update} | "
                f"{_write_cell(f)} | {other} | {ratio} |"
            )
    agree = all(_writes_agree(w) for _, w in stores if "updates" in w["statement by statement"])
    out += [
        "",
        "Each run ends with the store as it began, "
        + (
            "and both ways leave the same dataset and union after every update (checked: "
            "their sizes)."
            if agree
            else "**not** as expected: the sizes after the updates differ (see scale.json)."
        ),
        "",
    ]
    return out


def _write_cell(f: dict[str, Any]) -> str:
    """A request's seconds (median and spread), and the update's own share in ms (median)."""
    return f"{fig(f['request_s'], 2)}; update {_n(f['update_s']['median'] * 1000, 1)} ms"


def _writes_agree(w: dict[str, Any]) -> bool:
    """Whether the write benchmark's runs ended where they began, and the whole merge (if it
    ran) left the same sizes as cpgraph's way after every update."""
    ours, whole = w["statement by statement"], w.get("whole merge", {})
    if ours["statements"][0] != ours["statements"][-1]:
        return False
    if "updates" not in whole:
        return True
    return bool(whole["statements"] == ours["statements"] and whole["union"] == ours["union"])


def _growth(report: dict[str, Any]) -> list[str]:
    table = report.get("growth") or {}
    sizes = [size_name(s) for s in report["sizes"]]
    out = [
        "## How the costs grow",
        "",
        "Each median at each size, and the least-squares slope of log(cost) on log(statements):"
        " 1 means the cost grows in proportion to the store, 0 that it does not grow, "
        "below 0.3 for a query that it barely notices the store's size.",
        "",
        "| cost | " + " | ".join(sizes) + " | slope |",
        "| --- |" + " ---: |" * (len(sizes) + 1),
    ]
    for name, row in sorted(table.items()):
        by_size = {size_name(p[0]): p[2] for p in row["points"]}
        out.append(
            f"| {name} | "
            + " | ".join(_n(by_size.get(s), 2) for s in sizes)
            + f" | {_n(row['slope'], 2)} |"
        )
    return [*out, ""]
