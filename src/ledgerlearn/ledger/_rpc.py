"""JSON-RPC over HTTP: a keep-alive transport for the requests nodes make in their loops.

A node's loop asks its Ethereum node for the head, a few ``eth_call`` results and new logs,
over and over (Ethereum JSON-RPC specification; JSON-RPC 2.0). Through ``requests`` each
request pays for session merging, proxy lookup in the environment, hooks and adapters,
which costs more than the node takes to answer on a local network. :class:`JsonRpcHttp`
posts the same JSON body over one ``http.client`` connection per thread, kept alive.

It is used only where nothing in between is configured: a plain ``http`` URL that no proxy
variable applies to (``rpc_transport`` says which). ``https`` endpoints and proxied ones
go through web3's provider, which knows the certificate and proxy settings.

Trust assumption: the node at the URL is the one configured; plain HTTP is for loopback
and private networks, and nothing here authenticates answers.
"""

from __future__ import annotations

import http.client
import itertools
import json
import threading
import urllib.parse
from collections.abc import Sequence
from typing import Any

from requests.utils import get_environ_proxies

__all__ = ["JsonRpcHttp", "RpcHttpError", "rpc_transport"]


class RpcHttpError(OSError):
    """The node answered with an HTTP error status (429 and 502-504 are transient)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class JsonRpcHttp:
    """Send JSON-RPC requests to one HTTP(S) endpoint over kept-alive connections.

    Parameters
    ----------
    url
        The endpoint, ``http://host:port/path``.
    timeout
        Seconds to wait for connecting and for each answer.
    """

    def __init__(self, url: str, *, timeout: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// URL")
        self.url = url
        self._host = parts.hostname
        self._port = parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._timeout = timeout
        self._ids = itertools.count(1)
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection

    def _drop(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
        self._local.connection = None

    def request(self, method: str, params: Sequence[Any]) -> dict[str, Any]:
        """Send one request and return the decoded JSON-RPC response object.

        Parameters
        ----------
        method
            The JSON-RPC method.
        params
            Its parameters.

        Returns
        -------
        dict
            The response (``result`` or ``error``).

        Raises
        ------
        ConnectionError
            If the endpoint cannot be reached or dropped the connection
            (:class:`RpcHttpError` for an HTTP error status).
        TimeoutError
            If no answer came within the timeout.
        """
        body = json.dumps(
            {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        ).encode()
        headers = {"Content-Type": "application/json"}
        for attempt in (1, 2):
            connection = self._connection()
            try:
                connection.request("POST", self._path, body, headers)
                response = connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                # A kept-alive connection the server closed while idle: reconnect once.
                self._drop()
                if attempt == 2:
                    raise ConnectionError(f"{method} to {self.url}: {exc}") from exc
                continue
            except (http.client.HTTPException, OSError) as exc:
                self._drop()
                if isinstance(exc, TimeoutError):
                    raise
                raise ConnectionError(f"{method} to {self.url}: {exc}") from exc
            if response.will_close:
                self._drop()
            if response.status != 200:
                raise RpcHttpError(
                    f"{method} to {self.url}: HTTP {response.status} {response.reason}",
                    response.status,
                )
            try:
                decoded = json.loads(data)
            except ValueError as exc:
                raise ConnectionError(f"{method} to {self.url}: the answer is not JSON") from exc
            if not isinstance(decoded, dict):
                raise ConnectionError(f"{method} to {self.url}: the answer is not one object")
            return decoded
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close this thread's connection (others close when their threads end)."""
        self._drop()


def rpc_transport(url: str | None, *, timeout: float) -> JsonRpcHttp | None:
    """Return a direct transport for ``url``, or ``None`` where web3's provider must be used.

    ``None`` for a missing, ``https`` or other URL and for one that a proxy variable
    (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` without a matching ``NO_PROXY``) sends
    through a proxy, which only ``requests`` knows how to use.

    Parameters
    ----------
    url
        The endpoint URL.
    timeout
        Seconds per request.
    """
    if url is None or not url.startswith("http://"):
        return None
    if get_environ_proxies(url):
        return None
    return JsonRpcHttp(url, timeout=timeout)
