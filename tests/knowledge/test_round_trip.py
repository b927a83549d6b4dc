"""What is validated is what is stored: the shipped files survive the store unchanged (#25).

Oxigraph keeps literals in a canonical form (``"2"^^xsd:positiveInteger`` comes back as
``"2"^^xsd:integer``, ``"1.50"^^xsd:decimal`` as ``"1.5"``). cpgraph models only with the
datatypes and lexical forms it keeps, so a statement of ``ontology/``, ``shapes/`` or ``data/``
reads back from an export exactly as written, the export meets the published shapes on its own,
and a copy of an entity as the store returns it is judged as the original is.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph
from tests.conftest import ROOT, run_cli
from tests.linked_data import isomorphic

from cpgraph.config import Settings
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import parse_quads, read_quads, to_rdflib_triples
from cpgraph.rdf.namespaces import graph_iri
from cpgraph.store.build import ONTOLOGY_GRAPH, SHAPES_GRAPH, rebase_quads
from cpgraph.store.builds import open_current
from cpgraph.validation.neighbourhood import Triple, validate_in_context
from cpgraph.validation.reach import shape_reach
from cpgraph.validation.shacl import (
    ValidationResult,
    class_hierarchy,
    load_ontology,
    load_shapes,
    validate_graph,
)

COPY = "-copied-for-25"
"""Appended to an entity's IRI to name its copy (no shipped IRI ends so)."""


def shipped_quads(base: str) -> dict[ox.Quad, Path]:
    """Every statement of the shipped files, in the graph the build puts it in, with its file."""
    found: dict[ox.Quad, Path] = {}
    for folder, graph in (("ontology", ONTOLOGY_GRAPH), ("shapes", SHAPES_GRAPH), ("data", None)):
        for path in sorted((ROOT / folder).glob("*.t*")):
            quads = read_quads(path)
            if graph is not None:
                name = ox.NamedNode(graph_iri(graph))
                quads = [ox.Quad(q.subject, q.predicate, q.object, name) for q in quads]
            for quad in rebase_quads(quads, base):
                found.setdefault(quad, path)
    return found


def has_blank(quad: ox.Quad) -> bool:
    return isinstance(quad.subject, ox.BlankNode) or isinstance(quad.object, ox.BlankNode)


def test_every_shipped_statement_is_exported_exactly_as_written(shipped: Settings) -> None:
    done = run_cli("export", "--format", "nq", "--no-description", settings=shipped)
    assert done.returncode == 0, done.stderr
    exported = parse_quads(done.stdout.encode(), format=RdfFormat.N_QUADS, source="export")
    written = shipped_quads(shipped.base_iri)
    assert any(path.parent.name == "data" for path in written.values())
    # Ground statements one by one; those with blank nodes (the ontology's and the shapes'
    # lists and restrictions) graph by graph, up to the blank nodes' names.
    found = {q for q in exported if not has_blank(q)}
    missing = [
        f"{path.relative_to(ROOT)}: {q}"
        for q, path in written.items()
        if not has_blank(q) and q not in found
    ]
    assert not missing, f"{len(missing)} statements changed on the way:\n" + "\n".join(missing[:20])
    for graph in {q.graph_name for q in written if has_blank(q)}:
        ours = [q for q in written if q.graph_name == graph and has_blank(q)]
        theirs = [q for q in exported if q.graph_name == graph and has_blank(q)]
        assert isomorphic(ours, theirs), f"the statements with blank nodes of {graph} changed"


def test_the_union_export_meets_the_shapes_without_the_store(
    shipped: Settings, tmp_path: Path
) -> None:
    union = tmp_path / "all.ttl"
    done = run_cli("export", "--union", "-o", str(union), settings=shipped)
    assert done.returncode == 0, done.stderr
    judged = run_cli("validate", "--no-context", str(union), settings=shipped, timeout=300)
    assert judged.returncode == 0, judged.stdout[-4000:] + judged.stderr[-2000:]
    assert " 0 violation(s)" in judged.stdout


def _key(result: ValidationResult, renamed: dict[str, str]) -> tuple[str | None, ...]:
    """A result with copies named as their originals (blank shapes differ from run to run)."""
    shape = "_:" if result.source_shape.startswith("_:") else result.source_shape
    value = renamed.get(result.value, result.value) if result.value is not None else None
    return (renamed[result.focus_node], result.path, value, shape, result.constraint)


def test_a_renamed_copy_of_every_entity_is_judged_as_the_original(shipped: Settings) -> None:
    """Each entity of data/ is judged as written (with all of data/ and the ontology, as the
    build judges it); a copy of it under a fresh IRI, its statements as a CONSTRUCT returns
    them (what it points to unchanged), is judged as a contribution to the store. The copies
    go in as one contribution."""
    store = open_current(shipped.store_dir, read_only=True)
    written = shipped_quads(shipped.base_iri)
    entities = {
        q.subject
        for q, path in written.items()
        if path.parent.name == "data" and isinstance(q.subject, ox.NamedNode)
    }
    described: list[Triple] = [
        (t.subject, t.predicate, t.object)  # type: ignore[misc]
        for t in store.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").triples()
        if t.subject in entities
    ]
    copies = {e: ox.NamedNode(e.value + COPY) for e in entities}
    assert len({s for s, _p, _o in described}) == len(entities) > 400
    assert all(next(store.triples(c, None, None), None) is None for c in copies.values())

    shapes = load_shapes(ROOT / "shapes")
    ontology = load_ontology(ROOT / "ontology")
    as_written = Graph()
    for triple in to_rdflib_triples(
        q for q, path in written.items() if path.parent.name in ("data", "ontology")
    ):
        as_written.add(triple)
    originals = validate_graph(as_written, shapes=shapes, ontology=ontology).violations
    as_copied, _focus = validate_in_context(
        [(copies[s], p, o) for s, p, o in described],  # type: ignore[index]
        store=store,
        shapes=shapes,
        hierarchy=class_hierarchy(ontology),
        reach=shape_reach(shapes),
    )

    back = {c.value: e.value for e, c in copies.items()}
    itself = {e.value: e.value for e in copies}
    original = {_key(r, itself) for r in originals if r.focus_node in itself}
    new = [
        r.describe()
        for r in as_copied.violations
        if r.focus_node in back and _key(r, back) not in original
    ]
    assert not new, f"{len(new)} violations the originals do not have:\n" + "\n".join(new[:20])
