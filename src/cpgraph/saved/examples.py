"""The library as RDF: each saved query a SPARQL example in the SIB ``sparql-examples``
convention, in the named graph ``<base>graph/queries``."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from cpgraph.rdf import Term
from cpgraph.rdf.namespaces import DCTERMS, PROV, RDF, RDFS, SCHEMA, SH, XSD, graph_iri, prefixes
from cpgraph.saved.library import QUERIES_GRAPH, Library, library_folder, load_library


def examples_quads(library: Library, *, base: str) -> list[ox.Quad]:
    """The saved queries as SPARQL examples (SIB convention) in ``<base>graph/queries``.

    Each query is a ``sh:SPARQLExecutable`` (and ``sh:SPARQLSelectExecutable`` or the class
    of its form) with its title as ``rdfs:label``, its description as ``rdfs:comment``, its
    text as ``sh:select`` (without the header), its tags as ``schema:keywords``, the
    endpoint as ``schema:target`` and the prefixes it may use as ``sh:prefixes``.
    """
    graph = ox.NamedNode(graph_iri(QUERIES_GRAPH, base))
    declarations = ox.NamedNode(f"{graph.value}#prefixes")
    quads: list[ox.Quad] = []

    def add(s: ox.NamedNode | ox.BlankNode, p: str, o: Term) -> None:
        quads.append(ox.Quad(s, ox.NamedNode(p), o, graph))

    add(graph, RDF + "type", ox.NamedNode(f"{base}ontology#CurationGraph"))
    add(graph, PROV + "wasAttributedTo", ox.NamedNode(f"{base}id/org/cpgraph-curators"))
    add(
        graph,
        RDFS + "comment",
        ox.Literal(
            "The saved queries of cpgraph as SPARQL examples (SIB sparql-examples "
            "convention), generated from the queries/ folder at build time.",
            language="en",
        ),
    )
    for prefix, namespace in sorted(prefixes(base).items()):
        declaration = ox.BlankNode(f"prefix{prefix}")
        add(declarations, SH + "declare", declaration)
        add(declaration, SH + "prefix", ox.Literal(prefix))
        add(
            declaration,
            SH + "namespace",
            ox.Literal(namespace, datatype=ox.NamedNode(XSD + "anyURI")),
        )
    for query in library:
        node = ox.NamedNode(query.iri(base))
        add(node, RDF + "type", ox.NamedNode(SH + "SPARQLExecutable"))
        add(node, RDF + "type", ox.NamedNode(query.form.executable_class))
        add(node, RDFS + "label", ox.Literal(query.title, language="en"))
        add(node, RDFS + "comment", ox.Literal(query.description or query.title, language="en"))
        add(node, query.form.text_property, ox.Literal(query.text))
        add(node, SH + "prefixes", declarations)
        add(node, SCHEMA + "target", ox.NamedNode(f"{base}sparql"))
        add(node, DCTERMS + "identifier", ox.Literal(query.name))
        for tag in query.tags:
            add(node, SCHEMA + "keywords", ox.Literal(tag))
    return quads


def saved_query_quads(source_dir: Path, *, base: str) -> list[ox.Quad]:
    """The examples graph of the library in ``source_dir`` (for the build).

    Raises:
        InputError, QuerySyntaxError: if a saved query is malformed.
    """
    return examples_quads(load_library(library_folder(source_dir)), base=base)
