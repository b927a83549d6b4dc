"""The library of saved queries: the research questions in ``queries/*.rq``, loaded and checked.

Each file is one SPARQL query with a metadata header in grlc's ``#+`` style
(:mod:`cpgraph.saved.header`), whose parameters are bound as RDF terms
(:mod:`cpgraph.saved.params`); the files run as they stand under grlc and other SPARQL tools
too (:mod:`cpgraph.saved.query`); ``docs/saved-queries.md`` describes both for authors. The
library is published as RDF in the SIB ``sparql-examples`` convention
(:mod:`cpgraph.saved.examples`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cpgraph.errors import (
    CpgraphError,
    InputError,
    NotFoundError,
    QuerySyntaxError,
    RemoteEndpointError,
)
from cpgraph.rdf.namespaces import DEFAULT_BASE, prefixes
from cpgraph.saved.query import QUERIES_FOLDER, SavedQuery, parse_saved_query
from cpgraph.sparql.calls import without_calls
from cpgraph.store import Store
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.results import QueryResult

QUERIES_GRAPH = "queries"


@dataclass(frozen=True, slots=True)
class Library:
    """The saved queries, by name, in file-name order."""

    queries: tuple[SavedQuery, ...] = ()

    def __iter__(self) -> Iterator[SavedQuery]:
        return iter(self.queries)

    def __len__(self) -> int:
        return len(self.queries)

    def names(self) -> list[str]:
        """Every query's name."""
        return [q.name for q in self.queries]

    def get(self, name: str) -> SavedQuery:
        """The query called ``name``.

        Raises:
            NotFoundError: if there is none.
        """
        for query in self.queries:
            if query.name == name:
                return query
        raise NotFoundError(f"no saved query {name!r}; GET /queries lists them")

    def tags(self) -> list[str]:
        """Every tag used, sorted."""
        return sorted({t for q in self.queries for t in q.tags})


def load_library(folder: Path) -> Library:
    """Every ``*.rq`` file in ``folder`` (none when the folder does not exist), checked.

    Each query is also parsed by Oxigraph (run on an empty store with its defaults bound), so
    a library that loads is a library of well-formed queries.

    Raises:
        InputError: for a malformed header, parameter or query (file, line and column).
    """
    if not folder.is_dir():
        return Library()
    queries = []
    for path in sorted(folder.glob("*.rq")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}") from None
        query = parse_saved_query(text, name=path.stem, path=path)
        check_syntax(query)
        queries.append(query)
    return Library(tuple(queries))


def check_syntax(query: SavedQuery) -> None:
    """Parse ``query`` (plain, and one page of it) with Oxigraph, its defaults bound.

    Raises:
        QuerySyntaxError: naming the file, with line and column.
        InputError: if Oxigraph refuses a parameter binding.
    """
    store = GraphStore(None)
    bound = {
        p.variable: p.type.term(p.default, base=DEFAULT_BASE) for p in query.parameters if p.default
    }
    for text in (query.text, query.page(page=1, per_page=1)):
        try:
            # Evaluated (pyoxigraph only parses by evaluating), on an empty store, with no
            # SERVICE endpoint left to call.
            store.query(without_calls(text), prefixes=prefixes(DEFAULT_BASE), substitutions=bound)
        except RemoteEndpointError:
            pass  # the SERVICE made a variable, unbound: the syntax is fine
        except QuerySyntaxError as exc:
            line = exc.line + query.header_lines if exc.line is not None else None
            source = str(query.path or query.name)
            if text is not query.text:
                source += " (as one page)"
            raise QuerySyntaxError(
                exc.reason, line=line, column=exc.column, source=source
            ) from None
        except CpgraphError as exc:
            raise type(exc)(f"{query.path or query.name}: {exc.message}") from None
        except RuntimeError as exc:
            raise InputError(f"{query.path or query.name}: {exc}") from None


def run_saved(
    store: Store, query: SavedQuery, values: Mapping[str, str], *, base: str
) -> QueryResult:
    """Run ``query`` on ``store`` with ``values`` bound (the command line's way).

    Raises:
        ParameterError: for a bad parameter; QuerySyntaxError, StoreError: as the store.
    """
    return store.query(
        query.text, prefixes=prefixes(base), substitutions=query.bind(values, base=base)
    )


def library_folder(source_dir: Path) -> Path:
    """Where the saved queries of a source tree are: ``<source_dir>/queries``."""
    return source_dir / QUERIES_FOLDER
