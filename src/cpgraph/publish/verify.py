"""Checking that a target holds a copy of the store, graph by graph.

Per graph, the number of triples in the store is compared with the target's, and a graph of
up to ``isomorphism_limit`` triples is fetched back and checked to be isomorphic to the
store's (blank nodes matched by canonicalisation). A store that rewrites literals to their
canonical lexical form (``"007"^^xsd:integer`` as ``"7"``) is judged after canonicalising both
sides, and the report says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from cpgraph.errors import InputError, PushVerificationError
from cpgraph.progress import LOGGED, Progress
from cpgraph.publish.remote import Remote, Target, warn_plain_http
from cpgraph.rdf.namespaces import XSD
from cpgraph.store import Store

DEFAULT_ISOMORPHISM_LIMIT = 20_000

Jobs = list[tuple[str, Sequence[ox.Quad] | None]]
"""The graphs to copy, each with None (a store graph) or its quads (the description graph)."""


@dataclass(slots=True)
class GraphReport:
    """What happened to one graph: batches sent, triples on both sides, the checks."""

    graph: str
    triples: int = 0
    batches: int = 0
    sent: int = 0
    protocol: str = ""
    target_triples: int | None = None
    isomorphic: bool | None = None
    note: str = ""

    @property
    def verified(self) -> bool:
        """Counts equal and, where checked, isomorphic."""
        return self.target_triples == self.triples and self.isomorphic is not False


@dataclass(slots=True)
class PushReport:
    """A push's outcome, graph by graph."""

    target: str
    build: str
    graphs: list[GraphReport] = field(default_factory=list)
    resumed: bool = False

    @property
    def verified(self) -> bool:
        """Whether every graph was verified."""
        return all(g.verified for g in self.graphs)

    def summary(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "target": self.target,
            "build": self.build,
            "resumed": self.resumed,
            "verified": self.verified,
            "graphs": [asdict(g) for g in self.graphs],
        }


def verify_copy(
    store: Store,
    target: Target,
    *,
    build: str,
    description: Sequence[ox.Quad] = (),
    graphs: Sequence[str] | None = None,
    isomorphism_limit: int = DEFAULT_ISOMORPHISM_LIMIT,
    timeout: float = 120.0,
    progress: Progress = LOGGED,
) -> PushReport:
    """Check that ``target`` holds a copy of the store's graphs (and the description graph).

    Raises:
        InputError: if the target has neither a query nor a Graph Store endpoint, or
            ``graphs`` names a graph the store does not have.
        RemoteStoreError: if the target refuses a request, fails or cannot be reached.
        PushVerificationError: if a graph's copy differs (``report`` says how).
    """
    if not target.query and not target.gsp:
        raise InputError("verification needs the target's query or Graph Store endpoint")
    warn_plain_http(target)
    jobs = graphs_to_copy(store, description, graphs)
    report = PushReport(target.key, build)
    for name, held in jobs:
        quads = store.quads(name) if held is None else held
        report.graphs.append(GraphReport(name, triples=sum(1 for _ in quads)))
    with target.client(timeout) as client:
        verify_graphs(Remote(client, target), store, report, jobs, isomorphism_limit, progress)
    return report


def verify_graphs(
    remote: Remote,
    store: Store,
    report: PushReport,
    jobs: Jobs,
    limit: int,
    progress: Progress,
) -> None:
    """Check each graph of ``report`` on ``remote``, filling in what the target holds.

    Raises:
        RemoteStoreError: if the target refuses a request, fails or cannot be reached.
        PushVerificationError: if a graph's copy differs (``report`` says how).
    """
    held = dict(jobs)
    marks = {True: ", isomorphic", False: ", NOT isomorphic", None: ""}
    with progress.task("verifying", total=len(report.graphs), unit="graphs") as advance:
        for graph_report in report.graphs:
            _check_graph(remote, store, graph_report, held.get(graph_report.graph), limit)
            advance(1)
            progress.say(
                f"{graph_report.graph}: {graph_report.target_triples} of "
                f"{graph_report.triples} triples there{marks[graph_report.isomorphic]}"
            )
    if not report.verified:
        bad = [g.graph for g in report.graphs if not g.verified]
        raise PushVerificationError(
            f"the copy differs from the store in {len(bad)} graph(s): {', '.join(bad)}",
            report=report,
        )


def _check_graph(
    remote: Remote,
    store: Store,
    report: GraphReport,
    description: Sequence[ox.Quad] | None,
    limit: int,
) -> None:
    fetched: list[ox.Triple] | None = None
    if remote.target.query:
        report.target_triples = remote.count(report.graph)
    else:
        fetched = remote.fetch(report.graph)
        report.target_triples = len(set(fetched))
    if report.triples > limit or report.target_triples != report.triples:
        return
    if fetched is None:
        fetched = remote.fetch(report.graph)
    source = [
        ox.Triple(q.subject, q.predicate, q.object)
        for q in (description if description is not None else store.quads(report.graph))
    ]
    if _isomorphic(source, fetched):
        report.isomorphic = True
    elif _isomorphic(_canonical(source), _canonical(fetched)):
        report.isomorphic = True
        report.note = "isomorphic once literals are in canonical lexical form"
    else:
        report.isomorphic = False


def graphs_to_copy(
    store: Store, description: Sequence[ox.Quad], graphs: Sequence[str] | None
) -> Jobs:
    """The store's graphs to copy (or those of ``graphs``), then the description graph.

    Raises:
        InputError: if ``graphs`` names a graph the store does not have, or a graph's IRI
            cannot be written in SPARQL.
    """
    names = list(store.named_graphs())
    void = description_graph_of(description)
    if graphs is not None:
        missing = [g for g in graphs if g not in names and g != void]
        if missing:
            raise InputError(f"no such graph in the store: {', '.join(missing)}")
        names = [g for g in graphs if g != void]
    jobs: Jobs = [(check_graph_iri(g), None) for g in names]
    if void is not None and (graphs is None or void in graphs):
        jobs.append((void, description))
    return jobs


def description_graph_of(description: Sequence[ox.Quad]) -> str | None:
    """The graph the description quads are in (None when there is no description)."""
    for quad in description:
        if isinstance(quad.graph_name, ox.NamedNode):
            return quad.graph_name.value
    return None


_SAFE_IRI = re.compile(r"^[^<>\"{}|^`\\\s]+$")


def check_graph_iri(iri: str) -> str:
    """``iri`` if it can go between ``<`` and ``>`` in SPARQL.

    Raises:
        InputError: if it cannot.
    """
    if not _SAFE_IRI.match(iri):
        raise InputError(f"not an IRI that can be written in SPARQL: {iri!r}")
    return iri


def _isomorphic(a: Iterable[ox.Triple], b: Iterable[ox.Triple]) -> bool:
    left = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in a)
    right = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in b)
    if len(left) != len(right):
        return False
    left.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    right.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return set(left) == set(right)


_INTEGERS = {
    XSD + name
    for name in (
        "integer",
        "int",
        "long",
        "short",
        "byte",
        "nonNegativeInteger",
        "positiveInteger",
        "nonPositiveInteger",
        "negativeInteger",
        "unsignedInt",
        "unsignedLong",
        "unsignedShort",
        "unsignedByte",
    )
}


def canonical_literal(term: ox.Literal) -> ox.Literal:
    """A literal in the canonical lexical form of its datatype (integers, decimals, booleans,
    dateTimes in UTC), so that ``"007"^^xsd:integer`` compares equal to ``"7"``."""
    datatype = term.datatype.value
    text = term.value.strip()
    try:
        if datatype in _INTEGERS:
            return ox.Literal(str(int(text)), datatype=term.datatype)
        if datatype == XSD + "decimal":
            number = Decimal(text)
            canonical = format(number.normalize(), "f")
            if "." not in canonical:
                canonical += ".0"
            return ox.Literal(canonical, datatype=term.datatype)
        if datatype == XSD + "dateTime" and text.endswith(("+00:00", "-00:00")):
            return ox.Literal(text[:-6] + "Z", datatype=term.datatype)
        if datatype == XSD + "boolean":
            return ox.Literal("true" if text in ("1", "true") else "false", datatype=term.datatype)
    except (ValueError, InvalidOperation):
        return term
    return term


def _canonical(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    return [
        ox.Triple(
            t.subject,
            t.predicate,
            canonical_literal(t.object) if isinstance(t.object, ox.Literal) else t.object,
        )
        for t in triples
    ]
