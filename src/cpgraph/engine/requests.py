"""A query as the engine takes it, and the head and body of its answer.

Made by the HTTP routes and the fast protocol, read by the pool's threads and by the answer
given at once; they know nothing of HTTP.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass

from cpgraph.store import Store


@dataclass(frozen=True, slots=True)
class QueryRequest:
    """Everything a query thread needs to answer one query.

    ``store`` is the server's read-only handle on the current build (a request keeps the
    build it started on). ``accept`` and ``format`` are negotiated in the thread, once the kind
    of result (solutions, boolean, graph) is known. ``row_limit`` caps a SELECT (None: no cap).
    """

    query: str
    store: Store
    base_iri: str | None = None
    accept: str | None = None
    format: str | None = None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] | None = None
    prefixes: tuple[tuple[str, str], ...] = ()
    row_limit: int | None = None
    substitutions: tuple[tuple[str, str], ...] = ()  # variable -> term in N-Triples syntax


@dataclass(frozen=True, slots=True)
class QueryHead:
    """What is known before the body: its media type, the kind of result, whether rows were cut."""

    media_type: str
    kind: str
    truncated: bool = False
    row_limit: int | None = None


class WholeBody:
    """A result that came in one message: iterable like a stream, and readable at once."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._chunks()

    async def _chunks(self) -> AsyncIterator[bytes]:
        yield self.content


@functools.lru_cache(maxsize=8)
def prefix_dict(pairs: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """A request's prefixes as a dictionary, made once per set (a service has one); not to be
    changed by its users."""
    return dict(pairs)
