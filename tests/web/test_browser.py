"""The pages in a real browser: Debian's Chromium, headless, against a real server.

Screenshots are decoded (with the standard library) and must be the window's size and not
one flat colour; the DOM must hold what a person would read. The query page (YASGUI) is driven
like a person would: through the DevTools protocol over a pipe (``--remote-debugging-pipe``,
no extra library), typing into the editor with completion, running the query, sorting,
paging and filtering the table, opening the chart; the protocol's network events list every
request the page makes, so a request to another host is seen. ``make test-deps`` installs
Chromium where it is missing and the user is root; elsewhere these tests skip and say so.
Every browser run is bounded in time.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
import pytest
import rdflib
from tests.browser import CHROMIUM, FLAGS, HEIGHT, RUN_TIMEOUT, WIDTH, assert_painted, chromium
from tests.pages_support import CP, pages_server

from cpgraph.web.charts import ChartKind, ResultTable, choose_chart, render_svg

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="Chromium is not installed at /usr/bin/chromium: run `make test-deps` as root "
    "(it installs Debian's chromium package)",
)


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real server over the mini fixture and one extra extract."""
    with pages_server(tmp_path_factory.mktemp("browser")) as base_url:
        yield base_url


# ---------------------------------------------------------------------------------------------
# Screenshots and DOM dumps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/", "Browse by class"),
        ("/id/org/cncpc", "Abstract, first paragraph"),
        ("/graph/s004/abstract-p1", "Source extract"),
        ("/ontology", "cleaner production centre"),
        ("/shapes", "Node shapes"),
        ("/browse?class=cp:GovernmentBody", "State Environmental Protection Administration"),
    ],
)
def test_a_page_renders_on_screen_with_its_text(
    url: str, tmp_path: Path, path: str, text: str
) -> None:
    shot = tmp_path / "page.png"
    chromium(
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        url + path,
        profile=tmp_path / "profile-shot",
    )
    assert_painted(shot.read_bytes())
    dom = chromium("--dump-dom", url + path, profile=tmp_path / "profile-dom")
    assert text in dom


# ---------------------------------------------------------------------------------------------
# Driving the query page through the DevTools protocol
# ---------------------------------------------------------------------------------------------


class DevTools:
    """A headless Chromium driven over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out)."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        child_in = os.dup2(to_browser_r, 100)  # out of the way of 3 and 4
        child_out = os.dup2(from_browser_w, 101)

        def pipes_at_3_and_4() -> None:
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)

        self.process = subprocess.Popen(
            [
                str(CHROMIUM),
                *FLAGS,
                "--remote-debugging-pipe",
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{HEIGHT}",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(3, 4),
            preexec_fn=pipes_at_3_and_4,  # the test process has no other threads
        )
        for fd in (to_browser_r, from_browser_w, child_in, child_out):
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def call(self, method: str, deadline: float, **params: Any) -> dict[str, Any]:
        """Send one command (to the attached page, once there is one) and wait for its answer."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply.get("result", {})
                return result
            self.events.append(reply)

    def wait_for_event(self, method: str, deadline: float) -> None:
        """Wait until the page sends ``method`` (one already received counts)."""
        while not any(e.get("method") == method for e in self.events):
            self.events.append(self._read(deadline))

    def evaluate(self, expression: str, deadline: float) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", deadline, expression=expression, returnByValue=True)
        return result["result"].get("value")

    def click(self, selector: str, deadline: float) -> None:
        """A real mouse click in the middle of the element ``selector`` finds (scrolled into
        view first)."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()",
            deadline,
        )
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                deadline,
                type=kind,
                x=box[0],
                y=box[1],
                button="left",
                clickCount=1,
            )

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            assert left > 0, "the browser did not answer in time"
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 65536)
                assert chunk, "the browser closed the pipe"
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def close(self) -> None:
        """Close the browser (and kill it if it does not go)."""
        with contextlib.suppress(OSError):
            os.write(
                self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0"
            )
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[DevTools]:
    """A headless Chromium to drive, closed afterwards."""
    devtools = DevTools(tmp_path / "profile")
    try:
        yield devtools
    finally:
        devtools.close()


def open_page(browser: DevTools, address: str, deadline: float) -> None:
    target = browser.call("Target.createTarget", deadline, url="about:blank")
    attached = browser.call(
        "Target.attachToTarget", deadline, targetId=target["targetId"], flatten=True
    )
    browser.session = attached["sessionId"]
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        deadline,
        width=WIDTH,
        height=HEIGHT,
        deviceScaleFactor=1,
        mobile=False,
    )
    browser.call("Page.enable", deadline)
    browser.call("Log.enable", deadline)  # Content-Security-Policy violations are logged
    browser.call("Network.enable", deadline)  # every request the page makes is reported
    browser.events.clear()
    browser.call("Page.navigate", deadline, url=address)
    browser.wait_for_event("Page.loadEventFired", deadline)


def wait_until(browser: DevTools, expression: str, deadline: float) -> Any:
    while True:
        value = browser.evaluate(expression, deadline)
        if value:
            return value
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


def press(browser: DevTools, key: str, code: str, deadline: float, *, ctrl: bool = False) -> None:
    """One key pressed and let go (``ctrl``: with Control held), as a keyboard sends it."""
    keycode = {"Space": 32, "Enter": 13, "End": 35}[code]
    for kind in ("rawKeyDown", "keyUp"):
        browser.call(
            "Input.dispatchKeyEvent",
            deadline,
            type=kind,
            key=key,
            code=code,
            windowsVirtualKeyCode=keycode,
            modifiers=2 if ctrl else 0,
        )


EDITOR = "document.querySelector('#yasgui .CodeMirror').CodeMirror"
TABLE_CELLS = (
    "[...document.querySelectorAll('.yasr table.dataTable tbody tr')]"
    ".map(tr => [...tr.cells].slice(1).map(td => td.textContent.trim()))"
)
INFO = "(document.querySelector('.yasr .dt-info') || {}).textContent"


def open_query_page(browser: DevTools, address: str, deadline: float) -> None:
    """The query page, once YASGUI has its editor."""
    open_page(browser, address, deadline)
    wait_until(browser, "!!document.querySelector('#yasgui .CodeMirror')", deadline)


def complete(browser: DevTools, typed: str, deadline: float) -> list[str]:
    """Type ``typed``, ask for completion (Ctrl+Space), take the first offer with Enter;
    the offers that were shown."""
    browser.call("Input.insertText", deadline, text=typed)
    press(browser, " ", "Space", deadline, ctrl=True)
    offers: list[str] = wait_until(
        browser,
        "(() => { const o = [...document.querySelectorAll('.CodeMirror-hint')]"
        ".map(e => e.textContent); return o.length ? o : null; })()",
        deadline,
    )
    press(browser, "Enter", "Enter", deadline)
    return offers


def test_a_person_types_a_query_with_completion_runs_it_and_reads_the_table(
    url: str, browser: DevTools, tmp_path: Path
) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    open_query_page(browser, url + "/query", deadline)
    browser.evaluate(f"{EDITOR}.setValue(''); {EDITOR}.focus()", deadline)
    assert complete(browser, "PREFIX sk", deadline) == [
        "skos: <http://www.w3.org/2004/02/skos/core#>"
    ]
    browser.call("Input.insertText", deadline, text="\nSELECT ?org ?date WHERE {\n  ?org a ")
    assert "cp:CleanerProductionCentre" in complete(browser, "cp:Cleaner", deadline)
    browser.call("Input.insertText", deadline, text=" ;\n    ")
    assert complete(browser, "cp:foundingD", deadline) == ["cp:foundingDate"]
    browser.call("Input.insertText", deadline, text=" ?date\n}\nORDER BY ?date")
    text = browser.evaluate(f"{EDITOR}.getValue()", deadline)
    assert text == (
        "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
        "SELECT ?org ?date WHERE {\n  ?org a cp:CleanerProductionCentre ;\n"
        "    cp:foundingDate ?date\n}\nORDER BY ?date"
    )
    # Highlighted: the editor's tokens carry CodeMirror's classes.
    assert browser.evaluate("document.querySelectorAll('.cm-keyword').length", deadline) >= 3
    browser.click("#yasgui .yasqe_queryButton", deadline)
    rows = wait_until(
        browser, f"(() => {{ const r = {TABLE_CELLS}; return r.length ? r : null; }})()", deadline
    )
    assert [row[1] for row in rows] == [
        '"1994-12"^^xsd:gYearMonth',
        '"1995"^^xsd:gYear',
    ]
    href = browser.evaluate(
        "document.querySelector('.yasr tbody a.iri').getAttribute('href')", deadline
    )
    assert href == "/id/org/cncpc"  # this dataset's IRIs link to this server's pages
    png = base64.b64decode(browser.call("Page.captureScreenshot", deadline, format="png")["data"])
    (tmp_path / "query-result.png").write_bytes(png)
    assert_painted(png)


def test_a_person_sorts_and_pages_a_long_result(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "SELECT ?s ?p ?o WHERE { ?s a sh:PropertyShape ; ?p ?o }"  # the shapes' rules
    open_query_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    info = wait_until(browser, INFO, deadline)
    total = int(info.split(" of ")[1].split()[0].replace(",", ""))
    assert info == f"Showing 1 to 50 of {total:,} entries"
    assert total > 100
    first_page = browser.evaluate(TABLE_CELLS, deadline)
    assert len(first_page) == 50
    browser.click(".yasr .dt-paging-button.next", deadline)
    assert wait_until(browser, f"{INFO}.startsWith('Showing 51 ') && {INFO}", deadline) == (
        f"Showing 51 to 100 of {total:,} entries"
    )
    assert browser.evaluate(TABLE_CELLS, deadline) != first_page
    # Sorting by ?p: one click ascending, another descending.
    browser.click(".yasr thead th:nth-child(3) .dt-column-order", deadline)
    ascending = wait_until(
        browser,
        f"{INFO}.startsWith('Showing 1 ') && {TABLE_CELLS}",
        deadline,
    )
    column = [row[1] for row in ascending]
    assert column == sorted(column)
    browser.click(".yasr thead th:nth-child(3) .dt-column-order", deadline)
    descending = wait_until(
        browser,
        f"{TABLE_CELLS}[0][1] !== {json.dumps(column[0])} && {TABLE_CELLS}",
        deadline,
    )
    assert [row[1] for row in descending] == sorted((row[1] for row in descending), reverse=True)
    # Filtering: the search box keeps the rows that hold the text.
    browser.click(".yasr .tableFilter", deadline)
    browser.call("Input.insertText", deadline, text="minCount")
    press(browser, "End", "End", deadline)  # the filter follows key presses
    filtered = wait_until(browser, f"{INFO}.includes('filtered') && {INFO}", deadline)
    assert filtered.startswith("Showing 1 to ")
    kept = browser.evaluate(TABLE_CELLS, deadline)
    assert "sh:minCount" in [row[1] for row in kept]
    assert all("mincount" in " ".join(row).lower() for row in kept)
    assert int(filtered.split(" of ")[1].split()[0].replace(",", "")) < total


def test_a_person_opens_a_chart_and_a_pivot_of_their_own_query(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = (
        "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class ORDER BY DESC(?n)"
    )
    open_query_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, INFO, deadline)
    counts = {row[0]: int(row[1].split('"')[1]) for row in browser.evaluate(TABLE_CELLS, deadline)}
    browser.click(".yasr .select_chart", deadline)
    bars = wait_until(
        browser,
        "(() => { const s = document.querySelector('.yasr svg.cp-chart'); return s && "
        "[...s.querySelectorAll('rect.cp-bar')].map(r => [r.previousSibling.querySelector('title')"
        ".textContent, r.nextSibling.textContent]); })()",
        deadline,
    )
    assert {name: int(n) for name, n in bars} == counts
    assert (
        browser.evaluate("document.querySelector('.yasr svg.cp-chart').getBBox().width", deadline)
        > 300
    )
    browser.click(".yasr .select_pivot", deadline)
    pivot = wait_until(
        browser,
        "(() => { const t = document.querySelector('.yasr table.cp-pivot'); return t && "
        "[...t.tBodies[0].rows].map(r => [r.cells[0].textContent, r.cells[1].textContent]); })()",
        deadline,
    )
    assert {name: int(n) for name, n in pivot} == counts


def test_a_construct_result_is_shown_as_rdf(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "CONSTRUCT { ?s cp:acronym ?a } WHERE { ?s cp:acronym ?a }"
    open_query_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, "!!document.querySelector('.yasr .select_response')", deadline)
    browser.click(".yasr .select_response", deadline)
    text = wait_until(
        browser,
        "(() => { const e = document.querySelector('.yasr .CodeMirror');"
        " return e && e.CodeMirror.getValue(); })()",
        deadline,
    )
    graph = rdflib.Graph().parse(data=text, format="turtle")
    assert (
        rdflib.URIRef("https://w3id.org/cpgraph/id/org/cncpc"),
        rdflib.URIRef(CP + "acronym"),
        rdflib.Literal("CNCPC"),
    ) in graph


def test_a_malformed_query_is_marked_at_its_line(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "SELECT ?s WHERE {\n  ?s a cp:Law\n  FILTER(?s = \n}"
    open_query_page(browser, f"{url}/query?{urlencode({'query': query})}", deadline)
    marked = wait_until(
        browser,
        f"(() => {{ const m = [...Array({EDITOR}.lineCount()).keys()]"
        f".filter(i => ({EDITOR}.lineInfo(i).gutterMarkers || {{}}).gutterErrorBar);"
        " return m.length ? m : null; })()",
        deadline,
    )
    assert marked == [3]  # the fourth line, counted from 0
    # A prefix the server declares is not an error: only the broken FILTER is.


def test_the_query_page_asks_nothing_of_another_host(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "SELECT ?class (COUNT(?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"
    open_query_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, INFO, deadline)
    browser.evaluate(f"{EDITOR}.focus(); {EDITOR}.setCursor({EDITOR}.lineCount(), 0)", deadline)
    complete(browser, "\nPREFIX sh", deadline)  # completion asks this server or no one
    browser.click(".yasr .select_chart", deadline)
    wait_until(browser, "!!document.querySelector('.yasr svg.cp-chart')", deadline)
    browser.evaluate("1", deadline)  # what the page did has been reported
    requested = [
        e["params"]["request"]["url"]
        for e in browser.events
        if e.get("method") == "Network.requestWillBeSent"
    ]
    assert any(u.endswith("/static/yasgui/yasgui.min.js") for u in requested)
    assert any(u.endswith("/sparql") for u in requested)
    assert {u.split("/")[2] for u in requested} == {url.split("//", 1)[1]}
    assert policy_violations(browser) == []


def test_a_query_in_the_link_that_closes_the_script_is_shown_not_run(
    url: str, browser: DevTools
) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    hostile = "</script><script>alert(1)</script><img src=x onerror=alert(2)>"
    open_query_page(browser, f"{url}/query?{urlencode({'query': hostile, 'run': '1'})}", deadline)
    assert browser.evaluate(f"{EDITOR}.getValue()", deadline) == hostile
    wait_until(browser, "!!document.querySelector('.yasr .errorResult, .yasr .dt-info')", deadline)
    assert not [e for e in browser.events if e.get("method") == "Page.javascriptDialogOpening"]
    assert browser.evaluate("document.querySelectorAll('img[src=x]').length", deadline) == 0


def test_a_person_follows_a_result_link_to_the_resource_page(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "SELECT ?org WHERE { ?org cp:acronym 'CNCPC' }"
    open_query_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, "!!document.querySelector('.yasr tbody a.iri')", deadline)
    browser.events.clear()
    browser.click(".yasr tbody a.iri", deadline)
    browser.wait_for_event("Page.loadEventFired", deadline)
    heading = wait_until(
        browser,
        "location.pathname === '/id/org/cncpc' && document.querySelector('h1').textContent",
        deadline,
    )
    assert heading == "China National Cleaner Production Centre"
    png = base64.b64decode(browser.call("Page.captureScreenshot", deadline, format="png")["data"])
    assert_painted(png)


def policy_violations(browser: DevTools) -> list[str]:
    """What the browser refused under the page's Content-Security-Policy (its log's security
    entries) since the page was opened."""
    return [
        e["params"]["entry"]["text"]
        for e in browser.events
        if e.get("method") == "Log.entryAdded" and e["params"]["entry"].get("source") == "security"
    ]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/id/org/cncpc",
        "/graph/s004/abstract-p1",
        "/ontology",
        "/shapes",
        "/browse?class=cp:GovernmentBody",
        "/contribute",
        "/query",
        "/docs",  # Swagger UI, from the package: a policy of its own for its data: icons
    ],
)
def test_no_page_breaks_its_content_security_policy(url: str, browser: DevTools, path: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    open_page(browser, url + path, deadline)
    browser.evaluate("1", deadline)  # what loading logged has arrived
    assert policy_violations(browser) == []


def test_the_api_docs_render_every_operation_from_the_package_alone(
    url: str, browser: DevTools
) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    open_page(browser, url + "/docs", deadline)
    wait_until(browser, "document.querySelectorAll('.opblock').length > 5", deadline)
    title = browser.evaluate("document.querySelector('.info .title').textContent", deadline)
    assert "cpgraph" in title
    hosts = browser.evaluate(
        "[...new Set(performance.getEntriesByType('resource').map(e => new URL(e.name).host))]",
        deadline,
    )
    assert hosts == [url.split("//", 1)[1]]  # nothing fetched from another host
    assert policy_violations(browser) == []


def test_a_javascript_iri_in_the_results_is_shown_as_text_not_a_link(
    url: str, browser: DevTools
) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = (
        "SELECT ?x WHERE { VALUES ?x { <javascript:alert(document.domain)> "
        "<JavaScript:alert(1)> <data:text/html,x> <https://example.org/a> "
        "<mailto:someone@example.org> } }"
    )
    open_query_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, INFO, deadline)
    cells = browser.evaluate(
        "[...document.querySelectorAll('.yasr tbody td:not(:first-child)')]"
        ".map(td => [td.textContent.trim(), [...td.querySelectorAll('[href]')]"
        ".map(a => a.getAttribute('href'))])",
        deadline,
    )
    assert cells == [
        ["<javascript:alert(document.domain)>", []],
        ["<JavaScript:alert(1)>", []],
        ["<data:text/html,x>", []],
        ["<https://example.org/a>", ["https://example.org/a"]],
        ["<mailto:someone@example.org>", ["mailto:someone@example.org"]],
    ]


# ---------------------------------------------------------------------------------------------
# The saved queries' charts, measured in the browser
# ---------------------------------------------------------------------------------------------

XSD = "http://www.w3.org/2001/XMLSchema#"
LONG = "Second National Industrial Pollution Prevention and Control Conference, in full"


def _chart_rows(rows: list[dict[str, ox.NamedNode | ox.Literal]]) -> ResultTable:
    return ResultTable(tuple(rows[0]), tuple(rows))


def _timeline_table() -> ResultTable:
    years = [1987, 1992, 1992, 1995, 1996, 2001, 2001, 2001]
    return _chart_rows(
        [
            {
                "date": ox.Literal(
                    f"{year}-0{i % 9 + 1}", datatype=ox.NamedNode(XSD + "gYearMonth")
                ),
                "label": ox.Literal(f"{LONG} ({i})" if i % 2 else f"Event {i}"),
            }
            for i, year in enumerate(years)
        ]
    )


def _network_table() -> ResultTable:
    # Each links to the next: one set of nodes on both sides, so the round layout.
    names = [f"{LONG[: 20 + i]} {i}" for i in range(26)]
    return _chart_rows(
        [
            {
                "a": ox.NamedNode(f"http://e/{i}"),
                "aLabel": ox.Literal(names[i]),
                "b": ox.NamedNode(f"http://e/{(i + 1) % 26}"),
                "bLabel": ox.Literal(names[(i + 1) % 26]),
            }
            for i in range(26)
        ]
    )


def _comparison_table() -> ResultTable:
    return _chart_rows(
        [
            {
                "about": ox.Literal(f"When the centre was founded ({i})"),
                "value1": ox.Literal("1994-12"),
                "source1Label": ox.Literal("Stephen Tsang's abstract"),
                "value2": ox.Literal("1995"),
                "source2Label": ox.Literal("Call for abstracts"),
            }
            for i in range(3)
        ]
    )


TEXT_BOXES = (
    "[...document.querySelectorAll('text')].map(t => { const b = t.getBBox();"
    " return [t.textContent, b.x, b.y, b.width, b.height]; })"
)


def _overlapping(boxes: list[list[Any]]) -> list[tuple[str, str]]:
    """The pairs of texts whose boxes cross (by more than a pixel each way)."""
    found = []
    for i, (t1, x1, y1, w1, h1) in enumerate(boxes):
        for t2, x2, y2, w2, h2 in boxes[i + 1 :]:
            if min(x1 + w1, x2 + w2) - max(x1, x2) > 1 and min(y1 + h1, y2 + h2) - max(y1, y2) > 1:
                found.append((t1, t2))
    return found


@pytest.mark.parametrize(
    ("table", "kind"),
    [
        (_timeline_table(), ChartKind.TIMELINE),
        (_network_table(), ChartKind.NETWORK),
        (_comparison_table(), ChartKind.COMPARISON),
    ],
    ids=["timeline", "network", "comparison"],
)
def test_no_label_of_a_chart_covers_another(
    browser: DevTools, tmp_path: Path, table: ResultTable, kind: ChartKind
) -> None:
    assert choose_chart(table) is kind
    chart = tmp_path / "chart.svg"
    chart.write_text(str(render_svg(table, kind, title="A chart")), encoding="utf-8")
    deadline = time.monotonic() + RUN_TIMEOUT
    open_page(browser, chart.as_uri(), deadline)
    boxes = browser.evaluate(TEXT_BOXES, deadline)
    width = browser.evaluate("document.documentElement.getBBox().width", deadline)
    assert len(boxes) > 10
    assert _overlapping(boxes) == []
    assert all(x >= 0 and x + w <= width + 1 for _, x, _, w, _ in boxes)  # none cut off


def test_a_comparison_shows_both_sources_values_side_by_side(
    browser: DevTools, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.svg"
    table = _comparison_table()
    chart.write_text(str(render_svg(table, ChartKind.COMPARISON, title="A")), encoding="utf-8")
    deadline = time.monotonic() + RUN_TIMEOUT
    open_page(browser, chart.as_uri(), deadline)
    boxes = {t: (x, y) for t, x, y, _, _ in browser.evaluate(TEXT_BOXES, deadline)}
    (x1, y1), (x2, y2) = boxes["1994-12"], boxes["1995"]
    assert y1 == y2  # on one line,
    assert x2 > x1  # the second source's value to the right of the first
    assert boxes["Stephen Tsang's abstract"][0] == x1
    assert boxes["Call for abstracts"][0] == x2
