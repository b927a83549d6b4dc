"""The ``cpgraph`` command, run as a real process over a real store."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.conftest import FIXTURES, cli_env, run_cli

from cpgraph.config import Settings
from cpgraph.store.build import build_store

CNCPC = "https://w3id.org/cpgraph/id/org/cncpc"


@pytest.fixture
def built(mini_source: Settings) -> Settings:
    build_store(mini_source)
    return mini_source


def test_build_command_reports_statements_and_graphs(mini_source: Settings) -> None:
    result = run_cli("build", settings=mini_source)
    assert result.returncode == 0, result.stderr
    assert "statements in" in result.stdout


def test_build_command_exits_1_with_a_report_when_data_breaks_the_shapes(
    mini_source: Settings,
) -> None:
    (mini_source.source_dir / "data" / "bad.trig").write_text(
        "<https://w3id.org/cpgraph/graph/s004/x> {\n"
        "  <https://w3id.org/cpgraph/id/org/x> a <https://w3id.org/cpgraph/ontology#Enterprise> .\n"
        "}\n"
    )
    result = run_cli("build", settings=mini_source)
    assert result.returncode == 1
    assert "https://w3id.org/cpgraph/id/org/x" in result.stderr
    assert "Traceback" not in result.stderr


def test_query_prints_select_results_as_sparql_json(built: Settings) -> None:
    result = run_cli(
        "query",
        "--format",
        "json",
        "SELECT ?date WHERE { <https://w3id.org/cpgraph/id/org/cncpc> cp:foundingDate ?date }",
        settings=built,
    )
    assert result.returncode == 0, result.stderr
    bindings = json.loads(result.stdout)["results"]["bindings"]
    assert [b["date"]["value"] for b in bindings] == ["1994-12"]


def test_query_reads_a_file_and_writes_csv(built: Settings, tmp_path: Path) -> None:
    query = tmp_path / "q.rq"
    query.write_text("SELECT ?org ?acronym WHERE { ?org cp:acronym ?acronym } ORDER BY ?acronym")
    result = run_cli("query", "-f", str(query), "--format", "csv", settings=built)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["acronym"] for r in rows] == ["CNCPC", "SEPA"]


def test_query_reads_standard_input_and_writes_a_table(built: Settings) -> None:
    result = run_cli(
        "query",
        settings=built,
        stdin="SELECT ?acronym WHERE { ?org cp:acronym ?acronym } ORDER BY ?acronym",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:4] == ["CNCPC", "SEPA"]
    assert "(2 rows)" in result.stdout


def test_construct_results_are_rdf_in_the_chosen_format(built: Settings) -> None:
    result = run_cli(
        "query",
        "--format",
        "nt",
        f"CONSTRUCT {{ <{CNCPC}> ?p ?o }} WHERE {{ <{CNCPC}> ?p ?o }}",
        settings=built,
    )
    assert result.returncode == 0, result.stderr
    triples = list(ox.parse(result.stdout.encode(), ox.RdfFormat.N_TRIPLES))
    assert (
        ox.Quad(
            ox.NamedNode(CNCPC),
            ox.NamedNode("https://w3id.org/cpgraph/ontology#acronym"),
            ox.Literal("CNCPC"),
        )
        in triples
    )


def test_a_malformed_query_names_line_and_column_without_a_traceback(built: Settings) -> None:
    result = run_cli("query", "SELECT ?s\nWHERE { ?s ?p }", settings=built)
    assert result.returncode == 2
    assert "line 2, column" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_table_format_for_a_graph_result_is_refused_clearly(built: Settings) -> None:
    result = run_cli("query", "--format", "csv", "CONSTRUCT WHERE { ?s ?p ?o }", settings=built)
    assert result.returncode == 2
    assert "CONSTRUCT" in result.stderr


def test_query_without_a_store_says_to_build_first(mini_source: Settings) -> None:
    result = run_cli("query", "ASK {}", settings=mini_source)
    assert result.returncode == 3
    assert "cpgraph build" in result.stderr


def test_validate_exits_0_for_conforming_data(mini_source: Settings) -> None:
    result = run_cli("validate", str(FIXTURES / "mini.trig"), settings=mini_source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Conforms")


def test_validate_exits_1_and_reports_what_and_where(mini_source: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "<https://w3id.org/cpgraph/id/org/x> a <https://w3id.org/cpgraph/ontology#Enterprise> .\n"
    )
    result = run_cli("validate", str(bad), settings=mini_source)
    assert result.returncode == 1
    assert "Violation: https://w3id.org/cpgraph/id/org/x" in result.stdout


def test_validate_reports_json_summaries(mini_source: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        "<https://w3id.org/cpgraph/id/org/x> a <https://w3id.org/cpgraph/ontology#Enterprise> .\n"
    )
    result = run_cli("validate", "--format", "json", str(bad), settings=mini_source)
    summary = json.loads(result.stdout)
    assert summary["conforms"] is False
    assert {r["focusNode"] for r in summary["results"]} == {"https://w3id.org/cpgraph/id/org/x"}
    assert all(r["message"] for r in summary["results"])


def test_validate_exits_2_on_malformed_rdf_with_line_and_column(
    mini_source: Settings, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c ;\n  ex:d .\n")
    result = run_cli("validate", str(bad), settings=mini_source)
    assert result.returncode == 2
    assert f"{bad}: line 3, column" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_exits_2_on_an_unreadable_file(mini_source: Settings, tmp_path: Path) -> None:
    result = run_cli("validate", str(tmp_path / "missing.ttl"), settings=mini_source)
    assert result.returncode == 2
    assert "missing.ttl" in result.stderr


@pytest.mark.parametrize(
    ("args", "read"),
    [
        (("stats",), 0),  # the reader is gone before the first line
        (("export", "--format", "nq"), 64),  # ... or after the first bytes of a long export
    ],
    ids=["stats", "export"],
)
def test_a_reader_closing_the_pipe_ends_the_command_quietly(
    shipped: Settings, args: tuple[str, ...], read: int
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "cpgraph.cli.main", *args],
        env=cli_env(shipped),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    if read:
        assert len(process.stdout.read(read)) == read
    process.stdout.close()  # as `| head` does once it has what it wants
    errors = process.stderr.read().decode()
    process.stderr.close()
    assert process.wait(timeout=120) == 141  # 128 + SIGPIPE, as a shell reports it
    assert "Traceback" not in errors
    assert "Broken pipe" not in errors
