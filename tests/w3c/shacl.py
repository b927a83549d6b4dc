"""The W3C SHACL Core test suite (data-shapes-test-suite/tests/core), as test cases."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from tests.w3c import W3C

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SUITE = W3C / "shacl-core"


@dataclass(frozen=True)
class ShaclCase:
    """One sht:Validate test: its files, and the expected conformance and result count."""

    name: str
    data: Path
    shapes: Path
    conforms: bool
    results: int


def _path(iri: URIRef) -> Path:
    return Path(str(iri).removeprefix("file://"))


def cases() -> list[ShaclCase]:
    """Every sht:Validate test of the suite, following mf:include."""
    found: list[ShaclCase] = []
    pending = [SUITE / "manifest.ttl"]
    seen: set[Path] = set()
    while pending:
        manifest = pending.pop(0)
        if manifest in seen:
            continue
        seen.add(manifest)
        g = Graph().parse(manifest, format="turtle", publicID=manifest.as_uri())
        for include in g.objects(None, MF.include):
            pending.append(_path(include))  # type: ignore[arg-type]
        for entries in g.objects(None, MF.entries):
            for entry in Collection(g, entries):
                if (entry, RDF.type, SHT.Validate) not in g:
                    continue
                action = g.value(entry, MF.action)
                result = g.value(entry, MF.result)
                assert action is not None
                assert result is not None
                data = g.value(action, SHT.dataGraph)
                shapes = g.value(action, SHT.shapesGraph)
                conforms = g.value(result, SH.conforms)
                found.append(
                    ShaclCase(
                        name=f"{manifest.parent.name}/{str(entry).rsplit('/', 1)[-1]}",
                        data=_path(data),  # type: ignore[arg-type]
                        shapes=_path(shapes),  # type: ignore[arg-type]
                        conforms=bool(conforms.toPython()) if conforms is not None else True,
                        results=len(list(g.objects(result, SH.result))),
                    )
                )
    return found
