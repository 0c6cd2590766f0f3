"""Ledger-coordinated training: federated learning with no central server.

Trainers and aggregators are independent processes that meet only through the chain
(StakeVault, TrainingCoordinator, RandomnessBeacon, ModelRegistry) and the content store.
:class:`TaskSpec` says what to train; :class:`TrainingClient` wraps the contracts;
:func:`aggregate_round` is the deterministic committee computation; :mod:`._transport`
seals updates to the aggregators' key-agreement keys; :class:`TrainingNode` is the
restartable node behind ``ledgerlearn node run``.

Trust assumption: a quorum of each committee is honest; trainers may lie or crash.
"""

from ledgerlearn.training._aggregate import (
    RECORD_SCHEMA,
    CommittedUpdate,
    RoundOutcome,
    ScoredUpdate,
    aggregate_round,
    final_manifest,
    round_record,
)
from ledgerlearn.training._client import (
    PHASES,
    ROLES,
    AggregatePost,
    RoundView,
    TaskConfig,
    TaskView,
    TrainingClient,
)
from ledgerlearn.training._evidence import RoundEvidence, training_trail
from ledgerlearn.training._merkle import MerkleTree, record_tree, update_leaf
from ledgerlearn.training._node import LocalData, NodeMetrics, TrainingNode
from ledgerlearn.training._spec import SPEC_SCHEMA, STATELESS_RULES, TaskSpec
from ledgerlearn.training._transport import (
    EnvelopeError,
    UpdateContext,
    derive_agreement_key,
    key_agreement_keys,
    open_update,
    seal_update,
)

__all__ = [
    "PHASES",
    "RECORD_SCHEMA",
    "ROLES",
    "SPEC_SCHEMA",
    "STATELESS_RULES",
    "AggregatePost",
    "CommittedUpdate",
    "EnvelopeError",
    "LocalData",
    "MerkleTree",
    "NodeMetrics",
    "RoundEvidence",
    "RoundOutcome",
    "RoundView",
    "ScoredUpdate",
    "TaskConfig",
    "TaskSpec",
    "TaskView",
    "TrainingClient",
    "TrainingNode",
    "UpdateContext",
    "aggregate_round",
    "derive_agreement_key",
    "final_manifest",
    "key_agreement_keys",
    "open_update",
    "record_tree",
    "round_record",
    "seal_update",
    "training_trail",
    "update_leaf",
]
