"""Devnet: networks on one machine for demos, tests and benchmarks — in process or as processes.

:func:`setup_network` publishes a base model, creates a task and funds its participants;
:func:`make_nodes` and :func:`run_in_process` run every trainer and aggregator in this
process; :func:`spawn_nodes` runs each as its own OS process against anvil;
:class:`LocalProviders` runs inference providers behind their own HTTP servers;
:mod:`ledgerlearn.devnet.experiments` makes the Byzantine trainers and lying providers the
evaluation plays against. Deployments run one ``ledgerlearn node run`` per machine instead.

Trust assumption: the harness only schedules and funds; every decision is a node's, from
the chain.
"""

from ledgerlearn.devnet._network import (
    NetworkConfig,
    NetworkSetup,
    NodeProcesses,
    drive_clock,
    evaluate_weights,
    fund,
    make_nodes,
    node_config,
    run_in_process,
    setup_network,
    shard,
    spawn_nodes,
    wait_for_joins,
)
from ledgerlearn.devnet._providers import LocalProviders
from ledgerlearn.devnet.experiments import LyingProvider, byzantine_trainer, parse_attack

__all__ = [
    "LocalProviders",
    "LyingProvider",
    "NetworkConfig",
    "NetworkSetup",
    "NodeProcesses",
    "byzantine_trainer",
    "drive_clock",
    "evaluate_weights",
    "fund",
    "make_nodes",
    "node_config",
    "parse_attack",
    "run_in_process",
    "setup_network",
    "shard",
    "spawn_nodes",
    "wait_for_joins",
]
