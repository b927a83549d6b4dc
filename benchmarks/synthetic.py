"""A deterministic synthetic cpgraph graph at national scale, streamed as N-Quads.

Enterprises in cities and provinces and sectors; yearly cleaner-production audits of them,
voluntary and compulsory, each with its observed results; standards and indicator systems per
sector; audit schemes and provincial notices issued by actors; and contributions. It conforms to
``ontology/`` and ``shapes/`` and keeps the shipped data's provenance: every statement in a named
graph, a synthetic source document with one extract per province register and per province-year,
curation graphs for the vocabularies and places, and audits from 2021 on reported in contribution
graphs described with PROV.

One parameter sets the size: enterprises are generated until the target number of statements is
reached, so enterprises, audits and observations grow in proportion to it. Each enterprise's
attributes come from its own seeded generator, so the same seed gives the same bytes, and
:func:`contribution_nquads` can make a new contribution about enterprises already in a graph.

    python benchmarks/synthetic.py --triples 1000000 --seed 1 --out var/bench/synthetic-1m.nq.gz
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import random
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

BASE = "https://w3id.org/cpgraph/"
CP = "https://w3id.org/cpgraph/ontology#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
PROV = "http://www.w3.org/ns/prov#"
DCTERMS = "http://purl.org/dc/terms/"
QB = "http://purl.org/linked-data/cube#"
XSD = "http://www.w3.org/2001/XMLSchema#"

FIRST_YEAR = 2004
LAST_YEAR = 2023
CONTRIBUTED_FROM = 2021  # audits from this year on arrive as contributions
CITIES_PER_PROVINCE = 10

PROVINCES = (
    "Anhui",
    "Beijing",
    "Chongqing",
    "Fujian",
    "Gansu",
    "Guangdong",
    "Guangxi",
    "Guizhou",
    "Hainan",
    "Hebei",
    "Heilongjiang",
    "Henan",
    "Hubei",
    "Hunan",
    "Inner Mongolia",
    "Jiangsu",
    "Jiangxi",
    "Jilin",
    "Liaoning",
    "Ningxia",
    "Qinghai",
    "Shaanxi",
    "Shandong",
    "Shanghai",
    "Shanxi",
    "Sichuan",
    "Tianjin",
    "Tibet",
    "Xinjiang",
    "Yunnan",
    "Zhejiang",
)
SECTORS = (
    "iron and steel",
    "cement",
    "pulp and paper",
    "chemicals",
    "textiles",
    "tanning",
    "electroplating",
    "coking",
    "non-ferrous metals",
    "thermal power",
    "brewing",
    "sugar",
    "pharmaceuticals",
    "glass",
    "ceramics",
    "fertiliser",
    "petroleum refining",
    "dyeing",
    "food processing",
    "printed circuit boards",
    "batteries",
    "coal mining",
    "building materials",
    "automobile manufacturing",
)
# (slug, label, definition, unit slug, typical value)
INDICATORS = (
    (
        "syn-audit-energy-saved",
        "energy saved by an audit's options",
        "Electricity saved in a year by the options an audit implemented.",
        "kilowatt-hour",
        2.0e6,
    ),
    (
        "syn-audit-water-saved",
        "water saved by an audit's options",
        "Fresh water saved in a year by the options an audit implemented.",
        "tonne",
        5.0e4,
    ),
    (
        "syn-audit-investment",
        "investment in an audit's options",
        "Money spent on the options an audit implemented.",
        "yuan",
        1.5e6,
    ),
)
UNITS = {
    "kilowatt-hour": ("kilowatt-hour", "kWh", "http://qudt.org/vocab/unit/KiloW-HR"),
    "tonne": ("tonne", "t", "http://qudt.org/vocab/unit/TONNE"),
    "yuan": ("yuan (renminbi)", "CNY", None),
}


def slug(text: str) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def iri(path: str) -> str:
    return f"<{BASE}{path}>"


def lit(text: str, *, lang: str | None = None, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{XSD}{datatype}>'
    return f'"{escaped}"'


A = f"<{RDF_TYPE}>"
LABEL = f"<{RDFS}label>"
COMMENT = f"<{RDFS}comment>"


def cp(local: str) -> str:
    return f"<{CP}{local}>"


def en(text: str) -> str:
    return lit(text, lang="en")


@dataclass
class Stats:
    """What a generation wrote."""

    seed: int
    target: int
    triples: int = 0
    enterprises: int = 0
    audits: int = 0
    observations: int = 0
    graphs: int = 0
    contributions: int = 0
    sample_enterprise: str = ""
    sample_sector: str = ""
    sample_year: int = 0
    extra: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Enterprise:
    """One synthetic enterprise and its audits, derived from the seed and its number alone."""

    number: int
    province: int
    city: int
    sector: int
    founded: int
    audits: tuple[tuple[int, bool, bool], ...]  # (year, compulsory, by the provincial centre)

    @classmethod
    def derive(cls, seed: int, number: int) -> Enterprise:
        rng = random.Random(seed * 1_000_003 + number)
        province = rng.randrange(len(PROVINCES))
        founded = rng.randint(1970, 2015)
        first = max(FIRST_YEAR, founded + 1)
        count = min(rng.choice((1, 1, 2, 2, 2, 3, 3)), LAST_YEAR - first + 1)
        years = sorted(rng.sample(range(first, LAST_YEAR + 1), count))
        audits = tuple((y, rng.random() < 0.4, rng.random() < 0.7) for y in years)
        return cls(
            number,
            province,
            rng.randrange(CITIES_PER_PROVINCE),
            rng.randrange(len(SECTORS)),
            founded,
            audits,
        )

    @property
    def path(self) -> str:
        return f"id/org/syn-enterprise-{self.number:07d}"


def province_path(p: int) -> str:
    return f"id/place/syn-{slug(PROVINCES[p])}"


def city_path(p: int, c: int) -> str:
    return f"id/place/syn-{slug(PROVINCES[p])}-prefecture-{c + 1:02d}"


def sector_path(s: int) -> str:
    return f"id/sector/syn-{slug(SECTORS[s])}"


def centre_path(p: int) -> str:
    return f"id/org/syn-{slug(PROVINCES[p])}-cp-centre"


def department_path(p: int) -> str:
    return f"id/org/syn-{slug(PROVINCES[p])}-environment-department"


MINISTRY = "id/org/syn-national-environment-ministry"
CURATORS = "id/org/cpgraph-curators"
SOURCE = "id/source/syn"
VOLUNTARY = "id/instrument/syn-voluntary-cp-audit"
COMPULSORY = "id/instrument/syn-compulsory-cp-audit"


class Writer:
    """N-Quads out, counting statements and hashing each contribution graph's lines."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.count = 0
        self.hashes: dict[str, hashlib._Hash] = {}

    def quad(self, s: str, p: str, o: str, g: str) -> None:
        line = f"{s} {p} {o} {g} .\n"
        self.out.write(line)
        self.count += 1
        digest = self.hashes.get(g)
        if digest is not None:
            digest.update(line.encode())


def _audit(w: Writer, e: Enterprise, year: int, compulsory: bool, by_centre: bool, g: str) -> int:
    """One audit and its three observations in graph ``g``; returns the observations written."""
    audit = iri(f"id/audit/syn-enterprise-{e.number:07d}-{year}")
    kind = "compulsory" if compulsory else "voluntary"
    w.quad(audit, A, cp("Audit"), g)
    w.quad(
        audit,
        LABEL,
        en(f"Cleaner-production audit of synthetic enterprise {e.number}, {year} ({kind})"),
        g,
    )
    w.quad(audit, cp("auditedEnterprise"), iri(e.path), g)
    w.quad(audit, cp("underScheme"), iri(COMPULSORY if compulsory else VOLUNTARY), g)
    w.quad(audit, cp("startDate"), lit(str(year), datatype="gYear"), g)
    if by_centre:
        w.quad(audit, cp("auditor"), iri(centre_path(e.province)), g)
    rng = random.Random(f"{e.number}-{year}")
    for ind_slug, ind_label, _, unit, typical in INDICATORS:
        obs = iri(f"id/observation/syn-enterprise-{e.number:07d}-{year}-{ind_slug[10:]}")
        w.quad(obs, A, cp("Observation"), g)
        w.quad(
            obs, LABEL, en(f"{ind_label.capitalize()}, synthetic enterprise {e.number}, {year}"), g
        )
        w.quad(obs, f"<{QB}dataSet>", iri("id/dataset/reported-figures"), g)
        w.quad(obs, cp("indicator"), iri(f"id/indicator/{ind_slug}"), g)
        value = round(typical * rng.lognormvariate(0, 0.8))
        w.quad(obs, cp("value"), lit(str(value), datatype="decimal"), g)
        w.quad(obs, cp("unit"), iri(f"id/unit/{unit}"), g)
        w.quad(obs, cp("valueQualifier"), cp("Exactly"), g)
        w.quad(obs, cp("observationKind"), cp("Reported"), g)
        w.quad(obs, cp("periodEnd"), lit(str(year), datatype="gYear"), g)
        w.quad(obs, cp("refArea"), iri(province_path(e.province)), g)
        w.quad(obs, cp("observedEntity"), audit, g)
        w.quad(obs, cp("concernsSector"), iri(sector_path(e.sector)), g)
    return len(INDICATORS)


def _fixed(w: Writer, seed: int) -> None:
    """Source record, vocabularies, places, actors and instruments: the same at every size."""
    g = iri("graph/curation/syn-sources")
    w.quad(g, A, cp("CurationGraph"), g)
    w.quad(g, f"<{PROV}wasAttributedTo>", iri(CURATORS), g)
    w.quad(
        g,
        COMMENT,
        en(
            "The record of the synthetic source document that the benchmarks' "
            "generated graph stands on."
        ),
        g,
    )
    w.quad(iri(CURATORS), A, cp("Organisation"), g)
    w.quad(iri(CURATORS), LABEL, en("cpgraph curators"), g)
    src = iri(SOURCE)
    for t in ("Report", "SourceDocument"):
        w.quad(src, A, cp(t), g)
    w.quad(src, LABEL, en("Synthetic national register of cleaner-production audits"), g)
    w.quad(
        src, f"<{DCTERMS}title>", en("Synthetic national register of cleaner-production audits"), g
    )
    w.quad(src, f"<{DCTERMS}issued>", lit("2024", datatype="gYear"), g)
    w.quad(src, cp("seedFile"), lit(f"synthetic-seed-{seed}"), g)
    w.quad(
        src,
        COMMENT,
        en(
            "Generated by benchmarks/synthetic.py for measuring cpgraph at "
            "scale; no statement in it is a fact about a real enterprise."
        ),
        g,
    )

    g = iri("graph/curation/syn-vocabularies")
    w.quad(g, A, cp("CurationGraph"), g)
    w.quad(g, f"<{PROV}wasAttributedTo>", iri(CURATORS), g)
    w.quad(
        g,
        COMMENT,
        en("Sectors, indicators, units and the reported-figures data set of the synthetic graph."),
        g,
    )
    w.quad(iri(CURATORS), A, cp("Organisation"), g)
    w.quad(iri(CURATORS), LABEL, en("cpgraph curators"), g)
    in_scheme = f"<{SKOS}inScheme>"
    scheme = iri("id/scheme/sectors")
    w.quad(scheme, A, f"<{SKOS}ConceptScheme>", g)
    w.quad(scheme, LABEL, en("cpgraph sectors"), g)
    industry = iri("id/sector/syn-industry")
    w.quad(industry, A, cp("Sector"), g)
    w.quad(industry, LABEL, en("industry (synthetic)"), g)
    w.quad(industry, in_scheme, scheme, g)
    w.quad(industry, f"<{SKOS}topConceptOf>", scheme, g)
    for s, name in enumerate(SECTORS):
        node = iri(sector_path(s))
        w.quad(node, A, cp("Sector"), g)
        w.quad(node, LABEL, en(f"{name} (synthetic)"), g)
        w.quad(node, in_scheme, scheme, g)
        w.quad(node, f"<{SKOS}broader>", industry, g)
    scheme = iri("id/scheme/indicators")
    w.quad(scheme, A, f"<{SKOS}ConceptScheme>", g)
    w.quad(scheme, LABEL, en("cpgraph indicators"), g)
    for ind_slug, label, definition, _, _ in INDICATORS:
        node = iri(f"id/indicator/{ind_slug}")
        w.quad(node, A, cp("Indicator"), g)
        w.quad(node, LABEL, en(label), g)
        w.quad(node, in_scheme, scheme, g)
        w.quad(node, f"<{SKOS}definition>", en(definition), g)
    scheme = iri("id/scheme/units")
    w.quad(scheme, A, f"<{SKOS}ConceptScheme>", g)
    w.quad(scheme, LABEL, en("cpgraph units"), g)
    for unit, (label, notation, qudt) in UNITS.items():
        node = iri(f"id/unit/{unit}")
        w.quad(node, A, cp("Unit"), g)
        w.quad(node, LABEL, en(label), g)
        w.quad(node, in_scheme, scheme, g)
        w.quad(node, f"<{SKOS}notation>", lit(notation), g)
        if qudt:
            w.quad(node, f"<{SKOS}exactMatch>", f"<{qudt}>", g)
    ds = iri("id/dataset/reported-figures")
    w.quad(ds, A, f"<{QB}DataSet>", g)
    w.quad(ds, LABEL, en("Reported figures"), g)
    w.quad(ds, f"<{QB}structure>", cp("ReportedFiguresStructure"), g)

    g = iri("graph/curation/syn-places")
    w.quad(g, A, cp("CurationGraph"), g)
    w.quad(g, f"<{PROV}wasAttributedTo>", iri(CURATORS), g)
    w.quad(
        g,
        COMMENT,
        en("Synthetic provinces and prefectures of the generated graph, nested in China."),
        g,
    )
    w.quad(iri(CURATORS), A, cp("Organisation"), g)
    w.quad(iri(CURATORS), LABEL, en("cpgraph curators"), g)
    china = iri("id/place/china")
    w.quad(china, A, cp("Country"), g)
    w.quad(china, LABEL, en("China"), g)
    for p, name in enumerate(PROVINCES):
        node = iri(province_path(p))
        w.quad(node, A, cp("Province"), g)
        w.quad(node, LABEL, en(f"{name} (synthetic)"), g)
        w.quad(node, cp("locatedIn"), china, g)
        for c in range(CITIES_PER_PROVINCE):
            city = iri(city_path(p, c))
            w.quad(city, A, cp("City"), g)
            w.quad(city, LABEL, en(f"{name} prefecture {c + 1} (synthetic)"), g)
            w.quad(city, cp("locatedIn"), node, g)

    g = iri("graph/syn/actors-and-instruments")
    _extract(w, g, "List of the bodies and the national instruments")
    ministry = iri(MINISTRY)
    w.quad(ministry, A, cp("GovernmentBody"), g)
    w.quad(ministry, LABEL, en("National environment ministry (synthetic)"), g)
    for scheme_path, label, year in (
        (VOLUNTARY, "Voluntary cleaner-production audit", "2004"),
        (COMPULSORY, "Compulsory cleaner-production audit", "2004"),
    ):
        node = iri(scheme_path)
        w.quad(node, A, cp("AuditScheme"), g)
        w.quad(node, LABEL, en(f"{label} (synthetic)"), g)
        w.quad(node, cp("issuedBy"), ministry, g)
        w.quad(node, cp("dateIssued"), lit(year, datatype="gYear"), g)
        w.quad(node, COMMENT, en("The scheme under which the synthetic audits are done."), g)
    for s, name in enumerate(SECTORS):
        for kind, cls in (("standard", "Standard"), ("indicator-system", "IndicatorSystem")):
            node = iri(f"id/instrument/syn-{kind}-{slug(name)}")
            w.quad(node, A, cp(cls), g)
            w.quad(
                node,
                LABEL,
                en(f"Cleaner-production {kind.replace('-', ' ')} for {name} (synthetic)"),
                g,
            )
            w.quad(node, cp("issuedBy"), ministry, g)
            w.quad(node, cp("dateIssued"), lit(str(2003 + s % 12), datatype="gYear"), g)
            w.quad(node, cp("concernsSector"), iri(sector_path(s)), g)
            w.quad(node, COMMENT, en(f"What cleaner production means for {name}."), g)
    for p, name in enumerate(PROVINCES):
        for path, cls, label in (
            (department_path(p), "GovernmentBody", f"{name} environment department (synthetic)"),
            (
                centre_path(p),
                "CleanerProductionCentre",
                f"{name} cleaner production centre (synthetic)",
            ),
        ):
            node = iri(path)
            w.quad(node, A, cp(cls), g)
            w.quad(node, LABEL, en(label), g)
            w.quad(node, cp("basedIn"), iri(city_path(p, 0)), g)


def _extract(w: Writer, g: str, locator: str) -> None:
    w.quad(g, A, cp("SourceExtract"), g)
    w.quad(g, f"<{PROV}wasDerivedFrom>", iri(SOURCE), g)
    w.quad(g, cp("locator"), lit(locator), g)


def _year_graph(w: Writer, seen: set[str], p: int, year: int) -> str:
    """The graph of a province-year's audits, described (and its notice written) on first use."""
    if year >= CONTRIBUTED_FROM:
        g = iri(f"graph/contribution/syn-{slug(PROVINCES[p])}-{year}")
        if g not in seen:
            seen.add(g)
            w.hashes[g] = hashlib.sha256()
        return g
    g = iri(f"graph/syn/{slug(PROVINCES[p])}-{year}")
    if g not in seen:
        seen.add(g)
        _extract(w, g, f"Audits in {PROVINCES[p]}, {year}")
        notice = iri(f"id/instrument/syn-{slug(PROVINCES[p])}-audit-notice-{year}")
        w.quad(notice, A, cp("Notice"), g)
        w.quad(
            notice,
            LABEL,
            en(f"Notice on cleaner-production audits in {PROVINCES[p]}, {year} (synthetic)"),
            g,
        )
        w.quad(notice, cp("issuedBy"), iri(department_path(p)), g)
        w.quad(notice, cp("dateIssued"), lit(str(year), datatype="gYear"), g)
        w.quad(notice, cp("jurisdiction"), iri(province_path(p)), g)
        w.quad(notice, cp("implements"), iri(COMPULSORY), g)
        w.quad(notice, COMMENT, en("Lists the enterprises due for a compulsory audit."), g)
    return g


def _describe_contribution(w: Writer, g: str, p: int, year: int) -> None:
    digest = w.hashes.pop(g).hexdigest()
    w.quad(g, A, cp("Contribution"), g)
    w.quad(g, f"<{PROV}wasAttributedTo>", iri(centre_path(p)), g)
    w.quad(
        g, f"<{PROV}generatedAtTime>", lit(f"{year + 1}-03-01T09:00:00Z", datatype="dateTime"), g
    )
    w.quad(g, cp("contentHash"), lit(f"sha256:{digest}"), g)
    w.quad(g, f"<{DCTERMS}source>", iri(SOURCE), g)
    w.quad(
        g,
        COMMENT,
        en(
            f"Audits in {PROVINCES[p]} in {year}, reported by the provincial "
            "cleaner production centre (synthetic)."
        ),
        g,
    )
    w.quad(iri(centre_path(p)), A, cp("CleanerProductionCentre"), g)
    w.quad(
        iri(centre_path(p)), LABEL, en(f"{PROVINCES[p]} cleaner production centre (synthetic)"), g
    )


def write_graph(out: IO[str], *, triples: int, seed: int) -> Stats:
    """Write a synthetic graph of about ``triples`` statements to ``out``, as N-Quads."""
    w = Writer(out)
    stats = Stats(seed=seed, target=triples)
    _fixed(w, seed)
    seen: set[str] = set()
    registers: set[int] = set()
    number = 0
    # each open contribution graph still owes its 8-statement description at the end
    while w.count + 8 * len(w.hashes) < triples or number == 0:
        e = Enterprise.derive(seed, number)
        g = iri(f"graph/syn/register-{slug(PROVINCES[e.province])}")
        if e.province not in registers:
            registers.add(e.province)
            seen.add(g)
            _extract(w, g, f"Register of audited enterprises, {PROVINCES[e.province]}")
        node = iri(e.path)
        w.quad(node, A, cp("Enterprise"), g)
        w.quad(
            node,
            LABEL,
            en(f"Synthetic enterprise {e.number} ({SECTORS[e.sector]}, {PROVINCES[e.province]})"),
            g,
        )
        w.quad(node, cp("basedIn"), iri(city_path(e.province, e.city)), g)
        w.quad(node, cp("inSector"), iri(sector_path(e.sector)), g)
        w.quad(node, cp("foundingDate"), lit(str(e.founded), datatype="gYear"), g)
        for year, compulsory, by_centre in e.audits:
            graph = _year_graph(w, seen, e.province, year)
            stats.observations += _audit(w, e, year, compulsory, by_centre, graph)
            stats.audits += 1
        number += 1
    for g in sorted(w.hashes):
        name = g.rsplit("/", 1)[1][:-1]  # syn-{province}-{year}
        year = int(name.rsplit("-", 1)[1])
        province = next(
            p for p in range(len(PROVINCES)) if name == f"syn-{slug(PROVINCES[p])}-{year}"
        )
        _describe_contribution(w, g, province, year)
        stats.contributions += 1
    stats.triples = w.count
    stats.enterprises = number
    stats.graphs = len(seen) + 4
    middle = Enterprise.derive(seed, number // 2)
    stats.sample_enterprise = BASE + middle.path
    stats.sample_sector = BASE + sector_path(middle.sector)
    stats.sample_year = middle.audits[0][0]
    return stats


def generate(path: Path, *, triples: int, seed: int = 1) -> Stats:
    """Write the synthetic graph to ``path`` (``.nq``, or ``.nq.gz`` gzipped reproducibly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as raw:
        if path.name.endswith(".gz"):
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped,
                io.TextIOWrapper(zipped, encoding="utf-8", newline="\n") as text,
            ):
                return write_graph(text, triples=triples, seed=seed)
        with io.TextIOWrapper(raw, encoding="utf-8", newline="\n") as text:
            return write_graph(text, triples=triples, seed=seed)


def contribution_nquads(
    *, enterprises: int, seed: int = 1, triples: int = 1000, year: int = 2024
) -> str:
    """A new contribution graph of about ``triples`` statements, as N-Quads: ``year``'s audits
    of enterprises already in the graph that ``seed`` generated with ``enterprises`` of them.

    It is the kind of graph a provincial centre would contribute, and is valid only together
    with the graph it refers to (its audits name enterprises, schemes and places there).
    """
    out = io.StringIO()
    w = Writer(out)
    rng = random.Random(f"contribution-{seed}-{year}")
    g = iri(f"graph/contribution/syn-sample-{seed}-{year}")
    w.hashes[g] = hashlib.sha256()
    province = Enterprise.derive(seed, 0).province
    per_audit = 6 + 12 * len(INDICATORS)
    done: set[int] = set()
    while w.count + per_audit + 8 <= triples and len(done) < enterprises:
        number = rng.randrange(enterprises)
        if number in done:
            continue
        done.add(number)
        e = Enterprise.derive(seed, number)
        _audit(w, e, year, rng.random() < 0.4, True, g)
    # the contributor is the centre of the first enterprise's province
    _describe_contribution(w, g, province, year)
    return out.getvalue()


def iter_sizes(text: str) -> Iterator[int]:
    """Sizes such as ``100k``, ``1M`` or ``2500000``."""
    for part in text.replace(",", " ").split():
        scale = {"k": 1_000, "m": 1_000_000}.get(part[-1].lower(), 1)
        yield int(float(part[:-1] if scale > 1 else part) * scale)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--triples", required=True, help="about how many statements (100k, 1M)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="FILE.nq or FILE.nq.gz")
    args = parser.parse_args(argv)
    stats = generate(args.out, triples=next(iter_sizes(args.triples)), seed=args.seed)
    print({k: v for k, v in asdict(stats).items() if k != "extra"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
