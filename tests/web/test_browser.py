"""The pages in a real browser: Debian's Chromium, headless, against a real server.

Screenshots are decoded (with the standard library) and must be the window's size and not
one flat colour; the DOM must hold what a person would read. The query page is driven like a
person would: through the DevTools protocol over a pipe (``--remote-debugging-pipe``, no
extra library), clicking into the editor, typing a query, clicking "Run query" and reading
the results table. ``make test-deps`` installs Chromium where it is missing and the user is
root; elsewhere these tests skip and say so. Every browser run is bounded in time.
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

import pytest
from tests.browser import CHROMIUM, FLAGS, HEIGHT, RUN_TIMEOUT, WIDTH, assert_painted, chromium
from tests.pages_support import pages_server

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


def test_a_query_given_in_the_url_runs_and_fills_the_results_table(
    url: str, tmp_path: Path
) -> None:
    query = "SELECT ?org ?label WHERE { ?org cp:acronym ?a ; rdfs:label ?label } ORDER BY ?label"
    page = f"{url}/query?{urlencode({'query': query, 'run': '1'})}"
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", page, profile=tmp_path / "p")
    assert '<table id="results-table">' in dom  # no longer hidden
    assert "China National Cleaner Production Centre" in dom
    assert 'href="/id/org/cncpc"' in dom
    assert "2 rows" in dom


def test_a_malformed_query_marks_its_line(url: str, tmp_path: Path) -> None:
    query = "SELECT ?s WHERE {\n  ?s a cp:Law\n  FILTER(?s = \n}"
    page = f"{url}/query?{urlencode({'query': query, 'run': '1'})}"
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", page, profile=tmp_path / "p")
    assert '<span class="err" title="the error is on this line">4</span>' in dom
    assert 'aria-invalid="true"' in dom
    assert "Line 4, column" in dom


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
        """A real mouse click in the middle of the element ``selector`` finds."""
        box = self.evaluate(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)})"
            ".getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()",
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


def test_a_person_types_a_query_clicks_run_and_reads_the_table(
    url: str, browser: DevTools, tmp_path: Path
) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    open_page(browser, url + "/query", deadline)
    browser.click("#query", deadline)
    browser.evaluate("document.getElementById('query').select()", deadline)
    query = "SELECT ?org ?date WHERE {\n  ?org cp:foundingDate ?date\n}\nORDER BY ?date"
    browser.call("Input.insertText", deadline, text=query)
    browser.click("#run", deadline)
    status = wait_until(
        browser,
        "(() => { const t = document.getElementById('status').textContent;"
        " return / rows? /.test(t) ? t : null; })()",
        deadline,
    )
    assert status.startswith("2 rows")
    cells = browser.evaluate(
        "[...document.querySelectorAll('#results-table tbody td')].map(td => td.textContent)",
        deadline,
    )
    assert "1994-12 xsd:gYearMonth" in cells
    assert "1995 xsd:gYear" in cells
    href = browser.evaluate(
        "document.querySelector('#results-table tbody a').getAttribute('href')", deadline
    )
    assert href == "/id/org/cncpc"
    download = browser.evaluate("document.getElementById('download').href", deadline)
    assert download.startswith(url + "/sparql?query=SELECT")
    assert download.endswith("format=json")
    shot = browser.call("Page.captureScreenshot", deadline, format="png")
    png = base64.b64decode(shot["data"])
    (tmp_path / "query-result.png").write_bytes(png)
    assert_painted(png)


def test_a_person_follows_a_result_link_to_the_resource_page(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "SELECT ?org WHERE { ?org cp:acronym 'CNCPC' }"
    open_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, "!!document.querySelector('#results-table tbody a')", deadline)
    browser.events.clear()
    browser.click("#results-table tbody a", deadline)
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


def test_the_query_page_runs_under_its_content_security_policy(url: str, browser: DevTools) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT
    query = "SELECT ?org WHERE { ?org cp:acronym 'CNCPC' }"
    open_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, "!!document.querySelector('#results-table tbody a')", deadline)
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
    open_page(browser, f"{url}/query?{urlencode({'query': query, 'run': '1'})}", deadline)
    wait_until(browser, "/ rows? /.test(document.getElementById('status').textContent)", deadline)
    cells = browser.evaluate(
        "[...document.querySelectorAll('#results-table tbody td:not(.row-n) > *')]"
        ".map(e => [e.tagName, e.getAttribute('href'), e.textContent])",
        deadline,
    )
    assert cells == [
        ["SPAN", None, "javascript:alert(document.domain)"],
        ["SPAN", None, "JavaScript:alert(1)"],
        ["SPAN", None, "data:text/html,x"],
        ["A", "https://example.org/a", "https://example.org/a"],
        ["A", "mailto:someone@example.org", "mailto:someone@example.org"],
    ]
