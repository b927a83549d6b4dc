"""Dataset figures: counted once per build, kept with it, never counted on a request's time."""

from __future__ import annotations

import functools
import threading
import time
from types import SimpleNamespace

import pyoxigraph as ox
import pytest

from cpgraph.config import Settings
from cpgraph.publish.service import FIGURES_FILE, build_figures, dataset_figures, kept_figures
from cpgraph.server.deps import reload_store
from cpgraph.store.build import build_store
from cpgraph.store.builds import current_build, open_current, write_transaction
from cpgraph.store.following import serve_memory_copy
from cpgraph.store.memory import MemoryCopies
from cpgraph.store.oxigraph import GraphStore

BASE = "https://w3id.org/cpgraph/"


def _no_counting(*args: object, **kwargs: object) -> None:
    raise AssertionError("the figures were counted again")


@pytest.fixture
def built(mini_source: Settings) -> Settings:
    build_store(mini_source)
    return mini_source


def test_a_build_keeps_its_figures_and_they_are_the_counted_ones(built: Settings) -> None:
    build = current_build(built.store_dir)
    assert build is not None
    assert (build / FIGURES_FILE).is_file()
    store = GraphStore(build, read_only=True)
    assert kept_figures(build, base=BASE) == dataset_figures(store, base=BASE)
    assert len(store) > 0  # the database opens with the file beside its own


def test_kept_figures_are_read_not_counted(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = current_build(built.store_dir)
    assert build is not None
    expected = kept_figures(build, base=BASE)
    monkeypatch.setattr("cpgraph.publish.service.dataset_figures", _no_counting)
    assert build_figures(open_current(built.store_dir, read_only=True), build, base=BASE) == (
        expected
    )


def test_figures_kept_for_another_base_or_unreadable_are_counted_again(
    built: Settings,
) -> None:
    build = current_build(built.store_dir)
    assert build is not None
    store = GraphStore(build, read_only=True)
    other = "https://example.org/cp/"
    assert kept_figures(build, base=other) is None
    assert build_figures(store, build, base=other) == dataset_figures(store, base=other)
    (build / FIGURES_FILE).write_text("{not json", encoding="utf-8")
    assert kept_figures(build, base=BASE) is None
    assert build_figures(store, build, base=BASE) == dataset_figures(store, base=BASE)
    assert kept_figures(build, base=BASE) == dataset_figures(store, base=BASE)


def _app(settings: Settings) -> SimpleNamespace:
    """What :func:`reload_store` reads and writes of an application: its runtime."""
    build = current_build(settings.store_dir)
    assert build is not None
    store = GraphStore(build, read_only=True)
    state = SimpleNamespace(
        settings=settings,
        store=store,
        store_path=str(build),
        store_link=None,
        figures=build_figures(store, build, base=settings.base_iri),
        store_lock=threading.Lock(),
    )
    app = SimpleNamespace(state=state)
    state.memory = MemoryCopies(
        settings.memory_statements, functools.partial(serve_memory_copy, state)
    )
    return app


def test_a_new_build_is_followed_at_once_and_its_figures_come_after(built: Settings) -> None:
    app = _app(built)
    before = app.state.figures
    with write_transaction(built.store_dir) as store:
        store.load_quads(
            [
                ox.Quad(
                    ox.NamedNode(BASE + "id/org/added"),
                    ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                    ox.NamedNode(BASE + "ontology#Enterprise"),
                    ox.NamedNode(BASE + "graph/added"),
                )
            ]
        )
    new_build = current_build(built.store_dir)
    assert new_build is not None
    assert kept_figures(new_build, base=BASE) is None  # a write does not count
    reload_store(app.state)  # type: ignore[arg-type]
    assert app.state.store_path == str(new_build)  # queries see the write at once
    deadline = time.monotonic() + 30
    while app.state.figures == before:
        assert time.monotonic() < deadline, "the new build's figures never came"
        time.sleep(0.05)
    assert app.state.figures.triples == before.triples + 1
    assert app.state.figures.graphs == before.graphs + 1
    assert app.state.figures.entities == before.entities + 1
    assert kept_figures(new_build, base=BASE) == app.state.figures  # kept for the next process
    while not (app.state.store.in_memory and app.state.store.path == new_build):
        assert time.monotonic() < deadline, "the new build was never answered from memory"
        time.sleep(0.05)
    app.state.memory.close(timeout=30)


def test_a_followed_build_with_kept_figures_shows_them_at_once(
    built: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = _app(built)
    build_store(built)  # a second build, its figures counted by the build
    monkeypatch.setattr("cpgraph.publish.service.dataset_figures", _no_counting)
    reload_store(app.state)  # type: ignore[arg-type]
    build = current_build(built.store_dir)
    assert build is not None
    assert app.state.store_path == str(build)
    assert app.state.figures == kept_figures(build, base=BASE)
