"""Ledger: talking to an EVM chain.

Back ends (:class:`EmbeddedBackend`, :class:`DevnetBackend`, :class:`RpcBackend`) run or
reach the chain; :class:`Chain` is the one API over all three; :class:`TransactionSender`
sends with managed nonces, retries and decoded reverts; :class:`DeploymentManifest` records
and verifies deployments; :class:`EventCursor` reads events exactly once across restarts.

Trust assumption: the chain's consensus is trusted; nodes and manifests are checked.
"""

from ledgerlearn.ledger._artifacts import (
    Artifact,
    get_artifact,
)
from ledgerlearn.ledger._backends import (
    ChainBackend,
    DevnetBackend,
    RpcBackend,
    dev_keys,
)
from ledgerlearn.ledger._chain import Chain, open_chain
from ledgerlearn.ledger._client import ContractClient
from ledgerlearn.ledger._embedded import EmbeddedBackend
from ledgerlearn.ledger._enum import SolidityEnum
from ledgerlearn.ledger._events import (
    CursorPosition,
    EventCursor,
    event_topic,
    receipt_events,
)
from ledgerlearn.ledger._logs import LogDecoder
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest
from ledgerlearn.ledger._reverts import decode_revert
from ledgerlearn.ledger._solc import CompiledContract, compile_solidity
from ledgerlearn.ledger._tx import RetryPolicy, TransactionSender, TxJournal

__all__ = [
    "Artifact",
    "Chain",
    "ContractClient",
    "SolidityEnum",
    "ChainBackend",
    "ContractRecord",
    "CursorPosition",
    "DeploymentManifest",
    "DevnetBackend",
    "EmbeddedBackend",
    "EventCursor",
    "LogDecoder",
    "RetryPolicy",
    "RpcBackend",
    "TransactionSender",
    "TxJournal",
    "decode_revert",
    "dev_keys",
    "event_topic",
    "get_artifact",
    "open_chain",
    "CompiledContract",
    "compile_solidity",
    "receipt_events",
]
