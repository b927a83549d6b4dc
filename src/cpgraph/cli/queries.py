"""The saved-query commands of ``cpgraph``: ``queries`` and ``query --saved NAME``.

Kept beside :mod:`cpgraph.cli.main` (which registers them), a thin layer over
:mod:`cpgraph.saved.library`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import IO, Any

from cpgraph.cli.results import format_table, write_result
from cpgraph.config import Settings
from cpgraph.engine.negotiation import QueryFormat
from cpgraph.errors import InputError
from cpgraph.saved.library import library_folder, load_library, run_saved
from cpgraph.store.configured import open_store

Command = Callable[[argparse.Namespace, Settings], int]


def add_query_options(query: argparse.ArgumentParser) -> None:
    """Add ``--saved NAME`` and ``--param KEY=VALUE`` to the ``query`` command."""
    query.add_argument("--saved", metavar="NAME", help="run the saved query NAME (see: queries)")
    query.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a parameter of the saved query (repeatable)",
    )


def add_commands(sub: Any) -> dict[str, Command]:
    """Add ``queries`` to the subcommand parsers; return its handler."""
    queries = sub.add_parser("queries", help="list the saved queries and their parameters")
    queries.add_argument("--tag", help="only the queries with this tag")
    queries.add_argument("--format", choices=["table", "json"], default="table")
    return {"queries": list_queries}


def list_queries(args: argparse.Namespace, settings: Settings) -> int:
    """``cpgraph queries``: the library as a table (or JSON)."""
    library = load_library(library_folder(settings.source_dir))
    shown = [q for q in library if args.tag is None or args.tag in q.tags]
    if args.format == "json":
        items = [
            {
                "name": q.name,
                "title": q.title,
                "description": q.description,
                "tags": list(q.tags),
                "parameters": [
                    {
                        "name": p.name,
                        "type": p.type.name,
                        "required": p.required,
                        "default": p.default,
                    }
                    for p in q.parameters
                ],
            }
            for q in shown
        ]
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return 0
    rows = [
        [
            q.name,
            q.title,
            ", ".join(f"{p.name}{'' if p.required else '?'}:{p.type.name}" for p in q.parameters),
        ]
        for q in shown
    ]
    print(format_table(["name", "question", "parameters"], rows), end="")
    return 0


def run_saved_query(args: argparse.Namespace, settings: Settings) -> int:
    """``cpgraph query --saved NAME --param key=value``: run one saved query."""
    if args.query is not None or args.file is not None:
        raise InputError("give either a query (text or -f FILE) or --saved NAME, not both")
    values: dict[str, str] = {}
    for item in args.param:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise InputError(f"--param takes KEY=VALUE, not {item!r}")
        values[key.strip()] = value
    query = load_library(library_folder(settings.source_dir)).get(args.saved)
    store = open_store(settings, read_only=True)
    result = run_saved(store, query, values, base=settings.base_iri)
    out: IO[bytes] = sys.stdout.buffer
    write_result(result, out, fmt=QueryFormat(args.format), base=settings.base_iri)
    out.flush()
    return 0
