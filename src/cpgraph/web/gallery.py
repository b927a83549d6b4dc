"""The saved-query gallery's HTML pages, built as strings (no template engine, no script).

``/queries`` lists the library with each question's description and tags; ``/queries/NAME``
in a browser shows a form for the query's parameters (a plain GET form: it works without
JavaScript), the result as a table and, where the result suits one, as a chart drawn by
:mod:`cpgraph.web.charts`, with links to the SVG and to every result format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

import pyoxigraph as ox

from cpgraph.saved.library import Library, SavedQuery
from cpgraph.web.charts import ResultTable
from cpgraph.web.pages import Linker, layout, literal

FORMATS = (("json", "SPARQL JSON"), ("csv", "CSV"), ("tsv", "TSV"), ("xml", "SPARQL XML"))


@dataclass(frozen=True, slots=True)
class PageLinks:
    """The pagination of a result page: its number, size and neighbours' URLs."""

    page: int
    per_page: int
    first: str
    previous: str | None = None
    next: str | None = None


def gallery_page(library: Library, *, tag: str | None = None) -> str:
    """The list of saved queries (those with ``tag`` when given)."""
    shown = [q for q in library if tag is None or tag in q.tags]
    items = "".join(_card(q) for q in shown)
    tags = "".join(
        f'<li><a href="/queries?{urlencode({"tag": t})}">{escape(t)}</a></li>'
        for t in library.tags()
    )
    lead = (
        '<p class="lead">The questions researchers ask of cpgraph, answered without writing '
        "SPARQL. Each opens with its result as a table and, where it suits one, as a chart; "
        'each is also an API operation (<a href="/docs">API</a>), a command '
        "(<code>cpgraph query --saved NAME</code>) and an example to learn SPARQL from "
        '(<a href="/.well-known/sparql-examples">as RDF</a>).</p>'
    )
    filtered = (
        f"<p>Showing the queries tagged <strong>{escape(tag)}</strong> "
        f'(<a href="/queries">show all</a>).</p>'
        if tag
        else ""
    )
    body = (
        f'{lead}<nav aria-label="Tags"><ul class="tags">{tags}</ul></nav>{filtered}'
        f'<ul class="gallery">{items}</ul>'
    )
    return layout("Saved queries", body)


def _card(query: SavedQuery) -> str:
    tags = "".join(
        f'<li><a href="/queries?{urlencode({"tag": t})}">{escape(t)}</a></li>' for t in query.tags
    )
    chart = f" · chart: {escape(query.chart)}" if query.chart and query.chart != "none" else ""
    params = ", ".join(p.name for p in query.parameters)
    extra = f"<p><small>Parameters: {escape(params)}{chart}</small></p>" if params or chart else ""
    return (
        f'<li id="{escape(query.name)}"><h2><a href="/queries/{escape(query.name)}">'
        f"{escape(query.title)}</a></h2><p>{escape(query.description)}</p>{extra}"
        f'<ul class="tags">{tags}</ul></li>'
    )


def query_page(
    query: SavedQuery,
    table: ResultTable,
    *,
    values: Mapping[str, str],
    chart_svg: str | None,
    links: PageLinks,
    base: str,
    names: Mapping[str, str] | None = None,
) -> str:
    """One saved query: its form, chart and result table."""
    linker = Linker(base, names)
    fields = "".join(_field(query, p.name, values.get(p.name, "")) for p in query.parameters)
    form = (
        f'<form class="params" method="get" action="/queries/{escape(query.name)}">'
        f'<input type="hidden" name="format" value="html">{fields}'
        '<button type="submit" id="run">Run</button></form>'
        if query.parameters
        else ""
    )
    current = {k: v for k, v in values.items() if v}
    svg_href = f"/queries/{query.name}.svg?{urlencode(current)}".rstrip("?")
    chart = ""
    if chart_svg is not None:
        chart = (
            f'<figure class="chart" id="chart">{chart_svg}<figcaption>'
            f'<a href="{escape(svg_href)}" download="{escape(query.name)}.svg" id="download-svg">'
            "Download the chart as SVG</a></figcaption></figure>"
        )
    paging = {"page": links.page, "per_page": links.per_page}
    downloads = " · ".join(
        f'<a href="/queries/{escape(query.name)}?'
        f'{escape(urlencode({**current, "format": fmt, **paging}))}">{escape(label)}</a>'
        for fmt, label in FORMATS
    )
    pages = []
    if links.previous:
        pages.append(f'<a rel="prev" href="{escape(_html(links.previous))}">Previous page</a>')
    if links.next:
        pages.append(f'<a rel="next" href="{escape(_html(links.next))}">Next page</a>')
    pager = f'<nav class="pages" aria-label="Pages">{"".join(pages)}</nav>' if pages else ""
    count = len(table.rows)
    status = (
        f'<p id="status">{count} row{"s" if count != 1 else ""}'
        f"{f' (page {links.page})' if links.page > 1 or links.next else ''}. "
        f"Download: {downloads}</p>"
    )
    body = (
        f'<p class="lead">{escape(query.description)}</p>{form}{chart}'
        f'<h2 id="result-h">Result</h2>{status}{_table(table, linker)}{pager}'
        f'<h2 id="sparql-h">The query</h2><p class="hint">Run it yourself on the '
        f'<a href="/query?{escape(urlencode({"query": query.text}))}">query page</a>; '
        "parameters are the variables that start with an underscore.</p>"
        f'<pre class="sparql"><code>{escape(query.text)}</code></pre>'
        '<p><a href="/queries">All saved queries</a></p>'
    )
    return layout(query.title, body)


def _html(url: str) -> str:
    return url if "format=" in url else url + ("&" if "?" in url else "?") + "format=html"


def _field(query: SavedQuery, name: str, value: str) -> str:
    param = query.parameter(name)
    assert param is not None
    ident = f"param-{name}"
    hint = param.description or param.type.name
    placeholder = param.default or ("optional" if not param.required else "")
    required = " required" if param.required and not param.default else ""
    return (
        f'<label for="{ident}">{escape(name)}</label>'
        f'<input id="{ident}" name="{escape(name)}" value="{escape(value)}" '
        f'placeholder="{escape(placeholder)}" title="{escape(hint)}"'
        f' aria-describedby="{ident}-hint"{required}>'
        f'<span id="{ident}-hint" hidden>{escape(hint)} ({escape(param.type.name)})</span>'
    )


def _table(table: ResultTable, linker: Linker) -> str:
    columns = table.shown
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in columns)
    rows = []
    for row in table.rows:
        cells = "".join(f"<td>{_cell(row.get(c), linker)}</td>" for c in columns)
        rows.append(f"<tr>{cells}</tr>")
    return (
        f'<table id="results-table" aria-labelledby="result-h"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _cell(term: ox.NamedNode | ox.BlankNode | ox.Literal | None, linker: Linker) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        return literal(term, linker)
    return linker.term(term)


def labels_of(table: ResultTable) -> dict[str, str]:
    """IRIs of the table mapped to the ``<column>Label`` value beside them."""
    names: dict[str, str] = {}
    for row in table.rows:
        for column, term in row.items():
            label = row.get(f"{column}Label")
            if isinstance(term, ox.NamedNode) and isinstance(label, ox.Literal):
                names.setdefault(term.value, label.value)
    return names


__all__: Sequence[str] = ("PageLinks", "gallery_page", "labels_of", "query_page")
