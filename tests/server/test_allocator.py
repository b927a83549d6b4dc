"""The server processes' memory allocator (cpgraph.server.allocator): mimalloc, preloaded by the
supervisor, unless the operator keeps the system's.

The allocator changes how fast an answer comes, never what it is: the tests through a real
server compare answers with mimalloc and with the system's allocator, and read which one each
process runs with from the kernel's list of what it has loaded.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import httpx
import pytest
from rdflib.compare import isomorphic
from tests.conftest import built_mini_store, construct_everything, running_server

from cpgraph.config import load_settings
from cpgraph.errors import InputError
from cpgraph.server import allocator
from cpgraph.server.allocator import Choice, choose, in_use, mimalloc_library

LIBRARY = Path("/opt/lib/libmimalloc.so")
SHIPS_MIMALLOC = sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")


def test_mimalloc_is_preloaded_first_keeping_the_operators_own_preloads() -> None:
    choice = choose("mimalloc", {"LD_PRELOAD": "/usr/lib/libtrace.so"}, LIBRARY)
    assert choice == Choice("mimalloc", {"LD_PRELOAD": f"{LIBRARY}:/usr/lib/libtrace.so"})
    alone = choose("mimalloc", {}, LIBRARY)
    assert alone.environment == {"LD_PRELOAD": str(LIBRARY)}


def test_mimalloc_already_preloaded_is_not_preloaded_twice() -> None:
    choice = choose("mimalloc", {"LD_PRELOAD": f"/usr/lib/libtrace.so:{LIBRARY}"}, LIBRARY)
    assert choice == Choice("mimalloc", {})


def test_the_system_allocator_preloads_nothing() -> None:
    assert choose("system", {"LD_PRELOAD": "/usr/lib/libtrace.so"}, LIBRARY) == Choice("system", {})


def test_without_the_library_the_system_allocator_is_used_and_the_reason_given() -> None:
    choice = choose("mimalloc", {}, None)
    assert (choice.allocator, choice.environment) == ("system", {})
    assert choice.reason is not None
    assert "cmeel-mimalloc" in choice.reason


def test_an_unknown_allocator_is_refused_by_the_settings_and_by_choose() -> None:
    with pytest.raises(InputError, match="CPGRAPH_ALLOCATOR"):
        load_settings({"CPGRAPH_ALLOCATOR": "tcmalloc"})
    with pytest.raises(ValueError, match="tcmalloc"):
        choose("tcmalloc", {}, LIBRARY)
    assert load_settings({}).allocator == "mimalloc"
    assert load_settings({"CPGRAPH_ALLOCATOR": " System "}).allocator == "system"


def test_the_allocator_in_use_is_read_from_what_the_process_has_loaded(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.write_text(
        "7f00-7f10 r-xp 00000000 08:01 42 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        f"7f20-7f30 r-xp 00000000 08:01 43 {LIBRARY}\n"
    )
    assert in_use(maps) == "mimalloc"
    maps.write_text("7f00-7f10 r-xp 00000000 08:01 42 /usr/lib/x86_64-linux-gnu/libc.so.6\n")
    assert in_use(maps) == "system"
    assert in_use(tmp_path / "absent") == "system"


def test_apply_sets_the_environment_children_inherit_and_restore_puts_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.setenv("CPGRAPH_TEST_KEPT", "before")
    previous = allocator.apply(
        Choice("mimalloc", {"LD_PRELOAD": str(LIBRARY), "CPGRAPH_TEST_KEPT": "during"})
    )
    assert os.environ["LD_PRELOAD"] == str(LIBRARY)
    assert os.environ["CPGRAPH_TEST_KEPT"] == "during"
    allocator.restore(previous)
    assert "LD_PRELOAD" not in os.environ
    assert os.environ["CPGRAPH_TEST_KEPT"] == "before"


@pytest.mark.skipif(not SHIPS_MIMALLOC, reason="mimalloc ships with cpgraph on Linux only")
def test_mimalloc_is_installed_with_the_package() -> None:
    library = mimalloc_library()
    assert library is not None
    assert library.is_file()
    assert library.name.startswith("libmimalloc.so")


def allocators(url: str, requests: int = 10) -> set[str]:
    """The allocators the server processes answering ``requests`` requests run with."""
    return {
        httpx.get(url + "/", headers={"Accept": "application/json"}).json()["serving"]["allocator"]
        for _ in range(requests)
    }


@pytest.mark.skipif(not SHIPS_MIMALLOC, reason="mimalloc ships with cpgraph on Linux only")
def test_server_processes_run_with_mimalloc_unless_told_otherwise_and_answer_alike(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = built_mini_store(tmp_path_factory)
    with (
        running_server(settings) as fast,
        running_server(settings, CPGRAPH_ALLOCATOR="system") as plain,
    ):
        assert allocators(fast) == {"mimalloc"}
        assert allocators(plain) == {"system"}
        from_mimalloc, from_system = construct_everything(fast), construct_everything(plain)
        assert len(from_mimalloc) > 100
        assert isomorphic(from_mimalloc, from_system)
