"""The server's HTTP protocol: uvicorn's, answering ``GET /sparql?query=`` without ASGI.

The ASGI round of a request costs more than a point lookup, so the endpoint's most frequent
request is answered here, by the application's rules (:mod:`cpgraph.server.query_requests`,
:mod:`cpgraph.server.responses`) and header rules (:mod:`cpgraph.server.headers`). A point
lookup is evaluated on the spot, with the others of its turn of the event loop
(:mod:`cpgraph.server.turns`); any other query goes to the worker pool. An answer in one
piece is written straight to the connection, one that streams chunk by chunk; an answer to
compress, and an error, go through an ASGI cycle of their own and the application's header
middleware. Everything else takes uvicorn's usual way. A request line over
:data:`MAX_URL_BYTES` is a 413 problem, any other request that is not HTTP a 400 problem. A
request offering an upgrade (Java's ``Upgrade: h2c``) is read as plain HTTP/1.1, body and all
(:mod:`cpgraph.server.upgrades`).

This leans on uvicorn's internals: :mod:`cpgraph.server.protocol_check` checks them at
start-up, and without them the server answers through ASGI alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httptools
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from cpgraph.config import Settings
from cpgraph.engine.at_once import answer_or_admit, may_answer_at_once
from cpgraph.engine.jobs import QueryJob
from cpgraph.engine.limits import ClientLimiter
from cpgraph.engine.messages import Data, End, Failed, Head, Message, Whole
from cpgraph.engine.pool import QueryPool
from cpgraph.engine.requests import QueryHead, QueryRequest, WholeBody
from cpgraph.errors import CpgraphError, InputError, PayloadTooLargeError, StoreError
from cpgraph.server.deps import follow_current_build, token_matches
from cpgraph.server.headers import CORS_SIMPLE, GZIP_MINIMUM, header_stack
from cpgraph.server.problems import PROBLEM_JSON, problem_response
from cpgraph.server.query_requests import addressed_base, query_params, query_request
from cpgraph.server.responses import head_lines, result_response
from cpgraph.server.runtime import Runtime
from cpgraph.server.security import HEADER_LINES
from cpgraph.server.turns import Outcome, Turn
from cpgraph.server.upgrades import UpgradeIgnoringProtocol

log = logging.getLogger(__name__)

_CORS_LINES = b"".join(name + b": " + value + b"\r\n" for name, value in CORS_SIMPLE)
# The longest request target httptools parses (httptools.parse_url): a longer one is refused
# with a 413 problem as soon as it is read that far.
MAX_URL_BYTES = 0xFFFF


def sparql_protocol(runtime: Runtime) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol (``uvicorn.Config(http=...)``) answering GET queries with
    ``runtime``, that of the application uvicorn runs."""
    return type(
        "SparqlHttpProtocol",
        (SparqlHttpProtocol,),
        {"cpgraph_runtime": runtime, "cpgraph_turn": Turn()},
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


class SparqlHttpProtocol(UpgradeIgnoringProtocol):
    """See the module's description; made for an app by :func:`sparql_protocol`."""

    cpgraph_runtime: Runtime
    cpgraph_turn: Turn  # the GET queries that arrived in this turn of the event loop
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
        settings = self.cpgraph_runtime.settings
        body = json.dumps(error.to_problem(base=settings.base_iri)).encode()
        parts = _status_lines(error.status, self.server_state.default_headers)
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
        :class:`~cpgraph.server.turns.Turn`); a request that is wrong is answered at once."""
        protocol = self.protocol
        runtime = protocol.cpgraph_runtime
        settings = runtime.settings
        headers = self.headers
        try:
            follow_current_build(runtime)
            request = query_request(
                runtime,
                self.params,
                accept=_text(headers.get(b"accept")),
                authorised=token_matches(_text(headers.get(b"authorization")), settings),
                base_iri=addressed_base(
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
        try:
            runtime.limiter.acquire(self.client)
        except CpgraphError as exc:
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        self.respond(request, None)

    def evaluate(self, request: QueryRequest) -> Outcome:
        """The answer given at once, the error the query raised, or None when the query goes
        to the pool, with a place taken under the client's limit (:func:`answer_or_admit`)."""
        try:
            answer = answer_or_admit(request, self.protocol.cpgraph_runtime.limiter, self.client)
        except CpgraphError as exc:
            return Failed(exc)
        except Exception as exc:
            # A defect, answered as the pool answers it: raised out of the turn, it would
            # leave every query of the turn waiting for ever.
            log.exception("evaluating a GET query at once failed")
            return Failed(StoreError(f"query failed: {exc}"))
        return answer

    def respond(self, request: QueryRequest, outcome: Outcome) -> None:
        """Send what :meth:`evaluate` gave, or hand the query to the pool (with a place taken
        under the client's limit)."""
        runtime = self.protocol.cpgraph_runtime
        settings = runtime.settings
        if outcome is None:
            self.limiter = runtime.limiter
            if self.gone:
                self._release()
                return
            self.job = runtime.pool.submit(request, self._first)
        elif self.gone:
            return
        elif isinstance(outcome, Failed):
            self._send_response(problem_response(outcome.error, base=settings.base_iri))
        else:
            self._whole(outcome.head, outcome.content, settings)

    def drop(self) -> None:
        """Close the connection: answering failed (a defect)."""
        self.protocol.transport.close()

    def _first(self, message: Message) -> None:
        """The query's first message (see :meth:`QueryPool.submit`)."""
        job = self.job
        if job is None:
            return  # abandoned
        try:
            self._answered(self.protocol.cpgraph_runtime.pool, job, message)
        except Exception:  # a defect here: the client must not wait for ever
            log.exception("answering a GET query failed")
            self._release()
            self.protocol.transport.close()

    def abandon(self) -> None:
        """The connection went before the answer: stop the query and free the client's slot."""
        self.gone = True
        job, self.job = self.job, None
        if job is not None:
            self.protocol.cpgraph_runtime.pool.stop(job)
        self._release()

    def _release(self) -> None:
        if self.limiter is not None:
            self.limiter.release(self.client)
            self.limiter = None

    def _answered(self, pool: QueryPool, job: QueryJob, message: Message) -> None:
        settings = self.protocol.cpgraph_runtime.settings
        self.job = None
        if self.protocol.transport.is_closing():  # the client went away meanwhile
            pool.stop(job)
            self._release()
            return
        if isinstance(message, Whole):
            self._whole(message.head, message.content, settings)
            return
        if isinstance(message, Head) and not self._gzip():
            self._stream(pool, job, message.head, settings)
            return
        try:
            head, chunks = pool.outcome(job, message)
        except CpgraphError as exc:
            self._release()
            self._send_response(problem_response(exc, base=settings.base_iri))
            return
        self._send_response(result_response(head, chunks, settings, done=self._release))

    def _stream(self, pool: QueryPool, job: QueryJob, head: QueryHead, settings: Settings) -> None:
        """Write a streamed answer (chunked) as the query thread sends it: the head now, each
        chunk from :meth:`_streamed`. Chunks written while the client does not read are owed
        to the thread until it reads again (:meth:`resumed`): the thread waits, the memory
        does not grow."""
        self.job = job  # a connection that goes stops the query (see abandon)
        self.protocol.transport.write(
            self._head(head_lines(head, settings), b"transfer-encoding: chunked\r\n")
        )
        pool.follow(job, self._streamed)

    def _streamed(self, message: Message) -> None:
        """One message of a streamed answer (see :meth:`QueryPool.follow`)."""
        job = self.job
        if job is None:
            return  # abandoned
        protocol = self.protocol
        if isinstance(message, Data):
            chunk = message.chunk
            protocol.transport.writelines((b"%x\r\n" % len(chunk), chunk, b"\r\n"))
            if protocol.flow.write_paused:
                self.owed += 1
            else:
                job.ack()
            return
        self.job = None
        protocol.answering = None
        self._release()
        if isinstance(message, End):
            protocol.transport.write(b"0\r\n\r\n")
            if protocol.access_log:
                self._log(200)
            self._finish()
            return
        # An error once the answer is under way: it can only be cut short, as uvicorn does.
        cause = message.error if isinstance(message, Failed) else message
        log.warning("a streamed answer was cut short: %s", cause)
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
            self._write(head_lines(head, settings), content)
            return
        self._send_response(result_response(head, WholeBody(content), settings, done=self._release))

    def _gzip(self) -> bool:
        """Whether the client takes gzip (its answer then goes through the application's
        gzip middleware)."""
        return b"gzip" in self.headers.get(b"accept-encoding", b"")

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
        parts = _status_lines(200, self.protocol.server_state.default_headers)
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
        """The access-log line uvicorn writes, in its format, for a response written here."""
        self.protocol.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            get_client_addr(self.scope),
            "GET",
            get_path_with_query_string(self.scope),
            self.scope["http_version"],
            status,
        )

    def _send_response(self, response: Response) -> None:
        """Send a response through an ASGI cycle of its own (streamed, compressed, an error)
        and the application's header middleware."""
        protocol = self.protocol
        protocol.answering = None  # a disconnection is the cycle's to see from here
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
        protocol._start_asgi_task(cycle, _PREPARED)  # type: ignore[arg-type]  # an ASGI app

    def _cycle_complete(self) -> None:
        self.in_flight.response_complete = True
        self.protocol.on_response_complete()


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("latin-1")


def _status_lines(status: int, default_headers: list[tuple[bytes, bytes]]) -> list[bytes]:
    """A response's status line and uvicorn's own headers (server, date), as uvicorn writes
    them."""
    parts = [STATUS_LINE[status]]
    for name, value in default_headers:
        parts += (name, b": ", value, b"\r\n")
    return parts


async def _send_prepared(scope: Scope, receive: Receive, send: Send) -> None:
    response: Response = scope["cpgraph.response"]
    await response(scope, receive, send)


_PREPARED = header_stack(_send_prepared)  # as the application's responses are sent
