"""The ``>>>`` examples in cpgraph's docstrings run, so an example that no longer holds fails.

Every module of the package is imported and its docstrings' examples are run with
:mod:`doctest`; a module without examples contributes nothing.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cpgraph

MODULES = sorted(info.name for info in pkgutil.walk_packages(cpgraph.__path__, prefix="cpgraph."))


def _examples(name: str) -> int:
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return sum(len(test.examples) for test in finder.find(module))


def test_the_package_has_examples_to_run() -> None:
    # The examples are part of the documentation; losing them all would be a silent regression.
    assert sum(_examples(name) for name in MODULES) >= 10


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_of_each_module_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {name} failed"
