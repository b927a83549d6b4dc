"""Talking to another SPARQL service over HTTP: the credentials for a remote store cpgraph
serves from (:mod:`cpgraph.store.remote`) or a repository it pushes into
(:mod:`cpgraph.publish.remote`), and the client of a remote store.

The secrets live in the :class:`httpx.Auth` objects made here and are never logged or shown.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

import httpx

from cpgraph.errors import InputError, StoreTimeoutError, StoreUnreachableError

if TYPE_CHECKING:
    from cpgraph.config import Settings

log = logging.getLogger(__name__)


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request."""

    def __init__(self, token: str) -> None:
        """Send ``token``."""
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the header."""
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def make_auth(
    *,
    user: str | None,
    password: str | None,
    scheme: str = "basic",
    token: str | None = None,
    password_setting: str = "CPGRAPH_PUSH_PASSWORD",
) -> httpx.Auth | None:
    """Credentials for a target: ``basic`` or ``digest`` with a user, or a bearer token.

    Raises:
        InputError: for an unknown scheme, or a user without a password.
    """
    if token:
        return BearerAuth(token)
    if user is None:
        return None
    if password is None:
        raise InputError(f"a password is needed for {user!r} (set {password_setting})")
    if scheme == "basic":
        return httpx.BasicAuth(user, password)
    if scheme == "digest":
        return httpx.DigestAuth(user, password)
    raise InputError(f"unknown authentication scheme {scheme!r}: use basic or digest")


@dataclass(frozen=True, slots=True)
class Endpoints:
    """Where a remote store answers, and the credentials cpgraph sends it.

    ``update`` defaults to the query endpoint's (``/query`` read as ``/update``, Oxigraph's
    and Fuseki's layout; else the query endpoint itself, Virtuoso's, GraphDB's and Stardog's).

    >>> Endpoints.derived("http://127.0.0.1:7878/query").update
    'http://127.0.0.1:7878/update'
    >>> Endpoints.derived("http://127.0.0.1:8890/sparql").update
    'http://127.0.0.1:8890/sparql'
    """

    query: str
    update: str | None = None
    gsp: str | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)
    auth_scheme: str = "basic"

    @classmethod
    def derived(cls, query: str, update: str | None = None, **rest: Any) -> Endpoints:
        """The endpoints of a store at ``query``, its update endpoint derived if not given."""
        if update is None:
            update = query[: -len("/query")] + "/update" if query.endswith("/query") else query
        return cls(query, update, **rest)

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        """The endpoints named by ``CPGRAPH_STORE_*``.

        Raises:
            InputError: if no store URL is set, or a user is given without a password.
        """
        if not settings.store_url:
            raise InputError("no remote store: set CPGRAPH_STORE_URL or --store URL")
        endpoints = cls.derived(
            settings.store_url,
            settings.store_update_url,
            gsp=settings.store_gsp_url,
            user=settings.store_user,
            password=settings.store_password,
            token=settings.store_token,
            auth_scheme=settings.store_auth,
        )
        endpoints.auth()  # a user without a password is refused now
        return endpoints

    def auth(self) -> httpx.Auth | None:
        """The credentials as an :class:`httpx.Auth`, or None."""
        return make_auth(
            user=self.user,
            password=self.password,
            scheme=self.auth_scheme,
            token=self.token,
            password_setting="CPGRAPH_STORE_PASSWORD",
        )


class Rewrite(Protocol):
    """A change made to an answer's bytes on the way, wherever chunks split what it changes."""

    def feed(self, chunk: bytes) -> bytes:
        """What of the bytes so far (held ones and ``chunk``) can go on, rewritten."""
        ...

    def end(self) -> bytes:
        """The bytes still held when the answer ends."""
        ...


class Replacement:
    """Rewrites one byte string as another (Virtuoso names blank nodes ``nodeID://b1``, which
    no results parser reads as a label).

    >>> class Body:
    ...     def iter_bytes(self):
    ...         yield from (b"<bnode>node", b"ID://b1</bnode><bnode>nodeID:", b"//b2</bnode>")
    >>> ResponseStream(Body(), rewrites=[Replacement(b"<bnode>nodeID://", b"<bnode>")]).read()
    b'<bnode>b1</bnode><bnode>b2</bnode>'
    """

    def __init__(self, old: bytes, new: bytes) -> None:
        self._old, self._new = old, new
        self._held = b""  # the end of what arrived, which may begin what is replaced

    def feed(self, chunk: bytes) -> bytes:
        """The bytes so far with the string replaced, less an end that may begin it."""
        old = self._old
        data = (self._held + chunk).replace(old, self._new)
        kept = next((k for k in range(len(old) - 1, 0, -1) if data.endswith(old[:k])), 0)
        self._held = data[len(data) - kept :] if kept else b""
        return data[: len(data) - kept]

    def end(self) -> bytes:
        """The held end (it did not begin the string after all)."""
        held, self._held = self._held, b""
        return held


class ResponseStream(io.RawIOBase):
    """An HTTP response's body as a binary file, read as it arrives (never held whole), each
    of ``rewrites`` applied in turn; a failure on the way is a :class:`StoreTimeoutError` or
    :class:`StoreUnreachableError`."""

    def __init__(self, response: httpx.Response, *, rewrites: Sequence[Rewrite] = ()) -> None:
        """Read ``response``'s body (decoded from gzip or deflate)."""
        self._response = response
        self._chunks = response.iter_bytes()
        self._pending = b""
        self._rewrites = list(rewrites)

    def readable(self) -> bool:
        """True: it is read."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` with what has arrived, waiting for more if nothing has."""
        while not self._pending:
            try:
                chunk = next(self._chunks)
            except StopIteration:
                self._pending = self._ended()
                if not self._pending:
                    return 0
                break
            except httpx.TimeoutException as exc:
                raise StoreTimeoutError(f"the store stopped sending: {cause(exc)}") from None
            except httpx.HTTPError as exc:
                raise StoreUnreachableError(f"the store's answer broke off: {cause(exc)}") from None
            self._pending = self._replaced(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size

    def _replaced(self, chunk: bytes) -> bytes:
        for rewrite in self._rewrites:
            chunk = rewrite.feed(chunk)
        return chunk

    def _ended(self) -> bytes:
        """What the rewrites still hold, each one's end fed through those after it."""
        data = b""
        for rewrite in self._rewrites:
            data = rewrite.feed(data) + rewrite.end()
        return data

    def close(self) -> None:
        """Close the response: a request not read to its end is abandoned with its connection."""
        self._response.close()
        super().close()


class SparqlClient:
    """Forms posted to a SPARQL store, their answers streamed; one connection pool, safe to
    share between threads."""

    def __init__(self, endpoints: Endpoints, *, timeout: float) -> None:
        """A client of ``endpoints``; ``timeout`` bounds the wait for a connection and for
        each part of an answer."""
        self.endpoints = endpoints
        self._client = httpx.Client(
            auth=endpoints.auth(),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )

    def close(self) -> None:
        """Close every connection."""
        self._client.close()

    def query(self, form: list[tuple[str, str]], *, accept: str) -> httpx.Response:
        """Post a query form to the query endpoint (see :meth:`post`)."""
        return self.post(self.endpoints.query, form, accept=accept)

    def update(self, text: str) -> None:
        """Send one update request, and wait for it to be done."""
        url = self.endpoints.update or self.endpoints.query
        self.post(url, [("update", text)], accept="*/*").close()

    def post(self, url: str, form: list[tuple[str, str]], *, accept: str) -> httpx.Response:
        """The store's answer to a form, streamed (close it, or read it to its end).

        Raises:
            StoreTimeoutError: if no answer came in time (504).
            StoreUnreachableError: if the store cannot be reached, refused the credentials or
                answered an error (502). What the store said goes to the log only.
        """
        request = self._client.build_request(
            "POST",
            url,
            content=urlencode(form).encode(),
            headers={"Accept": accept, "Content-Type": "application/x-www-form-urlencoded"},
        )
        try:
            response = self._client.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise StoreTimeoutError(f"the store did not answer in time: {cause(exc)}") from None
        except httpx.HTTPError as exc:
            raise StoreUnreachableError(f"the store cannot be reached: {cause(exc)}") from None
        if response.status_code < 400:
            return response
        try:
            said = " ".join(response.read().decode("utf-8", "replace").split())[:500]
        except httpx.HTTPError:
            said = ""
        finally:
            response.close()
        log.warning("the store at %s answered %d: %s", url, response.status_code, said)
        if response.status_code in (401, 403):
            raise StoreUnreachableError(
                f"the store refused cpgraph's credentials (HTTP {response.status_code})"
            )
        raise StoreUnreachableError(
            f"the store failed to answer (HTTP {response.status_code}); its answer is logged"
        )


def cause(exc: BaseException) -> str:
    """What went wrong, in a word (the exception's kind), never a URL or a credential."""
    return type(exc).__name__.removesuffix("Error").removesuffix("Exception") or "error"
