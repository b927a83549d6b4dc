"""What is validated is what is stored: literals of every XSD datatype the shapes allow, written
in any of their lexical forms, are validated, committed and read back unchanged (issue #25)."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, URIRef
from tests.conftest import ROOT, built_mini_store

from cpgraph.config import Settings
from cpgraph.rdf.formats import RdfFormat
from cpgraph.store.builds import open_current
from cpgraph.store.graph_store import read_graph
from cpgraph.validation import contributions as contrib
from cpgraph.validation.stored import STORED_FORM_SHAPE

BASE = "https://w3id.org/cpgraph/"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH_DATATYPE = URIRef("http://www.w3.org/ns/shacl#datatype")


def shape_datatypes() -> list[str]:
    """Every XSD datatype a shape of shapes/ names with sh:datatype (rdf:langString, which
    they name too, is a tagged string: the store keeps it as written)."""
    shapes = Graph()
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        shapes.parse(path, format="turtle")
    return sorted({str(o) for o in shapes.objects(None, SH_DATATYPE) if str(o).startswith(XSD)})


def signed(digits: st.SearchStrategy[str], signs: str = "+-") -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["", *signs]), digits).map("".join)


_ZEROS = st.text("0", max_size=2)
_NATURAL = st.tuples(_ZEROS, st.integers(0, 10**20).map(str)).map("".join)
_POSITIVE = st.tuples(_ZEROS, st.integers(1, 10**20).map(str)).map("".join)
_YEAR = st.integers(1000, 2999).map(str)
_MONTH = st.integers(1, 12).map("{:02d}".format)
_DAY = st.integers(1, 28).map("{:02d}".format)
_ZONE = st.sampled_from(["", "Z", "+00:00", "-05:00", "+08:00"])
_TIME = st.tuples(
    st.integers(0, 23).map("{:02d}".format),
    st.integers(0, 59).map("{:02d}".format),
    st.integers(0, 59).map("{:02d}".format),
    st.sampled_from(["", ".0", ".5", ".500", ".123"]),
).map(lambda t: f"{t[0]}:{t[1]}:{t[2]}{t[3]}")
LEXICAL: dict[str, st.SearchStrategy[str]] = {
    "string": st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=12),
    "integer": signed(_NATURAL),
    "positiveInteger": signed(_POSITIVE, "+"),
    "nonNegativeInteger": signed(_NATURAL, "+"),
    "decimal": st.tuples(
        st.sampled_from(["", "+", "-"]), _NATURAL, st.sampled_from(["", ".", ".5", ".50", ".05"])
    ).map("".join),
    "boolean": st.sampled_from(["true", "false", "1", "0"]),
    "date": st.tuples(_YEAR, _MONTH, _DAY, _ZONE).map(lambda t: f"{t[0]}-{t[1]}-{t[2]}{t[3]}"),
    "dateTime": st.tuples(_YEAR, _MONTH, _DAY, _TIME, _ZONE).map(
        lambda t: f"{t[0]}-{t[1]}-{t[2]}T{t[3]}{t[4]}"
    ),
    "gYear": st.tuples(_YEAR, _ZONE).map("".join),
    "gYearMonth": st.tuples(_YEAR, _MONTH, _ZONE).map(lambda t: f"{t[0]}-{t[1]}{t[2]}"),
}


def test_every_datatype_the_shapes_allow_is_generated() -> None:
    datatypes = shape_datatypes()
    assert datatypes
    assert [d for d in datatypes if d.removeprefix(XSD) not in LEXICAL] == []


def literals() -> st.SearchStrategy[list[ox.Literal]]:
    """One literal of each datatype the shapes allow, in any lexical form."""
    return st.tuples(
        *(
            LEXICAL[d.removeprefix(XSD)].map(
                lambda value, d=d: ox.Literal(value, datatype=ox.NamedNode(d))
            )
            for d in shape_datatypes()
        )
    ).map(list)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return built_mini_store(tmp_path_factory)


@pytest.fixture(scope="module")
def context(store: Settings) -> contrib.ValidationContext:
    return contrib.ValidationContext.from_store(
        open_current(store.store_dir, read_only=True), base=BASE
    )


def read_back(store_dir: Path, graph: str, subject: ox.NamedNode) -> tuple[set[ox.Triple], ...]:
    """The statements about ``subject`` in ``graph``, read through the Graph Store Protocol's
    read and through a query."""
    current = open_current(store_dir, read_only=True)
    buffer = io.BytesIO()
    read_graph(current, graph, buffer, RdfFormat.N_TRIPLES)
    through_gsp = {
        ox.Triple(q.subject, q.predicate, q.object)
        for q in ox.parse(buffer.getvalue(), ox.RdfFormat.N_TRIPLES)
        if q.subject == subject
    }
    rows = current.query(
        f"SELECT ?p ?o WHERE {{ GRAPH <{graph}> {{ <{subject.value}> ?p ?o }} }}"
    ).rows()
    through_query = {ox.Triple(subject, row["p"], row["o"]) for row in rows}
    return through_gsp, through_query


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(values=literals())
def test_what_is_validated_is_what_is_committed_and_read_back(
    values: list[ox.Literal], store: Settings, context: contrib.ValidationContext
) -> None:
    subject = ox.NamedNode(f"http://example.org/thing/{uuid.uuid4().hex}")
    sent = [
        (subject, ox.NamedNode(f"http://example.org/vocab/p{number}"), value)
        for number, value in enumerate(values)
    ]
    validated, rewrites = contrib.in_store_form(sent, None)
    outcome = contrib.check(sent, store=None, context=context)
    infos = [r for r in outcome.results if r.source_shape == STORED_FORM_SHAPE]
    assert len(infos) == len(rewrites) == sum(a != b for a, b in zip(sent, validated, strict=True))

    result = contrib.commit(
        store.store_dir,
        sent,
        contributor=contrib.OPERATOR,
        comment="Literals of every datatype the shapes allow.",
        base=BASE,
        context=context,
    )
    assert result.created
    expected = {ox.Triple(*t) for t in validated}
    through_gsp, through_query = read_back(store.store_dir, result.record.graph, subject)
    assert through_gsp == expected
    assert through_query == expected
    stored = [(t.subject, t.predicate, t.object) for t in through_gsp]
    assert result.record.content_hash == contrib.content_hash(stored)  # type: ignore[arg-type]
