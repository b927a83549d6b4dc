"""What a pool thread does with one query: evaluate it, choose its format, stream its result.

pyoxigraph releases the GIL while it evaluates, so a query runs in a thread of the server
process and its serialised result goes to the event loop in chunks, with no copy between
processes. Every outcome, an answer or an error, goes to the job's channel as a message.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager

from cpgraph import errors
from cpgraph.engine.jobs import QueryJob, StoppedError, ThreadEnd
from cpgraph.engine.messages import Data, End, Failed, Head, Whole
from cpgraph.engine.negotiation import QueryFormat, negotiate
from cpgraph.engine.requests import QueryHead, QueryRequest, prefix_dict
from cpgraph.errors import CpgraphError, StoreError
from cpgraph.rdf.formats import RdfFormat, ResultsFormat
from cpgraph.rdf.io import parse_term
from cpgraph.sparql.outbound import remote_failure
from cpgraph.sparql.scans import limited_within
from cpgraph.store.results import QueryKind, QueryResult

CHUNK_BYTES = 64 * 1024

Tracker = Callable[[str], AbstractContextManager[None]]


class ChunkSender:
    """A binary sink that ships what is written to the event loop in chunks.

    The head goes with the first chunk; a result that fits in one chunk travels as a single
    :class:`~cpgraph.engine.messages.Whole` message, so that a small answer costs one hand-over.
    """

    def __init__(self, conn: ThreadEnd, head: QueryHead) -> None:
        self._conn = conn
        self._head: QueryHead | None = head
        self._buffer = bytearray()

    def write(self, data: bytes) -> int:
        self._conn.check()
        self._buffer += data
        if len(self._buffer) >= CHUNK_BYTES:
            self._send_chunk()
        return len(data)

    def flush(self) -> None:
        """Nothing: chunks go when full, the rest at :meth:`finish`."""

    def _send_chunk(self) -> None:
        if self._head is not None:
            self._conn.send(Head(self._head))
            self._head = None
        self._conn.send(Data(bytes(self._buffer)))
        self._buffer.clear()

    def finish(self) -> None:
        """Send what is left and the end of the result."""
        if self._head is not None:
            self._conn.send(Whole(self._head, bytes(self._buffer)))
            return
        if self._buffer:
            self._conn.send(Data(bytes(self._buffer)))
        self._conn.send(End())


@functools.lru_cache(maxsize=256)
def _negotiated(accept: str | None, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """:func:`negotiate`, remembered: a service sees few distinct Accept headers."""
    return negotiate(accept, kind)


def result_format(request: QueryRequest, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """The format of the answer: the ``format`` parameter's, else the Accept header's.

    Raises:
        NotAcceptableError: if neither can carry a result of this kind.
    """
    if request.format:
        try:
            fmt = QueryFormat(request.format).concrete(kind)
        except ValueError:
            fmt = negotiate(request.format, kind)
        if fmt is None:
            raise errors.NotAcceptableError("format=table is for the command line")
        return fmt
    return _negotiated(request.accept, kind)


def _evaluate(request: QueryRequest) -> QueryResult:
    return request.store.query(
        request.query,
        base_iri=request.base_iri,
        default_graphs=request.default_graphs,
        named_graphs=request.named_graphs,
        prefixes=prefix_dict(request.prefixes),
        substitutions={k: parse_term(v) for k, v in request.substitutions} or None,
    )


def _answer(conn: ThreadEnd, request: QueryRequest) -> None:
    result = _evaluate(request)
    again: QueryResult | None = None
    try:  # a result not read to its end (a stop, a row limit, an error) is closed
        fmt = result_format(request, result.kind)
        cap = request.row_limit if result.kind is QueryKind.SOLUTIONS else None
        if cap is not None and not limited_within(request.query, cap):
            assert isinstance(fmt, ResultsFormat)
            if fmt is ResultsFormat.TSV:  # counted exactly as it is written, once
                body, truncated = result.serialize_capped(fmt, max_rows=cap, check=conn.check)
            else:
                within = result.serialize_within(fmt, max_rows=cap, check=conn.check)
                if within is not None:
                    body, truncated = within, False
                else:
                    # It may hold more rows than the limit: evaluated again, the rows counted
                    # exactly and cut at the limit. Twice the work, only for an answer near
                    # the limit or past it (one the limit cuts does the most work allowed,
                    # twice).
                    result.close()
                    again = _evaluate(request)
                    body, truncated = again.serialize_capped(fmt, max_rows=cap, check=conn.check)
            sender = ChunkSender(conn, QueryHead(fmt.media_type, result.kind.value, truncated, cap))
            sender.write(body)  # a small one goes as one message, see ChunkSender.finish
        else:
            # A query whose own LIMIT keeps it within the row limit streams as it is, the
            # row limit announced all the same.
            sender = ChunkSender(conn, QueryHead(fmt.media_type, result.kind.value, False, cap))
            result.serialize(sender, fmt)
    finally:
        result.close()
        if again is not None:
            again.close()
    sender.finish()


def run_job(job: QueryJob, request: QueryRequest, tracker: Tracker | None = None) -> None:
    """Answer one query in a pool thread; every outcome goes to the channel. ``tracker``
    records the query as in flight meanwhile (see :mod:`cpgraph.server.board`)."""
    job.started = True  # before the check: the loop sets stop, then reads started
    try:
        if job.conn.stopped:
            return  # stopped while it waited for a thread
        if tracker is None:
            _answer(job.conn, request)
        else:
            with tracker(request.query):
                _answer(job.conn, request)
    except StoppedError:
        return
    except CpgraphError as exc:
        job.conn.send(Failed(exc))
    except Exception as exc:  # noqa: BLE001 - reported to the client, never swallowed
        if job.conn.stopped:
            return  # a serialiser giving up on a stopped sink
        failure = remote_failure(request.query, exc)  # a SERVICE's failure: a 502
        job.conn.send(Failed(failure or StoreError(f"query failed: {exc}")))
    finally:
        job.finished = True
