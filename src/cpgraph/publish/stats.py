"""Coverage figures: how many entities of each class, and how much each source supports."""

from __future__ import annotations

from dataclasses import dataclass

from cpgraph.store import Store


@dataclass(frozen=True, slots=True)
class ClassCount:
    """The number of distinct instances of one class (entities in the data graphs)."""

    cls: str
    instances: int


@dataclass(frozen=True, slots=True)
class SourceCount:
    """What one source document supports: extracts, statements and entities described."""

    source: str
    label: str
    extracts: int
    statements: int
    entities: int


def class_counts(store: Store, *, base: str) -> list[ClassCount]:
    """Instances per class among the data (ontology and shapes graphs left out), most first."""
    rows = store.query(
        f"""
        SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
          GRAPH ?g {{ ?s a ?class }}
          FILTER(?g NOT IN (<{base}graph/ontology>, <{base}graph/shapes>))
        }} GROUP BY ?class ORDER BY DESC(?n) ?class
        """
    ).rows()
    return [ClassCount(row["class"].value, int(row["n"].value)) for row in rows]


def source_counts(store: Store, *, base: str) -> list[SourceCount]:
    """Per source document: its extract graphs, the statements in them and entities they name."""
    rows = store.query(
        f"""
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?source (SAMPLE(?l) AS ?label) ?extracts ?statements ?entities WHERE {{
          {{
            SELECT ?source (COUNT(DISTINCT ?g) AS ?extracts) (COUNT(*) AS ?statements)
                   (COUNT(DISTINCT ?s) AS ?entities)
            WHERE {{
              ?g a <{base}ontology#SourceExtract> ; prov:wasDerivedFrom ?source .
              GRAPH ?g {{ ?s ?p ?o }}
            }} GROUP BY ?source
          }}
          OPTIONAL {{ ?source rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en")) }}
        }} GROUP BY ?source ?extracts ?statements ?entities ORDER BY ?source
        """
    ).rows()
    return [
        SourceCount(
            source=row["source"].value,
            label=row["label"].value if "label" in row else "",
            extracts=int(row["extracts"].value),
            statements=int(row["statements"].value),
            entities=int(row["entities"].value),
        )
        for row in rows
    ]
