"""Helpers for the page, linked-data and browser tests: a small real store and its server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import FIXTURES, ROOT, running_server

from cpgraph.config import Settings
from cpgraph.progress import SILENT
from cpgraph.store.build import build_store

BASE = "https://w3id.org/cpgraph/"
CP = BASE + "ontology#"
CNCPC = BASE + "id/org/cncpc"
SEPA = BASE + "id/org/sepa"
EXTRACT = BASE + "graph/s004/abstract-p1"
AWKWARD = BASE + "id/org/awkward-name"
AWKWARD_LABEL = 'Tags <b>&amp; "quotes" </script> Ltd'
AWKWARD_ZH = "国家清洁生产中心"

_LABEL_TTL = AWKWARD_LABEL.replace('"', '\\"')

# A second extract with a label that must be escaped on the page, and a Chinese name.
EXTRA_TRIG = f"""
@prefix cp:   <{CP}> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<{BASE}graph/s004/abstract-p2> {{
    <{BASE}graph/s004/abstract-p2> a cp:SourceExtract ;
        prov:wasDerivedFrom <{BASE}id/source/s004> ;
        cp:locator "Abstract, second paragraph" .
    <{AWKWARD}> a cp:Enterprise ;
        rdfs:label "{_LABEL_TTL}"@en, "{AWKWARD_ZH}"@zh .
    <{CNCPC}> cp:foundingDate "1995"^^<http://www.w3.org/2001/XMLSchema#gYear> .
}}
"""


def build_pages_store(folder: Path) -> Settings:
    """A store built (and validated) from the mini fixture plus :data:`EXTRA_TRIG`."""
    source = folder / "source"
    (source / "data").mkdir(parents=True)
    for name in ("ontology", "shapes"):
        (source / name).symlink_to(ROOT / name)
    (source / "data" / "mini.trig").write_bytes((FIXTURES / "mini.trig").read_bytes())
    (source / "data" / "extra.trig").write_text(EXTRA_TRIG, encoding="utf-8")
    settings = Settings(source_dir=source, store_dir=folder / "store")
    build_store(settings, progress=SILENT)
    return settings


@contextlib.contextmanager
def pages_server(folder: Path) -> Iterator[str]:
    """A real ``cpgraph serve`` over :func:`build_pages_store`; yields its base URL."""
    with running_server(build_pages_store(folder)) as url:
        yield url
