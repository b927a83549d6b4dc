"""What the service says about itself: a SPARQL Service Description and dataset figures."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import pyoxigraph as ox

from cpgraph.config import Settings
from cpgraph.publish.describe import FORMATS, VOID
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.rdf.namespaces import RDF, SD, graph_iri
from cpgraph.store import Store
from cpgraph.store.configured import describe_store, is_remote

FIGURES_FILE = "cpgraph-figures.json"  # in a build's folder, beside the database's own files


@dataclass(frozen=True, slots=True)
class DatasetFigures:
    """Counts shown on the home page and in the service description."""

    triples: int  # the statements of the dataset, each once (the union of the graphs)
    graphs: int
    source_extracts: int
    entities: int
    quads: int  # the statements counted once per graph holding them


def dataset_figures(store: Store, *, base: str) -> DatasetFigures:
    """Count the store's statements, graphs, source extracts and typed entities."""
    cp = f"{base}ontology#"
    triples = _count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    quads = _count(
        store,
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
        union_default_graph=False,
    )
    extracts = _count(
        store, f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ ?g a <{cp}SourceExtract> }}"
    )
    entities = _count(
        store,
        f"""
        SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          GRAPH ?g {{ ?s a ?type }} FILTER(STRSTARTS(STR(?s), "{base}id/"))
        }}
    """,
        union_default_graph=False,
    )
    return DatasetFigures(
        triples=triples,
        graphs=len(store.named_graphs()),
        source_extracts=extracts,
        entities=entities,
        quads=quads,
    )


def _count(store: Store, query: str, *, union_default_graph: bool = True) -> int:
    """The number ``?n`` a counting query answers (its result closed: a remote store's
    connection is freed)."""
    result = store.query(query, union_default_graph=union_default_graph)
    try:
        return int(next(result.rows())["n"].value)
    finally:
        result.close()


def build_figures(store: Store, build: Path | None, *, base: str) -> DatasetFigures:
    """The figures of one build of the store, counted once and kept in its folder; counted
    each time when there is no build folder (a remote store, ``build`` None).

    A build never changes (see :mod:`cpgraph.store.builds`), so neither do its figures, and
    counting
    them means reading every statement: seconds from ten million on, which every server
    process would otherwise spend at each start and after each write. The first to count
    (``cpgraph build``, or the first server process on a build made by a write) keeps them in
    the build's folder (:data:`FIGURES_FILE`, written whole or not at all); the database
    ignores a file it did not write, and the figures go when the build goes. Figures kept
    for another base IRI, or unreadable, are counted again; a folder that cannot be written
    to (a read-only disk) only means they are not kept.
    """
    if build is None:
        return dataset_figures(store, base=base)
    kept = kept_figures(build, base=base)
    if kept is not None:
        return kept
    figures = dataset_figures(store, base=base)
    scratch = build / f".{FIGURES_FILE}.{os.getpid()}"
    with contextlib.suppress(OSError):
        scratch.write_text(json.dumps({"base": base, "figures": asdict(figures)}), encoding="utf-8")
        os.replace(scratch, build / FIGURES_FILE)
    return figures


def kept_figures(build: Path, *, base: str) -> DatasetFigures | None:
    """The figures kept in a build's folder by :func:`build_figures`, or None."""
    try:
        kept = json.loads((build / FIGURES_FILE).read_text(encoding="utf-8"))
        if kept["base"] == base:
            return DatasetFigures(**kept["figures"])
    except (OSError, ValueError, TypeError, KeyError):
        pass  # not counted yet, or not readable
    return None


def answering_store(settings: Settings) -> dict[str, str]:
    """Which store answers, as the home page's JSON and the service description say it:
    its ``kind`` (``embedded`` or ``remote``) and a ``description`` (a remote store's query
    endpoint, never its credentials; not the embedded store's folder on this machine)."""
    if is_remote(settings):
        return {"kind": "remote", "description": describe_store(settings)}
    return {"kind": "embedded", "description": "the embedded Oxigraph store"}


def service_description(
    endpoint: str,
    *,
    fmt: RdfFormat,
    base: str,
    figures: DatasetFigures | None = None,
    update: bool = False,
    store: str | None = None,
) -> bytes:
    """The SPARQL 1.1 Service Description of the endpoint at ``endpoint``, serialised.

    ``update`` says that the endpoint also takes SPARQL 1.1 Update (the operator has set a
    token to write with); ``store`` which store answers (:func:`answering_store`), said in
    the service's ``dcterms:description``.
    """

    def n(iri: str) -> ox.NamedNode:
        return ox.NamedNode(iri)

    service = n(endpoint)
    dataset = ox.BlankNode("dataset")
    default_graph = ox.BlankNode("defaultGraph")
    triples = [
        ox.Triple(service, n(RDF + "type"), n(SD + "Service")),
        ox.Triple(service, n(SD + "endpoint"), service),
        ox.Triple(service, n(SD + "supportedLanguage"), n(SD + "SPARQL11Query")),
        ox.Triple(service, n(SD + "feature"), n(SD + "UnionDefaultGraph")),
        ox.Triple(service, n(SD + "feature"), n(SD + "BasicFederatedQuery")),
        ox.Triple(service, n(SD + "defaultDataset"), dataset),
        ox.Triple(dataset, n(RDF + "type"), n(SD + "Dataset")),
        ox.Triple(dataset, n(SD + "defaultGraph"), default_graph),
        ox.Triple(default_graph, n(RDF + "type"), n(SD + "Graph")),
        ox.Triple(
            dataset,
            n("http://purl.org/dc/terms/title"),
            ox.Literal("cpgraph: cleaner-production policy in China", language="en"),
        ),
        ox.Triple(dataset, n(VOID + "sparqlEndpoint"), service),
        ox.Triple(dataset, n(VOID + "vocabulary"), n(f"{base}ontology#")),
        ox.Triple(dataset, n("http://purl.org/dc/terms/source"), n(graph_iri("ontology", base))),
    ]
    if update:
        triples.append(ox.Triple(service, n(SD + "supportedLanguage"), n(SD + "SPARQL11Update")))
    if store is not None:
        triples.append(
            ox.Triple(
                service,
                n("http://purl.org/dc/terms/description"),
                ox.Literal(f"Queries are answered by {store}.", language="en"),
            )
        )
    for written in (*ResultsFormat, *RdfFormat):
        triples.append(ox.Triple(service, n(SD + "resultFormat"), n(FORMATS + written.w3c)))
    if figures is not None:
        triples.append(
            ox.Triple(
                default_graph,
                n(VOID + "triples"),
                ox.Literal(
                    str(figures.triples), datatype=n("http://www.w3.org/2001/XMLSchema#integer")
                ),
            )
        )
    content = ox.serialize(
        triples,
        format=fmt.oxigraph,
        prefixes={"sd": SD, "void": VOID, "dcterms": "http://purl.org/dc/terms/"},
    )
    assert content is not None  # no output file given: the bytes are returned
    return content
