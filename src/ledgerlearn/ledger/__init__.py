"""Ledger: talking to an EVM chain.

Back ends (:class:`EmbeddedBackend`, :class:`DevnetBackend`, :class:`RpcBackend`) run or
reach the chain; :class:`Chain` is the one API over all three; :class:`TransactionSender`
sends with managed nonces, retries and decoded reverts; :class:`DeploymentManifest` records
and verifies deployments; :class:`EventCursor` reads events exactly once across restarts.

Trust assumption: the chain's consensus is trusted; nodes and manifests are checked.
"""

from ledgerlearn.ledger._artifacts import (
    Artifact,
    all_artifacts,
    find_stale_artifacts,
    get_artifact,
    project_root,
)
from ledgerlearn.ledger._backends import (
    DEV_CHAIN_IDS,
    DEV_MNEMONIC,
    ChainBackend,
    DevnetBackend,
    EmbeddedBackend,
    RpcBackend,
    dev_keys,
    find_anvil,
)
from ledgerlearn.ledger._chain import Chain, open_chain
from ledgerlearn.ledger._deploy import (
    PROTOCOL_CONTRACTS,
    AuditParameters,
    BeaconParameters,
    GovernanceParameters,
    OptimisticParameters,
    OracleParameters,
    ProofOfLearningParameters,
    StakingParameters,
    TokenParameters,
    deploy_protocol,
)
from ledgerlearn.ledger._events import (
    BLOCK_DONE,
    CursorPosition,
    EventCursor,
    event_topic,
    receipt_events,
)
from ledgerlearn.ledger._logs import LogDecoder
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest
from ledgerlearn.ledger._reverts import decode_revert, revert_error_class
from ledgerlearn.ledger._solc import CompiledContract, compile_solidity
from ledgerlearn.ledger._token import PERMIT_TYPES, PermitSignature, sign_permit
from ledgerlearn.ledger._tx import NonceManager, RetryPolicy, TransactionSender, is_transient

__all__ = [
    "BLOCK_DONE",
    "DEV_CHAIN_IDS",
    "DEV_MNEMONIC",
    "PERMIT_TYPES",
    "PROTOCOL_CONTRACTS",
    "AuditParameters",
    "OptimisticParameters",
    "Artifact",
    "BeaconParameters",
    "Chain",
    "ChainBackend",
    "ContractRecord",
    "CursorPosition",
    "DeploymentManifest",
    "DevnetBackend",
    "EmbeddedBackend",
    "EventCursor",
    "GovernanceParameters",
    "LogDecoder",
    "NonceManager",
    "PermitSignature",
    "RetryPolicy",
    "RpcBackend",
    "OracleParameters",
    "ProofOfLearningParameters",
    "StakingParameters",
    "TokenParameters",
    "TransactionSender",
    "all_artifacts",
    "decode_revert",
    "deploy_protocol",
    "dev_keys",
    "event_topic",
    "find_anvil",
    "find_stale_artifacts",
    "get_artifact",
    "is_transient",
    "open_chain",
    "project_root",
    "CompiledContract",
    "compile_solidity",
    "receipt_events",
    "revert_error_class",
    "sign_permit",
]
