"""cpgraph's one settings object, built from ``CPGRAPH_`` environment variables by a function.

Nothing here runs at import time: call :func:`load_settings` where settings are needed (the
CLI's entry point, the server factory) and pass the object down.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cpgraph.allocator import ALLOCATORS
from cpgraph.errors import InputError
from cpgraph.namespaces import DEFAULT_BASE


def _project_root() -> Path:
    """The checkout this package runs from (``src/cpgraph/`` is two levels below it)."""
    return Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything an operator can set.

    Attributes:
        base_iri: the base under which instances, graphs and terms are minted and served.
        store_dir: where the on-disk store (its builds and the ``current`` link) lives.
        source_dir: the folder that holds ``ontology/``, ``shapes/`` and ``data/``.
        host: the address ``cpgraph serve`` listens on.
        port: the port ``cpgraph serve`` listens on.
        query_timeout: seconds a query may run before it is stopped and answered with 503.
        processes: how many server processes ``cpgraph serve`` runs on its socket (each a
            whole application; a process that ends is replaced).
        query_workers: how many queries each server process evaluates at once (threads).
        max_query_bytes: the largest query text accepted (413 beyond).
        max_body_bytes: the largest request body accepted (413 beyond).
        client_concurrency: queries one client may have running at once (429 beyond).
        row_limit: the most rows an anonymous SELECT returns (announced when it cuts).
        token: the bearer token that allows writes; None means writes are off.
        access_log: whether the server logs every request (it costs throughput).
        contributors_file: a JSON file of further contributors' tokens (see
            :func:`cpgraph.contributions.load_contributors`); None: only the operator.
        memory_statements: the largest store (in statements) a server answers from a copy
            in memory, made in the background (see :mod:`cpgraph.memory`); 0: always
            from disk.
        allocator: the memory allocator of the server processes, ``mimalloc`` (faster when
            a process holds a large heap; see :mod:`cpgraph.allocator`) or ``system``.
    """

    base_iri: str = DEFAULT_BASE
    store_dir: Path = field(default_factory=lambda: _project_root() / "var" / "store")
    source_dir: Path = field(default_factory=_project_root)
    host: str = "127.0.0.1"
    port: int = 8000
    query_timeout: float = 30.0
    processes: int = 2
    query_workers: int = 4
    max_query_bytes: int = 256 * 1024
    max_body_bytes: int = 64 * 1024 * 1024
    client_concurrency: int = 8
    row_limit: int = 100_000
    token: str | None = None
    contributors_file: Path | None = None
    access_log: bool = False
    memory_statements: int = 2_000_000
    allocator: str = "mimalloc"

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed (the CLI's flags override the environment)."""
        return replace(self, **changes)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from ``CPGRAPH_*`` variables in ``environ`` (default: the process).

    Raises:
        InputError: if a variable has a value of the wrong kind (a port that is not a number,
            a base IRI that does not end in ``/``).
    """
    env = os.environ if environ is None else environ
    defaults = Settings()
    base = env.get("CPGRAPH_BASE_IRI", defaults.base_iri)
    if not base.startswith(("http://", "https://")) or not base.endswith("/"):
        raise InputError(f"CPGRAPH_BASE_IRI must be an http(s) IRI ending in '/': {base!r}")

    def number(
        name: str, default: float, kind: type[int] | type[float] = int, *, zero: bool = False
    ) -> Any:
        text = env.get(name)
        if text is None:
            return default
        try:
            value = kind(text)
        except ValueError:
            raise InputError(f"{name} must be a number: {text!r}") from None
        if value < 0 or (value == 0 and not zero):
            raise InputError(f"{name} must be {'0 or more' if zero else 'positive'}: {text!r}")
        return value

    allocator = env.get("CPGRAPH_ALLOCATOR", defaults.allocator).strip().lower()
    if allocator not in ALLOCATORS:
        raise InputError(
            f"CPGRAPH_ALLOCATOR must be one of {', '.join(ALLOCATORS)}: "
            f"{env['CPGRAPH_ALLOCATOR']!r}"
        )
    token = env.get("CPGRAPH_TOKEN") or None
    if token is not None and len(token) < 16:
        raise InputError("CPGRAPH_TOKEN must be at least 16 characters long")
    return Settings(
        base_iri=base,
        store_dir=Path(env.get("CPGRAPH_STORE_DIR", str(defaults.store_dir))),
        source_dir=Path(env.get("CPGRAPH_SOURCE_DIR", str(defaults.source_dir))),
        host=env.get("CPGRAPH_HOST", defaults.host),
        port=number("CPGRAPH_PORT", defaults.port),
        query_timeout=number("CPGRAPH_QUERY_TIMEOUT", defaults.query_timeout, float),
        processes=number("CPGRAPH_PROCESSES", defaults.processes),
        query_workers=number("CPGRAPH_QUERY_WORKERS", defaults.query_workers),
        max_query_bytes=number("CPGRAPH_MAX_QUERY_BYTES", defaults.max_query_bytes),
        max_body_bytes=number("CPGRAPH_MAX_BODY_BYTES", defaults.max_body_bytes),
        client_concurrency=number("CPGRAPH_CLIENT_CONCURRENCY", defaults.client_concurrency),
        row_limit=number("CPGRAPH_ROW_LIMIT", defaults.row_limit),
        memory_statements=number(
            "CPGRAPH_MEMORY_STATEMENTS", defaults.memory_statements, zero=True
        ),
        allocator=allocator,
        token=token,
        access_log=env.get("CPGRAPH_ACCESS_LOG", "").lower() in ("1", "true", "yes"),
        contributors_file=Path(env["CPGRAPH_CONTRIBUTORS_FILE"])
        if env.get("CPGRAPH_CONTRIBUTORS_FILE")
        else None,
    )
