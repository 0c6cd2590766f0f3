"""Serving an ASGI application (a provider's or the gateway's) from a background thread.

Trust assumption: none; this is plumbing around uvicorn.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from ledgerlearn.exceptions import ConfigError

__all__ = ["HttpServer", "free_port"]


def free_port(address: str = "127.0.0.1") -> int:
    """Return a TCP port nothing listens on at ``address`` right now."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
        return port


class HttpServer:
    """uvicorn serving ``app`` in a daemon thread.

    Parameters
    ----------
    app
        The ASGI application.
    address, port
        Where to listen; port 0 picks a free one.
    """

    def __init__(self, app: Any, address: str = "127.0.0.1", port: int = 0) -> None:
        self.address = address
        self.port = port or free_port(address)
        config = uvicorn.Config(app, host=address, port=self.port, log_level="warning", ws="none")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """The base URL."""
        return f"http://{self.address}:{self.port}"

    def start(self, timeout: float = 30.0) -> HttpServer:
        """Start listening; return once the socket accepts connections.

        Raises
        ------
        ConfigError
            If it cannot listen (port in use, not a local address).
        """
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise ConfigError(
                    f"cannot listen on {self.address}:{self.port} (in use, or not an address)"
                )
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.should_exit = True
        self.thread.join(10)
