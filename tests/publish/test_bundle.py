"""The release bundle: every file there, checksummed, and RO-Crate 1.1 metadata that validates."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import run_cli
from tests.linked_data import BASE, build_mini, isomorphic, parse

from cpgraph.config import Settings
from cpgraph.rdf.io import RdfFormat
from cpgraph.store.builds import open_current

SPEC = "https://w3id.org/ro/crate/1.1"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Path]:
    settings = build_mini(tmp_path_factory.mktemp("bundle"))
    folder = settings.store_dir.parent / "release"
    result = run_cli("bundle", str(folder), settings=settings)
    assert result.returncode == 0, result.stderr
    return settings, folder


def crate(folder: Path) -> dict[str, dict[str, Any]]:
    metadata = json.loads((folder / "ro-crate-metadata.json").read_text())
    assert metadata["@context"] == f"{SPEC}/context"
    entities = metadata["@graph"]
    ids = [e["@id"] for e in entities]
    assert len(ids) == len(set(ids)), "every entity once"
    assert all("@type" in e for e in entities)
    return {e["@id"]: e for e in entities}


def test_the_bundle_holds_dumps_ontology_shapes_description_and_context(
    bundle: tuple[Settings, Path],
) -> None:
    _, folder = bundle
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert {f"dumps/cpgraph.{f.value}.gz" for f in RdfFormat} <= names
    assert {"ontology.ttl", "shapes.ttl", "void.ttl", "context.jsonld", "SHA256SUMS"} <= names
    assert "ro-crate-metadata.json" in names


def test_every_file_matches_its_checksum(bundle: tuple[Settings, Path]) -> None:
    _, folder = bundle
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split("  ", 1)
        listed[name] = digest
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert set(listed) == on_disk - {"SHA256SUMS", "ro-crate-metadata.json"}


def test_the_dump_in_the_bundle_is_the_store(bundle: tuple[Settings, Path]) -> None:
    settings, folder = bundle
    back = parse((folder / "dumps/cpgraph.nq.gz").read_bytes(), RdfFormat.N_QUADS, packed=True)
    data = [q for q in back if q.graph_name.value != f"{BASE}graph/void"]  # type: ignore[union-attr]
    assert isomorphic(data, open_current(settings.store_dir, read_only=True).quads())


def test_ro_crate_metadata_follows_the_rules_of_ro_crate_1_1(
    bundle: tuple[Settings, Path],
) -> None:
    _, folder = bundle
    entities = crate(folder)
    descriptor = entities["ro-crate-metadata.json"]
    assert descriptor["@type"] == "CreativeWork"
    assert descriptor["conformsTo"] == {"@id": SPEC}
    assert descriptor["about"] == {"@id": "./"}
    root = entities["./"]
    assert "Dataset" in ([root["@type"]] if isinstance(root["@type"], str) else root["@type"])
    assert root["name"]
    assert root["description"]
    datetime.fromisoformat(root["datePublished"])
    assert entities[root["license"]["@id"]]["@type"] == "CreativeWork"
    parts = [p["@id"] for p in root["hasPart"]]
    on_disk = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert set(parts) == on_disk - {"ro-crate-metadata.json"}
    for part in parts:
        entity = entities[part]
        assert entity["@type"] == "File"
        assert not part.startswith(("/", "file:"))
        assert int(entity["contentSize"]) == (folder / part).stat().st_size
        assert entity["encodingFormat"]
    for ref in _references(entities.values()):
        if not ref.startswith(("http://", "https://")):
            assert ref in entities, f"{ref} is referenced but not described"


def _references(entities: Any) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if set(value) == {"@id"}:
                found.append(value["@id"])
            else:
                for key, item in value.items():
                    if key != "@id":
                        walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for entity in entities:
        walk(entity)
    return found


def test_the_sources_are_named_in_the_crate(bundle: tuple[Settings, Path]) -> None:
    _, folder = bundle
    entities = crate(folder)
    sources = [s["@id"] for s in entities["./"]["isBasedOn"]]
    assert sources == [f"{BASE}id/source/s004"]
    assert "Tsang" in entities[sources[0]]["name"]


def test_bundle_refuses_to_overwrite_a_folder_with_exit_2(bundle: tuple[Settings, Path]) -> None:
    settings, folder = bundle
    result = run_cli("bundle", str(folder), settings=settings)
    assert result.returncode == 2
    assert "exists" in result.stderr
