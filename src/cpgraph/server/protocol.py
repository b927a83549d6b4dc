"""The server's HTTP protocol: uvicorn's, answering ``GET /sparql?query=`` without ASGI.

A point lookup costs Oxigraph a few tens of microseconds. Under uvicorn, the ASGI round of a
request (a task, the scope, the middleware stack, the response messages) costs several times
that, so the endpoint's most frequent request is answered here, in the protocol: a point
lookup is evaluated on the spot (:func:`cpgraph.workers.answer_at_once`), any other query
goes to the worker pool with a callback (:meth:`cpgraph.workers.QueryPool.submit`), and a
result that came in one piece is written straight to the connection, with the same headers
the application would send (those of :func:`cpgraph.server.routes.sparql.result_response`,
the CORS ones, uvicorn's own). Everything else takes uvicorn's usual way into the
application: other requests, and a GET query whose answer streams, must be compressed or is an
error, which is sent through an ASGI cycle of its own once the query has answered. The rules
(limits, the row limit, negotiation, the base IRI) are the application's, called from here.

Requests pipelined on one connection are answered in order: while a query answered here is
in flight, uvicorn queues the requests behind it, as it does behind its own.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qsl

import httptools
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import (
    STATUS_LINE,
    HttpToolsProtocol,
    RequestResponseCycle,
)
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from cpgraph.config import Settings
from cpgraph.errors import CpgraphError
from cpgraph.server.deps import follow_current_build, token_matches
from cpgraph.server.problems import problem_response
from cpgraph.server.routes.sparql import (
    CORS_EXPOSED,
    GZIP_MINIMUM,
    endpoint_base,
    multi_params,
    query_request,
    result_headers,
    result_response,
    with_charset,
)
from cpgraph.workers import (
    ClientLimiter,
    QueryHead,
    QueryJob,
    QueryPool,
    WholeBody,
    answer_or_admit,
)

log = logging.getLogger(__name__)

_EXPOSED = ", ".join(CORS_EXPOSED).encode("latin-1")


def sparql_protocol(app: FastAPI) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (``uvicorn.Config(http=...)``) answering GET queries for
    ``app``, which must be the application uvicorn runs."""
    return type("SparqlHttpProtocol", (SparqlHttpProtocol,), {"cpgraph_app": app})


class _NoWaiter:
    """uvicorn wakes a request cycle's body reader when the connection goes; nothing here
    reads a body."""

    def set(self) -> None:
        """Nothing to wake."""


class _InFlight:
    """Stands in for uvicorn's request cycle while a query answered here is in flight: uvicorn
    queues pipelined requests behind it and tells it when the connection goes or shuts down."""

    __slots__ = ("disconnected", "keep_alive", "response_complete")

    message_event = _NoWaiter()

    def __init__(self, keep_alive: bool) -> None:
        self.keep_alive = keep_alive
        self.response_complete = False
        self.disconnected = False


class SparqlHttpProtocol(HttpToolsProtocol):
    """See the module's description; made for an app by :func:`sparql_protocol`."""

    cpgraph_app: FastAPI
    answering: _Answer | None = None  # the GET query in flight on this connection

    def connection_lost(self, exc: Exception | None) -> None:
        answer = self.answering
        super().connection_lost(exc)
        if answer is not None:
            answer.abandon()  # its client went away: stop the query, free the client's slot

    def on_headers_complete(self) -> None:
        if not self._take():
            super().on_headers_complete()

    def _take(self) -> bool:
        """Whether this request is a GET query to answer here (then it is under way)."""
        parser = self.parser
        if parser.get_method() != b"GET" or b"query=" not in self.url:
            return False
        if self.cycle is not None and not self.cycle.response_complete:
            return False  # pipelined behind another request: uvicorn queues it
        if parser.should_upgrade():
            return False
        url = httptools.parse_url(self.url)
        if url.path != b"/sparql" or not url.query:
            return False
        query_string: bytes = url.query
        params = multi_params(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
        if "query" not in params or "update" in params:
            return False  # the application answers (an update by GET is its error to give)
        version = parser.get_http_version()
        scope = self.scope
        scope["method"] = "GET"
        scope["path"] = "/sparql"
        scope["raw_path"] = b"/sparql"
        scope["query_string"] = query_string
        if version != "1.1":
            scope["http_version"] = version
        in_flight = _InFlight(keep_alive=version != "1.0" and parser.should_keep_alive())
        self.cycle = in_flight  # type: ignore[assignment]
        self.answering = _Answer(self, in_flight, params)
        self.answering.start()
        return True

    def on_body(self, body: bytes) -> None:
        if isinstance(self.cycle, _InFlight):
            return  # a GET's body means nothing here
        super().on_body(body)

    def on_message_complete(self) -> None:
        if isinstance(self.cycle, _InFlight):
            return
        super().on_message_complete()


class _Answer:
    """One GET query answered by the protocol, from its parameters to its response."""

    __slots__ = (
        "client",
        "headers",
        "in_flight",
        "job",
        "limiter",
        "params",
        "protocol",
        "scope",
    )

    def __init__(
        self, protocol: SparqlHttpProtocol, in_flight: _InFlight, params: dict[str, list[str]]
    ) -> None:
        self.protocol = protocol
        self.in_flight = in_flight
        self.params = params
        self.scope: Any = protocol.scope
        self.headers = {name: value for name, value in protocol.headers}
        client = protocol.client
        self.client = client[0] if client else "unknown"
        self.limiter: ClientLimiter | None = None
        self.job: QueryJob | None = None

    def start(self) -> None:
        app = self.protocol.cpgraph_app
        settings: Settings = app.state.settings
        headers = self.headers
        try:
            follow_current_build(app)
            request = query_request(
                app,
                self.params,
                accept=_text(headers.get(b"accept")),
                authorised=token_matches(_text(headers.get(b"authorization")), settings),
                base_iri=endpoint_base(self._endpoint()),
            )
            limiter: ClientLimiter = app.state.limiter
            answer = answer_or_admit(request, limiter, self.client)
        except CpgraphError as exc:
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        if answer is not None:
            self._whole(*answer)
            return
        self.limiter = limiter
        self.job = app.state.pool.submit(request, self._first)

    def _first(self, kind: str, payload: Any) -> None:
        """The query's first message (see :meth:`QueryPool.submit`)."""
        job = self.job
        if job is None:
            return  # abandoned
        try:
            self._answered(self.protocol.cpgraph_app.state.pool, job, kind, payload)
        except Exception:  # a defect here: the client must not wait for ever
            log.exception("answering a GET query failed")
            self._release()
            self.protocol.transport.close()

    def abandon(self) -> None:
        """The connection went before the answer: stop the query and free the client's slot."""
        job, self.job = self.job, None
        if job is not None:
            self.protocol.cpgraph_app.state.pool.stop(job)
        self._release()

    def _endpoint(self) -> str:
        """The endpoint's URL as the client addressed it (as Starlette's ``request.url``)."""
        scheme = self.scope["scheme"]
        host = self.headers.get(b"host")
        if host is not None:
            return f"{scheme}://{host.decode('latin-1')}/sparql"
        server = self.scope["server"]
        if server is None:
            return "/sparql"
        name, port = server
        default = 443 if scheme == "https" else 80
        return (
            f"{scheme}://{name}/sparql" if port == default else f"{scheme}://{name}:{port}/sparql"
        )

    def _release(self) -> None:
        if self.limiter is not None:
            self.limiter.release(self.client)
            self.limiter = None

    def _answered(self, pool: QueryPool, job: QueryJob, kind: str, payload: Any) -> None:
        app = self.protocol.cpgraph_app
        settings: Settings = app.state.settings
        self.job = None
        if self.protocol.transport.is_closing():  # the client went away meanwhile
            pool.stop(job)
            self._release()
            return
        if kind == "whole":
            self._whole(*payload)
            return
        try:
            head, chunks = pool.outcome(job, kind, payload)
        except CpgraphError as exc:
            self._release()
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        self._send_response(result_response(head, chunks, settings, done=self._release))

    def _whole(self, head: QueryHead, content: bytes) -> None:
        """Send an answer that is all there: written here unless it is to be compressed."""
        settings: Settings = self.protocol.cpgraph_app.state.settings
        if len(content) < GZIP_MINIMUM or b"gzip" not in self.headers.get(b"accept-encoding", b""):
            self._release()
            self._write(200, _head_lines(head, settings), content)
            return
        self._send_response(result_response(head, WholeBody(content), settings, done=self._release))

    def _cors(self) -> list[tuple[bytes, bytes]]:
        if b"origin" not in self.headers:
            return []
        return [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", _EXPOSED),
        ]

    def _write(self, status: int, lines: list[tuple[bytes, bytes]], body: bytes) -> None:
        """Write a whole response to the connection and finish the request."""
        protocol = self.protocol
        protocol.answering = None
        in_flight = self.in_flight
        lines = protocol.server_state.default_headers + lines + self._cors()
        lines.append((b"content-length", str(len(body)).encode()))
        if not in_flight.keep_alive:
            lines.append((b"connection", b"close"))
        parts = [STATUS_LINE[status]]
        for name, value in lines:
            parts += (name, b": ", value, b"\r\n")
        parts += (b"\r\n", body)
        if protocol.access_log:
            self._log(status)
        protocol.transport.write(b"".join(parts))
        self._finish()

    def _finish(self) -> None:
        self.in_flight.response_complete = True
        protocol = self.protocol
        if not self.in_flight.keep_alive:
            protocol.transport.close()
            return
        protocol.on_response_complete()

    def _log(self, status: int) -> None:
        self.protocol.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(self.scope),
            "GET",
            get_path_with_query_string(self.scope),
            self.scope["http_version"],
            status,
        )

    def _send_response(self, response: Response) -> None:
        """Send a response through an ASGI cycle of its own (streamed, compressed, an error),
        with the CORS headers the application's middleware would add."""
        protocol = self.protocol
        protocol.answering = None  # a disconnection is the cycle's to see from here
        headers = response.headers
        headers["vary"] = f"{headers['vary']}, Origin" if "vary" in headers else "Origin"
        for name, value in self._cors():
            headers[name.decode()] = value.decode()
        cycle = RequestResponseCycle(
            scope=self.scope,
            transport=protocol.transport,
            flow=protocol.flow,
            logger=protocol.logger,
            access_logger=protocol.access_logger,
            access_log=protocol.access_log,
            default_headers=protocol.server_state.default_headers,
            message_event=asyncio.Event(),
            expect_100_continue=False,
            keep_alive=self.in_flight.keep_alive,
            on_response=self._cycle_complete,
        )
        cycle.more_body = False  # the request was read whole
        cycle.disconnected = self.in_flight.disconnected
        if protocol.cycle is self.in_flight:  # type: ignore[comparison-overlap]  # none behind
            protocol.cycle = cycle
        self.scope["cpgraph.response"] = response
        protocol._start_asgi_task(cycle, _GZIP)  # type: ignore[arg-type]  # an ASGI app

    def _cycle_complete(self) -> None:
        self.in_flight.response_complete = True
        self.protocol.on_response_complete()


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _head_lines(head: QueryHead, settings: Settings) -> list[tuple[bytes, bytes]]:
    """The header lines of an answer written here: the application's, and Vary: Origin
    (the CORS middleware's)."""
    lines = [(b"content-type", with_charset(head.media_type).encode("latin-1"))]
    for name, value in result_headers(head, settings).items():
        if name == "Vary":
            value = f"{value}, Origin"
        lines.append((name.lower().encode("latin-1"), value.encode("latin-1")))
    return lines


async def _send_prepared(scope: Scope, receive: Receive, send: Send) -> None:
    response: Response = scope["cpgraph.response"]
    await response(scope, receive, send)


_GZIP = GZipMiddleware(_send_prepared, minimum_size=GZIP_MINIMUM)
