"""What a SPARQL Protocol query asks for, with the operator's rules applied: the query
endpoint's routes and the fast GET path (:mod:`cpgraph.server.protocol`) both make their
:class:`cpgraph.engine.requests.QueryRequest` here."""

from __future__ import annotations

import codecs
import functools
import re
from urllib.parse import unquote

from cpgraph.engine.negotiation import FORMAT_PARAMETERS, with_format_parameters
from cpgraph.engine.requests import QueryRequest
from cpgraph.errors import InputError, PayloadTooLargeError
from cpgraph.rdf.namespaces import prefix_pairs
from cpgraph.server.deps import absolute_iri
from cpgraph.server.runtime import Runtime
from cpgraph.sparql.outbound import check_query
from cpgraph.sparql.text import check_complexity

_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\x00-\x20<>\"{}|\\^`]*")


def query_request(
    runtime: Runtime,
    params: dict[str, list[str]],
    *,
    accept: str | None,
    authorised: bool,
    base_iri: str | None,
) -> QueryRequest:
    """The query a protocol request asks for, on the current build, with its limits. Its
    format parameters (``format``, ``output``, ``results``) go before ``accept``
    (:func:`~cpgraph.engine.negotiation.with_format_parameters`).

    Raises:
        InputError: unless there is exactly one ``query`` parameter.
        PayloadTooLargeError: if the query is longer than the operator allows.
        QueryTooComplexError: if it nests deeper or holds more operators than allowed.
        OutboundRefusedError: if it would call an endpoint the operator has not allowed.
        InputError: if a ``default-graph-uri`` or ``named-graph-uri`` is not an absolute IRI.
    """
    settings = runtime.settings
    texts = params["query"]
    if len(texts) != 1:
        raise InputError("send exactly one 'query' parameter")
    text = texts[0]
    if len(text) * 4 > settings.max_query_bytes and len(text.encode()) > settings.max_query_bytes:
        raise PayloadTooLargeError(
            f"the query is longer than the {settings.max_query_bytes} bytes this service accepts"
        )
    check_complexity(
        text, max_depth=settings.max_query_depth, max_operators=settings.max_query_operators
    )
    if runtime.board is not None:
        runtime.board.check(text)
    prefixes = prefix_pairs(settings.base_iri)
    check_query(text, settings.service_allow, prefixes=prefixes, base_iri=base_iri)
    return QueryRequest(
        query=text,
        base_iri=base_iri,  # relative IRIs resolve against the endpoint's URL
        store=runtime.store,
        accept=with_format_parameters(
            [value for name in FORMAT_PARAMETERS for value in params.get(name, ())], accept
        ),
        default_graphs=_graph_iris(params, "default-graph-uri"),
        named_graphs=_graph_iris(params, "named-graph-uri")
        if "named-graph-uri" in params
        else None,
        prefixes=prefixes,
        row_limit=None if authorised else settings.row_limit,
    )


def _graph_iris(params: dict[str, list[str]], name: str) -> tuple[str, ...]:
    """The graphs a dataset parameter (``default-graph-uri``, ``named-graph-uri``) names.

    Raises:
        InputError: if one is not an absolute IRI.
    """
    return tuple(absolute_iri(iri, what=name) for iri in params.get(name, ()))


@functools.lru_cache(maxsize=64)
def endpoint_base(url: str) -> str | None:
    """``url`` (the endpoint's, without query) as a base IRI, or None where it is no plain
    absolute IRI (a Host header can hold anything)."""
    return url if _IRI.fullmatch(url) else None


@functools.lru_cache(maxsize=64)
def addressed_base(
    scheme: str, host: bytes | None, server: tuple[str, int | None] | None
) -> str | None:
    """The endpoint's URL as the client addressed it (as Starlette's ``request.url``), as a
    base IRI (see :func:`endpoint_base`), from an ASGI scope's parts and its Host header; a
    service is addressed by few names."""
    if host is not None:
        return endpoint_base(f"{scheme}://{host.decode('latin-1')}/sparql")
    if server is None:
        return endpoint_base("/sparql")
    name, port = server
    default = 443 if scheme == "https" else 80
    url = f"{scheme}://{name}/sparql" if port == default else f"{scheme}://{name}:{port}/sparql"
    return endpoint_base(url)


def _unquote(text: str) -> str:
    """``urllib.parse.unquote(text)``, for ASCII text in one pass of C code instead of a
    Python step per escape."""
    if not text.isascii():
        return unquote(text)  # a raw character beyond ASCII stays as it is
    try:
        escaped = text.replace("\\", "\\\\").replace("%", "\\x")
        return codecs.decode(escaped, "unicode_escape").encode("latin-1").decode("utf-8", "replace")
    except UnicodeDecodeError:  # a % not followed by two hex digits
        return unquote(text)


def query_params(query_string: str) -> dict[str, list[str]]:
    """A URL's query parameters by name, each with every value given, as
    ``urllib.parse.parse_qsl(query_string, keep_blank_values=True)`` reads them (so as the
    application reads them), with less work per parameter."""
    params: dict[str, list[str]] = {}
    for field in query_string.split("&"):
        if not field:
            continue
        name, _, value = field.partition("=")
        if "+" in field:
            name = name.replace("+", " ")
            value = value.replace("+", " ")
        if "%" in name:
            name = _unquote(name)
        if "%" in value:
            value = _unquote(value)
        if name in params:
            params[name].append(value)
        else:
            params[name] = [value]
    return params
