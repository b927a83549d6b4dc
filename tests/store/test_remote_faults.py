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
    closes both sides once that many bytes of requests (over all its connections) have gone
    through; with ``drop_answers``, it forwards requests whole and closes the connection
    instead of forwarding an answer (with ``drop_answer_at``, only the answer of that number,
    counted from 1, over all connections)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut_after: int | None = None
        self.drop_answers = False
        self.drop_answer_at: int | None = None
        self.sent = 0  # bytes of requests forwarded, over all connections
        self.answers = 0  # answers begun, over all connections
        self.cuts = 0
        self._lock = threading.Lock()
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
                while data := client.recv(4096):
                    limit = self.cut_after
                    with self._lock:
                        sent = self.sent
                        self.sent += len(data)
                    if limit is not None and sent + len(data) >= limit:
                        upstream.sendall(data[: max(0, limit - sent)])
                        self.cuts += 1
                        client.shutdown(socket.SHUT_RDWR)
                        upstream.shutdown(socket.SHUT_RDWR)
                        return
                    upstream.sendall(data)
                back.join(timeout=5)

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if data.startswith(b"HTTP/"):  # an answer begins (each fits one read here)
                    with self._lock:
                        self.answers += 1
                        number = self.answers
                    if self.drop_answers or self.drop_answer_at == number:
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


LARGE = 2_600  # statements of a write that takes several requests (REQUEST is 1,000)


def _large_contribution(graph: str) -> list[ox.Quad]:
    """:data:`LARGE` statements: plain ones, and a few that share blank nodes."""
    g = ox.NamedNode(graph)
    p = ox.NamedNode("urn:x-test:value")
    plain = [
        ox.Quad(ox.NamedNode(f"urn:x-test:s{i}"), p, ox.Literal(str(i)), g)
        for i in range(LARGE - 10)
    ]
    nodes = [ox.BlankNode() for _ in range(5)]
    linked = [
        ox.Quad(nodes[i % 5], p, nodes[(i + 1) % 5] if i % 2 else ox.Literal(f"b{i}"), g)
        for i in range(10)
    ]
    return plain + linked


def _staging_graphs(store: RemoteStore) -> int:
    """How many staging graphs the store holds (read past cpgraph's own dataset)."""
    result = store.query(
        "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { ?s ?p ?o } "
        'FILTER STRSTARTS(STR(?g), "urn:x-cpgraph:staging/") }',
        named_graphs=[],
    )
    try:
        return int(next(result.rows())["n"].value)
    finally:
        result.close()


@pytest.mark.parametrize("cut", ["early", "middle", "last request", "last answer"])
def test_a_write_of_several_requests_cut_anywhere_leaves_all_of_it_or_none(
    oxigraph: RunningStore, cut: str
) -> None:
    # A write too large for one request is staged, then applied by one last request: cut
    # while staging, it shows nothing; cut in the last request, all or nothing; its answer
    # lost, all of it.
    direct = RemoteStore(Endpoints.derived(oxigraph.query, oxigraph.update), timeout=30)
    rehearsal = CuttingProxy(_port(oxigraph.query))
    base = f"http://127.0.0.1:{rehearsal.port}"
    whole = RemoteStore(Endpoints.derived(f"{base}/query", f"{base}/update"), timeout=30)
    try:  # the same write, uncut, to learn its bytes and requests
        whole.load_quads(_large_contribution("urn:x-test:rehearsal"))
        assert _counts(direct, "urn:x-test:rehearsal") == (LARGE, LARGE, True)
        total, requests = rehearsal.sent, rehearsal.answers
        assert requests >= 3  # staged in several, applied by one
    finally:
        rehearsal.close()
        whole.close()
        direct.drop_graph("urn:x-test:rehearsal")
    graph = f"urn:x-test:large-{cut.replace(' ', '-')}"
    proxy = CuttingProxy(_port(oxigraph.query))
    base = f"http://127.0.0.1:{proxy.port}"
    store = RemoteStore(Endpoints.derived(f"{base}/query", f"{base}/update"), timeout=30)
    try:
        if cut == "last answer":
            proxy.drop_answer_at = requests
        else:
            proxy.cut_after = {
                "early": total // 10,
                "middle": total // 2,
                "last request": total - 40,
            }[cut]
        with pytest.raises(StoreUnreachableError):
            store.load_quads(_large_contribution(graph))
        assert proxy.cuts >= 1
    finally:
        proxy.close()
        store.close()
    try:
        in_graph, in_union, listed = _counts(direct, graph)
        if cut == "last answer":  # the last request arrived whole: it was applied whole
            assert (in_graph, in_union, listed) == (LARGE, LARGE, True)
        else:
            assert (in_graph, in_union, listed) == (0, 0, False)
        direct.drop_graph(graph)
        assert _counts(direct, graph) == (0, 0, False)
    finally:
        direct.close()


@pytest.mark.parametrize("size", [10, LARGE])
@pytest.mark.parametrize("cut", ["middle", "last answer"])
def test_a_graph_replaced_and_cut_holds_its_old_statements_or_its_new_ones(
    oxigraph: RunningStore, size: int, cut: str
) -> None:
    # A Graph Store PUT over a remote store: the drop and the new statements go in one
    # request (or a staged write whose last request drops): never an empty graph in between.
    direct = RemoteStore(Endpoints.derived(oxigraph.query, oxigraph.update), timeout=30)
    graph = f"urn:x-test:replaced-{size}-{cut.replace(' ', '-')}"
    old = _contribution(graph)[:50]
    new = [
        ox.Quad(q.subject, ox.NamedNode("urn:x-test:new"), q.object, q.graph_name)
        for q in _large_contribution(graph)[:size]
    ]
    direct.load_quads(old)
    rehearsal = CuttingProxy(_port(oxigraph.query))
    base = f"http://127.0.0.1:{rehearsal.port}"
    whole = RemoteStore(Endpoints.derived(f"{base}/query", f"{base}/update"), timeout=30)
    try:  # learn the bytes and requests of the same replacement of another graph
        other = ox.NamedNode(graph + "-rehearsal")
        whole.replace_graph(
            other.value, [ox.Quad(q.subject, q.predicate, q.object, other) for q in new]
        )
        total, requests = rehearsal.sent, rehearsal.answers
    finally:
        rehearsal.close()
        whole.close()
        direct.drop_graph(graph + "-rehearsal")
    proxy = CuttingProxy(_port(oxigraph.query))
    base = f"http://127.0.0.1:{proxy.port}"
    store = RemoteStore(Endpoints.derived(f"{base}/query", f"{base}/update"), timeout=30)
    try:
        if cut == "last answer":
            proxy.drop_answer_at = requests
        else:
            proxy.cut_after = total // 2
        with pytest.raises(StoreUnreachableError):
            store.replace_graph(graph, new)
    finally:
        proxy.close()
        store.close()
    try:
        held = {str(q) for q in direct.quads(graph)}
        if cut == "last answer":
            assert len(held) == size
            assert all("urn:x-test:new" in q for q in held)
        else:
            assert held == {str(q) for q in old}
        assert graph in direct.named_graphs()
    finally:
        direct.drop_graph(graph)
        direct.close()


def test_a_large_write_leaves_no_staging_graph_and_a_withdrawal_is_whole(
    oxigraph: RunningStore,
) -> None:
    store = RemoteStore(Endpoints.derived(oxigraph.query, oxigraph.update), timeout=30)
    graph = "urn:x-test:large-whole"
    quads = _large_contribution(graph)
    try:
        before = _staging_graphs(store)
        store.load_quads(quads)
        assert _counts(store, graph) == (LARGE, LARGE, True)
        assert _staging_graphs(store) == before
        # Taking most of it out again is one change of several requests, staged too.
        plain = [q for q in quads if not isinstance(q.subject, ox.BlankNode)]
        store.update(
            "DELETE DATA { GRAPH <"
            + graph
            + "> { "
            + " ".join(f"{q.subject} {q.predicate} {q.object} ." for q in plain[:1500])
            + " } }"
        )
        assert _counts(store, graph) == (LARGE - 1500, LARGE - 1500, True)
        assert _staging_graphs(store) == before
        store.drop_graph(graph)
        assert _counts(store, graph) == (0, 0, False)
    finally:
        store.close()


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
