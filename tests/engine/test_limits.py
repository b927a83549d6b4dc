"""Limits that hold: time, size, per-client concurrency and anonymous row limits."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import httpx
import pytest
from tests.conftest import LIMITED_TOKEN as TOKEN
from tests.conftest import QUICK, RUNAWAY, built_mini_store, running_server


def test_a_runaway_query_is_stopped_at_its_limit_while_others_are_answered(limited: str) -> None:
    outcome: dict[str, object] = {}

    def runaway() -> None:
        started = time.monotonic()
        response = httpx.post(limited + "/sparql", data={"query": RUNAWAY}, timeout=30)
        outcome["status"] = response.status_code
        outcome["problem"] = response.json()
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    answered = 0
    while thread.is_alive() and answered < 50:
        response = httpx.get(limited + "/sparql", params={"query": QUICK}, timeout=10)
        assert response.status_code == 200
        answered += 1
        time.sleep(0.05)
    thread.join(timeout=30)

    assert outcome["status"] == 503
    assert "stopped after 2 s" in str(outcome["problem"])
    assert 2.0 <= float(outcome["seconds"]) < 3.0  # type: ignore[arg-type]
    assert answered >= 5
    # the stopped worker was replaced: the service still answers
    assert httpx.get(limited + "/sparql", params={"query": QUICK}).status_code == 200


def test_a_query_over_the_size_limit_is_a_413(limited: str) -> None:
    settle(limited)
    padding = "# " + "x" * 3000 + "\n"
    response = httpx.post(limited + "/sparql", data={"query": padding + QUICK})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


def test_a_client_over_its_concurrency_limit_gets_a_429(limited: str) -> None:
    statuses: list[int] = []

    def run() -> None:
        statuses.append(
            httpx.post(limited + "/sparql", data={"query": RUNAWAY}, timeout=30).status_code
        )

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    third = httpx.get(limited + "/sparql", params={"query": QUICK})
    for thread in threads:
        thread.join(timeout=30)
    assert third.status_code == 429
    assert statuses == [503, 503]


def settle(url: str) -> None:
    """Wait (bounded) until stopped workers are replaced and a quick query is answered."""
    deadline = time.monotonic() + 60
    while httpx.get(url + "/sparql", params={"query": QUICK}, timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the service did not settle"
        time.sleep(0.2)


def test_an_anonymous_select_over_the_row_limit_is_cut_and_says_so(limited: str) -> None:
    settle(limited)
    query = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    response = httpx.get(limited + "/sparql", params={"query": query})
    assert response.status_code == 200
    assert response.headers["cpgraph-row-limit"] == "5"
    assert response.headers["cpgraph-truncated"] == "true"
    assert len(response.json()["results"]["bindings"]) == 5


def test_a_result_under_the_row_limit_is_whole_and_not_marked_cut(limited: str) -> None:
    settle(limited)
    response = httpx.get(limited + "/sparql", params={"query": QUICK})
    assert response.headers["cpgraph-row-limit"] == "5"
    assert "cpgraph-truncated" not in response.headers
    assert len(response.json()["results"]["bindings"]) == 2


@pytest.mark.parametrize(("values", "cut"), [(5, False), (6, True)])
def test_rows_that_look_like_more_are_counted_exactly_at_the_row_limit(
    limited: str, values: int, cut: bool
) -> None:
    # Braces in the literals make the cheap count of a JSON answer overcount (10 for 5 rows):
    # the answer is then counted exactly, and cut only when it has more rows than the limit.
    settle(limited)
    literals = " ".join(f'"{{row {i}}}"' for i in range(values))
    query = f"SELECT ?x WHERE {{ VALUES ?x {{ {literals} }} }}"
    response = httpx.get(limited + "/sparql", params={"query": query})
    assert response.status_code == 200
    assert ("cpgraph-truncated" in response.headers) is cut
    got = [b["x"]["value"] for b in response.json()["results"]["bindings"]]
    assert got == [f"{{row {i}}}" for i in range(5)]


@pytest.mark.parametrize(("limit", "rows", "cut"), [(3, 3, False), (5, 5, False), (9, 5, True)])
def test_a_query_s_own_limit_is_honoured_and_the_row_limit_still_announced(
    limited: str, limit: int, rows: int, cut: bool
) -> None:
    settle(limited)
    query = f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {limit}"
    for accept in ("application/sparql-results+json", "text/csv"):
        response = httpx.get(
            limited + "/sparql", params={"query": query}, headers={"Accept": accept}
        )
        assert response.status_code == 200
        assert response.headers["cpgraph-row-limit"] == "5"
        assert ("cpgraph-truncated" in response.headers) is cut
        if accept == "text/csv":
            assert len(response.text.strip().splitlines()) == rows + 1  # the header line
        else:
            assert len(response.json()["results"]["bindings"]) == rows


def test_the_operator_token_lifts_the_row_limit(limited: str) -> None:
    settle(limited)
    response = httpx.get(
        limited + "/sparql",
        params={"query": "SELECT * WHERE { ?s ?p ?o }"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert "cpgraph-row-limit" not in response.headers
    assert len(response.json()["results"]["bindings"]) > 5


def _server_processes(port: int) -> dict[int, int]:
    """The server processes under the ``cpgraph serve`` listening on ``port``, with the CPU
    time (clock ticks) each has used."""
    proc = Path("/proc")
    supervisor = next(
        int(entry.name)
        for entry in proc.iterdir()
        if entry.name.isdigit() and f"serve\0--port\0{port}".encode() in _read(entry / "cmdline")
    )
    children = _read(proc / str(supervisor) / "task" / str(supervisor) / "children").split()
    found: dict[int, int] = {}
    for child in map(int, children):
        if b"resource_tracker" in _read(proc / str(child) / "cmdline"):
            continue
        fields = _read(proc / str(child) / "stat").rsplit(b")", 1)[-1].split()
        found[child] = int(fields[11]) + int(fields[12])  # utime + stime
    return found


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_query_stuck_past_its_limit_ends_its_process_and_the_work_stops(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    with running_server(settings, CPGRAPH_QUERY_TIMEOUT="1", CPGRAPH_PROCESSES="2") as url:
        port = int(url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 30
        while len(before := _server_processes(port)) < 2:  # both processes up
            assert time.monotonic() < deadline, "the server processes did not start"
            time.sleep(0.2)
        # A COUNT over a cross product is one evaluation step Oxigraph cannot interrupt.
        response = httpx.post(url + "/sparql", data={"query": RUNAWAY}, timeout=30)
        assert response.status_code == 503
        # The process that ran it hands over: it ends and another takes its place...
        while set(_server_processes(port)) >= set(before):
            assert time.monotonic() < deadline, "no server process was replaced"
            time.sleep(0.2)
        # ... and nothing goes on evaluating the query: once the new process has started,
        # the service is idle (a runaway would keep a core busy in every window).
        ticks = os.sysconf("SC_CLK_TCK")
        busy: list[int] = []
        while not busy or busy[-1] > 0.3 * ticks:
            assert time.monotonic() < deadline + 30, f"the service stays busy: {busy} ticks"
            start = _server_processes(port)
            time.sleep(1.5)
            end = _server_processes(port)
            busy.append(sum(end[pid] - start.get(pid, end[pid]) for pid in end))
        assert httpx.get(url + "/sparql", params={"query": QUICK}).status_code == 200
