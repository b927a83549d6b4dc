"""Progress of long commands: bars on a terminal, plain lines in a pipe, nothing with --quiet;
and the counts the library reports are the work done."""

from __future__ import annotations

import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.conftest import cli_env, run_cli

from cpgraph.config import Settings
from cpgraph.progress import Advance, counted
from cpgraph.publish.export import export
from cpgraph.rdf.formats import RdfFormat
from cpgraph.store.build import SourceFiles, build_store
from cpgraph.store.oxigraph import GraphStore

CONTROL = re.compile(r"\x1b\[")  # the start of a terminal control sequence


class Recorded:
    """A progress that draws counts and keeps every task's total and sum of advances."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.tasks: dict[str, tuple[float | None, float, str]] = {}

    @property
    def counting(self) -> bool:
        return True

    def say(self, message: str) -> None:
        self.lines.append(message)

    @contextmanager
    def task(
        self, description: str, *, total: float | None = None, unit: str = "statements"
    ) -> Iterator[Advance]:
        done = [0.0]

        def advance(n: float) -> None:
            done[0] += n

        try:
            yield advance
        finally:
            self.tasks[description] = (total, done[0], unit)


def test_a_build_counts_every_byte_it_parses_and_every_statement_it_loads(
    mini_source: Settings,
) -> None:
    recorded = Recorded()
    report = build_store(mini_source, progress=recorded)
    total, done, unit = recorded.tasks["parsing"]
    assert unit == "bytes"
    assert total == done == SourceFiles.discover(mini_source.source_dir).size()
    total, done, unit = recorded.tasks["loading"]
    assert unit == "statements"
    assert total == done
    assert done >= report.triples  # the saved-query examples too
    assert any(d.startswith("validating ") for d in recorded.tasks)
    assert any(line.startswith("built ") for line in recorded.lines)


def test_a_trusted_build_counts_the_bytes_of_the_data_files_it_streams(
    mini_source: Settings,
) -> None:
    recorded = Recorded()
    build_store(mini_source, progress=recorded, validate=False)
    data = SourceFiles.discover(mini_source.source_dir).data
    total, done, unit = recorded.tasks["loading data"]
    assert unit == "bytes"
    assert total == done == sum(p.stat().st_size for p in data)


def test_an_export_counts_the_bytes_it_writes(mini_source: Settings) -> None:
    report = build_store(mini_source, progress=Recorded())
    store = GraphStore(report.path, read_only=True)
    out = io.BytesIO()
    recorded = Recorded()
    export(store, out, fmt=RdfFormat.N_QUADS, base=mini_source.base_iri, progress=recorded)
    _total, done, unit = recorded.tasks["exporting"]
    assert unit == "bytes"
    assert done == len(out.getvalue()) > 0


def test_counted_passes_every_item_on_and_counts_them_all() -> None:
    done: list[float] = []
    items = list(counted(range(25_001), done.append, every=10_000))
    assert items == list(range(25_001))
    assert done == [10_000, 10_000, 5_001]


def test_a_build_into_a_pipe_prints_lines_and_no_control_codes(mini_source: Settings) -> None:
    result = run_cli("build", settings=mini_source)
    assert result.returncode == 0, result.stderr
    assert "built " in result.stderr
    assert not CONTROL.search(result.stderr)
    assert "statements in" in result.stdout


def test_quiet_prints_the_result_and_nothing_else(mini_source: Settings) -> None:
    for args in (("--quiet", "build"), ("build", "--quiet")):
        result = run_cli(*args, settings=mini_source)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""
        assert re.fullmatch(r"\d+ statements in \d+ graphs\n", result.stdout)


def test_quiet_still_reports_an_error(mini_source: Settings) -> None:
    (mini_source.source_dir / "data" / "broken.trig").write_text("<a> <b> {")
    result = run_cli("build", "--quiet", settings=mini_source)
    assert result.returncode == 2
    assert "broken.trig" in result.stderr


def test_progress_draws_bars_even_into_a_pipe(mini_source: Settings, tmp_path: Path) -> None:
    result = run_cli("build", "--progress", settings=mini_source)
    assert result.returncode == 0, result.stderr
    assert CONTROL.search(result.stderr)
    assert "built " in result.stderr
    out = tmp_path / "all.nq"
    exported = run_cli("export", "--progress", "-o", str(out), settings=mini_source)
    assert exported.returncode == 0, exported.stderr
    assert out.stat().st_size > 0
    assert "wrote " in exported.stderr


def test_quiet_and_progress_together_are_refused(mini_source: Settings) -> None:
    result = run_cli("build", "--quiet", "--progress", settings=mini_source)
    assert result.returncode == 2
    assert "not allowed with" in result.stderr


def test_a_build_on_a_terminal_draws_bars_and_says_what_it_did(mini_source: Settings) -> None:
    # Standard error is a pseudo-terminal: the bars are drawn without being asked for.
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "cpgraph.cli.main", "build"],
            env={**cli_env(mini_source), "TERM": "xterm", "COLUMNS": "120"},
            stdout=subprocess.PIPE,
            stderr=follower,
            stdin=subprocess.DEVNULL,
        )
        os.close(follower)
        seen = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the terminal closed: the process is done with it
                    break
                if not chunk:
                    break
                seen += chunk
            elif process.poll() is not None:
                break
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(leader)
    text = seen.decode("utf-8", "replace")
    assert process.returncode == 0, text
    assert CONTROL.search(text)
    assert "built " in text
    assert b"statements in" in stdout


@pytest.mark.parametrize("command", ["export", "bundle", "push", "validate"])
def test_every_long_command_takes_quiet_and_progress(command: str, mini_source: Settings) -> None:
    result = run_cli(command, "--help", settings=mini_source)
    assert result.returncode == 0
    assert "--quiet" in result.stdout
    assert "--progress" in result.stdout
