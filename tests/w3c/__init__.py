"""A harness for the W3C SPARQL 1.1 Protocol, Graph Store Protocol and Service Description
test suites, which are kept outside the repository in ``../shared/w3c/``.

:mod:`tests.w3c.manifest` reads a suite's manifest into plain records (each test a list of
HTTP requests with what their responses must be); :mod:`tests.w3c.exchange` sends them to a
running cpgraph server and compares the answers.
"""

from __future__ import annotations

from tests.conftest import ROOT

W3C = ROOT.parent / "shared" / "w3c"
"""Where the W3C suites are; absent in a user's clone, where the W3C tests skip."""

__all__ = ["W3C"]
