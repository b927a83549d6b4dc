"""Building the store from the repository's ``ontology/``, ``shapes/`` and ``data/``.

The build reads and checks everything before it writes anything: every file must parse, the
store must keep every literal as written (so that an export gives back the statements
written), the data (with the ontology) must conform to the shapes, and every data statement
must sit in a named graph (cpgraph's provenance rule). Only then is a new store written,
beside the current one, and published with an atomic switch
(:func:`cpgraph.store.builds.publish_build`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox
from rdflib import Graph

from cpgraph.config import Settings
from cpgraph.errors import InputError, ValidationFailedError
from cpgraph.progress import LOGGED, SILENT, CountingReader, Progress, counted
from cpgraph.publish.service import build_figures
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import iter_quads, read_quads, to_rdflib_triples
from cpgraph.rdf.namespaces import DEFAULT_BASE, graph_iri
from cpgraph.rdf.positions import literal_lines
from cpgraph.saved.examples import saved_query_quads
from cpgraph.store.builds import discard_build, new_build_dir, publish_build
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.stored_forms import (
    Rewrite,
    StoredForms,
    in_stored_form,
    oxigraph_stored_forms,
)
from cpgraph.validation.shacl import ValidationOutcome, validate_graph
from cpgraph.validation.stored import rewrite_outcome

T = TypeVar("T")

ONTOLOGY_GRAPH = "ontology"
SHAPES_GRAPH = "shapes"
DATA_SUFFIXES = {".trig", ".nq", ".ttl", ".nt", ".jsonld", ".rdf"}


@dataclass(frozen=True, slots=True)
class SourceFiles:
    """The files a build reads, by role."""

    ontology: tuple[Path, ...]
    shapes: tuple[Path, ...]
    data: tuple[Path, ...]

    @classmethod
    def discover(cls, source_dir: Path) -> SourceFiles:
        """Find the ontology, shapes and data files under ``source_dir``.

        Raises:
            InputError: if a folder is missing or holds no RDF file.
        """

        def rdf_files(folder: str, suffixes: set[str]) -> tuple[Path, ...]:
            root = source_dir / folder
            if not root.is_dir():
                raise InputError(f"no {folder}/ folder in {source_dir}")
            files = tuple(sorted(p for p in root.rglob("*") if p.suffix in suffixes))
            if not files:
                raise InputError(f"no RDF files in {root}")
            return files

        return cls(
            ontology=rdf_files("ontology", {".ttl"}),
            shapes=rdf_files("shapes", {".ttl"}),
            data=rdf_files("data", DATA_SUFFIXES),
        )

    def size(self) -> int:
        """The bytes of all the files, for a count of how far reading them has gone."""
        return sum(p.stat().st_size for p in (*self.ontology, *self.shapes, *self.data))


@dataclass(slots=True)
class BuildReport:
    """What a build did: where, how many statements per graph, and the validation."""

    path: Path | None
    graphs: dict[str, int] = field(default_factory=dict)
    validation: ValidationOutcome | None = None

    @property
    def triples(self) -> int:
        """The number of statements written, over all graphs."""
        return sum(self.graphs.values())


def rebase_term(term: ox.NamedNode, base: str) -> ox.NamedNode:
    """``term`` with the default base replaced by ``base`` (other IRIs unchanged)."""
    if base != DEFAULT_BASE and term.value.startswith(DEFAULT_BASE):
        return ox.NamedNode(base + term.value[len(DEFAULT_BASE) :])
    return term


def rebase_quads(quads: Iterable[ox.Quad], base: str) -> Iterable[ox.Quad]:
    """The quads with every IRI under the default base moved under ``base``."""
    if base == DEFAULT_BASE:
        yield from quads
        return

    def move(term: T) -> T:
        return rebase_term(term, base) if isinstance(term, ox.NamedNode) else term  # type: ignore[return-value]

    for q in quads:
        yield ox.Quad(move(q.subject), move(q.predicate), move(q.object), move(q.graph_name))


def read_sources(
    files: SourceFiles, progress: Progress = SILENT
) -> tuple[list[ox.Quad], list[ox.Quad], list[ox.Quad]]:
    """Parse every file, ontology and shapes into their graphs, data as written (the bytes
    read counted as a task of ``progress``).

    Raises:
        RdfSyntaxError: naming the file, line and column of the first malformed file.
        InputError: if a data file has a statement outside a named graph.
    """
    with progress.task("parsing", total=files.size(), unit="bytes") as advance:

        def read(path: Path) -> list[ox.Quad]:
            quads = read_quads(path)
            advance(path.stat().st_size)
            return quads

        ontology = [_in_graph(q, ONTOLOGY_GRAPH) for p in files.ontology for q in read(p)]
        shapes = [_in_graph(q, SHAPES_GRAPH) for p in files.shapes for q in read(p)]
        data: list[ox.Quad] = []
        for path in files.data:
            quads = read(path)
            stray = next((q for q in quads if isinstance(q.graph_name, ox.DefaultGraph)), None)
            if stray is not None:
                raise _outside_named_graphs(path, stray)
            data.extend(quads)
    return ontology, shapes, data


def _outside_named_graphs(path: Path, stray: ox.Quad) -> InputError:
    return InputError(
        f"{path}: every data statement must be in a named graph (a source extract or a "
        f"curation graph), but this one is in the default graph: {stray.subject} "
        f"{stray.predicate} {stray.object}"
    )


def _in_graph(quad: ox.Quad, name: str) -> ox.Quad:
    return ox.Quad(quad.subject, quad.predicate, quad.object, ox.NamedNode(graph_iri(name)))


def _graph(quads: Iterable[ox.Quad]) -> Graph:
    graph = Graph()
    for triple in to_rdflib_triples(quads):
        graph.add(triple)
    return graph


def check_sources(
    files: SourceFiles,
    forms: StoredForms = oxigraph_stored_forms,
    progress: Progress = SILENT,
) -> tuple[list[ox.Quad], ValidationOutcome]:
    """Parse everything and validate the data and ontology against the shapes.

    Returns every quad to load (default base) and the validation outcome. ``forms`` says how
    the store to be written holds literals (the embedded Oxigraph's by default).

    Raises:
        RdfSyntaxError: if a file is malformed.
        InputError: if a data statement is outside a named graph.
        ValidationFailedError: if the store would rewrite a literal, or the data does not
            conform; ``outcome`` has the report.
    """
    ontology, shapes, data = read_sources(files, progress)
    refuse_rewritten_literals(files, [*ontology, *shapes, *data], forms)
    ontology_graph = _graph(ontology)
    # pySHACL says nothing while it runs: the task shows that it runs, and for how long.
    with progress.task(f"validating {len(data) + len(ontology)} statements"):
        outcome = validate_graph(
            _graph([*data, *ontology]), shapes=_graph(shapes), ontology=ontology_graph
        )
    if not outcome.conforms:
        raise ValidationFailedError(
            f"the data does not conform to the shapes ({len(outcome.violations)} violations); "
            "the store was not changed",
            outcome=outcome,
        )
    return [*ontology, *shapes, *data], outcome


def refuse_rewritten_literals(
    files: SourceFiles, quads: list[ox.Quad], forms: StoredForms = oxigraph_stored_forms
) -> None:
    """Refuse the sources if the store would hold a literal of theirs in another form than
    written (``"2"^^xsd:positiveInteger`` as ``"2"^^xsd:integer``): what is exported must be
    what was written. Each such literal is named with its file and line. ``forms`` is the
    store's :meth:`cpgraph.store.Store.stored_forms` (the embedded Oxigraph's by default).

    Raises:
        ValidationFailedError: naming each literal (its report has a violation for each).
    """
    if not in_stored_form(quads, forms)[1]:
        return
    refused: list[tuple[Rewrite, str]] = []
    for path in (*files.ontology, *files.shapes, *files.data):
        rewrites = in_stored_form(read_quads(path), forms)[1]
        if not rewrites:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = {r.original: literal_lines(text, r.original) for r in rewrites}
        seen: dict[ox.Literal, int] = {}
        for rewrite in rewrites:  # the n-th statement with a literal, at its n-th place
            found = lines[rewrite.original]
            nth = seen.get(rewrite.original, 0)
            seen[rewrite.original] = nth + 1
            where = f"{path}:{found[min(nth, len(found) - 1)]}" if found else str(path)
            refused.append(
                (rewrite, f"{where}: {rewrite.describe()}; write it in the form the store keeps")
            )
    raise ValidationFailedError(
        f"{len(refused)} literal(s) would be stored in another form than written "
        "(each named below, with its file and line); the store was not changed",
        outcome=rewrite_outcome(refused),
    )


@dataclass(frozen=True, slots=True)
class CheckedSources:
    """The repository's sources as a build reads them, before anything is written."""

    files: SourceFiles
    quads: list[ox.Quad]
    """Every statement of the ontology, shapes and data (default base), if validated; else
    empty: trusted sources are read by the writer, as it streams them."""
    outcome: ValidationOutcome | None
    """The validation's outcome (None for trusted sources)."""
    examples: list[ox.Quad]
    """The saved queries as SPARQL examples, under the settings' base, in their own graph."""


def read_checked(
    settings: Settings,
    *,
    progress: Progress,
    validate: bool = True,
    forms: StoredForms = oxigraph_stored_forms,
) -> CheckedSources:
    """What every build does before it writes: find the sources, parse them and check them
    (the store keeps every literal as written, by ``forms``; the data conforms; every data
    statement is in a named graph) unless ``validate`` is false, and read the saved queries.

    Raises:
        InputError, RdfSyntaxError, ValidationFailedError: as :func:`build_store` says.
    """
    files = SourceFiles.discover(settings.source_dir)
    progress.say(
        f"reading {len(files.ontology)} ontology, {len(files.shapes)} shapes and "
        f"{len(files.data)} data files from {settings.source_dir}"
    )
    outcome: ValidationOutcome | None = None
    quads: list[ox.Quad] = []
    if validate:
        quads, outcome = check_sources(files, forms, progress)
        progress.say(f"validated: conforms, {len(outcome.results)} warning(s) or info(s)")
    examples = saved_query_quads(settings.source_dir, base=settings.base_iri)
    return CheckedSources(files, quads, outcome, examples)


STREAM_BATCH = 100_000
READ_BLOCK = 1 << 20


def _stream_trusted(store: GraphStore, files: SourceFiles, base: str, progress: Progress) -> None:
    """Load trusted sources without holding them in memory.

    Ontology and shapes (small) are parsed here and moved into their graphs. Data files go
    straight from disk into the store by Oxigraph's bulk loader when nothing needs rebasing,
    else through a streamed parse in batches. The named-graph rule is checked after each file:
    the build is discarded by the caller if it fails. The bytes read are counted when
    ``progress`` draws counts (the file is then read through Python, in large blocks).

    Raises:
        RdfSyntaxError: if a file is malformed (file, line and column in the message).
        InputError: if a data file has a statement in the default graph.
        StoreError: if the write fails.
    """
    store.bulk_load_quads(
        [
            *rebase_quads(
                (_in_graph(q, ONTOLOGY_GRAPH) for p in files.ontology for q in read_quads(p)), base
            ),
            *rebase_quads(
                (_in_graph(q, SHAPES_GRAPH) for p in files.shapes for q in read_quads(p)), base
            ),
        ]
    )
    data_bytes = sum(p.stat().st_size for p in files.data)
    with progress.task("loading data", total=data_bytes, unit="bytes") as advance:
        for path in files.data:
            fmt = RdfFormat.from_path(path)
            if base == DEFAULT_BASE and not progress.counting:
                store.bulk_load_file(path, format=fmt)
            elif base == DEFAULT_BASE:
                with path.open("rb") as raw:
                    reader = io.BufferedReader(CountingReader(raw, advance), READ_BLOCK)
                    store.bulk_load_file(path, format=fmt, reader=reader)
            else:
                batch: list[ox.Quad] = []
                for quad in rebase_quads(iter_quads(path, format=fmt), base):
                    batch.append(quad)
                    if len(batch) >= STREAM_BATCH:
                        store.bulk_load_quads(batch)
                        batch = []
                store.bulk_load_quads(batch)
                advance(path.stat().st_size)
            stray = store.default_graph_sample()
            if stray is not None:
                raise _outside_named_graphs(path, stray)


def build_store(
    settings: Settings,
    *,
    progress: Progress = LOGGED,
    validate: bool = True,
) -> BuildReport:
    """Build a new store from ``settings.source_dir`` and make it current, atomically.

    Nothing is written unless every file parses, the store would keep every literal as
    written, and the data conforms to the shapes. A build that fails (or is killed) while
    writing leaves the previous store as it was.

    ``validate=False`` (``cpgraph build --trusted``) skips the SHACL validation and the check
    of literals, for data that was validated before or generated to conform (the benchmarks'
    synthetic graphs), where pySHACL would take too long and too much memory. Parsing and the
    named-graph rule still hold.

    Raises:
        InputError: if a source folder is missing or a data statement has no graph.
        RdfSyntaxError: if a file is malformed (file, line and column in the message).
        ValidationFailedError: if the store would rewrite a literal, or the data does not
            conform (the report is attached).
        StoreError: if the new store cannot be written.
    """
    sources = read_checked(settings, progress=progress, validate=validate)
    if not validate:
        progress.say("not validated (trusted sources): data files are streamed into the store")
    build = new_build_dir(settings.store_dir)
    try:
        store = GraphStore(build)
        if validate:
            quads = [*rebase_quads(sources.quads, settings.base_iri), *sources.examples]
            with progress.task("loading", total=len(quads)) as advance:
                store.bulk_load_quads(counted(quads, advance))
        else:
            _stream_trusted(store, sources.files, settings.base_iri, progress)
            store.bulk_load_quads(sources.examples)
            # Each bulk load adds its own files to every index; compacted once, a range scan
            # reads one run instead of one per file.
            with progress.task("compacting the store", unit="steps"):
                store.optimize()
        with progress.task("merging the union and writing to disk", unit="steps"):
            store.flush()
        report = BuildReport(path=build, validation=sources.outcome)
        report.graphs.update(store.graph_sizes())
        build_figures(store, build, base=settings.base_iri)  # so servers start without counting
        del store  # close the database before it is published
    except BaseException:
        discard_build(build)
        raise
    publish_build(settings.store_dir, build)
    progress.say(f"built {report.triples} statements in {len(report.graphs)} graphs at {build}")
    return report
