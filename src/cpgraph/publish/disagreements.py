"""The disagreements a resource is part of, for its page: each with its kind and its claims.

A ``cp:Disagreement`` (in a curation graph) links competing claims, each pointing to the
source extract that gives it; this module reads, for one IRI, every disagreement about it
(``dcterms:subject``), about one of whose claims it is, or whose claim names it as the
value, with each claim's value, extract, locator and source document. The resource's IRI is
bound by a ``VALUES`` block that pyoxigraph writes, never spliced into the query as text.

>>> from cpgraph.store.oxigraph import GraphStore
>>> disagreements_about(GraphStore(None), "https://w3id.org/cpgraph/id/org/cncpc",
...                     base="https://w3id.org/cpgraph/")
[]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from cpgraph.rdf.namespaces import prefixes
from cpgraph.store import Store

_QUERY = """SELECT ?d ?dl ?k ?kl ?why ?c ?cl ?value ?entity ?g ?loc ?doc ?docl WHERE {
  %s
  { ?d dcterms:subject ?r } UNION { ?d cp:competingClaim/dcterms:subject ?r }
  UNION { ?d cp:competingClaim/cp:claimedEntity ?r }
  ?d a cp:Disagreement ; cp:competingClaim ?c .
  OPTIONAL { ?d rdfs:label ?dl FILTER(LANGMATCHES(LANG(?dl), "en")) }
  OPTIONAL { ?d cp:disagreementKind ?k
             OPTIONAL { ?k rdfs:label ?kl FILTER(LANGMATCHES(LANG(?kl), "en")) } }
  OPTIONAL { ?d rdfs:comment ?why FILTER(LANGMATCHES(LANG(?why), "en")) }
  OPTIONAL { ?c rdfs:label ?cl FILTER(LANGMATCHES(LANG(?cl), "en")) }
  OPTIONAL { ?c cp:claimedValue ?value }
  OPTIONAL { ?c cp:claimedEntity/rdfs:label ?entity FILTER(LANGMATCHES(LANG(?entity), "en")) }
  OPTIONAL { ?c prov:wasDerivedFrom ?g
             OPTIONAL { ?g cp:locator ?loc }
             OPTIONAL { ?g prov:wasDerivedFrom ?doc
               OPTIONAL { ?doc rdfs:label ?docl FILTER(LANGMATCHES(LANG(?docl), "en")) } } }
}"""


@dataclass(slots=True)
class ClaimView:
    """One competing claim: its label, the values it gives, and the place that gives it."""

    iri: str
    label: str
    values: list[str] = field(default_factory=list)
    extract: str | None = None
    locator: str | None = None
    source: str | None = None
    source_label: str | None = None


@dataclass(slots=True)
class DisagreementView:
    """One disagreement: its label, kind, the curators' reading and its claims in order."""

    iri: str
    label: str
    kind: str | None = None
    kind_label: str | None = None
    comment: str | None = None
    claims: list[ClaimView] = field(default_factory=list)


def _text(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal], name: str) -> str | None:
    term = row.get(name)
    return term.value if term is not None else None


def disagreements_about(store: Store, iri: str, *, base: str) -> list[DisagreementView]:
    """Every modelled disagreement that ``iri`` is part of, ordered by label, claims by label.

    Raises:
        StoreError: if the store fails while answering.
    """
    values = f"VALUES ?r {{ {ox.NamedNode(iri)} }}"
    rows = store.query(_QUERY % values, prefixes=prefixes(base)).rows()
    found: dict[str, DisagreementView] = {}
    claims: dict[tuple[str, str], ClaimView] = {}
    for row in rows:
        d, c = row["d"].value, row["c"].value
        view = found.setdefault(d, DisagreementView(d, _text(row, "dl") or d))
        view.kind = view.kind or _text(row, "k")
        view.kind_label = view.kind_label or _text(row, "kl")
        view.comment = view.comment or _text(row, "why")
        claim = claims.get((d, c))
        if claim is None:
            claim = claims[(d, c)] = ClaimView(c, _text(row, "cl") or c)
            view.claims.append(claim)
        for name in ("value", "entity"):
            value = _text(row, name)
            if value is not None and value not in claim.values:
                claim.values.append(value)
        claim.extract = claim.extract or _text(row, "g")
        claim.locator = claim.locator or _text(row, "loc")
        claim.source = claim.source or _text(row, "doc")
        claim.source_label = claim.source_label or _text(row, "docl")
    for view in found.values():
        view.claims.sort(key=lambda claim: claim.label)
    return sorted(found.values(), key=lambda view: view.label)
