"""The records of committed contributions, read back from their graphs in the store."""

from __future__ import annotations

from dataclasses import dataclass

from cpgraph.errors import NotFoundError
from cpgraph.jsonable import json_fields
from cpgraph.rdf.namespaces import DCTERMS, PROV, RDFS, SLUG, graph_iri
from cpgraph.store import Store


@dataclass(frozen=True, slots=True)
class ContributionRecord:
    """What the graph says about one committed contribution."""

    id: str
    graph: str
    contributor: str
    time: str
    content_hash: str
    comment: str
    source: str | None
    statements: int

    def to_dict(self) -> dict[str, object]:
        """This record as JSON-ready data."""
        return json_fields(self)


def _records(store: Store, *, base: str, identifier: str | None = None) -> list[ContributionRecord]:
    cp = f"{base}ontology#"
    prefix = graph_iri("contribution/x", base)[:-1]
    only = ""
    if identifier is not None:
        if not SLUG.fullmatch(identifier):
            return []
        only = f"FILTER(?g = <{prefix}{identifier}>)"
    rows = store.query(
        f"""
        PREFIX prov: <{PROV}> PREFIX rdfs: <{RDFS}> PREFIX dcterms: <{DCTERMS}>
        SELECT ?g ?who ?time ?hash ?comment ?source (COUNT(*) AS ?n) WHERE {{
          GRAPH ?g {{
            ?g a <{cp}Contribution> ; prov:wasAttributedTo ?who ; prov:generatedAtTime ?time ;
               <{cp}contentHash> ?hash ; rdfs:comment ?comment .
            OPTIONAL {{ ?g dcterms:source ?source }}
            ?s ?p ?o .
          }}
          {only}
        }} GROUP BY ?g ?who ?time ?hash ?comment ?source ORDER BY ?time ?g
    """,
        union_default_graph=False,
    ).rows()
    records = []
    for row in rows:
        g = row["g"].value
        records.append(
            ContributionRecord(
                id=g.removeprefix(prefix),
                graph=g,
                contributor=row["who"].value,
                time=row["time"].value,
                content_hash=row["hash"].value,
                comment=row["comment"].value,
                source=row["source"].value if "source" in row else None,
                statements=int(row["n"].value),
            )
        )
    return records


def list_contributions(store: Store, *, base: str) -> list[ContributionRecord]:
    """Every committed contribution, oldest first."""
    return _records(store, base=base)


def get_record(store: Store, identifier: str, *, base: str) -> ContributionRecord:
    """The record of one contribution.

    Raises:
        NotFoundError: if there is no contribution with that id.
    """
    found = _records(store, base=base, identifier=identifier)
    if not found:
        raise NotFoundError(f"no contribution {identifier!r}")
    return found[0]
