"""Node metrics: the Prometheus counters and gauges every node exposes on ``/metrics``.

Trust assumption: none; the endpoint listens on loopback unless configured otherwise and
exposes counts, not secrets.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

__all__ = ["NodeMetrics"]


class NodeMetrics:
    """Prometheus metrics of one node (served on ``/metrics`` by :meth:`serve`).

    Parameters
    ----------
    role
        The node's role (a label of ``ledgerlearn_node_info``).
    account
        The node's account (a label too).
    """

    def __init__(self, role: str, account: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"role": role, "account": account}
        self.events = Counter("ledgerlearn_node_events", "Events handled", registry=self.registry)
        self.actions = Counter(
            "ledgerlearn_node_actions",
            "Transactions sent, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ledgerlearn_node_errors", "Step errors (retried)", registry=self.registry
        )
        self.block = Gauge(
            "ledgerlearn_node_block", "Last block the node looked at", registry=self.registry
        )
        self.round = Gauge("ledgerlearn_node_round", "Current task round", registry=self.registry)
        self.info = Gauge(
            "ledgerlearn_node_info", "Node identity", list(labels), registry=self.registry
        )
        self.info.labels(**labels).set(1)

    def serve(self, port: int, address: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` over HTTP in a daemon thread.

        Parameters
        ----------
        port
            The TCP port.
        address
            The address to listen on (loopback by default).
        """
        start_http_server(port, addr=address, registry=self.registry)
