"""What the store keeps: literals it would rewrite are refused by the build with their file and
line, counted for a write, and found the same way for every statement form."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from tests.conftest import run_cli

from cpgraph.config import Settings
from cpgraph.errors import ValidationFailedError
from cpgraph.store.build import build_store
from cpgraph.store.builds import current_build
from cpgraph.store.stored_forms import in_stored_form, oxigraph_stored_forms
from cpgraph.store.update import written_literals

XSD = "http://www.w3.org/2001/XMLSchema#"
REWRITTEN = """@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix cp: <https://w3id.org/cpgraph/ontology#> .
<https://w3id.org/cpgraph/graph/s004/rewritten> {
  <https://w3id.org/cpgraph/id/event/rewritten> cp:ordinal "2"^^xsd:positiveInteger .
  <https://w3id.org/cpgraph/id/observation/rewritten> cp:value
      "1.50"^^xsd:decimal .
}
"""


def literal(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


def test_the_build_names_each_literal_the_store_would_rewrite_with_its_file_and_line(
    mini_source: Settings,
) -> None:
    path = mini_source.source_dir / "data" / "rewritten.trig"
    path.write_text(REWRITTEN)
    with pytest.raises(ValidationFailedError) as caught:
        build_store(mini_source)
    messages = sorted(r.message for r in caught.value.outcome.violations)
    assert len(messages) == 2
    assert messages[0].startswith(
        f'{path}:4: "2"^^xsd:positiveInteger is stored as "2"^^xsd:integer'
    )
    assert messages[1].startswith(f'{path}:6: "1.50"^^xsd:decimal is stored as "1.5"^^xsd:decimal')
    assert not caught.value.outcome.conforms
    assert current_build(mini_source.store_dir) is None


def test_the_command_refuses_them_as_it_refuses_a_violation(mini_source: Settings) -> None:
    path = mini_source.source_dir / "data" / "rewritten.trig"
    path.write_text(REWRITTEN)
    done = run_cli("build", settings=mini_source)
    assert done.returncode == 1
    assert f"{path}:4:" in done.stderr
    assert f"{path}:6:" in done.stderr
    assert "2 literal(s) would be stored in another form" in done.stderr


def test_literals_kept_as_written_build(mini_source: Settings) -> None:
    path = mini_source.source_dir / "data" / "kept.trig"
    path.write_text(REWRITTEN.replace("xsd:positiveInteger", "xsd:integer").replace("1.50", "1.5"))
    build_store(mini_source)
    assert current_build(mini_source.store_dir) is not None


def test_the_shipped_data_builds_as_written(shipped: Settings) -> None:
    assert current_build(shipped.store_dir) is not None


def test_statements_are_put_in_the_stored_form_and_the_rewrites_reported() -> None:
    s, p, g = ox.NamedNode("urn:s"), ox.NamedNode("urn:p"), ox.NamedNode("urn:g")
    sent = [
        ox.Quad(s, p, literal("007", "integer"), g),
        ox.Quad(s, p, literal("1", "boolean"), g),
        ox.Quad(s, p, literal("7", "integer"), g),
        ox.Quad(s, p, ox.Literal("text"), g),
    ]
    stored, rewrites = in_stored_form(sent, oxigraph_stored_forms)
    assert [q.object for q in stored] == [
        literal("7", "integer"),
        literal("true", "boolean"),
        literal("7", "integer"),
        ox.Literal("text"),
    ]
    assert all(q.graph_name == g for q in stored)
    assert [(r.original, r.stored) for r in rewrites] == [
        (literal("007", "integer"), literal("7", "integer")),
        (literal("1", "boolean"), literal("true", "boolean")),
    ]
    assert in_stored_form(stored, oxigraph_stored_forms)[1] == []


def test_the_literals_an_update_writes_are_those_of_its_insertions() -> None:
    update = """PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
        DELETE { ?s <urn:p> 010 } INSERT { GRAPH <urn:g> { ?s <urn:p> "1.50"^^xsd:decimal, -03 } }
        WHERE { ?s <urn:p> "4"^^xsd:integer } ;
        INSERT DATA { <urn:s> <urn:p> "x"@en, false } ; DELETE DATA { <urn:s> <urn:p> 5 }"""
    assert written_literals(update) == [
        literal("1.50", "decimal"),
        literal("-03", "integer"),
        ox.Literal("x", language="en"),
        literal("false", "boolean"),
    ]
