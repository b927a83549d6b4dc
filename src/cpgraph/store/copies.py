"""Copying an Oxigraph database into memory, quad for quad (see :mod:`cpgraph.store.memory`).

The database is streamed through a pipe, from a thread dumping it into the calling thread
loading it; both run inside Oxigraph with the interpreter lock released, so a server goes on
answering meanwhile, and no serialisation of the whole is held in between.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from typing import cast

import pyoxigraph as ox

from cpgraph.errors import StoreError
from cpgraph.store.union import DEFAULT

_BLANK_QUADS = (
    "SELECT ?s ?p ?o ?g WHERE {"
    " { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }"
    " UNION { GRAPH ?g { ?s ?p ?o } FILTER(isBlank(?s) || isBlank(?o) || isBlank(?g)) } }"
)


def _blank_quads(store: ox.Store) -> Iterator[ox.Quad]:
    """The quads of a database (every graph, the merge included) that hold a blank node."""
    rows = cast(ox.QuerySolutions, store.query(_BLANK_QUADS, use_default_graph_as_union=False))
    for row in rows:
        graph = row["g"]
        yield ox.Quad(row["s"], row["p"], row["o"], DEFAULT if graph is None else graph)


def copy_database(database: ox.Store) -> ox.Store:
    """A copy in memory of ``database``: every quad of every graph (its default graph as
    stored), its empty named graphs, and its blank nodes with the same labels.

    Raises:
        StoreError: if the copy cannot be made, or does not hold every quad.
    """
    copy = ox.Store()
    reading, writing = os.pipe()
    failures: list[BaseException] = []

    def dump() -> None:
        try:
            database.dump(output=f"/dev/fd/{writing}", format=ox.RdfFormat.N_QUADS)
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
        for graph in database.named_graphs():  # N-Quads cannot say a graph is empty
            copy.add_graph(graph)
        # Loading gives blank nodes new labels: the few quads with blank nodes are put
        # back as the database has them, so that a copy answers with the same labels.
        renamed = list(_blank_quads(copy))
        if renamed:
            for quad in renamed:
                copy.remove(quad)
            copy.extend(_blank_quads(database))
    except (OSError, SyntaxError) as exc:
        raise StoreError(f"cannot copy the store into memory: {exc}") from exc
    if len(copy) != len(database):
        raise StoreError(
            f"the copy in memory holds {len(copy):,} quads of {len(database):,}"
            + (f" ({failures[0]})" if failures else "")
        )
    return copy
