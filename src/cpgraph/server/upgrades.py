"""uvicorn's httptools protocol, reading a request that offers an upgrade as plain HTTP/1.1.

Java's HttpClient (so Apache Jena, TopBraid, Protégé) offers HTTP/2 on every cleartext
request: ``Upgrade: h2c``, ``Connection: Upgrade, HTTP2-Settings`` and an ``HTTP2-Settings``
header. httptools takes any such offer for a switch of protocol: it ends the message at the
blank line, skips its body and stops with ``HttpParserUpgrade``, and uvicorn, which does not
switch, would hand the application the request without its body (uvicorn#2722,
httptools#124). A server may ignore an offer and answer as though it had not been made
(RFC 9110, section 7.8), as Oxigraph server does: here the request is read again, from its
head without the offer, by a new parser, which reads its body and whatever follows on the
connection as usual. Only a websocket upgrade that uvicorn makes (it has a websocket library)
and ``CONNECT`` keep uvicorn's way.

This leans on uvicorn's internals, like :mod:`cpgraph.server.protocol`:
:mod:`cpgraph.server.protocol_check` checks them at start-up.
"""

from __future__ import annotations

import contextlib

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The headers of an upgrade offer (RFC 9110 section 7.8, RFC 7540 section 3.2.1), and the
# tokens of Connection that name them: left out when the request is read again.
OFFER_HEADERS = frozenset((b"upgrade", b"http2-settings"))
INVALID_REQUEST = "Invalid HTTP request received."


def request_parser(protocol: HttpToolsProtocol) -> httptools.HttpRequestParser:
    """A request parser calling back ``protocol``, made as uvicorn makes its own."""
    parser = httptools.HttpRequestParser(protocol)
    with contextlib.suppress(AttributeError):  # httptools < 0.6.3 has none, as uvicorn allows
        parser.set_dangerous_leniencies(lenient_data_after_close=True)
    return parser


def head_without_offer(
    method: bytes, target: bytes, version: str, headers: list[tuple[bytes, bytes]]
) -> bytes:
    """The head of a request (up to its blank line) without its upgrade offer: no
    ``Upgrade`` or ``HTTP2-Settings`` header, and a ``Connection`` header (if any tokens are
    left) without the tokens naming them. ``headers`` are as uvicorn keeps them (names in
    lower case, values as read)."""
    lines = [method, b" ", target, b" HTTP/", version.encode("ascii"), b"\r\n"]
    for name, value in headers:
        if name in OFFER_HEADERS:
            continue
        if name == b"connection":
            tokens = [token.strip() for token in value.split(b",")]
            value = b", ".join(t for t in tokens if t and t.lower() not in OFFER_HEADERS)
            if not value:
                continue
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"\r\n")
    return b"".join(lines)


class UpgradeIgnoringProtocol(HttpToolsProtocol):
    """See the module's description."""

    offer_ignored: bytes | None = None  # the head of the request to read again, without offer

    def on_headers_complete(self) -> None:
        parser = self.parser
        if (
            parser.should_upgrade()
            and parser.get_method() != b"CONNECT"
            and not self._should_upgrade()
        ):
            # No request cycle yet: the parser stops at the end of this head (data_received),
            # and the request read again makes one.
            self.offer_ignored = head_without_offer(
                parser.get_method(), self.url, parser.get_http_version(), self.headers
            )
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.offer_ignored is None:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if self.offer_ignored is None:
            super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        """Feed ``data`` to the parser, as uvicorn does, but read a request whose upgrade
        offer is ignored again, with what follows it, by a new parser (in a loop: each
        request of ``data`` may offer one)."""
        self._unset_keepalive_if_required()
        while True:
            try:
                self.parser.feed_data(data)
            except httptools.HttpParserError:
                self.logger.warning(INVALID_REQUEST)
                self.send_400_response(INVALID_REQUEST)
            except httptools.HttpParserUpgrade as stop:
                head = self.offer_ignored
                if head is not None:
                    self.offer_ignored = None
                    self.parser = request_parser(self)
                    data = head + data[stop.args[0] :]
                    continue
                if self._should_upgrade():  # uvicorn's to make (a websocket)
                    self.handle_websocket_upgrade()
                else:  # or to refuse (CONNECT)
                    self._unsupported_upgrade_warning()
            return
