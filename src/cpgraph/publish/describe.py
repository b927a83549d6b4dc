"""The dataset description, generated from the store: VoID and DCAT in one named graph.

The description says what the store holds (triples, entities, distinct subjects and objects,
a partition per class and per property, a subset per named graph with its source document,
the vocabularies used) and how to get it (the SPARQL endpoint, the dumps with their media
types and, once written, their byte sizes and SHA-256 checksums), with title, description,
licence, publisher and the source documents. Nothing in it is written by hand except the
title, the description and the licence below.

It lives in the named graph ``<base>graph/void`` (:func:`description_graph`), which is not in
the store: exports add it (see :mod:`cpgraph.publish.export`), ``/.well-known/void`` serves it.
Every
IRI it mints is under ``<base>dataset`` and uses no blank node, so it can be appended to any
dump without clashing with the dump's own blank nodes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox

from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.namespaces import DCTERMS, PROV, RDF, RDFS, SD, XSD, graph_iri, prefixes, vocab
from cpgraph.store import Store

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
SPDX = "http://spdx.org/rdf/terms#"
FORMATS = "http://www.w3.org/ns/formats/"
IANA = "https://www.iana.org/assignments/media-types/"
LICENCE = "https://creativecommons.org/licenses/by/4.0/"
TITLE = "cpgraph: cleaner-production policy in China"
DESCRIPTION = (
    "A knowledge graph of cleaner-production policy in China: the agencies, councils, working "
    "groups, universities, enterprises and people; the laws, measures, notices, standards, "
    "indicator systems, plans and audit schemes they issued; sectors, programmes, places, "
    "events, historical stages and reported figures. Every statement sits in a named graph "
    "that names the source document and the place in it that the statement came from."
)
KEYWORDS = ("cleaner production", "China", "environmental policy", "linked data")

# Per kind of partition: the query for each partition's ?x and size ?n, the predicates
# that count them, link one and state its size.
_PARTITIONS = {
    "class": (
        "SELECT ?x (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?x FILTER(ISIRI(?x)) } "
        "GROUP BY ?x ORDER BY ?x",
        "classes",
        "classPartition",
        "entities",
    ),
    "property": (
        "SELECT ?x (COUNT(*) AS ?n) WHERE { ?s ?x ?o } GROUP BY ?x ORDER BY ?x",
        "properties",
        "propertyPartition",
        "triples",
    ),
}
_BUILD_STAMP = re.compile(r"^(\d{8}T\d{6})")


@dataclass(frozen=True, slots=True)
class BuildInfo:
    """Which build of the store is described: its folder name and when it was made (UTC)."""

    id: str
    created: datetime


def build_info(store: Store) -> BuildInfo:
    """The build a store was opened from (its folder name and creation time).

    A build folder is named after the moment it was made (``20261123T180102-...``); other
    folders fall back to their modification time, and an in-memory store to now.
    """
    if store.path is None:
        return BuildInfo(f"memory-{id(store):x}", datetime.now(UTC).replace(microsecond=0))
    path = Path(store.path).resolve()
    match = _BUILD_STAMP.match(path.name)
    if match:
        created = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    else:
        created = datetime.fromtimestamp(int(path.stat().st_mtime), UTC)
    return BuildInfo(path.name, created)


@dataclass(frozen=True, slots=True)
class Distribution:
    """One downloadable dump: its file name, format, compression and (once written) size."""

    name: str
    fmt: RdfFormat
    gzip: bool
    byte_size: int | None = None
    sha256: str | None = None

    @property
    def media_type(self) -> str:
        """The media type of the file as served (gzip for compressed dumps)."""
        return "application/gzip" if self.gzip else self.fmt.media_type

    @property
    def title(self) -> str:
        """A readable title: the format, what it holds, the compression."""
        scope = "every named graph" if self.fmt.holds_graphs else "the union of the graphs"
        packed = ", gzip-compressed" if self.gzip else ""
        return f"{self.fmt.label} dump of {scope}{packed}"


def dump_distributions() -> list[Distribution]:
    """The standard dumps: every format, plain and gzipped, named ``cpgraph.<ext>[.gz]``."""
    return [
        Distribution(f"cpgraph.{fmt.value}{'.gz' if packed else ''}", fmt, packed)
        for fmt in RdfFormat
        for packed in (False, True)
    ]


def description_graph(base: str) -> str:
    """The IRI of the named graph that holds the description, ``<base>graph/void``."""
    return graph_iri("void", base)


def dataset_iri(base: str) -> str:
    """The IRI of the dataset the description describes, ``<base>dataset``."""
    return f"{base}dataset"


def describe(
    store: Store,
    *,
    base: str,
    distributions: Sequence[Distribution] = (),
    build: BuildInfo | None = None,
) -> list[ox.Quad]:
    """The VoID and DCAT description of the store, as quads in :func:`description_graph`.

    Byte sizes and checksums are stated for the distributions that carry them (a dump cannot
    state its own size, so the copy embedded in a dump leaves them out).

    Raises:
        StoreError: if the store fails while being counted.
    """
    return _Describer(store, base, build or build_info(store)).run(distributions)


class _Describer:
    def __init__(self, store: Store, base: str, build: BuildInfo) -> None:
        self.store = store
        self.base = base
        self.build = build
        self.graph = ox.NamedNode(description_graph(base))
        self.dataset = ox.NamedNode(dataset_iri(base))
        self.quads: list[ox.Quad] = []
        self.short = {ns: p for p, ns in prefixes(base).items()}

    def add(self, s: ox.NamedNode, p: str, o: ox.NamedNode | ox.Literal) -> None:
        self.quads.append(ox.Quad(s, ox.NamedNode(p), o, self.graph))

    def iri(self, s: ox.NamedNode, p: str, o: str) -> None:
        self.add(s, p, ox.NamedNode(o))

    def count(self, s: ox.NamedNode, p: str, n: int) -> None:
        self.add(s, p, ox.Literal(str(n), datatype=ox.NamedNode(XSD + "integer")))

    def text(self, s: ox.NamedNode, p: str, value: str, *, lang: str | None = "en") -> None:
        self.add(s, p, ox.Literal(value, language=lang) if lang else ox.Literal(value))

    def select(self, sparql: str) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        return list(self.store.query(sparql, union_default_graph=True).rows())

    def number(self, sparql: str) -> int:
        rows = self.select(sparql)
        return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0

    def minted(self, kind: str, iri: str) -> ox.NamedNode:
        """A stable IRI under the dataset for a partition of ``iri`` (readable where it can)."""
        for namespace, prefix in sorted(self.short.items(), key=lambda kv: -len(kv[0])):
            local = iri[len(namespace) :]
            if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z0-9_\-./]+", local):
                return ox.NamedNode(f"{self.dataset.value}/{kind}/{prefix}-{local}")
        digest = hashlib.sha256(iri.encode()).hexdigest()[:16]
        return ox.NamedNode(f"{self.dataset.value}/{kind}/{digest}")

    def run(self, distributions: Sequence[Distribution]) -> list[ox.Quad]:
        d = self.dataset
        self._about(d)
        self._figures(d)
        classes = self._partitions(d, "class")
        properties = self._partitions(d, "property")
        for namespace in sorted({_namespace(i) for i in [*classes, *properties]}):
            self.iri(d, VOID + "vocabulary", namespace)
        self._graphs(d)
        self._sources(d)
        self._access(d, distributions)
        # Subject by subject (a stable sort keeps each subject's statements in order), so
        # that serialisers group them.
        unique = list(dict.fromkeys(self.quads))
        return sorted(unique, key=lambda q: str(q.subject))

    def _about(self, d: ox.NamedNode) -> None:
        self.iri(d, RDF + "type", VOID + "Dataset")
        self.iri(d, RDF + "type", DCAT + "Dataset")
        self.text(d, DCTERMS + "title", TITLE)
        self.text(d, RDFS + "label", TITLE)
        self.text(d, DCTERMS + "description", DESCRIPTION)
        for keyword in KEYWORDS:
            self.text(d, DCAT + "keyword", keyword)
        self.iri(d, DCTERMS + "license", LICENCE)
        publisher = f"{self.base}id/org/cpgraph-curators"
        self.iri(d, DCTERMS + "publisher", publisher)
        self.text(ox.NamedNode(publisher), RDFS + "label", "cpgraph curators")
        self.iri(d, DCAT + "landingPage", self.base)
        self.add(d, VOID + "uriSpace", ox.Literal(f"{self.base}id/"))
        self.add(
            d,
            DCTERMS + "modified",
            ox.Literal(xsd_datetime(self.build.created), datatype=ox.NamedNode(XSD + "dateTime")),
        )
        self.text(d, DCTERMS + "identifier", self.build.id, lang=None)
        self.iri(d, VOID + "vocabulary", vocab(self.base))

    def _figures(self, d: ox.NamedNode) -> None:
        # The dataset's statements each once (the union), as VoID means; the graphs' own
        # counts (void:subset) add up to more, a statement made by several sources being in each.
        self.count(d, VOID + "triples", self.number("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"))
        self.count(
            d,
            VOID + "entities",
            self.number(
                f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o "
                f'FILTER(ISIRI(?s) && STRSTARTS(STR(?s), "{self.base}id/")) }}'
            ),
        )
        self.count(
            d,
            VOID + "distinctSubjects",
            self.number("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"),
        )
        self.count(
            d,
            VOID + "distinctObjects",
            self.number("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"),
        )

    def _partitions(self, d: ox.NamedNode, kind: str) -> list[str]:
        """A partition of the dataset per class or per property, with its size."""
        query, total, partition, measure = _PARTITIONS[kind]
        rows = self.select(query)
        self.count(d, VOID + total, len(rows))
        for row in rows:
            value = row["x"].value
            part = self.minted(kind, value)
            self.add(d, VOID + partition, part)
            self.iri(part, RDF + "type", VOID + "Dataset")
            self.iri(part, VOID + kind, value)
            self.count(part, VOID + measure, int(row["n"].value))
        return [row["x"].value for row in rows]

    def _graphs(self, d: ox.NamedNode) -> None:
        rows = self.select(
            f"""SELECT ?g (COUNT(*) AS ?n) (SAMPLE(?src) AS ?source) (SAMPLE(?k) AS ?kind)
            WHERE {{
              GRAPH ?g {{ ?s ?p ?o }}
              OPTIONAL {{ ?g <{PROV}wasDerivedFrom> ?src }}
              OPTIONAL {{ ?g a ?k FILTER(STRSTARTS(STR(?k), "{vocab(self.base)}")) }}
            }} GROUP BY ?g ORDER BY ?g"""
        )
        for row in rows:
            name = row["g"].value
            subset = self.minted("graph", name)
            if name.startswith(f"{self.base}graph/"):
                subset = ox.NamedNode(f"{d.value}/graph/{name[len(self.base) + 6 :]}")
            self.add(d, VOID + "subset", subset)
            self.iri(subset, RDF + "type", VOID + "Dataset")
            self.iri(subset, SD + "name", name)
            self.count(subset, VOID + "triples", int(row["n"].value))
            if "source" in row:
                self.iri(subset, DCTERMS + "source", row["source"].value)
            if "kind" in row:
                self.iri(subset, DCTERMS + "type", row["kind"].value)

    def _sources(self, d: ox.NamedNode) -> None:
        rows = self.select(
            f"""SELECT ?doc (SAMPLE(?l) AS ?label) WHERE {{
              ?doc a <{vocab(self.base)}SourceDocument>
              OPTIONAL {{ ?doc <{RDFS}label> ?l }}
            }} GROUP BY ?doc ORDER BY ?doc"""
        )
        for row in rows:
            doc = row["doc"]
            if isinstance(doc, ox.NamedNode):
                self.add(d, DCTERMS + "source", doc)
                label = row.get("label")
                if isinstance(label, ox.Literal):
                    self.add(doc, RDFS + "label", label)

    def _access(self, d: ox.NamedNode, distributions: Sequence[Distribution]) -> None:
        endpoint = ox.NamedNode(f"{self.base}sparql")
        self.add(d, VOID + "sparqlEndpoint", endpoint)
        self.iri(endpoint, RDF + "type", DCAT + "DataService")
        self.iri(endpoint, RDF + "type", SD + "Service")
        self.add(endpoint, DCAT + "endpointURL", endpoint)
        self.add(endpoint, SD + "endpoint", endpoint)
        self.add(endpoint, DCAT + "servesDataset", d)
        self.iri(endpoint, DCTERMS + "conformsTo", "https://www.w3.org/TR/sparql11-protocol/")
        self.text(endpoint, DCTERMS + "title", "cpgraph SPARQL 1.1 endpoint")
        for dist in distributions:
            url = ox.NamedNode(f"{self.base}dumps/{dist.name}")
            node = ox.NamedNode(f"{d.value}/distribution/{dist.name}")
            self.add(d, VOID + "dataDump", url)
            self.add(d, DCAT + "distribution", node)
            self.iri(node, RDF + "type", DCAT + "Distribution")
            self.text(node, DCTERMS + "title", dist.title)
            self.add(node, DCAT + "downloadURL", url)
            self.add(node, DCAT + "accessURL", url)
            self.iri(node, DCAT + "mediaType", IANA + dist.fmt.media_type)
            self.iri(node, DCTERMS + "format", FORMATS + dist.fmt.w3c)
            self.iri(node, DCTERMS + "license", LICENCE)
            if dist.gzip:
                self.iri(node, DCAT + "compressFormat", IANA + "application/gzip")
            if dist.byte_size is not None:
                self.add(
                    node,
                    DCAT + "byteSize",
                    ox.Literal(
                        str(dist.byte_size), datatype=ox.NamedNode(XSD + "nonNegativeInteger")
                    ),
                )
            if dist.sha256 is not None:
                checksum = ox.NamedNode(f"{node.value}#sha256")
                self.add(node, SPDX + "checksum", checksum)
                self.iri(checksum, RDF + "type", SPDX + "Checksum")
                self.iri(checksum, SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
                self.add(
                    checksum,
                    SPDX + "checksumValue",
                    ox.Literal(dist.sha256, datatype=ox.NamedNode(XSD + "hexBinary")),
                )
        for fmt in RdfFormat:
            self.iri(d, VOID + "feature", FORMATS + fmt.w3c)


def xsd_datetime(moment: datetime) -> str:
    """A UTC moment in the canonical lexical form of ``xsd:dateTime`` (``...T17:54:38Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1] if cut >= 0 else iri


DESCRIPTION_PREFIXES = {
    "void": VOID,
    "dcat": DCAT,
    "sd": SD,
    "spdx": SPDX,
    "dcterms": DCTERMS,
}
