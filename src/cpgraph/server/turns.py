"""The GET queries answered at once by the fast protocol, gathered by turn of the event loop.

The point lookups that arrived in one turn are evaluated together, then answered: Oxigraph's
code and data stay in the CPU's caches from one lookup to the next, instead of being pushed
out by the HTTP work between them. A turn evaluates for ``TURN_SECONDS`` at most: the queries
left are evaluated in the next turn, in the order they came, after the answers so far are
written. The queries are :class:`cpgraph.server.protocol`'s answers (:class:`Lookup`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from cpgraph.engine.messages import Failed, Whole
from cpgraph.engine.requests import QueryRequest

log = logging.getLogger("cpgraph.server.protocol")  # the fast path's log, as before

TURN_SECONDS = 0.005  # the longest the queries of one turn are evaluated before answering

Outcome = Whole | Failed | None  # an answer given at once, an error, or None: to the pool


class Lookup(Protocol):
    """A GET query to try at once, as a turn sees it."""

    @property
    def gone(self) -> bool:
        """Whether its connection went meanwhile (it is then skipped)."""

    def evaluate(self, request: QueryRequest) -> Outcome:
        """Try the query at once."""

    def respond(self, request: QueryRequest, outcome: Outcome) -> None:
        """Send what :meth:`evaluate` gave, or hand the query to the pool."""

    def drop(self) -> None:
        """Close the connection: answering failed (a defect)."""


class Turn:
    """The GET queries to try at once that arrived in one turn of the event loop (see the
    module's description)."""

    def __init__(self) -> None:
        self._pending: list[tuple[Lookup, QueryRequest]] = []

    def add(self, lookup: Lookup, request: QueryRequest) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._run)
        self._pending.append((lookup, request))

    def _run(self) -> None:
        pending, self._pending = self._pending, []
        # Connections that went meanwhile are skipped (their answers were abandoned).
        pending = [(lookup, request) for lookup, request in pending if not lookup.gone]
        if not pending:
            return
        outcomes = []
        deadline = time.monotonic() + TURN_SECONDS
        for lookup, request in pending:
            outcomes.append(lookup.evaluate(request))
            if time.monotonic() > deadline:
                break
        left = pending[len(outcomes) :]
        if left:
            if not self._pending:
                asyncio.get_running_loop().call_soon(self._run)
            self._pending[:0] = left
        for (lookup, request), outcome in zip(pending, outcomes, strict=False):
            try:
                lookup.respond(request, outcome)
            except Exception:  # a defect here: the client must not wait for ever
                log.exception("answering a GET query failed")
                lookup.drop()
