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
from urllib.parse import urlsplit

from cpgraph.errors import InputError
from cpgraph.rdf.namespaces import DEFAULT_BASE
from cpgraph.sparql.outbound import allow_list

STORE_AUTH = ("basic", "digest")
"""How ``CPGRAPH_STORE_USER`` and ``CPGRAPH_STORE_PASSWORD`` are sent to a remote store."""

ALLOCATORS = ("mimalloc", "system")
"""The memory allocators ``CPGRAPH_ALLOCATOR`` may name (see :mod:`cpgraph.server.allocator`)."""


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
        max_query_depth: the deepest nesting of brackets a query or update may have (400
            beyond): SPARQL parsers recurse once a level, and a deep text ends a process.
        max_query_operators: the most operators (``||``, ``+``, path ``/``, ``UNION``,
            ``OPTIONAL``, ..., and in a query the ``.`` and ``;`` joining triple patterns) a
            text may hold (400 beyond): long chains of them nest as deep as they are long,
            and some cost the planner cubic time.
        max_body_bytes: the largest request body accepted (413 beyond).
        client_concurrency: queries one client may have running at once (429 beyond); the
            server keeps it below its pool of query threads, so other clients find room; 0: no
            per-client limit (behind a proxy that limits each user itself).
        row_limit: the most rows an anonymous SELECT returns (announced when it cuts).
        token: the bearer token that allows writes; None means writes are off.
        access_log: whether the server logs every request (it costs throughput).
        contributors_file: a JSON file of further contributors' tokens (see
            :func:`cpgraph.validation.contributions.load_contributors`); None: only the operator.
        memory_statements: the largest store (in statements) a server answers from a copy
            in memory, made in the background (see :mod:`cpgraph.store.memory`); 0: always
            from disk.
        process_memory_mib: the memory (resident, MiB) past which a server process answers
            its queries with 503 and is replaced; 0: three quarters of the machine's memory
            shared by the processes (see :func:`process_memory_ceiling`).
        quarantine_seconds: how long a query or update that ended a server process is
            refused when it comes again (0: never).
        allocator: the memory allocator of the server processes, ``mimalloc`` (faster when
            a process holds a large heap; see :mod:`cpgraph.server.allocator`) or ``system``.
        validate_timeout: seconds one validation (``/validate``, ``/contributions``) may run
            before its process is stopped and it is answered with 503.
        validate_concurrency: validations one client may have running at once (429 beyond).
        validate_processes: validations each server process runs at once, for all clients
            (503 beyond); each runs in a process of its own (see
            :mod:`cpgraph.validation.jobs`).
        max_validate_bytes: the largest body ``/validate`` accepts without a token (413
            beyond); a token's holder keeps ``max_body_bytes``.
        validate_memory: bytes of memory one validation process may allocate (its data
            limit); a validation that needs more is stopped and answered with 503.
        service_allow: the endpoints SERVICE and LOAD may call, IRIs or prefixes ending in
            ``/`` (``CPGRAPH_SERVICE_ALLOW``, spaces or commas between); empty: none. A
            private or loopback host is called only when listed exactly (see
            :mod:`cpgraph.sparql.outbound`).
        store_url: a remote SPARQL 1.1 store's query endpoint to serve from instead of the
            embedded store (see :mod:`cpgraph.store.remote`); None: the embedded store.
        store_update_url: its update endpoint (default: the query endpoint's, ``/query``
            read as ``/update``, else the query endpoint itself).
        store_gsp_url: its Graph Store Protocol endpoint, if it has one (whole graphs are
            then written with ``PUT``).
        store_user, store_password: credentials for the remote store (``store_auth``:
            ``basic`` or ``digest``); store_token: a bearer token instead. Never logged.
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
    max_query_depth: int = 64
    max_query_operators: int = 256
    max_body_bytes: int = 64 * 1024 * 1024
    client_concurrency: int = 4
    row_limit: int = 100_000
    token: str | None = field(default=None, repr=False)
    contributors_file: Path | None = None
    access_log: bool = False
    memory_statements: int = 2_000_000
    allocator: str = "mimalloc"
    process_memory_mib: int = 0
    quarantine_seconds: float = 600.0
    validate_timeout: float = 30.0
    validate_concurrency: int = 2
    validate_processes: int = 4
    max_validate_bytes: int = 4 * 1024 * 1024
    validate_memory: int = 2 * 1024 * 1024 * 1024
    service_allow: tuple[str, ...] = ()
    store_url: str | None = None
    store_update_url: str | None = None
    store_gsp_url: str | None = None
    store_user: str | None = None
    store_password: str | None = field(default=None, repr=False)
    store_token: str | None = field(default=None, repr=False)
    store_auth: str = "basic"

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
    store_auth = env.get("CPGRAPH_STORE_AUTH", defaults.store_auth).strip().lower()
    if store_auth not in STORE_AUTH:
        raise InputError(
            f"CPGRAPH_STORE_AUTH must be one of {', '.join(STORE_AUTH)}: {store_auth!r}"
        )
    store_urls = {
        name: _store_url(name, env.get(name))
        for name in ("CPGRAPH_STORE_URL", "CPGRAPH_STORE_UPDATE_URL", "CPGRAPH_STORE_GSP_URL")
    }
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
        max_query_depth=number("CPGRAPH_MAX_QUERY_DEPTH", defaults.max_query_depth),
        max_query_operators=number("CPGRAPH_MAX_QUERY_OPERATORS", defaults.max_query_operators),
        max_body_bytes=number("CPGRAPH_MAX_BODY_BYTES", defaults.max_body_bytes),
        client_concurrency=number(
            "CPGRAPH_CLIENT_CONCURRENCY", defaults.client_concurrency, zero=True
        ),
        row_limit=number("CPGRAPH_ROW_LIMIT", defaults.row_limit),
        memory_statements=number(
            "CPGRAPH_MEMORY_STATEMENTS", defaults.memory_statements, zero=True
        ),
        allocator=allocator,
        process_memory_mib=number("CPGRAPH_PROCESS_MEMORY_MIB", 0, zero=True),
        quarantine_seconds=number(
            "CPGRAPH_QUARANTINE_SECONDS", defaults.quarantine_seconds, float, zero=True
        ),
        validate_timeout=number("CPGRAPH_VALIDATE_TIMEOUT", defaults.validate_timeout, float),
        validate_concurrency=number("CPGRAPH_VALIDATE_CONCURRENCY", defaults.validate_concurrency),
        validate_processes=number("CPGRAPH_VALIDATE_PROCESSES", defaults.validate_processes),
        max_validate_bytes=number("CPGRAPH_MAX_VALIDATE_BYTES", defaults.max_validate_bytes),
        validate_memory=number("CPGRAPH_VALIDATE_MEMORY", defaults.validate_memory),
        service_allow=allow_list(env.get("CPGRAPH_SERVICE_ALLOW")),
        token=token,
        access_log=env.get("CPGRAPH_ACCESS_LOG", "").lower() in ("1", "true", "yes"),
        contributors_file=Path(env["CPGRAPH_CONTRIBUTORS_FILE"])
        if env.get("CPGRAPH_CONTRIBUTORS_FILE")
        else None,
        store_url=store_urls["CPGRAPH_STORE_URL"],
        store_update_url=store_urls["CPGRAPH_STORE_UPDATE_URL"],
        store_gsp_url=store_urls["CPGRAPH_STORE_GSP_URL"],
        store_user=env.get("CPGRAPH_STORE_USER") or None,
        store_password=env.get("CPGRAPH_STORE_PASSWORD") or None,
        store_token=env.get("CPGRAPH_STORE_TOKEN") or None,
        store_auth=store_auth,
    )


def _store_url(name: str, value: str | None) -> str | None:
    """A remote store's endpoint as set in ``name``: an http(s) URL without credentials in it
    (those go in ``CPGRAPH_STORE_USER`` and ``CPGRAPH_STORE_PASSWORD``, which are never logged)."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{name} must be an http(s) URL: {value!r}")
    if parts.username is not None or parts.password is not None:
        raise InputError(
            f"{name} must not hold credentials: set CPGRAPH_STORE_USER and CPGRAPH_STORE_PASSWORD"
        )
    return value


def process_memory_ceiling(settings: Settings) -> int:
    """The resident memory (bytes) past which one server process is replaced: the operator's
    ``process_memory_mib``, else three quarters of the machine's memory shared among the
    processes (at least 1 GiB each)."""
    if settings.process_memory_mib:
        return settings.process_memory_mib << 20
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return max(1 << 30, total * 3 // 4 // max(1, settings.processes))
