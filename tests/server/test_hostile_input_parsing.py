"""Hostile RDF and hostile validation requests: refused with a clear problem, the service whole.

Every body here is small and bounded (a three-level billion laughs, nesting a little past the
limit); the one dangerous expansion runs in a child process with a memory limit, so a
regression fails the test instead of hurting the machine.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from tests.conftest import built_mini_store, run_cli, running_server

from cpgraph.config import Settings
from cpgraph.errors import RdfSyntaxError, RemoteStoreError
from cpgraph.parts import make_part_folder, open_part
from cpgraph.publish.remote import Remote, Target
from cpgraph.rdf.io import MAX_NESTING, RdfFormat, check_rdf_file, parse_quads
from cpgraph.rdf.literals import ill_typed_reason

TOKEN = "a-token-for-hostile-input-tests"
CP = "https://w3id.org/cpgraph/ontology#"
XMLNS = 'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/"'
NOTICE = f"""
<https://w3id.org/cpgraph/id/instrument/hostile-test-notice> a <{CP}Notice> ;
    <http://www.w3.org/2000/01/rdf-schema#label> "A notice"@en ;
    <{CP}issuedBy> <https://w3id.org/cpgraph/id/org/sepa> .
"""


def laughs(levels: int, *, encoding: str = "utf-8") -> bytes:
    """RDF/XML whose one literal is an entity standing for 3 x 10^levels characters."""
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels + 1)
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f"<!DOCTYPE rdf:RDF [{entities}]>\n"
        f'<rdf:RDF {XMLNS}><rdf:Description rdf:about="http://example.org/s">'
        f"<ex:p>&l{levels};</ex:p></rdf:Description></rdf:RDF>"
    ).encode(encoding)


def nested(fmt: RdfFormat, depth: int) -> str:
    """A text of ``fmt`` nested ``depth`` levels deep."""
    if fmt is RdfFormat.RDF_XML:  # two elements a level
        return (
            f'<rdf:RDF {XMLNS}><rdf:Description rdf:about="http://example.org/s">'
            + "<ex:p><rdf:Description>" * (depth // 2)
            + "<ex:q>x</ex:q>"
            + "</rdf:Description></ex:p>" * (depth // 2)
            + "</rdf:Description></rdf:RDF>"
        )
    if fmt is RdfFormat.JSON_LD:
        return (
            '{"@id": "http://example.org/s", '
            + '"http://example.org/p": {' * depth
            + '"http://example.org/q": "x"'
            + "}" * depth
            + "}"
        )
    if fmt is RdfFormat.N_TRIPLES:  # RDF 1.2 triple terms, each <<( counting three
        return (
            "<http://example.org/s> <http://example.org/p> "
            + "<<( <http://example.org/s> <http://example.org/p> " * (depth // 3 + 1)
            + '"x"'
            + " )>>" * (depth // 3 + 1)
            + " .\n"
        )
    return (
        "<http://example.org/s> <http://example.org/p> "
        + "[ <http://example.org/p> " * depth
        + '"x"'
        + " ]" * depth
        + " .\n"
    )


# --- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_rdf_xml_declaring_entities_is_refused_before_any_expansion(encoding: str) -> None:
    with pytest.raises(RdfSyntaxError, match="DOCTYPE or entity declaration") as refused:
        parse_quads(laughs(3, encoding=encoding), format=RdfFormat.RDF_XML, source="body")
    assert refused.value.status == 400
    assert refused.value.line == 2


def test_a_billion_laughs_is_refused_in_a_process_that_could_not_afford_it(
    tmp_path: Path,
) -> None:
    # Nine levels stand for 3 GB; the child may have 512 MiB, and gets 30 s.
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (512 << 20, 512 << 20))
        from cpgraph.errors import RdfSyntaxError
        from cpgraph.rdf.io import RdfFormat, parse_quads
        try:
            parse_quads({laughs(9)!r}, format=RdfFormat.RDF_XML)
        except RdfSyntaxError as exc:
            print("refused:", exc.reason)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "refused: a DOCTYPE or entity declaration" in result.stdout


def test_an_rdf_xml_file_with_entities_is_refused_before_it_is_loaded(tmp_path: Path) -> None:
    path = tmp_path / "laughs.rdf"
    path.write_bytes(laughs(3))
    with pytest.raises(RdfSyntaxError, match="DOCTYPE") as refused:
        check_rdf_file(path, RdfFormat.RDF_XML)
    assert str(path) in refused.value.message


@pytest.mark.parametrize(
    "fmt", [RdfFormat.RDF_XML, RdfFormat.TURTLE, RdfFormat.N_TRIPLES, RdfFormat.JSON_LD]
)
def test_nesting_past_the_limit_is_refused_with_where(fmt: RdfFormat) -> None:
    parse_quads(nested(fmt, MAX_NESTING - 10), format=fmt)  # deep, but under the limit
    with pytest.raises(RdfSyntaxError, match=f"deeper than {MAX_NESTING}") as refused:
        parse_quads(nested(fmt, MAX_NESTING + 2), format=fmt)
    assert refused.value.line == 1
    assert refused.value.column is not None


@pytest.mark.parametrize("fmt", [RdfFormat.RDF_XML, RdfFormat.JSON_LD, RdfFormat.N_TRIPLES])
def test_nesting_that_used_to_crash_or_crawl_is_refused_at_once(fmt: RdfFormat) -> None:
    # 20,000 levels: a stack overflow (N-Triples, JSON-LD) or seconds of quadratic work.
    started = time.monotonic()
    with pytest.raises(RdfSyntaxError, match="deeper than"):
        parse_quads(nested(fmt, 20_000), format=fmt)
    assert time.monotonic() - started < 2


def test_brackets_in_strings_iris_and_comments_are_not_nesting() -> None:
    text = (
        '<http://example.org/s> <http://example.org/p> "'
        + "[" * 500
        + '", """'
        + "(" * 500
        + '\n""" . # '
        + "[" * 500
        + "\n<http://example.org/a#"
        + "(" * 150
        + "> <http://example.org/p> '"
        + "{" * 500
        + "' .\n"
    )
    assert len(parse_quads(text, format=RdfFormat.TURTLE)) == 3
    json = '{"@id": "http://example.org/s", "http://example.org/p": "' + "[{" * 500 + '"}'
    assert len(parse_quads(json, format=RdfFormat.JSON_LD)) == 1


def test_a_push_refuses_a_target_that_answers_with_entities() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=laughs(3), headers={"Content-Type": "application/rdf+xml"}
        )

    client = httpx.Client(transport=httpx.MockTransport(answer))
    remote = Remote(client, Target(gsp="http://127.0.0.1:9/store"))
    with pytest.raises(RemoteStoreError, match="DOCTYPE"):
        remote.fetch("http://example.org/g")


def test_the_validate_command_refuses_an_rdf_xml_file_with_entities(
    mini_source: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "laughs.rdf"
    path.write_bytes(laughs(3))
    result = run_cli("validate", "--no-context", str(path), settings=mini_source)
    assert result.returncode == 2
    assert "DOCTYPE or entity declaration" in result.stderr


# --- literals and temporary files -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "datatype", "ok"),
    [
        ("abc", "integer", False),
        (" 12 ", "integer", True),
        ("300", "byte", False),
        ("0", "positiveInteger", False),
        ("2009", "gYear", True),
        ("20x9", "gYear", False),
        ("1994-12", "gYearMonth", True),
        ("2009-02-29", "date", False),
        ("2008-02-29", "date", True),
        ("2008-01-01T10:00:00Z", "dateTime", True),
        ("maybe", "boolean", False),
        ("1.5e3", "double", True),
        ("P1Y2M", "duration", True),
        ("P", "duration", False),
        ("anything", "string", True),
    ],
)
def test_ill_typed_xsd_literals_are_told_apart(value: str, datatype: str, ok: bool) -> None:
    literal = ox.Literal(
        value, datatype=ox.NamedNode(f"http://www.w3.org/2001/XMLSchema#{datatype}")
    )
    assert (ill_typed_reason(literal) is None) is ok


def test_temporary_parts_are_new_files_never_existing_ones(tmp_path: Path) -> None:
    target = tmp_path / "dump.nq"
    first, out = open_part(target)
    with out:
        out.write(b"x")
    second, other = open_part(target)
    other.close()
    assert first != second
    assert first.name.startswith(".dump.nq.")
    assert first.name.endswith(".part")
    folder = make_part_folder(tmp_path / "bundle")
    assert folder.is_dir()
    assert not any(folder.iterdir())


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server with tight validation limits: 1.5 s, one at a time per client, 600 KB
    anonymous bodies; one server process, so that its validation processes are easy to find."""
    settings = built_mini_store(tmp_path_factory)
    with running_server(
        settings,
        CPGRAPH_PROCESSES="1",
        CPGRAPH_TOKEN=TOKEN,
        CPGRAPH_VALIDATE_TIMEOUT="1.5",
        CPGRAPH_VALIDATE_CONCURRENCY="1",
        CPGRAPH_MAX_VALIDATE_BYTES="600000",
    ) as url:
        yield url


def slow_body(organisations: int = 1500) -> str:
    """Turtle that takes seconds to validate (many organisations, each met by shapes)."""
    return "".join(
        f"<https://w3id.org/cpgraph/id/org/hostile-{i}> a <{CP}Organisation> ; "
        f'<http://www.w3.org/2000/01/rdf-schema#label> "Org {i}"@en ; <{CP}acronym> "H{i}" .\n'
        for i in range(organisations)
    )


def validate(
    url: str,
    body: str | bytes,
    *,
    content_type: str = "text/turtle",
    token: str | None = None,
    timeout: float = 30,
) -> httpx.Response:
    headers = {"Content-Type": content_type, "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(url + "/validate", content=body, headers=headers, timeout=timeout)


def statements(url: str) -> int:
    response = httpx.get(
        url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    )
    assert response.status_code == 200
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def assert_whole(url: str, count: int) -> None:
    """Another request is answered within a second, validation works, nothing changed."""
    started = time.monotonic()
    assert statements(url) == count
    assert time.monotonic() - started < 1
    good = validate(url, NOTICE)
    assert good.status_code == 200, good.text
    assert good.json()["conforms"] is True


def validation_children() -> list[int]:
    """The processes forked by this machine's multiprocessing fork servers (validations)."""
    servers = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"multiprocessing.forkserver" in (entry / "cmdline").read_bytes():
                    servers.add(entry.name)
            except OSError:
                continue
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] in servers:
                children.append(int(entry.name))
    return children


def wait_for_no_validation_children(seconds: float = 3) -> None:
    deadline = time.monotonic() + seconds
    while validation_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert validation_children() == []


def test_a_billion_laughs_sent_to_validate_is_a_400_and_the_service_stays_whole(
    server: str,
) -> None:
    count = statements(server)
    response = validate(server, laughs(3), content_type="application/rdf+xml")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/rdf-syntax")
    assert "DOCTYPE or entity declaration" in problem["detail"]
    assert_whole(server, count)


def test_a_graph_store_write_with_entities_is_refused_and_changes_nothing(server: str) -> None:
    count = statements(server)
    response = httpx.put(
        server + "/store",
        params={"graph": "http://example.org/laughs"},
        content=laughs(3),
        headers={"Content-Type": "application/rdf+xml", "Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 400
    assert "DOCTYPE" in response.json()["detail"]
    assert_whole(server, count)


def test_deeply_nested_bodies_are_400_problems_for_validate(server: str) -> None:
    count = statements(server)
    for fmt in (RdfFormat.JSON_LD, RdfFormat.N_TRIPLES, RdfFormat.RDF_XML, RdfFormat.TURTLE):
        response = validate(server, nested(fmt, 5_000), content_type=fmt.media_type)
        assert response.status_code == 400, (fmt, response.text)
        assert f"deeper than {MAX_NESTING}" in response.json()["detail"]
    assert_whole(server, count)


def test_invalid_utf8_in_the_validate_form_is_a_problem_not_a_500(server: str) -> None:
    for body in (b"data=\xff\xfe&format=ttl", b"data=%FF%FE&format=ttl"):
        response = validate(server, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "UTF-8" in response.json()["detail"]


def test_an_anonymous_body_over_the_validation_limit_is_413_a_token_holder_gets_more(
    server: str,
) -> None:
    big = "# " + "x" * 700_000 + "\n" + NOTICE
    refused = validate(server, big)
    assert refused.status_code == 413
    assert refused.json()["type"].endswith("/too-large")
    allowed = validate(server, big, token=TOKEN)
    assert allowed.status_code == 200, allowed.text


def test_a_validation_past_its_time_limit_is_a_503_and_its_process_is_stopped(
    server: str,
) -> None:
    count = statements(server)
    started = time.monotonic()
    response = validate(server, slow_body())
    assert response.status_code == 503
    assert response.json()["type"].endswith("/validation-limit")
    assert "1.5 s" in response.json()["detail"]
    assert time.monotonic() - started < 5
    wait_for_no_validation_children()
    assert_whole(server, count)


def test_a_client_that_leaves_stops_its_validation(server: str) -> None:
    count = statements(server)
    with pytest.raises(httpx.ReadTimeout):
        validate(server, slow_body(), timeout=0.6)
    wait_for_no_validation_children(seconds=1.5)
    assert_whole(server, count)


def test_a_clients_second_validation_at_once_is_429_and_others_go_on(server: str) -> None:
    count = statements(server)
    first: list[httpx.Response] = []
    running = threading.Thread(target=lambda: first.append(validate(server, slow_body())))
    running.start()
    try:
        deadline = time.monotonic() + 3
        while not validation_children() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = validate(server, NOTICE)
        assert second.status_code == 429
        assert second.json()["type"].endswith("/too-many-validations")
    finally:
        running.join(timeout=30)
    assert first[0].status_code == 503
    assert_whole(server, count)


def test_an_ill_typed_literal_is_refused_though_no_shape_covers_it(server: str) -> None:
    count = statements(server)
    body = (
        "<https://w3id.org/cpgraph/id/org/sepa> <http://example.org/employees> "
        '"abc"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    )
    checked = validate(server, body)
    assert checked.status_code == 422
    assert '"abc"^^<http://www.w3.org/2001/XMLSchema#integer>' in checked.json()["detail"]
    committed = httpx.post(
        server + "/contributions",
        params={"comment": "head count"},
        content=body,
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
    )
    assert committed.status_code == 422
    assert "ill-typed" in committed.json()["detail"]
    assert_whole(server, count)


def test_a_contribution_is_still_committed_through_its_validation_process(server: str) -> None:
    count = statements(server)
    committed = httpx.post(
        server + "/contributions",
        params={"comment": "a notice for the hostile-input tests"},
        content=NOTICE,
        headers={"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert committed.status_code == 201, committed.text
    assert statements(server) > count
    wait_for_no_validation_children()


def test_a_clients_validation_limit_holds_across_server_processes(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Two server processes; while one validation of this client runs, each of its further
    # validations is refused, whichever process its new connection reaches.
    settings = built_mini_store(tmp_path_factory)
    with running_server(
        settings,
        CPGRAPH_PROCESSES="2",
        CPGRAPH_VALIDATE_TIMEOUT="4",
        CPGRAPH_VALIDATE_CONCURRENCY="1",
        CPGRAPH_MAX_VALIDATE_BYTES="2000000",
    ) as url:
        first: list[httpx.Response] = []
        # Long enough to outlast the refusals below on a fast machine; its own outcome (done
        # or stopped at the deadline) is not what this test is about.
        body = slow_body(6000)
        running = threading.Thread(target=lambda: first.append(validate(url, body)))
        running.start()
        try:
            deadline = time.monotonic() + 5
            while not validation_children() and time.monotonic() < deadline:
                time.sleep(0.05)
            for _ in range(6):  # a new connection each: the kernel spreads them
                refused = validate(url, NOTICE)
                assert refused.status_code == 429
                assert refused.json()["type"].endswith("/too-many-validations")
        finally:
            running.join(timeout=30)
        assert first[0].status_code in {200, 503}
        assert validate(url, NOTICE).status_code == 200  # its place is free again
