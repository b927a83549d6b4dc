"""What a query thread (or its deadline) tells the event loop, and the loop its caller.

A message is a kind and a payload whose type the kind fixes; :class:`Message`'s constructors
make each kind with its payload, so a sender cannot mix them up. Listeners (the routes' pool
calls and the fast protocol) receive the two as arguments.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import NamedTuple

from cpgraph.engine.requests import QueryHead
from cpgraph.errors import CpgraphError


class MessageKind(enum.StrEnum):
    """The kinds of message, each with the payload it carries."""

    WHOLE = "whole"  # (QueryHead, bytes): a result in one piece
    HEAD = "head"  # QueryHead: a result that streams begins; DATA messages follow
    DATA = "data"  # bytes: the next chunk of a streamed result
    END = "end"  # None: the streamed result is complete
    ERROR = "error"  # CpgraphError: the query failed, before its head or while streaming
    TIMEOUT = "timeout"  # None: the time limit passed before the first message


Payload = tuple[QueryHead, bytes] | QueryHead | bytes | CpgraphError | None
Listener = Callable[[MessageKind, Payload], None]


class Message(NamedTuple):
    """One message: its kind and the payload that kind carries."""

    kind: MessageKind
    payload: Payload = None

    @classmethod
    def whole(cls, head: QueryHead, content: bytes) -> Message:
        return cls(MessageKind.WHOLE, (head, content))

    @classmethod
    def head(cls, head: QueryHead) -> Message:
        return cls(MessageKind.HEAD, head)

    @classmethod
    def data(cls, chunk: bytes) -> Message:
        return cls(MessageKind.DATA, chunk)

    @classmethod
    def end(cls) -> Message:
        return cls(MessageKind.END)

    @classmethod
    def error(cls, error: CpgraphError) -> Message:
        return cls(MessageKind.ERROR, error)

    @classmethod
    def timeout(cls) -> Message:
        return cls(MessageKind.TIMEOUT)
