"""The real stores the remote-store tests talk to, started once per module on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.servers import RunningStore, oxigraph_command, oxigraph_server


@pytest.fixture(scope="module")
def oxigraph_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStore]:
    """A real Oxigraph server over a fresh database (skipped, saying why, without one)."""
    if oxigraph_command() is None:
        pytest.skip("the oxigraph server is not installed (the test extra installs it)")
    with oxigraph_server(tmp_path_factory.mktemp("oxigraph")) as running:
        yield running
