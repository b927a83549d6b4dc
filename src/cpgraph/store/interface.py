"""What cpgraph needs from a store: one seam between the package and the store it talks to.

:class:`Store` is one dataset, read and written; the embedded Oxigraph provides it
(:class:`cpgraph.store.oxigraph.GraphStore`, checked by mypy in :mod:`cpgraph.store.builds`),
and a store over a remote SPARQL 1.1 endpoint would be a second implementation. Where a store
lives (its current state, write transactions, following builds) is still the embedded store's
own functions in :mod:`cpgraph.store.builds`; the remote store will make that a second seam.
pyoxigraph's terms, parsers and serialisers stay the common currency.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

import pyoxigraph as ox

from cpgraph.rdf import Term
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.store.results import BinarySink, QueryResult


class Store(Protocol):
    """A dataset cpgraph queries and writes: named graphs, and a default graph whose
    queries read the union of all graphs, each statement once.

    A graph is named by its IRI, or ``None`` for the default graph. Errors are cpgraph's
    (:mod:`cpgraph.errors`): a malformed query is a ``QuerySyntaxError``, a failing store a
    ``StoreError``.
    """

    @property
    def path(self) -> Path | None:
        """Where the store's data is, if on this machine (it names the build)."""
        ...

    @property
    def read_only(self) -> bool:
        """Whether writes are refused."""
        ...

    # -- queries ------------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        base_iri: str | None = None,
        substitutions: dict[str, Term] | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> QueryResult:
        """Run a query over the protocol's dataset if it names one (``default_graphs``,
        ``named_graphs``), else the query's own, else the whole store."""
        ...

    def answer_within(
        self,
        sparql: str,
        fmt: ResultsFormat,
        *,
        max_bytes: int,
        seconds: float,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        base_iri: str | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> bytes | None:
        """A SELECT's or an ASK's results in ``fmt``, or None as soon as they pass
        ``max_bytes`` or take longer than ``seconds``."""
        ...

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update, all or nothing."""
        ...

    # -- graphs -------------------------------------------------------------------------------

    def has_graph(self, graph: str | None) -> bool:
        """Whether a graph exists (the default graph always does)."""
        ...

    def dump_graph(self, output: BinarySink, fmt: RdfFormat, graph: str | None) -> None:
        """Write the triples of one graph to ``output``."""
        ...

    def load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads, all or none."""
        ...

    def add_graph(self, graph: str) -> None:
        """Declare an empty named graph."""
        ...

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph (``None``: empty the default graph)."""
        ...

    def replace_graph(self, graph: str | None, quads: Iterable[ox.Quad]) -> None:
        """Make a graph (``None``: the default graph) hold exactly ``quads``, all or none; a
        named graph exists afterwards, even with no statement."""
        ...

    def dump(
        self,
        output: IO[bytes],
        fmt: RdfFormat,
        *,
        graph: str | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> None:
        """Write the whole dataset, or one named graph, to ``output``."""
        ...

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of the dataset, or those of one named graph."""
        ...

    def triples(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: Term | None,
    ) -> Iterator[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]]:
        """The distinct statements matching a pattern, over every graph."""
        ...

    def statements_at(
        self,
        nodes: Iterable[Term],
        *,
        outgoing: Collection[str] | None,
        incoming: Collection[str] | None,
    ) -> Iterator[tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, Term]]:
        """The distinct statements (over every graph) whose subject is one of ``nodes`` with a
        predicate in ``outgoing``, or whose object is one with a predicate in ``incoming``
        (None: any predicate; empty: none that way). A validation walks the store a level of
        nodes at a time through this: a remote store answers each level in a few queries."""
        ...

    def default_graph_sample(self) -> ox.Quad | None:
        """One statement written to the default graph, or None if none was."""
        ...

    def stored_forms(self, literals: Iterable[ox.Literal]) -> dict[ox.Literal, ox.Literal]:
        """What this store holds for each of ``literals``: the literal itself where it is
        kept as written, else the form it is read back in (``"007"^^xsd:integer`` as
        ``"7"``), so that what is validated and hashed is what is stored
        (:mod:`cpgraph.store.stored_forms`).

        The embedded Oxigraph finds the form by a round trip through a small store in
        memory. A store over a remote endpoint would answer from a probe made at start-up:
        literals of each datatype written and read back once, the rewrites found written
        down, so that nothing is sent to the endpoint per request.
        """
        ...

    # -- counts -------------------------------------------------------------------------------

    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted."""
        ...

    def graph_sizes(self) -> dict[str, int]:
        """The number of statements in each named graph."""
        ...

    def __len__(self) -> int:
        """The number of quads of the dataset."""
        ...
