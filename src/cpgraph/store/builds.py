"""Build folders: immutable builds behind an atomically moved ``current`` link.

On disk, a store folder holds::

    store_dir/
        builds/20261123T180102-4242/    one Oxigraph database per build
        current -> builds/20261123T180102-4242
        .generation                     a counter, one more at every publication

A build writes a new folder and then moves the link in one atomic ``rename``: readers never
see half a store, and a build that fails or is killed leaves ``current`` as it was. The
counter lets a server notice a build another process published by reading memory
(:class:`BuildWatch`) rather than asking the file system at every request.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from cpgraph.errors import StoreError
from cpgraph.store.oxigraph import GraphStore

if TYPE_CHECKING:
    from cpgraph.store.interface import Store

CURRENT = "current"
BUILDS = "builds"
STALE_AFTER_SECONDS = 600


def store_link(store_dir: Path) -> str | None:
    """Where the store's ``current`` link points, as written (cheap: one system call), to tell
    whether another process published a new build since."""
    try:
        return os.readlink(f"{store_dir}/{CURRENT}")
    except OSError:
        return None


GENERATION = ".generation"
_GENERATION_BYTES = 8


def _open_generation(store_dir: Path) -> int:
    """The counter file's descriptor (created, 8 bytes of zero, when missing)."""
    fd = os.open(store_dir / GENERATION, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if os.fstat(fd).st_size < _GENERATION_BYTES:
            os.ftruncate(fd, _GENERATION_BYTES)
    except OSError:
        os.close(fd)
        raise
    return fd


def _bump_generation(store_dir: Path) -> None:
    """Count one more publication, after the link has moved (see :class:`BuildWatch`).

    Under the counter file's own lock: two publishers each add one, so a reader that saw the
    first never mistakes the second for it.
    """
    fd = _open_generation(store_dir)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        count = int.from_bytes(os.pread(fd, _GENERATION_BYTES, 0), "little")
        os.pwrite(fd, ((count + 1) % (1 << 64)).to_bytes(_GENERATION_BYTES, "little"), 0)
    finally:
        os.close(fd)  # and the lock with it


def announce_publication(store_dir: Path) -> None:
    """Have every server look at the ``current`` link again, as after a publication.

    For a publisher that may have died between moving the link and counting it (a server
    process killed mid-write): its build would be followed by no server already running.

    Raises:
        OSError: if the counter cannot be written (then no server publishes either).
    """
    _bump_generation(store_dir)


class BuildWatch:
    """Tells a server, at the cost of a memory read, whether a new build may be current.

    Every publication (:func:`publish_build`, by any process: a server's write, a
    ``cpgraph build``, a contribution from the command line) moves the ``current`` link and
    then adds one to a counter in the store folder. The watch maps that counter into memory:
    :meth:`stamp` reads it without a system call, where reading the link took one per request
    (and, in a server, a hand-over of the interpreter lock to the query threads and back).
    Where the counter cannot be mapped (a store folder the server may not write, where
    nothing is published meanwhile either), the stamp is the link itself, read each time.
    """

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        self._map: mmap.mmap | None = None
        try:
            fd = _open_generation(store_dir)
        except OSError:
            return
        try:
            self._map = mmap.mmap(fd, _GENERATION_BYTES, prot=mmap.PROT_READ)
        except OSError:
            self._map = None
        finally:
            os.close(fd)  # the mapping stays valid without it

    def stamp(self) -> int | str | None:
        """A value that changes whenever a build is published; read it *before* the link,
        so that a publication between the two is seen at the next request."""
        if self._map is None:
            return store_link(self.store_dir)
        return int.from_bytes(self._map[:_GENERATION_BYTES], "little")

    def close(self) -> None:
        """Unmap the counter."""
        if self._map is not None:
            self._map.close()
            self._map = None


def current_build(store_dir: Path) -> Path | None:
    """The folder of the store's current build, or None when nothing was ever built."""
    link = store_dir / CURRENT
    if not link.is_symlink() and not link.exists():
        return None
    target = link.resolve()
    return target if target.is_dir() else None


def open_current(store_dir: Path, *, read_only: bool = False) -> GraphStore:
    """Open the current build of the store in ``store_dir``.

    Raises:
        StoreError: if nothing was built there yet, or the build cannot be opened.
    """
    build = current_build(store_dir)
    if build is None:
        raise StoreError(f"no store at {store_dir}: run 'cpgraph build' first")
    return GraphStore(build, read_only=read_only)


def new_build_path(store_dir: Path) -> Path:
    """A fresh, unused path for a build, beside the current one (not created)."""
    builds = store_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    return builds / f"{stamp}-{os.getpid()}-{time.monotonic_ns() % 1_000_000_000:09d}"


def new_build_dir(store_dir: Path) -> Path:
    """A fresh, empty folder for a build, beside the current one."""
    path = new_build_path(store_dir)
    path.mkdir()
    return path


def publish_build(store_dir: Path, build: Path) -> None:
    """Make ``build`` the current store in one atomic step, then tidy older builds.

    The build that was current is stamped with the time it stopped being current; builds
    that stopped being current more than :data:`STALE_AFTER_SECONDS` ago (longer than any
    query may run on them) are removed, and so are leftovers of failed builds as old.
    """
    link = store_dir / CURRENT
    previous = current_build(store_dir)
    tmp = store_dir / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(build.relative_to(store_dir))
    os.replace(tmp, link)  # atomic on POSIX: readers see the old or the new build
    _fsync_dir(store_dir)
    _bump_generation(store_dir)  # after the link: a reader that sees it finds the new build
    if previous is not None:
        os.utime(previous)  # the moment it stopped being current
    now = time.time()
    for old in (store_dir / BUILDS).iterdir():
        # A folder touched in the last minutes may be in use, or another process's build.
        if old.resolve() != build.resolve() and now - old.stat().st_mtime > STALE_AFTER_SECONDS:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def write_transaction(store_dir: Path) -> Iterator[GraphStore]:
    """A writable copy of the current store, published when the block ends without error.

    Copy-on-write: under an exclusive lock (one writer at a time, across processes), the
    current build is checkpointed into a new folder (hard links, so cheap), opened writable
    and handed to the block. If the block raises, or the process dies, the folder is
    discarded and the current store is as it was; otherwise a checkpoint of it becomes
    current in one atomic step. Readers keep reading the build they opened. The store handed
    to the block is not to be used after it.

    Raises:
        StoreError: if there is no current store, or the copy cannot be made or published.
    """
    store_dir.mkdir(parents=True, exist_ok=True)
    with open(store_dir / ".write.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            current = current_build(store_dir)
            if current is None:
                raise StoreError(f"no store at {store_dir}: run 'cpgraph build' first")
            work, build = new_build_path(store_dir), new_build_path(store_dir)
            try:
                GraphStore(current, read_only=True).backup(work)
                writable = GraphStore(work)
                yield writable
                writable.flush()
                # What is published is a checkpoint of the folder written in, not that folder:
                # a database still open there (the block may keep a reference to it) goes on
                # compacting, and deletes files that a reader of the published build, opened
                # at once, would still need.
                writable.backup(build)
                del writable
            except BaseException:
                discard_build(build)
                discard_build(work)
                raise
            publish_build(store_dir, build)
            discard_build(work)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextlib.contextmanager
def writing(target: Path | Store) -> Iterator[Store]:
    """The store to write a change into, all or nothing: a copy-on-write transaction of the
    embedded store whose folder is ``target`` (published when the block ends without error),
    or ``target`` itself, a store written straight (a remote store, whose every write is one
    request: the block writes once).

    Raises:
        StoreError: as :func:`cpgraph.store.builds.write_transaction` raises it.
    """
    if isinstance(target, Path):
        with write_transaction(target) as store:
            yield store
    else:
        yield target


def discard_build(build: Path) -> None:
    """Remove a build that failed; the current store is untouched."""
    shutil.rmtree(build, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


if TYPE_CHECKING:  # the embedded store implements the interface (checked by mypy here)
    _STORE: type[Store] = GraphStore
