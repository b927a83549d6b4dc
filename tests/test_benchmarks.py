"""The benchmarks at scale: the synthetic graph generator, and a smoke run of the whole suite.

The full suite (``python benchmarks/run.py --sizes 100k 1M 10M``) is a command a person starts;
here it runs at a small size, once, for a second per load, so that it keeps working. Parts whose
external tools are missing (wrk, the ``oxigraph`` command) are skipped with the reason.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Graph

from cpgraph.config import Settings as CpgraphSettings
from cpgraph.errors import ValidationFailedError
from cpgraph.progress import SILENT
from cpgraph.rdf.io import parse_file
from cpgraph.server.allocator import mimalloc_library
from cpgraph.store.build import build_store
from cpgraph.validation.shacl import load_ontology, load_shapes, validate_graph

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import charts  # noqa: E402
import run as suite  # noqa: E402
import synthetic  # noqa: E402
from harness import free_port, server  # noqa: E402
from report import render  # noqa: E402

CP = "https://w3id.org/cpgraph/ontology#"


@functools.cache
def ontology() -> Graph:
    return load_ontology(ROOT / "ontology")


@functools.cache
def shapes() -> Graph:
    return load_shapes(ROOT / "shapes")


@pytest.fixture(scope="module")
def graph_20k(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, synthetic.Stats]:
    path = tmp_path_factory.mktemp("synthetic") / "s20k.nq"
    return path, synthetic.generate(path, triples=20_000, seed=7)


# ---------------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    first = synthetic.generate(tmp_path / "a.nq", triples=6_000, seed=3)
    second = synthetic.generate(tmp_path / "b.nq", triples=6_000, seed=3)
    assert (tmp_path / "a.nq").read_bytes() == (tmp_path / "b.nq").read_bytes()
    assert first == second


def test_gzipped_output_is_reproducible_and_holds_the_same_quads(tmp_path: Path) -> None:
    synthetic.generate(tmp_path / "a.nq.gz", triples=6_000, seed=3)
    synthetic.generate(tmp_path / "b.nq.gz", triples=6_000, seed=3)
    synthetic.generate(tmp_path / "c.nq", triples=6_000, seed=3)
    assert (tmp_path / "a.nq.gz").read_bytes() == (tmp_path / "b.nq.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.nq.gz").read_bytes()) == (tmp_path / "c.nq").read_bytes()


def test_another_seed_gives_another_graph(tmp_path: Path) -> None:
    synthetic.generate(tmp_path / "a.nq", triples=6_000, seed=3)
    synthetic.generate(tmp_path / "b.nq", triples=6_000, seed=4)
    assert (tmp_path / "a.nq").read_bytes() != (tmp_path / "b.nq").read_bytes()


def test_one_parameter_sets_the_size_and_enterprises_grow_with_it(tmp_path: Path) -> None:
    small = synthetic.generate(tmp_path / "a.nq", triples=10_000, seed=1)
    large = synthetic.generate(tmp_path / "b.nq", triples=40_000, seed=1)
    for stats in (small, large):
        assert abs(stats.triples - stats.target) / stats.target < 0.05
    assert large.enterprises > 3 * small.enterprises
    assert large.audits > 3 * small.audits
    assert (tmp_path / "b.nq").read_bytes().count(b"\n") == large.triples


def test_every_generated_statement_is_in_a_named_graph(graph_20k) -> None:
    path, _ = graph_20k
    quads = list(ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    assert quads
    assert not [q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)]


def test_the_synthetic_graph_conforms_to_the_shapes_without_any_result(graph_20k) -> None:
    path, _ = graph_20k
    data = parse_file(path) + ontology()
    outcome = validate_graph(data, shapes=shapes(), ontology=ontology())
    assert outcome.conforms, outcome.describe(limit=20)
    assert outcome.results == (), outcome.describe(limit=20)


def test_the_graph_has_audits_contributions_and_extracts(graph_20k) -> None:
    path, stats = graph_20k
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)

    def count(cls: str) -> int:
        query = f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{CP}{cls}> }}"
        return int(next(store.query(query, use_default_graph_as_union=True))["n"].value)

    assert count("Audit") == stats.audits
    assert count("Observation") == stats.observations
    assert count("Enterprise") == stats.enterprises
    assert count("Contribution") == stats.contributions > 0
    assert count("SourceExtract") > 31


def test_a_contribution_hash_is_the_digest_of_its_statements(graph_20k) -> None:
    import hashlib

    path, _ = graph_20k
    by_graph: dict[str, list[str]] = {}
    for line in path.read_text().splitlines(keepends=True):
        by_graph.setdefault(line.rsplit(" ", 2)[-2], []).append(line)
    name, lines = next((g, ls) for g, ls in sorted(by_graph.items()) if "/contribution/" in g)
    content = [
        ln
        for ln in lines
        if not ln.startswith(name)
        and "cleaner production centre" not in ln
        and "CleanerProductionCentre" not in ln
    ]
    digest = hashlib.sha256("".join(content).encode()).hexdigest()
    assert any(f'"sha256:{digest}"' in ln for ln in lines)


def test_a_generated_contribution_has_about_1000_statements_and_conforms(graph_20k) -> None:
    path, stats = graph_20k
    text = synthetic.contribution_nquads(enterprises=stats.enterprises, seed=7)
    assert 950 <= text.count("\n") <= 1000
    data = parse_file(path) + ontology()
    for triple in ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS):
        data.parse(data=f"{triple.subject} {triple.predicate} {triple.object} .", format="nt")
    outcome = validate_graph(data, shapes=shapes(), ontology=ontology())
    assert outcome.conforms, outcome.describe(limit=20)


def test_sizes_read_with_suffixes() -> None:
    assert list(synthetic.iter_sizes("100k 1M 2500000 1.5m")) == [
        100_000,
        1_000_000,
        2_500_000,
        1_500_000,
    ]


# ---------------------------------------------------------------------------------------------
# cpgraph build --trusted
# ---------------------------------------------------------------------------------------------


def test_a_trusted_build_loads_data_the_default_build_refuses(tmp_path: Path) -> None:
    tree = tmp_path / "source"
    (tree / "data").mkdir(parents=True)
    (tree / "ontology").symlink_to(ROOT / "ontology")
    (tree / "shapes").symlink_to(ROOT / "shapes")
    (tree / "data" / "bad.trig").write_text(
        "<https://w3id.org/cpgraph/graph/x/y> {\n"
        f"  <https://w3id.org/cpgraph/id/org/nameless> a <{CP}Enterprise> .\n"
        "}\n"
    )
    settings = CpgraphSettings(source_dir=tree, store_dir=tmp_path / "store")
    with pytest.raises(ValidationFailedError):
        build_store(settings, progress=SILENT)
    assert not (tmp_path / "store" / "current").exists()
    report = build_store(settings, progress=SILENT, validate=False)
    assert report.validation is None
    assert report.triples > 1


# ---------------------------------------------------------------------------------------------
# The suite
# ---------------------------------------------------------------------------------------------


def test_the_slope_is_1_for_linear_and_0_for_constant_costs() -> None:
    assert suite.slope([(1e5, 2.0), (1e6, 20.0), (1e7, 200.0)]) == pytest.approx(1.0)
    assert suite.slope([(1e5, 3.0), (1e6, 3.0)]) == pytest.approx(0.0)
    assert suite.slope([(1e5, 3.0)]) is None


def test_a_run_past_its_time_limit_is_stopped_and_reported() -> None:
    with pytest.raises(suite.DidNotFinishError, match="did not finish within 1 s"):
        suite.run_bounded([sys.executable, "-c", "import time; time.sleep(30)"], timeout=1)


def test_the_suite_runs_at_a_small_size_and_reports_every_part(tmp_path: Path) -> None:
    missing = [tool for tool in ("wrk",) if shutil.which(tool) is None]
    if not (Path(sys.executable).parent / "oxigraph").exists():
        missing.append("the oxigraph command (pip install oxigraph)")
    parts = ["build", "saved", "validation", "writes"]
    parts += [] if missing else ["endpoint", "shipped-endpoint"]
    settings = suite.Settings(
        sizes=[8_000],
        runs=1,
        seconds=1,
        concurrency=[8],
        validate_timeout=120,
        probe_timeout=20,
        work=tmp_path / "work",
        output=tmp_path / "out",
        parts=tuple(parts),
        saved_limit=3,
    )
    report = suite.run_suite(settings)
    raw = json.loads((tmp_path / "out" / "results" / "scale.json").read_text())
    entry = raw["sizes"]["8000"]
    assert entry["data"]["triples"] > 7_000
    peers = entry["build"]["peers"]
    for loader in ("cpgraph build --trusted", "pyoxigraph bulk_load", "cpgraph build (validating)"):
        assert peers[loader]["seconds"]["median"] > 0, loader
        assert peers[loader]["peak_rss_mib"]["median"] > 0, loader
    assert entry["build"]["cpgraph_time_ratio"]["pyoxigraph bulk_load"]["median"] > 0
    validation = entry["validation"]
    assert validation["full-store pyshacl"]["conforms"] is True
    assert validation["scoped pyshacl (sketch)"]["conforms"] is True
    fast = validation["cpgraph fast path"]
    assert fast.get("conforms") is True or "skipped" in fast, fast
    if "endpoint" in parts:
        endpoint = entry["endpoint"]
        assert set(endpoint["results"]) == {
            f"{k} @ c={c}"
            for k in suite.queries_for(synthetic.Stats(**entry["data"]))
            for c in (8,)
        }
        for key, figures in endpoint["results"].items():
            assert figures["cpgraph"]["rps"]["median"] > 0
            if not key.startswith("10,000 rows"):  # cpgraph's store also holds its ontology
                rows = {f["rows"] for f in figures.values() if f["rows"] is not None}
                assert len(rows) == 1, figures  # the peers agree
        assert endpoint["server_peak_rss_mib"]["cpgraph"] > 0
        assert endpoint["cpgraph_serving"]["from"] == "memory"  # measured once it was
        assert endpoint["cpgraph_serving"]["settled_after_s"] is not None
        expected = "mimalloc" if mimalloc_library() is not None else "system"
        assert endpoint["cpgraph_serving"]["allocator"] == expected
        shipped = raw["shipped_endpoint"]
        assert shipped["statements"] > 5_000
        assert set(shipped["results"]) == {f"{k} @ c=8" for k in suite.shipped_queries()}
        for key, figures in shipped["results"].items():
            assert figures["cpgraph"]["rps"]["median"] > 0, key
            rows = {f["rows"] for f in figures.values() if f["rows"] is not None}
            assert len(rows) == 1, figures  # the same quads, the same answers
            assert rows.pop() > 0, figures
        assert shipped["results"]["10,000 rows @ c=8"]["cpgraph"]["rows"] == shipped["statements"]
    for writes in (entry["writes"], raw["shipped_writes"]):
        ours, whole = writes["statement by statement"], writes["whole merge"]
        assert set(ours["updates"]) == set(suite.write_updates()) == set(whole["updates"])
        assert all(f["request_s"]["median"] > 0 for f in ours["updates"].values())
        # Both ways leave the same sizes after every update, and the store as it began.
        assert ours["statements"] == whole["statements"]
        assert ours["union"] == whole["union"]
        assert ours["statements"][0] == ours["statements"][-1] == writes["statements"]
        assert ours["statements"][1] == ours["statements"][0] + 1  # one statement in
    text = (tmp_path / "out" / "RESULTS.md").read_text()
    for heading in (
        "## Machine and versions",
        "## Build and load",
        "## Memory",
        "## Contribution validation",
        "## How the costs grow",
        "## Saved queries",
        "## Writes",
    ):
        assert heading in text
    assert "median" in text
    if "shipped-endpoint" in parts:
        assert "**The shipped graph (" in text
    assert "1-minute load average" in text  # how idle the machine was, whichever it was
    assert text.startswith(render(report))
    if importlib.util.find_spec("matplotlib") is not None:  # the charts, drawn from the run
        assert "## Costs against size" in text
        assert (tmp_path / "out" / "results" / "charts" / "build-time.svg").exists()
    if missing:
        pytest.skip(f"endpoint part not run: {', '.join(missing)} missing")


def test_a_process_tree_s_cpu_time_counts_its_busy_descendants() -> None:
    from harness import tree_cpu_seconds

    # A parent that only waits, and a child of it that burns half a second of CPU.
    burn = "import time\nend = time.process_time() + 0.5\nwhile time.process_time() < end: pass"
    wait = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {burn!r} + '\\ntime.sleep(30)'])\n"
        "time.sleep(30)"
    )
    parent = subprocess.Popen([sys.executable, "-c", wait], start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while tree_cpu_seconds(parent.pid) < 0.45:
            assert time.monotonic() < deadline, "the child's CPU time was not counted"
            time.sleep(0.1)
    finally:
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()


@pytest.mark.parametrize("memory", [False, True], ids=["from disk", "from memory"])
def test_the_python_floor_answers_select_and_ask_as_pyoxigraph_does(
    tmp_path: Path, memory: bool
) -> None:
    """The floor server is a measuring stick: its answers must be the real ones."""
    ex = "http://example.org/"
    store_dir = tmp_path / "store"
    store = ox.Store(str(store_dir))
    store.extend(
        ox.Quad(
            ox.NamedNode(f"{ex}s{i}"),
            ox.NamedNode(f"{ex}p"),
            ox.Literal(str(i)),
            ox.NamedNode(f"{ex}g"),
        )
        for i in range(5)
    )
    store.flush()
    select = f"SELECT ?s ?o WHERE {{ ?s <{ex}p> ?o }} ORDER BY ?o"
    expected = json.loads(
        store.query(select, use_default_graph_as_union=True).serialize(
            format=ox.QueryResultsFormat.JSON
        )
    )
    del store  # the floor opens it read-only
    port = free_port()
    url = f"http://127.0.0.1:{port}/sparql"
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "floor_server.py"),
        "--store",
        str(store_dir),
        "--port",
        str(port),
        "--processes",
        "1",
        *(["--memory"] if memory else []),
    ]

    with (
        server(command, ready_url=f"{url}?query=ASK%20%7B%7D", startup=60),
        httpx.Client() as client,
    ):
        answer = client.get(url, params={"query": select})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/sparql-results+json"
        assert answer.json() == expected
        assert client.get(url, params={"query": f"ASK {{ <{ex}s1> ?p ?o }}"}).json()["boolean"]
        assert not client.get(url, params={"query": f"ASK {{ <{ex}s9> ?p ?o }}"}).json()["boolean"]
        wrong = client.get(url, params={"query": "SELEC"})
        assert wrong.status_code == 400
        assert "1:" in wrong.text  # the parser's position
        assert (
            client.get(url, params={"query": "ASK {}"}, headers={"Accept": "text/csv"}).status_code
            == 406
        )


# ---------------------------------------------------------------------------------------------
# Charts of the costs against size (benchmarks/charts.py)
# ---------------------------------------------------------------------------------------------


def _figure(*values: float) -> dict:
    return suite.summary(list(values))


def _served(rps: float, *, did_not_finish: str | None = None) -> dict:
    return {
        "rows": 5,
        "rps": _figure(rps * 0.9, rps, rps * 1.1),
        "p50_ms": _figure(1.0),
        "p99_ms": _figure(2.0),
        "failures": 0,
        "did_not_finish": did_not_finish,
        "cpgraph_rps_ratio": None,
    }


def _built(seconds: float, mib: float, *, runs: int = 3) -> dict:
    times = [seconds * 0.95, seconds, seconds * 1.05][:runs] if runs > 1 else [seconds]
    return {
        "seconds": _figure(*times),
        "triples_per_second": _figure(1000.0),
        "peak_rss_mib": _figure(mib),
        "did_not_finish": None,
    }


@pytest.fixture
def scale() -> dict:
    """A scale.json of two sizes, shaped as run.py writes it: cpgraph's build time grows in
    proportion (slope 1), its point lookups not at all (slope 0); at the larger size the
    validating build and full-store pySHACL did not run, Virtuoso was not measured and
    rdflib-endpoint's aggregate completed no answer."""
    small, large = 1_000, 10_000
    stored = {"statements": 10, "union": 10}
    return {
        "machine": {"date": "2026-12-08 03:00 UTC"},
        "sizes": {
            str(small): {
                "data": {"triples": small},
                "build": {
                    "triples": small,
                    "peers": {
                        "cpgraph build --trusted": _built(1.0, 100.0),
                        "oxigraph load": _built(0.5, 80.0),
                        "cpgraph build (validating)": _built(20.0, 500.0, runs=1),
                    },
                },
                "validation": {
                    "contribution_triples": 974,
                    "full-store pyshacl": {"validate_s": _figure(5.0, 6.0, 7.0), "conforms": True},
                    "cpgraph fast path": {"validate_s": _figure(0.3, 0.3, 0.4), "conforms": True},
                },
                "endpoint": {
                    "startup_s": {"cpgraph": 2.0, "oxigraph": 0.2, "virtuoso": 3.0},
                    "server_peak_rss_mib": {"cpgraph": 300.0, "oxigraph": 40.0, "virtuoso": 700.0},
                    "results": {
                        "point lookup @ c=1": {
                            "cpgraph": _served(5000.0),
                            "virtuoso": _served(900),
                        },
                        "point lookup @ c=8": {
                            "cpgraph": _served(9000.0),
                            "oxigraph": _served(10e3),
                        },
                        "aggregate @ c=1": {
                            "cpgraph": _served(100.0),
                            "rdflib-endpoint": _served(6.0),
                        },
                    },
                },
                "writes": stored,
            },
            str(large): {
                "data": {"triples": large},
                "build": {
                    "triples": large,
                    "peers": {
                        "cpgraph build --trusted": _built(10.0, 400.0),
                        "oxigraph load": _built(4.0, 300.0),
                        "cpgraph build (validating)": {
                            "seconds": None,
                            "triples_per_second": None,
                            "peak_rss_mib": None,
                            "did_not_finish": "not attempted above 2,000 statements",
                        },
                    },
                },
                "validation": {
                    "full-store pyshacl": {"skipped": "not attempted at this size"},
                    "cpgraph fast path": {"validate_s": _figure(0.4, 0.4, 0.5), "conforms": True},
                },
                "endpoint": {
                    "startup_s": {"cpgraph": 3.0, "oxigraph": 0.3},
                    "server_peak_rss_mib": {"cpgraph": 350.0, "oxigraph": 90.0},
                    "results": {
                        "point lookup @ c=1": {"cpgraph": _served(5000.0)},
                        "point lookup @ c=8": {
                            "cpgraph": _served(9000.0),
                            "oxigraph": _served(8e3),
                        },
                        "aggregate @ c=1": {
                            "cpgraph": _served(10.0),
                            "rdflib-endpoint": _served(0.0),
                        },
                    },
                },
            },
        },
    }


def _matplotlib() -> None:
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (pip install -e '.[bench]')")


CHARTS = {
    "build-time": {"cpgraph build --trusted", "oxigraph load", "cpgraph build (validating)"},
    "build-memory": {"cpgraph build --trusted", "oxigraph load", "cpgraph build (validating)"},
    "validation-time": {
        "cpgraph build (validating), whole graph",
        "full-store pyshacl",
        "cpgraph fast path",
    },
    "server-memory": {"cpgraph", "oxigraph", "virtuoso"},
    "startup": {"cpgraph", "oxigraph", "virtuoso"},
    "throughput-point-lookup": {"cpgraph", "oxigraph", "virtuoso"},
    "throughput-aggregate": {"cpgraph", "rdflib-endpoint"},
}


def test_each_chart_is_a_well_formed_svg_naming_its_peers_and_which_way_is_better(
    scale, tmp_path: Path
) -> None:
    _matplotlib()
    drawn = charts.redraw(scale, tmp_path)
    assert {chart.name for chart in drawn} == set(CHARTS)
    assert {p.stem for p in tmp_path.glob("*.svg")} == set(CHARTS)
    for chart in drawn:
        root = ElementTree.parse(tmp_path / f"{chart.name}.svg").getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        texts = {
            "".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")
        }
        assert CHARTS[chart.name] <= texts, chart.name  # the legend names every peer
        better = "higher" if chart.name.startswith("throughput") else "lower"
        assert f"{chart.title} ({better} is better)" in texts
        assert "statements in the store" in texts
        assert f"{chart.quantity} ({chart.unit})" in texts
        assert {"1k", "10k"} <= texts  # the sizes on the x axis


def test_the_same_numbers_draw_the_same_bytes(scale, tmp_path: Path) -> None:
    _matplotlib()
    charts.redraw(scale, tmp_path / "a")
    charts.redraw(json.loads(json.dumps(scale)), tmp_path / "b")
    first = {p.name: p.read_bytes() for p in (tmp_path / "a").glob("*.svg")}
    assert first == {p.name: p.read_bytes() for p in (tmp_path / "b").glob("*.svg")}
    assert len(first) == len(CHARTS)


def test_a_figure_missing_at_a_size_is_left_out_of_its_line_not_drawn_as_zero(scale) -> None:
    by_name = {chart.name: chart for chart in charts.charts(scale)}
    lines = by_name["build-time"].panels[0].series
    assert [p.statements for p in lines["cpgraph build (validating)"]] == [1_000]
    assert [p.statements for p in lines["cpgraph build --trusted"]] == [1_000, 10_000]
    assert [p.statements for p in by_name["startup"].panels[0].series["virtuoso"]] == [1_000]
    validation = by_name["validation-time"].panels[0].series
    assert [p.statements for p in validation["full-store pyshacl"]] == [1_000]
    aggregate = by_name["throughput-aggregate"].panels[0].series
    assert [p.statements for p in aggregate["rdflib-endpoint"]] == [1_000]  # 0 requests/s
    assert all(p.median > 0 for chart in by_name.values() for p in chart.points)
    # The spread is drawn where there were several runs, not for a single run.
    assert lines["cpgraph build --trusted"][0].low == pytest.approx(0.95)
    assert lines["cpgraph build (validating)"][0].low is None


def test_a_panel_per_concurrency_and_the_slopes_in_words_come_from_the_numbers(scale) -> None:
    by_name = {chart.name: chart for chart in charts.charts(scale)}
    lookup = by_name["throughput-point-lookup"]
    assert [panel.title for panel in lookup.panels] == ["concurrency 1", "concurrency 8"]
    build = charts.sentence(by_name["build-time"])
    assert "cpgraph build --trusted 1.00 (1k-10k)" in build
    assert "cpgraph build (validating) one size only" in build
    assert "the steepest, cpgraph build --trusted, grows in proportion to the store" in build
    assert "(x10 for each tenfold" in build
    lookups = charts.sentence(lookup)
    assert "cpgraph 0.00 at concurrency 1 (1k-10k) and 0.00 at concurrency 8 (1k-10k)" in lookups
    assert "virtuoso one size only at concurrency 1" in lookups
    assert "oxigraph -0.10 at concurrency 8" in lookups
    aggregate = charts.sentence(by_name["throughput-aggregate"])
    assert "the steepest, cpgraph at concurrency 1, falls in proportion as the store" in aggregate


def test_one_size_gives_points_without_a_slope(scale) -> None:
    scale["sizes"].pop("10000")
    build = next(c for c in charts.charts(scale) if c.name == "build-time")
    assert charts.sentence(build).startswith("**Build and load time**: measured at one size only")


def test_the_section_takes_the_place_of_its_old_self_and_leaves_the_rest_as_it_was() -> None:
    before = "# R\n\n## How the costs grow\n\n| a |\n\n## By hand\n\n```\n## not a heading\n```\n"
    once = charts.embed(before, ["## Costs against size", "", "first", ""])
    assert once == before.replace("## By hand", "## Costs against size\n\nfirst\n\n## By hand")
    twice = charts.embed(once, ["## Costs against size", "", "second", ""])
    assert twice == once.replace("first", "second")
    assert charts.embed("# R\n", ["## Costs against size", "", "x"]).endswith("\nx\n")
    # A heading inside a fenced block does not end the section it is in.
    fenced = "## Costs against size\n\nold\n```\n## kept?\n```\n## Next\n"
    assert charts.embed(fenced, ["## Costs against size", "", "new", ""]) == (
        "## Costs against size\n\nnew\n\n## Next\n"
    )


def test_the_command_redraws_from_a_scale_json_and_updates_results_md(scale, tmp_path) -> None:
    _matplotlib()
    results = tmp_path / "results"
    results.mkdir()
    (results / "scale.json").write_text(json.dumps(scale))
    (tmp_path / "RESULTS.md").write_text("# Results\n\n## How the costs grow\n\ntable\n")
    assert charts.main([str(results / "scale.json")]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert text.startswith("# Results\n\n## How the costs grow\n\ntable\n\n## Costs against size")
    for name in CHARTS:
        assert f"](results/charts/{name}.svg)" in text
        assert (results / "charts" / f"{name}.svg").exists()
    # A stale chart from an earlier run does not stay behind.
    (results / "charts" / "gone.svg").write_text("<svg/>")
    charts.main([str(results / "scale.json")])
    assert not (results / "charts" / "gone.svg").exists()
    assert (tmp_path / "RESULTS.md").read_text() == text


def test_sizes_without_figures_draw_no_chart_and_a_bad_file_is_refused(tmp_path) -> None:
    hollow = {
        "sizes": {
            "1000": {
                "data": {"triples": 1000},
                "endpoint": {"skipped": "wrk is not installed"},
                "build": {"peers": {"oxigraph load": {"seconds": None, "did_not_finish": None}}},
                "validation": None,
            }
        }
    }
    assert charts.charts(hollow) == []
    assert charts.charts({"sizes": {}}) == []
    for text in ("{", "[]", '{"sizes": 3}', '{"machine": {}}'):
        (tmp_path / "scale.json").write_text(text)
        assert charts.main([str(tmp_path / "scale.json")]) == 2, text
    assert charts.main([str(tmp_path / "absent.json")]) == 2
    assert not (tmp_path / "RESULTS.md").exists()
