"""The dumps of one build, written once and kept: what ``/dumps/`` serves and bundles copy.

A :class:`DumpCache` belongs to one open store. Its files live in
``<store_dir>/exports/<build id>/``, named as :func:`cpgraph.publish.describe.dump_distributions`
says (``cpgraph.nq``, ``cpgraph.nq.gz``, ...). A build never changes, so a dump written for it
stays right: its size and SHA-256 (the HTTP ETag) and the build's time (Last-Modified) are
stable for as long as the build is served. Files are written beside their final name and
moved into place, so concurrent readers and writers (threads or processes) never see half a
file; folders of builds that no longer exist are removed when a new folder is made.

Each dump embeds the *core* description (without byte sizes: a file cannot state its own
size); :meth:`DumpCache.description` is the full one, with every dump's size and checksum.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyoxigraph as ox

from cpgraph.errors import NotFoundError, StoreError
from cpgraph.publish.describe import (
    DESCRIPTION_PREFIXES,
    BuildInfo,
    Distribution,
    build_info,
    describe,
    dump_distributions,
)
from cpgraph.publish.export import export_file, format_of, maybe_gzip, replacing, write_quads
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.namespaces import prefixes
from cpgraph.store import Store
from cpgraph.store.builds import BUILDS

EXPORTS = "exports"
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class DumpFile:
    """A written dump: where it is and what it is."""

    distribution: Distribution
    path: Path
    size: int
    sha256: str
    modified: datetime

    @property
    def name(self) -> str:
        """The file name, as served under ``/dumps/``."""
        return self.distribution.name

    @property
    def etag(self) -> str:
        """A strong HTTP entity tag: the file's SHA-256, quoted."""
        return f'"{self.sha256}"'


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DumpCache:
    """The dumps and description of the build ``store`` was opened from, each written on
    first use."""

    def __init__(self, store: Store, *, base: str, root: Path) -> None:
        """Keep the dumps of ``store``'s build under ``root/<build id>/``."""
        self.store = store
        self.base = base
        self.build: BuildInfo = build_info(store)
        self.root = root
        self.folder = root / self.build.id
        self._lock = threading.Lock()
        self._files: dict[str, DumpFile] = {}
        self._core: list[ox.Quad] | None = None
        self._full: list[ox.Quad] | None = None
        self._rendered: dict[RdfFormat, bytes] = {}

    @classmethod
    def for_store_dir(cls, store: Store, *, base: str, store_dir: Path) -> DumpCache:
        """The cache in ``<store_dir>/exports/`` (beside the builds)."""
        return cls(store, base=base, root=store_dir / EXPORTS)

    @property
    def names(self) -> list[str]:
        """The names of the standard dumps."""
        return [d.name for d in dump_distributions()]

    def core_description(self) -> list[ox.Quad]:
        """The description embedded in every dump: distributions without sizes."""
        with self._lock:
            if self._core is None:
                self._core = describe(
                    self.store, base=self.base, distributions=dump_distributions(), build=self.build
                )
            return self._core

    def get(self, name: str) -> DumpFile:
        """The dump called ``name`` (``cpgraph.ttl.gz``), written first if need be.

        Raises:
            NotFoundError: if ``name`` is not one of the standard dumps.
            StoreError: if the dump cannot be written.
        """
        distribution = next((d for d in dump_distributions() if d.name == name), None)
        if distribution is None:
            raise NotFoundError(f"no dump {name!r}: the dumps are {', '.join(self.names)}")
        core = self.core_description()
        with self._lock:
            if name not in self._files:
                self._files[name] = self._materialise(distribution, core)
            return self._files[name]

    def get_graph(self, name: str, graph: str) -> DumpFile:
        """One graph of the store (or the description graph) in the format ``name`` says.

        Raises:
            NotFoundError: if ``name`` is not a standard dump or ``graph`` is no graph.
            StoreError: if the dump cannot be written.
        """
        distribution = next((d for d in dump_distributions() if d.name == name), None)
        if distribution is None:
            raise NotFoundError(f"no dump {name!r}: the dumps are {', '.join(self.names)}")
        core = self.core_description()
        key = hashlib.sha256(graph.encode()).hexdigest()[:24]
        file_name = f"graph-{key}.{distribution.fmt.value}{'.gz' if distribution.gzip else ''}"
        with self._lock:
            if file_name not in self._files:
                self._prepare_folder()
                path = self.folder / file_name
                if not path.exists():
                    export_file(
                        self.store,
                        path,
                        base=self.base,
                        fmt=distribution.fmt,
                        gzip=distribution.gzip,
                        graph=graph,
                        description=core,
                    )
                stat = path.stat()
                self._files[file_name] = DumpFile(
                    distribution, path, stat.st_size, sha256_of(path), self.build.created
                )
            return self._files[file_name]

    def all(self) -> list[DumpFile]:
        """Every standard dump, written first where need be."""
        return [self.get(name) for name in self.names]

    def description(self) -> list[ox.Quad]:
        """The full description: every dump with its byte size and SHA-256.

        Raises:
            StoreError: if a dump cannot be written.
        """
        files = self.all()
        with self._lock:
            if self._full is None:
                sized = [
                    Distribution(f.name, f.distribution.fmt, f.distribution.gzip, f.size, f.sha256)
                    for f in files
                ]
                self._full = describe(
                    self.store, base=self.base, distributions=sized, build=self.build
                )
            return self._full

    def render_description(self, fmt: RdfFormat) -> bytes:
        """The full description serialised in ``fmt``, as triples of the default graph in
        every format: what a client reading a graph (VoID's, DCAT's) looks for."""
        quads = self.description()
        with self._lock:
            if fmt not in self._rendered:
                buffer = io.BytesIO()
                names = {**prefixes(self.base), **DESCRIPTION_PREFIXES}
                write_quads(quads, buffer, fmt, names, self.base, as_triples=True)
                self._rendered[fmt] = buffer.getvalue()
            return self._rendered[fmt]

    def _materialise(self, distribution: Distribution, core: list[ox.Quad]) -> DumpFile:
        self._prepare_folder()
        path = self.folder / distribution.name
        if not path.exists():
            if distribution.gzip:
                plain = self._files.get(distribution.name[:-3]) or self._materialise(
                    _plain(distribution), core
                )
                self._files[plain.name] = plain
                _gzip_file(plain.path, path)
            else:
                fmt, _ = format_of(distribution.name)
                export_file(
                    self.store,
                    path,
                    base=self.base,
                    fmt=fmt,
                    gzip=False,
                    union=not fmt.holds_graphs,
                    description=core,
                )
        stat = path.stat()
        return DumpFile(distribution, path, stat.st_size, sha256_of(path), self.build.created)

    def _prepare_folder(self) -> None:
        if self.folder.is_dir():
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot write dumps to {self.folder}: {exc}") from exc
        builds = self.root.parent / BUILDS
        for old in self.root.iterdir():
            if old != self.folder and builds.is_dir() and not (builds / old.name).exists():
                shutil.rmtree(old, ignore_errors=True)


def _plain(distribution: Distribution) -> Distribution:
    return Distribution(distribution.name[:-3], distribution.fmt, False)


def _gzip_file(source: Path, target: Path) -> None:
    with replacing(target) as out, source.open("rb") as raw, maybe_gzip(out, True) as zipped:
        shutil.copyfileobj(raw, zipped, _CHUNK)


def iter_file(path: Path, *, chunk: int = _CHUNK) -> Iterator[bytes]:
    """A file's bytes in chunks (for streaming responses)."""
    with path.open("rb") as stream:
        yield from iter(lambda: stream.read(chunk), b"")
