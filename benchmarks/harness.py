"""Shared parts of cpgraph's benchmarks: the machine, versions, servers, wrk.

Every figure is the median of several runs with its spread (min-max); peers run side by side
in the same session and ratios are taken run by run, so that a noisy machine does not decide
the verdict. Servers are started on 127.0.0.1 only, every run is bounded in time, and the
harness waits for a server to settle (answer a trivial query quickly) before the next run,
because a server may keep working on requests a load generator abandoned.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = 0
    with contextlib.suppress(OSError, ValueError):
        memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_at_start": round(os.getloadavg()[0], 2),
    }


# What the endpoint benchmarks measure and run on; the whole suite adds pySHACL.
ENDPOINT_PACKAGES = (
    "cpgraph",
    "pyoxigraph",
    "oxigraph",
    "rdflib",
    "rdflib-endpoint",
    "fastapi",
    "uvicorn",
)


def versions(names: Sequence[str]) -> dict[str, str]:
    """Installed versions of the packages measured, and of wrk."""
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)
        found["wrk"] = (out.stdout or out.stderr).split("[", 1)[0].strip() or "wrk"
    return found


@dataclass
class WrkRun:
    """One wrk run: throughput, latency percentiles and errors."""

    requests_per_second: float
    latency_p50_ms: float
    latency_p99_ms: float
    non_2xx: int
    errors: int


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not match:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    headers: dict[str, str],
    body: bytes | None = None,
    method: str = "GET",
) -> WrkRun:
    """Run wrk against ``url`` (loopback only) and parse its report."""
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"benchmarks only send load to loopback, not {host}")
    script = None
    args = [
        "wrk",
        "--latency",
        f"-t{min(connections, 2)}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
    ]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    if body is not None:
        script = Path(f"/tmp/cpgraph-wrk-{os.getpid()}.lua")
        script.write_text(
            f"wrk.method = {json.dumps(method)}\nwrk.body = {json.dumps(body.decode())}\n"
        )
        args += ["-s", str(script)]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, check=False, timeout=seconds + 60
    ).stdout
    if script is not None:
        script.unlink(missing_ok=True)
    found = re.search(r"Requests/sec:\s+([\d.]+)", out)
    rps = float(found.group(1)) if found else 0.0
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkRun(
        requests_per_second=rps,
        latency_p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        latency_p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
        non_2xx=int(non2xx.group(1)) if non2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def http_ok(url: str, *, timeout: float = 5.0) -> bool:
    """Whether ``url`` answers 2xx within ``timeout`` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError:
        return False


def settle(
    url: str, *, pid: int | None = None, quiet_seconds: float = 0.05, limit: float = 60.0
) -> None:
    """Wait until ``url`` answers faster than ``quiet_seconds`` and, given the server's
    ``pid``, until it and its child processes are idle: a multi-threaded server can answer
    quickly while other threads still evaluate requests an earlier run abandoned."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        started = time.monotonic()
        if http_ok(url) and time.monotonic() - started < quiet_seconds:
            break
        time.sleep(0.5)
    if pid is None:
        return
    window = 0.3
    while time.monotonic() < deadline:
        before = tree_cpu_seconds(pid)
        time.sleep(window)
        if tree_cpu_seconds(pid) - before < 0.05 * window:  # under 5% of one core
            return


def tree_cpu_seconds(pid: int) -> float:
    """CPU time (user and system) used so far by process ``pid`` and its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue  # ended meanwhile
        parents[int(entry.name)] = int(fields[1])
        used[int(entry.name)] = int(fields[11]) + int(fields[12])
    tree = {pid}
    grown = True
    while grown:
        grown = False
        for child, parent in parents.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grown = True
    return sum(used.get(p, 0) for p in tree) / tick


@contextlib.contextmanager
def server(
    command: Sequence[str],
    *,
    ready_url: str,
    env: dict[str, str] | None = None,
    startup: float = 600.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process, wait until ``ready_url`` answers, stop it afterwards."""
    process = subprocess.Popen(
        list(command),
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + startup
        while not http_ok(ready_url, timeout=2):
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start within {startup:.0f} s")
            time.sleep(0.25)
        yield process
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # rdflib-endpoint does not stop on SIGTERM
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def peak_rss_mib(pid: int) -> float:
    """The peak resident memory of a process and its children so far (VmHWM), in MiB."""
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return total / 1024


def write_json(path: Path, data: object) -> None:
    """Write ``data`` as indented JSON (dataclasses become dictionaries)."""

    def default(value: object) -> object:
        if hasattr(value, "__dataclass_fields__"):
            return asdict(value)  # type: ignore[call-overload]
        raise TypeError(type(value))

    path.write_text(json.dumps(data, indent=2, default=default) + "\n")
