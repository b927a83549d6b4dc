"""What the sources say, as statements: claims and findings in the extract that says them.

Issue #26, part 3. Findings, obstacles, success factors, definitions, aims, themes, rules and
calls to action that lived only in comments are ``cp:Claim`` nodes: a text in cpgraph's own
words, one kind, what it is about (``dcterms:subject``), who holds it (``cp:heldBy``, where the
document names someone) and the extract it comes from (``prov:wasDerivedFrom``). The expected
claims are read from the five seed documents (../shared/seeds). The checklist at the end lists
the facts an expert would take from each document and asks each as a statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.conftest import SEEDS

P = """
PREFIX cp: <https://w3id.org/cpgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX ag: <https://w3id.org/cpgraph/id/org/>
PREFIX pe: <https://w3id.org/cpgraph/id/person/>
PREFIX ins: <https://w3id.org/cpgraph/id/instrument/>
PREFIX pr: <https://w3id.org/cpgraph/id/programme/>
PREFIX pl: <https://w3id.org/cpgraph/id/place/>
PREFIX se: <https://w3id.org/cpgraph/id/sector/>
PREFIX ev: <https://w3id.org/cpgraph/id/event/>
PREFIX st: <https://w3id.org/cpgraph/id/stage/>
PREFIX ind: <https://w3id.org/cpgraph/id/indicator/>
PREFIX ro: <https://w3id.org/cpgraph/id/role/>
PREFIX re: <https://w3id.org/cpgraph/id/recommendation/>
PREFIX jo: <https://w3id.org/cpgraph/id/journal/>
PREFIX tp: <https://w3id.org/cpgraph/id/topic/>
PREFIX src: <https://w3id.org/cpgraph/id/source/>
"""
GRAPH = "https://w3id.org/cpgraph/graph/"
SRC = "https://w3id.org/cpgraph/id/source/"
CLAIM = "https://w3id.org/cpgraph/id/claim/"
VOCABULARY = ("https://w3id.org/cpgraph/id/sector/", "https://w3id.org/cpgraph/id/place/")


def claims_of(select, source: str, kind: str, *subjects: str) -> list[dict[str, str]]:
    """The claims of one kind, about all the given subjects, in an extract of ``source``,
    with the extract, the claim's own citation and its holder."""
    about = " ".join(f"?c dcterms:subject {s} ." for s in subjects)
    return select(
        P
        + f"""SELECT DISTINCT ?c ?g ?cited ?holder ?text WHERE {{
            GRAPH ?g {{ ?c a cp:Claim ; cp:claimKind cp:{kind} ; cp:claimText ?text ;
                           prov:wasDerivedFrom ?cited . {about}
                        OPTIONAL {{ ?c cp:heldBy ?holder }} }}
            GRAPH ?g {{ ?g a cp:SourceExtract ; prov:wasDerivedFrom src:{source} }} }}"""
    )


def one_claim(select, source: str, kind: str, *subjects: str) -> dict[str, str]:
    """The one claim that matches, checked to stand in, and cite, an extract of its source."""
    rows = claims_of(select, source, kind, *subjects)
    assert len({r["c"] for r in rows}) == 1, rows
    row = rows[0]
    assert row["g"].startswith(f"{GRAPH}{source}/"), row
    assert row["cited"] == row["g"], row
    return row


# =============================================================================================
# Each fact of the issue, as a statement in its source's extract
# =============================================================================================


@pytest.mark.parametrize(
    ("subjects"),
    [
        # 001: "1) ... extended ... to the whole industrial sectors, including agriculture and
        # service industry; 2) pollution prevention principles ... integrated into various
        # policies ...; 3) a technical supporting system ...; 4) the term cleaner production
        # industry ...; 5) cleaner production has permeated into all levels of education"
        ("se:heavy-and-chemical-industries", "se:agriculture", "se:services"),
        ("tp:pollution-prevention",),
        ("tp:cp-technical-support-system",),
        ("tp:cp-industry",),
        ("tp:cp-education",),
    ],
)
def test_each_of_lei_shis_five_findings_is_a_claim_he_holds(select, subjects):
    row = one_claim(select, "s001", "Finding", *subjects)
    assert row["g"] == GRAPH + "s001/abstract"
    assert row["holder"].endswith("/person/lei-shi")


def test_lei_shi_lists_exactly_five_findings_and_three_obstacles(select):
    assert len({r["c"] for r in claims_of(select, "s001", "Finding")}) == 5
    obstacles = claims_of(select, "s001", "Obstacle")
    assert len({r["c"] for r in obstacles}) == 3
    assert {r["holder"].rsplit("/", 1)[-1] for r in obstacles} == {"lei-shi"}


@pytest.mark.parametrize(
    "topic", ["tp:policy-continuity", "tp:campaign-style-implementation", "tp:innovation-ecosystem"]
)
def test_each_of_the_three_obstacles_of_001_is_about_its_own_topic(select, topic):
    # "the discontinuity of policies, the movement feature of policy implementation, the
    # poor innovation industry ecosystem"
    one_claim(select, "s001", "Obstacle", topic)


def test_the_2015_call_has_ten_themes_all_about_the_workshop(select):
    themes = claims_of(select, "s000", "Theme", "ev:cp-in-china-workshop-2015")
    assert len({r["c"] for r in themes}) == 10  # ten bullets of key aspects
    assert {r["g"] for r in themes} == {GRAPH + "s000/key-aspects"}
    assert not any("holder" in r for r in themes)  # the call names no author


@pytest.mark.parametrize(
    "subjects",
    [
        ("tp:cp-education",),  # history and trends of cleaner-production education
        ("se:iron-and-steel", "se:smart-grid", "se:renewable-energy"),  # key industrial sectors
        ("se:agriculture",),
        ("se:services",),
        ("tp:sustainable-urbanisation",),
        ("tp:post-fossil-carbon-society",),
        ("tp:industrial-ecology", "tp:circular-economy"),
        ("tp:sustainable-civilisation",),
        ("tp:sustainable-consumption-and-production",),
    ],
)
def test_themes_of_the_2015_call_are_about_what_the_bullets_name(select, subjects):
    one_claim(select, "s000", "Theme", "ev:cp-in-china-workshop-2015", *subjects)


def test_the_2015_call_asks_for_english_abstracts_of_about_500_words(select):
    row = one_claim(select, "s000", "Rule", "ev:cp-in-china-workshop-2015")
    assert row["g"] == GRAPH + "s000/submission"
    assert "500 words" in row["text"]
    assert "English" in row["text"]


def test_the_2015_call_names_rounds_of_training_piloted_in_provinces_and_cities(select):
    rows = select(
        P
        + """SELECT ?p ?g WHERE { GRAPH ?g { ?p a cp:Programme ; rdfs:label ?l ;
               cp:coversPlace pl:china . FILTER(CONTAINS(?l, "training")) }
             ?g prov:wasDerivedFrom src:s000 }"""
    )
    assert {r["g"] for r in rows} == {GRAPH + "s000/introduction"}


def test_the_cpwgs_mission_is_an_aim_the_working_group_holds(select):
    row = one_claim(select, "s003", "Aim", "ag:cpwg", "ag:chinese-government")
    assert row["g"] == GRAPH + "s003/cpwg-establishment-and-mission"
    assert row["holder"].endswith("/org/cpwg")


def test_003_reports_responsibility_for_cleaner_production_given_to_setc_and_sepa(select):
    # "Responsibility for CP promotion assigned to STEC and SEPA" (summary, item 1)
    row = one_claim(select, "s003", "Achievement", "ag:stec", "ag:sepa")
    assert row["g"] == GRAPH + "s003/summary-1-priority"


def test_003s_barriers_paragraph_names_taiyuan_and_jiangsu_as_exceptions(select):
    row = one_claim(select, "s003", "Obstacle", "pl:taiyuan", "pl:jiangsu")
    assert row["g"] == GRAPH + "s003/barriers"
    assert row["holder"].endswith("/org/cpwg")
    one_claim(select, "s003", "Assessment", "tp:cleaner-production", "pl:china")


def test_003_names_six_critical_success_factors_of_the_team(select):
    rows = claims_of(select, "s003", "SuccessFactor", "ag:cpwg")
    in_section = {r["c"] for r in rows if r["g"] == GRAPH + "s003/success-factors"}
    assert (
        len(in_section) == 6
    )  # composition, co-chairs, continuous work, goals, sharing, operation
    assert {r["holder"].rsplit("/", 1)[-1] for r in rows} == {"cpwg"}
    one_claim(select, "s003", "SuccessFactor", "pe:qian-yi", "pe:tsugio-ide")
    one_claim(select, "s003", "SuccessFactor", "ins:cp-index-system")


def test_004_quotes_uneps_definition_of_cleaner_production(select):
    row = one_claim(select, "s004", "Definition", "tp:cleaner-production")
    assert row["g"] == GRAPH + "s004/paragraph-1"
    assert row["holder"].endswith("/org/unep")


def test_004_says_china_is_set_to_become_the_largest_emitter(select):
    row = one_claim(select, "s004", "Assessment", "pl:china", "tp:greenhouse-gas-emissions")
    assert row["g"] == GRAPH + "s004/paragraph-3"
    assert row["holder"].endswith("/person/stephen-tsang")


def test_the_aim_of_004_is_to_compare_climate_and_cleaner_production_initiatives(select):
    row = one_claim(select, "s004", "Aim", "tp:climate-change", "tp:cleaner-production")
    assert row["g"] == GRAPH + "s004/paragraph-4"


def test_002_concludes_cleaner_production_could_not_fully_play_a_role(select):
    rows = claims_of(select, "s002", "Finding", "tp:cleaner-production")
    conclusion = [r for r in rows if r["g"] == GRAPH + "s002/section-4-conclusions"]
    assert len(conclusion) == 1
    assert "holder" not in conclusion[0]  # the copy of 002 names no author


def test_002_calls_on_the_government_to_strengthen_end_of_pipe_control(select):
    row = one_claim(select, "s002", "CallToAction", "tp:end-of-pipe-treatment")
    assert row["g"] == GRAPH + "s002/section-4-conclusions"


# =============================================================================================
# Every claim: cites its extract, its subjects and holder described there, its own words
# =============================================================================================


def all_claims(select) -> list[dict[str, str]]:
    return select(
        P
        + """SELECT ?c ?g ?cited ?source ?text ?kind WHERE {
            GRAPH ?g { ?c a cp:Claim . OPTIONAL { ?c prov:wasDerivedFrom ?cited }
                       OPTIONAL { ?c cp:claimText ?text } OPTIONAL { ?c cp:claimKind ?kind } }
            OPTIONAL { GRAPH ?g { ?g a cp:SourceExtract ; prov:wasDerivedFrom ?source } } }"""
    )


def test_every_claim_stands_in_a_source_extract_and_cites_that_extract(select):
    rows = all_claims(select)
    assert len({r["c"] for r in rows}) >= 60
    for r in rows:
        assert r["c"].startswith(CLAIM), r
        assert r.get("source", "").startswith(SRC), r  # a source extract, not a curation graph
        assert r.get("cited") == r["g"], r
        code = r["source"].rsplit("/", 1)[-1]
        assert r["g"].startswith(f"{GRAPH}{code}/"), r
        assert r["c"].startswith(f"{CLAIM}{code}-"), r


def test_every_claim_has_one_text_and_one_kind(select):
    counts: dict[str, tuple[set[str], set[str]]] = {}
    for r in all_claims(select):
        texts, kinds = counts.setdefault(r["c"], (set(), set()))
        texts.add(r.get("text", ""))
        kinds.add(r.get("kind", ""))
    for claim, (texts, kinds) in counts.items():
        assert len(texts) == 1, claim
        assert "" not in texts, claim
        assert len(kinds) == 1, claim
        assert "" not in kinds, claim


def test_what_a_claim_is_about_and_who_holds_it_are_described_in_its_extract(select):
    rows = select(
        P
        + """SELECT DISTINCT ?c ?x WHERE { GRAPH ?g { ?c a cp:Claim .
               { ?c dcterms:subject ?x } UNION { ?c cp:heldBy ?x }
               FILTER NOT EXISTS { ?x a ?type ; rdfs:label ?label } } }"""
    )
    # Sectors and places are vocabulary, described in curation graphs (data/README.md).
    assert [r for r in rows if not r["x"].startswith(VOCABULARY)] == []


def test_a_claim_held_by_someone_is_held_by_a_described_actor(select):
    rows = select(
        P
        + """SELECT ?c ?holder WHERE { GRAPH ?g { ?c cp:heldBy ?holder }
             FILTER NOT EXISTS { GRAPH ?g { ?holder a ?t } ?t rdfs:subClassOf* cp:Actor } }"""
    )
    assert rows == []


def seed_words(code: str) -> list[str]:
    found = sorted(SEEDS.glob(f"{code[1:]}_*.txt"))
    if not found:
        pytest.skip(f"no seed document {code} in {SEEDS}: the project runs without it")
    return words(found[0].read_text(encoding="utf-8"))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def shared_runs(text: str, document: list[str], length: int) -> list[str]:
    runs = {tuple(document[i : i + length]) for i in range(len(document) - length + 1)}
    said = words(text)
    return [
        " ".join(said[i : i + length])
        for i in range(len(said) - length + 1)
        if tuple(said[i : i + length]) in runs
    ]


@pytest.mark.parametrize("code", ["s000", "s001", "s002", "s003", "s004"])
def test_claim_texts_are_cpgraphs_words_not_the_documents_sentences(select, code):
    """No run of six words of a claim's text is copied from its document (facts carry over;
    the documents' sentences do not). Short quoted phrases stand in labels only."""
    document = seed_words(code)
    rows = select(
        P
        + f"""SELECT ?c ?text WHERE {{ GRAPH ?g {{ ?c cp:claimText ?text }}
              ?g prov:wasDerivedFrom src:{code} }}"""
    )
    assert rows
    copied = {r["c"]: shared_runs(r["text"], document, 6) for r in rows}
    assert {c: runs for c, runs in copied.items() if runs} == {}


def test_the_copy_check_catches_a_copied_sentence():
    document = words(
        "The mission of CPWG is to conduct investigation, research, and demonstration."
    )
    assert shared_runs(
        "Its aim: to conduct investigation, research, and demonstration.", document, 6
    )
    assert not shared_runs("It studies and demonstrates strategies.", document, 6)


# =============================================================================================
# The checklist: the facts an expert would list from each document, each as a statement
# =============================================================================================


CHECKLIST_FILE = Path(__file__).resolve().parent / "fact-checklist.txt"
COMMENT_ONLY = " [comment only]"


@dataclass(frozen=True)
class Fact:
    """One line of the checklist: a fact of a source, and the statement that says it."""

    source: str
    name: str
    pattern: str

    @property
    def comment_only(self) -> bool:
        return self.name.endswith(COMMENT_ONLY)


def expand(shorthand: str) -> str:
    """The SPARQL pattern of a checklist entry (``claim KIND SUBJECT...`` and
    ``figure INDICATOR VALUE`` are shorthands; anything else is SPARQL already)."""
    word, _, rest = shorthand.partition(" ")
    if word == "claim":
        kind, *subjects = rest.split()
        return f"?c cp:claimKind cp:{kind} . " + " ".join(
            f"?c dcterms:subject {s} ." for s in subjects
        )
    if word == "figure":
        indicator, value = rest.split()
        return f'?o cp:indicator ind:{indicator} ; cp:value "{value}"^^xsd:decimal .'
    return shorthand


def checklist() -> list[Fact]:
    facts = []
    for line in CHECKLIST_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            source, name, pattern = (part.strip() for part in line.split(" | ", 2))
            facts.append(Fact(source, name, expand(pattern)))
    return facts


def is_statement(select, fact: Fact) -> bool:
    rows = select(
        P + f"SELECT * WHERE {{ GRAPH ?g {{ {fact.pattern} }} "
        f"?g prov:wasDerivedFrom src:{fact.source} }} LIMIT 1"
    )
    return bool(rows)


@pytest.mark.parametrize("fact", checklist(), ids=lambda f: f"{f.source}: {f.name}")
def test_a_fact_an_expert_would_list_is_a_statement_of_its_source(select, fact):
    """Each fact is a statement, except those the checklist marks as still in comments only
    (marked so that the measure stays honest: marking a fact wrongly fails too)."""
    assert is_statement(select, fact) is not fact.comment_only, fact.name


def test_at_least_95_percent_of_the_checklist_are_statements(select):
    facts = checklist()
    found = [is_statement(select, fact) for fact in facts]
    assert len(facts) >= 150
    assert sum(found) / len(found) >= 0.95


def test_the_checklist_names_each_document_and_each_fact_once():
    facts = checklist()
    assert {f.source for f in facts} == {"s000", "s001", "s002", "s003", "s004"}
    keys = [(f.source, f.name) for f in facts]
    assert len(keys) == len(set(keys))


def test_checklist_shorthands_expand_to_sparql():
    assert expand("figure coal-saved 7040000") == (
        '?o cp:indicator ind:coal-saved ; cp:value "7040000"^^xsd:decimal .'
    )
    assert expand("claim Obstacle pl:taiyuan pl:jiangsu") == (
        "?c cp:claimKind cp:Obstacle . ?c dcterms:subject pl:taiyuan . "
        "?c dcterms:subject pl:jiangsu ."
    )
    assert expand("ag:cpwg a cp:WorkingGroup .") == "ag:cpwg a cp:WorkingGroup ."
