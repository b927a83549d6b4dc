"""Charts of query results, drawn as SVG by cpgraph itself (no third-party script or library).

Three kinds, chosen from a saved query's ``#+ chart:`` header or from the shape of its result:

- **timeline**: dated rows (a column of ``xsd:date``, ``xsd:gYearMonth`` or ``xsd:gYear``
  values) as dots on a year axis, one labelled line per row;
- **bars**: a label column and one or more numeric columns, as horizontal bars (one series per
  numeric column, with a legend);
- **network**: links between two columns of IRIs (each shown by its ``<column>Label``), drawn
  as two facing columns when the two sides are different things, else on a circle.

Every chart is an accessible SVG image: ``role="img"`` with a ``<title>`` and a ``<desc>``,
real text for every label, and a ``<title>`` tooltip on each mark. Columns whose names start
with ``_`` (the saved queries' parameters) are never drawn.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import pyoxigraph as ox

from cpgraph.rdf.namespaces import XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term]

DATE_TYPES = {XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"}
NUMBER_TYPES = {
    XSD + t
    for t in (
        "integer",
        "decimal",
        "double",
        "float",
        "int",
        "long",
        "short",
        "nonNegativeInteger",
        "positiveInteger",
    )
}
PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#b83280", "#6b46c1")
# Presentation attributes, not a style attribute: a page's Content-Security-Policy blocks
# inline styles, and the chart is drawn inside the page as well as served alone.
FONT = 'font-family="system-ui,-apple-system,Segoe UI,Roboto,sans-serif" font-size="12"'
MAX_ROWS = 400
WIDTH = 960


class ChartKind(enum.Enum):
    """The charts cpgraph draws."""

    TIMELINE = "timeline"
    BARS = "bars"
    NETWORK = "network"


@dataclass(frozen=True, slots=True)
class ResultTable:
    """A SELECT result held in memory: the variables in order and the rows."""

    variables: tuple[str, ...]
    rows: tuple[Row, ...]

    @property
    def shown(self) -> tuple[str, ...]:
        """The variables to show (not the ``_``-prefixed parameter columns)."""
        return tuple(v for v in self.variables if not v.startswith("_"))

    def values(self, variable: str) -> list[Term]:
        """The bound values of one column."""
        return [row[variable] for row in self.rows if variable in row]


def _all(values: Sequence[Term], test: type | set[str]) -> bool:
    if not values:
        return False
    if isinstance(test, set):
        return all(isinstance(v, ox.Literal) and v.datatype.value in test for v in values)
    return all(isinstance(v, test) for v in values)


def date_column(table: ResultTable) -> str | None:
    """The first shown column of dates, if any."""
    return next((v for v in table.shown if _all(table.values(v), DATE_TYPES)), None)


def number_columns(table: ResultTable) -> list[str]:
    """The shown columns of numbers."""
    return [v for v in table.shown if _all(table.values(v), NUMBER_TYPES)]


def iri_columns(table: ResultTable) -> list[str]:
    """The shown columns of IRIs."""
    return [v for v in table.shown if _all(table.values(v), ox.NamedNode)]


def label_column(table: ResultTable, *, exclude: Sequence[str] = ()) -> str | None:
    """The column to label marks by: a ``...Label`` column, else the first text column."""
    text = [
        v
        for v in table.shown
        if v not in exclude
        and table.values(v)
        and all(
            isinstance(t, ox.Literal) and t.datatype.value not in DATE_TYPES | NUMBER_TYPES
            for t in table.values(v)
        )
    ]
    preferred = [v for v in text if v.endswith("Label")]
    candidates = preferred or text
    return candidates[0] if candidates else None


def choose_chart(table: ResultTable, hint: str | None = None) -> ChartKind | None:
    """The chart for ``table``: the ``hint`` (a saved query's ``#+ chart:``) when the result
    has the columns it needs, else the first kind that fits (None: a table only)."""
    if hint == "none" or not table.rows:
        return None
    fits = {
        ChartKind.TIMELINE: date_column(table) is not None and label_column(table) is not None,
        ChartKind.BARS: bool(number_columns(table))
        and label_column(table, exclude=number_columns(table)) is not None,
        ChartKind.NETWORK: len(iri_columns(table)) >= 2,
    }
    if hint is not None:
        kind = ChartKind(hint)
        return kind if fits[kind] else None
    for kind in (ChartKind.TIMELINE, ChartKind.BARS, ChartKind.NETWORK):
        if fits[kind]:
            return kind
    return None


def render_svg(table: ResultTable, kind: ChartKind, *, title: str, description: str = "") -> str:
    """``table`` drawn as a ``kind`` chart: a complete, standalone SVG document.

    Raises:
        ValueError: if the result lacks the columns the chart needs.
    """
    draw = {ChartKind.TIMELINE: _timeline, ChartKind.BARS: _bars, ChartKind.NETWORK: _network}
    width, height, body, summary = draw[kind](table)
    desc = f"{description} {summary}".strip()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc" '
        f'class="chart chart-{kind.value}" {FONT}>'
        f'<title id="chart-title">{escape(title)}</title>'
        f'<desc id="chart-desc">{escape(desc)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>{body}</svg>'
    )


def _text(term: Term | None) -> str:
    return "" if term is None else term.value


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------
# Timeline
# ---------------------------------------------------------------------------------------------


def fractional_year(value: str) -> float:
    """``1994-12`` as 1994.92, ``2002-06-29`` as about 2002.49, ``1995`` as 1995.0."""
    negative = value.startswith("-")
    parts = value.lstrip("-").split("T")[0].split("-")
    year = int(parts[0]) * (-1 if negative else 1)
    month = int(parts[1]) if len(parts) > 1 else 1
    day = int(parts[2][:2]) if len(parts) > 2 else 1
    return year + (month - 1) / 12 + (day - 1) / 365


def _timeline(table: ResultTable) -> tuple[int, int, str, str]:
    date = date_column(table)
    label = label_column(table, exclude=[date] if date else [])
    if date is None or label is None:
        raise ValueError("a timeline needs a date column and a label column")
    dated = [(fractional_year(r[date].value), r) for r in table.rows if date in r]
    dated.sort(key=lambda pair: (pair[0], _text(pair[1].get(label))))
    dated = dated[:MAX_ROWS]
    first = math.floor(min(y for y, _ in dated))
    last = max(math.floor(max(y for y, _ in dated)) + 1, first + 1)
    left, right, top, step = 90, 40, 40, 22
    plot = WIDTH - left - right
    height = top + step * len(dated) + 40

    def x(year: float) -> float:
        return left + (year - first) / (last - first) * plot

    parts = []
    tick = max(1, math.ceil((last - first) / 12))
    for tick_year in range(first, last + 1, tick):
        tx0 = x(tick_year)
        parts.append(
            f'<line x1="{tx0:.1f}" y1="{top - 10}" x2="{tx0:.1f}" y2="{height - 30}" '
            f'stroke="#e2e8f0"/><text x="{tx0:.1f}" y="{top - 16}" text-anchor="middle" '
            f'fill="#4a5568">{tick_year}</text>'
        )
    for index, (year, row) in enumerate(dated):
        cy = top + step * index + step / 2
        cx = x(year)
        name = _short(_text(row.get(label)), 90)
        when = row[date].value
        room_right, room_left = WIDTH - right - cx, cx - left
        wanted = len(name) * 6.6  # about 6.6 px per character at 12 px
        anchor, tx = ("start", cx + 9)
        if wanted > room_right and room_left > room_right:
            anchor, tx = ("end", cx - 9)
        parts.append(
            f'<g class="mark"><title>{escape(when)}: {escape(_text(row.get(label)))}</title>'
            f'<text x="{left - 10}" y="{cy + 4:.1f}" text-anchor="end" fill="#4a5568">'
            f"{escape(when)}</text>"
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{PALETTE[0]}"/>'
            f'<text x="{tx:.1f}" y="{cy + 4:.1f}" text-anchor="{anchor}" fill="#1a202c">'
            f"{escape(name)}</text></g>"
        )
    summary = f"{len(dated)} dated rows from {first} to {last - 1}."
    return WIDTH, int(height), "".join(parts), summary


# ---------------------------------------------------------------------------------------------
# Bars
# ---------------------------------------------------------------------------------------------


def _bars(table: ResultTable) -> tuple[int, int, str, str]:
    series = number_columns(table)
    label = label_column(table, exclude=series)
    if not series or label is None:
        raise ValueError("bars need a label column and a numeric column")
    rows = [r for r in table.rows if label in r][:MAX_ROWS]
    values = [float(r[s].value) for r in rows for s in series if s in r]
    top_value = max([*values, 0.0]) or 1.0
    left, right, top = 280, 120, 46 if len(series) > 1 else 20
    bar = 16
    group = bar * len(series) + 10
    plot = WIDTH - left - right
    height = top + group * len(rows) + 20
    parts = []
    if len(series) > 1:
        for index, name in enumerate(series):
            lx = left + index * 160
            parts.append(
                f'<rect x="{lx}" y="14" width="12" height="12" fill="{PALETTE[index % 5]}"/>'
                f'<text x="{lx + 18}" y="24" fill="#1a202c">{escape(name)}</text>'
            )
    for index, row in enumerate(rows):
        y0 = top + index * group
        name = _text(row.get(label))
        parts.append(
            f'<g><title>{escape(name)}</title><text x="{left - 10}" y="{y0 + group / 2 + 2:.1f}" '
            f'text-anchor="end" fill="#1a202c">{escape(_short(name, 44))}</text></g>'
        )
        for s_index, name_s in enumerate(series):
            if name_s not in row:
                continue
            value = float(row[name_s].value)
            w = max(0.0, value / top_value * plot)
            y = y0 + s_index * bar
            shown = row[name_s].value
            parts.append(
                f'<g class="mark"><title>{escape(name)}, {escape(name_s)}: {escape(shown)}</title>'
                f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar - 3}" '
                f'fill="{PALETTE[s_index % 5]}"/>'
                f'<text x="{left + w + 6:.1f}" y="{y + bar - 5}" fill="#4a5568">'
                f"{escape(shown)}</text></g>"
            )
    parts.append(
        f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - 14}" stroke="#a0aec0"/>'
    )
    summary = f"{len(rows)} bars per series; series: {', '.join(series)}."
    return WIDTH, int(height), "".join(parts), summary


# ---------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------


def _network(table: ResultTable) -> tuple[int, int, str, str]:
    columns = iri_columns(table)
    if len(columns) < 2:
        raise ValueError("a network needs two columns of IRIs")
    a, b = columns[0], columns[1]
    names: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for row in table.rows[: MAX_ROWS * 2]:
        if a not in row or b not in row:
            continue
        for column in (a, b):
            iri = row[column].value
            label = row.get(f"{column}Label")
            names.setdefault(iri, _text(label) or iri.rsplit("/", 1)[-1])
        pair = (row[a].value, row[b].value)
        if pair not in edges and pair[0] != pair[1]:
            edges.append(pair)
    left_nodes = list(dict.fromkeys(s for s, _ in edges))
    right_nodes = list(dict.fromkeys(t for _, t in edges))
    positions: dict[str, tuple[float, float, str]] = {}
    if not set(left_nodes) & set(right_nodes):
        step = 26
        height = 40 + step * max(len(left_nodes), len(right_nodes))
        for side, nodes, x, anchor in (
            (0, left_nodes, 330.0, "end"),
            (1, right_nodes, WIDTH - 330.0, "start"),
        ):
            offset = (height - step * len(nodes)) / 2
            for index, iri in enumerate(nodes):
                positions[iri] = (x, offset + step * index + step / 2, anchor)
            del side
    else:
        nodes = list(dict.fromkeys([*left_nodes, *right_nodes]))
        height = 720
        cx, cy, radius = WIDTH / 2, height / 2, 230
        for index, iri in enumerate(nodes):
            angle = 2 * math.pi * index / max(1, len(nodes)) - math.pi / 2
            px, py = cx + radius * math.cos(angle), cy + radius * math.sin(angle)
            positions[iri] = (px, py, "start" if math.cos(angle) >= 0 else "end")
    parts = []
    for source, target in edges:
        x1, y1, _ = positions[source]
        x2, y2, _ = positions[target]
        parts.append(
            f'<line class="edge" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
            f'stroke="#a0aec0" stroke-width="1.2"><title>{escape(names[source])} to '
            f"{escape(names[target])}</title></line>"
        )
    for iri, (x, y, anchor) in positions.items():
        tx = x + 9 if anchor == "start" else x - 9
        parts.append(
            f'<g class="node"><title>{escape(names[iri])} ({escape(iri)})</title>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{PALETTE[0]}"/>'
            f'<text x="{tx:.1f}" y="{y + 4:.1f}" text-anchor="{anchor}" fill="#1a202c">'
            f"{escape(_short(names[iri], 34))}</text></g>"
        )
    summary = f"{len(positions)} nodes and {len(edges)} links."
    return WIDTH, int(height), "".join(parts), summary
