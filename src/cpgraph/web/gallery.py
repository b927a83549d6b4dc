"""The saved-query gallery's HTML pages (templates ``gallery.html`` and ``saved_query.html``).

``/queries`` lists the library with each question's description and tags; ``/queries/NAME``
in a browser shows a form for the query's parameters (a plain GET form: it works without
JavaScript), the result as a table and, where the result suits one, as a chart drawn by
:mod:`cpgraph.web.charts`, with links to the SVG and to every result format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

import pyoxigraph as ox
from markupsafe import Markup

from cpgraph.saved.library import Library
from cpgraph.saved.query import SavedQuery
from cpgraph.web.charts import ResultTable
from cpgraph.web.pages import TABLE_FORMATS, Linker, render_page


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
    return render_page(
        "gallery.html",
        "Saved queries",
        queries=[q for q in library if tag is None or tag in q.tags],
        tags=library.tags(),
        tag=tag,
    )


def query_page(
    query: SavedQuery,
    table: ResultTable,
    *,
    values: Mapping[str, str],
    chart_svg: Markup | None,
    links: PageLinks,
    base: str,
    names: Mapping[str, str] | None = None,
) -> str:
    """One saved query: its form, chart and result table. ``chart_svg`` is the chart's markup
    from :func:`cpgraph.web.charts.render_svg`, embedded as it is."""
    current = {k: v for k, v in values.items() if v}
    paging = {"page": links.page, "per_page": links.per_page}
    downloads = [
        (f"/queries/{query.name}?{urlencode({**current, 'format': fmt, **paging})}", label)
        for fmt, label in TABLE_FORMATS
    ]
    return render_page(
        "saved_query.html",
        query.title,
        Linker(base, names),
        query=query,
        fields=[(p, values.get(p.name, "")) for p in query.parameters],
        chart=chart_svg,
        svg_href=f"/queries/{query.name}.svg?{urlencode(current)}".rstrip("?"),
        downloads=downloads,
        count=len(table.rows),
        page=links.page if links.page > 1 or links.next else None,
        previous=_html(links.previous) if links.previous else None,
        next=_html(links.next) if links.next else None,
        table=table,
    )


def _html(url: str) -> str:
    return url if "format=" in url else url + ("&" if "?" in url else "?") + "format=html"


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
