"""Exporting the store: the whole dataset or one graph, in every RDF format, streamed.

What an export holds:

- **Quad formats** (N-Quads, TriG, JSON-LD): every named graph under its own IRI, plus the
  dataset description (:mod:`cpgraph.publish.describe`) as the named graph ``<base>graph/void``; or,
  with ``graph=``, that one graph under its IRI.
- **Triple formats** (Turtle, N-Triples, RDF/XML) hold no graphs, so an export must say which:
  ``graph=`` exports that graph's triples; ``union=True`` exports the union of every graph,
  each statement once (in any format), with the description's triples in it. The graph
  names, and so which source said what, survive only in the quad formats: use those for a
  full copy.
- ``graph=<base>graph/void`` exports the description alone.

Nothing is built in memory: N-Quads and TriG come from the store's own streaming dump, the
other formats from the store's quad iterator through a streaming serialiser (JSON-LD through
:func:`cpgraph.rdf.jsonld.write_jsonld`). ``gzip=True`` compresses on the fly, reproducibly (no
timestamp in the gzip header), so an export of one build is the same bytes each time.
"""

from __future__ import annotations

import gzip as gz
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import chain
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from cpgraph.errors import InputError, NotFoundError, StoreError, UnsupportedFormatError
from cpgraph.parts import open_part
from cpgraph.progress import SILENT, Progress, counting_writer
from cpgraph.publish.describe import DESCRIPTION_PREFIXES, description_graph
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.io import in_graph
from cpgraph.rdf.jsonld import write_jsonld
from cpgraph.rdf.namespaces import prefixes
from cpgraph.store import Store

DEFAULT = ox.DefaultGraph()
GZIP_SUFFIX = ".gz"


def format_of(name: str) -> tuple[RdfFormat, bool]:
    """The format and compression a file name says (``cpgraph.nq.gz``: N-Quads, gzipped).

    Raises:
        UnsupportedFormatError: if the name ends in no RDF extension cpgraph writes.
    """
    packed = name.endswith(GZIP_SUFFIX)
    stem = name[: -len(GZIP_SUFFIX)] if packed else name
    suffix = Path(stem).suffix.lstrip(".").lower()
    try:
        return RdfFormat(suffix), packed
    except ValueError:
        raise UnsupportedFormatError(
            f"cannot tell the export format of {name!r}: end it in one of "
            + ", ".join(f".{f.value}[.gz]" for f in RdfFormat)
        ) from None


def export(
    store: Store,
    output: IO[bytes],
    *,
    fmt: RdfFormat,
    base: str,
    graph: str | None = None,
    union: bool = False,
    description: Sequence[ox.Quad] = (),
    gzip: bool = False,
    progress: Progress = SILENT,
) -> None:
    """Write the dataset, one graph, or the union of the graphs to ``output`` in ``fmt``
    (the bytes of RDF written counted as a task of ``progress``).

    ``description`` (the quads of :func:`cpgraph.publish.describe.describe`) is added to
    whole-dataset
    and union exports, and is what ``graph=<base>graph/void`` exports.

    Raises:
        InputError: if ``fmt`` holds no graphs and neither ``graph`` nor ``union`` is given,
            or both are.
        NotFoundError: if ``graph`` names no graph of the store.
        StoreError: if the store fails or ``output`` cannot be written.
    """
    if graph is not None and union:
        raise InputError("export one graph or the union of the graphs, not both")
    if graph is None and not union and not fmt.holds_graphs:
        raise InputError(
            f"{fmt.label} holds no named graphs: export one graph "
            "(--graph IRI) or the union of all graphs (--union), or use a format that keeps "
            "graphs (nq, trig, jsonld)"
        )
    void = description_graph(base)
    if graph is not None and graph != void and graph not in store.named_graphs():
        raise NotFoundError(f"no graph {graph} in the store")
    names = {**prefixes(base), **DESCRIPTION_PREFIXES, "graph": f"{base}graph/"}
    try:
        with (
            progress.task("exporting", unit="bytes") as advance,
            maybe_gzip(output, gzip) as packed,
        ):
            out = counting_writer(packed, advance) if progress.counting else packed
            if graph == void:
                write_quads(description, out, fmt, names, base, as_triples=not fmt.holds_graphs)
            elif graph is not None:
                if fmt.holds_graphs:
                    write_quads(store.quads(graph), out, fmt, names, base, as_triples=False)
                else:
                    store.dump(out, fmt, graph=graph, prefixes=names)
            elif union:  # each statement once, as the union holds it
                statements = (
                    ox.Quad(s, p, o, DEFAULT) for s, p, o in store.triples(None, None, None)
                )
                everything = chain(statements, description)
                write_quads(everything, out, fmt, names, base, as_triples=True)
            elif fmt in (RdfFormat.N_QUADS, RdfFormat.TRIG):
                # The store's native dump, then the description appended: both formats allow
                # a document to go on after another (TriG re-declaring its prefixes), and the
                # description has no blank node that could meet one of the dump's.
                store.dump(out, fmt, prefixes=names)
                if description:
                    out.write(b"\n")
                    ox.serialize(description, out, fmt.oxigraph, prefixes=names)
            else:
                everything = chain(store.quads(), description)
                write_quads(everything, out, fmt, names, base, as_triples=not fmt.holds_graphs)
    except OSError as exc:
        raise StoreError(f"writing the export failed: {exc}") from exc


def write_quads(
    quads: Iterable[ox.Quad],
    out: IO[bytes],
    fmt: RdfFormat,
    names: dict[str, str],
    base: str,
    *,
    as_triples: bool,
) -> None:
    """Serialise quads (as triples when ``as_triples``) in ``fmt``, streaming.

    Raises:
        OSError: if writing fails.
        ValueError: for an RDF 1.2 triple term in JSON-LD.
    """
    if fmt is RdfFormat.JSON_LD:
        write_jsonld((in_graph(q, DEFAULT) for q in quads) if as_triples else quads, out, base=base)
    elif as_triples:
        ox.serialize(_triples(quads), out, fmt.oxigraph, prefixes=names)
    else:
        ox.serialize(quads, out, fmt.oxigraph, prefixes=names)


def _triples(quads: Iterable[ox.Quad]) -> Iterator[ox.Triple]:
    for quad in quads:
        yield ox.Triple(quad.subject, quad.predicate, quad.object)


@contextmanager
def maybe_gzip(output: IO[bytes], packed: bool) -> Iterator[IO[bytes]]:
    """``output``, or if ``packed`` a gzip stream into it with no timestamp (reproducible)."""
    if not packed:
        yield output
        return
    with gz.GzipFile(filename="", fileobj=output, mode="wb", mtime=0, compresslevel=6) as zipped:
        yield zipped  # type: ignore[misc]


def export_file(
    store: Store,
    path: Path,
    *,
    base: str,
    fmt: RdfFormat | None = None,
    gzip: bool | None = None,
    graph: str | None = None,
    union: bool = False,
    description: Sequence[ox.Quad] = (),
    progress: Progress = SILENT,
) -> Path:
    """Export to ``path`` atomically (a partial file never takes its place).

    The format and compression come from the file name unless given.

    Raises:
        UnsupportedFormatError: if the name says no format and none is given.
        InputError, NotFoundError, StoreError: as :func:`export`.
    """
    if fmt is None or gzip is None:
        named_fmt, named_gzip = format_of(path.name)
        fmt = fmt or named_fmt
        gzip = named_gzip if gzip is None else gzip
    with replacing(path) as out:
        export(
            store,
            out,
            fmt=fmt,
            base=base,
            graph=graph,
            union=union,
            description=description,
            gzip=gzip,
            progress=progress,
        )
    return path


@contextmanager
def replacing(path: Path, *, what: str = "", make_parents: bool = False) -> Iterator[IO[bytes]]:
    """A new file beside ``path`` to write into, moved over ``path`` only once written whole.

    Raises:
        StoreError: if it cannot be written (the message names ``what``, else ``path``).
    """
    failed = f"cannot write {what or path}"
    try:
        if make_parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp, out = open_part(path)
    except OSError as exc:
        raise StoreError(f"{failed}: {exc}") from exc
    try:
        with out:
            yield out
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"{failed}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
