"""The server's HTTP protocol: uvicorn's, answering ``GET /sparql?query=`` without ASGI.

A point lookup costs Oxigraph a few tens of microseconds. Under uvicorn, the ASGI round of a
request (a task, the scope, the middleware stack, the response messages) costs several times
that, so the endpoint's most frequent request is answered here, in the protocol: a point
lookup is evaluated on the spot (:func:`cpgraph.engine.workers.answer_at_once`), any other query
goes to the worker pool with a callback (:meth:`cpgraph.engine.workers.QueryPool.submit`), and a
result that came in one piece is written straight to the connection, with the same headers
the application would send (those of :func:`cpgraph.server.routes.sparql.result_response`,
the CORS ones, uvicorn's own). An answer that streams is written here too, chunk by chunk as
the query thread sends them (:meth:`cpgraph.engine.workers.QueryPool.follow`), holding the thread
back while the client does not read. Everything else takes uvicorn's usual way into the
application: other requests, and a GET query whose answer must be compressed or is an error,
which is sent through an ASGI cycle of its own once the query has answered. The rules
(limits, the row limit, negotiation, the base IRI) are the application's, called from here.

The GET queries that may be answered at once and are read in one turn of the event loop are
evaluated together at the end of it, then answered (:class:`_Turn`): Oxigraph's code and data
stay in the CPU's caches from one lookup to the next instead of being pushed out by the HTTP
work between them. Any other query goes to the pool as soon as it is read.

Requests pipelined on one connection are answered in order: while a query answered here is
in flight, uvicorn queues the requests behind it, as it does behind its own.

Every response written here carries the security headers (:mod:`cpgraph.server.security`).
A request line longer than httptools parses (:data:`MAX_URL_BYTES`) is refused as soon as
it passes that length, with a 413 problem; any other request that is not HTTP gets a 400
problem instead of uvicorn's plain text.
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import json
import logging
import time
from typing import Any
from urllib.parse import unquote

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
from cpgraph.engine.workers import (
    ClientLimiter,
    QueryHead,
    QueryJob,
    QueryPool,
    QueryRequest,
    WholeBody,
    answer_or_admit,
    may_answer_at_once,
)
from cpgraph.errors import CpgraphError, InputError, PayloadTooLargeError, StoreError
from cpgraph.server.deps import follow_current_build, token_matches
from cpgraph.server.problems import PROBLEM_JSON, problem_response
from cpgraph.server.routes.sparql import (
    CORS_EXPOSED,
    GZIP_MINIMUM,
    endpoint_base,
    query_request,
    result_headers,
    result_response,
    with_charset,
)
from cpgraph.server.security import HEADER_LINES, HEADERS

log = logging.getLogger(__name__)

_EXPOSED = ", ".join(CORS_EXPOSED).encode("latin-1")
_CORS_LINES = (
    b"access-control-allow-origin: *\r\naccess-control-expose-headers: " + _EXPOSED + b"\r\n"
)
_SECURITY = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in HEADERS]
# The longest request target httptools parses (httptools.parse_url): a longer one is refused
# with a 413 problem as soon as it is read that far.
MAX_URL_BYTES = 0xFFFF


def sparql_protocol(app: FastAPI) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (``uvicorn.Config(http=...)``) answering GET queries for
    ``app``, which must be the application uvicorn runs."""
    return type(
        "SparqlHttpProtocol", (SparqlHttpProtocol,), {"cpgraph_app": app, "cpgraph_turn": _Turn()}
    )


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
    cpgraph_turn: _Turn  # the GET queries that arrived in this turn of the event loop
    answering: _Answer | None = None  # the GET query in flight on this connection
    url_too_long = False  # the request line passed MAX_URL_BYTES (the parser was stopped)

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.answering is not None:
            self.answering.resumed()  # a streamed answer may go on

    def connection_lost(self, exc: Exception | None) -> None:
        answer = self.answering
        super().connection_lost(exc)
        if answer is not None:
            answer.abandon()  # its client went away: stop the query, free the client's slot

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self.url_too_long = True
            raise _UrlTooLongError  # stops the parser: uvicorn then calls send_400_response

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what its parser refused, as a problem: 413 for a request line
        over :data:`MAX_URL_BYTES`, 400 for anything else that is not HTTP; the connection
        is closed."""
        if self.url_too_long:
            error: CpgraphError = PayloadTooLargeError(
                f"the request line is longer than the {MAX_URL_BYTES} bytes this service "
                "reads: send a long query by POST"
            )
        else:
            error = InputError("the request is not valid HTTP/1.1")
        settings: Settings = self.cpgraph_app.state.settings
        body = json.dumps(error.to_problem(base=settings.base_iri)).encode()
        parts = [STATUS_LINE[error.status]]
        for name, value in self.server_state.default_headers:
            parts += (name, b": ", value, b"\r\n")
        parts += (
            b"content-type: " + PROBLEM_JSON.encode() + b"\r\n",
            HEADER_LINES,
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        )
        self.transport.write(b"".join(parts))
        self.transport.close()

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
        params = query_params(query_string.decode("latin-1"))
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


class _UrlTooLongError(Exception):
    """Raised in a parser callback to stop reading a request line that is too long."""


TURN_SECONDS = 0.005  # the longest the queries of one turn are evaluated before answering


class _Turn:
    """The GET queries to try at once that arrived in one turn of the event loop, evaluated
    together.

    Requests come in bursts (one turn of the loop reads every connection that has one), and
    a point lookup costs Oxigraph far less when it follows another lookup than when it
    follows the parsing and writing of HTTP, which push its code and data out of the CPU's
    caches: at concurrency 8 evaluating the turn's queries one after another, then writing
    their answers, takes 10% less CPU per request than answering each as it is read.
    The wait is one turn of the loop, microseconds. A turn evaluates for ``TURN_SECONDS``
    at most (an answer given at once may take up to 20 ms): the queries left are evaluated
    in the next turn, in the order they came, after the answers so far are written.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[_Answer, QueryRequest]] = []

    def add(self, answer: _Answer, request: QueryRequest) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._run)
        self._pending.append((answer, request))

    def _run(self) -> None:
        pending, self._pending = self._pending, []
        # Connections that went meanwhile are skipped (their answers were abandoned).
        pending = [(answer, request) for answer, request in pending if not answer.gone]
        if not pending:
            return
        state = pending[0][0].protocol.cpgraph_app.state
        limiter: ClientLimiter = state.limiter
        outcomes = []
        deadline = time.monotonic() + TURN_SECONDS
        for answer, request in pending:
            outcomes.append(answer.evaluate(request, limiter))
            if time.monotonic() > deadline:
                break
        left = pending[len(outcomes) :]
        if left:
            if not self._pending:
                asyncio.get_running_loop().call_soon(self._run)
            self._pending[:0] = left
        settings: Settings = state.settings
        pool: QueryPool = state.pool
        for (answer, request), outcome in zip(pending, outcomes, strict=False):
            try:
                answer.respond(request, outcome, settings, limiter, pool)
            except Exception:  # a defect here: the client must not wait for ever
                log.exception("answering a GET query failed")
                answer.protocol.transport.close()


class _Answer:
    """One GET query answered by the protocol, from its parameters to its response."""

    __slots__ = (
        "client",
        "gone",
        "headers",
        "in_flight",
        "job",
        "limiter",
        "owed",
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
        self.headers = dict(protocol.headers)
        client = protocol.client
        self.client = client[0] if client else "unknown"
        self.limiter: ClientLimiter | None = None
        self.job: QueryJob | None = None
        self.gone = False  # the connection went before the answer
        self.owed = 0  # chunks of a streamed answer written while the client was not reading

    def start(self) -> None:
        """Make the query's request and queue it for this turn of the event loop (see
        :class:`_Turn`); a request that is wrong is answered at once."""
        protocol = self.protocol
        app = protocol.cpgraph_app
        settings: Settings = app.state.settings
        headers = self.headers
        try:
            follow_current_build(app)
            request = query_request(
                app,
                self.params,
                accept=_text(headers.get(b"accept")),
                authorised=token_matches(_text(headers.get(b"authorization")), settings),
                base_iri=_endpoint_base(
                    self.scope["scheme"], headers.get(b"host"), self.scope["server"]
                ),
            )
        except CpgraphError as exc:
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        if may_answer_at_once(request):
            protocol.cpgraph_turn.add(self, request)
            return
        # Any other query goes to the pool now: waiting for the end of the turn would only
        # delay it.
        state = app.state
        limiter: ClientLimiter = state.limiter
        try:
            limiter.acquire(self.client)
        except CpgraphError as exc:
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        self.respond(request, None, settings, limiter, state.pool)

    def evaluate(
        self, request: QueryRequest, limiter: ClientLimiter
    ) -> tuple[QueryHead, bytes] | CpgraphError | None:
        """The answer given at once, the error the query raised, or None when the query goes
        to the pool, with a place taken under the client's limit (:func:`answer_or_admit`)."""
        try:
            return answer_or_admit(request, limiter, self.client)
        except CpgraphError as exc:
            return exc
        except Exception as exc:
            # A defect, answered as the pool answers it: raised out of the turn, it would
            # leave every query of the turn waiting for ever.
            log.exception("evaluating a GET query at once failed")
            return StoreError(f"query failed: {exc}")

    def respond(
        self,
        request: QueryRequest,
        outcome: tuple[QueryHead, bytes] | CpgraphError | None,
        settings: Settings,
        limiter: ClientLimiter,
        pool: QueryPool,
    ) -> None:
        """Send what :meth:`evaluate` gave, or hand the query to the pool."""
        if outcome is None:
            self.limiter = limiter
            if self.gone:
                self._release()
                return
            self.job = pool.submit(request, self._first)
        elif self.gone:
            return
        elif isinstance(outcome, CpgraphError):
            self._send_response(problem_response(outcome, base=settings.base_iri))
        else:
            head, content = outcome
            self._whole(head, content, settings)

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
        self.gone = True
        job, self.job = self.job, None
        if job is not None:
            self.protocol.cpgraph_app.state.pool.stop(job)
        self._release()

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
            head, content = payload
            self._whole(head, content, settings)
            return
        if kind == "head" and not self._gzip():
            self._stream(pool, job, payload, settings)
            return
        try:
            head, chunks = pool.outcome(job, kind, payload)
        except CpgraphError as exc:
            self._release()
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        self._send_response(result_response(head, chunks, settings, done=self._release))

    def _stream(self, pool: QueryPool, job: QueryJob, head: QueryHead, settings: Settings) -> None:
        """Write a streamed answer chunk by chunk as the query thread sends them (chunked
        transfer coding), with no ASGI cycle: the head now, each chunk from
        :meth:`_streamed`. While the client is not reading (the transport's buffer is full)
        the chunks written are owed to the thread, and given back when it reads again
        (:meth:`resumed`), so the thread waits instead of the memory growing."""
        self.job = job  # a connection that goes stops the query (see abandon)
        self.protocol.transport.write(
            self._head(_head_block(head, settings), b"transfer-encoding: chunked\r\n")
        )
        pool.follow(job, self._streamed)

    def _streamed(self, kind: str, payload: Any) -> None:
        """One message of a streamed answer (see :meth:`QueryPool.follow`)."""
        job = self.job
        if job is None:
            return  # abandoned
        protocol = self.protocol
        if kind == "data":
            protocol.transport.writelines((b"%x\r\n" % len(payload), payload, b"\r\n"))
            if protocol.flow.write_paused:
                self.owed += 1
            else:
                job.ack()
            return
        self.job = None
        protocol.answering = None
        self._release()
        if kind == "end":
            protocol.transport.write(b"0\r\n\r\n")
            if protocol.access_log:
                self._log(200)
            self._finish()
            return
        # An error once the answer is under way: it can only be cut short, as uvicorn does.
        log.warning("a streamed answer was cut short: %s", payload)
        protocol.transport.close()

    def resumed(self) -> None:
        """The client reads again: give the query thread back the chunks it is owed."""
        job = self.job
        while self.owed and job is not None:
            self.owed -= 1
            job.ack()

    def _whole(self, head: QueryHead, content: bytes, settings: Settings) -> None:
        """Send an answer that is all there: written here unless it is to be compressed."""
        if len(content) < GZIP_MINIMUM or not self._gzip():
            self._release()
            self._write(_head_block(head, settings), content)
            return
        self._send_response(result_response(head, WholeBody(content), settings, done=self._release))

    def _gzip(self) -> bool:
        """Whether the client takes gzip (its answer then goes through the application's
        gzip middleware)."""
        return b"gzip" in self.headers.get(b"accept-encoding", b"")

    def _cors(self) -> list[tuple[bytes, bytes]]:
        if b"origin" not in self.headers:
            return []
        return [
            (b"access-control-allow-origin", b"*"),
            (b"access-control-expose-headers", _EXPOSED),
        ]

    def _write(self, head_block: bytes, body: bytes) -> None:
        """Write a whole 200 response to the connection and finish the request."""
        protocol = self.protocol
        protocol.answering = None
        if protocol.access_log:
            self._log(200)
        length = b"content-length: %d\r\n" % len(body)
        protocol.transport.write(self._head(head_block, length) + body)
        self._finish()

    def _head(self, head_block: bytes, framing: bytes) -> bytes:
        """The status line and headers of a 200 answer written here, up to the blank line:
        uvicorn's own, the answer's (``head_block``), the CORS ones, and ``framing`` (its
        content-length or its transfer coding)."""
        parts = [STATUS_LINE[200]]
        for name, value in self.protocol.server_state.default_headers:
            parts += (name, b": ", value, b"\r\n")
        parts.append(head_block)
        parts.append(HEADER_LINES)
        if b"origin" in self.headers:
            parts.append(_CORS_LINES)
        parts.append(framing)
        if not self.in_flight.keep_alive:
            parts.append(b"connection: close\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

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
        for field, text in _SECURITY:  # the application's middleware is not on this way
            headers.append(field, text)
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


_HEAD_BLOCKS: dict[tuple[QueryHead, str], bytes] = {}


def _head_block(head: QueryHead, settings: Settings) -> bytes:
    """The header lines of an answer written here, as sent: the application's, and Vary:
    Origin (the CORS middleware's). A service sends few kinds of head: each is made once."""
    key = (head, settings.base_iri)
    block = _HEAD_BLOCKS.get(key)
    if block is None:
        lines = [(b"content-type", with_charset(head.media_type).encode("latin-1"))]
        for name, value in result_headers(head, settings).items():
            if name == "Vary":
                value = f"{value}, Origin"
            lines.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        block = b"".join(name + b": " + value + b"\r\n" for name, value in lines)
        if len(_HEAD_BLOCKS) >= 64:
            _HEAD_BLOCKS.clear()
        _HEAD_BLOCKS[key] = block
    return block


@functools.lru_cache(maxsize=64)
def _endpoint_base(
    scheme: str, host: bytes | None, server: tuple[str, int | None] | None
) -> str | None:
    """The endpoint's URL as the client addressed it (as Starlette's ``request.url``), as
    a base IRI (see :func:`endpoint_base`); a service is addressed by few names."""
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
    Python step per escape (a query of 350 characters: 16 -> 2.5 µs)."""
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


async def _send_prepared(scope: Scope, receive: Receive, send: Send) -> None:
    response: Response = scope["cpgraph.response"]
    await response(scope, receive, send)


_GZIP = GZipMiddleware(_send_prepared, minimum_size=GZIP_MINIMUM)
