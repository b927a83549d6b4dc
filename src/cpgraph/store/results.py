"""Query results: what a query returns, and the sinks that write it within bounds.

A :class:`QueryResult` serialises itself into the standard formats. A row limit is kept
exactly by :meth:`QueryResult.serialize_capped`, cheaply by :meth:`QueryResult.serialize_within`,
and an answer given at once stays within a size and a time (:class:`BoundedSink`).
"""

from __future__ import annotations

import contextlib
import enum
import io
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol, cast

import pyoxigraph as ox

from cpgraph.errors import NotAcceptableError
from cpgraph.rdf.formats import RdfFormat, ResultsFormat


class BinarySink(Protocol):
    """Anything serialisers can write bytes to: a file, a buffer, a socket adapter."""

    def write(self, data: bytes, /) -> int: ...


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
    closer: Callable[[], None] | None = None  # what frees the result's source (a connection)

    def close(self) -> None:
        """Free what the result reads from before it is read to its end (a remote store's
        connection, whose request is then abandoned); a no-op for the embedded store."""
        if self.closer is not None:
            self.closer()

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

        The cheap path of a row limit: the bytes are counted as they are written for an upper
        bound of their rows (:class:`_RowBound`), so an answer within the limit, the usual
        case, is the direct serialisation. None means: evaluate again through
        :meth:`serialize_capped`, which counts exactly. ``check`` is called as the bytes come.
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
    an upper bound of its rows stays within ``max_rows``, and refuses the write that could
    pass it: the cheap path of a row limit, which counts marks each row must hold instead of
    reading the answer back.

    The marks: ``<result>`` in XML (exact), a line end in CSV, and in JSON the braces less
    those that open a bound value (``{"type":"``) and the head's (literals with braces and
    RDF-star triples only raise the bound). Nothing is counted while the size alone keeps
    the answer within the bound; a mark cut between two writes is counted once, whole.
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


class PastBoundError(Exception):
    """Raised by :class:`BoundedSink` when an answer passes its size or its time."""


class BoundedSink:
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
            raise PastBoundError
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are joined at the end."""

    def getvalue(self) -> bytes:
        return b"".join(self._parts)
