"""Which memory allocator the server processes use.

Why this matters: Oxigraph evaluates a query by allocating and freeing many small tuples (a
hash join's table, a group's keys, a sort's rows), and the C library's allocator (glibc's
``malloc``) slows down badly once the process also holds a large heap, as a server does that
answers from a copy of its store in memory (:mod:`cpgraph.store.memory`): measured on the
benchmark's million-statement store, a hash join went from 90 ms to 200 ms in a process that
had made a copy, even when the join read from disk, half the time spent searching glibc's
free lists. mimalloc keeps such work as fast as in an empty process and is faster besides.

The allocator of a process is chosen when it starts: the library is preloaded by the dynamic
linker (``LD_PRELOAD``), which Python cannot do for itself once running. So the supervisor of
``cpgraph serve`` (:mod:`cpgraph.server.supervisor`), which only starts and watches the
server processes, puts mimalloc in the environment its server processes start with. The
library comes with the package (``cmeel-mimalloc``, on Linux); ``CPGRAPH_ALLOCATOR=system``
keeps the C library's allocator. Neither changes an answer, only how fast it comes.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cpgraph.config import ALLOCATORS

PRELOAD = "LD_PRELOAD"
_DISTRIBUTION = "cmeel-mimalloc"
_LIBRARY_PREFIX = "libmimalloc.so"


def mimalloc_library() -> Path | None:
    """The mimalloc shared library installed with cpgraph, or None where there is none (not
    Linux, or the package was not installed)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        distribution = importlib.metadata.distribution(_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    candidates = [
        Path(str(distribution.locate_file(entry)))
        for entry in distribution.files or ()
        if entry.name.startswith(_LIBRARY_PREFIX) and entry.parent.name == "lib"
    ]
    # The shortest name is the one every version keeps (libmimalloc.so), then its soname.
    for path in sorted(candidates, key=lambda p: (len(p.name), p.name)):
        if path.is_file():
            return path.resolve()
    return None


@dataclass(frozen=True, slots=True)
class Choice:
    """What the server processes will allocate with, and the environment that makes it so.

    ``environment`` holds the variables to set for them (empty when the processes keep what
    they would have anyway); ``reason`` says why mimalloc was not chosen, when it was asked
    for and cannot be had.
    """

    allocator: str
    environment: dict[str, str]
    reason: str | None = None


def choose(wanted: str, environ: Mapping[str, str], library: Path | None) -> Choice:
    """The allocator for processes started with ``environ``, given the operator's ``wanted``
    (one of :data:`cpgraph.config.ALLOCATORS`) and the mimalloc ``library`` found (None: none).

    A preload the operator already set is kept: mimalloc is put first, and not twice.

    Raises:
        ValueError: if ``wanted`` is not one of :data:`~cpgraph.config.ALLOCATORS` (the
            settings refuse it before it gets here).
    """
    if wanted not in ALLOCATORS:
        raise ValueError(f"unknown allocator {wanted!r}; one of {', '.join(ALLOCATORS)}")
    if wanted == "system":
        return Choice("system", {})
    if library is None:
        return Choice(
            "system", {}, reason=f"mimalloc is not installed here (the {_DISTRIBUTION} package)"
        )
    preloaded = [entry for entry in environ.get(PRELOAD, "").split(":") if entry]
    if str(library) in preloaded:
        return Choice("mimalloc", {})
    return Choice("mimalloc", {PRELOAD: ":".join([str(library), *preloaded])})


def in_use(maps: Path = Path("/proc/self/maps")) -> str:
    """The allocator this process runs with: ``mimalloc`` when its library is mapped into the
    process, else ``system``. Read from what the kernel says is loaded, not from the
    environment, so that a preload the dynamic linker refused is not reported as working."""
    try:
        text = maps.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "system"
    return "mimalloc" if _LIBRARY_PREFIX in text else "system"


def apply(choice: Choice) -> dict[str, str | None]:
    """Set ``choice``'s variables in this process's environment, which the processes it
    starts inherit; returns what they were (None: unset), for :func:`restore`."""
    previous = {name: os.environ.get(name) for name in choice.environment}
    os.environ.update(choice.environment)
    return previous


def restore(previous: Mapping[str, str | None]) -> None:
    """Put back the variables :func:`apply` changed."""
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
