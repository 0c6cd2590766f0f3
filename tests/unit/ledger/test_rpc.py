"""The direct JSON-RPC transport: answers, HTTP errors, dropped connections, when it is used."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from ledgerlearn.ledger._rpc import JsonRpcHttp, RpcHttpError, rpc_transport
from ledgerlearn.ledger._tx import is_transient


class _Node(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    replies: ClassVar[list[tuple[int, bytes, bool]]] = []  # status, body, close after answer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        status, body, close = self.replies.pop(0)
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = close

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def node() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Node)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_answers_and_reconnects_after_the_server_closed(node: str) -> None:
    _Node.replies = [
        (200, b'{"jsonrpc":"2.0","id":1,"result":"0x1"}', True),
        (200, b'{"jsonrpc":"2.0","id":2,"result":"0x2"}', False),
    ]
    rpc = JsonRpcHttp(node, timeout=5)
    assert rpc.request("eth_blockNumber", [])["result"] == "0x1"
    assert rpc.request("eth_blockNumber", [])["result"] == "0x2"  # a new connection
    rpc.close()


def test_http_errors_say_whether_to_retry(node: str) -> None:
    _Node.replies = [(503, b"busy", False), (401, b"no", False), (200, b"<html>", False)]
    rpc = JsonRpcHttp(node, timeout=5)
    with pytest.raises(RpcHttpError, match="HTTP 503") as busy:
        rpc.request("eth_call", [])
    assert is_transient(busy.value)
    with pytest.raises(RpcHttpError, match="HTTP 401") as refused:
        rpc.request("eth_call", [])
    assert not is_transient(refused.value)
    with pytest.raises(ConnectionError, match="not JSON"):
        rpc.request("eth_call", [])


def test_unreachable_node_is_a_transient_connection_error() -> None:
    with pytest.raises(ConnectionError) as caught:
        JsonRpcHttp("http://127.0.0.1:9/", timeout=1).request("eth_chainId", [])
    assert is_transient(caught.value)


def test_used_only_for_plain_http_without_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("all_proxy", raising=False)
    assert isinstance(rpc_transport("http://127.0.0.1:8545", timeout=1), JsonRpcHttp)
    assert rpc_transport("https://rpc.example.org", timeout=1) is None
    assert rpc_transport(None, timeout=1) is None
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "")
    assert rpc_transport("http://node.internal:8545", timeout=1) is None
    with pytest.raises(ValueError, match="not an http:// URL"):
        JsonRpcHttp("ws://127.0.0.1:8546", timeout=1)
