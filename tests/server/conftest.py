"""Fixtures of the server tests: the writable server the W3C suites run against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.w3c.exchange import w3c_server


@pytest.fixture(scope="module")
def w3c_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of the W3C tests (:func:`tests.w3c.exchange.w3c_server`), one per module: each
    suite starts from a store of its own."""
    with w3c_server(tmp_path_factory.mktemp("w3c")) as url:
        yield url
