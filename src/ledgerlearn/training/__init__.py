"""Ledger-coordinated training: federated learning with no central server.

Trainers and aggregators are independent processes that meet only through the chain
(StakeVault, TrainingCoordinator, RandomnessBeacon, ModelRegistry) and the content store.
:class:`TaskSpec` says what to train; :class:`TrainingClient` wraps the coordinator;
:func:`aggregate_round` and :func:`secagg_round` are the deterministic committee
computations; :func:`seal_update` seals updates to the aggregators' key-agreement keys, and
the ``encode_*`` / :func:`load_messages` helpers carry secure aggregation's messages
through the store; :func:`training_trail` re-checks a task's rounds against the chain. The
long-running trainer and aggregator are in :mod:`ledgerlearn.node`.

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
    AggregatePost,
    RoundResult,
    RoundView,
    TaskConfig,
    TaskView,
    TrainingClient,
    event_cid,
)
from ledgerlearn.training._evidence import RoundEvidence, training_trail
from ledgerlearn.training._merkle import MerkleTree, record_tree, update_leaf
from ledgerlearn.training._secagg import (
    RoundMessages,
    encode_advert,
    encode_masked,
    encode_shares,
    encode_unmask,
    load_messages,
    read_masked,
    round_config,
    round_context,
    secagg_input,
    secagg_round,
)
from ledgerlearn.training._spec import SPEC_SCHEMA, STATELESS_RULES, TaskSpec
from ledgerlearn.training._transport import (
    UpdateContext,
    derive_agreement_key,
    key_agreement_keys,
    open_update,
    open_update_keyed,
    seal_update,
)

__all__ = [
    "RECORD_SCHEMA",
    "SPEC_SCHEMA",
    "STATELESS_RULES",
    "AggregatePost",
    "CommittedUpdate",
    "MerkleTree",
    "RoundEvidence",
    "RoundMessages",
    "RoundOutcome",
    "RoundResult",
    "RoundView",
    "ScoredUpdate",
    "TaskConfig",
    "TaskSpec",
    "TaskView",
    "TrainingClient",
    "event_cid",
    "UpdateContext",
    "aggregate_round",
    "derive_agreement_key",
    "encode_advert",
    "encode_masked",
    "encode_shares",
    "encode_unmask",
    "final_manifest",
    "key_agreement_keys",
    "load_messages",
    "open_update",
    "open_update_keyed",
    "read_masked",
    "record_tree",
    "round_config",
    "round_context",
    "round_record",
    "seal_update",
    "secagg_input",
    "secagg_round",
    "training_trail",
    "update_leaf",
]
