"""The ``cpgraph`` command: a thin layer over the library.

Exit codes: 0 success (or conforms), 1 the data does not conform, 2 bad input (malformed RDF
or SPARQL, unreadable file, bad option), 3 any other failure (the store).

``--store`` (before or after the command) names the store: a remote SPARQL 1.1 store's query
endpoint (``http(s)://...``, as ``CPGRAPH_STORE_URL``) or the embedded store's folder (as
``CPGRAPH_STORE_DIR``); commands open it by :func:`cpgraph.store.configured.open_store`.
"""

from __future__ import annotations

import argparse
import errno
import io
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import IO

from cpgraph import __version__
from cpgraph.cli.contrib import add_contribution_commands
from cpgraph.cli.export import add_commands
from cpgraph.cli.progress import PROGRESS_COMMANDS, add_progress_options, progress_for
from cpgraph.cli.queries import add_commands as add_query_commands
from cpgraph.cli.queries import add_query_options, run_saved_query
from cpgraph.cli.results import format_table, run_query, shorten
from cpgraph.cli.stores import STORE_COMMANDS, add_store_option, with_store
from cpgraph.config import Settings, load_settings
from cpgraph.engine.negotiation import QueryFormat
from cpgraph.errors import (
    CpgraphError,
    InputError,
    StoreTimeoutError,
    StoreUnreachableError,
    ValidationFailedError,
)
from cpgraph.progress import Progress
from cpgraph.publish.stats import class_counts, source_counts
from cpgraph.rdf.io import ox_iri
from cpgraph.store.build import build_store
from cpgraph.store.builds import current_build
from cpgraph.store.configured import describe_store, is_remote, open_store
from cpgraph.store.interface import Store
from cpgraph.store.oxigraph import GraphStore
from cpgraph.store.remote_build import build_remote
from cpgraph.store.union import is_merged
from cpgraph.validation.contributions import validate_files_in_context
from cpgraph.validation.shacl import ValidationOutcome, validate_files


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cpgraph",
        description="A knowledge graph of cleaner-production policy in China.",
    )
    parser.add_argument("--version", action="version", version=f"cpgraph {__version__}")
    add_store_option(parser, default=None)
    add_progress_options(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = sub.add_parser("build", help="validate ontology, shapes and data, then build the store")
    build.add_argument(
        "--trusted",
        action="store_true",
        help="skip the SHACL validation (only for data validated before, such as generated data)",
    )

    serve = sub.add_parser("serve", help="serve the SPARQL endpoint (builds the store if none)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--rebuild", action="store_true", help="build the store first")

    query = sub.add_parser("query", help="run a SPARQL query against the store")
    query.add_argument("query", nargs="?", help="the query text (or -f FILE, or stdin)")
    query.add_argument("-f", "--file", type=Path, help="read the query from FILE")
    query.add_argument(
        "--format",
        choices=[f.value for f in QueryFormat],
        default=QueryFormat.TABLE.value,
        help="output format (default: a text table for SELECT/ASK, Turtle for graphs)",
    )
    add_query_options(query)

    stats = sub.add_parser("stats", help="coverage: entities per class and per source")
    stats.add_argument("--format", choices=["table", "json"], default="table")

    validate = sub.add_parser("validate", help="validate RDF files against the shapes")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.add_argument(
        "--format", choices=["text", "json", "ttl"], default="text", help="report format"
    )
    validate.add_argument(
        "--no-context",
        action="store_true",
        help="validate the files alone, not as part of the local store",
    )
    _COMMANDS.update(add_commands(sub))
    _COMMANDS.update(add_contribution_commands(sub))
    _COMMANDS.update(add_query_commands(sub))
    for name, command in sub.choices.items():
        if name in STORE_COMMANDS:
            add_store_option(command, default=argparse.SUPPRESS)
        if name in PROGRESS_COMMANDS:
            add_progress_options(command, default=argparse.SUPPRESS)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    settings: Settings | None = None
    try:
        settings = with_store(load_settings(), args.store)
        return _COMMANDS[args.command](args, settings)
    except ValidationFailedError as exc:
        print(f"cpgraph: {exc.message}", file=sys.stderr)
        if isinstance(exc.outcome, ValidationOutcome):
            print(exc.outcome.describe(limit=50), file=sys.stderr)
        return exc.exit_code
    except (StoreUnreachableError, StoreTimeoutError) as exc:  # the store of the settings
        where = f" ({describe_store(settings)})" if settings and is_remote(settings) else ""
        print(f"cpgraph: {exc.message}{where}", file=sys.stderr)
        return exc.exit_code
    except CpgraphError as exc:
        if _closed_pipe(exc.__cause__):  # an export into a pipe its reader closed
            _quiet_stdout()
            return 141
        print(f"cpgraph: {exc.message}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (cpgraph stats | head): not an error
        _quiet_stdout()
        return 141  # 128 + SIGPIPE, as a shell reports a command ended by a closed pipe


def _closed_pipe(error: BaseException | None) -> bool:
    """Whether ``error`` is a write into a pipe whose reader went away (raised as an OSError
    with EPIPE when the write happened inside pyoxigraph)."""
    return isinstance(error, OSError) and error.errno == errno.EPIPE


def _quiet_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush of
    what was left for the closed pipe does not fail (and print a traceback) at exit."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)


def _build(args: argparse.Namespace, settings: Settings) -> int:
    _build_into(settings, progress_for(args), validate=not args.trusted)
    return 0


def _build_into(settings: Settings, progress: Progress, *, validate: bool = True) -> None:
    """Build the store the settings name: a new embedded build, or the remote store's graphs."""
    if is_remote(settings):
        report = build_remote(settings, open_store(settings), progress=progress, validate=validate)
    else:
        report = build_store(settings, progress=progress, validate=validate)
    print(f"{report.triples} statements in {len(report.graphs)} graphs")


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from cpgraph.server.supervisor import serve  # the server's dependencies load only when serving

    if args.host:
        settings = settings.with_(host=args.host)
    if args.port:
        settings = settings.with_(port=args.port)
    if is_remote(settings):  # built by 'cpgraph build --store URL'; served even while it is down
        if args.rebuild:
            _build_into(settings, progress_for(args))
        serve(settings)
        return 0
    build = current_build(settings.store_dir)
    if args.rebuild or build is None:
        build_store(settings, progress=progress_for(args))
    elif not is_merged(build):
        print(
            f"the store at {build} was built by an older cpgraph: its default graph is "
            "Oxigraph's union, which matches a statement once per graph that holds it; "
            "'cpgraph build' (or any write) merges it",
            file=sys.stderr,
        )
    serve(settings)
    return 0


def _query(args: argparse.Namespace, settings: Settings) -> int:
    if args.saved is not None:
        return run_saved_query(args, settings)
    if args.file is not None:
        try:
            text = args.file.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read {args.file}: {exc.strerror}") from None
    elif args.query is not None:
        text = args.query
    else:
        if sys.stdin.isatty():
            raise InputError("give a query, -f FILE, or a query on standard input")
        text = sys.stdin.read()
    out: IO[bytes] = sys.stdout.buffer
    run_query(settings, text, out, fmt=QueryFormat(args.format))
    out.flush()
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    store: Store | None
    if args.no_context:
        store = None
    elif is_remote(settings):
        store = open_store(settings, read_only=True)
    else:
        build = current_build(settings.store_dir)
        store = None if build is None else GraphStore(build, read_only=True)
    # pySHACL says nothing while it runs: the task shows that it runs, and for how long.
    with progress_for(args).task(f"validating {len(args.files)} file(s)", unit="files"):
        if store is None:
            outcome = validate_files(args.files, source_dir=settings.source_dir)
        else:  # as part of the store: references to what it holds are checked
            outcome = validate_files_in_context(
                args.files, store=store, source_dir=settings.source_dir
            )
    if args.format == "json":
        print(json.dumps(outcome.summary(), indent=2))
    elif args.format == "ttl":
        buffer = io.BytesIO()
        outcome.report.serialize(buffer, format="turtle")
        sys.stdout.write(buffer.getvalue().decode("utf-8"))
    else:
        print(outcome.describe())
    return 0 if outcome.conforms else 1


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings, read_only=True)
    classes = class_counts(store, base=settings.base_iri)
    sources = source_counts(store, base=settings.base_iri)
    if args.format == "json":
        print(
            json.dumps(
                {"classes": [asdict(c) for c in classes], "sources": [asdict(s) for s in sources]},
                indent=2,
            )
        )
        return 0
    print(
        format_table(
            ["class", "instances"],
            [[shorten(ox_iri(c.cls), base=settings.base_iri), str(c.instances)] for c in classes],
        )
    )
    print(
        format_table(
            ["source", "label", "extracts", "statements", "entities"],
            [
                [
                    shorten(ox_iri(s.source), base=settings.base_iri),
                    s.label,
                    str(s.extracts),
                    str(s.statements),
                    str(s.entities),
                ]
                for s in sources
            ],
        )
    )
    return 0


_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {
    "build": _build,
    "serve": _serve,
    "query": _query,
    "stats": _stats,
    "validate": _validate,
}


if __name__ == "__main__":
    sys.exit(main())
