"""Charts of query results, drawn as SVG by cpgraph itself (no third-party script or library):
the geometry is worked out here and written by the template ``chart.svg``.

Three kinds, chosen from a saved query's ``#+ chart:`` header or from the shape of its result:

- **timeline**: dated rows (a column of ``xsd:date``, ``xsd:gYearMonth`` or ``xsd:gYear``
  values) as dots on a year axis, one labelled line per row;
- **bars**: a label column and one or more numeric columns, as horizontal bars (one series per
  numeric column, with a legend);
- **network**: links between two columns of IRIs (each shown by its ``<column>Label``), drawn
  as two facing columns when the two sides are different things, else round, one label a row;
- **comparison**: paired columns (``value1`` and ``value2``, ``source1Label`` and
  ``source2Label``...) as two values side by side on each row, each with its source: where
  sources disagree, the disagreement.

Every chart is an accessible SVG image: ``role="img"`` with a ``<title>`` and a ``<desc>``,
real text for every label, and a ``<title>`` tooltip on each mark. Columns whose names start
with ``_`` (the saved queries' parameters) are never drawn.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox
from markupsafe import Markup

from cpgraph.rdf import Term
from cpgraph.rdf.namespaces import XSD
from cpgraph.web.render import fragment

Row = dict[str, Term]

DATE_TYPES = {XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"}
_NUMBERS = "integer decimal double float int long short nonNegativeInteger positiveInteger"
NUMBER_TYPES = {XSD + t for t in _NUMBERS.split()}
PALETTE = ("#2b6cb0", "#dd6b20", "#2f855a", "#b83280", "#6b46c1")
MAX_ROWS = 400
WIDTH = 960
CHAR_WIDTH = 7.0  # a generous width of one character of 12 px text, to keep labels apart


class ChartKind(enum.Enum):
    """The charts cpgraph draws."""

    COMPARISON = "comparison"  # first: the order in which kinds are tried
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


def result_table(data: bytes) -> ResultTable:
    """A SPARQL JSON result (as the worker pool sends it) as a table in memory."""
    solutions = ox.parse_query_results(data, ox.QueryResultsFormat.JSON)
    if not isinstance(solutions, ox.QuerySolutions):
        return ResultTable((), ())
    variables = tuple(v.value for v in solutions.variables)
    rows = []
    for solution in solutions:
        row = {}
        for name in variables:
            value = solution[name]
            if isinstance(value, ox.NamedNode | ox.BlankNode | ox.Literal):
                row[name] = value
        rows.append(row)
    return ResultTable(variables, tuple(rows))


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


def column_pairs(table: ResultTable) -> list[tuple[str, str]]:
    """The shown columns that come in pairs, ``<stem>1<tail>`` with ``<stem>2<tail>``, in the
    order of the first of each."""
    shown = table.shown
    pairs = []
    for name in shown:
        stem, one, tail = name.rpartition("1")
        if one and stem and not tail[:1].isdigit() and f"{stem}2{tail}" in shown:
            pairs.append((name, f"{stem}2{tail}"))
    return pairs


def row_label_column(table: ResultTable, *, exclude: Sequence[str] = ()) -> str | None:
    """The text column that tells rows apart best: the one with the most distinct values."""
    text = [
        v
        for v in table.shown
        if v not in exclude and table.values(v) and _all(table.values(v), ox.Literal)
    ]
    return max(text, key=lambda v: len({t.value for t in table.values(v)}), default=None)


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
        ChartKind.COMPARISON: bool(column_pairs(table)),
        ChartKind.TIMELINE: date_column(table) is not None and label_column(table) is not None,
        ChartKind.BARS: bool(number_columns(table))
        and label_column(table, exclude=number_columns(table)) is not None,
        ChartKind.NETWORK: len(iri_columns(table)) >= 2,
    }
    if hint is not None:
        kind = ChartKind(hint)
        return kind if fits[kind] else None
    for kind in ChartKind:  # a paired result is a comparison before anything else
        if fits[kind]:
            return kind
    return None


# A drawing: width, height, the marks for the template ``chart.svg``, a summary in words.
Drawing = tuple[int, int, dict[str, Any], str]


def render_svg(table: ResultTable, kind: ChartKind, *, title: str, description: str = "") -> Markup:
    """``table`` drawn as a ``kind`` chart: a complete, standalone SVG document (markup that
    a page may embed as it is).

    Raises:
        ValueError: if the result lacks the columns the chart needs.
    """
    draw = {
        ChartKind.TIMELINE: _timeline,
        ChartKind.BARS: _bars,
        ChartKind.NETWORK: _network,
        ChartKind.COMPARISON: _comparison,
    }
    width, height, marks, summary = draw[kind](table)
    return fragment(
        "chart.svg",
        kind=kind.value,
        width=width,
        height=height,
        title=title,
        desc=f"{description} {summary}".strip(),
        colour=PALETTE[0],
        **marks,
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


@dataclass(frozen=True, slots=True)
class _Dot:
    """A timeline's row: its date and label, where its dot and its label text go."""

    when: str
    label: str
    name: str
    cx: float
    cy: float
    tx: float
    anchor: str


def _timeline(table: ResultTable) -> Drawing:
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

    tick = max(1, math.ceil((last - first) / 12))
    ticks = [(x(year), year) for year in range(first, last + 1, tick)]
    dots = []
    for index, (year, row) in enumerate(dated):
        cy = top + step * index + step / 2
        cx = x(year)
        whole = _text(row.get(label))
        # The label goes where it fits whole (right of the dot, else left of it, never into
        # the date column left of the axis); else on the roomier side, shortened to fit.
        room_right = WIDTH - right - (cx + 9)
        room_left = cx - 9 - (left + 4)
        wanted = len(whole) * CHAR_WIDTH
        if wanted <= room_right or room_right >= room_left:
            anchor, tx, room = "start", cx + 9, room_right
        else:
            anchor, tx, room = "end", cx - 9, room_left
        name = _short(whole, max(4, int(room / CHAR_WIDTH)))
        when = row[date].value
        dots.append(_Dot(when, whole, name, cx, cy, tx, anchor))
    summary = f"{len(dated)} dated rows from {first} to {last - 1}."
    marks = {"left": left, "top": top, "ticks": ticks, "dots": dots}
    return WIDTH, int(height), marks, summary


# ---------------------------------------------------------------------------------------------
# Bars
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Bar:
    """One value of a row: its series, value as written, top, length and colour."""

    series: str
    value: str
    y: int
    width: float
    colour: str


@dataclass(frozen=True, slots=True)
class _BarRow:
    """A row of bars: its label (whole and shortened), the label's baseline, its bars."""

    name: str
    short: str
    y: float
    bars: list[_Bar]


def _bars(table: ResultTable) -> Drawing:
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
    legend = []
    if len(series) > 1:
        legend = [(left + i * 160, PALETTE[i % 5], name) for i, name in enumerate(series)]
    drawn = []
    for index, row in enumerate(rows):
        y0 = top + index * group
        name = _text(row.get(label))
        bars = [
            _Bar(
                name_s,
                row[name_s].value,
                y0 + s_index * bar,
                max(0.0, float(row[name_s].value) / top_value * plot),
                PALETTE[s_index % 5],
            )
            for s_index, name_s in enumerate(series)
            if name_s in row
        ]
        drawn.append(_BarRow(name, _short(name, 44), y0 + group / 2 + 2, bars))
    summary = f"{len(rows)} bars per series; series: {', '.join(series)}."
    marks = {"left": left, "top": top, "bar": bar, "legend": legend, "rows": drawn}
    return WIDTH, int(height), marks, summary


# ---------------------------------------------------------------------------------------------
# Network
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Edge:
    """A link between two nodes, by their names and ends."""

    source: str
    target: str
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True, slots=True)
class _Node:
    """A node: its IRI and name (whole and shortened), its dot and where its text goes."""

    iri: str
    name: str
    short: str
    x: float
    y: float
    tx: float
    anchor: str


def _network(table: ResultTable) -> Drawing:
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
        for nodes, x, anchor in ((left_nodes, 330.0, "end"), (right_nodes, WIDTH - 330.0, "start")):
            offset = (height - step * len(nodes)) / 2
            for index, iri in enumerate(nodes):
                positions[iri] = (x, offset + step * index + step / 2, anchor)
    else:
        # Round, but with evenly spaced rows: down the right half, then up the left half, each
        # node on an ellipse at its row's height, so that no two labels share a line.
        nodes = list(dict.fromkeys([*left_nodes, *right_nodes]))
        half = (len(nodes) + 1) // 2
        step = 24
        height = 60 + step * half
        cx, cy, rx, ry = WIDTH / 2, height / 2, 200.0, step * half / 2
        for index, iri in enumerate(nodes):
            sign, rank = (1, index) if index < half else (-1, len(nodes) - 1 - index)
            py = 30 + step * rank + step / 2
            spread = math.sqrt(max(0.0, 1 - ((py - cy) / (ry + step)) ** 2))
            px = cx + sign * (40 + (rx - 40) * spread)
            positions[iri] = (px, py, "start" if sign > 0 else "end")
    lines = []
    for source, target in edges:
        x1, y1, _ = positions[source]
        x2, y2, _ = positions[target]
        lines.append(_Edge(names[source], names[target], x1, y1, x2, y2))
    dots = []
    for iri, (x, y, side) in positions.items():
        room = (WIDTH - 12 - x if side == "start" else x - 12) - 9
        short = _short(names[iri], max(4, min(44, int(room / CHAR_WIDTH))))
        dots.append(_Node(iri, names[iri], short, x, y, x + 9 if side == "start" else x - 9, side))
    summary = f"{len(positions)} nodes and {len(edges)} links."
    return WIDTH, int(height), {"edges": lines, "nodes": dots}, summary


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Side:
    """One of a row's two values: the value (whole and shortened), where it comes from."""

    value: str
    short: str
    origin: str
    x: int
    colour: str


@dataclass(frozen=True, slots=True)
class _Pair:
    """A row of a comparison: its label (whole and shortened), its top, its two sides."""

    name: str
    short: str
    detail: str
    y: int
    sides: tuple[_Side, _Side]


def _comparison(table: ResultTable) -> Drawing:
    pairs = column_pairs(table)
    if not pairs:
        raise ValueError("a comparison needs paired columns (value1 and value2)")
    values = pairs[0]
    origins = [p for p in pairs[1:] if p[0].endswith("Label")] or pairs[1:2]
    places = [p for p in pairs[1:] if p not in origins[:1]][:1]
    paired = {name for pair in pairs for name in pair}
    label = row_label_column(table, exclude=sorted(paired))
    detail = row_label_column(table, exclude=sorted({*paired, label or ""}))
    left, card, gap, top, step = 12, 300, 12, 44, 48
    first_x = WIDTH - 2 * card - gap - left
    rows = table.rows[:MAX_ROWS]
    drawn = []
    for index, row in enumerate(rows):
        y = top + index * step
        sides = []
        for side in (0, 1):
            value = _text(row.get(values[side]))
            origin = ", ".join(
                w for w in (_text(row.get(p[side])) for p in (*origins[:1], *places)) if w
            )
            fit, x = int((card - 16) / CHAR_WIDTH), first_x + side * (card + gap)
            sides.append(
                _Side(value, _short(value, fit), _short(origin, fit + 6), x, PALETTE[side])
            )
        name = _text(row.get(label)) if label else ""
        room = first_x - left - 10
        drawn.append(
            _Pair(
                name,
                _short(name, int(room / CHAR_WIDTH)),
                _short(_text(row.get(detail)) if detail else "", int(room / (CHAR_WIDTH - 1))),
                y,
                (sides[0], sides[1]),
            )
        )
    heads = [(first_x + side * (card + gap), PALETTE[side], values[side]) for side in (0, 1)]
    summary = f"{len(rows)} rows, each with {values[0]} beside {values[1]}."
    marks = {"left": left, "card": card, "step": step, "heads": heads, "pairs": drawn}
    return WIDTH, top + step * len(rows) + 12, marks, summary
