"""cpgraph's HTML pages, built as strings with :func:`html.escape` (no template engine).

Every page is plain, accessible HTML5 (``lang``, a skip link, headings in order, labelled
form controls, table headers with ``scope``) styled by the package's own
``/static/cpgraph.css``; only the query page has a script (``/static/query.js``). Nothing is
loaded from elsewhere, so the pages work offline. IRIs under the base are linked to the path
where this server answers them (:func:`cpgraph.publish.linked.local_path`), other IRIs to themselves
when :func:`may_link` allows (http, https, mailto), else shown as text; an IRI is shown by its
label where the graph has one.

The functions take the data classes of :mod:`cpgraph.publish.linked`, :mod:`cpgraph.web.vocabdoc`
and
:mod:`cpgraph.publish.stats` and return the whole page as a string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

import pyoxigraph as ox

from cpgraph.publish.linked import GraphInfo, GraphView, Member, ResourceView, Term, local_path
from cpgraph.publish.stats import ClassCount, SourceCount
from cpgraph.rdf.io import RdfFormat
from cpgraph.rdf.namespaces import RDF, RDFS, XSD, prefixes
from cpgraph.validation.shacl import ValidationOutcome
from cpgraph.web.vocabdoc import NodeShapeDoc, OntologyDoc, Phrase, Ref, ShapesDoc, TermDoc

FORMAT_NAMES = {
    RdfFormat.TURTLE: "Turtle",
    RdfFormat.JSON_LD: "JSON-LD",
    RdfFormat.N_TRIPLES: "N-Triples",
    RdfFormat.RDF_XML: "RDF/XML",
    RdfFormat.TRIG: "TriG",
    RdfFormat.N_QUADS: "N-Quads",
}
TABLE_FORMATS = (
    ("json", "SPARQL JSON"),
    ("csv", "CSV"),
    ("tsv", "TSV"),
    ("xml", "SPARQL XML"),
)
GRAPH_FORMATS = tuple((f.value, n) for f, n in FORMAT_NAMES.items())
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
QUERY_PREFIXES = ("cp", "rdf", "rdfs", "xsd", "skos", "prov", "org", "dcterms", "foaf")
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


def link_or_text(href: str | None, inner: str, *, title: str | None = None) -> str:
    """``inner`` (HTML) as a link to ``href``, or as text where there is no link to make."""
    titled = f' title="{escape(title)}"' if title is not None else ""
    if href is None:
        return f'<span class="unlinked"{titled}>{inner}</span>'
    return f'<a href="{escape(href)}"{titled}>{inner}</a>'


@dataclass(frozen=True, slots=True)
class Alternate:
    """Another representation of the page's resource: its URL, media type and name."""

    href: str
    media_type: str
    name: str


class Linker:
    """Shows IRIs by label (or a prefixed name) and links them where they can be read."""

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

    def link(self, iri: str, *, text: str | None = None, code: bool = False) -> str:
        """An ``<a>`` to ``iri`` showing its label (with its prefixed name when ``code``)."""
        label = text if text is not None else self.names.get(iri)
        shown = escape(label) if label else f"<code>{escape(self.curie(iri))}</code>"
        extra = f' <code class="curie">{escape(self.curie(iri))}</code>' if code and label else ""
        return link_or_text(self.href(iri), shown, title=iri) + extra

    def term(self, term: Term) -> str:
        """Any RDF term: a linked IRI, a literal with its language or datatype, a blank node."""
        if isinstance(term, ox.NamedNode):
            return self.link(term.value)
        if isinstance(term, ox.BlankNode):
            return f'<span class="bnode">_:{escape(term.value)}</span>'
        return literal(term, self)

    def phrase(self, parts: Phrase) -> str:
        """Words and IRIs (see :data:`cpgraph.web.vocabdoc.Phrase`), the IRIs linked."""
        return "".join(self.link(p.iri) if isinstance(p, Ref) else escape(p) for p in parts)


def literal(term: ox.Literal, linker: Linker) -> str:
    """A literal's value, tagged with its language, its datatype shown when not a string."""
    value = escape(term.value)
    if term.language:
        return (
            f'<span lang="{escape(term.language)}">{value}</span>'
            f' <small class="lang">@{escape(term.language)}</small>'
        )
    datatype = term.datatype.value
    if datatype == XSD + "string":
        return f"<span>{value}</span>"
    return f'<span>{value}</span> <small class="datatype">{escape(linker.curie(datatype))}</small>'


def layout(
    title: str,
    body: str,
    *,
    scripts: Sequence[str] = (),
    alternates: Sequence[Alternate] = (),
    heading: str | None = None,
) -> str:
    """A whole page: head, navigation, ``body`` under one ``<h1>``, footer."""
    links = "".join(
        f'<link rel="alternate" type="{escape(a.media_type)}" href="{escape(a.href)}">'
        for a in alternates
    )
    script_tags = "".join(f'<script src="{escape(s)}" defer></script>' for s in scripts)
    nav = "".join(
        f'<li><a href="{href}">{name}</a></li>'
        for href, name in (
            ("/", "Home"),
            ("/browse", "Browse"),
            ("/query", "Query"),
            ("/ontology", "Ontology"),
            ("/shapes", "Shapes"),
            ("/sparql", "SPARQL endpoint"),
            ("/docs", "API"),
        )
    )
    formats = ""
    if alternates:
        formats = (
            '<section class="formats" aria-labelledby="formats-h"><h2 id="formats-h">'
            "Other formats</h2><ul>"
            + "".join(
                f'<li><a href="{escape(a.href)}" type="{escape(a.media_type)}">'
                f"{escape(a.name)}</a></li>"
                for a in alternates
            )
            + "</ul></section>"
        )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} · cpgraph</title>
<link rel="stylesheet" href="/static/cpgraph.css">
{links}{script_tags}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site"><nav aria-label="Site"><a class="brand" href="/">cpgraph</a>
<ul>{nav}</ul></nav></header>
<main id="main">
<h1>{heading if heading is not None else escape(title)}</h1>
{body}
{formats}
</main>
<footer class="site"><p>cpgraph: cleaner-production policy in China, as linked data.
Code Apache-2.0; ontology, shapes and data CC BY 4.0.</p></footer>
</body>
</html>
"""


# ---------------------------------------------------------------------------------------------
# Resources and graphs
# ---------------------------------------------------------------------------------------------


def _sources(graphs: Iterable[str], infos: Mapping[str, GraphInfo], linker: Linker) -> str:
    """The graphs a statement stands in: source document and locator, or the curation graph."""
    items = []
    for g in graphs:
        info = infos.get(g, GraphInfo(g))
        href = linker.href(g)
        if info.source:
            doc = linker.link(info.source, text=info.source_label or None)
            where = escape(info.locator) if info.locator else "extract"
            items.append(f"<li>{doc}, {link_or_text(href, where, title=g)}</li>")
        elif info.kind == "CurationGraph":
            name = escape(g.rsplit("/", 1)[-1])
            items.append(f"<li>{link_or_text(href, f'curation graph: {name}', title=g)}</li>")
        else:
            curie = f"<code>{escape(linker.curie(g))}</code>"
            items.append(f"<li>{link_or_text(href, curie, title=g)}</li>")
    return f'<ul class="sources">{"".join(items)}</ul>'


def _predicate_order(iri: str, linker: Linker) -> tuple[int, str]:
    first = {RDF + "type": 0, RDFS + "label": 1}
    return first.get(iri, 2), (linker.names.get(iri) or linker.curie(iri)).lower()


def resource_page(view: ResourceView, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The page of one resource: labels, types, properties with sources, incoming links."""
    linker = Linker(base, view.names)
    english = next((lab.value for lab in view.labels if lab.language == "en"), None)
    title = english or (view.labels[0].value if view.labels else linker.curie(view.iri))
    parts = []
    if view.types:
        kinds = ", ".join(linker.link(t) for t in view.types)
        parts.append(f'<p class="kind">{kinds}</p>')
    parts.append(f'<p class="iri"><code>{escape(view.iri)}</code></p>')
    if len(view.labels) > 1:
        names = "".join(f"<li>{literal(lab, linker)}</li>" for lab in view.labels)
        parts.append(f'<h2 id="names">Names</h2><ul class="names">{names}</ul>')
    if view.is_graph:
        statements = link_or_text(linker.href(view.iri), "see its statements")
        parts.append(f"<p>This IRI names a graph: {statements}.</p>")
    by_predicate: dict[str, list[str]] = {}
    for s in view.statements:
        cell = (
            f'<div class="value">{linker.term(s.object)}'
            f"{_sources(s.graphs, view.graphs, linker)}</div>"
        )
        by_predicate.setdefault(s.predicate.value, []).append(cell)
    if by_predicate:
        rows = "".join(
            f'<tr><th scope="row">{linker.link(p, code=True)}</th><td>{"".join(values)}</td></tr>'
            for p, values in sorted(
                by_predicate.items(), key=lambda kv: _predicate_order(kv[0], linker)
            )
        )
        parts.append(
            '<h2 id="properties">Properties</h2>'
            '<p class="hint">Each value names the source document and the place in it that '
            "states it.</p>"
            '<table class="properties"><thead><tr><th scope="col">Property</th>'
            f'<th scope="col">Value and source</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    parts.append(_incoming(view, linker))
    return layout(title, "".join(parts), alternates=alternates)


def _incoming(view: ResourceView, linker: Linker) -> str:
    if not view.incoming_count:
        return '<h2 id="incoming">Referenced by</h2><p>Nothing in the graph links here.</p>'
    rows = "".join(
        f"<tr><td>{linker.term(s)}</td><td>{linker.link(p.value, code=True)}</td></tr>"
        for s, p in view.incoming
    )
    shown = len({str(s) for s, _ in view.incoming})
    more = ""
    if view.incoming_count > shown:
        query = f"SELECT DISTINCT ?s ?p WHERE {{ ?s ?p <{view.iri}> }} ORDER BY ?s"
        more = (
            f"<p>Showing the first {len(view.incoming)} links. "
            f'<a href="/query?{urlencode({"query": query})}">List all of them</a>.</p>'
        )
    count = view.incoming_count
    return (
        f'<h2 id="incoming">Referenced by {count} resource{"s" if count != 1 else ""}</h2>'
        '<table class="incoming"><thead><tr><th scope="col">Resource</th>'
        f'<th scope="col">Property</th></tr></thead><tbody>{rows}</tbody></table>{more}'
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
    facts = [("Graph IRI", f"<code>{escape(view.iri)}</code>")]
    if info.kind:
        facts.append(("Kind", linker.link(f"{base}ontology#{info.kind}")))
    if info.source:
        facts.append(("Source document", linker.link(info.source, text=info.source_label)))
    if info.locator:
        facts.append(("Locator", escape(info.locator)))
    if info.comment:
        facts.append(("About", escape(info.comment)))
    facts.append(("Statements", str(view.size)))
    parts = ['<dl class="facts">']
    parts += [f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts]
    parts.append("</dl>")
    parts.append('<h2 id="statements">Statements</h2>')
    if view.size > len(view.triples):
        parts.append(
            f"<p>Showing {len(view.triples)} of {view.size} statements; the other formats "
            "below hold them all.</p>"
        )
    subjects: dict[str, list[ox.Triple]] = {}
    for t in view.triples:
        subjects.setdefault(str(t.subject), []).append(t)
    for run in subjects.values():
        subject = run[0].subject
        heading = linker.term(subject) if not isinstance(subject, ox.Triple) else "?"
        rows = "".join(
            f'<tr><th scope="row">{linker.link(t.predicate.value, code=True)}</th>'
            f"<td>{linker.term(t.object) if not isinstance(t.object, ox.Triple) else '?'}</td></tr>"
            for t in sorted(run, key=lambda t: _predicate_order(t.predicate.value, linker))
        )
        parts.append(
            f'<section class="subject"><h3>{heading}</h3><table class="properties">'
            f'<thead><tr><th scope="col">Property</th><th scope="col">Value</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></section>"
        )
    return layout(title, "".join(parts), alternates=alternates)


# ---------------------------------------------------------------------------------------------
# Ontology and shapes
# ---------------------------------------------------------------------------------------------


def ontology_page(doc: OntologyDoc, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The ontology's documentation: every term, with an anchor named after it."""
    linker = Linker(base, doc.names)
    parts = [f"<p>{escape(doc.description)}</p>", '<dl class="facts">']
    parts.append(f"<dt>Ontology IRI</dt><dd><code>{escape(doc.iri)}</code></dd>")
    parts.append(f"<dt>Term namespace</dt><dd><code>{escape(doc.iri)}#</code> (prefix cp:)</dd>")
    if doc.version:
        parts.append(f"<dt>Version</dt><dd>{escape(doc.version)}</dd>")
    if doc.license:
        licence = link_or_text(linker.href(doc.license), escape(doc.license))
        parts.append(f"<dt>Licence</dt><dd>{licence}</dd>")
    parts.append("</dl>")
    toc = []
    for title, terms in doc.sections:
        slug = title.lower().replace(" ", "-")
        items = ", ".join(
            f'<a href="#{escape(t.name)}">{escape(t.label or t.name)}</a>' for t in terms
        )
        toc.append(f'<li><a href="#{slug}">{escape(title)}</a> ({len(terms)}): {items}</li>')
    parts.append(
        f'<nav aria-label="Terms" class="toc"><h2>Contents</h2><ul>{"".join(toc)}</ul></nav>'
    )
    for title, terms in doc.sections:
        slug = title.lower().replace(" ", "-")
        parts.append(f'<h2 id="{slug}">{escape(title)}</h2>')
        parts += [_term_doc(t, linker) for t in terms]
    return layout(doc.title, "".join(parts), alternates=alternates)


def _classes(values: Sequence[str | tuple[str, ...]], linker: Linker) -> str:
    shown = []
    for value in values:
        if isinstance(value, tuple):
            shown.append("one of " + ", ".join(linker.link(m, code=True) for m in value))
        else:
            shown.append(linker.link(value, code=True))
    return "; ".join(shown)


def _term_doc(term: TermDoc, linker: Linker) -> str:
    rows: list[tuple[str, str]] = [("IRI", f"<code>{escape(term.iri)}</code>")]
    if term.definition:
        rows.append(("Definition", escape(term.definition)))
    rows += [("Scope note", escape(n)) for n in term.scope_notes]
    rows += [("Comment", escape(c)) for c in term.comments]
    is_class = term.kind in ("Classes", "Datatypes")
    if term.supers:
        rows.append(
            ("Subclass of" if is_class else "Subproperty of", _classes(term.supers, linker))
        )
    if term.subs:
        rows.append(("Subclasses" if is_class else "Subproperties", _classes(term.subs, linker)))
    if term.domains:
        rows.append(("Domain", _classes(term.domains, linker)))
    if term.ranges:
        rows.append(("Range", _classes(term.ranges, linker)))
    if term.kind == "Named individuals" and term.types:
        rows.append(("Type", _classes(term.types, linker)))
    for relation, target in term.alignments:
        shown = " ".join(linker.link(t, code=True) for t in target.split())
        rows.append((f"Aligned ({escape(relation)})", shown))
    if is_class and term.kind == "Classes":
        query = urlencode({"class": linker.curie(term.iri)})
        rows.append(("Instances", f'<a href="/browse?{query}">list them</a>'))
    body = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return (
        f'<section class="term" id="{escape(term.name)}" aria-labelledby="{escape(term.name)}-h">'
        f'<h3 id="{escape(term.name)}-h">{escape(term.label or term.name)} '
        f'<code class="curie">cp:{escape(term.name)}</code></h3><dl>{body}</dl></section>'
    )


def shapes_page(doc: ShapesDoc, *, base: str, alternates: Sequence[Alternate]) -> str:
    """The shapes' documentation: each node shape, its target and rules with their messages."""
    linker = Linker(base, doc.names)
    parts = [f"<p>{escape(doc.description)}</p>"]
    parts.append(
        "<p>Validate your own file against these rules with <code>cpgraph validate FILE</code>."
        " A <em>Violation</em> makes the data wrong; a <em>Warning</em> marks what is probably"
        " incomplete.</p>"
    )
    toc = ", ".join(
        f'<a href="#{escape(s.name)}">{escape(s.label or s.name)}</a>' for s in doc.shapes
    )
    parts.append(
        f'<nav aria-label="Shapes" class="toc"><h2>Node shapes ({len(doc.shapes)})</h2>'
        f"<p>{toc}</p></nav>"
    )
    anchored: set[str] = set()
    parts += [_shape_doc(s, linker, anchored) for s in doc.shapes]
    return layout(doc.title, "".join(parts), alternates=alternates)


SUBJECTS_OF = "subjects of "


def _shape_doc(shape: NodeShapeDoc, linker: Linker, anchored: set[str]) -> str:
    facts = []
    if shape.targets:
        facts.append(
            (
                "Applies to",
                ", ".join(
                    linker.link(t, code=True)
                    if not t.startswith(SUBJECTS_OF)
                    else "whatever has a " + linker.link(t[len(SUBJECTS_OF) :], code=True)
                    for t in shape.targets
                ),
            )
        )
    if shape.comment:
        facts.append(("About", escape(shape.comment)))
    if shape.constraint:
        facts.append(("Rule", linker.phrase(shape.constraint)))
    if shape.message:
        facts.append(("Message", escape(shape.message)))
    rows = []
    for rule in shape.rules:
        anchor = ""
        if rule.iri and rule.iri not in anchored:
            anchored.add(rule.iri)
            anchor = f' id="{escape(rule.iri.rsplit("#", 1)[-1])}"'
        constraints = "<br>".join(linker.phrase(c) for c in rule.constraints)
        rows.append(
            f'<tr{anchor}><th scope="row">{linker.phrase(rule.path)}'
            f'<div class="rule-name">{escape(rule.label)}</div></th>'
            f"<td>{constraints}</td>"
            f'<td><span class="severity {escape(rule.severity.lower())}">'
            f"{escape(rule.severity)}</span></td><td>{escape(rule.message)}</td></tr>"
        )
    table = ""
    if rows:
        table = (
            '<table class="rules"><thead><tr><th scope="col">Property</th>'
            '<th scope="col">Rule</th><th scope="col">Severity</th>'
            f'<th scope="col">Message</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
        )
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    return (
        f'<section class="shape" id="{escape(shape.name)}">'
        f'<h2>{escape(shape.label or shape.name)} <code class="curie">cpsh:{escape(shape.name)}'
        f'</code></h2><dl class="facts">{dl}</dl>{table}</section>'
    )


# ---------------------------------------------------------------------------------------------
# Home, browsing and the query page
# ---------------------------------------------------------------------------------------------


def class_table(counts: Sequence[ClassCount], linker: Linker) -> str:
    """A table of classes, each linked to the list of its instances, with counts."""
    rows = "".join(
        f'<tr><td><a href="/browse?{urlencode({"class": linker.curie(c.cls)})}">'
        f"{escape(linker.names.get(c.cls) or linker.curie(c.cls))}</a> "
        f'<code class="curie">{escape(linker.curie(c.cls))}</code></td>'
        f'<td class="n">{c.instances}</td></tr>'
        for c in counts
    )
    return (
        '<table class="classes"><thead><tr><th scope="col">Class</th>'
        f'<th scope="col" class="n">Instances</th></tr></thead><tbody>{rows}</tbody></table>'
    )


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
    linker = Linker(base, names)
    figure_list = "".join(
        f"<div><dt>{escape(name)}</dt><dd>{value:,}</dd></div>" for name, value in figures.items()
    )
    example = urlencode({"query": EXAMPLE_QUERY})
    parts = [
        f'<p class="lead">{escape(description)}</p>',
        f'<h2 id="figures">The dataset</h2><dl class="figures">{figure_list}</dl>',
        '<h2 id="use">Use it</h2><ul class="use">'
        f'<li><a href="/query?{example}">Query it</a> in the browser, with SPARQL</li>'
        '<li><a href="/browse">Browse by class</a>, from any page to the sources of each fact</li>'
        '<li>The <a href="/sparql">SPARQL 1.1 endpoint</a> for programs (GET or POST; '
        "JSON, XML, CSV, TSV, Turtle, N-Triples, JSON-LD, RDF/XML)</li>"
        '<li>The <a href="/ontology">ontology</a> and the <a href="/shapes">SHACL shapes</a> '
        "the data is checked against</li>"
        '<li>Every IRI dereferences: <code>curl -H "Accept: text/turtle" '
        f'{escape(base)}id/org/sepa</code> works here as <a href="/id/org/sepa">/id/org/sepa'
        "</a></li>"
        '<li><a href="/docs">API documentation</a></li></ul>',
    ]
    if sources:
        rows = "".join(
            f"<tr><td>{linker.link(s.source, text=s.label or None)}</td>"
            f'<td class="n">{s.extracts}</td><td class="n">{s.statements}</td>'
            f'<td class="n">{s.entities}</td></tr>'
            for s in sources
        )
        parts.append(
            '<h2 id="sources">Sources</h2><table class="sources-table"><thead><tr>'
            '<th scope="col">Document</th><th scope="col" class="n">Extracts</th>'
            '<th scope="col" class="n">Statements</th><th scope="col" class="n">Entities</th>'
            f"</tr></thead><tbody>{rows}</tbody></table>"
        )
    if classes:
        parts.append(f'<h2 id="classes">Browse by class</h2>{class_table(classes, linker)}')
    parts.append(f'<p class="version">cpgraph {escape(version)}</p>')
    return layout("cpgraph", "".join(parts), heading="cpgraph")


def browse_page(classes: Sequence[ClassCount], *, base: str, names: Mapping[str, str]) -> str:
    """The class index: every class with instances, linked to their list."""
    linker = Linker(base, names)
    body = "<p>Every class that has instances in the graph.</p>" + class_table(classes, linker)
    return layout("Browse by class", body)


def members_page(
    cls: str, members: Sequence[Member], total: int, *, base: str, names: Mapping[str, str]
) -> str:
    """The instances of one class, by label."""
    linker = Linker(base, names)
    name = names.get(cls) or linker.curie(cls)
    items = "".join(f"<li>{linker.link(m.iri, text=m.label or None)}</li>" for m in members)
    more = f"<p>Showing {len(members)} of {total}.</p>" if total > len(members) else ""
    body = (
        f"<p>{total} instance{'s' if total != 1 else ''} of {linker.link(cls, code=True)}"
        f' (<a href="/browse">all classes</a>).</p>{more}<ul class="members">{items}</ul>'
    )
    return layout(f"Instances of {name}", body)


def default_query(base: str) -> str:
    """The query the editor starts with: cpgraph's usual prefixes, then an example."""
    table = prefixes(base)
    head = "".join(f"PREFIX {p}: <{table[p]}>\n" for p in QUERY_PREFIXES)
    return head + "\n" + EXAMPLE_QUERY + "\n"


def query_page(*, base: str, query: str | None = None, fmt: str = "json") -> str:
    """The query page: an editor with line numbers, a format choice, a results area.

    Without scripts the form still works: it submits to ``/sparql`` and the browser shows
    the raw result. With ``/static/query.js`` the result is drawn as a table, errors are
    marked at their line, and a download link follows the chosen format.
    """
    text = query if query is not None else default_query(base)
    config = json.dumps(
        {"base": base, "prefixes": prefixes(base), "endpoint": "/sparql"}, ensure_ascii=True
    ).replace("</", "<\\/")

    def options(group: Sequence[tuple[str, str]]) -> str:
        return "".join(
            f'<option value="{v}"{" selected" if v == fmt else ""}>{escape(n)}</option>'
            for v, n in group
        )

    body = f"""<p>Write a SPARQL 1.1 query; the default graph is the union of every named graph,
and <code>GRAPH ?g {{ ... }}</code> reaches each source extract. The usual prefixes are
declared already.</p>
<form id="query-form" action="/sparql" method="post">
<div class="field"><label for="query">SPARQL query</label>
<div class="editor"><pre class="gutter" id="gutter" aria-hidden="true"></pre>
<textarea id="query" name="query" rows="18" spellcheck="false" autocapitalize="off"
 wrap="off" aria-describedby="query-error">{escape(text)}</textarea></div></div>
<p id="query-error" class="error" role="alert" hidden></p>
<div class="controls"><label for="format">Result format</label>
<select id="format" name="format">
<optgroup label="Tables (SELECT, ASK)">{options(TABLE_FORMATS)}</optgroup>
<optgroup label="Graphs (CONSTRUCT, DESCRIBE)">{options(GRAPH_FORMATS)}</optgroup>
</select>
<button type="submit" id="run">Run query</button>
<a id="download" class="button" href="/sparql?{urlencode({"query": text, "format": fmt})}"
 download>Download the result</a></div>
</form>
<section id="results" aria-labelledby="results-h">
<h2 id="results-h">Results</h2>
<p id="status" role="status">Run the query to see its results here.</p>
<div class="table-wrap"><table id="results-table" hidden></table></div>
</section>
<script type="application/json" id="cpgraph-config">{config}</script>"""
    return layout("Query", body, scripts=["/static/query.js"])


def contribute_page(
    *,
    data: str = "",
    fmt: RdfFormat = RdfFormat.TURTLE,
    outcome: ValidationOutcome | None = None,
    error: str | None = None,
) -> str:
    """The validation form, with the report of what was sent (or the error that stopped it)."""
    options = "".join(
        f'<option value="{f.value}"{" selected" if f is fmt else ""}>'
        f"{escape(f.media_type)}</option>"
        for f in (RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD, RdfFormat.RDF_XML)
    )
    form = (
        '<form method="post" action="/validate" class="contribute">'
        '<p><label for="data">RDF to validate</label></p>'
        f'<textarea id="data" name="data" rows="16" cols="100" spellcheck="false">{escape(data)}'
        '</textarea><p><label for="format">Format</label> '
        f'<select id="format" name="format">{options}</select> '
        '<button type="submit">Validate</button></p></form>'
        "<p>Validation sees the graph: references to agencies, sectors and places it holds are "
        "checked against it. Nothing is written; committing needs a contributor's token "
        "(<code>POST /contributions</code>).</p>"
    )
    report = ""
    if error is not None:
        report = (
            '<section class="report"><h2>Cannot validate</h2>'
            f'<p class="error">{escape(error)}</p></section>'
        )
    elif outcome is not None:
        verdict = "Conforms" if outcome.conforms else "Does not conform"
        rows = "".join(
            f'<tr class="{escape(r.severity.value.lower())}"><td>{escape(r.severity.value)}</td>'
            f"<td>{escape(r.focus_node)}</td><td>{escape(r.path or '')}</td>"
            f"<td>{escape(r.value or '')}</td><td>{escape(r.message)}</td></tr>"
            for r in outcome.results
        )
        table = (
            (
                "<table><thead><tr><th>severity</th><th>node</th><th>property</th>"
                "<th>value</th><th>what to do</th></tr></thead>"
                f"<tbody>{rows}</tbody></table>"
            )
            if outcome.results
            else ""
        )
        report = (
            f'<section class="report"><h2>{verdict}</h2><p>{len(outcome.violations)} '
            f"violation(s), {len(outcome.results)} result(s).</p>{table}</section>"
        )
    return layout("Validate a contribution", form + report)
