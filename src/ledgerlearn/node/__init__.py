"""Nodes: the long-running processes of every role, on one framework.

:class:`Node` owns the loop (read the head, poll the cursor, act, checkpoint), typed state
saved atomically, idempotent sends, Prometheus metrics and JSON logs; each role only decides
what to do next:

- :class:`TrainerNode` and :class:`AggregatorNode` — training tasks (commit, draw,
  aggregate, post, claim, slash);
- :class:`ProviderNode` — inference (serve, draw, report, refund);
- :class:`AuditorNode`, :class:`WatcherNode`, :class:`VerifierNode` — verification
  (re-execute sampled answers, challenge false optimistic claims, re-run proof-of-learning
  segments).

:func:`build_node` makes the node a ``[node]`` configuration describes and
:func:`run_configured_node` runs it (``ledgerlearn node run``) until its work is over or
SIGTERM.

Trust assumption: each node trusts its key and its state directory; everything it reads
from the chain, the store and its peers is checked before it acts on it.
"""

from ledgerlearn.node._aggregator import AggregatorNode
from ledgerlearn.node._auditor import AuditorNode, AuditorState
from ledgerlearn.node._base import Node, NodeState
from ledgerlearn.node._metrics import NodeMetrics
from ledgerlearn.node._provider import ProviderNode, ProviderState
from ledgerlearn.node._run import (
    ROLES,
    build_node,
    connect_waiting,
    node_key,
    run_configured_node,
)
from ledgerlearn.node._task import TaskNode, TaskState
from ledgerlearn.node._trainer import LocalData, TrainerNode
from ledgerlearn.node._verifier import VerifierNode, VerifierState
from ledgerlearn.node._watcher import WatcherNode, WatcherState

__all__ = [
    "ROLES",
    "AggregatorNode",
    "AuditorNode",
    "AuditorState",
    "LocalData",
    "Node",
    "NodeMetrics",
    "NodeState",
    "ProviderNode",
    "ProviderState",
    "TaskNode",
    "TaskState",
    "TrainerNode",
    "VerifierNode",
    "VerifierState",
    "WatcherNode",
    "WatcherState",
    "build_node",
    "connect_waiting",
    "node_key",
    "run_configured_node",
]
