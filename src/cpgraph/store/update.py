"""SPARQL 1.1 Update: protocol datasets and atomic application to the store.

The SPARQL 1.1 Protocol lets a request name the dataset of an update's WHERE clauses with
``using-graph-uri`` and ``using-named-graph-uri``; they act as ``USING`` / ``USING NAMED``
clauses on every operation that has a WHERE clause. pyoxigraph takes no such option, so
:func:`with_protocol_dataset` adds the clauses to the update text, after a small lexer has
found the operations' top-level ``WHERE`` keywords
(:func:`cpgraph.sparql.text.top_level_words`). An update that has its own ``USING`` or ``WITH``
and protocol graphs is refused, as the protocol requires.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from cpgraph.errors import InputError
from cpgraph.sparql.text import top_level_words
from cpgraph.store.builds import write_transaction


def with_protocol_dataset(
    update: str, using: Sequence[str] = (), using_named: Sequence[str] = ()
) -> str:
    """``update`` with ``USING`` / ``USING NAMED`` clauses for the protocol's graphs.

    Raises:
        InputError: if the update already names its dataset (USING or WITH) while the request
            also does, or if a graph is not an absolute IRI.
    """
    if not using and not using_named:
        return update
    for iri in (*using, *using_named):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*", iri):
            raise InputError(f"not an absolute IRI: {iri!r}")
    words = top_level_words(update)
    if any(word in ("USING", "WITH") for _, word in words):
        raise InputError(
            "the update names its own dataset (USING or WITH): do not also send "
            "using-graph-uri or using-named-graph-uri"
        )
    clause = "".join(f" USING <{g}>" for g in using)
    clause += "".join(f" USING NAMED <{g}>" for g in using_named)
    clause += " "
    # A WHERE that follows DELETE directly is the short form DELETE WHERE, which takes no USING.
    offsets = [
        offset
        for k, (offset, word) in enumerate(words)
        if word == "WHERE" and not (k > 0 and words[k - 1][1] == "DELETE")
    ]
    for offset in reversed(offsets):
        update = update[:offset] + clause + update[offset:]
    return update


def apply_update(
    store_dir: Path,
    update: str,
    *,
    using: Sequence[str] = (),
    using_named: Sequence[str] = (),
    base_iri: str | None = None,
) -> None:
    """Run a SPARQL update against the store in ``store_dir``, all or nothing.

    Raises:
        QuerySyntaxError: if the update is malformed (line and column).
        InputError: if the protocol dataset conflicts with the update's own.
        StoreError: if the store cannot be written; the store is then unchanged.
    """
    text = with_protocol_dataset(update, using, using_named)
    with write_transaction(store_dir) as store:
        store.update(text, base_iri=base_iri)
