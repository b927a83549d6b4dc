"""The build: validate first, write a new store beside the old, switch atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from cpgraph.config import Settings
from cpgraph.errors import InputError, RdfSyntaxError, ValidationFailedError
from cpgraph.store.build import build_store
from cpgraph.store.builds import current_build, open_current

CP = "https://w3id.org/cpgraph/ontology#"
SEPA = "https://w3id.org/cpgraph/id/org/sepa"

INVALID_ORGANISATION = """
@prefix cp: <https://w3id.org/cpgraph/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
<https://w3id.org/cpgraph/graph/s004/bad> {
  <https://w3id.org/cpgraph/graph/s004/bad> a cp:SourceExtract ;
      prov:wasDerivedFrom <https://w3id.org/cpgraph/id/source/s004> ;
      cp:locator "nowhere" .
  <https://w3id.org/cpgraph/id/org/nameless> a cp:GovernmentBody .
}
"""


def labels(settings: Settings) -> set[str]:
    store = open_current(settings.store_dir, read_only=True)
    rows = store.query(
        "SELECT ?l WHERE { ?s a/rdfs:subClassOf* cp:Organisation ; rdfs:label ?l }",
        prefixes={"cp": CP, "rdfs": "http://www.w3.org/2000/01/rdf-schema#"},
    )
    return {row["l"].value for row in rows.rows()}


def test_build_loads_ontology_shapes_and_data_into_named_graphs(mini_source: Settings) -> None:
    report = build_store(mini_source)
    graphs = set(report.graphs)
    assert "https://w3id.org/cpgraph/graph/ontology" in graphs
    assert "https://w3id.org/cpgraph/graph/shapes" in graphs
    assert "https://w3id.org/cpgraph/graph/s004/abstract-p1" in graphs
    assert report.triples == len(open_current(mini_source.store_dir))


def test_queries_see_the_union_of_graphs_by_default(mini_source: Settings) -> None:
    build_store(mini_source)
    store = open_current(mini_source.store_dir, read_only=True)
    ask = store.query(f"ASK {{ <{SEPA}> a <{CP}GovernmentBody> . <{CP}GovernmentBody> a ?t }}")
    assert ask.boolean is True
    assert store.query(f"ASK {{ <{SEPA}> ?p ?o }}", union_default_graph=False).boolean is False


def test_build_refuses_data_that_breaks_the_shapes_and_keeps_the_old_store(
    mini_source: Settings,
) -> None:
    build_store(mini_source)
    before = current_build(mini_source.store_dir)
    (mini_source.source_dir / "data" / "bad.trig").write_text(INVALID_ORGANISATION)

    with pytest.raises(ValidationFailedError) as caught:
        build_store(mini_source)

    focus = {r.focus_node for r in caught.value.outcome.violations}
    assert "https://w3id.org/cpgraph/id/org/nameless" in focus
    assert current_build(mini_source.store_dir) == before
    assert "State Environmental Protection Administration" in labels(mini_source)


def test_malformed_data_is_reported_with_file_line_and_column(mini_source: Settings) -> None:
    bad = mini_source.source_dir / "data" / "broken.trig"
    bad.write_text('<http://e/g> {\n  <http://e/s> <http://e/p> "unterminated .\n}\n')
    with pytest.raises(RdfSyntaxError) as caught:
        build_store(mini_source)
    assert caught.value.line == 2
    assert caught.value.column is not None
    assert "broken.trig" in str(caught.value)
    assert current_build(mini_source.store_dir) is None


def test_data_outside_a_named_graph_is_refused(mini_source: Settings) -> None:
    (mini_source.source_dir / "data" / "loose.ttl").write_text(
        f'<{SEPA}> <http://www.w3.org/2000/01/rdf-schema#comment> "no source"@en .\n'
    )
    with pytest.raises(InputError, match="named graph"):
        build_store(mini_source)


def test_a_deployment_base_rewrites_every_minted_iri(mini_source: Settings) -> None:
    settings = mini_source.with_(base_iri="http://data.example.org/cp/")
    build_store(settings)
    store = open_current(settings.store_dir, read_only=True)
    assert store.query(
        "ASK { GRAPH <http://data.example.org/cp/graph/s004/abstract-p1> {"
        " <http://data.example.org/cp/id/org/cncpc> a"
        " <http://data.example.org/cp/ontology#CleanerProductionCentre> } }"
    ).boolean
    assert not store.query(
        "ASK { ?s ?p ?o FILTER(STRSTARTS(STR(?s), 'https://w3id.org/cpgraph/')) }"
    ).boolean


def dataset(settings: Settings) -> ox.Dataset:
    """The store's quads with blank nodes canonicalised, to compare two builds."""
    data = ox.Dataset(open_current(settings.store_dir, read_only=True).quads())
    data.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return data


@pytest.mark.parametrize("base", [None, "http://data.example.org/cp/"])
def test_a_trusted_build_streams_the_same_dataset_as_a_validated_one(
    mini_source: Settings, tmp_path: Path, base: str | None
) -> None:
    settings = mini_source if base is None else mini_source.with_(base_iri=base)
    validated = build_store(settings)
    expected = dataset(settings)
    trusted_settings = settings.with_(store_dir=tmp_path / "trusted-store")
    trusted = build_store(trusted_settings, validate=False)
    assert trusted.validation is None
    assert dataset(trusted_settings) == expected
    assert trusted.graphs == validated.graphs


def test_a_trusted_build_still_refuses_data_outside_a_named_graph(mini_source: Settings) -> None:
    build_store(mini_source)
    before = current_build(mini_source.store_dir)
    (mini_source.source_dir / "data" / "loose.ttl").write_text(
        f'<{SEPA}> <http://www.w3.org/2000/01/rdf-schema#comment> "no source"@en .\n'
    )
    with pytest.raises(InputError, match=r"loose\.ttl.*named graph"):
        build_store(mini_source, validate=False)
    assert current_build(mini_source.store_dir) == before


@pytest.mark.parametrize("base", [None, "http://data.example.org/cp/"])
def test_a_trusted_build_reports_malformed_data_with_file_line_and_column(
    mini_source: Settings, base: str | None
) -> None:
    settings = mini_source if base is None else mini_source.with_(base_iri=base)
    bad = settings.source_dir / "data" / "broken.nq"
    bad.write_text(
        '<http://e/s> <http://e/p> "fine" <http://e/g> .\n'
        '<http://e/s> <http://e/p> "unterminated <http://e/g> .\n'
    )
    with pytest.raises(RdfSyntaxError) as caught:
        build_store(settings, validate=False)
    assert caught.value.line == 2
    assert caught.value.column is not None
    assert "broken.nq" in str(caught.value)
    assert current_build(settings.store_dir) is None


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cpgraph.store import oxigraph as store_module
    from cpgraph.store.build import build_store
    from cpgraph.config import Settings

    marker = Path(sys.argv[3])
    original = store_module.GraphStore.bulk_load_quads

    def slow_load(self, quads):
        def trickle():
            for i, quad in enumerate(quads):
                yield quad
                if i == 10:
                    marker.write_text("writing")
                    time.sleep(120)  # killed here, mid-write
        original(self, trickle())

    store_module.GraphStore.bulk_load_quads = slow_load
    build_store(Settings(source_dir=Path(sys.argv[1]), store_dir=Path(sys.argv[2])))
""")


def test_a_build_killed_midway_leaves_the_previous_store_intact(
    mini_source: Settings, tmp_path: Path
) -> None:
    build_store(mini_source)
    before = current_build(mini_source.store_dir)
    before_labels = labels(mini_source)
    marker = tmp_path / "marker"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            KILL_SCRIPT,
            str(mini_source.source_dir),
            str(mini_source.store_dir),
            str(marker),
        ],
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the build ended before it was killed"
            assert time.monotonic() < deadline, "the build never started writing"
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert current_build(mini_source.store_dir) == before
    assert labels(mini_source) == before_labels
    # and the next build still works
    build_store(mini_source)
    assert current_build(mini_source.store_dir) != before
    assert labels(mini_source) == before_labels
