"""Copying the dataset into another repository, graph by graph, resumably, then checking it.

Batches are N-Triples (which every Turtle parser reads), written as
:mod:`cpgraph.publish.remote` says; triples with a blank node all go in the last batches of
their graph, a connected group of blank nodes never split, so that a blank node stays one node.
After every batch a state file records, per graph, how many batches reached the target; a push
of the same build to the same target picks up there, and the state is removed once the copy is
verified (:mod:`cpgraph.publish.verify`). The description graph (``<base>graph/void``) is
pushed too, so the copy says what it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pyoxigraph as ox

from cpgraph.errors import InputError
from cpgraph.progress import LOGGED, Progress, counted
from cpgraph.publish.export import replacing
from cpgraph.publish.remote import Protocol, Remote, Target, has_blank, warn_plain_http
from cpgraph.publish.verify import (
    DEFAULT_ISOMORPHISM_LIMIT,
    GraphReport,
    PushReport,
    graphs_to_copy,
    verify_graphs,
)
from cpgraph.store import Store

DEFAULT_BATCH = 50_000
DEFAULT_UPDATE_BATCH = 2_000
# INSERT templates (for blank nodes) cost some stores far more than INSERT DATA: Virtuoso
# refuses one that compiles to over 10,000 lines of SQL, about 1,000 triples.
BLANK_UPDATE_BATCH = 250


def push(
    store: Store,
    target: Target,
    *,
    build: str,
    description: Sequence[ox.Quad] = (),
    graphs: Sequence[str] | None = None,
    protocol: Protocol = Protocol.AUTO,
    batch_size: int | None = None,
    state_file: Path | None = None,
    verify: bool = True,
    isomorphism_limit: int = DEFAULT_ISOMORPHISM_LIMIT,
    timeout: float = 120.0,
    progress: Progress = LOGGED,
) -> PushReport:
    """Copy the store's named graphs (and the description graph) into ``target``.

    ``graphs`` limits the copy to some graphs. ``build`` identifies what is pushed, so that a
    resumed push of another build starts over.

    Raises:
        InputError: if the target has no endpoint for ``protocol``, or ``graphs`` names a
            graph the store does not have.
        RemoteStoreError: if the target refuses a request, fails or cannot be reached.
        PushVerificationError: if ``verify`` and a graph's copy differs (``report`` says how).
        StoreError: if the store fails or the state file cannot be written.
    """
    if protocol is Protocol.GSP and not target.gsp:
        raise InputError("the Graph Store Protocol needs the target's GSP endpoint")
    if protocol is Protocol.UPDATE and not target.update:
        raise InputError("SPARQL Update needs the target's update endpoint")
    if not target.gsp and not target.update:
        raise InputError("give the target's Graph Store endpoint or its update endpoint")
    warn_plain_http(target)
    jobs = graphs_to_copy(store, description, graphs)
    state = _State.load(state_file, target.key, f"{build} batch={batch_size or 'default'}")
    report = PushReport(target.key, build, resumed=state.resumed)
    sizes = store.graph_sizes()
    total = sum(sizes.get(name, 0) if held is None else len(held) for name, held in jobs)
    with target.client(timeout) as client:
        remote = Remote(client, target, protocol)
        with progress.task("pushing", total=total) as advance:
            for name, held in jobs:
                quads = store.quads(name) if held is None else iter(held)
                graph_report = GraphReport(name)
                report.graphs.append(graph_report)
                _copy_graph(remote, name, counted(quads, advance), graph_report, state, batch_size)
                progress.say(f"{name}: {graph_report.sent} of {graph_report.triples} triples sent")
        if verify:
            verify_graphs(remote, store, report, jobs, isomorphism_limit, progress)
    state.clear()
    return report


def _copy_graph(
    remote: Remote,
    name: str,
    quads: Iterable[ox.Quad],
    report: GraphReport,
    state: _State,
    batch_size: int | None,
) -> None:
    """Send the batches of one graph that have not reached the target yet."""
    done = state.done(name)
    updates = remote.protocol is Protocol.UPDATE
    size = batch_size or (DEFAULT_UPDATE_BATCH if updates else DEFAULT_BATCH)
    blank_size = min(size, BLANK_UPDATE_BATCH) if updates else size
    for index, batch in enumerate(_batches(quads, size, blank_size)):
        report.triples += len(batch)
        report.batches += 1
        if index < done:
            continue
        remote.write(name, batch, replace=index == 0)
        report.sent += len(batch)
        state.record(name, index + 1)
    if report.batches == 0:  # an empty graph: make it exist, empty, there too
        if done == 0:
            remote.write(name, [], replace=True)
        state.record(name, 1)
    report.protocol = remote.protocol.value


def _batches(quads: Iterable[ox.Quad], size: int, blank_size: int) -> Iterator[list[ox.Triple]]:
    """Triples in batches of ``size``, streamed; then the triples with blank nodes.

    A blank node means one node only within one request, so the triples with blank nodes are
    kept aside and sent last, grouped by the blank nodes they share (the connected components
    of the graph's blank nodes): a component is never split, and components are packed into
    batches of about ``blank_size`` triples (a larger component goes alone).
    """
    batch: list[ox.Triple] = []
    blank: list[ox.Triple] = []
    for quad in quads:
        triple = ox.Triple(quad.subject, quad.predicate, quad.object)
        if has_blank(triple):
            blank.append(triple)
            continue
        batch.append(triple)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
    pending: list[ox.Triple] = []
    for component in _components(blank):
        if pending and len(pending) + len(component) > blank_size:
            yield pending
            pending = []
        pending.extend(component)
    if pending:
        yield pending


def _components(triples: list[ox.Triple]) -> list[list[ox.Triple]]:
    """The triples grouped by connected blank nodes (union-find), in first-seen order."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def blanks(triple: ox.Triple) -> list[str]:
        return [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]

    for triple in triples:
        nodes = blanks(triple)
        for other in nodes[1:]:
            parent[find(other)] = find(nodes[0])
    groups: dict[str, list[ox.Triple]] = {}
    for triple in triples:
        groups.setdefault(find(blanks(triple)[0]), []).append(triple)
    return list(groups.values())


class _State:
    """Which batches of which graphs reached the target, kept in a JSON file."""

    def __init__(self, path: Path | None, target: str, build: str, graphs: dict[str, int]) -> None:
        self.path = path
        self.target = target
        self.build = build
        self.graphs = graphs
        self.resumed = bool(graphs)  # batches of this build already reached this target

    @classmethod
    def load(cls, path: Path | None, target: str, build: str) -> _State:
        if path is None or not path.exists():
            return cls(path, target, build, {})
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls(path, target, build, {})
        if saved.get("target") != target or saved.get("build") != build:
            return cls(path, target, build, {})
        return cls(path, target, build, {str(k): int(v) for k, v in saved["graphs"].items()})

    def done(self, graph: str) -> int:
        return self.graphs.get(graph, 0)

    def record(self, graph: str, batches: int) -> None:
        self.graphs[graph] = batches
        if self.path is None:
            return
        body = {"target": self.target, "build": self.build, "graphs": self.graphs}
        with replacing(self.path, what=f"the push state {self.path}", make_parents=True) as out:
            out.write(json.dumps(body, indent=1).encode("utf-8"))

    def clear(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def default_state_file(store_dir: Path, target: Target) -> Path:
    """Where a push to ``target`` keeps its resume state: ``<store_dir>/push/<hash>.json``."""
    digest = hashlib.sha256(target.key.encode()).hexdigest()[:16]
    return store_dir / "push" / f"{digest}.json"
