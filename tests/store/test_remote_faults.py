"""A remote store that fails under cpgraph: a connection cut mid-commit leaves all of the write
or none of it, a store that never answers is a timeout, and a store restarted under load is
found again. Real Oxigraph servers on 127.0.0.1, reached through a proxy that cuts
connections where a test says."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from tests.conftest import free_port, stop
from tests.servers import RunningStore, oxigraph_command, oxigraph_server

from cpgraph.errors import StoreTimeoutError, StoreUnreachableError
from cpgraph.store.http import Endpoints
from cpgraph.store.remote import RemoteStore

pytestmark = pytest.mark.skipif(
    oxigraph_command() is None, reason="no oxigraph server command (the test extra installs it)"
)

STATEMENTS = 400  # in the contribution committed while its connection is cut


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that forwards to ``target`` and, when ``cut_after`` is set,
    closes both sides once that many bytes of a request have gone through; with
    ``drop_answers``, it forwards requests whole and closes the connection instead of
    forwarding the answer."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut_after: int | None = None
        self.drop_answers = False
        self.cuts = 0
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError), client:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            with upstream:
                back = threading.Thread(target=self._pipe, args=(upstream, client), daemon=True)
                back.start()
                sent = 0
                while data := client.recv(4096):
                    limit = self.cut_after
                    if limit is not None and sent + len(data) >= limit:
                        upstream.sendall(data[: max(0, limit - sent)])
                        self.cuts += 1
                        client.shutdown(socket.SHUT_RDWR)
                        upstream.shutdown(socket.SHUT_RDWR)
                        return
                    upstream.sendall(data)
                    sent += len(data)
                back.join(timeout=5)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if self.drop_answers:
                    self.cuts += 1
                    sink.shutdown(socket.SHUT_RDWR)
                    return
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self._stopped = True
        self._server.close()


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as server:
        yield server


def _port(url: str) -> int:
    return int(url.split(":")[2].split("/")[0])


def _contribution(graph: str) -> list[ox.Quad]:
    g = ox.NamedNode(graph)
    p = ox.NamedNode("urn:x-test:value")
    return [
        ox.Quad(ox.NamedNode(f"urn:x-test:s{i}"), p, ox.Literal(str(i)), g)
        for i in range(STATEMENTS)
    ]


def _counts(store: RemoteStore, graph: str) -> tuple[int, int, bool]:
    """The graph's statements, the union's statements of the contribution, and whether the
    catalogue lists the graph."""
    in_graph = store.graph_sizes().get(graph, 0)
    result = store.query("SELECT (COUNT(*) AS ?n) { ?s <urn:x-test:value> ?o }")
    in_union = int(next(result.rows())["n"].value)
    result.close()
    return in_graph, in_union, graph in store.named_graphs()


@pytest.mark.parametrize("fraction", [0.05, 0.5, 0.95, None])  # None: the answer is lost
def test_a_commit_cut_mid_request_leaves_all_of_it_or_none(
    oxigraph: RunningStore, fraction: float | None
) -> None:
    direct = RemoteStore(Endpoints.derived(oxigraph.query, oxigraph.update), timeout=10)
    graph = f"urn:x-test:cut-{fraction}"
    quads = _contribution(graph)
    request_size = len(repr(quads)) // 2  # of the order of the update's body
    proxy = CuttingProxy(_port(oxigraph.query))
    base = f"http://127.0.0.1:{proxy.port}"
    cut = RemoteStore(Endpoints.derived(f"{base}/query", f"{base}/update"), timeout=10)
    try:
        if fraction is None:
            proxy.drop_answers = True
        else:
            proxy.cut_after = int(request_size * fraction)
        with pytest.raises(StoreUnreachableError):
            cut.load_quads(quads)
        assert proxy.cuts == 1
    finally:
        proxy.close()
        cut.close()
    try:
        in_graph, in_union, listed = _counts(direct, graph)
        assert (in_graph, in_union, listed) in {(0, 0, False), (STATEMENTS, STATEMENTS, True)}
        if fraction is None:  # the request arrived whole: it was applied whole
            assert in_graph == STATEMENTS
        direct.drop_graph(graph)
        assert _counts(direct, graph) == (0, 0, False)
    finally:
        direct.close()


def test_a_store_that_never_answers_is_a_timeout_naming_no_credential() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    threading.Thread(target=lambda: held.append(listener.accept()[0]), daemon=True).start()
    endpoints = Endpoints.derived(
        f"http://127.0.0.1:{port}/query", user="curator", password="a-secret-password"
    )
    store = RemoteStore(endpoints, timeout=1.0)
    started = time.monotonic()
    try:
        with pytest.raises(StoreTimeoutError) as raised:
            store.query("ASK { ?s ?p ?o }")
        assert time.monotonic() - started < 10
        assert "a-secret-password" not in str(raised.value)
        assert "curator" not in str(raised.value)
    finally:
        store.close()
        listener.close()
        for connection in held:
            connection.close()


def test_a_store_restarted_under_load_is_found_again(tmp_path: Path) -> None:
    command = oxigraph_command()
    assert command is not None
    port = free_port()
    folder = tmp_path / "db"
    url = f"http://127.0.0.1:{port}"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [command, "serve", "--location", str(folder), "--bind", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def ready(store: RemoteStore) -> None:
        deadline = time.monotonic() + 30
        while True:
            try:
                store.named_graphs()
                return
            except (StoreUnreachableError, StoreTimeoutError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    store = RemoteStore(Endpoints.derived(f"{url}/query", f"{url}/update"), timeout=5)
    process = start()
    try:
        ready(store)
        store.load_quads(_contribution("urn:x-test:kept"))
        outcomes: list[str] = []
        done = threading.Event()

        def load() -> None:
            while not done.is_set() and len(outcomes) < 2000:
                try:
                    result = store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
                    outcomes.append(next(result.rows())["n"].value)
                    result.close()
                except (StoreUnreachableError, StoreTimeoutError):
                    outcomes.append("failed")
                time.sleep(0.01)

        worker = threading.Thread(target=load)
        worker.start()
        time.sleep(0.5)
        stop(process, timeout=20)
        time.sleep(0.5)
        process = start()
        ready(store)
        time.sleep(0.5)
        done.set()
        worker.join(timeout=30)
        assert "failed" in outcomes  # the store was away for a while ...
        assert outcomes[-1] == str(STATEMENTS)  # ... and is answered again, data intact
        assert set(outcomes) <= {"failed", str(STATEMENTS)}
    finally:
        store.close()
        stop(process, timeout=20)
