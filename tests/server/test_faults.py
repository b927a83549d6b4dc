"""Fault tests (issue 22): server processes and the supervisor killed with SIGKILL at random
moments under load.

A few clients keep the service busy meanwhile: point lookups, pooled queries, saved queries,
and, with the operator's token, small writes (SPARQL ``INSERT DATA`` and Graph Store PUT and
POST), each into a named graph of its own. Afterwards the service (restarted where the
supervisor died) answers, no client is locked out, and nothing is half-written: a write that
was answered 2xx is there whole, one that was not (its process died under it) is there whole
or not at all, and the statements counted are the ones before plus exactly the writes there.
A write whose process died after publishing it, before announcing it, is followed by every
process, not only by the one that replaces it.

The kills are seeded and few, and all traffic goes to servers on 127.0.0.1 that the tests
start.
"""

from __future__ import annotations

import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx
import pytest
from tests.conftest import (
    LOOKUP,
    QUICK,
    ROOT,
    RUNAWAY,
    built_mini_store,
    cli_env,
    free_port,
    server_pids,
    stop,
    wait_for,
)

from cpgraph.config import Settings
from cpgraph.store.builds import open_current, write_transaction

SEED = 22
KILLS = 5  # server processes killed one at a time, each once every process serves again
SUPERVISOR_KILLS = 2
TOKEN = "a-fault-test-token-of-some-length"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ENV = {
    "CPGRAPH_TOKEN": TOKEN,
    "CPGRAPH_CLIENT_CONCURRENCY": "2",  # the load's two readers: at their limit, never past it
    "CPGRAPH_QUERY_TIMEOUT": "6",
}
STARTED = "Application startup complete."  # what each server process logs once it serves
WRITTEN = "http://example.org/fault/"  # the graph of write n is WRITTEN + n
MARK = "http://example.org/fault/mark"  # the predicate of every statement the writes make
SAVED = ("organisation-hierarchy", "founding-dates-by-source")
JSON = {"Accept": "application/sparql-results+json"}
OTHER = "127.0.0.2"  # another client's address

Select = Callable[[str], list[dict[str, str]]]


# ---------------------------------------------------------------------------------------------
# The service, its processes and its store.
# ---------------------------------------------------------------------------------------------


@dataclass
class Service:
    """A ``cpgraph serve`` of the fault tests: a mini store of its own (the tests write to
    it) with the real saved queries, its port and log, and its supervisor (the last one
    started)."""

    settings: Settings
    port: int
    log: Path
    supervisor: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> subprocess.Popen[bytes]:
        """Start ``cpgraph serve``; it and its processes log to the end of the log."""
        command = [sys.executable, "-m", "cpgraph.cli.main", "serve", "--port", str(self.port)]
        with self.log.open("ab") as output:
            self.supervisor = subprocess.Popen(
                command, env=cli_env(self.settings, **ENV), stdout=output, stderr=output
            )
        return self.supervisor


@pytest.fixture
def service(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Service]:
    """A started :class:`Service`, stopped afterwards."""
    settings = built_mini_store(tmp_path_factory)
    (settings.source_dir / "queries").symlink_to(ROOT / "queries")
    running = Service(settings, free_port(), tmp_path / "serve.log")
    running.start()
    try:
        yield running
    finally:
        assert running.supervisor is not None
        stop(running.supervisor, timeout=20)


def _pids(url: str) -> list[int]:
    """The server processes at ``url`` (read again if one ended while /proc was read)."""
    for _ in range(20):
        try:
            return server_pids(url)
        except OSError:
            time.sleep(0.05)
    return server_pids(url)


def _started(log: Path) -> int:
    """How many server processes have started serving, by the log."""
    return log.read_text(errors="replace").count(STARTED)


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # ended; only its parent's wait is left


def _port_is_free(port: int) -> bool:
    try:
        socket.create_server(("127.0.0.1", port)).close()
    except OSError:
        return False
    return True


def _answers(url: str) -> bool:
    """Whether the service answers a lookup no load client sends (never in quarantine)."""
    try:
        response = httpx.get(url + "/sparql", params={"query": LOOKUP + " # up?"}, timeout=5)
    except httpx.TransportError:
        return False
    return response.status_code == 200


def _over_http(url: str) -> Select:
    """SELECT through the service, with the token (no row limit); bindings as strings."""

    def run(query: str) -> list[dict[str, str]]:
        response = httpx.post(
            url + "/sparql", data={"query": query}, headers={**AUTH, **JSON}, timeout=30
        )
        assert response.status_code == 200, response.text[:300]
        return [
            {name: term["value"] for name, term in row.items()}
            for row in response.json()["results"]["bindings"]
        ]

    return run


def _on_disk(settings: Settings) -> Select:
    """SELECT over the store's current build on disk, read by no server."""
    store = open_current(settings.store_dir, read_only=True)

    def run(query: str) -> list[dict[str, str]]:
        return [
            {name: term.value for name, term in row.items()} for row in store.query(query).rows()
        ]

    return run


# ---------------------------------------------------------------------------------------------
# The load.
# ---------------------------------------------------------------------------------------------


@dataclass
class Write:
    """One write of the load: ``size`` statements into a graph of its own."""

    number: int
    kind: str  # "update" (SPARQL INSERT DATA), "put" or "post" (Graph Store)
    size: int
    status: int | None = None  # None: not answered (yet, or its process died under it)

    @property
    def graph(self) -> str:
        return f"{WRITTEN}{self.number}"

    @property
    def answered_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def triples(self) -> str:
        return "\n".join(f"<{self.graph}/s{j}> <{MARK}> {j} ." for j in range(self.size))

    def send(self, client: httpx.Client, url: str) -> httpx.Response:
        if self.kind == "update":
            return client.post(
                url + "/sparql",
                content=f"INSERT DATA {{ GRAPH <{self.graph}> {{ {self.triples()} }} }}",
                headers={**AUTH, "Content-Type": "application/sparql-update"},
            )
        return client.request(
            self.kind.upper(),
            url + "/store",
            params={"graph": self.graph},
            content=self.triples(),
            headers={**AUTH, "Content-Type": "text/turtle"},
        )


class Load:
    """Two readers and two writers from 127.0.0.1, each on a new connection a request (so
    that the kernel spreads them over the processes), until the block ends.

    Each query text is new (a numbered comment): a text in flight on a killed process goes
    to quarantine, and the load is to go on as a real one would, not be refused at once.
    The saved queries are asked by name, and may be in quarantine after a kill.
    """

    def __init__(self, url: str, seed: int) -> None:
        self.url = url
        self.seed = seed
        self.writes: list[Write] = []
        self.reads: Counter[str] = Counter()  # outcomes: status codes, "cut"
        self.unexpected: list[str] = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._guarded, args=(work, n), name=f"load-{work.__name__}")
            for work in (self._read, self._write)
            for n in range(2)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        assert not any(thread.is_alive() for thread in self._threads)

    def snapshot(self) -> list[Write]:
        """The writes sent so far (those not answered yet count as not answered)."""
        with self._lock:
            return list(self.writes)

    def _guarded(self, work: Callable[[int], None], n: int) -> None:
        try:
            work(n)
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.unexpected.append(f"{work.__name__} {n}: {exc!r}")

    def _client(self) -> httpx.Client:
        return httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=30)

    def _read(self, n: int) -> None:
        with self._client() as client:
            for turn in itertools.count():
                if self._stop.is_set():
                    return
                tag = f" # reader {n}, turn {turn}"
                kind = turn % 4
                try:
                    if kind == 0:  # a point lookup
                        response = client.get(self.url + "/sparql", params={"query": LOOKUP + tag})
                    elif kind == 1:  # a pooled query
                        response = client.post(self.url + "/sparql", data={"query": QUICK + tag})
                    else:  # a saved query
                        name = SAVED[kind - 2]
                        response = client.get(self.url + f"/queries/{name}", headers=JSON)
                except httpx.TransportError:
                    self.reads["cut"] += 1
                    time.sleep(0.05)  # none may be listening: the supervisor is down
                    continue
                self.reads[str(response.status_code)] += 1
                if not _expected_read(response):
                    self.unexpected.append(f"read {kind}: {response.status_code} {response.text}")

    def _write(self, n: int) -> None:
        rng = random.Random(self.seed * 10 + n)
        with self._client() as client:
            while not self._stop.is_set():
                kind, size = rng.choice(["update", "put", "post"]), rng.randint(2, 6)
                with self._lock:
                    write = Write(next(self._numbers), kind, size)
                    self.writes.append(write)
                try:
                    response = write.send(client, self.url)
                except httpx.ConnectError:  # none listening: the supervisor is down
                    # It reached no server (were it there: "statements no write made").
                    with self._lock:
                        self.writes.remove(write)
                    time.sleep(0.05)
                    continue
                except httpx.TransportError:  # its process died under it
                    continue
                write.status = response.status_code
                if not write.answered_2xx:
                    self.unexpected.append(f"{write}: {response.text[:300]}")


def _expected_read(response: httpx.Response) -> bool:
    """An answer, a saved query in quarantine (it was in flight on a killed process), or a
    refusal at the limit: the two readers run at it, and a place is freed a moment after its
    answer has gone out (a dead process's, once the supervisor has noticed)."""
    if response.status_code in (200, 429):
        return True
    problem = response.headers.get("content-type") == "application/problem+json"
    return (
        response.status_code == 503
        and problem
        and response.json()["type"].endswith("/problems/query-quarantined")
    )


# ---------------------------------------------------------------------------------------------
# What must hold afterwards.
# ---------------------------------------------------------------------------------------------

NAMED = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
UNION = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
MARKED = f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{MARK}> ?o }}"
PER_GRAPH = (
    "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
    f'FILTER(STRSTARTS(STR(?g), "{WRITTEN}")) }} GROUP BY ?g'
)


@dataclass(frozen=True)
class Counts:
    """Statements in the named graphs, and in the default graph (their merge)."""

    named: int
    union: int

    @classmethod
    def of(cls, select: Select) -> Counts:
        return cls(int(select(NAMED)[0]["n"]), int(select(UNION)[0]["n"]))


def _assert_nothing_half_written(select: Select, writes: list[Write], before: Counts) -> None:
    """Every write answered 2xx is there whole; every other one whole or not at all; the
    counts are the ones before plus exactly the writes there."""
    held = {row["g"]: int(row["n"]) for row in select(PER_GRAPH)}
    assert set(held) <= {write.graph for write in writes}, "statements no write made"
    for write in writes:
        there = held.get(write.graph, 0)
        if write.answered_2xx:
            assert there == write.size, f"{write} answered {write.status}, {there} there"
        else:
            assert there in (0, write.size), f"{write} half-written: {there} there"
    added = sum(held.values())
    assert int(select(MARKED)[0]["n"]) == added  # the merge holds each of them, once
    assert Counts.of(select) == Counts(before.named + added, before.union + added)


def _assert_answered(url: str) -> None:
    """Another client is answered, and so is 127.0.0.1, the address of the load."""
    with httpx.Client(transport=httpx.HTTPTransport(local_address=OTHER)) as other:
        started = time.monotonic()
        response = other.get(url + "/sparql", params={"query": LOOKUP + " # other"}, timeout=10)
        assert response.status_code == 200
        assert time.monotonic() - started < 5.0
    for query in (LOOKUP, QUICK):
        response = httpx.post(url + "/sparql", data={"query": query + " # after"}, timeout=10)
        assert response.status_code == 200, response.text


def _assert_whole_allowance(url: str) -> None:
    """127.0.0.1, which had queries in flight on the killed processes, has its whole
    allowance again: both its places (two queries held at once both run, to their time
    limit), and no more (a third meanwhile is refused)."""
    statuses: list[int | str] = []

    def hold(n: int) -> None:
        query = RUNAWAY + f" # held {n}"
        try:
            response = httpx.post(url + "/sparql", data={"query": query}, timeout=30)
        except httpx.TransportError as exc:
            statuses.append(repr(exc))
        else:
            statuses.append(response.status_code)

    holders = [threading.Thread(target=hold, args=(n,)) for n in range(2)]
    for holder in holders:
        holder.start()
    time.sleep(2.0)
    third = httpx.post(url + "/sparql", data={"query": QUICK + " # third"}, timeout=10)
    for holder in holders:
        holder.join(timeout=30)
    assert third.status_code == 429  # the limit holds ...
    assert statuses == [503, 503]  # ... and both places were free: neither refused with 429


# ---------------------------------------------------------------------------------------------
# The tests.
# ---------------------------------------------------------------------------------------------


def test_server_processes_killed_under_load_leave_the_service_whole(service: Service) -> None:
    url, log, supervisor = service.url, service.log, service.supervisor
    assert supervisor is not None
    rng = random.Random(SEED)
    wait_for(lambda: _answers(url) and _started(log) == 2)
    before = Counts.of(_over_http(url))
    with Load(url, SEED) as load:
        for kill in range(KILLS):
            # Every process serves (a replacement has started); then a random moment.
            wait_for(lambda kill=kill: _started(log) == 2 + kill and len(_pids(url)) == 2)
            time.sleep(rng.uniform(0.2, 1.5))
            os.kill(rng.choice(sorted(_pids(url))), signal.SIGKILL)
        wait_for(lambda: _started(log) == 2 + KILLS)
        time.sleep(1.0)  # the load goes on over the replaced processes
    assert supervisor.poll() is None, log.read_text()
    assert not load.unexpected, load.unexpected
    writes = load.writes
    assert sum(write.answered_2xx for write in writes) >= KILLS  # writes went on
    _assert_nothing_half_written(_over_http(url), writes, before)
    _assert_answered(url)
    _assert_whole_allowance(url)
    text = log.read_text()
    assert text.count("(signal 9)") == KILLS, text  # each a serving process that died
    assert "ended as it started" not in text


def test_a_supervisor_killed_under_load_leaves_a_store_a_new_one_serves_whole(
    service: Service,
) -> None:
    settings, port, log, url = service.settings, service.port, service.log, service.url
    supervisor = service.supervisor
    assert supervisor is not None
    rng = random.Random(SEED)
    wait_for(lambda: _answers(url))
    before = Counts.of(_over_http(url))
    with Load(url, SEED) as load:
        for _ in range(SUPERVISOR_KILLS):
            wait_for(lambda: _answers(url) and len(_pids(url)) == 2)
            time.sleep(rng.uniform(0.5, 2.0))
            children = _pids(url)
            supervisor.kill()
            supervisor.wait(timeout=10)
            # Its server processes end with it, and leave the port free.
            wait_for(
                lambda children=children: all(map(_gone, children)) and _port_is_free(port),
                10,
            )
            # The store on disk has every write answered 2xx, and no part of any other.
            _assert_nothing_half_written(_on_disk(settings), load.snapshot(), before)
            supervisor = service.start()
            wait_for(lambda new=supervisor: _answers(url) or new.poll() is not None)
            assert supervisor.poll() is None, log.read_text()
        time.sleep(1.0)  # the load goes on over the restarted service
    assert not load.unexpected, load.unexpected
    writes = load.writes
    _assert_nothing_half_written(_over_http(url), writes, before)
    # Nothing a killed writer held stays held: a write now is applied, and counted.
    # A graph of its own: numbers of writes that reached no server are not in ``writes``.
    after = Write(max((w.number for w in writes), default=-1) + 1, "put", 3)
    with httpx.Client(timeout=30) as client:
        assert after.send(client, url).status_code == 201
    _assert_nothing_half_written(_over_http(url), [*writes, after], before)
    _assert_answered(url)


def test_a_write_whose_process_died_before_announcing_it_is_seen_by_every_process(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A writer moves the store's 'current' link, then counts the publication so that the
    # other processes follow it. Killed between the two, the link has moved unannounced: as
    # if so, a write is published here without its count, and one server process killed.
    # Afterwards every process answers from the new build, not only the replacement.
    settings, log, url = service.settings, service.log, service.url
    late = Write(0, "update", 3)
    ask = f"ASK {{ GRAPH <{late.graph}> {{ ?s <{MARK}> ?o }} }}"

    def seen() -> list[bool]:
        with httpx.Client(limits=httpx.Limits(max_keepalive_connections=0), timeout=10) as client:
            return [
                client.get(url + "/sparql", params={"query": ask + f" # {n}"}).json()["boolean"]
                for n in range(30)
            ]

    wait_for(lambda: _answers(url) and _started(log) == 2)
    monkeypatch.setattr("cpgraph.store.builds._bump_generation", lambda store_dir: None)
    with write_transaction(settings.store_dir) as store:
        store.update(f"INSERT DATA {{ GRAPH <{late.graph}> {{ {late.triples()} }} }}")
    assert not any(seen())  # unannounced: no process has followed it
    os.kill(random.Random(SEED).choice(sorted(_pids(url))), signal.SIGKILL)
    wait_for(lambda: _started(log) == 3)
    assert all(seen())
