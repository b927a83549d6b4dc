"""Other people's triple stores, started on 127.0.0.1 for the push tests and stopped after.

- Oxigraph server: the ``oxigraph`` command of the PyPI package ``oxigraph`` (the test extra);
  Graph Store Protocol at ``/store``, queries at ``/query``, updates at ``/update``.
- OpenLink Virtuoso: Debian's ``virtuoso-opensource`` (``make test-deps`` installs it when
  missing and running as root), on a fresh database in a temporary folder with a generated
  ``virtuoso.ini``; the authenticated endpoints ``/sparql-auth`` (query and update) and
  ``/sparql-graph-crud-auth`` (Graph Store Protocol) with digest authentication as ``dba``.

Each server listens only on 127.0.0.1, on free ports, and is waited for at most
:data:`START_TIMEOUT` seconds.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.conftest import free_port, stop

from cpgraph.store.http import Endpoints
from cpgraph.store.remote import RemoteStore

START_TIMEOUT = 90.0
VIRTUOSO = "/usr/bin/virtuoso-t"
VIRTUOSO_HOSTING = "/usr/lib/x86_64-linux-gnu/virtuoso-opensource-7/hosting"


@dataclass(frozen=True, slots=True)
class RunningStore:
    """Where a started store answers, and how to authenticate to it."""

    name: str
    gsp: str
    query: str
    update: str
    user: str | None = None
    password: str | None = None
    auth: str = "basic"
    log: Path | None = field(default=None)

    def remote_store(self, *, read_only: bool = False, timeout: float = 30.0) -> RemoteStore:
        """cpgraph's :class:`RemoteStore` over this store, with its credentials."""
        endpoints = Endpoints.derived(
            self.query, self.update, user=self.user, password=self.password, auth_scheme=self.auth
        )
        return RemoteStore(endpoints, read_only=read_only, timeout=timeout)


def oxigraph_command() -> str | None:
    """The ``oxigraph`` server command installed beside this Python, or on the PATH."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.exists():
        return str(beside)
    return shutil.which("oxigraph")


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, auth: httpx.Auth | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            response = httpx.get(url, params={"query": "ASK {}"}, auth=auth, timeout=3)
            if response.status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not answer within {START_TIMEOUT} s")
        time.sleep(0.3)


@contextlib.contextmanager
def oxigraph_server(folder: Path) -> Iterator[RunningStore]:
    """A real Oxigraph server over a fresh database in ``folder``."""
    command = oxigraph_command()
    if command is None:
        raise RuntimeError("no oxigraph command: pip install oxigraph (the test extra)")
    port = free_port()
    log = folder / "oxigraph.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [command, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{url}/query", process, log, None)
        yield RunningStore("oxigraph", f"{url}/store", f"{url}/query", f"{url}/update", log=log)
    finally:
        stop(process, timeout=20)


def virtuoso_available() -> bool:
    """Whether Debian's Virtuoso server binary is installed."""
    return os.access(VIRTUOSO, os.X_OK)


VIRTUOSO_INI = """\
[Database]
DatabaseFile       = {d}/virtuoso.db
ErrorLogFile       = {d}/virtuoso.log
LockFile           = {d}/virtuoso.lck
TransactionFile    = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel      = 7
FileExtend         = 200
MaxCheckpointRemap = 2000
Striping           = 0
TempStorage        = TempDatabase

[TempDatabase]
DatabaseFile       = {d}/virtuoso-temp.db
TransactionFile    = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping           = 0

[Parameters]
ServerPort               = 127.0.0.1:{sql_port}
LiteMode                 = 0
DisableUnixSocket        = 1
DisableTcpSocket         = 0
MaxClientConnections     = 10
CheckpointInterval       = 60
O_DIRECT                 = 0
CaseMode                 = 2
MaxStaticCursorRows      = 5000
AllowOSCalls             = 0
SchedulerInterval        = 10
DirsAllowed              = ., {d}
ThreadCleanupInterval    = 0
ThreadThreshold          = 10
ResourcesCleanupInterval = 0
NumberOfBuffers          = 10000
MaxDirtyBuffers          = 6000

[HTTPServer]
ServerPort                  = 127.0.0.1:{http_port}
ServerRoot                  = {d}/vsp
MaxClientConnections        = 10
DavRoot                     = DAV
EnabledDavVSP               = 0
HTTPProxyEnabled            = 0
ServerThreads               = 10
MaxKeepAlives               = 10
KeepAliveTimeout            = 10
HTTPThreadSize              = 280000
Charset                     = UTF-8
EnabledGzipContent          = 0

[Client]
SQL_PREFETCH_ROWS  = 100
SQL_PREFETCH_BYTES = 16000
SQL_QUERY_TIMEOUT  = 0
SQL_TXN_TIMEOUT    = 0

[SPARQL]
ResultSetMaxRows           = 1000000
MaxQueryCostEstimationTime = 400
MaxQueryExecutionTime      = 60
DefaultGraph               = urn:cpgraph:test:default

[Plugins]
LoadPath = {hosting}
"""


@contextlib.contextmanager
def virtuoso_server(folder: Path) -> Iterator[RunningStore]:
    """A real Virtuoso over a fresh database in ``folder`` (user ``dba``, password ``dba``)."""
    if not virtuoso_available():
        raise RuntimeError("Debian's virtuoso-opensource is not installed")
    sql_port, http_port = free_port(), free_port()
    (folder / "vsp").mkdir(parents=True, exist_ok=True)
    ini = folder / "virtuoso.ini"
    ini.write_text(
        VIRTUOSO_INI.format(
            d=folder, sql_port=sql_port, http_port=http_port, hosting=VIRTUOSO_HOSTING
        )
    )
    log = folder / "virtuoso.out"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [VIRTUOSO, "+foreground", "+configfile", str(ini)],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{http_port}"
    auth = httpx.DigestAuth("dba", "dba")
    try:
        _wait(f"{url}/sparql-auth", process, log, auth)
        yield RunningStore(
            "virtuoso",
            f"{url}/sparql-graph-crud-auth",
            f"{url}/sparql-auth",
            f"{url}/sparql-auth",
            user="dba",
            password="dba",
            auth="digest",
            log=log,
        )
    finally:
        stop(process, timeout=20)
