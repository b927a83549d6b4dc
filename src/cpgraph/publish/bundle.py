"""A release bundle: a folder ready for deposit in a data repository (Zenodo, a portal).

::

    cpgraph-<build>/
        ro-crate-metadata.json    RO-Crate 1.1 metadata: the crate, every file, licence, sources
        README.md                 what is here, for a person
        dumps/cpgraph.nq.gz ...   the dataset in every format (gzip), from the build's dumps
        ontology.ttl              the ontology graph, as the store holds it
        shapes.ttl                the SHACL shapes graph
        context.jsonld            the JSON-LD context the JSON-LD dump uses
        void.ttl                  the VoID and DCAT description, with sizes and checksums
        SHA256SUMS                for ``sha256sum -c``: every file but itself and the metadata

The folder is written under a temporary name beside its final one and renamed when complete.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from cpgraph import __version__
from cpgraph.errors import InputError, StoreError
from cpgraph.parts import make_part_folder
from cpgraph.progress import SILENT, Progress
from cpgraph.publish.describe import (
    DESCRIPTION,
    KEYWORDS,
    LICENCE,
    TITLE,
    dataset_iri,
    description_graph,
)
from cpgraph.publish.dumps import DumpCache, sha256_of
from cpgraph.publish.export import export_file
from cpgraph.rdf.formats import RdfFormat
from cpgraph.rdf.jsonld import context_document
from cpgraph.rdf.namespaces import DCTERMS, RDFS, graph_iri

RO_CRATE_VERSION = "1.1"
RO_CRATE_CONTEXT = f"https://w3id.org/ro/crate/{RO_CRATE_VERSION}/context"
RO_CRATE_SPEC = f"https://w3id.org/ro/crate/{RO_CRATE_VERSION}"
METADATA = "ro-crate-metadata.json"
CHECKSUMS = "SHA256SUMS"


@dataclass(frozen=True, slots=True)
class BundleFile:
    """One file of the bundle: its path inside the folder, size, checksum and media type."""

    path: str
    size: int
    sha256: str
    media_type: str
    title: str


@dataclass(frozen=True, slots=True)
class Bundle:
    """A written bundle."""

    folder: Path
    files: tuple[BundleFile, ...]


def make_bundle(
    cache: DumpCache, folder: Path, *, overwrite: bool = False, progress: Progress = SILENT
) -> Bundle:
    """Write a release bundle of the build ``cache`` serves into ``folder`` (the dumps, made
    where the cache has none yet, counted as a task of ``progress``).

    Raises:
        InputError: if ``folder`` exists and ``overwrite`` is false.
        StoreError: if a file cannot be written.
    """
    if folder.exists() and not overwrite:
        raise InputError(f"{folder} exists: choose another folder or allow overwriting")
    try:
        tmp = make_part_folder(folder)
    except OSError as exc:
        raise StoreError(f"cannot write the bundle at {folder}: {exc}") from exc
    try:
        files = _write_payload(cache, tmp, progress)
        checksums = "".join(f"{f.sha256}  {f.path}\n" for f in files)
        (tmp / CHECKSUMS).write_text(checksums, encoding="utf-8")
        files.append(_entry(tmp, CHECKSUMS, "text/plain", "SHA-256 checksums of the files"))
        metadata = ro_crate_metadata(cache, files)
        (tmp / METADATA).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
        if folder.exists():
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except OSError as exc:
        raise StoreError(f"cannot write the bundle at {folder}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Bundle(folder, tuple(files))


def _entry(root: Path, rel: str, media_type: str, title: str) -> BundleFile:
    path = root / rel
    return BundleFile(rel, path.stat().st_size, sha256_of(path), media_type, title)


def _write_payload(cache: DumpCache, root: Path, progress: Progress) -> list[BundleFile]:
    (root / "dumps").mkdir()
    files: list[BundleFile] = []
    with progress.task("writing the dumps", total=len(cache.names), unit="files") as advance:
        for name in cache.names:
            dump = cache.get(name)
            advance(1)
            if not dump.distribution.gzip:
                continue
            rel = f"dumps/{dump.name}"
            shutil.copyfile(dump.path, root / rel)
            files.append(_entry(root, rel, dump.distribution.media_type, dump.distribution.title))
    graphs = set(cache.store.named_graphs())
    for name, title in (("ontology", "The cpgraph ontology"), ("shapes", "The SHACL shapes")):
        iri = graph_iri(name, cache.base)
        if iri in graphs:
            export_file(cache.store, root / f"{name}.ttl", base=cache.base, graph=iri)
            files.append(_entry(root, f"{name}.ttl", RdfFormat.TURTLE.media_type, title))
    (root / "context.jsonld").write_text(
        json.dumps(context_document(cache.base), indent=2) + "\n", encoding="utf-8"
    )
    files.append(
        _entry(
            root, "context.jsonld", RdfFormat.JSON_LD.media_type, "The JSON-LD context of the dump"
        )
    )
    (root / "void.ttl").write_bytes(cache.render_description(RdfFormat.TURTLE))
    files.append(_entry(root, "void.ttl", RdfFormat.TURTLE.media_type, "VoID and DCAT description"))
    (root / "README.md").write_text(_readme(cache, files), encoding="utf-8")
    files.append(_entry(root, "README.md", "text/markdown", "What this folder holds"))
    return files


def _sources(cache: DumpCache) -> list[tuple[str, str]]:
    """The source documents the description names, with their labels."""
    dataset = dataset_iri(cache.base)
    labels: dict[str, str] = {}
    sources: list[str] = []
    for quad in cache.description():
        subject, obj = quad.subject, quad.object
        if not isinstance(subject, ox.NamedNode) or isinstance(obj, ox.Triple):
            continue
        if subject.value == dataset and quad.predicate.value == DCTERMS + "source":
            sources.append(obj.value)
        elif quad.predicate.value == RDFS + "label":
            labels[subject.value] = obj.value
    return [(s, labels.get(s, s)) for s in sources]


def ro_crate_metadata(cache: DumpCache, files: list[BundleFile]) -> dict[str, Any]:
    """The RO-Crate 1.1 metadata document describing the bundle's ``files``."""
    publisher = f"{cache.base}id/org/cpgraph-curators"
    sources = _sources(cache)
    root: dict[str, Any] = {
        "@id": "./",
        "@type": "Dataset",
        "name": TITLE,
        "description": DESCRIPTION,
        "datePublished": cache.build.created.isoformat(),
        "version": cache.build.id,
        "identifier": dataset_iri(cache.base),
        "url": cache.base,
        "keywords": list(KEYWORDS),
        "license": {"@id": LICENCE},
        "publisher": {"@id": publisher},
        "creator": {"@id": publisher},
        "isBasedOn": [{"@id": iri} for iri, _ in sources],
        "hasPart": [{"@id": f.path} for f in files],
    }
    graph: list[dict[str, Any]] = [
        {
            "@id": METADATA,
            "@type": "CreativeWork",
            "conformsTo": {"@id": RO_CRATE_SPEC},
            "about": {"@id": "./"},
        },
        root,
    ]
    for f in files:
        entity: dict[str, Any] = {
            "@id": f.path,
            "@type": "File",
            "name": f.title,
            "encodingFormat": f.media_type,
            "contentSize": str(f.size),
        }
        if f.path.startswith("dumps/"):
            entity["license"] = {"@id": LICENCE}
            entity["description"] = (
                f"{f.title}; its named graph {description_graph(cache.base)} describes "
                "the dataset (VoID and DCAT)."
            )
        graph.append(entity)
    graph.append(
        {
            "@id": LICENCE,
            "@type": "CreativeWork",
            "name": "Creative Commons Attribution 4.0 International",
            "identifier": "CC-BY-4.0",
        }
    )
    graph.append({"@id": publisher, "@type": "Organization", "name": "cpgraph curators"})
    for iri, label in sources:
        graph.append({"@id": iri, "@type": "CreativeWork", "name": label})
    graph.append(
        {
            "@id": "#cpgraph-bundle",
            "@type": "CreateAction",
            "name": "cpgraph bundle",
            "endTime": cache.build.created.isoformat(),
            "instrument": {"@id": "#cpgraph-software"},
            "result": {"@id": "./"},
        }
    )
    graph.append(
        {
            "@id": "#cpgraph-software",
            "@type": "SoftwareApplication",
            "name": "cpgraph",
            "version": __version__,
        }
    )
    return {"@context": RO_CRATE_CONTEXT, "@graph": graph}


def _readme(cache: DumpCache, files: list[BundleFile]) -> str:
    lines = [
        f"# {TITLE}",
        "",
        DESCRIPTION,
        "",
        f"Build `{cache.build.id}` of {cache.build.created.isoformat()}. Licence: CC BY 4.0 "
        f"({LICENCE}). Dataset IRI: <{dataset_iri(cache.base)}>; SPARQL endpoint: "
        f"<{cache.base}sparql>.",
        "",
        "The quad formats (`.nq`, `.trig`, `.jsonld`) keep every named graph, and so the source "
        "of every statement; the triple formats (`.ttl`, `.nt`, `.rdf`) hold the union of the "
        f"graphs. Each dump includes the dataset description as the graph "
        f"<{description_graph(cache.base)}>.",
        "",
        "| file | bytes | what |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{f.path}` | {f.size} | {f.title} |" for f in files]
    lines += ["", f"Check the files with `sha256sum -c {CHECKSUMS}`.", ""]
    return "\n".join(lines)
