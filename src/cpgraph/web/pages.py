"""cpgraph's HTML pages, rendered from the templates in ``cpgraph/web/templates``.

Every page is plain, accessible HTML5 (``lang``, a skip link, headings in order, labelled
form controls, table headers with ``scope``) styled by the package's own
``/static/cpgraph.css``; only the query page has scripts (YASGUI, from ``/static/yasgui``,
and ``/static/query.js``). Nothing is loaded from elsewhere, so the pages work offline.
IRIs under the base are linked to the path where this server answers them
(:func:`cpgraph.publish.linked.local_path`), other IRIs to themselves when :func:`may_link`
allows (http, https, mailto), else shown as text; an IRI is shown by its label where the
graph has one (:class:`Linker`, used by the templates' macros).

The functions take the data classes of :mod:`cpgraph.publish.linked`,
:mod:`cpgraph.web.vocabdoc` and :mod:`cpgraph.publish.stats` and return the whole page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from cpgraph.publish.linked import GraphView, Member, ResourceView, Statement, local_path
from cpgraph.publish.stats import ClassCount, SourceCount
from cpgraph.rdf.formats import CORE_RDF_FORMATS, LINKED_DATA_FORMATS, RdfFormat, ResultsFormat
from cpgraph.rdf.namespaces import RDF, RDFS, prefixes
from cpgraph.validation.records import ContributionRecord
from cpgraph.validation.shacl import ValidationOutcome
from cpgraph.web.render import render
from cpgraph.web.vocabdoc import NodeShapeDoc, OntologyDoc, PropertyRule, ShapesDoc

_TABLES = (ResultsFormat.JSON, ResultsFormat.CSV, ResultsFormat.TSV, ResultsFormat.XML)
TABLE_FORMATS = tuple((f.value, f.label) for f in _TABLES)
GRAPH_FORMATS = tuple((f.value, f.label) for f in LINKED_DATA_FORMATS)
EXAMPLE_QUERY = """SELECT ?instrument ?label ?date WHERE {
  ?instrument a cp:Law ;
              rdfs:label ?label .
  OPTIONAL { ?instrument cp:dateIssued ?date }
}
ORDER BY ?date
LIMIT 100"""
# Names for the core terms that no vocabulary in the store labels.
CORE_NAMES = {
    RDF + "type": "type",
    RDFS + "label": "label",
    RDFS + "comment": "description",
    RDFS + "seeAlso": "see also",
    RDFS + "subClassOf": "subclass of",
}
LINK_SCHEMES = frozenset({"http", "https", "mailto"})
# What a browser's URL parser ignores: C0 controls and spaces around a URL, tabs and line
# breaks anywhere in it (so "java\tscript:" is "javascript:" to it).
_URL_EDGES = "".join(map(chr, range(0x21)))
_URL_IGNORED = str.maketrans("", "", "\t\n\r")


def may_link(iri: str) -> bool:
    """Whether a page may make ``iri`` a link: only http, https and mailto IRIs, read as a
    browser reads an ``href`` (case-insensitive scheme, controls and whitespace ignored).

    Any other scheme (``javascript:``, ``data:``, ``vbscript:``...) could run in the page's
    origin when clicked, and an IRI in the graph or a request can be anything: it is shown
    as text instead.
    """
    scheme, colon, _ = iri.strip(_URL_EDGES).translate(_URL_IGNORED).partition(":")
    return bool(colon) and scheme.isascii() and scheme.lower() in LINK_SCHEMES


@dataclass(frozen=True, slots=True)
class Alternate:
    """Another representation of the page's resource: its URL, media type and name."""

    href: str
    media_type: str
    name: str


class Linker:
    """How the pages show IRIs: by label or prefixed name, linked where they can be read
    (the templates' ``link`` and ``term`` macros use it)."""

    def __init__(self, base: str, names: Mapping[str, str] | None = None) -> None:
        """``names`` maps IRIs to the labels to show."""
        self.base = base
        self.names = CORE_NAMES | dict(names or {})
        self._prefixes = sorted(prefixes(base).items(), key=lambda kv: -len(kv[1]))

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` goes: this server's page for it, else the IRI itself, or
        None where it may not be a link (:func:`may_link`)."""
        local = local_path(iri, self.base)
        if local is not None:
            return local
        return iri if may_link(iri) else None

    def curie(self, iri: str) -> str:
        """``iri`` as a prefixed name where a cpgraph prefix fits, else the IRI."""
        for prefix, namespace in self._prefixes:
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace) :]}"
        return iri


def render_page(
    template: str,
    title: str,
    linker: Linker | None = None,
    *,
    alternates: Sequence[Alternate] = (),
    scripts: Sequence[str] = (),
    heading: str | None = None,
    **context: Any,
) -> str:
    """A whole page from ``template`` (which extends ``layout.html``): ``title`` in the head
    and, unless ``heading`` is given, as its ``<h1>``; ``linker`` for the term macros."""
    return render(
        template,
        title=title,
        heading=heading,
        alternates=alternates,
        scripts=scripts,
        linker=linker,
        **context,
    )


def _predicate_order(iri: str, linker: Linker) -> tuple[int, str]:
    first = {RDF + "type": 0, RDFS + "label": 1}
    return first.get(iri, 2), (linker.names.get(iri) or linker.curie(iri)).lower()


# ---------------------------------------------------------------------------------------------
# Resources and graphs
# ---------------------------------------------------------------------------------------------


def resource_page(view: ResourceView, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The page of one resource: labels, types, properties with sources, incoming links."""
    linker = Linker(base, view.names)
    english = next((lab.value for lab in view.labels if lab.language == "en"), None)
    title = english or (view.labels[0].value if view.labels else linker.curie(view.iri))
    by_predicate: dict[str, list[Statement]] = {}
    for s in view.statements:
        by_predicate.setdefault(s.predicate.value, []).append(s)
    properties = sorted(by_predicate.items(), key=lambda kv: _predicate_order(kv[0], linker))
    shown = len({str(s) for s, _ in view.incoming})
    everything = None
    if view.incoming_count > shown:
        everything = f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{view.iri}> }} ORDER BY ?s"
    return render_page(
        "resource.html",
        title,
        linker,
        alternates=alternates,
        view=view,
        properties=properties,
        everything=everything,
    )


def graph_page(view: GraphView, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The page of one named graph: where it comes from, then its statements by subject."""
    linker = Linker(base, view.names)
    info = view.info
    if info.kind == "SourceExtract":
        title = f"Source extract: {info.locator or linker.curie(view.iri)}"
    elif info.kind == "CurationGraph":
        title = f"Curation graph: {view.iri.rsplit('/', 1)[-1]}"
    else:
        title = f"Graph {linker.curie(view.iri)}"
    subjects: dict[str, list[ox.Triple]] = {}
    for t in view.triples:
        subjects.setdefault(str(t.subject), []).append(t)
    runs = [
        sorted(run, key=lambda t: _predicate_order(t.predicate.value, linker))
        for run in subjects.values()
    ]
    return render_page(
        "graph.html",
        title,
        linker,
        alternates=alternates,
        view=view,
        kind=f"{base}ontology#{info.kind}" if info.kind else None,
        subjects=runs,
    )


# ---------------------------------------------------------------------------------------------
# Ontology and shapes
# ---------------------------------------------------------------------------------------------


def ontology_page(doc: OntologyDoc, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The ontology's documentation: every term, with an anchor named after it."""
    linker = Linker(base, doc.names)
    return render_page("ontology.html", doc.title, linker, alternates=alternates, doc=doc)


def shapes_page(doc: ShapesDoc, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The shapes' documentation: each node shape, its target and rules with their messages.

    A rule's row carries its IRI's name as an anchor the first time the rule appears.
    """
    linker = Linker(base, doc.names)
    anchored: set[str] = set()
    shapes: list[tuple[NodeShapeDoc, list[tuple[PropertyRule, str | None]]]] = []
    for shape in doc.shapes:
        rules: list[tuple[PropertyRule, str | None]] = []
        for rule in shape.rules:
            anchor = None
            if rule.iri and rule.iri not in anchored:
                anchored.add(rule.iri)
                anchor = rule.iri.rsplit("#", 1)[-1]
            rules.append((rule, anchor))
        shapes.append((shape, rules))
    return render_page(
        "shapes.html", doc.title, linker, alternates=alternates, doc=doc, shapes=shapes
    )


# ---------------------------------------------------------------------------------------------
# Home, browsing and the query page
# ---------------------------------------------------------------------------------------------


def home_page(
    *,
    description: str,
    figures: Mapping[str, int],
    classes: Sequence[ClassCount],
    sources: Sequence[SourceCount],
    base: str,
    names: Mapping[str, str],
    version: str,
) -> str:
    """The home page: what the dataset is, its figures, classes, sources and how to use it."""
    return render_page(
        "home.html",
        "cpgraph",
        Linker(base, names),
        heading="cpgraph",
        description=description,
        figures=figures,
        classes=classes,
        sources=sources,
        base=base,
        example=EXAMPLE_QUERY,
        version=version,
    )


def browse_page(classes: Sequence[ClassCount], *, base: str, names: Mapping[str, str]) -> str:
    """The class index: every class with instances, linked to their list."""
    return render_page("browse.html", "Browse by class", Linker(base, names), classes=classes)


def members_page(
    cls: str, members: Sequence[Member], total: int, *, base: str, names: Mapping[str, str]
) -> str:
    """The instances of one class, by label."""
    linker = Linker(base, names)
    name = names.get(cls) or linker.curie(cls)
    return render_page(
        "members.html", f"Instances of {name}", linker, cls=cls, members=members, total=total
    )


def default_query(base: str) -> str:
    """The query the editor starts with: the server's predeclared prefixes (all of them, so
    the text also runs elsewhere), then an example."""
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes(base).items())
    return head + "\n" + EXAMPLE_QUERY + "\n"


def query_page(*, base: str, query: str | None = None, fmt: str = "json") -> str:
    """The query page: YASGUI, from the package, set up for this server's ``/sparql``.

    ``/static/query.js`` gives YASGUI the server's prefixes (for completion and for showing
    results) and ``query`` (from a link's ``?query=``) as a tab of its own. Without scripts
    the form it replaces still works: it submits to ``/sparql`` and the browser shows the
    raw result.
    """
    text = query if query is not None else default_query(base)
    return render_page(
        "query.html",
        "Query",
        scripts=["/static/yasgui/yasgui.min.js", "/static/query.js"],
        text=text,
        fmt=fmt,
        table_formats=TABLE_FORMATS,
        graph_formats=GRAPH_FORMATS,
        config={
            "base": base,
            "prefixes": prefixes(base),
            "endpoint": "/sparql",
            "query": text,
            "given": query is not None,
        },
    )


# ---------------------------------------------------------------------------------------------
# Contributions
# ---------------------------------------------------------------------------------------------


def contribute_page(
    *,
    data: str = "",
    fmt: RdfFormat = RdfFormat.TURTLE,
    outcome: ValidationOutcome | None = None,
    error: str | None = None,
) -> str:
    """The validation form, with the report of what was sent (or the error that stopped it)."""
    return render_page(
        "contribute.html",
        "Validate a contribution",
        data=data,
        fmt=fmt,
        formats=CORE_RDF_FORMATS,
        outcome=outcome,
        error=error,
    )


def contributions_page(entries: Sequence[tuple[ContributionRecord, str]]) -> str:
    """Every committed contribution, each with the URL of its record."""
    return render_page("contributions.html", "Contributions", entries=entries)
