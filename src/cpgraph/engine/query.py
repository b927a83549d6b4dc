"""Running SPARQL queries and choosing their result format.

Shared by the CLI (``cpgraph query``) and the HTTP endpoint: format names, content
negotiation on an Accept header, and a readable text table for terminals.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Sequence
from typing import IO, NamedTuple

import pyoxigraph as ox

from cpgraph.config import Settings
from cpgraph.errors import NotAcceptableError
from cpgraph.rdf.io import RdfFormat
from cpgraph.rdf.namespaces import prefixes
from cpgraph.store.embedded import QueryKind, QueryResult, ResultsFormat, open_current


class QueryFormat(enum.Enum):
    """Output formats by their short name, as the CLI's ``--format`` and ``?format=`` take them."""

    TABLE = "table"
    JSON = "json"
    XML = "xml"
    CSV = "csv"
    TSV = "tsv"
    TURTLE = "ttl"
    N_TRIPLES = "nt"
    N_QUADS = "nq"
    TRIG = "trig"
    JSON_LD = "jsonld"
    RDF_XML = "rdf"

    def concrete(self, kind: QueryKind) -> ResultsFormat | RdfFormat | None:
        """The serialisation this name stands for, given the kind of result (None: a table).

        Raises:
            NotAcceptableError: if the format cannot carry that kind of result.
        """
        if self is QueryFormat.TABLE:
            return None if kind is not QueryKind.GRAPH else RdfFormat.TURTLE
        if self.value in {f.value for f in ResultsFormat}:
            if kind is QueryKind.GRAPH:
                raise NotAcceptableError(
                    f"a CONSTRUCT or DESCRIBE result is RDF: choose one of "
                    f"{', '.join(f.value for f in RdfFormat)}, not {self.value}"
                )
            return ResultsFormat(self.value)
        if kind is not QueryKind.GRAPH:
            raise NotAcceptableError(
                f"a SELECT or ASK result is a table: choose one of "
                f"{', '.join(f.value for f in ResultsFormat)}, not {self.value}"
            )
        return RdfFormat(self.value)


RESULTS_MEDIA_TYPES: dict[str, ResultsFormat] = {
    "application/sparql-results+json": ResultsFormat.JSON,
    "application/json": ResultsFormat.JSON,
    "application/sparql-results+xml": ResultsFormat.XML,
    "application/xml": ResultsFormat.XML,
    "text/xml": ResultsFormat.XML,
    "text/csv": ResultsFormat.CSV,
    "text/tab-separated-values": ResultsFormat.TSV,
}
GRAPH_MEDIA_TYPES: dict[str, RdfFormat] = {
    "text/turtle": RdfFormat.TURTLE,
    "application/x-turtle": RdfFormat.TURTLE,
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,
    "application/n-quads": RdfFormat.N_QUADS,
    "application/trig": RdfFormat.TRIG,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/xml": RdfFormat.RDF_XML,
}
DEFAULTS: dict[QueryKind, ResultsFormat | RdfFormat] = {
    QueryKind.SOLUTIONS: ResultsFormat.JSON,
    QueryKind.BOOLEAN: ResultsFormat.JSON,
    QueryKind.GRAPH: RdfFormat.TURTLE,
}


_FINAL_LIMIT = re.compile(
    r"(?:\bOFFSET\s+\d+\s+)?\bLIMIT\s+(\d+)(?:\s+OFFSET\s+\d+)?\s*\Z", re.IGNORECASE
)


def limited_within(query: str, max_rows: int) -> bool:
    """Whether a query's own final ``LIMIT`` already keeps it within ``max_rows`` solutions.

    Then a row limit cannot cut it, and the result can be written straight in the format
    asked for instead of being counted on the way. Solution modifiers come last in SPARQL, so
    a LIMIT at the very end of the text belongs to the outermost query (a sub-select's is
    followed by its closing brace). Only the plain case is recognised: a ``#`` anywhere on
    the lines of that clause (a comment could hide it) or a trailing ``VALUES`` block means
    no, and the row limit is applied as usual.
    """
    if "limit" not in query.lower():
        return False  # cheaper than the search below
    match = _FINAL_LIMIT.search(query)
    if match is None:
        return False
    line_start = query.rfind("\n", 0, match.start()) + 1
    if "#" in query[line_start:]:
        return False
    return int(match.group(1)) <= max_rows


# One triple pattern, as a SELECT or an ASK: the shape :func:`single_scan` recognises. Only
# terms, whitespace, braces, a dot and the keywords: no comment, filter, path or modifier
# beyond LIMIT can hide in a text that matches.
_WS = r"[ \t\r\n]"
_VAR = r"[?$]\w+"
_IRIREF = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_PNAME = r"(?:[A-Za-z][\w.-]*)?:(?:\w(?:[\w.-]*[\w-])?)?"
_LITERAL = (
    r"(?:\"[^\"\\\r\n]*\"|'[^'\\\r\n]*')"
    rf"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(?:{_IRIREF}|{_PNAME}))?"
)
_SINGLE_SCAN = re.compile(
    rf"{_WS}*(?:(?:PREFIX{_WS}+(?:[A-Za-z][\w.-]*)?:{_WS}*{_IRIREF}|BASE{_WS}*{_IRIREF}){_WS}*)*"
    rf"(?:SELECT{_WS}+(?P<distinct>(?:DISTINCT|REDUCED){_WS}+)?(?:\*|(?P<vars>(?:{_VAR}{_WS}*)+))"
    rf"|(?P<ask>ASK)){_WS}*"
    rf"(?:WHERE{_WS}*)?\{{{_WS}*"
    rf"(?P<s>{_VAR}|{_IRIREF}|{_PNAME}){_WS}*"
    rf"(?P<p>{_VAR}|{_IRIREF}|{_PNAME}|a(?=[ \t\r\n<?$]))"
    rf"{_WS}*(?P<o>{_VAR}|{_IRIREF}|{_PNAME}|{_LITERAL})"
    rf"{_WS}*\.?{_WS}*\}}{_WS}*(?:LIMIT{_WS}+(?P<limit>\d+){_WS}*)?",
    re.IGNORECASE,
)


class SingleScan(NamedTuple):
    """What :func:`single_scan` found: an ASK or a SELECT, and the SELECT's LIMIT if any."""

    ask: bool
    limit: int | None


def single_scan(query: str) -> SingleScan | None:
    """The shape of a query that is one triple pattern, evaluated as a single scan of one
    index; None for any other query.

    Such a query (a SELECT, with a LIMIT or without, or an ASK, of one pattern whose variables
    are all different) yields its solutions at the pace of the scan: there is no step (a sort, a
    group, a filter, a join, an OFFSET) that works for long without output. DISTINCT (or
    REDUCED) is let in only when the SELECT keeps every variable of the pattern: a solution it
    drops is then a statement already answered. The union default graph is merged (see
    :mod:`cpgraph.store.embedded`), so nothing is dropped there; over graphs named by
    ``default-graph-uri``, which Oxigraph reads one after another, a statement is met again in
    another of them, so the scan reads at most as many statements per answered row as there are
    graphs. Projecting fewer variables could drop almost everything the scan reads (``SELECT
    DISTINCT ?p``).

    So such a query may be evaluated where it cannot be interrupted, provided its output is
    bounded (see :func:`cpgraph.engine.workers.answer_at_once`). Anything else, or any doubt, is
    None (a literal holding a parenthesis, a semicolon or a brace among them: such characters
    say at a glance, without the pattern, that most queries are no single scan). A text that
    matches but is not valid SPARQL is refused by the parser as usual.
    """
    if len(query) > 4096 or "(" in query or ";" in query or query.count("{") != 1:
        return None
    return _matched_scan(query)


@functools.lru_cache(maxsize=256)
def _matched_scan(query: str) -> SingleScan | None:
    """:func:`single_scan`'s match, remembered for the texts seen last (at most 4 KiB each).

    A query asked again, as most are, is not matched again, and one that the server asks about
    twice (its protocol, then :func:`cpgraph.engine.workers.answer_at_once`) is matched once.
    """
    match = _SINGLE_SCAN.fullmatch(query)
    if match is None:
        return None
    s, p, o, ask, limit = match.group("s", "p", "o", "ask", "limit")
    names = [term[1:] for term in (s, p, o) if term[0] in "?$"]
    if len(names) != len(set(names)):
        return None
    if match.group("distinct") and match.group("vars"):
        kept = {v[1:] for v in match.group("vars").split()}
        if kept != set(names):
            return None
    return SingleScan(ask is not None, None if limit is None else int(limit))


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """An Accept header as (media range, q) pairs, best first, q=0 dropped.

    Ties keep the header's order; more specific ranges win over wildcards of equal q.
    """
    if not header:
        return [("*/*", 1.0)]
    ranges: list[tuple[str, float, int, int]] = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        if q > 0:
            specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
            ranges.append((media, q, specificity, position))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def negotiate(accept: str | None, kind: QueryKind) -> ResultsFormat | RdfFormat:
    """The best result format for ``kind`` that the Accept header allows.

    Raises:
        NotAcceptableError: if nothing cpgraph writes for this kind fits (HTTP 406).
    """
    table = GRAPH_MEDIA_TYPES if kind is QueryKind.GRAPH else RESULTS_MEDIA_TYPES
    for media, _q in parse_accept(accept):
        if media == "*/*":
            return DEFAULTS[kind]
        if media.endswith("/*"):
            family = media[:-1]
            preferred: list[ResultsFormat | RdfFormat] = [DEFAULTS[kind]]
            preferred += RdfFormat if kind is QueryKind.GRAPH else ResultsFormat
            match = next((f for f in preferred if f.media_type.startswith(family)), None)
            if match is not None:
                return match
            continue
        if media in table:
            return table[media]
    offered = ", ".join(sorted({f.media_type for f in table.values()}))
    raise NotAcceptableError(f"no acceptable format for this result; cpgraph offers {offered}")


def run_query(
    settings: Settings,
    text: str,
    out: IO[bytes],
    *,
    fmt: QueryFormat = QueryFormat.TABLE,
    source: str | None = None,
) -> QueryKind:
    """Run ``text`` against the current store and write the result to ``out``.

    cpgraph's usual prefixes (``cp:``, ``rdfs:``, ``skos:``, ...) are predeclared.

    Raises:
        StoreError: if there is no store yet.
        QuerySyntaxError: if the query is malformed (line and column in the message).
        NotAcceptableError: if ``fmt`` cannot carry the result.
    """
    store = open_current(settings.store_dir, read_only=True)
    result = store.query(text, prefixes=prefixes(settings.base_iri))
    return write_result(result, out, fmt=fmt, base=settings.base_iri)


def write_result(result: QueryResult, out: IO[bytes], *, fmt: QueryFormat, base: str) -> QueryKind:
    """Serialise ``result`` in ``fmt`` (a text table where ``fmt`` is TABLE)."""
    concrete = fmt.concrete(result.kind)
    if concrete is None:
        out.write(render_table(result, base=base).encode("utf-8"))
    else:
        result.serialize(out, concrete)
    return result.kind


def render_table(result: QueryResult, *, base: str) -> str:
    """A SELECT or ASK result as an aligned text table, IRIs shortened by cpgraph's prefixes."""
    if result.kind is QueryKind.BOOLEAN:
        return f"{'true' if result.boolean else 'false'}\n"
    names = result.variables
    rows = [[shorten(row.get(n), base=base) for n in names] for row in result.rows()]
    return format_table(names, rows) + f"({len(rows)} row{'s' if len(rows) != 1 else ''})\n"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, under a header and a rule."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    lines += [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def shorten(term: ox.NamedNode | ox.BlankNode | ox.Literal | None, *, base: str) -> str:
    """A term as a short readable string: prefixed names, plain literal values."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in prefixes(base).items():
            local = term.value[len(namespace) :]
            if term.value.startswith(namespace) and local and "/" not in local and "#" not in local:
                return f"{prefix}:{local}"
        return f"<{term.value}>"
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if term.language:
        return f"{term.value}@{term.language}"
    return term.value
