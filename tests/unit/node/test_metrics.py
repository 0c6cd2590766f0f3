"""A node's /metrics endpoint speaks the Prometheus text format."""

from __future__ import annotations

import socket
import urllib.request

from ledgerlearn.node import NodeMetrics


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_metrics_endpoint_serves_counters_and_gauges() -> None:
    metrics = NodeMetrics("trainer", "0xabc")
    metrics.events.inc(3)
    metrics.actions.labels(kind="commit").inc()
    metrics.round.set(2)
    port = _free_port()
    metrics.serve(port)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert "ledgerlearn_node_events_total 3.0" in body
    assert 'ledgerlearn_node_actions_total{kind="commit"} 1.0' in body
    assert "ledgerlearn_node_round 2.0" in body
    assert 'ledgerlearn_node_info{account="0xabc",role="trainer"} 1.0' in body
    assert (
        "# TYPE ledgerlearn_node_events_total counter" in body
        or "# TYPE ledgerlearn_node_events counter" in body
    )
