"""Contributions: refused when they overreach, judged in context, committed once, atomically."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from tests.conftest import run_cli, running_server

from cpgraph.config import Settings
from cpgraph.errors import ContributionRefusedError, NotFoundError, ValidationFailedError
from cpgraph.rdf.io import RdfFormat
from cpgraph.store.build import build_store
from cpgraph.store.builds import current_build, open_current
from cpgraph.validation import contributions as contrib

BASE = "https://w3id.org/cpgraph/"
TOKEN = "operator-token-for-contributions"
ALICE_TOKEN = "alice-token-for-contributions"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

NOTICE = """
@prefix cp: <https://w3id.org/cpgraph/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://w3id.org/cpgraph/id/instrument/test-notice-2009> a cp:Notice ;
    rdfs:label "Notice on auditing key enterprises in 2009"@en ;
    cp:dateIssued "2009"^^xsd:gYear ;
    cp:issuedBy <https://w3id.org/cpgraph/id/org/sepa> .
"""
DANGLING = NOTICE.replace("id/org/sepa", "id/org/no-such-agency")
WITH_BLANK = (
    NOTICE
    + """
<https://w3id.org/cpgraph/id/instrument/test-notice-2009> cp:requires "Audit [ ]"@en .
"""
)


@pytest.fixture
def store_settings(mini_source: Settings) -> Settings:
    build_store(mini_source)
    return mini_source


@pytest.fixture
def context(store_settings: Settings) -> contrib.ValidationContext:
    return contrib.ValidationContext.from_store(
        open_current(store_settings.store_dir, read_only=True), base=BASE
    )


def read(text: str, context: contrib.ValidationContext) -> list[contrib.Triple]:
    return contrib.read_contribution(text, RdfFormat.TURTLE, base=BASE, terms=context.terms)


def quads(settings: Settings) -> set[ox.Quad]:
    return set(open_current(settings.store_dir, read_only=True).quads())


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("<http://e/g> { <http://e/a> <http://e/b> <http://e/c> }", "graph of its own"),
        ("<http://e/a> <http://www.w3.org/2002/07/owl#imports> <http://e/o> .", "owl:imports"),
        (
            "<https://w3id.org/cpgraph/ontology#Law> <http://www.w3.org/2000/01/rdf-schema#label> "
            '"x"@en .',
            "cannot redefine",
        ),
        (
            "<http://www.w3.org/ns/prov#Agent> <http://www.w3.org/2000/01/rdf-schema#label> "
            '"x"@en .',
            "cannot redefine",
        ),
        (
            "<https://w3id.org/cpgraph/graph/s004/abstract-p1> "
            "<http://www.w3.org/ns/prov#wasDerivedFrom> <http://e/x> .",
            "one of cpgraph's graphs",
        ),
        (
            "<http://e/A> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <http://e/B> .",
            "cannot define vocabulary",
        ),
        ("", "no statements"),
    ],
)
def test_a_contribution_that_overreaches_is_refused(
    context: contrib.ValidationContext, text: str, phrase: str
) -> None:
    fmt = RdfFormat.TRIG if "{" in text else RdfFormat.TURTLE
    with pytest.raises(ContributionRefusedError, match=phrase):
        contrib.read_contribution(text, fmt, base=BASE, terms=context.terms)


def test_the_content_hash_ignores_blank_node_labels_and_order(
    context: contrib.ValidationContext,
) -> None:
    one = read('_:a <http://e/p> _:b . _:b <http://e/q> "x" .', context)
    two = read('_:y <http://e/q> "x" . _:z <http://e/p> _:y .', context)
    other = read('_:a <http://e/p> _:b . _:b <http://e/q> "y" .', context)
    assert contrib.content_hash(one) == contrib.content_hash(two)
    assert contrib.content_hash(one) != contrib.content_hash(other)


def test_contributed_blank_nodes_are_kept_apart_from_the_stores(
    context: contrib.ValidationContext,
) -> None:
    first = read('_:b <http://e/p> "x" .', context)
    second = read('_:b <http://e/p> "x" .', context)
    assert first[0][0] != second[0][0]


def test_a_contribution_pointing_to_an_agency_in_the_graph_is_committed_with_provenance(
    store_settings: Settings, context: contrib.ValidationContext
) -> None:
    alice = contrib.Contributor("alice-wang", "Alice Wang")
    result = contrib.commit(
        store_settings.store_dir,
        read(NOTICE, context),
        contributor=alice,
        comment="A notice from the 2009 audit report.",
        base=BASE,
        context=context,
        source="https://example.org/report-2009",
    )
    assert result.created
    record = result.record
    assert record.contributor == "https://w3id.org/cpgraph/id/person/alice-wang"
    assert record.graph == f"{BASE}graph/contribution/{record.id}"
    assert record.content_hash == contrib.content_hash(read(NOTICE, context))
    store = open_current(store_settings.store_dir, read_only=True)
    assert store.query(
        f"""
        ASK {{ GRAPH <{record.graph}> {{
          <{record.graph}> a cp:Contribution ; prov:wasAttributedTo ?who ;
              prov:generatedAtTime ?t ; dcterms:source <https://example.org/report-2009> .
          <https://w3id.org/cpgraph/id/instrument/test-notice-2009> cp:issuedBy ?issuer . }} }}
    """,
        prefixes={
            "cp": BASE + "ontology#",
            "prov": "http://www.w3.org/ns/prov#",
            "dcterms": "http://purl.org/dc/terms/",
        },
    ).boolean


def test_the_same_content_twice_is_committed_once(
    store_settings: Settings, context: contrib.ValidationContext
) -> None:
    who = contrib.Contributor("alice-wang", "Alice Wang")
    first = contrib.commit(
        store_settings.store_dir,
        read(NOTICE, context),
        contributor=who,
        comment="first",
        base=BASE,
        context=context,
    )
    second = contrib.commit(
        store_settings.store_dir,
        read(NOTICE, context),
        contributor=who,
        comment="again",
        base=BASE,
        context=context,
    )
    assert first.created
    assert not second.created
    assert second.record == first.record
    records = contrib.list_contributions(
        open_current(store_settings.store_dir, read_only=True), base=BASE
    )
    assert [r.id for r in records] == [first.record.id]


def test_a_reference_to_nothing_refuses_the_contribution_and_changes_nothing(
    store_settings: Settings, context: contrib.ValidationContext
) -> None:
    before = quads(store_settings)
    build = current_build(store_settings.store_dir)
    with pytest.raises(ValidationFailedError) as caught:
        contrib.commit(
            store_settings.store_dir,
            read(DANGLING, context),
            contributor=contrib.OPERATOR,
            comment="dangling",
            base=BASE,
            context=context,
        )
    focus = {r.value for r in caught.value.outcome.violations}
    assert "https://w3id.org/cpgraph/id/org/no-such-agency" in focus
    assert current_build(store_settings.store_dir) == build
    assert quads(store_settings) == before


def test_warnings_are_reported_and_pass(
    store_settings: Settings, context: contrib.ValidationContext
) -> None:
    undated = NOTICE.replace('    cp:dateIssued "2009"^^xsd:gYear ;\n', "")
    result = contrib.commit(
        store_settings.store_dir,
        read(undated, context),
        contributor=contrib.OPERATOR,
        comment="no date",
        base=BASE,
        context=context,
    )
    assert result.created
    assert any(r.severity.value == "Warning" for r in result.outcome.results)


def test_a_withdrawn_contribution_is_gone(
    store_settings: Settings, context: contrib.ValidationContext
) -> None:
    result = contrib.commit(
        store_settings.store_dir,
        read(NOTICE, context),
        contributor=contrib.OPERATOR,
        comment="to withdraw",
        base=BASE,
        context=context,
    )
    contrib.withdraw(store_settings.store_dir, result.record.id, base=BASE)
    store = open_current(store_settings.store_dir, read_only=True)
    assert contrib.list_contributions(store, base=BASE) == []
    with pytest.raises(NotFoundError):
        contrib.withdraw(store_settings.store_dir, result.record.id, base=BASE)


KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cpgraph.validation import contributions as contrib
    from cpgraph.store import oxigraph as store_module
    from cpgraph.store.builds import open_current
    from cpgraph.rdf.io import RdfFormat

    store_dir, marker, text = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]).read_text()
    original = store_module.GraphStore.load_quads

    def slow(self, quads):
        quads = list(quads)
        original(self, quads[: len(quads) // 2])   # half of it is written ...
        marker.write_text("half")
        time.sleep(120)                            # ... and the process is killed here
        original(self, quads[len(quads) // 2 :])

    store_module.GraphStore.load_quads = slow
    context = contrib.ValidationContext.from_store(
        open_current(store_dir, read_only=True), base="https://w3id.org/cpgraph/")
    triples = contrib.read_contribution(text, RdfFormat.TURTLE,
                                        base="https://w3id.org/cpgraph/", terms=context.terms)
    contrib.commit(store_dir, triples, contributor=contrib.OPERATOR, comment="killed",
                   base="https://w3id.org/cpgraph/", context=context)
""")


def test_a_process_killed_mid_commit_leaves_all_or_nothing(
    store_settings: Settings, tmp_path: Path, context: contrib.ValidationContext
) -> None:
    before = quads(store_settings)
    marker = tmp_path / "marker"
    data = tmp_path / "notice.ttl"
    data.write_text(NOTICE)
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(store_settings.store_dir), str(marker), str(data)]
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, "the commit ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert quads(store_settings) == before  # none of it
    result = contrib.commit(
        store_settings.store_dir,
        read(NOTICE, context),
        contributor=contrib.OPERATOR,
        comment="again",
        base=BASE,
        context=context,
    )
    assert result.created  # and the store still takes the whole contribution
    assert len(quads(store_settings)) > len(before)


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def server(store_settings: Settings, tmp_path: Path) -> Iterator[str]:
    people = tmp_path / "contributors.json"
    people.write_text(
        json.dumps([{"token": ALICE_TOKEN, "slug": "alice-wang", "name": "Alice Wang"}])
    )
    with running_server(
        store_settings,
        CPGRAPH_TOKEN=TOKEN,
        CPGRAPH_CONTRIBUTORS_FILE=str(people),
        CPGRAPH_MAX_BODY_BYTES="20000",
    ) as url:
        yield url


def post(
    url: str,
    path: str,
    body: str,
    *,
    token: str | None = None,
    content_type: str = "text/turtle",
    accept: str = "application/json",
    params: dict[str, str] | None = None,
) -> httpx.Response:
    headers = {"Content-Type": content_type, "Accept": accept}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(url + path, content=body, headers=headers, params=params, timeout=60)


def test_validate_answers_a_summary_without_a_token(server: str) -> None:
    good = post(server, "/validate", NOTICE).json()
    bad = post(server, "/validate", DANGLING).json()
    assert good["conforms"] is True
    assert bad["conforms"] is False
    entry = next(r for r in bad["results"] if r["severity"] == "Violation")
    assert entry["focusNode"] == "https://w3id.org/cpgraph/id/instrument/test-notice-2009"
    assert entry["value"] == "https://w3id.org/cpgraph/id/org/no-such-agency"
    assert entry["message"]


def test_validate_gives_a_standard_shacl_report_by_accept(server: str) -> None:
    response = post(server, "/validate", DANGLING, accept="text/turtle")
    report = rdflib.Graph().parse(data=response.text, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, sh.conforms, rdflib.Literal(False)) in report
    assert len(list(report.objects(None, sh.result))) >= 1


def test_validate_refuses_bad_input_clearly(server: str) -> None:
    assert post(server, "/validate", NOTICE, content_type="text/csv").status_code == 415
    broken = post(server, "/validate", "<http://e/a> <http://e/b> .\n")
    assert broken.status_code == 400
    assert broken.json()["line"] == 1
    assert post(server, "/validate", "# " + "x" * 30000 + "\n").status_code == 413
    refused = post(
        server, "/validate", "<http://e/a> <http://www.w3.org/2002/07/owl#imports> <http://e/o> ."
    )
    assert refused.status_code == 422


def test_a_contribution_needs_a_token(server: str) -> None:
    response = post(server, "/contributions", NOTICE, params={"comment": "x"})
    assert response.status_code == 401
    assert httpx.get(server + "/contributions").json()["contributions"] == []


def test_a_contribution_is_committed_listed_read_and_withdrawn(server: str) -> None:
    created = post(
        server,
        "/contributions",
        NOTICE,
        token=ALICE_TOKEN,
        params={"comment": "From the 2009 report.", "source": "https://example.org/report-2009"},
    )
    assert created.status_code == 201
    record = created.json()["contribution"]
    assert record["contributor"] == "https://w3id.org/cpgraph/id/person/alice-wang"
    location = created.headers["location"]
    listed = httpx.get(server + "/contributions").json()["contributions"]
    assert [c["id"] for c in listed] == [record["id"]]
    graph = rdflib.Graph().parse(
        data=httpx.get(location, headers={"Accept": "text/turtle"}).text, format="turtle"
    )
    contributed = rdflib.Graph().parse(data=NOTICE, format="turtle")
    assert all(triple in graph for triple in contributed)
    # queryable like everything else
    ask = httpx.get(
        server + "/sparql",
        params={
            "query": (
                "ASK { <https://w3id.org/cpgraph/id/instrument/test-notice-2009> cp:issuedBy ?x }"
            )
        },
    )
    assert ask.json()["boolean"] is True
    again = post(server, "/contributions", NOTICE, token=ALICE_TOKEN, params={"comment": "x"})
    assert again.status_code == 200
    assert again.json()["created"] is False
    gone = httpx.delete(location, headers={"Authorization": f"Bearer {ALICE_TOKEN}"})
    assert gone.status_code == 204
    assert httpx.get(location).status_code == 404


def test_a_violating_contribution_is_a_422_with_its_report(server: str) -> None:
    response = post(server, "/contributions", DANGLING, token=TOKEN, params={"comment": "x"})
    assert response.status_code == 422
    body = response.json()
    assert body["conforms"] is False
    assert any(
        r["value"] == "https://w3id.org/cpgraph/id/org/no-such-agency" for r in body["results"]
    )
    assert httpx.get(server + "/contributions").json()["contributions"] == []


def test_the_form_page_validates_pasted_text(server: str) -> None:
    page = httpx.get(server + "/contribute")
    assert "<textarea" in page.text
    answered = httpx.post(
        server + "/validate",
        data={"data": DANGLING, "format": "ttl"},
        headers={"Accept": "text/html"},
    )
    assert "Does not conform" in answered.text
    assert "no-such-agency" in answered.text


def test_contribute_command_commits_to_the_local_store(
    store_settings: Settings, tmp_path: Path
) -> None:
    data = tmp_path / "notice.ttl"
    data.write_text(NOTICE)
    result = run_cli(
        "contribute",
        str(data),
        "--comment",
        "from the CLI",
        "--as",
        "li-lei",
        settings=store_settings,
    )
    assert result.returncode == 0, result.stderr
    listed = run_cli("contributions", "--format", "json", settings=store_settings)
    records = json.loads(listed.stdout)
    assert [r["contributor"] for r in records] == ["https://w3id.org/cpgraph/id/person/li-lei"]
    bad = tmp_path / "bad.ttl"
    bad.write_text(DANGLING)
    refused = run_cli("contribute", str(bad), "--comment", "x", settings=store_settings)
    assert refused.returncode == 1
    assert "no-such-agency" in refused.stderr


def test_validate_command_sees_the_local_store(store_settings: Settings, tmp_path: Path) -> None:
    data = tmp_path / "notice.ttl"
    data.write_text(NOTICE)
    in_context = run_cli("validate", str(data), settings=store_settings)
    alone = run_cli("validate", "--no-context", str(data), settings=store_settings)
    assert in_context.returncode == 0, in_context.stdout
    assert alone.returncode == 1  # alone, the agency it points to is typed nowhere
