"""Query texts an attacker would send, and server processes that die: the service holds.

Each hostile text of issue 22's first item (deep nesting, long operator chains) is refused
with a 400 problem naming the limit before the engine parses it, on every way in. Where the
limits are lifted so that a text really ends a process, the supervisor keeps serving, frees
what the process held, and refuses the same text at once for a while. All traffic goes to
servers on 127.0.0.1 that the tests start, in bounded loops.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import (
    LOOKUP,
    QUICK,
    ROOT,
    RUNAWAY,
    assert_whole,
    built_mini_store,
    cli_env,
    free_port,
    running_server,
    server_pids,
    statement_count,
    wait_for,
)

from cpgraph.config import Settings, load_settings
from cpgraph.errors import QueryTooComplexError, TooManyQueriesError
from cpgraph.server.app import client_limiter
from cpgraph.server.board import digest
from cpgraph.server.supervisor import Supervisor
from cpgraph.sparql.text import check_complexity, measure

DEFAULTS = load_settings({})

# The texts that ended a server process (pyoxigraph 0.5's parser overflows its stack).
HOSTILE = {
    "10,000 nested braces": "SELECT * WHERE " + "{" * 10_000 + " ?s ?p ?o " + "}" * 10_000,
    "5,000 nested lists": "SELECT * WHERE { ?s ?p " + "(" * 5_000 + "1" + ")" * 5_000 + " }",
    "a FILTER of 15,000 ||": "SELECT * WHERE { ?s ?p ?o FILTER("
    + " || ".join(["?o = 1"] * 15_000)
    + ") }",
    "3,000 nested CONCAT": "SELECT * WHERE { BIND("
    + "CONCAT(" * 3_000
    + "'a'"
    + ",'b')" * 3_000
    + " AS ?x) }",
    "3,000 nested sub-SELECTs": "SELECT * WHERE { "
    + "{ SELECT * WHERE " * 3_000
    + "{ ?s ?p ?o }"
    + " }" * 3_000
    + " }",
    "5,000 nested blank nodes": "SELECT * WHERE { ?s ?p "
    + "[ <urn:p> " * 5_000
    + "1"
    + " ]" * 5_000
    + " }",
    "5,000 triple patterns": "SELECT * WHERE { "
    + " . ".join(f"?s{n} <urn:p> ?o{n}" for n in range(5_000))
    + " }",
    "a path of 1,000 steps": "SELECT * WHERE { ?s " + "/".join(["<urn:p>"] * 1_000) + " ?o }",
    "a chain of 400 OPTIONALs": "SELECT * WHERE { ?s ?p ?o "
    + " ".join(["OPTIONAL { ?s ?p ?o }"] * 400)
    + " }",
    "a subtraction chain hidden in what reads as an IRI": "SELECT * WHERE { ?s ?p ?o FILTER(?o<1"
    + "-1" * 5_000
    + ">?o) }",
    "parentheses hidden in what reads as an IRI": "SELECT * WHERE { ?s ?p ?o FILTER(?o<"
    + "(" * 5_000
    + "1"
    + ")" * 5_000
    + ">?o) }",
}
CRASHER = "SELECT * WHERE " + "{" * 120_000 + " ?s ?p ?o " + "}" * 120_000


def _check(text: str) -> None:
    check_complexity(
        text,
        max_depth=DEFAULTS.max_query_depth,
        max_operators=DEFAULTS.max_query_operators,
    )


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_each_hostile_text_is_refused_before_the_engine_parses_it(name: str) -> None:
    with pytest.raises(QueryTooComplexError) as refused:
        _check(HOSTILE[name])
    assert refused.value.limit in ("CPGRAPH_MAX_QUERY_DEPTH", "CPGRAPH_MAX_QUERY_OPERATORS")
    assert refused.value.limit in refused.value.message


def test_every_saved_query_passes_the_default_limits() -> None:
    files = sorted((ROOT / "queries").glob("**/*.rq"))
    assert files
    for path in files:
        _check(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("text", "depth", "operators"),
    [
        # Brackets and operators in strings, IRIs and comments count for nothing.
        ('ASK { ?s ?p \'{{{ || ((\' . ?s ?p """[[[\n]]]""" } # {{{ ||', 1, 0),
        ("ASK { ?s <http://e.org/a/(b)> ?o }", 2, 0),
        # A comment ends at CR as at LF: what follows is code.
        ("ASK { ?s ?p ?o } # c\r{ { } }", 2, 0),
        # Prefixed names and language tags hold '-'; bare words, numbers and variables don't.
        ("ASK { ?s se:smart-grid 'x'@en-US }", 1, 0),
        ("ASK { FILTER(true-1-1) }", 2, 2),
        ("ASK { FILTER(?a-?b-?c) }", 2, 2),
        ("ASK { FILTER(1.5e-3-1) }", 2, 1),
        # Group-pattern keywords nest like operators, in any case.
        ("ASK { {} UNION {} union {} OPTIONAL {} MINUS {} }", 2, 4),
        # An escaped IRI is one IRI: the quote inside it opens no string.
        ("ASK { ?s <a\\u0041'b> ?o . {{ }} }", 3, 0),
    ],
)
def test_measuring_follows_the_grammar(text: str, depth: int, operators: int) -> None:
    shape = measure(text)
    assert (shape.depth, shape.operators) == (depth, operators)


def test_a_short_query_is_cleared_without_lexing() -> None:
    # Fewer brackets than the depth limit and fewer characters than the operator limit.
    check_complexity("SELECT * WHERE { ?s ?p ?o }", max_depth=2, max_operators=30)
    with pytest.raises(QueryTooComplexError, match="3 deep"):
        check_complexity("ASK {{{}}}", max_depth=2, max_operators=30)


# ---------------------------------------------------------------------------------------------
# Against a real server.
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = built_mini_store(tmp_path_factory)
    with running_server(settings, CPGRAPH_TOKEN="a-test-token-of-some-length") as url:
        yield url


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_query_is_a_400_problem_by_get_post_and_form(server: str, name: str) -> None:
    count = statement_count(server)
    text = HOSTILE[name]
    responses = [
        httpx.post(
            server + "/sparql",
            content=text.encode(),
            headers={"Content-Type": "application/sparql-query"},
            timeout=30,
        ),
        httpx.post(server + "/sparql", data={"query": text}, timeout=30),
    ]
    if len(text) < 30_000:  # what fits in a request line
        responses.append(httpx.get(server + "/sparql", params={"query": text}, timeout=30))
    for response in responses:
        assert response.status_code == 400, response.text[:300]
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/problems/query-too-complex")
        assert problem["limit"] in problem["detail"]
    assert_whole(server, count)


def test_a_hostile_update_is_a_400_problem_before_anything_is_written(server: str) -> None:
    count = statement_count(server)
    update = "INSERT DATA { <urn:s> <urn:p> " + "(" * 5_000 + "1" + ")" * 5_000 + " }"
    response = httpx.post(
        server + "/sparql",
        content=update.encode(),
        headers={
            "Content-Type": "application/sparql-update",
            "Authorization": "Bearer a-test-token-of-some-length",
        },
        timeout=30,
    )
    assert response.status_code == 400
    assert response.json()["type"].endswith("/problems/query-too-complex")
    assert_whole(server, count)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/sparql", params={"query": LOOKUP}, timeout=5).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def unlimited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server whose query-text limits are lifted, so that a text can end a process."""
    settings = built_mini_store(tmp_path_factory)
    with running_server(
        settings,
        CPGRAPH_MAX_QUERY_DEPTH="1000000",
        CPGRAPH_MAX_QUERY_OPERATORS="1000000",
        CPGRAPH_QUERY_TIMEOUT="3",
    ) as url:
        yield url


def test_a_text_that_ends_a_process_is_refused_at_once_when_it_comes_again(
    unlimited: str,
) -> None:
    count = statement_count(unlimited)
    before = set(server_pids(unlimited))
    assert len(before) == 2
    with pytest.raises(httpx.TransportError):  # its process dies under it
        httpx.post(unlimited + "/sparql", data={"query": CRASHER}, timeout=30)
    wait_for(lambda: _answers(unlimited) and len(server_pids(unlimited)) == 2)
    assert set(server_pids(unlimited)) != before  # one was replaced
    for _ in range(12):  # the dozen: each refused at once, no process ends
        started = time.monotonic()
        again = httpx.post(unlimited + "/sparql", data={"query": CRASHER}, timeout=30)
        assert again.status_code == 503
        assert again.json()["type"].endswith("/problems/query-quarantined")
        assert int(again.headers["retry-after"]) > 0
        assert time.monotonic() - started < 2.0
    assert len(server_pids(unlimited)) == 2
    assert_whole(unlimited, count)


def test_processes_that_keep_dying_of_requests_never_stop_the_service(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    with running_server(
        settings,
        CPGRAPH_MAX_QUERY_DEPTH="1000000",
        CPGRAPH_MAX_QUERY_OPERATORS="1000000",
        CPGRAPH_QUARANTINE_SECONDS="0",  # nothing refused: every one of them ends a process
    ) as url:
        count = statement_count(url)
        for n in range(12):
            crasher = CRASHER + f" # {n}"
            with pytest.raises(httpx.TransportError):
                httpx.post(url + "/sparql", data={"query": crasher}, timeout=30)
        wait_for(lambda: _answers(url) and len(server_pids(url)) == 2)
        assert_whole(url, count)


def test_a_killed_process_frees_its_clients_places(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Two runaway queries hold the client's two places; both server processes are killed
    # with SIGKILL. Afterwards the client has its two places again: two runaways run to
    # their time limit, not refused. (SIGKILL, the OOM killer's signal or an operator's, puts
    # nothing in quarantine: it says nothing of the queries in flight.)
    settings = built_mini_store(tmp_path_factory)
    with running_server(
        settings,
        CPGRAPH_CLIENT_CONCURRENCY="2",
        CPGRAPH_QUERY_TIMEOUT="4",
    ) as url:
        count = statement_count(url)
        outcomes: list[str] = []

        def run() -> None:
            try:
                httpx.post(url + "/sparql", data={"query": RUNAWAY}, timeout=30)
                outcomes.append("answered")
            except httpx.TransportError:
                outcomes.append("cut")

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        third = httpx.post(url + "/sparql", data={"query": QUICK}, timeout=10)
        assert third.status_code == 429  # at its limit while they run
        for pid in server_pids(url):
            os.kill(pid, signal.SIGKILL)
        for thread in threads:
            thread.join(timeout=30)
        assert outcomes == ["cut", "cut"]
        wait_for(lambda: _answers(url) and len(server_pids(url)) == 2)
        statuses: list[int] = []

        def again() -> None:
            response = httpx.post(url + "/sparql", data={"query": RUNAWAY}, timeout=30)
            statuses.append(response.status_code)
            assert response.json()["type"].endswith("/problems/query-timeout")

        threads = [threading.Thread(target=again) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert statuses == [503, 503]
        assert_whole(url, count)


def test_a_client_at_its_limit_of_heavy_queries_leaves_room_for_others(
    shipped: Settings,
) -> None:
    # One client (127.0.0.1) runs as many cross products as it may; another (127.0.0.2)
    # meanwhile gets its point lookups and a saved query answered as usual. The heavy
    # client holds at most its limit in all and one thread fewer than a process has in each
    # process (where its connections land is the kernel's choice), never every thread.
    with running_server(shipped, CPGRAPH_QUERY_TIMEOUT="6") as url:
        limit = DEFAULTS.client_concurrency
        assert limit < DEFAULTS.processes * DEFAULTS.query_workers
        heavy = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        statuses: list[int] = []

        def run() -> None:
            statuses.append(
                httpx.post(url + "/sparql", data={"query": heavy}, timeout=30).status_code
            )

        threads = [threading.Thread(target=run) for _ in range(limit + 2)]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
            for _ in range(20):
                started = time.monotonic()
                lookup = other.get(url + "/sparql", params={"query": LOOKUP}, timeout=10)
                assert lookup.status_code == 200
                assert time.monotonic() - started < 1.0
            for _ in range(3):
                started = time.monotonic()
                saved = other.get(
                    url + "/queries/working-group-members",
                    headers={"Accept": "application/sparql-results+json"},
                    timeout=10,
                )
                assert saved.status_code == 200
                assert saved.json()["results"]["bindings"]
                assert time.monotonic() - started < 2.0
        for thread in threads:
            thread.join(timeout=40)
        # Each of its queries was stopped at its time limit or refused at one of its limits,
        # and it never ran more than its limit at once.
        assert set(statuses) == {503, 429}
        assert DEFAULTS.query_workers - 1 <= statuses.count(503) <= limit


def test_server_processes_end_with_a_supervisor_killed_outright(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # SIGKILL gives the supervisor no chance to stop its processes: the kernel ends them,
    # so the port is free for the next 'cpgraph serve' at once.
    settings = built_mini_store(tmp_path_factory)
    port = free_port()
    env = cli_env(settings)
    command = [sys.executable, "-m", "cpgraph.cli.main", "serve", "--port", str(port)]
    url = f"http://127.0.0.1:{port}"
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: _answers(url))
        children = server_pids(url)
        assert len(children) == 2
        first.kill()
        first.wait(timeout=10)
        wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 10)
        second = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_for(lambda: _answers(url) or second.poll() is not None)
            assert second.poll() is None, second.stderr.read() if second.stderr else ""
        finally:
            second.terminate()
            second.wait(timeout=20)
            if second.stderr is not None:
                second.stderr.close()
    finally:
        if first.poll() is None:
            first.kill()


def test_a_query_past_the_memory_ceiling_is_a_503_and_its_process_is_replaced(
    shipped: Settings,
) -> None:
    # Grouping a cross product grows memory until the time limit; the ceiling comes first.
    with running_server(
        shipped, CPGRAPH_PROCESS_MEMORY_MIB="700", CPGRAPH_QUERY_TIMEOUT="60"
    ) as url:
        count = statement_count(url)
        before = set(server_pids(url))
        grouped = "SELECT ?a ?c ?f (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f } GROUP BY ?a ?c ?f"
        started = time.monotonic()
        response = httpx.post(url + "/sparql", data={"query": grouped}, timeout=90)
        assert response.status_code == 503
        problem = response.json()
        assert problem["type"].endswith("/problems/memory-limit")
        assert time.monotonic() - started < 50  # the ceiling, not the time limit
        wait_for(lambda: len(set(server_pids(url)) - before) == 1 and _answers(url))
        assert len(server_pids(url)) == 2
        assert_whole(url, count)


def test_a_crash_quarantines_the_text_held_alone_or_held_again_at_a_later_crash() -> None:
    supervisor = Supervisor(load_settings({}))
    culprit, bystander, other = digest("culprit"), digest("bystander"), digest("other")
    assert supervisor._suspected([culprit]) == [culprit]  # alone: it did it
    assert supervisor._suspected([bystander, other]) == []  # which one is unknown yet
    # At the next crash, the one held both times is the suspect; a new bystander is not.
    assert supervisor._suspected([other, digest("new")]) == [other]


def test_a_per_client_limit_of_0_lifts_it_for_a_proxy_that_limits_users_itself() -> None:
    settings = load_settings({"CPGRAPH_CLIENT_CONCURRENCY": "0"})
    limiter = client_limiter(settings, None)
    for _ in range(settings.query_workers * 4):  # far past every thread of the process
        limiter.acquire("192.0.2.9")
    default = client_limiter(load_settings({}), None)
    for _ in range(DEFAULTS.query_workers - 1):
        default.acquire("192.0.2.9")
    with pytest.raises(TooManyQueriesError):
        default.acquire("192.0.2.9")  # one thread of the process is always left to others
