"""IRIs of cpgraph's own namespaces and of the vocabularies it reuses.

cpgraph's files are written under :data:`DEFAULT_BASE`; a deployment under another base has
its IRIs rewritten at build time (see :func:`cpgraph.store.build.rebase_term`). Functions here take
the base as an argument rather than reading settings, so they stay pure.
"""

from __future__ import annotations

import functools
import re
from typing import Final

DEFAULT_BASE: Final = "https://w3id.org/cpgraph/"

XSD: Final = "http://www.w3.org/2001/XMLSchema#"
RDF: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS: Final = "http://www.w3.org/2000/01/rdf-schema#"
OWL: Final = "http://www.w3.org/2002/07/owl#"
SH: Final = "http://www.w3.org/ns/shacl#"
SKOS: Final = "http://www.w3.org/2004/02/skos/core#"
PROV: Final = "http://www.w3.org/ns/prov#"
DCTERMS: Final = "http://purl.org/dc/terms/"
ORG: Final = "http://www.w3.org/ns/org#"
FOAF: Final = "http://xmlns.com/foaf/0.1/"
TIME: Final = "http://www.w3.org/2006/time#"
QB: Final = "http://purl.org/linked-data/cube#"
SCHEMA: Final = "https://schema.org/"
ELI: Final = "http://data.europa.eu/eli/ontology#"
VANN: Final = "http://purl.org/vocab/vann/"
SD: Final = "http://www.w3.org/ns/sparql-service-description#"

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
"""A slug: the last segment of a minted IRI, a saved query's name, a contributor's id."""


def ontology_iri(base: str = DEFAULT_BASE) -> str:
    """The IRI of the ontology document under ``base``."""
    return f"{base}ontology"


def vocab(base: str = DEFAULT_BASE) -> str:
    """The namespace of cpgraph's ontology terms (prefix ``cp:``)."""
    return f"{base}ontology#"


def shapes_ns(base: str = DEFAULT_BASE) -> str:
    """The namespace of cpgraph's SHACL shapes (prefix ``cpsh:``)."""
    return f"{base}shapes#"


def graph_iri(name: str, base: str = DEFAULT_BASE) -> str:
    """The IRI of one of cpgraph's named graphs, ``<base>graph/<name>``.

    ``name`` is one or more slash-separated slugs.

    Raises:
        ValueError: if a segment of ``name`` is not a slug, so that no IRI is ever minted from
            unescaped input.
    """
    for segment in name.split("/"):
        if not SLUG.fullmatch(segment):
            raise ValueError(f"not a graph name segment: {segment!r}")
    return f"{base}graph/{name}"


def instance_iri(kind: str, slug: str, base: str = DEFAULT_BASE) -> str:
    """The IRI ``<base>id/<kind>/<slug>`` of an instance (the Cool URIs pattern).

    Raises:
        ValueError: if ``kind`` or ``slug`` is not a lower-case slug.
    """
    for part in (kind, slug):
        if not SLUG.fullmatch(part):
            raise ValueError(f"not a slug: {part!r}")
    return f"{base}id/{kind}/{slug}"


@functools.lru_cache(maxsize=8)
def prefix_pairs(base: str = DEFAULT_BASE) -> tuple[tuple[str, str], ...]:
    """:func:`prefixes` as (prefix, namespace) pairs, made once per base: every query is
    handed them."""
    return tuple(prefixes(base).items())


def prefixes(base: str = DEFAULT_BASE) -> dict[str, str]:
    """The prefixes cpgraph declares in serialisations and fills into query editors."""
    return {
        "cp": vocab(base),
        "cpsh": shapes_ns(base),
        "id": f"{base}id/",
        "rdf": RDF,
        "rdfs": RDFS,
        "owl": OWL,
        "xsd": XSD,
        "sh": SH,
        "skos": SKOS,
        "prov": PROV,
        "dcterms": DCTERMS,
        "org": ORG,
        "foaf": FOAF,
        "time": TIME,
        "qb": QB,
        "schema": SCHEMA,
    }
