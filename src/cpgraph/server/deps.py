"""Typed dependencies shared by the routers."""

from __future__ import annotations

import hmac
import logging
import threading
from pathlib import Path
from typing import Annotated, cast

from fastapi import Depends, Request

from cpgraph.config import Settings
from cpgraph.errors import CpgraphError, InputError, PayloadTooLargeError, UnauthorizedError
from cpgraph.publish.service import build_figures, kept_figures
from cpgraph.rdf.io import ox_iri
from cpgraph.server import remote
from cpgraph.server.runtime import Runtime, runtime_of
from cpgraph.store import Store, following
from cpgraph.store.configured import is_remote

log = logging.getLogger(__name__)


async def get_runtime(request: Request) -> Runtime:
    """The application's runtime (:mod:`cpgraph.server.runtime`)."""
    return runtime_of(request.app)


async def get_store(request: Request) -> Store:
    """The build served now (it changes as new builds are followed)."""
    return runtime_of(request.app).store


async def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    return runtime_of(request.app).settings


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def absolute_iri(iri: str, *, what: str = "the graph") -> str:
    """``iri``, checked as the store reads graph names: one the store would fail on is the
    client's mistake, and is answered as one before the store is reached.

    Raises:
        InputError: if it is not an absolute IRI.
    """
    try:
        ox_iri(iri)
    except ValueError:
        raise InputError(f"{what} is not an absolute IRI: {iri!r}") from None
    return iri


def client_address(request: Request) -> str:
    """The address of the request's client, as the per-client limits count it."""
    return request.client.host if request.client else "unknown"


def is_authorised(request: Request, settings: Settings) -> bool:
    """Whether the request carries the operator's bearer token (never true without one set)."""
    return token_matches(request.headers.get("authorization"), settings)


def bearer_token(authorization: str | None) -> bytes | None:
    """The token of an ``Authorization: Bearer <token>`` header value; None for any other."""
    scheme, _, credentials = (authorization or "").partition(" ")
    return credentials.strip().encode() if scheme.lower() == "bearer" else None


def token_matches(authorization: str | None, settings: Settings) -> bool:
    """Whether an ``Authorization`` header value carries the operator's bearer token."""
    token = bearer_token(authorization)
    if settings.token is None or token is None:
        return False
    return hmac.compare_digest(token, settings.token.encode())


def require_token(request: Request, settings: Settings) -> None:
    """Refuse a write that does not carry the operator's token.

    Raises:
        UnauthorizedError: if no token is configured, or the request has another or none.
    """
    if settings.token is None:
        raise UnauthorizedError("writes are disabled: the operator has set no CPGRAPH_TOKEN")
    if not is_authorised(request, settings):
        raise UnauthorizedError("this needs the operator's token: Authorization: Bearer <token>")


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused as soon as it passes ``limit`` bytes.

    Raises:
        PayloadTooLargeError: if the body (declared or received) is larger than ``limit``.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the body is larger than the {limit} bytes accepted")
    received = bytearray()
    async for chunk in request.stream():
        received += chunk
        if len(received) > limit:
            raise PayloadTooLargeError(f"the body is larger than the {limit} bytes accepted")
    return bytes(received)


def follow_current_build(runtime: Runtime) -> None:
    """Follow a build another process published (a write through another server process, a
    command-line build or contribution) before answering; a memory read when nothing changed
    (:class:`cpgraph.store.builds.BuildWatch`). Over a remote store there is no build to
    follow: the figures are counted again when they are old (:mod:`cpgraph.server.remote`)."""
    if is_remote(runtime.settings):
        remote.refresh_figures(runtime)
    elif following.publication_noticed(_served(runtime), runtime.settings.store_dir):
        reload_store(runtime)


def _served(runtime: Runtime) -> following.Served:
    """The runtime of an embedded store, as :mod:`cpgraph.store.following` reads it (its
    store a :class:`~cpgraph.store.oxigraph.GraphStore`, its build's fields set)."""
    return cast("following.Served", runtime)


def write_target(runtime: Runtime) -> Path | Store:
    """Where this process's writes go (:func:`cpgraph.store.builds.writing`): the remote
    store itself, written straight, or the embedded store's folder, written by copy-on-write
    transactions."""
    return runtime.store if runtime.remote else runtime.settings.store_dir


def reload_store(runtime: Runtime) -> None:
    """Point the runtime at the store's current build after a write, by this server process or
    another (queries follow by path): on disk at once, from a copy in memory once it is
    made (see :mod:`cpgraph.store.memory`).

    The new build's figures (home page, service description) are counted in a thread of
    their own unless they were kept with it: counting reads every statement (seconds from
    ten million on), and the request that noticed the new build must not wait for that.
    Until they are counted, the previous build's figures are shown.

    Over a remote store, which every request reads as it is, only the figures are counted
    again.
    """
    settings = runtime.settings
    if is_remote(settings):
        remote.refresh_figures(runtime, now=True)
        return
    followed = following.follow_current(_served(runtime), settings.store_dir)
    if followed is None:
        return
    store, build = followed
    kept = kept_figures(build, base=settings.base_iri)
    if kept is not None:
        runtime.figures = kept
        return
    threading.Thread(
        target=_count_figures, args=(runtime, store, build), name="cpgraph-figures", daemon=True
    ).start()


def _count_figures(runtime: Runtime, store: Store, build: Path) -> None:
    try:
        figures = build_figures(store, build, base=runtime.settings.base_iri)
    except CpgraphError:
        log.exception("counting the figures of %s failed", build)
        return
    if runtime.store_path == str(build):  # not overtaken by a newer build meanwhile
        runtime.figures = figures
