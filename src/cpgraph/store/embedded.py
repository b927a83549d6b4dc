"""The store: cpgraph's one module that owns pyoxigraph's ``Store``.

Everything else talks to :class:`GraphStore` through a narrow interface (query, update, load
quads, list graphs, count), so that the same service can later run over a remote SPARQL 1.1
store. Terms crossing the interface are pyoxigraph terms (which are plain RDF 1.1 terms with
N-Triples syntax), and query results are :class:`QueryResult` objects that serialise
themselves into the standard formats.

On disk, a store folder holds immutable builds and a ``current`` link::

    store_dir/
        builds/20261123T180102-4242/    one Oxigraph database per build
        current -> builds/20261123T180102-4242
        .generation                     a counter, one more at every publication

A build writes a new folder and then moves the link in one atomic ``rename``: readers never
see half a store, and a build that fails or is killed leaves ``current`` as it was. The
counter lets a server notice a build another process published by reading memory (see
:class:`BuildWatch`) rather than asking the file system at every request.

Inside a database, the default graph of the dataset a user sees (the union of the graphs) is
kept merged: the database's own default graph holds each statement of any graph once. A query
reads it as one graph, so a statement that fifteen sources make is matched once, not fifteen
times (Oxigraph's union of graphs is a bag: counts and joins over it were inflated, and slow).
What users write to "the default graph" (the Graph Store Protocol's ``?default``, an update
without ``GRAPH``) is kept in a reserved named graph, :data:`DEFAULT_GRAPH_NAME`, hidden from
``GRAPH ?g``. Every write keeps the merge in step (see :class:`GraphStore`); a build marks its
folder (:data:`MERGED_MARK`) so that a database made by an older cpgraph is still read as it was
made (the union computed by Oxigraph) and is merged at its first write.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import functools
import io
import mmap
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, NamedTuple, Protocol, cast

import pyoxigraph as ox

from cpgraph.errors import InputError, NotAcceptableError, QuerySyntaxError, StoreError
from cpgraph.rdf.io import RdfFormat, check_rdf_file, in_graph, query_syntax_error, rdf_errors
from cpgraph.sparql.joins import Pattern, hash_join_rewrite
from cpgraph.sparql.outbound import remote_failure
from cpgraph.sparql.text import as_insertions, data_operations, dataset_clauses

CURRENT = "current"
BUILDS = "builds"
STALE_AFTER_SECONDS = 600
MERGED_MARK = "cpgraph-merged-union"  # in a database's folder: its default graph is the merge
DEFAULT_GRAPH_NAME = "urn:x-cpgraph:default-graph"  # where writes to the default graph are kept
_DEFAULT = ox.DefaultGraph()
_KEPT_DEFAULT = ox.NamedNode(DEFAULT_GRAPH_NAME)
_KEPT_VIEWS = 4  # views of a build's named datasets kept (GraphStore._view), at most
_KEPT_VIEW_QUADS = 200_000  # and each of at most these many quads
_RESERVED = f"{DEFAULT_GRAPH_NAME} is reserved: it keeps the default graph"


class BinarySink(Protocol):
    """Anything serialisers can write bytes to: a file, a buffer, a socket adapter."""

    def write(self, data: bytes, /) -> int: ...


class ResultsFormat(enum.Enum):
    """Serialisations of SELECT and ASK results."""

    JSON = "json"
    XML = "xml"
    CSV = "csv"
    TSV = "tsv"

    @property
    def oxigraph(self) -> ox.QueryResultsFormat:
        """The matching pyoxigraph format."""
        return _RESULTS_FORMATS[self._value_]

    @property
    def media_type(self) -> str:
        """The format's registered media type."""
        return _RESULTS_MEDIA_TYPES[self._value_]


# By the members' values: an Enum member hashes in Python, a string in C (once per query).
_RESULTS_FORMATS = {
    "json": ox.QueryResultsFormat.JSON,
    "xml": ox.QueryResultsFormat.XML,
    "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV,
}
_RESULTS_MEDIA_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}


class QueryKind(enum.Enum):
    """What a SPARQL query returns."""

    SOLUTIONS = "solutions"  # SELECT
    BOOLEAN = "boolean"  # ASK
    GRAPH = "graph"  # CONSTRUCT, DESCRIBE


@dataclass(slots=True)
class QueryResult:
    """The result of a query, to be iterated once or serialised once.

    ``raw`` is the pyoxigraph result; use :meth:`serialize` or :meth:`rows` rather than it.
    """

    kind: QueryKind
    raw: Any

    @property
    def variables(self) -> tuple[str, ...]:
        """The names of a SELECT's variables, in order (empty for other kinds)."""
        if self.kind is not QueryKind.SOLUTIONS:
            return ()
        return tuple(v.value for v in self.raw.variables)

    def serialize(self, output: BinarySink, fmt: ResultsFormat | RdfFormat) -> None:
        """Write the result to ``output`` in ``fmt``.

        Raises:
            NotAcceptableError: if ``fmt`` cannot carry this kind of result (RDF for a SELECT,
                SPARQL results for a CONSTRUCT).
        """
        if self.kind is QueryKind.GRAPH:
            if not isinstance(fmt, RdfFormat):
                raise NotAcceptableError(f"a graph result cannot be written as {fmt.value}")
            ox.serialize(self.raw, cast("IO[bytes]", output), fmt.oxigraph)
            return
        if not isinstance(fmt, ResultsFormat):
            raise NotAcceptableError(f"a {self.kind.value} result cannot be written as RDF")
        self.raw.serialize(cast("IO[bytes]", output), fmt.oxigraph)

    def serialize_capped(
        self, fmt: ResultsFormat, *, max_rows: int, check: Callable[[], None] | None = None
    ) -> tuple[bytes, bool]:
        """At most ``max_rows`` solutions of a SELECT in ``fmt``, and whether rows were cut.

        Evaluation stops at row ``max_rows + 1``: the solutions are first written as TSV (one
        line per row, every term in full) into a buffer that refuses the extra row, then read
        back and written in ``fmt``. Memory is bounded by ``max_rows``. ``check`` is called
        as the rows come (its exception, if it raises one, stops the evaluation).
        """
        if self.kind is not QueryKind.SOLUTIONS:
            output = io.BytesIO()
            self.serialize(output, fmt)
            return output.getvalue(), False
        capped = _LineCap(max_rows + 1, check)  # the header line, then max_rows rows
        with contextlib.suppress(_FullError):
            self.raw.serialize(capped, ox.QueryResultsFormat.TSV)
        tsv = capped.getvalue()
        if fmt is ResultsFormat.TSV:
            return tsv, capped.truncated
        solutions = ox.parse_query_results(tsv, ox.QueryResultsFormat.TSV)
        written = solutions.serialize(format=fmt.oxigraph)
        assert written is not None  # no output given: the bytes are returned
        return written, capped.truncated

    def serialize_within(
        self, fmt: ResultsFormat, *, max_rows: int, check: Callable[[], None] | None = None
    ) -> bytes | None:
        """A SELECT's solutions in ``fmt``, written once, if they are certainly no more than
        ``max_rows``; None as soon as they might be more (evaluation then stops).

        The cheap path of a row limit: :meth:`serialize_capped` counts rows exactly, through
        TSV read back into ``fmt`` (for a small answer that costs as much again as writing
        it, with the interpreter lock held). Here the bytes written in ``fmt`` are counted as
        they come, for an upper bound of the rows they hold (:class:`_RowBound`); an answer
        within the limit, the usual case, is the direct serialisation. None means: evaluate
        again through :meth:`serialize_capped` (the bound overcounts only where literals
        hold braces, or for RDF-star triples). ``check`` is called as the bytes come.
        """
        if self.kind is not QueryKind.SOLUTIONS or fmt is ResultsFormat.TSV:
            body, truncated = self.serialize_capped(fmt, max_rows=max_rows, check=check)
            return None if truncated else body  # TSV is counted exactly as it is written
        bound = _RowBound(fmt, max_rows, check)
        try:
            self.raw.serialize(bound, fmt.oxigraph)
        except _FullError:
            return None
        return bound.getvalue() if bound.within() else None

    def rows(self) -> Iterator[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal]]:
        """The solutions of a SELECT as dictionaries (unbound variables left out)."""
        if self.kind is not QueryKind.SOLUTIONS:
            raise TypeError("rows() is for SELECT results")
        for solution in self.raw:
            row = {}
            for name in self.variables:
                value = solution[name]
                if value is not None:
                    row[name] = value
            yield row

    @property
    def boolean(self) -> bool:
        """The answer of an ASK."""
        if self.kind is not QueryKind.BOOLEAN:
            raise TypeError("boolean is for ASK results")
        return bool(self.raw)

    def triples(self) -> Iterator[ox.Triple]:
        """The triples of a CONSTRUCT or DESCRIBE."""
        if self.kind is not QueryKind.GRAPH:
            raise TypeError("triples() is for CONSTRUCT and DESCRIBE results")
        yield from self.raw


class _FullError(Exception):
    """Raised by :class:`_LineCap` to stop a serialisation that reached its cap."""


class _LineCap:
    """A binary sink that keeps whole lines up to a cap and refuses the line after it."""

    def __init__(self, max_lines: int, check: Callable[[], None] | None = None) -> None:
        self._max = max_lines
        self._check = check
        self._parts: list[bytes] = []
        self._lines = 0
        self.truncated = False

    def write(self, data: bytes) -> int:
        if self._check is not None:
            self._check()
        data = bytes(data)
        count = data.count(b"\n")
        if self._lines + count <= self._max:
            self._parts.append(data)
            self._lines += count
            return len(data)
        keep = self._max - self._lines
        cut = 0
        for _ in range(keep):
            cut = data.index(b"\n", cut) + 1
        self._parts.append(data[:cut])
        self._lines = self._max
        self.truncated = True
        raise _FullError

    def flush(self) -> None:
        """Nothing to flush: the lines are kept in memory."""

    def getvalue(self) -> bytes:
        """The lines kept."""
        return b"".join(self._parts)


class _RowBound:
    """A binary sink for SELECT results in JSON, XML or CSV that keeps what is written while
    an upper bound of the rows in it stays within ``max_rows``, and refuses the write that
    could pass it.

    The bound, per format, from what the bytes must hold (never fewer than the rows):

    - XML: ``<result>`` opens each solution; in text and attributes ``<`` is escaped, so the
      count is exact.
    - CSV: every row ends a line; a quoted value may hold line breaks, which only add.
    - JSON: every solution is an object, so it opens a brace; so does each bound value,
      whose object starts ``{"type":"``, which no string can hold (its quotes would be
      escaped). Braces less those starts, less the three of the head, are the solutions
      plus the braces inside literals plus one per RDF-star triple term. Whatever Oxigraph
      writes differently (spacing) lowers the count of starts, so the bound only grows.

    Counting costs a pass over the bytes with the interpreter lock held (about 1 µs a
    kilobyte: 14 µs a request for the shipped graph's 13 KB aggregate, a fortieth of the
    query's time), so it waits until the size alone no longer settles the question: each mark
    counted is at least one byte (eight for XML's), so an answer of at most ``max_rows`` bytes
    (eight times that for XML) cannot pass the bound, and the usual answer, far smaller, is
    never counted. Past that size, what was written is counted once and every later write as
    it comes.

    Oxigraph writes in pieces of its own choosing, and a mark may be cut between two: the
    last bytes counted, too few to hold a mark, are counted with the next piece (and by
    :meth:`within` at the end), so each mark is counted once, whole.
    """

    __slots__ = (
        "_bound",
        "_braces",
        "_check",
        "_counted",
        "_free",
        "_mark",
        "_max",
        "_parts",
        "_pending",
        "_size",
    )

    def __init__(
        self, fmt: ResultsFormat, max_rows: int, check: Callable[[], None] | None = None
    ) -> None:
        self._max = max_rows
        self._check = check
        self._parts: list[bytes] = []
        self._counted = 0  # how many of the parts were counted
        self._size = 0
        self._pending = b""  # the end of what was counted, too short to hold a mark yet
        self._braces = fmt is ResultsFormat.JSON
        if fmt is ResultsFormat.JSON:
            self._bound = -3  # the braces of the head: {"head":{...},"results":{...}}
            self._mark = b'{"type":"'  # subtracted: a bound value, not a row
        elif fmt is ResultsFormat.XML:
            self._bound = 0
            self._mark = b"<result>"
        else:
            self._bound = -1  # the header line
            self._mark = b"\n"
        # The most bytes that cannot hold more than max_rows of what is counted.
        self._free = max_rows * (len(self._mark) if fmt is ResultsFormat.XML else 1)

    def write(self, data: bytes) -> int:
        if self._check is not None:
            self._check()
        data = bytes(data)
        self._parts.append(data)
        self._size += len(data)
        if self._size > self._free:
            self._count()
            if self._bound > self._max:
                raise _FullError
        return len(data)

    def _count(self) -> None:
        """Count the marks in the parts not counted yet."""
        window = self._pending + b"".join(self._parts[self._counted :])
        self._counted = len(self._parts)
        keep = len(self._mark) - 1  # a mark that begins here is not whole yet
        decided = window[: len(window) - keep] if len(window) > keep else b""
        self._pending = window[len(decided) :]
        # Every mark found in the window begins in ``decided`` (the rest is too short).
        marks = window.count(self._mark)
        self._bound += decided.count(b"{") - marks if self._braces else marks

    def within(self) -> bool:
        """Whether the whole answer stays within the bound, its last bytes counted too."""
        if self._size <= self._free:
            return True
        self._count()
        if self._braces:
            self._bound += self._pending.count(b"{")
        self._pending = b""
        return self._bound <= self._max

    def flush(self) -> None:
        """Nothing to flush: the parts are joined at the end."""

    def getvalue(self) -> bytes:
        """What was written."""
        return b"".join(self._parts)


# Where a query may need its base IRI: an IRI reference without a scheme (a superset of
# SPARQL's IRIREF: anything between angle brackets without spaces, a comparison such as
# ``?a<?b&&?c>?d`` included), or the IRI()/URI() functions, which resolve strings against it.
_RELATIVE_IRIREF = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.-]*:)[^<>\x00-\x20]*>")
# (Spaces and comments by SPARQL's rules may stand between the name and its bracket.)
_IRI_CALL = re.compile(r"\b(?:IRI|URI)(?:[ \t\r\n]|#[^\r\n]*+)*+\(", re.IGNORECASE)


def _may_be_relative(sparql: str) -> bool:
    """Whether a query may need a base IRI: a relative IRI reference, or IRI() / URI()."""
    if "<" in sparql and _RELATIVE_IRIREF.search(sparql) is not None:
        return True
    if "(" not in sparql:
        return False
    lowered = sparql.lower()  # cheaper than the case-insensitive pattern at every position
    return ("iri" in lowered or "uri" in lowered) and _IRI_CALL.search(sparql) is not None


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where a database keeps the dataset's default graphs (see the module's docstring).

    ``merged``: the database's default graph is the merge of every graph (else Oxigraph
    computes the union at each query, as in builds of older cpgraph versions). ``kept``: the
    graph that holds what users wrote to the default graph. ``visible``: the named graphs a
    query sees, when that is not all of them (the kept default graph is then hidden).
    """

    merged: bool
    kept: ox.NamedNode | ox.DefaultGraph
    visible: list[ox.NamedNode] | None


class _Dataset(NamedTuple):
    """The dataset one query names (by the protocol, or by its own ``FROM`` and ``FROM
    NAMED``): the graphs whose merge is its default graph, and its named graphs, each once."""

    default: tuple[str, ...]
    named: tuple[str, ...]


def _named(default: Iterable[str], named: Iterable[str]) -> _Dataset:
    return _Dataset(tuple(dict.fromkeys(default)), tuple(dict.fromkeys(named)))


# A query that reads a named graph's IRI and nothing else, on a store that holds nothing:
# Oxigraph resolves the IRI (escapes, prefixes, the base) as it resolves the query's own.
_PROBE = "\nSELECT ?g FROM NAMED {iri} {{ GRAPH ?g {{}} }}"


@functools.lru_cache(maxsize=256)
def _own_dataset(
    sparql: str, base_iri: str | None, prefixes: tuple[tuple[str, str], ...]
) -> _Dataset | Literal["unread"] | None:
    """The dataset a query names with its own ``FROM`` and ``FROM NAMED`` (IRIs resolved by
    Oxigraph), None if it names none, or ``"unread"`` if its clauses cannot be read for
    certain (see :func:`cpgraph.sparql.text.dataset_clauses`): the query is then left to
    Oxigraph as written, which refuses it if it is malformed, saying where."""
    found = dataset_clauses(sparql)
    if found is None:
        return "unread"
    form, clauses = found
    if not clauses:
        return None
    prologue = sparql[:form]
    probe = ox.Store()
    default: list[str] = []
    named: list[str] = []
    for is_named, iri in clauses:
        try:
            rows = list(
                cast(
                    "ox.QuerySolutions",
                    probe.query(
                        prologue + _PROBE.format(iri=iri),
                        base_iri=base_iri,
                        prefixes=dict(prefixes) or None,
                    ),
                )
            )
        except (SyntaxError, ValueError, OSError):
            return "unread"
        graph = rows[0]["g"] if len(rows) == 1 else None
        if not isinstance(graph, ox.NamedNode):
            return "unread"
        (named if is_named else default).append(graph.value)
    return _named(default, named)


def _names_no_dataset(sparql: str) -> bool:
    """Whether a query surely has no FROM or FROM NAMED of its own."""
    found = dataset_clauses(sparql)
    return found is not None and not found[1]


def _options(
    sparql: str,
    union_default_graph: bool,
    default_graphs: Iterable[str] | None,
    named_graphs: Iterable[str] | None,
    base_iri: str | None,
    substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] | None,
    prefixes: dict[str, str] | None,
    layout: _Layout,
) -> dict[str, Any]:
    """pyoxigraph's query options for ``sparql`` (see :meth:`GraphStore.query`)."""
    options: dict[str, Any] = {}
    if base_iri is not None and _may_be_relative(sparql):
        options["base_iri"] = base_iri  # parsing it costs Oxigraph 8 µs a query
    used: dict[str, str] = {}
    if prefixes:
        # Only those the text can use: Oxigraph reads every predeclared prefix per query.
        used = {k: v for k, v in prefixes.items() if k + ":" in sparql}
        if used:
            options["prefixes"] = used
    # The dataset: the protocol's if it names one, which replaces the query's own whole
    # (SPARQL 1.1 Protocol, 2.1.4); else the query's FROM and FROM NAMED; else the store's:
    # the merged union (or the graph written as the default graph), and the named graphs
    # but the one that keeps it.
    protocol_default = () if default_graphs is None else tuple(default_graphs)
    if protocol_default or named_graphs is not None:
        dataset: _Dataset | Literal["unread"] | None = _named(protocol_default, named_graphs or ())
    elif "from" in sparql.lower():
        dataset = _own_dataset(
            sparql, options.get("base_iri"), tuple(sorted(used.items())) if used else ()
        )
    else:
        dataset = None
    if isinstance(dataset, _Dataset):
        # Both given, so that neither half of the query's own stays: a graph named twice is
        # read once; several default graphs are merged and the hidden graph is named by no
        # one (see GraphStore._evaluate).
        options["default_graph"] = [ox.NamedNode(iri) for iri in dataset.default]
        options["named_graphs"] = [ox.NamedNode(iri) for iri in dataset.named]
    elif dataset is None:
        if not union_default_graph:
            options["default_graph"] = layout.kept
        elif not layout.merged:
            options["use_default_graph_as_union"] = True
        # else the database's default graph: the merged union.
        if layout.visible is not None:
            options["named_graphs"] = layout.visible
    # else "unread": as written, as Oxigraph reads it (or refuses it).
    if substitutions:
        options["substitutions"] = {ox.Variable(k): v for k, v in substitutions.items()}
    return options


def _names_merge(options: dict[str, Any]) -> bool:
    """Whether a query's dataset may be other than graphs the database holds as they are:
    a default graph merged from several graphs, or a graph named by the reserved name of the
    kept default graph (which names no graph of the dataset users see)."""
    default = options.get("default_graph")
    if not isinstance(default, list):
        return False
    return len(default) > 1 or _KEPT_DEFAULT in default or _KEPT_DEFAULT in options["named_graphs"]


_BAG = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
_SET = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }"


class _PastBoundError(Exception):
    """Raised by :class:`_BoundedSink` when an answer passes its size or its time."""


class _BoundedSink:
    """A binary sink that keeps at most ``limit`` bytes and refuses more, or any after
    ``deadline`` (``time.monotonic()``)."""

    __slots__ = ("_deadline", "_limit", "_parts")

    def __init__(self, limit: int, deadline: float) -> None:
        self._limit = limit
        self._deadline = deadline
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._limit -= len(data)
        if self._limit < 0 or time.monotonic() > self._deadline:
            raise _PastBoundError
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are joined at the end."""

    def getvalue(self) -> bytes:
        return b"".join(self._parts)


_BLANK_QUADS = (
    "SELECT ?s ?p ?o ?g WHERE {"
    " { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }"
    " UNION { GRAPH ?g { ?s ?p ?o } FILTER(isBlank(?s) || isBlank(?o) || isBlank(?g)) } }"
)


# How many statements of the default graph match a predicate (and a class).
_COUNT_PATTERN = "SELECT (COUNT(*) AS ?n) WHERE {{ ?s {predicate} {obj} }}"


def _blank_quads(store: ox.Store) -> Iterator[ox.Quad]:
    """The quads of a database (every graph, the merge included) that hold a blank node."""
    rows = cast(ox.QuerySolutions, store.query(_BLANK_QUADS, use_default_graph_as_union=False))
    for row in rows:
        graph = row["g"]
        yield ox.Quad(row["s"], row["p"], row["o"], _DEFAULT if graph is None else graph)


def is_merged(folder: Path) -> bool:
    """Whether the database in ``folder`` keeps its default graph as the merge of its graphs
    (a build of this cpgraph; an older one's default graph is Oxigraph's union)."""
    return (folder / MERGED_MARK).is_file()


def _mark_merged(folder: Path) -> None:
    """Say in a database's folder that its default graph is the merge (see the module)."""
    (folder / MERGED_MARK).write_text(
        "The default graph of this database is the merge of its graphs (cpgraph).\n",
        encoding="utf-8",
    )


class GraphStore:
    """An Oxigraph store on disk (or in memory when ``path`` is None).

    The dataset it holds is the one users see: named graphs, and a default graph of what was
    written to it without a name; a query's default graph is the union of all of them, each
    statement once. Physically the union is kept merged in the database's default graph (see
    the module's docstring): every write below keeps it in step, and the bulk loads, which
    bypass transactions, merge it once at their end (at the next read, flush or optimize).

    >>> store = GraphStore(None)
    >>> g1, g2 = ox.NamedNode("urn:g1"), ox.NamedNode("urn:g2")
    >>> t = (ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.Literal("o"))
    >>> store.load_quads([ox.Quad(*t, g1), ox.Quad(*t, g2)])
    >>> len(store), next(store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").rows())["n"].value
    (2, '1')
    """

    def __init__(self, path: Path | None, *, read_only: bool = False) -> None:
        """Open the store at ``path`` (created if missing unless ``read_only``).

        A database written by an older cpgraph (no :data:`MERGED_MARK`) is read as it was
        written, its union computed by Oxigraph at each query; opened writable, it is merged
        before its first read or write.

        Raises:
            StoreError: if the store cannot be opened (missing, locked by another writer,
                or not an Oxigraph database).
        """
        self.path = path
        self.read_only = read_only
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            raise StoreError(f"cannot open the store at {path}: {exc}") from exc
        marked = path is None or is_merged(path)
        # Writable and unmarked (new, or made by an older cpgraph): merged at first use.
        self._stale = not marked and not read_only
        self._merged = marked or not read_only
        self._kept: ox.NamedNode | ox.DefaultGraph = _KEPT_DEFAULT if self._merged else _DEFAULT
        self._layout = self._read_layout() if read_only else None
        self.in_memory = path is None
        self._sizes: dict[tuple[str, str | None], int] = {}
        self._views: dict[tuple[tuple[ox.NamedNode, ...], tuple[ox.NamedNode, ...]], ox.Store] = {}
        self._disjoints: dict[tuple[ox.NamedNode, ...], bool] = {}

    def memory_copy(self) -> GraphStore:
        """A read-only copy of this store held in memory: the same dataset, read faster.

        Why: Oxigraph reads from memory two to three times faster than from its database on
        disk when a query touches many statements (a join's lookups, a large result), and a
        build never changes once published, so a server may answer from a copy of it.
        The copy keeps :attr:`path` (it describes the same build) and the physical layout
        (the merged union, the kept default graph), empty named graphs included.

        The database is streamed through a pipe, from a thread dumping it into this thread
        loading it; both run inside Oxigraph with the interpreter lock released, so a server
        goes on answering meanwhile, and no serialisation of the whole is held in between.

        Raises:
            StoreError: if the copy cannot be made, or does not hold every quad.
        """
        self._settle()
        copy = ox.Store()
        reading, writing = os.pipe()
        failures: list[BaseException] = []

        def dump() -> None:
            try:
                self._store.dump(output=f"/dev/fd/{writing}", format=ox.RdfFormat.N_QUADS)
            except OSError as exc:
                # Writing into a pipe, Oxigraph ends with a sync the pipe refuses (EINVAL):
                # the quads are through by then, which the count below checks.
                failures.append(exc)
            finally:
                os.close(writing)  # the loader's end of file, the dump done or failed

        dumper = threading.Thread(target=dump, name="cpgraph-memory-copy", daemon=True)
        try:
            try:
                dumper.start()
                copy.bulk_load(path=f"/dev/fd/{reading}", format=ox.RdfFormat.N_QUADS)
            finally:
                os.close(reading)  # a load that stopped early ends the dump too (EPIPE)
                dumper.join()
            for graph in self._store.named_graphs():  # N-Quads cannot say a graph is empty
                copy.add_graph(graph)
            # Loading gives blank nodes new labels: the few quads with blank nodes are put
            # back as this store has them, so that a copy answers with the same labels.
            renamed = list(_blank_quads(copy))
            if renamed:
                for quad in renamed:
                    copy.remove(quad)
                copy.extend(_blank_quads(self._store))
        except (OSError, SyntaxError) as exc:
            raise StoreError(f"cannot copy the store into memory: {exc}") from exc
        if len(copy) != len(self._store):
            raise StoreError(
                f"the copy in memory holds {len(copy):,} quads of {len(self._store):,}"
                + (f" ({failures[0]})" if failures else "")
            )
        held = GraphStore.__new__(GraphStore)
        held.path = self.path
        held.read_only = True
        held._store = copy
        held._stale = False
        held._merged = self._merged
        held._kept = self._kept
        held._layout = held._read_layout()
        held.in_memory = True
        held._sizes = dict(self._sizes)
        held._views = {}
        held._disjoints = dict(self._disjoints)
        return held

    # -- the layout -------------------------------------------------------------------------

    def _read_layout(self) -> _Layout:
        visible = None
        if self._merged and self._store.contains_named_graph(_KEPT_DEFAULT):
            visible = [g for g in self._store.named_graphs() if g != _KEPT_DEFAULT]
        return _Layout(self._merged, self._kept, visible)  # type: ignore[arg-type]

    def _current_layout(self) -> _Layout:
        """The layout a query reads: fixed for a read-only database, else read again."""
        if self._layout is not None:
            return self._layout
        self._settle()
        return self._read_layout()

    def _unsettle(self) -> None:
        """Before a bulk load: drop the merge (a range deletion, instant); see :meth:`_settle`."""
        if not self._stale:
            if self.path is not None:  # killed from here on, it reads as unmerged: it is
                (self.path / MERGED_MARK).unlink(missing_ok=True)
            self._store.clear_graph(_DEFAULT)
            self._stale = True

    def _settle(self) -> None:
        """Merge the union if a bulk load (or an older cpgraph) left it unmerged.

        What the database's default graph holds then is what was written to the dataset's
        default graph: it moves to the kept default graph, and the merge is made anew.
        """
        if not self._stale:
            return
        written = [
            in_graph(q, _KEPT_DEFAULT)
            for q in self._store.quads_for_pattern(None, None, None, _DEFAULT)
        ]
        if written:
            self._store.extend(written)
        self._merge()
        self._stale = False
        if self.path is not None:
            _mark_merged(self.path)

    def _merge(self) -> None:
        """Make the database's default graph the merge of every named graph, anew."""
        self._store.clear_graph(_DEFAULT)
        self._store.bulk_extend(
            in_graph(q, _DEFAULT)
            for g in list(self._store.named_graphs())
            for q in self._store.quads_for_pattern(None, None, None, g)
        )

    def _physical(self, graph: str | None) -> ox.NamedNode | ox.DefaultGraph:
        """The database's graph for a graph of the dataset (``None``: its default graph).

        Raises:
            InputError: if ``graph`` is the reserved name of the kept default graph.
        """
        if graph is None:
            return self._kept
        if graph == DEFAULT_GRAPH_NAME:
            raise InputError(_RESERVED)
        return ox.NamedNode(graph)

    def _unmerge(self, triples: Iterable[tuple[Any, Any, Any]]) -> None:
        """Take out of the merge the statements that no graph holds any more."""
        for s, p, o in triples:
            if not any(
                not isinstance(q.graph_name, ox.DefaultGraph)
                for q in self._store.quads_for_pattern(s, p, o, None)
            ):
                self._store.remove(ox.Quad(s, p, o, _DEFAULT))

    # -- queries ----------------------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        union_default_graph: bool = True,
        default_graphs: Iterable[str] | None = None,
        named_graphs: Iterable[str] | None = None,
        base_iri: str | None = None,
        substitutions: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal] | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> QueryResult:
        """Run a SPARQL query.

        The dataset is the one the protocol names, if it names one (``default_graphs`` and
        ``named_graphs``: ``default-graph-uri`` and ``named-graph-uri``), which replaces the
        query's own whole; else the query's own ``FROM`` and ``FROM NAMED``; else the union
        of all graphs (what was written to the default graph, if ``union_default_graph`` is
        false) and every named graph. A default graph of several graphs is their merge, each
        statement once, and the reserved :data:`DEFAULT_GRAPH_NAME` names an empty graph.
        ``substitutions`` binds variables to terms before evaluation, so that values are never
        spliced into the query text. ``prefixes`` are predeclared (the query's own PREFIX
        declarations take precedence).

        Raises:
            QuerySyntaxError: if the query is malformed, with its line and column.
            StoreError: if the store fails while evaluating.
        """
        raw = self._evaluate(
            sparql,
            _options(
                sparql,
                union_default_graph,
                default_graphs,
                named_graphs,
                base_iri,
                substitutions,
                prefixes,
                self._current_layout(),
            ),
        )
        if isinstance(raw, ox.QuerySolutions):
            return QueryResult(QueryKind.SOLUTIONS, raw)
        if isinstance(raw, ox.QueryBoolean):
            return QueryResult(QueryKind.BOOLEAN, raw)
        return QueryResult(QueryKind.GRAPH, raw)

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
        """The results of a SELECT or an ASK in ``fmt``, or None as soon as they pass
        ``max_bytes`` or take longer than ``seconds``.

        For an answer that must stay small and quick (a point lookup answered where it
        arrives): the evaluation is abandoned at the first bound it passes. The dataset and
        prefixes are as for :meth:`query`.

        Raises:
            QuerySyntaxError: if the query is malformed, with its line and column.
            NotAcceptableError: if the query is a CONSTRUCT or a DESCRIBE.
            StoreError: if the store fails while evaluating.
        """
        options = _options(
            sparql,
            True,
            default_graphs,
            named_graphs,
            base_iri,
            None,
            prefixes,
            self._current_layout(),
        )
        if _names_merge(options):
            return None  # graphs to merge first: not a quick answer
        raw = self._evaluate(sparql, options)
        if not isinstance(raw, (ox.QuerySolutions, ox.QueryBoolean)):
            raise NotAcceptableError(f"a graph result cannot be written as {fmt.value}")
        sink = _BoundedSink(max_bytes, time.monotonic() + seconds)
        try:
            raw.serialize(cast("IO[bytes]", sink), fmt.oxigraph)
        except _PastBoundError:
            return None
        except Exception as exc:  # an evaluation error, raised as the solutions are written
            raise remote_failure(sparql, exc) or StoreError(f"query failed: {exc}") from exc
        return sink.getvalue()

    def _evaluate(self, sparql: str, options: dict[str, Any]) -> Any:
        store = self._store
        if _names_merge(options):
            store, options = self._dataset(sparql, options)
        planned = self._planned(sparql, options) if store is self._store else None
        if planned is not None:
            try:
                return store.query(planned, **options)
            except (SyntaxError, ValueError):
                pass  # the query's own text gives the error, with its own line and column
            except OSError as exc:
                raise remote_failure(sparql, exc) or StoreError(f"query failed: {exc}") from exc
        try:
            return store.query(sparql, **options)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        except ValueError as exc:
            raise QuerySyntaxError(str(exc)) from None
        except (OSError, RuntimeError) as exc:  # RuntimeError: a SERVICE's answer unreadable
            failure = remote_failure(sparql, exc)
            if failure is not None:
                raise failure from exc
            if isinstance(exc, RuntimeError):
                raise
            raise StoreError(f"query failed: {exc}") from exc

    def _dataset(self, sparql: str, options: dict[str, Any]) -> tuple[ox.Store, dict[str, Any]]:
        """Where a query whose dataset :func:`_names_merge` reads it, and the options that
        read it there.

        A default graph of several graphs is their merge, each statement once: Oxigraph
        reads them one after another, a bag, which is the merge when no statement is in two
        of them (counted once per build). The reserved name of the kept default graph names
        an empty graph. Otherwise the query reads a view of its dataset (:meth:`_view`).
        """
        default = [g for g in options["default_graph"] if g != _KEPT_DEFAULT]
        if _KEPT_DEFAULT not in options["named_graphs"] and (
            len(default) < 2 or self._disjoint(default)
        ):
            return self._store, {**options, "default_graph": default}
        return self._view(sparql, default, options)

    def _disjoint(self, graphs: list[ox.NamedNode]) -> bool:
        """Whether no statement is in two of ``graphs``."""
        key = tuple(graphs)
        disjoint = self._disjoints.get(key)
        if disjoint is None:
            read: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = list(graphs)
            try:
                bag, merged = (
                    next(cast("ox.QuerySolutions", self._store.query(q, default_graph=read)))
                    for q in (_BAG, _SET)
                )
            except OSError as exc:
                raise StoreError(f"query failed: {exc}") from exc
            disjoint = bag["n"] == merged["n"]
            if self._layout is not None:  # a build that never changes
                self._disjoints[key] = disjoint
        return disjoint

    def _view(
        self, sparql: str, default: list[ox.NamedNode], options: dict[str, Any]
    ) -> tuple[ox.Store, dict[str, Any]]:
        """A store in memory holding a query's dataset, and the options that read it: its
        default graph the merge of the graphs ``default``, and its named graphs (copied only
        for a query that can read them: one with ``GRAPH``), the kept default graph never.
        A build never changes, so a small view of it is kept for the next query that names
        the same dataset."""
        named = [g for g in options["named_graphs"] if g != _KEPT_DEFAULT]
        if "graph" not in sparql.lower():
            named = []  # only GRAPH reads a named graph
        key = (tuple(default), tuple(named))
        view = self._views.get(key)
        if view is None:
            view = ox.Store()
            try:
                view.bulk_extend(
                    in_graph(q, _DEFAULT)
                    for g in default
                    for q in self._store.quads_for_pattern(None, None, None, g)
                )
                view.bulk_extend(
                    q for g in named for q in self._store.quads_for_pattern(None, None, None, g)
                )
            except OSError as exc:
                raise StoreError(f"query failed: {exc}") from exc
            if self._layout is not None and len(view) <= _KEPT_VIEW_QUADS:  # read-only
                while len(self._views) >= _KEPT_VIEWS:
                    self._views.pop(next(iter(self._views)), None)
                self._views[key] = view
        return view, {**options, "default_graph": _DEFAULT}

    def _planned(self, sparql: str, options: dict[str, Any]) -> str | None:
        """The query as Oxigraph should evaluate it when a join over whole classes is better
        hashed than looked up (:mod:`cpgraph.sparql.joins`), else None.

        Only on a build that never changes (read-only or a copy in memory), whose default
        graph the query reads as stored (the merged union), since the sizes that decide are
        counted there once per build.
        """
        if (
            not self.read_only
            or not self._merged
            or options.keys() - {"prefixes", "named_graphs"}
            or ("from" in sparql.lower() and not _names_no_dataset(sparql))
        ):
            return None
        return hash_join_rewrite(sparql, self._pattern_size, options.get("prefixes"))

    def _pattern_size(self, pattern: Pattern) -> int:
        """How many statements of the default graph match ``pattern`` (counted once)."""
        key = (pattern.predicate, pattern.type_class)
        size = self._sizes.get(key)
        if size is None:
            try:
                # Terms written by Oxigraph itself (a NamedNode refuses a malformed IRI).
                obj = "?o" if pattern.type_class is None else str(ox.NamedNode(pattern.type_class))
                count = _COUNT_PATTERN.format(predicate=ox.NamedNode(pattern.predicate), obj=obj)
                solutions = cast("ox.QuerySolutions", self._store.query(count))
                size = int(cast("ox.Literal", next(solutions)["n"]).value)
            except (OSError, StopIteration, TypeError, ValueError):
                size = 0  # never rewrite on a size not known
            self._sizes[key] = size
        return size

    def update(self, sparql: str, *, base_iri: str | None = None) -> None:
        """Run a SPARQL update, all or nothing, and keep the merged union in step.

        The update sees the dataset as it was written: its default graph is what was written
        to the default graph (moved into the database's default graph for the update), and
        ``GRAPH ?g`` ranges over the named graphs. An update of ``INSERT DATA`` and ``DELETE
        DATA`` alone, what programs send (rdflib's SPARQLUpdateStore among them), changes the
        statements it names and the merge with them (:meth:`_update_data`). For any other,
        which statements it changed is not known from outside Oxigraph, so the merge is made
        again whole: a cost in proportion to the store (about 15 s a million statements
        here), paid by the writer alone.

        Raises:
            QuerySyntaxError: if the update is malformed.
            InputError: if the update fails on the store's data (``CREATE GRAPH`` of a graph
                that exists, ``DROP GRAPH`` of one that does not, without ``SILENT``), or
                writes data into the reserved graph :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        operations = data_operations(sparql)
        if operations is not None:
            self._settle()
            self._update_data(sparql, operations, base_iri)
            return
        upper = sparql.upper()
        if "LOAD" not in upper and "SERVICE" not in upper:
            # Parsed first on an empty store (which nothing else can reach), so that a
            # malformed update is refused before the merge is taken apart for nothing.
            try:
                ox.Store().update(sparql, base_iri=base_iri)
            except SyntaxError as exc:
                raise query_syntax_error(exc) from None
            except (OSError, RuntimeError, ValueError):  # on no data: only the syntax counts
                pass
        self._settle()
        self._swap(_KEPT_DEFAULT, _DEFAULT)
        try:
            self._store.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        except RuntimeError as exc:  # the update's own error: CREATE of a graph that exists, ...
            raise remote_failure(sparql, exc) or InputError(f"the update failed: {exc}") from None
        except OSError as exc:  # or a LOAD or SERVICE that failed
            raise remote_failure(sparql, exc) or StoreError(f"update failed: {exc}") from exc
        finally:
            self._swap(_DEFAULT, _KEPT_DEFAULT)
            self._merge()

    def _update_data(
        self, sparql: str, operations: list[tuple[int, str]], base_iri: str | None
    ) -> None:
        """Apply an update of ``INSERT DATA`` and ``DELETE DATA`` alone (``operations``, from
        :func:`cpgraph.sparql.text.data_operations`), and the merge with it, in proportion to
        the statements the update names rather than to the store.

        Oxigraph runs the update, on a copy in memory of just what it can change: every
        statement it names (those it deletes read as insertions, on an empty store), as far
        as the store holds them. What the update removed from that copy and what it added
        (its blank nodes new) are then taken out of and put into the store's graphs, and the
        merge follows: in the statements added, out the statements removed that no graph
        holds any more.

        Raises:
            QuerySyntaxError: if the update is malformed.
            InputError: if it names the reserved graph :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the write fails.
        """
        named = ox.Store()
        mirror = ox.Store()
        try:
            named.update(as_insertions(sparql, operations), base_iri=base_iri)
            held = [q for q in named if self._held(q) in self._store]
            mirror.extend(held)
            # Run as it was sent: malformed only so (a blank node in DELETE DATA, say), it
            # is refused here, with its line and column.
            mirror.update(sparql, base_iri=base_iri)
        except SyntaxError as exc:
            raise query_syntax_error(exc) from None
        if named.contains_named_graph(_KEPT_DEFAULT):
            raise InputError(_RESERVED)
        before, after = set(held), set(mirror)
        removed = before - after
        try:
            for q in removed:
                self._store.remove(self._held(q))
            self._unmerge((q.subject, q.predicate, q.object) for q in removed)
            for graph in mirror.named_graphs():  # one left empty stays, as in Oxigraph
                if not self._store.contains_named_graph(graph):
                    self._store.add_graph(graph)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc
        self.load_quads(after - before)

    def _held(self, quad: ox.Quad) -> ox.Quad:
        """Where the database holds a statement of the dataset (its default graph's apart)."""
        if isinstance(quad.graph_name, ox.DefaultGraph):
            return in_graph(quad, self._kept)
        return quad

    def _swap(
        self, source: ox.NamedNode | ox.DefaultGraph, target: ox.NamedNode | ox.DefaultGraph
    ) -> None:
        """Move the kept default graph between its graph and the database's default graph
        (whose content, the merge or the kept graph, ``target`` loses first)."""
        moved = [
            in_graph(q, target) for q in self._store.quads_for_pattern(None, None, None, source)
        ]
        self._store.clear_graph(target)
        if isinstance(source, ox.DefaultGraph):
            self._store.clear_graph(source)
        elif self._store.contains_named_graph(source):
            self._store.remove_graph(source)
        if moved:
            self._store.extend(moved)

    def load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add quads in one transaction (all or none), and their statements to the merge.

        Raises:
            InputError: if a quad is in the reserved graph :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._settle()
        batch: list[ox.Quad] = []
        for q in quads:
            if q.graph_name == _KEPT_DEFAULT:
                raise InputError(_RESERVED)
            batch.append(self._held(q))
            batch.append(in_graph(q, _DEFAULT))
        try:
            self._store.extend(batch)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def bulk_load_quads(self, quads: Iterable[ox.Quad]) -> None:
        """Add many quads fast, bypassing transactions: only for a store nobody reads yet.

        The merge is made once, at the next read, :meth:`flush` or :meth:`optimize`.

        Raises:
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._unsettle()
        try:
            self._store.bulk_extend(quads)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def bulk_load_file(self, path: Path, *, format: RdfFormat) -> None:
        """Load an RDF file straight from disk, streamed by Oxigraph (never whole in memory).

        For builds of large trusted data: the parse and the write both run in Rust, so a file
        of tens of millions of statements needs no more memory than the loader's buffers. The
        merge is made once, as for :meth:`bulk_load_quads`.

        Raises:
            RdfSyntaxError: if the file is malformed (file, line and column in the message).
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        check_rdf_file(path, format)  # RDF/XML: no DTD, no runaway nesting
        self._unsettle()
        try:
            with rdf_errors(str(path)):
                self._store.bulk_load(
                    path=str(path), format=format.oxigraph, base_iri=path.resolve().as_uri()
                )
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def default_graph_sample(self) -> ox.Quad | None:
        """One statement written to the default graph (not the union), or None if none was."""
        graphs = (_DEFAULT, self._kept) if self._stale else (self._kept,)
        for graph in graphs:
            for q in self._store.quads_for_pattern(None, None, None, graph):
                return in_graph(q, _DEFAULT)
        return None

    def graph_sizes(self) -> dict[str, int]:
        """The number of statements in each named graph, counted inside Oxigraph."""
        solutions = self.query(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
            union_default_graph=False,
        )
        sizes: dict[str, int] = {}
        for row in solutions.rows():
            graph, count = row["g"], row["n"]
            if isinstance(graph, ox.NamedNode) and isinstance(count, ox.Literal):
                sizes[graph.value] = int(count.value)
        return sizes

    def triples(
        self,
        subject: ox.NamedNode | ox.BlankNode | None,
        predicate: ox.NamedNode | None,
        obj: ox.NamedNode | ox.BlankNode | ox.Literal | None,
    ) -> Iterator[
        tuple[ox.NamedNode | ox.BlankNode, ox.NamedNode, ox.NamedNode | ox.BlankNode | ox.Literal]
    ]:
        """The distinct statements matching a pattern, over every graph (an index lookup)."""
        self._settle()
        if self._merged:
            for quad in self._store.quads_for_pattern(subject, predicate, obj, _DEFAULT):
                yield quad.subject, quad.predicate, quad.object  # type: ignore[misc]
            return
        seen: set[tuple[Any, Any, Any]] = set()
        for quad in self._store.quads_for_pattern(subject, predicate, obj, None):
            triple = (quad.subject, quad.predicate, quad.object)
            if triple not in seen:
                seen.add(triple)
                yield triple  # type: ignore[misc]

    def named_graphs(self) -> list[str]:
        """The IRIs of the store's named graphs, sorted."""
        self._settle()
        return sorted(
            g.value
            for g in self._store.named_graphs()
            if isinstance(g, ox.NamedNode) and g != _KEPT_DEFAULT
        )

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        """Every quad of the dataset (what was written to the default graph first), or those
        of one named graph."""
        self._settle()
        if graph is not None:
            return self._store.quads_for_pattern(None, None, None, self._physical(graph))
        return self._all_quads()

    def _all_quads(self) -> Iterator[ox.Quad]:
        for q in self._store.quads_for_pattern(None, None, None, self._kept):
            yield in_graph(q, _DEFAULT)
        for g in self._store.named_graphs():
            if g != _KEPT_DEFAULT:
                yield from self._store.quads_for_pattern(None, None, None, g)

    def dump(
        self,
        output: IO[bytes],
        fmt: RdfFormat,
        *,
        graph: str | None = None,
        prefixes: dict[str, str] | None = None,
    ) -> None:
        """Stream the whole dataset, or one named graph, to ``output`` without building it.

        Formats that hold no graphs (Turtle, N-Triples, RDF/XML) need ``graph``.

        Raises:
            InputError: if ``fmt`` holds no graphs and no ``graph`` is given.
            StoreError: if the store fails while reading.
        """
        if graph is None and not fmt.holds_graphs:
            raise InputError(f"{fmt.value} holds one graph: name the graph to export")
        self._settle()
        try:
            if graph is not None:
                self._store.dump(
                    output, fmt.oxigraph, from_graph=self._physical(graph), prefixes=prefixes
                )
            elif not self._merged:
                self._store.dump(output, fmt.oxigraph, prefixes=prefixes)
            else:  # the database's default graph is the merge: the dataset is written quad by quad
                ox.serialize(self._all_quads(), output, fmt.oxigraph, prefixes=prefixes)
        except OSError as exc:
            raise StoreError(f"dumping the store failed: {exc}") from exc

    def has_graph(self, graph: str | None) -> bool:
        """Whether a named graph exists (``None``: the default graph, which always exists)."""
        if graph is None:
            return True
        if graph == DEFAULT_GRAPH_NAME and self._merged:
            return False
        return bool(self._store.contains_named_graph(ox.NamedNode(graph)))

    def drop_graph(self, graph: str | None) -> None:
        """Remove a named graph and its statements (``None``: empty the default graph); the
        statements no other graph holds leave the merge.

        Raises:
            InputError: if ``graph`` is the reserved name :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only or the write fails.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._settle()
        name = self._physical(graph)
        try:
            if not self._store.contains_named_graph(name):
                return
            gone = [
                (q.subject, q.predicate, q.object)
                for q in self._store.quads_for_pattern(None, None, None, name)
            ]
            self._store.remove_graph(name)
            self._unmerge(gone)
        except OSError as exc:
            raise StoreError(f"writing to the store failed: {exc}") from exc

    def add_graph(self, graph: str) -> None:
        """Declare an empty named graph (it then exists even with no statements).

        Raises:
            InputError: if ``graph`` is the reserved name :data:`DEFAULT_GRAPH_NAME`.
            StoreError: if the store is read-only.
        """
        if self.read_only:
            raise StoreError("the store is open read-only")
        self._settle()
        name = self._physical(graph)
        assert isinstance(name, ox.NamedNode)
        self._store.add_graph(name)

    def dump_graph(self, output: BinarySink, fmt: RdfFormat, graph: str | None) -> None:
        """Stream the triples of one graph (``None``: the default graph) to ``output``.

        Raises:
            StoreError: if the store fails while reading.
        """
        self._settle()
        try:
            self._store.dump(
                cast("IO[bytes]", output), fmt.oxigraph, from_graph=self._physical(graph)
            )
        except OSError as exc:
            raise StoreError(f"dumping the graph failed: {exc}") from exc

    def backup(self, target: Path) -> None:
        """Write a consistent copy of the store to ``target`` (a new folder), cheaply.

        Raises:
            StoreError: if ``target`` exists or the copy fails.
        """
        self._settle()
        try:
            self._store.backup(str(target))
            if self._merged:
                _mark_merged(target)
        except (OSError, RuntimeError) as exc:  # RuntimeError: a store in memory
            raise StoreError(f"cannot copy the store to {target}: {exc}") from exc

    def flush(self) -> None:
        """Merge the union if a bulk load left it unmerged, and write everything to disk."""
        self._settle()
        self._store.flush()

    def optimize(self) -> None:
        """Merge the union if needed, and compact the database after a large load."""
        self._settle()
        self._store.optimize()

    def __len__(self) -> int:
        """The number of quads of the dataset (the merge is not counted)."""
        self._settle()
        total = len(self._store)
        if self._merged:  # less the merge, counted inside Oxigraph
            merge = self._store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
            total -= int(next(iter(merge))[0].value)  # type: ignore[arg-type]
        return total


# ---------------------------------------------------------------------------------------------
# The build folder: immutable builds behind an atomically moved ``current`` link.
# ---------------------------------------------------------------------------------------------


def store_link(store_dir: Path) -> str | None:
    """Where the store's ``current`` link points, as written (cheap: one system call), to tell
    whether another process published a new build since."""
    try:
        return os.readlink(f"{store_dir}/{CURRENT}")
    except OSError:
        return None


GENERATION = ".generation"
_GENERATION_BYTES = 8


def _open_generation(store_dir: Path) -> int:
    """The counter file's descriptor (created, 8 bytes of zero, when missing)."""
    fd = os.open(store_dir / GENERATION, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size < _GENERATION_BYTES:
            os.ftruncate(fd, _GENERATION_BYTES)
    except OSError:
        os.close(fd)
        raise
    return fd


def _bump_generation(store_dir: Path) -> None:
    """Count one more publication, after the link has moved (see :class:`BuildWatch`).

    Under the counter file's own lock: two publishers each add one, so a reader that saw the
    first never mistakes the second for it.
    """
    fd = _open_generation(store_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        count = int.from_bytes(os.pread(fd, _GENERATION_BYTES, 0), "little")
        os.pwrite(fd, ((count + 1) % (1 << 64)).to_bytes(_GENERATION_BYTES, "little"), 0)
    finally:
        os.close(fd)  # and the lock with it


def announce_publication(store_dir: Path) -> None:
    """Have every server look at the ``current`` link again, as after a publication.

    For a publisher that may have died between moving the link and counting it (a server
    process killed mid-write): its build would be followed by no server already running.

    Raises:
        OSError: if the counter cannot be written (then no server publishes either).
    """
    _bump_generation(store_dir)


class BuildWatch:
    """Tells a server, at the cost of a memory read, whether a new build may be current.

    Every publication (:func:`publish_build`, by any process: a server's write, a
    ``cpgraph build``, a contribution from the command line) moves the ``current`` link and
    then adds one to a counter in the store folder. The watch maps that counter into memory:
    :meth:`stamp` reads it without a system call, where reading the link took one per request
    (and, in a server, a hand-over of the interpreter lock to the query threads and back).
    Where the counter cannot be mapped (a store folder the server may not write, where
    nothing is published meanwhile either), the stamp is the link itself, read each time.
    """

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self._map: mmap.mmap | None = None
        try:
            fd = _open_generation(store_dir)
        except OSError:
            return
        try:
            self._map = mmap.mmap(fd, _GENERATION_BYTES, prot=mmap.PROT_READ)
        except OSError:
            self._map = None
        finally:
            os.close(fd)  # the mapping stays valid without it

    def stamp(self) -> int | str | None:
        """A value that changes whenever a build is published; read it *before* the link,
        so that a publication between the two is seen at the next request."""
        if self._map is None:
            return store_link(self.store_dir)
        return int.from_bytes(self._map[:_GENERATION_BYTES], "little")

    def close(self) -> None:
        """Unmap the counter."""
        if self._map is not None:
            self._map.close()
            self._map = None


def current_build(store_dir: Path) -> Path | None:
    """The folder of the store's current build, or None when nothing was ever built."""
    link = store_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def open_current(store_dir: Path, *, read_only: bool = False) -> GraphStore:
    """Open the current build of the store in ``store_dir``.

    Raises:
        StoreError: if nothing was built there yet, or the build cannot be opened.
    """
    build = current_build(store_dir)
    if build is None:
        raise StoreError(f"no store at {store_dir}: run 'cpgraph build' first")
    return GraphStore(build, read_only=read_only)


def new_build_path(store_dir: Path) -> Path:
    """A fresh, unused path for a build, beside the current one (not created)."""
    builds = store_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return builds / f"{stamp}-{os.getpid()}-{time.monotonic_ns() % 1_000_000_000:09d}"


def new_build_dir(store_dir: Path) -> Path:
    """A fresh, empty folder for a build, beside the current one."""
    path = new_build_path(store_dir)
    path.mkdir()
    return path


def publish_build(store_dir: Path, build: Path) -> None:
    """Make ``build`` the current store in one atomic step, then tidy older builds.

    The build that was current is stamped with the time it stopped being current; builds
    that stopped being current more than :data:`STALE_AFTER_SECONDS` ago (longer than any
    query may run on them) are removed, and so are leftovers of failed builds as old.
    """
    link = store_dir / CURRENT
    previous = current_build(store_dir)
    tmp = store_dir / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(build.relative_to(store_dir))
    os.replace(tmp, link)  # atomic on POSIX: readers see the old or the new build
    _fsync_dir(store_dir)
    _bump_generation(store_dir)  # after the link: a reader that sees it finds the new build
    if previous is not None:
        os.utime(previous)  # the moment it stopped being current
    now = time.time()
    for old in (store_dir / BUILDS).iterdir():
        # A folder touched in the last minutes may be in use, or another process's build.
        if old.resolve() != build.resolve() and now - old.stat().st_mtime > STALE_AFTER_SECONDS:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def write_transaction(store_dir: Path) -> Iterator[GraphStore]:
    """A writable copy of the current store, published when the block ends without error.

    Copy-on-write: under an exclusive lock (one writer at a time, across processes), the
    current build is checkpointed into a new folder (hard links, so cheap), opened writable
    and handed to the block. If the block raises, or the process dies, the folder is
    discarded and the current store is as it was; otherwise a checkpoint of it becomes
    current in one atomic step. Readers keep reading the build they opened. The store handed
    to the block is not to be used after it.

    Raises:
        StoreError: if there is no current store, or the copy cannot be made or published.
    """
    store_dir.mkdir(parents=True, exist_ok=True)
    with open(store_dir / ".write.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = current_build(store_dir)
            if current is None:
                raise StoreError(f"no store at {store_dir}: run 'cpgraph build' first")
            work, build = new_build_path(store_dir), new_build_path(store_dir)
            try:
                GraphStore(current, read_only=True).backup(work)
                writable = GraphStore(work)
                yield writable
                writable.flush()
                # What is published is a checkpoint of the folder written in, not that folder:
                # a database still open there (the block may keep a reference to it) goes on
                # compacting, and deletes files that a reader of the published build, opened
                # at once, would still need.
                writable.backup(build)
                del writable
            except BaseException:
                discard_build(build)
                discard_build(work)
                raise
            publish_build(store_dir, build)
            discard_build(work)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def discard_build(build: Path) -> None:
    """Remove a build that failed; the current store is untouched."""
    shutil.rmtree(build, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
