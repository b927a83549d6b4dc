"""What a query thread (or its deadline) tells the event loop, and the loop its caller.

Each kind of message is a class of its own carrying its payload's fields, all subclasses of
:class:`Message`: a query's result in one piece (:class:`Whole`), or the head of one that
streams (:class:`Head`) followed by its chunks (:class:`Data`) and :class:`End`; its failure
(:class:`Failed`, at any point), or the time limit passing before its first message
(:class:`TimedOut`). A listener tells them apart with ``isinstance``, which also types
their fields.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cpgraph.engine.requests import QueryHead
from cpgraph.errors import CpgraphError


class Message:
    """One message from a query: an instance of one of the subclasses below."""

    __slots__ = ()


@dataclass(slots=True)
class Whole(Message):
    """A result in one piece."""

    head: QueryHead
    content: bytes


@dataclass(slots=True)
class Head(Message):
    """The head of a result that streams: :class:`Data` messages follow, then :class:`End`."""

    head: QueryHead


@dataclass(slots=True)
class Data(Message):
    """The next chunk of a streamed result."""

    chunk: bytes


@dataclass(slots=True)
class End(Message):
    """The streamed result is complete."""


@dataclass(slots=True)
class Failed(Message):
    """The query failed, before its head or while streaming."""

    error: CpgraphError


@dataclass(slots=True)
class TimedOut(Message):
    """The time limit passed before the first message."""


Listener = Callable[[Message], None]
