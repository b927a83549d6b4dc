"""``--store``: which store a command reads and writes, on the command line.

A URL (``http://`` or ``https://``) names a remote SPARQL 1.1 store's query endpoint, as
``CPGRAPH_STORE_URL`` does; anything else is the embedded store's folder, as
``CPGRAPH_STORE_DIR`` is. The option overrides the environment; the other ``CPGRAPH_STORE_*``
settings (update and Graph Store endpoints, credentials) still come from the environment, so
that no secret is ever typed on a command line.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

from cpgraph.config import Settings

STORE_COMMANDS = frozenset(
    {
        "build",
        "serve",
        "query",
        "stats",
        "validate",
        "export",
        "bundle",
        "push",
        "contribute",
        "contributions",
        "withdraw",
    }
)
"""The commands that open the store, and so take ``--store``."""


def store_option(value: str) -> str | Path:
    """``--store``'s value: a remote store's URL, or the embedded store's folder.

    >>> store_option("http://127.0.0.1:7878/query")
    'http://127.0.0.1:7878/query'
    >>> store_option("var/store")
    PosixPath('var/store')

    Raises:
        argparse.ArgumentTypeError: for a URL with no host, or with credentials in it.
    """
    if not value.lower().startswith(("http://", "https://")):
        return Path(value)
    parts = urlsplit(value)
    if not parts.hostname:
        raise argparse.ArgumentTypeError(f"not a store URL (no host): {value!r}")
    if parts.username is not None or parts.password is not None:
        raise argparse.ArgumentTypeError(
            "a store URL must not hold credentials: set CPGRAPH_STORE_USER and "
            "CPGRAPH_STORE_PASSWORD (or CPGRAPH_STORE_TOKEN)"
        )
    return value


def add_store_option(parser: argparse.ArgumentParser, *, default: object) -> None:
    """Add ``--store URL|FOLDER`` to ``parser`` (a command's own: ``default`` SUPPRESS, so
    that it leaves a ``--store`` given before the command in place)."""
    parser.add_argument(
        "--store",
        type=store_option,
        default=default,
        metavar="URL|FOLDER",
        help=(
            "a remote SPARQL 1.1 store's query endpoint (default: $CPGRAPH_STORE_URL), or the "
            "embedded store's folder (default: $CPGRAPH_STORE_DIR)"
        ),
    )


def with_store(settings: Settings, store: str | Path | None) -> Settings:
    """The settings with ``--store`` applied: a URL names the remote store, a folder the
    embedded store (and no remote one)."""
    if store is None:
        return settings
    if isinstance(store, Path):
        return settings.with_(store_dir=store, store_url=None)
    return settings.with_(store_url=store)
