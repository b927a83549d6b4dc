"""The linked-data commands of ``cpgraph``: ``export``, ``bundle`` and ``push``.

Kept beside :mod:`cpgraph.cli.main` (which registers them with :func:`add_commands`), each a thin
layer over :mod:`cpgraph.publish.export`, :mod:`cpgraph.publish.bundle` and
:mod:`cpgraph.publish.push`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from cpgraph.cli.progress import progress_for
from cpgraph.config import Settings
from cpgraph.errors import InputError, PushVerificationError
from cpgraph.publish.bundle import make_bundle
from cpgraph.publish.describe import build_info, describe, dump_distributions
from cpgraph.publish.dumps import DumpCache
from cpgraph.publish.export import export, export_file, format_of
from cpgraph.publish.push import default_state_file, push
from cpgraph.publish.remote import Protocol, Target
from cpgraph.publish.verify import PushReport, verify_copy
from cpgraph.rdf.formats import RdfFormat
from cpgraph.store.configured import is_remote, open_store
from cpgraph.store.http import make_auth

Command = Callable[[argparse.Namespace, Settings], int]
FORMATS = [f.value for f in RdfFormat]


def add_commands(sub: Any) -> dict[str, Command]:
    """Add ``export``, ``bundle`` and ``push`` to the subcommand parsers; return handlers."""
    exp = sub.add_parser(
        "export",
        help="export the dataset or one graph in any RDF format",
        description=(
            "Export the whole dataset (nq, trig, jsonld keep every named graph), one graph "
            "(--graph), or the union of the graphs (--union; what ttl, nt and rdf need, as "
            "they hold no graphs). Whole-dataset and union exports include the dataset "
            "description (VoID and DCAT) as the graph <base>graph/void."
        ),
    )
    exp.add_argument("-o", "--output", type=Path, help="write to FILE (default: stdout)")
    exp.add_argument(
        "--format", choices=FORMATS, help="the format (default: from -o's extension, else nq)"
    )
    exp.add_argument("--gzip", action="store_true", help="gzip the output (implied by .gz)")
    scope = exp.add_mutually_exclusive_group()
    scope.add_argument("--graph", metavar="IRI", help="export this named graph only")
    scope.add_argument("--union", action="store_true", help="export the union of all graphs")
    exp.add_argument(
        "--no-description", action="store_true", help="leave the dataset description out"
    )

    bundle = sub.add_parser(
        "bundle", help="write a release folder (dumps, checksums, RO-Crate) for deposit"
    )
    bundle.add_argument("folder", type=Path, help="the folder to create")
    bundle.add_argument("--force", action="store_true", help="replace the folder if it exists")

    pu = sub.add_parser(
        "push",
        help="copy the dataset into another triple store, graph by graph, and verify it",
        description=(
            "Copy every named graph (and the description graph) into another repository over "
            "the SPARQL 1.1 Graph Store Protocol, falling back to SPARQL Update; resumable; "
            "verified afterwards. The password comes from $CPGRAPH_PUSH_PASSWORD, a bearer "
            "token from $CPGRAPH_PUSH_TOKEN."
        ),
    )
    pu.add_argument(
        "--to",
        required=True,
        metavar="URL",
        help="the target's Graph Store endpoint (with --protocol update: its update endpoint)",
    )
    pu.add_argument("--update", metavar="URL", help="the target's SPARQL Update endpoint")
    pu.add_argument("--query", metavar="URL", help="the target's SPARQL query endpoint")
    pu.add_argument("--protocol", choices=[p.value for p in Protocol], default="auto")
    pu.add_argument("--user", help="the user name to authenticate as")
    pu.add_argument("--auth", choices=["basic", "digest"], default="basic")
    pu.add_argument("--graph", action="append", metavar="IRI", help="push only this graph")
    pu.add_argument("--batch", type=int, metavar="N", help="triples per request")
    pu.add_argument("--state", type=Path, metavar="FILE", help="where to keep resume state")
    pu.add_argument("--restart", action="store_true", help="ignore any saved resume state")
    check = pu.add_mutually_exclusive_group()
    check.add_argument("--no-verify", action="store_true", help="skip the verification")
    check.add_argument(
        "--verify-only", action="store_true", help="only compare the target with the store"
    )
    pu.add_argument(
        "--isomorphism-limit",
        type=int,
        default=20_000,
        metavar="N",
        help="check isomorphism for graphs of at most N triples (default 20000)",
    )
    pu.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    pu.add_argument("--json", action="store_true", help="print the report as JSON")
    return {"export": _export, "bundle": _bundle, "push": _push}


def _export(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings, read_only=True)
    base = settings.base_iri
    if args.format is not None:
        fmt = RdfFormat(args.format)
        packed = args.gzip or (args.output is not None and args.output.name.endswith(".gz"))
    elif args.output is not None:
        fmt, packed = format_of(args.output.name)
        packed = packed or args.gzip
    else:
        fmt, packed = RdfFormat.N_QUADS, args.gzip
    if args.graph is None and not args.union and not fmt.holds_graphs:
        raise InputError(
            f"{args.output or 'this format'}: {fmt.value} holds no named graphs: give --graph "
            "IRI for one graph, or --union for the union of all graphs (nq, trig and jsonld "
            "keep every graph)"
        )
    description = (
        []
        if args.no_description
        else describe(store, base=base, distributions=dump_distributions())
    )
    options: dict[str, Any] = {
        "base": base,
        "fmt": fmt,
        "gzip": packed,
        "graph": args.graph,
        "union": args.union,
        "description": description,
    }
    progress = progress_for(args)
    if args.output is not None:
        export_file(store, args.output, progress=progress, **options)
        progress.say(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
        return 0
    out: IO[bytes] = sys.stdout.buffer
    export(store, out, progress=progress, **options)
    out.flush()
    return 0


def _bundle(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings, read_only=True)
    progress = progress_for(args)
    if is_remote(settings):  # no build folder to keep the dumps beside: made for this bundle
        with tempfile.TemporaryDirectory(prefix="cpgraph-dumps-") as scratch:
            cache = DumpCache(store, base=settings.base_iri, root=Path(scratch))
            bundle = make_bundle(cache, args.folder, overwrite=args.force, progress=progress)
    else:
        cache = DumpCache.for_store_dir(store, base=settings.base_iri, store_dir=settings.store_dir)
        bundle = make_bundle(cache, args.folder, overwrite=args.force, progress=progress)
    for f in bundle.files:
        print(f"{f.sha256}  {f.size:>10}  {f.path}")
    progress.say(f"bundle of build {cache.build.id} in {bundle.folder}")
    return 0


def _push(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings, read_only=True)
    protocol = Protocol(args.protocol)
    auth = make_auth(
        user=args.user,
        password=os.environ.get("CPGRAPH_PUSH_PASSWORD"),
        scheme=args.auth,
        token=os.environ.get("CPGRAPH_PUSH_TOKEN"),
    )
    if protocol is Protocol.UPDATE:
        target = Target(gsp=None, update=args.update or args.to, query=args.query, auth=auth)
    else:
        target = Target(gsp=args.to, update=args.update, query=args.query, auth=auth)
    state = args.state or default_state_file(settings.store_dir, target)
    if args.restart:
        state.unlink(missing_ok=True)
    build = build_info(store)
    description = describe(store, base=settings.base_iri, distributions=dump_distributions())
    shared: dict[str, Any] = {  # what checking a copy and pushing one are both told
        "build": build.id,
        "description": description,
        "graphs": args.graph,
        "isomorphism_limit": args.isomorphism_limit,
        "timeout": args.timeout,
        "progress": progress_for(args),
    }
    try:
        if args.verify_only:
            report = verify_copy(store, target, **shared)
            _print_report(report, as_json=args.json)
            return 0
        report = push(
            store,
            target,
            protocol=protocol,
            batch_size=args.batch,
            state_file=state,
            verify=not args.no_verify,
            **shared,
        )
    except PushVerificationError as exc:
        _print_report(exc.report, as_json=args.json)
        raise
    _print_report(report, as_json=args.json)
    return 0


def _print_report(report: PushReport, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.summary(), indent=2))
        return
    for g in report.graphs:
        checks = "not verified" if g.target_triples is None else f"{g.target_triples} there"
        if g.isomorphic is not None:
            checks += ", isomorphic" if g.isomorphic else ", NOT isomorphic"
        if g.note:
            checks += f" ({g.note})"
        print(f"{g.graph}\t{g.triples} triples\t{g.batches} batch(es)\t{checks}")
    print("verified" if report.verified else "NOT verified")
