"""Facts a researcher looks up first, checked against what each source document says.

The expected values are taken from the five seed documents (../shared/seeds), not from the data:
where a test and the data disagree, the document decides. Each test asks the graph through
GRAPH patterns whose graph is derived from the source that states the fact, so a fact stated by
the wrong source does not pass.
"""

from __future__ import annotations

import pytest

P = """
PREFIX cp: <https://w3id.org/cpgraph/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX qb: <http://purl.org/linked-data/cube#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
PREFIX ag: <https://w3id.org/cpgraph/id/org/>
PREFIX pe: <https://w3id.org/cpgraph/id/person/>
PREFIX ins: <https://w3id.org/cpgraph/id/instrument/>
PREFIX pr: <https://w3id.org/cpgraph/id/programme/>
PREFIX pl: <https://w3id.org/cpgraph/id/place/>
PREFIX se: <https://w3id.org/cpgraph/id/sector/>
PREFIX ev: <https://w3id.org/cpgraph/id/event/>
PREFIX ind: <https://w3id.org/cpgraph/id/indicator/>
PREFIX un: <https://w3id.org/cpgraph/id/unit/>
PREFIX ro: <https://w3id.org/cpgraph/id/role/>
PREFIX ds: <https://w3id.org/cpgraph/id/dataset/>
PREFIX src: <https://w3id.org/cpgraph/id/source/>
"""
SRC = "https://w3id.org/cpgraph/id/source/"
ID = "https://w3id.org/cpgraph/id/"
CORRECTIONS = "https://w3id.org/cpgraph/graph/curation/corrections"


def in_source(source: str, pattern: str) -> str:
    """A query whose pattern must hold inside one extract of the given source (s000..s004)."""
    return (
        P + f"SELECT DISTINCT * WHERE {{ GRAPH ?g {{ {pattern} }} "
        f"?g prov:wasDerivedFrom <{SRC}{source}> . }}"
    )


def values(rows: list[dict[str, str]], var: str) -> set[str]:
    return {r[var] for r in rows if var in r}


def slugs(rows: list[dict[str, str]], var: str) -> set[str]:
    return {v.rsplit("/", 1)[-1] for v in values(rows, var)}


def observation(select, source: str, indicator: str) -> list[dict[str, str]]:
    """The observations of one indicator that a source reports, with value and qualifier."""
    return select(
        in_source(
            source,
            f"""
        ?o a cp:Observation ; qb:dataSet ds:reported-figures ;
           cp:indicator ind:{indicator} ; cp:value ?v ; cp:unit ?u ;
           cp:valueQualifier ?q ; cp:observationKind ?k ; cp:periodEnd ?end .
        OPTIONAL {{ ?o cp:periodStart ?start }}""",
        )
    )


def has_figure(rows, value: float, unit: str, qualifier: str, kind: str = "Reported") -> bool:
    return any(
        float(r["v"]) == value
        and r["u"] == f"{ID}unit/{unit}"
        and r["q"].endswith("#" + qualifier)
        and r["k"].endswith("#" + kind)
        for r in rows
    )


# =============================================================================================
# Provenance machinery
# =============================================================================================


def test_every_source_extract_names_its_document_and_a_locator(select):
    rows = select(
        P
        + """SELECT ?g ?src ?loc WHERE { GRAPH ?g { ?g a cp:SourceExtract .
        OPTIONAL { ?g prov:wasDerivedFrom ?src } OPTIONAL { ?g cp:locator ?loc } } }"""
    )
    assert len(rows) > 60
    for r in rows:
        assert r.get("src", "").startswith(SRC), r
        assert r.get("loc"), r


@pytest.mark.parametrize(
    ("code", "seed"),
    [
        ("s000", "000_e0f1023febb9e8cd.txt"),
        ("s001", "001_f0e0e7b28c6f0d89.txt"),
        ("s002", "002_80128a678a98d5b6.txt"),
        ("s003", "003_9df5ee7af269b680.txt"),
        ("s004", "004_9ae0363d5115ef10.txt"),
    ],
)
def test_each_source_document_has_a_bibliographic_record_with_its_seed_file(select, code, seed):
    rows = select(
        P
        + f"""SELECT ?t ?d ?c WHERE {{ <{SRC}{code}> a cp:SourceDocument ;
        cp:seedFile "{seed}" ; dcterms:title ?t ; dcterms:issued ?d ;
        dcterms:bibliographicCitation ?c }}"""
    )
    assert rows


@pytest.mark.parametrize(
    ("code", "year", "creator"),
    [
        ("s001", "2019", "person/lei-shi"),
        ("s003", "2001", "org/cpwg"),
        ("s004", "2008", "person/stephen-tsang"),
        ("s000", "2015", None),
        ("s002", "2009", None),
    ],
)
def test_source_documents_carry_their_year_and_author(select, code, year, creator):
    rows = select(
        P + f"SELECT ?d ?c WHERE {{ <{SRC}{code}> dcterms:issued ?d . "
        f"OPTIONAL {{ <{SRC}{code}> dcterms:creator ?c }} }}"
    )
    assert values(rows, "d") == {year}
    if creator:
        assert values(rows, "c") == {ID + creator}


# =============================================================================================
# Disagreements: each source's version in its own extract
# =============================================================================================


def test_national_centre_was_founded_in_1995_according_to_the_2015_call(select):
    rows = select(
        in_source(
            "s000",
            """?c cp:foundingDate ?d ; rdfs:label ?l .
        FILTER(CONTAINS(?l, 'National Cleaner Production Centre'))""",
        )
    )
    assert values(rows, "d") == {"1995"}


def test_national_centre_was_founded_in_december_1994_under_sepa_according_to_004(select):
    rows = select(
        in_source(
            "s004",
            """?c cp:foundingDate ?d ; cp:acronym "CNCPC" ;
        org:subOrganizationOf ?parent . ?parent cp:acronym "SEPA" .""",
        )
    )
    assert values(rows, "d") == {"1994-12"}


def test_both_founding_dates_of_the_national_centre_stand_side_by_side(select):
    rows = select(
        P
        + """SELECT ?d ?src WHERE { GRAPH ?g { ag:cncpc cp:foundingDate ?d }
        ?g prov:wasDerivedFrom ?src }"""
    )
    assert {(r["d"], r["src"]) for r in rows} == {("1995", SRC + "s000"), ("1994-12", SRC + "s004")}


@pytest.mark.parametrize(
    ("source", "status", "as_of"),
    [
        ("s002", "Passed", "2002-06-29"),
        ("s003", "Drafting", "2001"),
        ("s004", "InForce", "2003"),
    ],
)
def test_each_source_states_its_own_status_of_the_cp_promotion_law(select, source, status, as_of):
    rows = select(
        in_source(
            source,
            f"""?r a cp:StatusReport ;
        cp:statusOf ins:cp-promotion-law-2002 ; cp:legalStatus cp:{status} ; cp:asOf ?d .""",
        )
    )
    assert as_of in values(rows, "d")


def test_the_2001_report_expected_the_cp_law_by_march_2003(select):
    rows = select(
        in_source(
            "s003",
            """?r cp:statusOf ins:cp-promotion-law-2002 ;
        cp:legalStatus cp:Drafting ; cp:plannedDate ?p .""",
        )
    )
    assert values(rows, "p") == {"2003-03"}


def test_no_status_report_of_one_source_sits_in_another_sources_extract(select):
    rows = select(
        P
        + """SELECT ?r ?src WHERE {
        GRAPH ?g { ?r a cp:StatusReport } ?g prov:wasDerivedFrom ?src }"""
    )
    assert rows
    for r in rows:
        code = r["src"].rsplit("/", 1)[-1]
        assert f"-{code}-" in r["r"], r


# =============================================================================================
# 000: call for abstracts, 2015
# =============================================================================================


def test_abstracts_for_the_2015_workshop_were_due_on_30_july_2015(select):
    rows = select(
        in_source(
            "s000",
            """?d cp:partOf ev:cp-in-china-workshop-2015 ;
        cp:startDate ?date .""",
        )
    )
    assert values(rows, "date") == {"2015-07-30"}


@pytest.mark.parametrize(
    ("person", "organisation", "role"),
    [
        ("Lei Shi", "School of Environment, Tsinghua University", "associate professor"),
        (
            "Yutao Wang",
            "Institute of Ecology and Biodiversity, Shandong University",
            "assistant professor",
        ),
        (
            "Ning Duan",
            "Cleaner Production Engineering Technology Center, "
            "Research Academy of Environmental Sciences",
            "director",
        ),
        ("Ning Duan", "Chinese Academy of Engineering", "academician"),
    ],
)
def test_contacts_of_the_2015_call_with_their_posts(select, person, organisation, role):
    rows = select(
        in_source(
            "s000",
            f"""?m a org:Membership ; org:member ?p ;
        org:organization ?o ; org:role ?r .
        ?p rdfs:label "{person}"@en . ?o rdfs:label "{organisation}"@en .""",
        )
    )
    assert rows
    role_iris = " ".join(f"<{r}>" for r in values(rows, "r"))
    roles = select(P + f"SELECT ?l WHERE {{ VALUES ?r {{ {role_iris} }} ?r rdfs:label ?l }}")
    assert role in values(roles, "l")


@pytest.mark.parametrize(
    ("child", "parent"),
    [
        ("tsinghua-school-of-environment", "tsinghua-university"),
        ("sdu-institute-of-ecology-and-biodiversity", "shandong-university"),
        ("craes-cp-engineering-technology-center", "craes"),
    ],
)
def test_schools_and_centres_of_the_2015_contacts_belong_to_their_parents(select, child, parent):
    assert select(in_source("s000", f"ag:{child} org:subOrganizationOf ag:{parent} ."))


@pytest.mark.parametrize(
    "sector",
    [
        "iron-and-steel",
        "pulp-and-paper",
        "textiles",
        "leather",
        "metals",
        "cement",
        "plastics",
        "chemicals",
        "electronics",
        "renewable-energy",
        "smart-grid",
        "agriculture",
        "services",
    ],
)
def test_the_2015_workshop_covers_the_key_sectors_of_the_call(select, sector):
    assert select(
        in_source(
            "s000",
            f"""ev:cp-in-china-workshop-2015
        cp:concernsSector se:{sector} .""",
        )
    )


def test_the_2015_call_has_a_reading_list_of_thirteen_publications(select):
    rows = select(
        in_source(
            "s000",
            """src:s000 dcterms:references ?p .
        ?p dcterms:title ?t ; dcterms:issued ?y .""",
        )
    )
    assert len(values(rows, "p")) == 13


JCP = "Journal of Cleaner Production"


@pytest.mark.parametrize(
    ("title_start", "year", "journal", "first_author"),
    [
        ("Are lessons from eco-towns", "2015", JCP, "Bayulken"),
        ("An analysis of the original driving forces", "2013", JCP, "Dan"),
        ("Improving cleaner production through the application", "2007", JCP, "Dietmar"),
        ("Electrolytic manganese metal industry", "2011", JCP, "Duan"),
        (
            "Towards sustainability",
            "2005",
            "International Journal of Sustainable Development and World Ecology",
            "Fang",
        ),
        ("Regional initiatives on promoting cleaner production", "2010", JCP, "Geng"),
        ("Speeding up cleaner production", "2013", JCP, "Hong"),
        ("Application of cleaner production as an important", "2013", JCP, "Huang"),
        ("Clarifying the Concept of Product-Service System", "2002", JCP, "Mont"),
        ("China goes green", "2012", "Green Processing and Synthesis", "Yan"),
        ("Enterprises' willingness to adopt", "2013", JCP, "Zhang"),
        (
            "Policy mechanisms to promote cleaner production",
            "2000",
            "Journal of Environmental Science and Health, Part A",
            "Zhang",
        ),
    ],
)
def test_reading_list_articles_of_the_2015_call(select, title_start, year, journal, first_author):
    rows = select(
        in_source(
            "s000",
            f"""?p a cp:JournalArticle ; dcterms:title ?t ;
        dcterms:issued "{year}"^^xsd:gYear ; cp:venue ?j ; dcterms:creator ?a .
        ?j rdfs:label "{journal}"@en . ?a rdfs:label ?al .
        FILTER(STRSTARTS(?t, "{title_start}"))""",
        )
    )
    assert rows
    assert any(a.endswith(first_author) for a in values(rows, "al"))


def test_lindhqvist_2000_is_a_thesis_on_the_reading_list(select):
    rows = select(
        in_source(
            "s000",
            """?p a cp:Thesis ; dcterms:issued "2000"^^xsd:gYear ;
        dcterms:title ?t . FILTER(STRSTARTS(?t, "Extended Producer Responsibility"))""",
        )
    )
    assert rows


def test_the_2015_call_speaks_of_hundreds_of_colleges_and_thousands_of_enterprises(select):
    colleges = observation(select, "s000", "colleges-with-cp-education")
    enterprises = observation(select, "s000", "enterprises-with-cp-audits")
    assert has_figure(colleges, 100, "organisation", "AtLeast")
    assert has_figure(enterprises, 1000, "enterprise", "AtLeast")


def test_the_journal_of_cleaner_production_had_23_years_of_publication_in_2015(select):
    rows = observation(select, "s000", "years-of-journal-publication")
    assert has_figure(rows, 23, "year", "Exactly")


def test_the_2015_call_reviews_20_years_of_cleaner_production(select):
    rows = observation(select, "s000", "years-of-cp-practice")
    assert has_figure(rows, 20, "year", "Approximately")


# =============================================================================================
# 001: conference abstract, 2019
# =============================================================================================


def test_the_8th_advances_in_cp_workshop_was_in_sanya_13_to_15_november_2019(select):
    rows = select(
        in_source(
            "s001",
            """ev:iwacp-8-2019 cp:startDate ?s ; cp:endDate ?e ;
        cp:location pl:sanya ; cp:ordinal ?n .""",
        )
    )
    assert {(r["s"], r["e"], r["n"]) for r in rows} == {("2019-11-13", "2019-11-15", "8")}


def test_lei_shi_of_tsinghua_wrote_the_2019_abstract(select):
    assert select(
        in_source(
            "s001",
            """?m org:member pe:lei-shi ;
        org:organization ag:tsinghua-university .""",
        )
    )
    rows = select(P + f"SELECT ?c WHERE {{ <{SRC}s001> dcterms:creator ?c }}")
    assert values(rows, "c") == {ID + "person/lei-shi"}


def test_the_2019_abstract_reports_audits_in_ten_thousand_enterprises(select):
    rows = observation(select, "s001", "enterprises-with-cp-audits")
    assert has_figure(rows, 10000, "enterprise", "Approximately")


# =============================================================================================
# 002: journal paper, c. 2009
# =============================================================================================


@pytest.mark.parametrize(
    ("ordinal", "start", "end"),
    [
        (1, "1989", "1992"),
        (2, "1993", "2002"),
        (3, "2003", None),
    ],
)
def test_002_divides_the_history_into_three_stages(select, ordinal, start, end):
    rows = select(
        in_source(
            "s002",
            f"""?s a cp:HistoricalStage ; cp:inPeriodisation ?p ;
        cp:ordinal ?ord ; cp:startDate ?start . FILTER(?ord = {ordinal})
        OPTIONAL {{ ?s cp:endDate ?end }}""",
        )
    )
    assert values(rows, "start") == {start}
    assert values(rows, "end") == ({end} if end else set())
    stages = select(in_source("s002", "?s cp:inPeriodisation ?p ."))
    assert len(values(stages, "s")) == 3
    assert select(P + f"SELECT ?p WHERE {{ ?p cp:proposedIn <{SRC}s002> }}")


def test_002_stages_meet_one_after_the_other(select):
    rows = select(
        P
        + f"""SELECT DISTINCT ?na ?nb WHERE {{
        GRAPH ?g {{ ?a time:intervalMeets ?b }} ?g prov:wasDerivedFrom <{SRC}s002> .
        ?a cp:ordinal ?na . ?b cp:ordinal ?nb . }}"""
    )
    assert {(r["na"], r["nb"]) for r in rows} == {("1", "2"), ("2", "3")}


@pytest.mark.parametrize(
    ("printed", "corrected", "extract"),
    [
        ("1095", "1995", "s002/table1-1995"),
        ("1989 -1992", "1993-2002", "s002/section-2-2"),
    ],
)
def test_evident_copy_errors_of_002_are_recorded_as_corrections(
    select, printed, corrected, extract
):
    rows = select(
        P
        + f"""SELECT ?c WHERE {{ GRAPH <{CORRECTIONS}> {{
        ?c a cp:Correction ; cp:printedText "{printed}" ; cp:correctedText "{corrected}" ;
           cp:correctedExtract <https://w3id.org/cpgraph/graph/{extract}> ;
           rdfs:comment ?why }} }}"""
    )
    assert rows


def test_the_cp_law_was_passed_on_29_june_2002_by_the_28th_npc_standing_committee_meeting(select):
    rows = select(
        in_source(
            "s002",
            """ins:cp-promotion-law-2002 cp:issuedBy ?who ;
        cp:dateIssued "2002-06-29"^^xsd:date .
        ?who rdfs:label "Standing Committee of the National People's Congress"@en .""",
        )
    )
    assert rows
    meeting = select(
        in_source(
            "s002",
            """?m a cp:Meeting ; cp:ordinal ?ord ;
        cp:startDate "2002-06-29"^^xsd:date ; cp:organisedBy ag:npc-standing-committee .
        FILTER(?ord = 28)""",
        )
    )
    assert meeting


@pytest.mark.parametrize(
    ("year", "count", "issuer"),
    [
        ("2003", 3, "sepa"),
        ("2006", 15, "sepa"),
        ("2007", 9, "sepa"),
        ("2008", 15, "mep"),
    ],
)
def test_table1_of_002_lists_sector_cp_standards_by_year(select, year, count, issuer):
    rows = select(
        in_source(
            "s002",
            f"""?s a cp:Standard ; cp:dateIssued "{year}"^^xsd:gYear ;
        cp:issuedBy ag:{issuer} ; cp:concernsSector ?sector .""",
        )
    )
    assert len(values(rows, "s")) == count


def test_002_counts_42_cp_standards_by_the_end_of_2008_and_lists_as_many(select):
    listed = select(
        in_source(
            "s002",
            """?s a cp:Standard ; cp:concernsSector ?sector ;
        cp:dateIssued ?d .""",
        )
    )
    assert len(values(listed, "s")) == 42
    stated = observation(select, "s002", "cp-standards-issued")
    assert any(float(r["v"]) == 42 and r["end"] == "2008" for r in stated)


def test_002_says_7_professions_for_the_2007_standards_and_the_stated_count_is_kept(select):
    stated = observation(select, "s002", "cp-standards-issued")
    assert any(float(r["v"]) == 7 and r["end"] == "2007" for r in stated)


@pytest.mark.parametrize(
    ("sector", "year"),
    [
        ("petroleum-refining", "2003"),
        ("coking", "2003"),
        ("leather-pig-light-leather", "2003"),
        ("beer", "2006"),
        ("iron-and-steel", "2006"),
        ("iron-and-steel-plate-rolling", "2006"),
        ("electrolytic-manganese", "2007"),
        ("chinese-liquor", "2007"),
        ("tobacco-processing", "2007"),
        ("iron-and-steel-sintering", "2008"),
        ("calcium-carbide", "2008"),
        ("wine", "2008"),
    ],
)
def test_named_cp_standards_of_table1(select, sector, year):
    assert select(
        in_source(
            "s002",
            f"""?s a cp:Standard ; cp:concernsSector se:{sector} ;
        cp:dateIssued "{year}"^^xsd:gYear .""",
        )
    )


def test_sub_sector_standards_sit_under_their_sector(select):
    rows = select(P + "SELECT ?b WHERE { se:iron-and-steel-sintering skos:broader ?b }")
    assert values(rows, "b") == {ID + "sector/iron-and-steel"}


@pytest.mark.parametrize(
    ("when", "count", "issuers"),
    [
        ("2005-06", 3, {"ndrc", "sepa"}),
        ("2007-04", 7, {"ndrc"}),
    ],
)
def test_table1_of_002_lists_ten_evaluation_indicator_systems(select, when, count, issuers):
    rows = select(
        in_source(
            "s002",
            f"""?s a cp:IndicatorSystem ;
        cp:dateIssued "{when}"^^xsd:gYearMonth ; cp:issuedBy ?who ; cp:concernsSector ?x .""",
        )
    )
    assert len(values(rows, "s")) == count
    assert slugs(rows, "who") == issuers
    total = select(in_source("s002", "?s a cp:IndicatorSystem ; cp:concernsSector ?x ."))
    assert len(values(total, "s")) == 10


def test_the_interim_measures_on_cp_audit_date_from_16_august_2004_by_ndrc_and_sepa(select):
    rows = select(
        in_source(
            "s002",
            """ins:cp-audit-interim-measures-2004
        cp:dateIssued "2004-08-16"^^xsd:date ; cp:issuedBy ?who ; cp:establishes ?scheme .
        ?scheme a cp:AuditScheme .""",
        )
    )
    assert slugs(rows, "who") == {"ndrc", "sepa"}
    assert slugs(rows, "scheme") == {"voluntary-cp-audit", "compulsory-cp-audit"}


def test_mep_founded_the_assessment_and_acceptance_of_audits_in_july_2008(select):
    rows = select(
        in_source(
            "s002",
            """?n cp:issuedBy ag:mep ;
        cp:dateIssued "2008-07"^^xsd:gYearMonth ;
        cp:establishes ins:cp-audit-assessment-acceptance .""",
        )
    )
    assert len(values(rows, "n")) == 2


@pytest.mark.parametrize(
    ("instrument", "number"),
    [
        ("cp-audit-procedures-key-enterprises-2005", "UNCED [ 2005] 151"),
        ("notice-strengthening-cp-audit-key-enterprises-2008", "UNCED [2008] No. 60"),
        (
            "state-council-decision-scientific-development-2005",
            "National Development [2005] No. 39",
        ),
    ],
)
def test_document_numbers_are_kept_as_002_prints_them(select, instrument, number):
    assert select(in_source("s002", f'ins:{instrument} cp:documentNumber "{number}" .'))


def test_sepa_became_the_ministry_of_environmental_protection_according_to_002(select):
    rows = select(
        in_source(
            "s002",
            """?c a cp:OrganisationalChange ;
        org:originalOrganization ag:sepa ; org:resultingOrganization ag:mep .""",
        )
    )
    assert rows


def test_the_second_industrial_pollution_conference_was_in_shanghai_in_october_1993(select):
    rows = select(
        in_source(
            "s002",
            """?e cp:startDate "1993-10"^^xsd:gYearMonth ;
        cp:location pl:shanghai ; cp:ordinal ?ord ; cp:organisedBy ag:sepa , ag:setc .
        FILTER(?ord = 2)""",
        )
    )
    assert rows


@pytest.mark.parametrize(
    ("year", "issuer", "label_part"),
    [
        ("1992", "state-council", "Ten countermeasures"),
        ("1994", "state-council", "Agenda 21"),
        # 002 prints "National People's Congress Committee" without saying which committee.
        ("1995", "npc-committee", "Solid Waste"),
        ("1995", "npc-committee", "Air Pollution"),
        ("1996", "npc", "Water Pollution"),
        ("1998", "state-council", "construction projects"),
        ("1999", "setc", "demonstration"),
        ("2001", "state-council", "Five-Year"),
        ("2003", "state-council", "eleven ministries"),
        ("2007", "state-council", "energy saving and emission reduction"),
    ],
)
def test_table1_rows_of_002_have_their_year_and_administration(select, year, issuer, label_part):
    rows = select(
        in_source(
            "s002",
            f"""?i cp:issuedBy ag:{issuer} ;
        cp:dateIssued "{year}"^^xsd:gYear ; rdfs:label ?l .
        FILTER(CONTAINS(?l, "{label_part}"))""",
        )
    )
    assert rows


def test_sepa_signed_the_international_cleaner_production_declaration_in_1998(select):
    assert select(
        in_source(
            "s002",
            """?d a cp:Declaration ; cp:signedBy ag:sepa ;
        cp:dateIssued "1998"^^xsd:gYear .""",
        )
    )


def test_jiang_zemin_spoke_on_cleaner_production_in_march_2001(select):
    rows = select(
        in_source(
            "s002",
            """?s cp:issuedBy pe:jiang-zemin ;
        cp:dateIssued "2001-03"^^xsd:gYearMonth .
        ?e cp:participant pe:jiang-zemin ; cp:startDate "2001-03"^^xsd:gYearMonth .""",
        )
    )
    assert rows


def test_the_world_bank_b4_project_of_1992_was_the_first_cp_project_in_china(select):
    rows = select(
        in_source(
            "s002",
            """pr:world-bank-environment-ta-b4
        cp:startDate "1992"^^xsd:gYear ; cp:implementedBy ag:sepa ;
        cp:participant ag:world-bank , ag:unep .""",
        )
    )
    assert rows


@pytest.mark.parametrize(
    ("indicator", "value", "unit"),
    [
        ("electricity-saved", 3690000000, "kilowatt-hour"),
        ("coal-saved", 7040000, "tonne"),
        ("water-saved", 380000000, "tonne"),
        ("wastewater-reduced", 60462646700, "tonne"),
        ("cod-reduced", 95000, "tonne"),
        ("so2-reduced", 71000, "tonne"),
        ("economic-benefit-from-emission-reduction", 15200000000, "yuan"),
        ("economic-benefit-from-energy-and-consumption-saving", 5890000000, "yuan"),
        ("province-level-divisions-reporting", 33, "province-level-division"),
    ],
)
def test_002_reports_the_2007_results_of_cleaner_production(select, indicator, value, unit):
    rows = observation(select, "s002", indicator)
    assert has_figure(rows, value, unit, "Exactly")
    assert any(r["end"] == "2007" for r in rows)


@pytest.mark.parametrize(
    ("indicator", "value", "unit", "qualifier"),
    [
        ("persons-trained-as-cp-auditors", 8339, "person", "Exactly"),
        ("persons-trained-in-cp", 113505, "person", "Exactly"),
        ("cp-service-organisations", 300, "organisation", "MoreThan"),
        ("enterprises-with-cp-audits", 10000, "enterprise", "Approximately"),
        ("enterprises-with-cp-audits", 10000, "enterprise", "MoreThan"),
        ("industries-with-cp-audits", 20, "sector", "Approximately"),
        ("share-of-provinces-and-cities-auditing-key-enterprises", 95, "percent", "MoreThan"),
    ],
)
def test_002_reports_training_services_and_audit_figures(select, indicator, value, unit, qualifier):
    assert has_figure(observation(select, "s002", indicator), value, unit, qualifier)


def test_the_national_centre_trained_8339_auditors_from_2001_to_2007(select):
    rows = observation(select, "s002", "persons-trained-as-cp-auditors")
    assert {(r.get("start"), r["end"]) for r in rows} == {("2001", "2007")}


@pytest.mark.parametrize(
    "place",
    [
        "beijing",
        "guangdong",
        "gansu",
        "zhejiang",
        "sichuan",
        "jiangsu",
    ],
)
def test_provinces_that_chose_advisory_agencies_by_open_tender(select, place):
    assert select(in_source("s002", f"pr:cp-advisory-agency-tenders cp:coversPlace pl:{place} ."))


# =============================================================================================
# 003: CPWG report, 2001
# =============================================================================================


def test_cpwg_was_established_in_may_1997_according_to_the_2001_report(select):
    rows = select(
        in_source(
            "s003",
            """ag:cpwg cp:foundingDate "1997-05"^^xsd:gYearMonth ;
        org:unitOf ag:cciced ; cp:acronym "CPWG" .""",
        )
    )
    assert rows


@pytest.mark.parametrize(
    ("person", "organisation", "role"),
    [
        ("qian-yi", "cpwg", "co-chair"),
        ("qian-yi", "tsinghua-university", "professor"),
        ("tsugio-ide", "cpwg", "foreign-co-chair"),
        ("tsugio-ide", "keio-university", "professor"),
        ("katsuo-seiki", "cpwg", "foreign-co-chair"),
    ],
)
def test_cpwg_chairs_and_their_universities(select, person, organisation, role):
    assert select(
        in_source(
            "s003",
            f"""?m a org:Membership ; org:member pe:{person} ;
        org:organization ag:{organisation} ; org:role ro:{role} .""",
        )
    )


def test_katsuo_seiki_first_foreign_co_chair_served_until_1998_and_ide_followed(select):
    seiki = select(
        in_source(
            "s003",
            """?m org:member pe:katsuo-seiki ;
        org:organization ag:cpwg ; cp:endDate ?e .""",
        )
    )
    ide = select(
        in_source(
            "s003",
            """?m org:member pe:tsugio-ide ;
        org:organization ag:cpwg ; cp:startDate ?s .""",
        )
    )
    assert values(seiki, "e") == {"1998"}
    assert values(ide, "s") == {"1998"}


def test_twelve_experts_serve_on_the_cpwg(select):
    assert has_figure(observation(select, "s003", "working-group-experts"), 12, "person", "Exactly")


@pytest.mark.parametrize(
    ("ordinal", "start", "end"),
    [
        (1, None, "1993"),
        (2, "1993", "1999"),
        (3, "1999", "2003"),
        (4, "2003-03", None),
    ],
)
def test_003_divides_the_history_into_four_stages(select, ordinal, start, end):
    rows = select(
        in_source(
            "s003",
            f"""?s a cp:HistoricalStage ; cp:inPeriodisation ?p ;
        cp:ordinal ?ord . FILTER(?ord = {ordinal})
        OPTIONAL {{ ?s cp:startDate ?start }} OPTIONAL {{ ?s cp:endDate ?end }}""",
        )
    )
    assert values(rows, "start") == ({start} if start else set())
    assert values(rows, "end") == ({end} if end else set())
    assert len(values(select(in_source("s003", "?s cp:inPeriodisation ?p .")), "s")) == 4
    assert select(P + f"SELECT ?p WHERE {{ ?p cp:proposedIn <{SRC}s003> }}")


def test_first_cpwg_recommendations_reached_the_premier_in_november_1998(select):
    rows = select(
        in_source(
            "s003",
            """?r a cp:Recommendation ; cp:recommendedBy ag:cpwg ;
        cp:endorsedBy ag:cciced ; cp:dateIssued "1998-11"^^xsd:gYearMonth .""",
        )
    )
    assert rows


def test_the_1999_report_followed_cpwg_recommendations_that_003_does_not_date(select):
    # "Following recommendations made by the CPWG, Premier Zhu Rongji included ..." (section 1):
    # 003 does not say which recommendations, so the ones it names here carry no date.
    rows = select(
        in_source(
            "s003",
            """?r a cp:Recommendation ; cp:recommendedBy ag:cpwg ;
        cp:ledTo ins:government-work-report-1999 .
        OPTIONAL { ?r cp:dateIssued ?d }""",
        )
    )
    assert rows
    assert not values(rows, "d")


def test_premier_zhu_rongji_put_cleaner_production_in_the_march_1999_report(select):
    rows = select(
        in_source(
            "s003",
            """ins:government-work-report-1999
        cp:issuedBy pe:zhu-rongji ; cp:dateIssued "1999-03"^^xsd:gYearMonth .
        ?m org:member pe:zhu-rongji ; org:role ro:premier .""",
        )
    )
    assert rows


@pytest.mark.parametrize(
    "city",
    [
        "beijing",
        "shanghai",
        "tianjin",
        "chongqing",
        "shenyang",
        "taiyuan",
        "jinan",
        "kunming",
        "lanzhou",
        "fuyang",
    ],
)
def test_the_may_1999_setc_notice_named_ten_demonstration_cities(select, city):
    assert select(
        in_source(
            "s003",
            f"""?n cp:issuedBy ag:setc ;
        cp:dateIssued "1999-05"^^xsd:gYearMonth ; cp:establishes ?p .
        ?p cp:coversPlace pl:{city} .""",
        )
    )


@pytest.mark.parametrize(
    "sector",
    [
        "petrochemicals",
        "chemicals",
        "metallurgy",
        "light-industry",
        "shipbuilding",
    ],
)
def test_the_may_1999_setc_notice_named_five_demonstration_sectors(select, sector):
    assert select(
        in_source(
            "s003",
            f"""?n cp:issuedBy ag:setc ; cp:establishes ?p .
        ?p cp:coversSector se:{sector} .""",
        )
    )


def test_the_demonstration_covers_exactly_ten_cities_and_five_sectors(select):
    rows = select(
        in_source(
            "s003",
            """pr:cp-demonstration-ten-cities-five-sectors
        cp:coversPlace ?c ; cp:coversSector ?s .""",
        )
    )
    assert len(values(rows, "c")) == 10
    assert len(values(rows, "s")) == 5


def test_taiyuan_programme_began_in_march_1999_and_its_law_took_effect_in_april_2000(select):
    prog = select(
        in_source(
            "s003",
            """pr:taiyuan-city-cp-programme
        cp:startDate "1999-03"^^xsd:gYearMonth ; cp:producedInstrument ?i .""",
        )
    )
    assert len(values(prog, "i")) == 3
    law = select(
        in_source(
            "s003",
            """?l a cp:Law ; cp:dateInForce "2000-04"^^xsd:gYearMonth ;
        cp:jurisdiction pl:taiyuan .""",
        )
    )
    assert law


def test_the_cp_index_system_was_researched_by_three_institutes(select):
    rows = select(
        in_source(
            "s003",
            """pr:cp-index-system-research cp:implementedBy ?who ;
        cp:initiatedBy ag:cpwg .""",
        )
    )
    assert slugs(rows, "who") == {
        "shanxi-university",
        "tsinghua-university",
        "research-institute-of-radiation-prevention",
    }
    assert select(
        in_source(
            "s003",
            """ag:research-institute-of-radiation-prevention
        org:subOrganizationOf ag:chinese-academy-of-sciences .""",
        )
    )


@pytest.mark.parametrize(
    ("indicator", "value", "unit"),
    [
        ("workshops-and-training-courses", 8, "event"),
        ("national-seminars", 3, "event"),
        ("international-seminars", 1, "event"),
        ("national-conferences", 3, "event"),
        ("international-conferences", 1, "event"),
        ("types-of-measures-proposed", 11, "measure-type"),
    ],
)
def test_003_counts_the_cpwg_activities(select, indicator, value, unit):
    assert has_figure(observation(select, "s003", indicator), value, unit, "Exactly")


def test_the_cpwg_made_eight_suggestions_in_2001(select):
    rows = select(
        in_source(
            "s003",
            """?r a cp:Recommendation ; cp:recommendedBy ag:cpwg ;
        cp:dateIssued "2001"^^xsd:gYear .""",
        )
    )
    assert len(values(rows, "r")) == 8


def test_the_cpwg_programme_of_work_has_six_areas_and_japanese_funding(select):
    areas = select(
        in_source(
            "s003",
            """?a cp:partOf pr:cpwg-programme-of-work ;
        cp:implementedBy ag:cpwg .""",
        )
    )
    assert len(values(areas, "a")) >= 6
    funders = select(in_source("s003", "pr:cpwg-programme-of-work cp:fundedBy ?f ."))
    assert ID + "org/gispri" in values(funders, "f")


def test_the_2001_report_names_jilin_chemical_company(select):
    assert select(in_source("s003", "ag:jilin-chemical-company a cp:Enterprise ."))


# =============================================================================================
# 004: conference abstract, c. 2008
# =============================================================================================


@pytest.mark.parametrize(
    ("indicator", "value", "unit"),
    [
        ("sectors-covered", 10, "sector"),
        ("cities-covered", 100, "city"),
        ("enterprises-implementing-cp", 1000, "enterprise"),
        ("persons-trained-in-cp", 10000, "person"),
    ],
)
def test_targets_of_the_1995_ten_hundred_thousand_ten_thousand_programme(
    select, indicator, value, unit
):
    rows = select(
        in_source(
            "s004",
            f"""
        ?o cp:observedEntity pr:cncpc-ten-hundred-thousand-ten-thousand ;
           cp:indicator ind:{indicator} ; cp:value ?v ; cp:unit un:{unit} ;
           cp:observationKind cp:Target .""",
        )
    )
    assert {float(r["v"]) for r in rows} == {value}
    assert select(
        in_source(
            "s004",
            """pr:cncpc-ten-hundred-thousand-ten-thousand
        cp:startDate "1995"^^xsd:gYear ; cp:initiatedBy ag:cncpc .""",
        )
    )


def test_the_cp_law_came_into_force_in_2003_according_to_004(select):
    assert select(
        in_source(
            "s004",
            """ins:cp-promotion-law-2002
        cp:dateInForce "2003"^^xsd:gYear .""",
        )
    )


def test_key_enterprises_pledged_a_20_percent_energy_intensity_cut_in_2007(select):
    rows = observation(select, "s004", "energy-intensity-reduction")
    assert has_figure(rows, 20, "percent", "Exactly", kind="Target")


def test_unep_and_unido_began_their_ncpc_programme_in_1994(select):
    rows = select(
        in_source(
            "s004",
            """?p cp:startDate "1994"^^xsd:gYear ;
        cp:initiatedBy ag:unep , ag:unido .""",
        )
    )
    assert rows


@pytest.mark.parametrize(
    ("person", "organisation", "role"),
    [
        ("wen-jiabao", "state-council", "premier"),
        ("wen-jiabao", "energy-efficiency-ghg-task-force", "head"),
        ("stephen-tsang", "kadoorie-institute", "affiliate"),
    ],
)
def test_people_named_in_004_with_their_posts(select, person, organisation, role):
    assert select(
        in_source(
            "s004",
            f"""?m org:member pe:{person} ;
        org:organization ag:{organisation} ; org:role ro:{role} .""",
        )
    )


@pytest.mark.parametrize("treaty", ["montreal-protocol", "kyoto-protocol"])
def test_004_names_the_montreal_and_kyoto_protocols(select, treaty):
    assert select(in_source("s004", f"ins:{treaty} a cp:Treaty ."))
