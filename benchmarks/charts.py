"""Charts of the costs against the store's size, drawn from ``results/scale.json``.

    python benchmarks/charts.py benchmarks/results/scale.json

One SVG per figure in ``results/charts/`` beside the raw numbers: each peer a line, its medians
as points and its min-max spread as error bars, on log-log axes where the sizes span a decade or
more, so that a straight line's slope is how the cost grows (1: in proportion to the store, 0:
not at all). A figure missing at a size (not measured, did not finish) is left out of its line,
never drawn as zero. ``run.py`` redraws them after every run; this command redraws them from an
existing ``scale.json`` and puts the "Costs against size" section into the ``RESULTS.md`` beside
it, leaving the rest of that file as it is. The SVGs are the same bytes for the same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from report import size_name
from run import contribution_runs, slope

HEADING = "## Costs against size"
AFTER = "## How the costs grow"
# One colour per peer across every chart; others take the rest of the palette in order.
COLOURS = {
    "cpgraph": "#1f77b4",
    "cpgraph build --trusted": "#1f77b4",
    "cpgraph fast path": "#1f77b4",
    "oxigraph": "#ff7f0e",
    "oxigraph load": "#ff7f0e",
    "pyoxigraph bulk_load": "#bcbd22",
    "rdflib-endpoint": "#2ca02c",
    "python floor": "#7f7f7f",
    "virtuoso": "#d62728",
    "full-store pyshacl": "#9467bd",
    "scoped pyshacl (sketch)": "#8c564b",
    "cpgraph build (validating)": "#17becf",
    "cpgraph build (validating), whole graph": "#17becf",
}
PALETTE = ("#e377c2", "#d62728", "#17becf", "#8c564b", "#9467bd", "#bcbd22", "#7f7f7f")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


@dataclass(frozen=True)
class Point:
    """One median at one size, with its spread when there was more than one run."""

    statements: int
    median: float
    low: float | None = None
    high: float | None = None


@dataclass
class Panel:
    """One plot of a chart: a line per peer (several panels make small multiples)."""

    title: str
    series: dict[str, list[Point]] = field(default_factory=dict)

    def add(self, peer: str, point: Point | None) -> None:
        if point is not None:
            self.series.setdefault(peer, []).append(point)


@dataclass
class Chart:
    """What one SVG shows: the figure, its unit, and which way is better."""

    name: str
    title: str
    quantity: str
    unit: str
    better: str  # "lower" or "higher"
    panels: list[Panel]

    @property
    def points(self) -> list[Point]:
        return [p for panel in self.panels for line in panel.series.values() for p in line]


def _point(statements: int, f: Any) -> Point | None:
    """A figure (``{"median", "min", "max", "runs"}``) or a bare number as a point, if measured."""
    if isinstance(f, int | float) and not isinstance(f, bool):
        return Point(statements, float(f)) if f > 0 else None
    if not isinstance(f, dict) or not f.get("median") or f["median"] <= 0:
        return None
    if f.get("runs", 1) > 1 and f.get("min") is not None and f.get("max") is not None:
        return Point(statements, f["median"], f["min"], f["max"])
    return Point(statements, f["median"])


def _sizes(report: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for entry in report["sizes"].values():
        yield entry["data"]["triples"], entry


def charts(report: dict[str, Any]) -> list[Chart]:
    """Every chart the report has figures for, in the order ``RESULTS.md`` shows them."""
    time, rss = Panel(""), Panel("")
    validation, memory, startup = Panel(""), Panel(""), Panel("")
    endpoint: dict[str, dict[int, Panel]] = {}
    for statements, entry in _sizes(report):
        for peer, f in entry.get("build", {}).get("peers", {}).items():
            if f.get("did_not_finish"):
                continue
            time.add(peer, _point(statements, f.get("seconds")))
            rss.add(peer, _point(statements, f.get("peak_rss_mib")))
            if "validat" in peer:  # a build that validates the whole graph, whichever way
                validation.add(f"{peer}, whole graph", _point(statements, f.get("seconds")))
        for name, f in (entry.get("validation") or {}).items():
            if isinstance(f, dict) and "validate_s" in f:
                validation.add(name, _point(statements, f["validate_s"]))
        second = entry.get("endpoint_second_run") or {}
        main = entry.get("endpoint") or {}
        servers = {**second.get("server_peak_rss_mib", {}), **main.get("server_peak_rss_mib", {})}
        for peer, mib in servers.items():
            memory.add(peer, _point(statements, mib))
        for peer, seconds in main.get("startup_s", {}).items():
            startup.add(peer, _point(statements, seconds))
        results = {key: dict(peers) for key, peers in main.get("results", {}).items()}
        for key, peers in second.get("results", {}).items():
            for peer, f in peers.items():
                results.setdefault(key, {}).setdefault(peer, f)
        for key, peers in results.items():
            kind, _, concurrency = key.rpartition(" @ c=")
            panels = endpoint.setdefault(kind, {})
            panel = panels.setdefault(int(concurrency), Panel(f"concurrency {concurrency}"))
            for peer, f in peers.items():
                if not f.get("did_not_finish"):
                    panel.add(peer, _point(statements, f.get("rps")))
    for run in report.get("contribution_runs", []):
        values = run.get("validation_s_runs", [])
        spread = run.get("validation_s_spread") or [None, None]
        figure = {"median": run["validation_s_median"], "runs": len(values)}
        validation.add(
            "cpgraph fast path",
            _point(run["store_statements"], {**figure, "min": spread[0], "max": spread[1]}),
        )
    out = [
        Chart("build-time", "Build and load time", "time", "s", "lower", [time]),
        Chart("build-memory", "Peak memory of a build", "peak RSS", "MiB", "lower", [rss]),
        Chart(
            "validation-time",
            "Validation time, whole graph or one contribution",
            "time",
            "s",
            "lower",
            [validation],
        ),
        Chart(
            "server-memory",
            "Peak memory of each server over the endpoint benchmark",
            "peak RSS",
            "MiB",
            "lower",
            [memory],
        ),
        Chart("startup", "Server start-up until it answers", "start-up", "s", "lower", [startup]),
    ]
    for kind, panels in endpoint.items():
        out.append(
            Chart(
                "throughput-" + "".join(c if c.isalnum() else "-" for c in kind.lower()).strip("-"),
                f"Endpoint throughput: {kind}",
                "throughput",
                "requests/s",
                "higher",
                [panels[c] for c in sorted(panels)],
            )
        )
    for chart in out:
        for panel in chart.panels:
            for line in panel.series.values():
                line.sort(key=lambda p: p.statements)
    return [chart for chart in out if chart.points]


def _tick(value: float, _: object = None) -> str:
    if value >= 1000:
        return f"{value / 1000:,.0f}k" if value % 1000 == 0 else f"{value:,.0f}"
    return f"{value:g}"


def _colours(peers: list[str]) -> dict[str, str]:
    colours = {peer: COLOURS[peer.lower()] for peer in peers if peer.lower() in COLOURS}
    rest = [c for c in PALETTE if c not in colours.values()]
    for peer in peers:
        if peer not in colours:
            colours[peer] = rest.pop(0) if rest else PALETTE[len(colours) % len(PALETTE)]
    return colours


def draw(chart: Chart, path: Path) -> None:
    """One chart as an SVG, reproducible byte for byte (fixed hash salt, no date)."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, NullLocator

    sizes = sorted({p.statements for p in chart.points})
    log = sizes[-1] >= 10 * sizes[0]
    peers = list(dict.fromkeys(name for panel in chart.panels for name in panel.series))
    colours = _colours(peers)
    settings = {"svg.hashsalt": "cpgraph-benchmarks", "svg.fonttype": "none", "font.size": 9}
    with matplotlib.rc_context(settings):
        width = max(6.4, 4.2 * len(chart.panels) + 1.4)
        figure = Figure(figsize=(width, 4.6), layout="constrained")
        axes = figure.subplots(1, len(chart.panels), sharey=True, squeeze=False)[0]
        for ax, panel in zip(axes, chart.panels, strict=True):
            for index, peer in enumerate(peers):
                line = panel.series.get(peer)
                if not line:
                    marker = MARKERS[index % len(MARKERS)]
                    ax.plot([], [], marker=marker, color=colours[peer], label=peer)
                    continue
                below = [p.median - (p.low if p.low is not None else p.median) for p in line]
                above = [(p.high if p.high is not None else p.median) - p.median for p in line]
                ax.errorbar(
                    [p.statements for p in line],
                    [p.median for p in line],
                    yerr=[below, above],
                    marker=MARKERS[index % len(MARKERS)],
                    color=colours[peer],
                    capsize=3,
                    label=peer,
                )
            if log:
                ax.set_xscale("log")
                ax.set_yscale("log")
                ax.set_xlim(sizes[0] / 2, sizes[-1] * 2)
            ax.xaxis.set_major_locator(NullLocator())
            ax.xaxis.set_minor_locator(NullLocator())
            ax.set_xticks(sizes, [size_name(_round(s)) for s in sizes])
            ax.set_xlabel("statements in the store")
            ax.grid(True, which="major", alpha=0.3)
            if panel.title:
                ax.set_title(panel.title)
        values = [v for p in chart.points for v in (p.median, p.low, p.high) if v]
        if log:
            decades = math.log10(max(values) / min(values))
            subs = (1.0,) if decades > 3 else (1.0, 2.0, 5.0)
            axes[0].yaxis.set_major_locator(LogLocator(base=10, subs=subs))
            axes[0].yaxis.set_major_formatter(FuncFormatter(_tick))
            axes[0].yaxis.set_minor_formatter(NullFormatter())
        axes[0].set_ylabel(f"{chart.quantity} ({chart.unit})")
        figure.suptitle(f"{chart.title} ({chart.better} is better)")
        figure.legend(
            *axes[0].get_legend_handles_labels(),
            loc="outside lower center",
            ncol=_columns(peers, width),
            frameon=False,
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, format="svg", metadata={"Date": None})


def _columns(labels: list[str], width: float) -> int:
    """As many legend columns as the widest label lets fit across the figure (inches)."""
    column = 0.45 + 0.062 * max(len(label) for label in labels)
    return max(1, min(len(labels), int(width * 0.95 // column)))


def _round(statements: int) -> int:
    """The nominal size a measured store stands for (100,016 statements: 100k)."""
    magnitude = 10 ** max(0, len(str(statements)) - 2)
    return round(statements / magnitude) * magnitude


def _growth(s: float) -> str:
    """How a cost with log-log slope ``s`` moves as the store grows, in words."""
    for bound, words in (
        (1.15, "grows faster than the store"),
        (0.85, "grows in proportion to the store"),
        (0.1, "grows more slowly than the store"),
        (-0.1, "barely changes with the store's size"),
        (-0.85, "falls more slowly than the store grows"),
        (-1.15, "falls in proportion as the store grows"),
    ):
        if s >= bound:
            return words
    return "falls faster than the store grows"


def sentence(chart: Chart) -> str:
    """What slopes the chart shows, from its numbers: each peer's log-log slope over the sizes
    it was measured at, and the steepest one in words with its factor per tenfold."""
    slopes: dict[str, list[tuple[str, float | None, list[Point]]]] = {}
    for panel in chart.panels:
        for peer, line in panel.series.items():
            s = slope([(p.statements, p.median) for p in line])
            slopes.setdefault(peer, []).append((panel.title, s, line))
    parts = []
    for peer, rows in slopes.items():
        cells = []
        for title, s, line in rows:
            at = f" at {title}" if title else ""
            if s is None:
                cells.append(f"one size only{at}")
                continue
            first, last = (size_name(_round(p.statements)) for p in (line[0], line[-1]))
            cells.append(f"{s:.2f}{at} ({first}-{last})")
        parts.append(f"{peer} {' and '.join(cells)}")
    fitted = [(abs(s), s, peer, t) for peer, rows in slopes.items() for t, s, _ in rows if s]
    if not fitted:
        return (
            f"**{chart.title}**: measured at one size only, so no slope yet ({'; '.join(parts)})."
        )
    _, steepest, peer, title = max(fitted)
    at = f" at {title}" if title else ""
    return (
        f"**{chart.title}**, slope of log {chart.quantity} on log statements: "
        + "; ".join(parts)
        + f"; the steepest, {peer}{at}, {_growth(steepest)} (x{10**steepest:.2g} for each "
        "tenfold of the store)."
    )


def section(report: dict[str, Any], drawn: list[Chart], *, directory: str) -> list[str]:
    """The Markdown section embedding the charts, each with its sentence."""
    out = [
        HEADING,
        "",
        "Drawn from `results/scale.json` by `benchmarks/charts.py` (each run redraws them; "
        "`python benchmarks/charts.py benchmarks/results/scale.json` redraws them from the raw "
        "numbers): the medians as points, the min-max spread as bars where a figure had more "
        "than one run; "
        + (
            "log-log axes, so that a straight line's slope is how the cost grows (1: in "
            "proportion to the store, 0: not at all). "
            if len(report["sizes"]) > 1
            else ""
        )
        + "A figure not measured at a size, or that did not finish, is left out of its line.",
        "",
    ]
    for chart in drawn:
        out += [f"![{chart.title}]({directory}/{chart.name}.svg)", "", sentence(chart), ""]
    return out


def embed(markdown: str, lines: list[str]) -> str:
    """``markdown`` with the charts section in place of the one it had, or else after the
    growth section (or at the end); the rest unchanged."""
    text = markdown.split("\n")
    start = text.index(HEADING) if HEADING in text else None
    if start is None:
        start = _section_end(text, text.index(AFTER)) if AFTER in text else len(text)
        end = start
    else:
        end = _section_end(text, start)
    new = [*text[:start], *lines, *text[end:]]
    return "\n".join(new).rstrip("\n") + "\n"


def _section_end(text: list[str], start: int) -> int:
    fenced = False
    for number in range(start + 1, len(text)):
        if text[number].startswith("```"):
            fenced = not fenced
        elif not fenced and text[number].startswith("## "):
            return number
    return len(text)


def redraw(report: dict[str, Any], directory: Path) -> list[Chart]:
    """Every chart drawn into ``directory`` (its old SVGs removed first); raises ImportError
    when matplotlib is missing."""
    import matplotlib  # noqa: F401

    drawn = charts(report)
    for old in directory.glob("*.svg"):
        old.unlink()
    for chart in drawn:
        draw(chart, directory / f"{chart.name}.svg")
    return drawn


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scale", type=Path, help="a scale.json written by run.py")
    parser.add_argument(
        "--results-md",
        type=Path,
        help="the RESULTS.md to put the section into (default: the one beside results/)",
    )
    args = parser.parse_args(argv)
    results = args.scale.resolve().parent
    try:
        raw = json.loads(args.scale.read_text())
        sizes = raw["sizes"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"{args.scale}: not a scale.json of run.py ({error!r})", file=sys.stderr)
        return 2
    if not isinstance(sizes, dict):
        print(f"{args.scale}: its sizes are not a mapping", file=sys.stderr)
        return 2
    report = {**raw, "contribution_runs": contribution_runs(results)}
    drawn = redraw(report, results / "charts")
    markdown = args.results_md or results.parent / "RESULTS.md"
    directory = Path(os.path.relpath(results / "charts", markdown.resolve().parent)).as_posix()
    lines = section(report, drawn, directory=directory)
    old = markdown.read_text() if markdown.exists() else ""
    markdown.write_text(embed(old, lines))
    print(f"drew {len(drawn)} charts into {results / 'charts'}; updated {markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
