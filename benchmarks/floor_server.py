"""The least a Python SPARQL server over pyoxigraph does: a measuring stick, not a service.

    python benchmarks/floor_server.py --store var/bench/run-100000/stores/cpgraph-serving \
        --port 8200

It answers ``GET /sparql?query=`` (SPARQL JSON results for SELECT and ASK, 400 for a query
Oxigraph rejects, 406 for anything but JSON) and nothing else, on the same event loop
(uvloop), HTTP parser (httptools) and process layout as ``cpgraph serve`` (2 processes of 4
query threads). Each query is evaluated in a thread and its answer written by the event loop:
the hand-over any server pays that keeps a query which may never end off its event loop, as
``cpgraph serve`` must to enforce its time limit. It does none of cpgraph's work per request:
no time limit, row limit or per-client limit, no negotiation, no Service Description, no
streaming (answers are built whole). With ``--memory`` it answers from a copy of the store in
memory, made before it listens, as ``cpgraph serve`` does (in the background) for a store
that fits.

The endpoint benchmark runs it beside ``cpgraph serve`` and ``oxigraph serve``: its own ratio
to Oxigraph is the most a Python server of this design can reach on a query, and cpgraph's
ratio to it is what cpgraph's own work costs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import queue
import signal
import socket
import sys
import threading
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs

import httptools
import pyoxigraph as ox
import uvloop

from cpgraph.store.builds import current_build
from cpgraph.store.union import is_merged

JSON = "application/sparql-results+json"
_STATUS = {
    200: b"200 OK",
    400: b"400 Bad Request",
    404: b"404 Not Found",
    406: b"406 Not Acceptable",
    500: b"500 Internal Server Error",
}


def response(status: int, body: bytes, media_type: str, keep_alive: bool) -> bytes:
    """A whole HTTP/1.1 response."""
    head = (
        b"HTTP/1.1 "
        + _STATUS[status]
        + b"\r\ncontent-type: "
        + media_type.encode()
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n"
    )
    if not keep_alive:
        head += b"connection: close\r\n"
    return head + b"\r\n" + body


def answer(
    store: ox.Store, query_string: bytes, accept: str, union: bool
) -> tuple[int, bytes, str]:
    """Status, body and media type for one request's query string. ``union``: Oxigraph
    computes the union of the graphs (a plain store) rather than reading the database's
    default graph (a cpgraph build, where it is the merged union)."""
    params = parse_qs(query_string.decode("latin-1"))
    if "query" not in params:
        return 400, b"no query parameter", "text/plain"
    if accept and JSON not in accept and "*/*" not in accept:
        return 406, b"only SPARQL JSON results here", "text/plain"
    try:
        result = store.query(params["query"][0], use_default_graph_as_union=union)
        if isinstance(result, ox.QueryTriples):
            return 406, b"only SELECT and ASK here", "text/plain"
        body = result.serialize(format=ox.QueryResultsFormat.JSON)
    except SyntaxError as exc:
        return 400, str(exc).encode(), "text/plain"
    except Exception as exc:  # noqa: BLE001 - the client is told, the server goes on
        return 500, str(exc).encode(), "text/plain"
    assert body is not None
    return 200, body, JSON


class _Connection(asyncio.Protocol):
    """One client connection: requests parsed by httptools, answered in order."""

    def __init__(self, store: ox.Store, union: bool, jobs: queue.SimpleQueue[Any]) -> None:
        self._store = store
        self._union = union
        self._jobs = jobs
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._url = b""
        self._accept = ""
        self._waiting: list[tuple[bytes, str, bool]] = []  # pipelined requests, in order
        self._busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's: no subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            assert self._transport is not None
            self._transport.close()

    def on_message_begin(self) -> None:
        self._url = b""
        self._accept = ""

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"accept":
            self._accept = value.decode("latin-1")

    def on_message_complete(self) -> None:
        keep_alive = self._parser.should_keep_alive()
        self._waiting.append((self._url, self._accept, keep_alive))
        if not self._busy:
            self._next()

    def _next(self) -> None:
        if not self._waiting or self._transport is None or self._transport.is_closing():
            return
        url, accept, keep_alive = self._waiting.pop(0)
        parsed = httptools.parse_url(url)
        if parsed.path != b"/sparql":
            self._send(keep_alive, (404, b"not found", "text/plain"))
            return
        self._busy = True
        self._jobs.put((self, parsed.query or b"", accept, keep_alive))

    def evaluate(self, query_string: bytes, accept: str, keep_alive: bool) -> None:
        """In a query thread: evaluate, then hand the answer to the event loop."""
        outcome = answer(self._store, query_string, accept, self._union)
        self._loop.call_soon_threadsafe(self._send, keep_alive, outcome)

    def _send(self, keep_alive: bool, outcome: tuple[int, bytes, str]) -> None:
        self._busy = False
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.write(response(*outcome, keep_alive))
        if not keep_alive:
            self._transport.close()
            return
        self._next()


def _query_thread(jobs: queue.SimpleQueue[Any]) -> None:
    while True:
        connection, query_string, accept, keep_alive = jobs.get()
        connection.evaluate(query_string, accept, keep_alive)


def serve(sock: socket.socket, store: Path, threads: int, memory: bool) -> None:
    """One server process: an event loop on the shared socket and ``threads`` query threads."""
    opened = ox.Store.read_only(str(store))
    if memory:
        copy = ox.Store()
        copy.bulk_load(opened.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
        opened = copy
    union = not is_merged(store)
    jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for _ in range(threads):
        threading.Thread(target=_query_thread, args=(jobs,), daemon=True).start()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        server = await loop.create_server(lambda: _Connection(opened, union, jobs), sock=sock)
        async with server:
            await stop

    uvloop.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a cpgraph store or a store")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="query threads per process")
    parser.add_argument("--memory", action="store_true", help="answer from a copy in memory")
    args = parser.parse_args(argv)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(1024)
    sock.setblocking(False)
    store = current_build(args.store) or args.store  # a cpgraph store, or a store
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=serve, args=(sock, store, args.threads, args.memory), daemon=True)
        for _ in range(args.processes)
    ]
    for process in processes:
        process.start()

    def stop(*_: object) -> None:
        for process in processes:
            if process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
