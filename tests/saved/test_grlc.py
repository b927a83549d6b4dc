"""The saved queries under grlc itself, and as SPARQL and YAML that any tool reads (issue #27).

Every file of ``queries/`` declares its prefixes (it parses with pyoxigraph as it stands, no
prefix predeclared), has a header that is YAML meaning what cpgraph reads, and keeps its
parameters where grlc can write a value in their place. grlc (PyPI ``grlc``, in the ``test``
extra) loads every file with its own loader and query functions, sends each with its default
parameter values to a real cpgraph server's ``/sparql``, and gets the rows ``/queries/NAME``
gives. Where grlc cannot be imported, those tests skip saying why; nothing is installed here.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import ROOT

from cpgraph.errors import InputError, QuerySyntaxError
from cpgraph.rdf.namespaces import prefixes
from cpgraph.saved.header import header_pairs, parse_header
from cpgraph.saved.library import Library, load_library
from cpgraph.saved.query import parse_saved_query, projection
from cpgraph.sparql.lexer import tokens
from cpgraph.store.oxigraph import GraphStore

QUERIES = ROOT / "queries"
FILES = sorted(QUERIES.glob("*.rq"))
BASE = "https://w3id.org/cpgraph/"
# What a result row is compared by: each bound variable's term, as the SPARQL JSON results
# give it. The parameter columns cpgraph adds (names starting with "_") are left out.
Row = tuple[tuple[str, tuple[str, str, str, str]], ...]


def _stem(path: Path) -> str:
    return path.stem


def _yaml_header(text: str) -> str:
    """The header as grlc reads it: every ``#+`` line, less its leading ``#`` and ``+``."""
    return "\n".join(row.lstrip("#+") for row in text.split("\n") if row.startswith("#+"))


def _words(value: object) -> str:
    return " ".join(str(value).split())


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library(QUERIES)


# ---------------------------------------------------------------------------------------------
# The files as they stand: YAML headers, declared prefixes, parameters where values may stand
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=_stem)
def test_every_header_is_yaml_meaning_what_cpgraph_reads(path: Path) -> None:
    yaml = pytest.importorskip("yaml", reason="PyYAML (a dependency of the test extra)")
    text = path.read_text(encoding="utf-8")
    metadata = yaml.safe_load(_yaml_header(text))
    assert isinstance(metadata, dict), f"{path.name}: the header is not a YAML mapping"
    header = parse_header(text, source=path.name)
    assert set(metadata) == set(header)
    for key, value in metadata.items():
        if key in ("defaults", "parameters"):
            assert all(isinstance(item, dict) and len(item) == 1 for item in value)
            pairs = {name: str(v) for item in value for name, v in item.items()}
            assert pairs == header_pairs(header, key, source=path.name)
        elif key == "tags":
            assert [str(tag) for tag in value] == header[key]
        else:  # a folded value is compared as words: YAML and cpgraph join lines alike
            assert _words(value) == _words(header[key]), key


@pytest.mark.parametrize("path", FILES, ids=_stem)
def test_every_file_parses_with_no_prefix_predeclared(path: Path) -> None:
    """As the Oxigraph CLI (or any SPARQL tool) reads the file: the header is comments, the
    prefixes are declared, and a parameter is an unbound variable."""
    ox.Store().query(path.read_text(encoding="utf-8"))


def _projected_or_grouped(text: str) -> set[str]:
    """The variables a query's SELECT clauses (its sub-selects' too) project and its GROUP BY
    clauses name, outside expressions."""
    found: set[str] = set()
    seen = list(tokens(text))
    for index, token in enumerate(seen):
        word = token.group().upper() if token.lastgroup == "word" else ""
        if word == "SELECT":
            found.update(projection(text[token.start() :]))
        elif word == "BY" and index and seen[index - 1].group().upper() == "GROUP":
            depth = 0
            for after in seen[index + 1 :]:
                written = after.group()
                if after.lastgroup == "close" and written == "}":
                    break
                if after.lastgroup == "word" and written.upper() in (
                    "HAVING",
                    "ORDER",
                    "LIMIT",
                    "OFFSET",
                    "VALUES",
                ):
                    break
                depth += {"(": 1, ")": -1}.get(written, 0)
                if depth == 0 and after.lastgroup == "var":
                    found.add(written[1:])
    return found


@pytest.mark.parametrize("path", FILES, ids=_stem)
def test_no_parameter_is_projected_or_grouped_by_in_the_file(path: Path) -> None:
    """grlc writes a value in place of ``?_name_type`` wherever it stands; in a SELECT
    clause or a GROUP BY that is a syntax error. cpgraph projects the parameters itself."""
    text = path.read_text(encoding="utf-8")
    query = parse_saved_query(text, name=path.stem, path=path)
    assert not {p.variable for p in query.parameters} & _projected_or_grouped(text)
    assert {p.variable for p in query.parameters} <= set(query.variables)


# ---------------------------------------------------------------------------------------------
# cpgraph's loader over the grlc form
# ---------------------------------------------------------------------------------------------

GRLC_FORM = """#+ summary: "Counted: how many things each thing points at"
#+ description: >-
#+   A description: with a colon,
#+   and a second line.
#+ tags:
#+   - "a: tag"
#+ defaults:
#+   - who: http://example.org/a
#+ parameters:
#+   - who: "the subject: an IRI"
#+   - min: the least count
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX cp: <https://w3id.org/cpgraph/ontology#>
PREFIX ex: <http://example.org/>
SELECT ?s (COUNT(?o) AS ?n)
WHERE { ?s ex:p ?o . FILTER(?s = ?_who_iri) }
GROUP BY ?s
HAVING (COUNT(?o) >= COALESCE(?__min_integer, 0))
"""


def _tiny() -> GraphStore:
    store = GraphStore(None)
    store.load_quads(
        ox.Quad(
            ox.NamedNode(f"http://example.org/{s}"),
            ox.NamedNode("http://example.org/p"),
            ox.Literal(o),
            ox.NamedNode("http://example.org/g"),
        )
        for s, o in (("a", "1"), ("a", "2"), ("b", "3"))
    )
    return store


def test_the_grlc_form_is_read_and_run_as_before() -> None:
    query = parse_saved_query(GRLC_FORM, name="grlc-form")
    assert query.title == "Counted: how many things each thing points at"
    assert query.description == "A description: with a colon, and a second line."
    assert query.tags == ("a: tag",)
    who, least = query.parameters
    assert (who.name, who.required, who.default) == ("who", True, "http://example.org/a")
    assert who.description == "the subject: an IRI"
    assert (least.name, least.required, least.type.name) == ("min", False, "integer")
    # The declared parameters are projected (and grouped by) in the query cpgraph runs, in
    # the order the header gives them; the declarations of cpgraph's own prefixes are dropped.
    assert query.variables == ("s", "n", "_who_iri", "__min_integer")
    assert "GROUP BY ?s ?_who_iri ?__min_integer" in query.text
    assert query.text.startswith("PREFIX ex: <http://example.org/>\nSELECT")
    store = _tiny()
    rows = list(store.query(query.text, substitutions=query.bind({}, base=BASE)).rows())
    assert [(r["s"].value, r["n"].value) for r in rows] == [("http://example.org/a", "2")]
    bound = query.bind({"who": "http://example.org/b", "min": "2"}, base=BASE)
    assert list(store.query(query.page(page=1, per_page=5), substitutions=bound).rows()) == []


def test_an_aggregate_without_group_by_is_grouped_by_its_parameters() -> None:
    text = (
        "#+ summary: x\n#+ parameters:\n#+   - who: a subject\n"
        "PREFIX ex: <http://example.org/>\n"
        "SELECT (COUNT(?o) AS ?n) WHERE { ?s ex:p ?o FILTER(?s = ?_who_iri) }\n"
        "ORDER BY ?n\n"
    )
    query = parse_saved_query(text, name="x")
    assert query.variables == ("n", "_who_iri")
    assert "} GROUP BY ?_who_iri\nORDER BY ?n" in query.text
    bound = query.bind({"who": "http://example.org/a"}, base=BASE)
    rows = list(_tiny().query(query.text, substitutions=bound).rows())
    assert [row["n"].value for row in rows] == ["2"]


def test_cpgraph_prefixes_declared_in_a_file_follow_the_deployment_base() -> None:
    text = (
        "#+ summary: x\nPREFIX cp: <https://w3id.org/cpgraph/ontology#>\n"
        "PREFIX other: <https://w3id.org/cpgraph/ontology#>\n"
        "SELECT ?s WHERE { ?s a cp:Law }\n"
    )
    query = parse_saved_query(text, name="x")
    assert "PREFIX cp:" not in query.text
    assert "PREFIX other:" in query.text  # not one of cpgraph's: kept as written
    store = GraphStore(None)
    law = ox.NamedNode("https://example.org/cp/ontology#Law")
    store.load_quads(
        [
            ox.Quad(
                ox.NamedNode("https://example.org/cp/id/x"),
                ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                law,
                ox.DefaultGraph(),
            )
        ]
    )
    rows = store.query(query.text, prefixes=prefixes("https://example.org/cp/")).rows()
    assert [r["s"].value for r in rows] == ["https://example.org/cp/id/x"]


def test_a_syntax_error_names_its_line_in_the_file_below_the_dropped_prefixes(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.rq").write_text(
        "#+ summary: x\n"
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        "PREFIX cp: <https://w3id.org/cpgraph/ontology#>\n"
        "\n"
        "SELECT ?s WHERE {\n"
        "  ?s nope:p ?o\n"
        "}\n"
    )
    with pytest.raises(QuerySyntaxError, match=r"bad\.rq: line 6, column 12: undefined prefix"):
        load_library(tmp_path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?_o_iri } } }",
            r"\?_o_iri is used inside a sub-select that does not project it",
        ),
        (
            "SELECT ?s ?y WHERE { ?s ?p ?o BIND(?_o_iri AS ?y) }",
            r"\(\?_o_iri AS \?y\) leaves \?y unbound",
        ),
    ],
)
def test_a_parameter_oxigraph_would_leave_unbound_is_refused(body: str, message: str) -> None:
    text = f"#+ summary: x\n#+ parameters:\n#+   - o: a thing\n{body}\n"
    with pytest.raises(InputError, match=message):
        parse_saved_query(text, name="x")


def test_oxigraph_leaves_a_variable_bound_to_a_bare_parameter_unbound() -> None:
    """Pinned: why ``BIND(?_x AS ?y)`` is refused (and a filter against the parameter is the
    way): Oxigraph folds an expression that comes to the variable itself, even
    ``COALESCE(?_x)``, into another name for it, which the substitution does not bind."""
    store = _tiny()
    one = {"_x": ox.Literal("1")}
    for expression in ("?_x", "COALESCE(?_x)"):
        bare = f"SELECT ?o ?y ?_x WHERE {{ ?s ?p ?o BIND({expression} AS ?y) }}"
        assert {row.get("y") for row in store.query(bare, substitutions=one).rows()} == {None}
    compared = "SELECT ?o ?_x WHERE { ?s ?p ?o FILTER(?o = ?_x) }"
    rows = store.query(compared, substitutions=one).rows()
    assert [row["o"] for row in rows] == [ox.Literal("1")]


# ---------------------------------------------------------------------------------------------
# grlc itself, against a real cpgraph server
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def grlc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModuleType]:
    """grlc's modules, imported where no ``config.ini`` is (grlc reads one from the working
    directory when it is imported); the tests that use them skip, saying why, without them."""
    try:
        with contextlib.chdir(tmp_path_factory.mktemp("grlc")):
            import flask
            import grlc.fileLoaders
            import grlc.gquery
            import grlc.swagger
            import grlc.utils
    except Exception as exc:  # noqa: BLE001 - any reason grlc cannot be had is a skip
        pytest.skip(f"grlc cannot be imported here ({exc!r}); it is in the test extra")
    return {
        "flask": flask,
        "loaders": grlc.fileLoaders,
        "gquery": grlc.gquery,
        "swagger": grlc.swagger,
        "utils": grlc.utils,
    }


def _terms(bindings: list[dict[str, Any]], concatenated: dict[str, str]) -> list[Row]:
    """The rows of SPARQL JSON results, sorted; a GROUP_CONCAT's parts sorted too, since
    SPARQL leaves their order to the engine's plan (which grlc's text and cpgraph's bound
    query need not share)."""
    rows = []
    for binding in bindings:
        row = []
        for name, term in sorted(binding.items()):
            if name.startswith("_"):
                continue
            value = term["value"]
            if name in concatenated:
                value = concatenated[name].join(sorted(value.split(concatenated[name])))
            kind = "uri" if term["type"] == "uri" else term["type"]
            row.append((name, (kind, value, term.get("datatype", ""), term.get("xml:lang", ""))))
        rows.append(tuple(row))
    return sorted(rows)


def _concatenated(text: str) -> dict[str, str]:
    """The columns of a query that are GROUP_CONCATs, with their separators."""
    found = re.finditer(
        r'GROUP_CONCAT\((?:[^()]|\([^()]*\))*?separator\s*=\s*"([^"]*)"\s*\)\s*AS\s*\?(\w+)',
        text,
    )
    return {m.group(2): m.group(1) for m in found}


@pytest.mark.parametrize("path", FILES, ids=_stem)
def test_grlc_answers_every_saved_query_as_cpgraph_does(
    path: Path, grlc: dict[str, ModuleType], server_url: str, library: Library
) -> None:
    loader = grlc["loaders"].LocalLoader(str(QUERIES))
    assert path.name in {f["name"] for f in loader.fetchFiles()}
    raw, kind = loader.getTextForName(path.stem)
    assert kind == "sparql"
    # The operation grlc would publish: every parameter cpgraph has, required alike, with
    # the same defaults (and grlc's own "page" and "endpoint").
    item = grlc["swagger"].process_sparql_query_text(raw, loader, path.stem, [])
    saved = library.get(path.stem)
    declared = {p["name"]: p for p in item["params"] if p["name"] not in ("page", "endpoint")}
    assert set(declared) == {p.name for p in saved.parameters}
    for param in saved.parameters:
        assert declared[param.name]["required"] == param.required
        assert str(declared[param.name].get("default", "")) == (param.default or "")
    arguments = {name: str(p["default"]) for name, p in declared.items() if "default" in p}
    endpoint = f"{server_url}/sparql"
    with (
        grlc["flask"]
        .Flask("grlc-test")
        .test_request_context("/", query_string={"endpoint": endpoint})
    ):
        answer, status, headers = grlc["utils"].dispatchSPARQLQuery(
            raw,
            loader,
            arguments,
            "application/sparql-results+json",
            None,
            {},
            f"http://127.0.0.1/api-local/{path.stem}",
        )
    assert status == 200
    assert headers["Content-Type"].startswith("application/sparql-results+json"), answer
    through_grlc = json.loads(answer)
    # cpgraph's own answer, with its defaults: the page grlc's pagination gives, or all rows.
    paginated = "pagination" in parse_header(raw)
    params = {"format": "json"} if paginated else {"format": "json", "per_page": "10000"}
    response = httpx.get(f"{server_url}/queries/{path.stem}", params=params, timeout=60)
    assert response.status_code == 200, response.text
    through_cpgraph = response.json()
    assert paginated or 'rel="next"' not in response.headers.get("link", "")
    concatenated = _concatenated(raw)
    grlc_rows = _terms(through_grlc["results"]["bindings"], concatenated)
    assert grlc_rows, f"{path.stem}: grlc got no rows"
    assert grlc_rows == _terms(through_cpgraph["results"]["bindings"], concatenated)
    shown = [v for v in through_cpgraph["head"]["vars"] if not v.startswith("_")]
    assert through_grlc["head"]["vars"] == shown
