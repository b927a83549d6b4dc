"""Which other hosts a query or an update may reach: its SERVICE and LOAD calls, checked
against ``CPGRAPH_SERVICE_ALLOW`` before the engine sees the text.

pyoxigraph calls out with an HTTP client of its own that cannot be turned off, so every call
(:func:`cpgraph.sparql.calls.outbound_calls`) is resolved as the engine would resolve it
(``BASE``, ``PREFIX`` and cpgraph's prefixes, every reading of them) and refused with a 400
unless allowed: listed exactly, or under a listed prefix ending in ``/`` whose host is not,
and does not resolve to, an internal address. ``SERVICE ?var`` is refused; ``SILENT`` changes
nothing. An allowed endpoint that fails is a 502 that does not repeat what it said. The rules
for operators are in ``docs/operations.md``.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from cpgraph.errors import InputError, OutboundRefusedError, RemoteEndpointError
from cpgraph.sparql.calls import declarations, outbound_calls

SETTING = "CPGRAPH_SERVICE_ALLOW"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_PLX_ESCAPE = re.compile(r"\\(.)")
_DOT_SEGMENTS = {".", "..", "%2e", ".%2e", "%2e.", "%2e%2e"}
_DEFAULT_PORTS = {"http": 80, "https": 443}

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An http(s) IRI as cpgraph compares it: lower-case scheme and host, the port always
    given, the path never empty, no fragment."""

    scheme: str
    host: str
    port: int
    path: str
    query: str

    def under(self, entry: Endpoint) -> bool:
        """Whether this endpoint lies under ``entry`` taken as a prefix (one ending in ``/``)."""
        return (
            entry.path.endswith("/")
            and not entry.query
            and (self.scheme, self.host, self.port) == (entry.scheme, entry.host, entry.port)
            and self.path.startswith(entry.path)
        )


def parse_endpoint(iri: str) -> Endpoint | None:
    """``iri`` as an :class:`Endpoint`, or None if it is no absolute http(s) IRI with a plain
    host: user information, percent signs in the authority and ``.`` or ``..`` segments in
    the path are refused rather than interpreted.

    >>> parse_endpoint("HTTP://Example.org:080/sparql#x")
    Endpoint(scheme='http', host='example.org', port=80, path='/sparql', query='')
    >>> parse_endpoint("http://user@example.org/") is None
    True
    """
    try:
        parts = urlsplit(iri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    netloc = parts.netloc
    if scheme not in _DEFAULT_PORTS or not netloc or any(c in netloc for c in "@%\\"):
        return None
    host = parts.hostname
    if not host:
        return None
    path = parts.path or "/"
    if any(segment.lower() in _DOT_SEGMENTS for segment in path.split("/")):
        return None
    return Endpoint(scheme, host, port or _DEFAULT_PORTS[scheme], path, parts.query)


def allow_list(text: str | None, name: str = SETTING) -> tuple[str, ...]:
    """The entries of an allow list written in ``text``, separated by spaces or commas.

    Raises:
        InputError: naming ``name``, for an entry that is not an absolute http(s) IRI with a
            host (no user information, no fragment).

    >>> allow_list(" https://query.wikidata.org/sparql, http://10.0.0.5:7878/query ")
    ('https://query.wikidata.org/sparql', 'http://10.0.0.5:7878/query')
    """
    entries = tuple(entry for entry in re.split(r"[\s,]+", text or "") if entry)
    for entry in entries:
        if "#" in entry or parse_endpoint(entry) is None:
            raise InputError(
                f"{name} holds endpoint IRIs or prefixes, each an absolute http(s) IRI with "
                f"a host (no user, no fragment): {entry!r}"
            )
    return entries


@functools.lru_cache(maxsize=8)
def _entries(allow: tuple[str, ...]) -> tuple[Endpoint, ...]:
    parsed = (parse_endpoint(entry) for entry in allow)
    return tuple(entry for entry in parsed if entry is not None)


def is_internal(address: str) -> bool:
    """Whether ``address`` (an IP address) is loopback, link-local, private, unspecified,
    multicast or reserved: somewhere no anonymous request should lead the server.

    >>> [is_internal(a) for a in ("127.0.0.2", "::ffff:10.1.2.3", "fe80::1", "192.0.2.1")]
    [True, True, True, True]
    >>> is_internal("9.9.9.9")
    False
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone does not count
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_unspecified
        or ip.is_multicast
        or ip.is_reserved
    )


def _addresses(host: str, port: int) -> list[str]:
    """The addresses ``host`` stands for (itself, if it is one).

    Raises:
        RemoteEndpointError: if the name does not resolve.
    """
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise RemoteEndpointError(f"the endpoint's host {host!r} does not resolve") from None
    return [str(info[4][0]) for info in found]


def check_endpoint(iri: str, allow: tuple[str, ...], *, keyword: str = "SERVICE") -> None:
    """Refuse a call to ``iri`` unless ``allow`` allows it (see the module's rules).

    Raises:
        OutboundRefusedError: if the endpoint is not allowed.
        RemoteEndpointError: if its host, allowed by a prefix, does not resolve.
    """
    endpoint = parse_endpoint(iri)
    if endpoint is None:
        raise OutboundRefusedError(
            f"{keyword} <{iri}> is refused: only http(s) endpoints with a plain host, "
            f"listed in {SETTING}, are called"
        )
    entries = _entries(allow)
    if endpoint in entries:
        return
    if not any(endpoint.under(entry) for entry in entries):
        why = "it is empty: no other endpoint is called" if not entries else "it is not there"
        raise OutboundRefusedError(
            f"{keyword} <{iri}> is refused: its endpoint must be allowed in {SETTING}, and {why}"
        )
    if any(is_internal(address) for address in _addresses(endpoint.host, endpoint.port)):
        raise OutboundRefusedError(
            f"{keyword} <{iri}> is refused: its host is a loopback, link-local or private "
            f"address, which is called only when the endpoint is listed exactly in {SETTING}"
        )


def mentions_outbound(text: str, *, update: bool = False) -> bool:
    """Whether ``text`` has the letters of ``SERVICE`` (or, in an update, ``LOAD``) at all:
    the cheap test that spares almost every query the lexer."""
    lowered = text.lower()
    return "service" in lowered or (update and "load" in lowered)


def check_query(
    text: str,
    allow: tuple[str, ...],
    *,
    prefixes: Iterable[tuple[str, str]] = (),
    base_iri: str | None = None,
    update: bool = False,
) -> None:
    """Refuse a query that would call an endpoint ``allow`` does not allow; with ``update``,
    an update: a ``LOAD`` too, or a ``SERVICE`` in a ``WHERE`` clause.

    ``prefixes`` and ``base_iri`` are those the text is evaluated with.

    Raises:
        OutboundRefusedError: for a call not allowed, or one this cannot resolve.
        RemoteEndpointError: if an allowed host does not resolve.
    """
    if mentions_outbound(text, update=update):
        keywords = ("SERVICE", "LOAD") if update else ("SERVICE",)
        _check(text, keywords, allow, prefixes, base_iri)


check_update = functools.partial(check_query, update=True)
"""Refuse an update that would call an endpoint ``allow`` does not allow (see
:func:`check_query`)."""


def _check(
    text: str,
    keywords: tuple[str, ...],
    allow: tuple[str, ...],
    prefixes: Iterable[tuple[str, str]],
    base_iri: str | None,
) -> None:
    calls = [(keyword, call) for keyword in keywords for call in outbound_calls(text, keyword)]
    if not calls:
        return
    declared_bases, declared = declarations(text)
    bases = _bases(declared_bases, base_iri)
    namespaces: dict[str, set[str]] = {}
    for name, iri in (*prefixes, *declared):
        namespaces.setdefault(name, set()).update(_resolved(iri, bases))
    for keyword, (_, kind, written, _silent) in calls:
        if kind == "var":
            raise OutboundRefusedError(
                f"{keyword} {written} is refused: an endpoint known only while the query runs "
                f"cannot be checked; write the endpoint's IRI (allowed in {SETTING})"
            )
        if kind == "iri":
            iris = _resolved(written, bases)
        elif kind == "pname":
            name, _, local = written.partition(":")
            local = _PLX_ESCAPE.sub(r"\1", local)
            iris = {namespace + local for namespace in namespaces.get(name, ())}
        else:
            iris = set()
        if not iris:
            raise OutboundRefusedError(
                f"{keyword} {written} is refused: its endpoint cannot be resolved to an IRI "
                f"allowed in {SETTING}"
            )
        for iri in sorted(iris):
            check_endpoint(iri, allow, keyword=keyword)


def _bases(declared: list[str], base_iri: str | None) -> set[str]:
    """Every base a relative IRI of the text may be resolved against."""
    bases = {base_iri} if base_iri else set()
    for base in declared:
        bases |= _resolved(base, bases) if not _SCHEME.match(base) else {base}
    return bases


def _resolved(iri: str, bases: set[str]) -> set[str]:
    """``iri`` made absolute against each of ``bases`` (itself when it is absolute)."""
    if _SCHEME.match(iri):
        return {iri}
    return {urljoin(base, iri) for base in bases}


def remote_failure(text: str, error: BaseException) -> RemoteEndpointError | None:
    """The error to answer when evaluating ``text`` failed with ``error``: a 502 that does
    not repeat what the remote endpoint said, if ``text`` calls one; else None (the caller's
    own error stands). The engine's message goes to the log."""
    if not mentions_outbound(text, update=True):
        return None
    if not (outbound_calls(text, "SERVICE") or outbound_calls(text, "LOAD")):
        return None
    log.warning("a remote endpoint failed: %s", error)
    return RemoteEndpointError(
        "a remote endpoint this request calls (SERVICE or LOAD) failed or could not be "
        "reached; what it answered is not shown"
    )
