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
    """

    base_iri: str = DEFAULT_BASE
    store_dir: Path = field(default_factory=lambda: _project_root() / "var" / "store")
    source_dir: Path = field(default_factory=_project_root)
    host: str = "127.0.0.1"
    port: int = 8000

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
    port_text = env.get("CPGRAPH_PORT", str(defaults.port))
    try:
        port = int(port_text)
    except ValueError:
        raise InputError(f"CPGRAPH_PORT must be a number: {port_text!r}") from None
    return Settings(
        base_iri=base,
        store_dir=Path(env.get("CPGRAPH_STORE_DIR", str(defaults.store_dir))),
        source_dir=Path(env.get("CPGRAPH_SOURCE_DIR", str(defaults.source_dir))),
        host=env.get("CPGRAPH_HOST", defaults.host),
        port=port,
    )
