"""The store the settings choose: the embedded Oxigraph's current build (the default), or a
SPARQL 1.1 store on another machine when ``CPGRAPH_STORE_URL`` (``--store URL``) names one."""

from __future__ import annotations

from cpgraph.config import Settings
from cpgraph.store.builds import open_current
from cpgraph.store.interface import Store
from cpgraph.store.remote import RemoteStore


def is_remote(settings: Settings) -> bool:
    """Whether the settings name a remote store."""
    return bool(settings.store_url)


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The store to read (and, unless ``read_only``, write).

    Raises:
        StoreError: if the embedded store has no current build (run ``cpgraph build``).
        InputError: if the remote store's settings are incomplete.
    """
    if settings.store_url:
        return RemoteStore.from_settings(settings, read_only=read_only)
    return open_current(settings.store_dir, read_only=read_only)


def describe_store(settings: Settings) -> str:
    """Which store answers, for people and for the service description (no credentials)."""
    if settings.store_url:
        return f"a SPARQL 1.1 store at {settings.store_url}"
    return f"the embedded Oxigraph store in {settings.store_dir}"
