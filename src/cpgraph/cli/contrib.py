"""``cpgraph contribute``, ``contributions`` and ``withdraw``: contributions to the store (the
embedded one, or the remote store ``--store URL`` names).

Thin over :mod:`cpgraph.validation.contributions`. Locally, the contributor is whoever runs the
command:
``--as SLUG`` (and ``--name``) or, by default, the operating-system user.
"""

from __future__ import annotations

import argparse
import getpass
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cpgraph.cli.results import format_table
from cpgraph.config import Settings
from cpgraph.errors import InputError
from cpgraph.rdf.formats import RdfFormat
from cpgraph.store.configured import is_remote, open_store
from cpgraph.store.interface import Store
from cpgraph.validation.contributions import ValidationContext, commit, read_contribution, withdraw
from cpgraph.validation.contributors import Contributor
from cpgraph.validation.records import list_contributions

Command = Callable[[argparse.Namespace, Settings], int]


def add_contribution_commands(sub: Any) -> dict[str, Command]:
    """Add the contribution commands to the subcommand parsers; return their handlers."""
    contribute = sub.add_parser(
        "contribute",
        help="validate a file in the context of the store and commit it as a contribution",
    )
    contribute.add_argument("file", type=Path, help="Turtle, N-Triples, JSON-LD or RDF/XML")
    contribute.add_argument(
        "--comment", "-m", required=True, help="what the contribution adds and why"
    )
    contribute.add_argument("--source", help="the IRI of the document or data it comes from")
    contribute.add_argument("--as", dest="who", help="your slug (default: your user name)")
    contribute.add_argument("--name", help="your name as it should be shown")
    contribute.add_argument(
        "--organisation",
        action="store_true",
        help="the contributor is an organisation, not a person",
    )

    listing = sub.add_parser("contributions", help="list the contributions in the store")
    listing.add_argument("--format", choices=["table", "json"], default="table")

    withdraw = sub.add_parser("withdraw", help="withdraw a contribution from the store")
    withdraw.add_argument("id", help="the contribution's id (see 'cpgraph contributions')")
    return {"contribute": _contribute, "contributions": _list, "withdraw": _withdraw}


def _local_contributor(args: argparse.Namespace) -> Contributor:
    slug = args.who or re.sub(r"[^a-z0-9]+", "-", getpass.getuser().lower()).strip("-")
    try:
        return Contributor(slug=slug, name=args.name or slug, organisation=args.organisation)
    except ValueError as exc:
        raise InputError(str(exc)) from None


def _contribute(args: argparse.Namespace, settings: Settings) -> int:
    fmt = RdfFormat.from_path(args.file)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {args.file}: {exc.strerror or exc}") from None
    target = _target(settings)
    read = open_store(settings, read_only=True) if isinstance(target, Path) else target
    context = ValidationContext.from_store(read, base=settings.base_iri)
    triples = read_contribution(
        data, fmt, base=settings.base_iri, terms=context.terms, source=str(args.file)
    )
    result = commit(
        target,
        triples,
        contributor=_local_contributor(args),
        comment=args.comment,
        source=args.source,
        base=settings.base_iri,
        context=context,
    )
    if result.outcome.results:
        print(result.outcome.describe())
    verb = "committed" if result.created else "already committed, as"
    print(
        f"{verb} contribution {result.record.id} ({result.record.statements} statements) "
        f"in <{result.record.graph}>"
    )
    return 0


def _target(settings: Settings) -> Path | Store:
    """Where a contribution is written: the embedded store's folder (one copy-on-write
    transaction), or the remote store the settings name (one update request)."""
    return open_store(settings) if is_remote(settings) else settings.store_dir


def _list(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings, read_only=True)
    records = list_contributions(store, base=settings.base_iri)
    if args.format == "json":
        print(json.dumps([r.to_dict() for r in records], indent=2))
    else:
        print(
            format_table(
                ["id", "time", "contributor", "statements", "comment"],
                [[r.id, r.time, r.contributor, str(r.statements), r.comment] for r in records],
            ),
            end="",
        )
    return 0


def _withdraw(args: argparse.Namespace, settings: Settings) -> int:
    withdraw(_target(settings), args.id, base=settings.base_iri)
    print(f"withdrew contribution {args.id}")
    return 0
