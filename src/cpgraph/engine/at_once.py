"""Answering a point lookup on the caller's thread, where handing it to the pool costs more.

Handing a query to a pool thread and its answer back costs more than a point lookup itself.
A query that is a single scan of one index (:func:`cpgraph.sparql.scans.single_scan`) is
therefore evaluated on the event loop, and kept only while its answer stays within bounds of
size and time; past them it goes to the pool like any other.
"""

from __future__ import annotations

import functools

from cpgraph.engine.evaluation import result_format
from cpgraph.engine.limits import ClientLimiter
from cpgraph.engine.messages import Whole
from cpgraph.engine.requests import QueryHead, QueryRequest, prefix_dict
from cpgraph.errors import CpgraphError
from cpgraph.rdf.formats import ResultsFormat
from cpgraph.sparql.scans import SingleScan, single_scan
from cpgraph.store.results import QueryKind

AT_ONCE_BYTES = 64 * 1024  # the largest answer given on the event loop
AT_ONCE_SECONDS = 0.02  # and the longest it may take there
AT_ONCE_ROWS = 1000  # a LIMIT above this is not tried at once (it would not fit the bytes)


def answer_at_once(request: QueryRequest) -> Whole | None:
    """The answer to a query that costs less than handing it to a thread, or None.

    A single scan is evaluated here and kept only while its answer stays within
    ``AT_ONCE_BYTES`` and ``AT_ONCE_SECONDS`` (:meth:`cpgraph.store.Store.answer_within`): a
    scan yields its solutions steadily, so this bounds the time it holds the thread too. Past
    either bound the evaluation is dropped and None returned: the query then goes to the pool.

    A capped (anonymous) SELECT is kept only while its answer has fewer bytes than the row
    limit allows rows (every row costs a byte at least, in every results format), so the
    row limit never needs to cut what is answered here.

    Raises:
        QuerySyntaxError, NotAcceptableError, StoreError: as the evaluation raises them.
    """
    scan = _at_once_shape(request)
    if scan is None:
        return None
    kind = QueryKind.BOOLEAN if scan.ask else QueryKind.SOLUTIONS
    try:
        fmt = result_format(request, kind)
    except CpgraphError:
        return None  # the pool's answer says what is wrong first: the query or the format
    assert isinstance(fmt, ResultsFormat)  # what SELECT and ASK negotiate to
    cap = request.row_limit if not scan.ask else None
    content = request.store.answer_within(
        request.query,
        fmt,
        max_bytes=AT_ONCE_BYTES if cap is None else min(AT_ONCE_BYTES, cap),
        seconds=AT_ONCE_SECONDS,
        default_graphs=request.default_graphs,
        named_graphs=request.named_graphs,
        base_iri=request.base_iri,
        prefixes=prefix_dict(request.prefixes),
    )
    if content is None:
        return None
    return Whole(_head(fmt, kind, cap), content)


def may_answer_at_once(request: QueryRequest) -> bool:
    """Whether :func:`answer_at_once` may answer ``request`` (whether it tries at all): a
    query for which it is False goes straight to the pool."""
    return _at_once_shape(request) is not None


def _at_once_shape(request: QueryRequest) -> SingleScan | None:
    if request.substitutions:
        return None
    scan = single_scan(request.query)
    if scan is None or (scan.limit is not None and scan.limit > AT_ONCE_ROWS):
        return None  # more rows than fit would only delay the pool's answer
    return scan


@functools.lru_cache(maxsize=64)
def _head(fmt: ResultsFormat, kind: QueryKind, cap: int | None) -> QueryHead:
    """The head of an answer given at once (a few kinds per service, made once each)."""
    return QueryHead(fmt.media_type, kind.value, False, cap)


def answer_or_admit(request: QueryRequest, limiter: ClientLimiter, client: str) -> Whole | None:
    """The answer given at once (:func:`answer_at_once`), or None with a place taken for
    ``client`` under its limit, for a query that goes to the pool (``limiter.release`` gives
    it back). A client at its limit is refused either way; only a query that goes to the pool
    holds a place.

    Raises:
        TooManyQueriesError: if ``client`` already has ``limiter.limit`` queries running.
        QuerySyntaxError, NotAcceptableError, StoreError: as the evaluation raises them.
    """
    limiter.check(client)
    answer = answer_at_once(request)
    if answer is None:
        limiter.acquire(client)
    return answer
