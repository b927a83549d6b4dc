"""Following new builds: a server answers from the current build, whoever published it.

A publication by any process (a write through another server process, ``cpgraph build``, a
contribution from the command line) is noticed at the next request at the cost of a memory
read (:class:`~cpgraph.store.builds.BuildWatch`). The new build is then served on disk at
once, and from a copy in memory once one is made (:mod:`cpgraph.store.memory`).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

from cpgraph.store.builds import BuildWatch, current_build, store_link
from cpgraph.store.memory import MemoryCopies
from cpgraph.store.oxigraph import GraphStore


class Served(Protocol):
    """What a server keeps of the build it answers from (its state, read and written here)."""

    build_watch: BuildWatch
    build_stamp: int | str | None  # the watch's stamp when last looked at
    store_link: str | None  # the ``current`` link as last read
    store_path: str  # the build served
    store: GraphStore  # the build served, on disk or its copy in memory
    store_lock: threading.Lock  # against a copy in memory of the build before
    memory: MemoryCopies


def publication_noticed(served: Served, store_dir: Path) -> bool:
    """Whether a build other than the one served may have been published since the last
    look: a memory read when nothing was."""
    stamp = served.build_watch.stamp()
    if stamp == served.build_stamp:
        return False
    served.build_stamp = stamp
    return store_link(store_dir) != served.store_link


def follow_current(served: Served, store_dir: Path) -> tuple[GraphStore, Path] | None:
    """Serve the current build in ``store_dir`` if it is not the one served: on disk at once,
    from a copy in memory once it is made. The new build's store and folder, or None."""
    served.store_link = store_link(store_dir)
    build = current_build(store_dir)
    if build is None or str(build) == served.store_path:
        return None
    store = GraphStore(build, read_only=True)
    with served.store_lock:
        served.store = store
        served.store_path = str(build)
    served.memory.follow(store)
    return store, build


def serve_memory_copy(served: Served, copy: GraphStore) -> bool:
    """Answer from ``copy``, a copy in memory of a build, if that build is still the one
    served; whether it is. Called in the copying thread."""
    with served.store_lock:
        if served.store_path != str(copy.path):
            return False
        served.store = copy
        return True
