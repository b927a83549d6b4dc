"""``cpgraph build`` into a remote SPARQL 1.1 store: the repository's graphs, one by one.

The sources are read and checked as for the embedded store (:func:`cpgraph.store.build.
read_checked`), the literals against the forms the remote store keeps
(:meth:`cpgraph.store.remote.RemoteStore.stored_forms`). A remote store cannot be swapped for
a new build in one step, so each graph of the repository is replaced on its own (dropped, then
loaded) through the :class:`cpgraph.store.Store` methods that keep the store's union and
catalogue in step. A graph the store already holds as the repository has it is left alone,
so a second build rewrites only the graphs it cannot compare (those with blank nodes). Graphs
of the store that the repository does not hold (contributions, graphs removed from ``data/``)
are left as they were, and named. Afterwards every graph is counted by the store and compared
with what was loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from cpgraph.config import Settings
from cpgraph.errors import RemoteStoreError, StoreError
from cpgraph.progress import LOGGED, Progress
from cpgraph.store.build import BuildReport, read_checked, read_sources, rebase_quads
from cpgraph.store.configured import describe_store
from cpgraph.store.interface import Store
from cpgraph.store.stored_forms import in_stored_form


def build_remote(
    settings: Settings,
    store: Store,
    *,
    progress: Progress = LOGGED,
    validate: bool = True,
) -> BuildReport:
    """Load the repository's ontology, shapes, data and saved-query examples into ``store``
    (a remote store opened for writing), graph by graph, and verify each graph's count.

    Nothing is written unless every file parses, its literals are in the canonical forms the
    embedded store keeps, and the data conforms to the shapes (``validate=False``,
    ``--trusted``: only parsing and the named-graph rule). Where the remote store keeps a
    literal in a form of its own (Virtuoso holds ``"100"^^xsd:decimal`` as an integer), the
    build says so, with examples, and writes the statements in the form the store will give
    back: a store's own rules are its operator's choice, not an error of the data. Running it
    again with the same sources leaves the same store. A build that fails while writing leaves
    the graphs written so far replaced and the others as they were: run it again.

    Raises:
        InputError, RdfSyntaxError, ValidationFailedError: as
            :func:`cpgraph.store.build.build_store` says.
        StoreUnreachableError, StoreTimeoutError: if the store fails (the message names the
            graph being written).
        StoreError: if a graph does not hold, afterwards, the statements loaded into it.
    """
    say = progress.say
    store.named_graphs()  # a store that cannot be reached fails here, before the checks
    say(f"building into {describe_store(settings)}")
    sources = read_checked(settings, progress=progress, validate=validate)
    if validate:
        quads = sources.quads
    else:
        say("not validated (trusted sources)")
        ontology, shapes, data = read_sources(sources.files, progress)
        quads = [*ontology, *shapes, *data]
    kept, rewrites = in_stored_form(
        [*rebase_quads(quads, settings.base_iri), *sources.examples], store.stored_forms
    )
    if rewrites:
        kinds: dict[str, str] = {}  # one example per datatype rewritten
        for rewrite in rewrites:
            kinds.setdefault(rewrite.original.datatype.value, rewrite.describe())
        say(
            f"this store keeps {len(rewrites)} literal(s) in another form than the repository "
            f"writes them, and gives them back so: {'; '.join(sorted(kinds.values()))}"
        )
    wanted = by_graph(kept)
    before = store.graph_sizes()
    written = 0
    total = sum(len(s) for s in wanted.values())
    with progress.task("writing graphs", total=total) as advance:
        for graph, statements in sorted(wanted.items()):
            if before.get(graph) == len(statements) and _holds(store, graph, statements):
                advance(len(statements))
                continue
            try:
                if graph in before:
                    store.drop_graph(graph)
                store.load_quads(statements)
            except RemoteStoreError as exc:
                raise type(exc)(
                    f"{exc.message} (while writing <{graph}>, after {written} of {len(wanted)} "
                    "graphs: run the build again)"
                ) from None
            written += 1
            advance(len(statements))
    after = store.graph_sizes()
    wrong = {g: len(s) for g, s in wanted.items() if after.get(g, 0) != len(s)}
    if wrong:
        graph, expected = min(wrong.items())
        raise StoreError(
            f"after the build the store holds {after.get(graph, 0)} statements in <{graph}>, "
            f"not the {expected} loaded ({len(wrong)} graph(s) differ)"
        )
    report = BuildReport(path=None, validation=sources.outcome)
    report.graphs.update({g: after[g] for g in sorted(wanted)})
    say(
        f"loaded {report.triples} statements in {len(report.graphs)} graphs: {written} "
        f"written, {len(wanted) - written} already as in the repository; every graph counted"
    )
    others = sorted(set(after) - set(wanted))
    if others:
        shown = ", ".join(f"<{g}>" for g in others[:5]) + (", ..." if len(others) > 5 else "")
        say(
            f"{len(others)} other graph(s) of the store, not in the repository, were left as "
            f"they were (contributions, or graphs no longer in data/): {shown}"
        )
    return report


def by_graph(quads: Iterable[ox.Quad]) -> dict[str, set[ox.Quad]]:
    """The quads of each named graph, each statement once (as a store holds them)."""
    graphs: dict[str, set[ox.Quad]] = defaultdict(set)
    for quad in quads:
        if isinstance(quad.graph_name, ox.NamedNode):
            graphs[quad.graph_name.value].add(quad)
    return dict(graphs)


def _blanks(quad: ox.Quad) -> list[ox.BlankNode]:
    return [t for t in (quad.subject, quad.object) if isinstance(t, ox.BlankNode)]


def _holds(store: Store, graph: str, statements: set[ox.Quad]) -> bool:
    """Whether ``store`` holds ``graph`` with exactly ``statements`` (never, for a graph with
    blank nodes: the store's own blank nodes are other nodes than the file's)."""
    if any(_blanks(q) for q in statements):
        return False
    return set(store.quads(graph)) == statements
