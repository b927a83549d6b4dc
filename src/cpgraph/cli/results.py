"""A query's result on the command line: in a format named by ``--format``, or as a table.

``cpgraph query`` and ``cpgraph query --saved`` write results here; the other commands that
list things (classes, sources, contributions, saved queries) use the same text table.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import IO

import pyoxigraph as ox

from cpgraph.config import Settings
from cpgraph.engine.negotiation import QueryFormat
from cpgraph.rdf.namespaces import prefixes
from cpgraph.store import QueryKind, QueryResult
from cpgraph.store.configured import open_store


def run_query(
    settings: Settings,
    text: str,
    out: IO[bytes],
    *,
    fmt: QueryFormat = QueryFormat.TABLE,
) -> QueryKind:
    """Run ``text`` against the store the settings name and write the result to ``out``.

    cpgraph's usual prefixes (``cp:``, ``rdfs:``, ``skos:``, ...) are predeclared.

    Raises:
        StoreError: if there is no store yet; StoreUnreachableError if a remote one fails.
        QuerySyntaxError: if the query is malformed (line and column in the message).
        NotAcceptableError: if ``fmt`` cannot carry the result.
    """
    store = open_store(settings, read_only=True)
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
