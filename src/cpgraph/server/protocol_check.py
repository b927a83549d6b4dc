"""Whether the fast GET path (:mod:`cpgraph.server.protocol`) can run over the uvicorn
installed.

The fast path subclasses uvicorn's private HTTP protocol (``httptools_impl``): it overrides
its parser callbacks and ``data_received``, reads the attributes its ``__init__`` sets, makes
request cycles (``RequestResponseCycle``) and starts them (``_start_asgi_task``); it reads a
request offering an upgrade again when httptools stops at the end of its head
(:mod:`cpgraph.server.upgrades`). ``pyproject.toml`` pins uvicorn to the releases this was
tested with; :func:`fast_path_problem` checks, at start-up, that those internals are there
with the shape used, so that a uvicorn that differs serves every request through the standard
ASGI path instead of failing under load.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

# The methods of uvicorn's HttpToolsProtocol the fast path overrides or calls, with the
# parameters it passes (after self).
PROTOCOL_METHODS: dict[str, tuple[str, ...]] = {
    "connection_lost": ("exc",),
    "resume_writing": (),
    "on_url": ("url",),
    "on_headers_complete": (),
    "on_body": ("body",),
    "on_message_complete": (),
    "on_response_complete": (),
    "send_400_response": ("msg",),
    "_start_asgi_task": ("cycle", "app"),
    "data_received": ("data",),
    "_unset_keepalive_if_required": (),
    "_should_upgrade": (),
    "handle_websocket_upgrade": (),
    "_unsupported_upgrade_warning": (),
}
# What its __init__ sets that the fast path reads or replaces.
PROTOCOL_ATTRIBUTES = (
    "server_state",
    "parser",
    "logger",
    "access_logger",
    "access_log",
    "transport",
    "flow",
    "client",
    "scope",
    "headers",
    "cycle",
)
# RequestResponseCycle's parameters (the fast path makes cycles of its own), and what of a
# cycle it reads or sets.
CYCLE_PARAMETERS = (
    "scope",
    "transport",
    "flow",
    "logger",
    "access_logger",
    "access_log",
    "default_headers",
    "message_event",
    "expect_100_continue",
    "keep_alive",
    "on_response",
)
CYCLE_ATTRIBUTES = ("more_body", "disconnected", "response_complete", "keep_alive")
STATUSES = (200, 400, 413)  # the status lines the fast path writes itself
# A request offering an upgrade, with a body: httptools is expected to end the message at the
# blank line and stop there (HttpParserUpgrade with the offset of the body).
UPGRADE_OFFER = (
    b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, HTTP2-Settings\r\n"
    b"Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 6\r\n\r\n"
)


def fast_path_problem() -> str | None:
    """Why the fast GET path cannot run over the uvicorn installed, or None when it can."""
    try:
        from uvicorn.protocols import utils
        from uvicorn.protocols.http import flow_control, httptools_impl
    except ImportError as exc:
        return f"uvicorn's httptools protocol cannot be imported ({exc})"
    protocol = getattr(httptools_impl, "HttpToolsProtocol", None)
    cycle = getattr(httptools_impl, "RequestResponseCycle", None)
    if not isinstance(protocol, type) or not isinstance(cycle, type):
        return "uvicorn's httptools_impl has no HttpToolsProtocol or RequestResponseCycle"
    status_lines = getattr(httptools_impl, "STATUS_LINE", None)
    if not isinstance(status_lines, dict) or not all(
        isinstance(status_lines.get(status), bytes) for status in STATUSES
    ):
        return "uvicorn's httptools_impl.STATUS_LINE is not a table of status lines"
    for name, parameters in PROTOCOL_METHODS.items():
        if _parameters(getattr(protocol, name, None)) != parameters:
            return f"uvicorn's HttpToolsProtocol.{name} is missing or takes other parameters"
    if _parameters(cycle) != CYCLE_PARAMETERS:
        return "uvicorn's RequestResponseCycle takes other parameters"
    for name in ("get_client_addr", "get_path_with_query_string"):
        if not callable(getattr(utils, name, None)):
            return f"uvicorn.protocols.utils has no {name}"
    return _upgrade_problem() or _instances_problem(protocol, cycle, flow_control)


def _parameters(function: Any) -> tuple[str, ...] | None:
    """The names of what ``function`` (or a class's ``__init__``) takes after ``self``."""
    if not callable(function):
        return None
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return None
    names = tuple(signature.parameters)
    return names[1:] if names[:1] == ("self",) else names


def _upgrade_problem() -> str | None:
    """Whether httptools stops where :mod:`cpgraph.server.upgrades` expects it to, on a
    request offering an upgrade: at the end of its head, before its body."""
    import httptools

    class Target:
        """Takes the parser's callbacks; nothing is kept."""

    stop = getattr(httptools, "HttpParserUpgrade", None)
    if not isinstance(stop, type) or not issubclass(stop, Exception):
        return "httptools has no HttpParserUpgrade"
    parser = httptools.HttpRequestParser(Target())
    try:
        parser.feed_data(UPGRADE_OFFER + b"ASK {}")
    except stop as exc:
        if exc.args[:1] == (len(UPGRADE_OFFER),):
            return None
    except Exception as exc:  # noqa: BLE001 - an httptools that parses otherwise: logged
        return f"httptools reads a request offering an upgrade otherwise ({exc!r})"
    return "httptools does not stop at the end of the head of a request offering an upgrade"


def _instances_problem(protocol: type, cycle: type, flow_control: Any) -> str | None:
    """Whether a protocol, a request cycle and a flow control, made as uvicorn makes them,
    have the attributes the fast path uses."""
    import uvicorn
    from uvicorn.server import ServerState

    async def nothing(scope: Any, receive: Any, send: Any) -> None:
        """No application: the protocol made here never serves."""

    loop = asyncio.new_event_loop()
    try:
        config = uvicorn.Config(nothing, http="httptools", log_config=None, lifespan="off")
        server_state = ServerState()
        made = protocol(config=config, server_state=server_state, app_state={}, _loop=loop)
        flow = flow_control.FlowControl(None)
        arguments: dict[str, Any] = dict.fromkeys(CYCLE_PARAMETERS)
        arguments.update(message_event=asyncio.Event(), default_headers=[])
        made_cycle = cycle(**arguments)
    except Exception as exc:  # noqa: BLE001 - a uvicorn that makes them otherwise: logged
        return f"uvicorn's HTTP protocol is made otherwise ({type(exc).__name__}: {exc})"
    finally:
        loop.close()
    missing = [name for name in PROTOCOL_ATTRIBUTES if not hasattr(made, name)]
    missing += [f"cycle.{name}" for name in CYCLE_ATTRIBUTES if not hasattr(made_cycle, name)]
    if not hasattr(flow, "write_paused"):
        missing.append("flow.write_paused")
    if not hasattr(server_state, "default_headers"):
        missing.append("server_state.default_headers")
    if missing:
        return f"uvicorn's HTTP protocol has no {', '.join(missing)}"
    return None
