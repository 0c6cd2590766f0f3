"""Contract clients: the one base every client of a deployed contract builds on.

A :class:`ContractClient` subclass names its contract (``contract_name``) and gets, from the
deployment manifest, the bound contract, its address and the block it was deployed at, one
``_transact`` that signs through the chain's shared senders and counts gas per function,
typed read helpers, and event reads from the deployment block — the plumbing web3.py's
``Module`` gives its modules, written once so clients differ only in what they mean.

Trust assumption: as :class:`~ledgerlearn.ledger.Chain`'s; the address comes from a manifest
the caller verified (:meth:`DeploymentManifest.verify`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from typing import Any, ClassVar, Self, cast

from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.contract.contract import ContractFunction, ContractFunctions
from web3.types import BlockIdentifier, EventData, TxReceipt

from ledgerlearn.exceptions import LedgerError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger._chain import Chain
from ledgerlearn.ledger._events import EventCursor, event_topic, receipt_events
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest
from ledgerlearn.types import Address

__all__ = ["ContractClient"]


class ContractClient:
    """Base of a typed client of one protocol contract.

    Subclasses set :attr:`contract_name` and write one method per thing the contract means;
    they send with :meth:`_transact` and read with :meth:`_call` (or its typed variants).

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest naming the contract's address and deploy block.

    Attributes
    ----------
    contract
        The bound web3 contract.
    address
        Its address.
    deploy_block
        The block it was deployed at: event reads start here.
    gas
        Gas used by this client's transactions, summed by contract function.
    last_gas
        Gas of the latest transaction of each function.
    calls
        Transactions sent by this client, by contract function.
    """

    contract_name: ClassVar[str]

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        self.chain = chain
        self.deployment = deployment
        self.address: Address = deployment.get_address(self.contract_name)
        self.deploy_block = deployment.contracts[self.contract_name].block
        self.contract: Contract = chain.contract(self.contract_name, self.address)
        self.gas: Counter[str] = Counter()
        self.last_gas: dict[str, int] = {}
        self.calls: Counter[str] = Counter()
        self._topics: dict[bytes, str] | None = None

    @classmethod
    def at(cls, chain: Chain, address: str, *, deploy_block: int = 0) -> Self:
        """Return a client of the contract at ``address`` (outside any manifest).

        Parameters
        ----------
        chain
            The connected chain.
        address
            Where the contract is.
        deploy_block
            Where its events start (0 when unknown).

        Returns
        -------
        Self
            The client.
        """
        record = ContractRecord(to_checksum_address(address), deploy_block, "", "", "")
        manifest = DeploymentManifest(
            chain_id=chain.chain_id, deployer=record.address, contracts={cls.contract_name: record}
        )
        return cls(chain, manifest)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.contract_name} at {self.address})"

    @property
    def functions(self) -> ContractFunctions:
        """The contract's functions, for callers that need one the client does not wrap."""
        return self.contract.functions

    # --- sending -----------------------------------------------------------------------

    def _transact(
        self, key: Secp256k1Key, function: ContractFunction, *, value: int = 0
    ) -> TxReceipt:
        """Send ``function`` from ``key``'s account, count its gas, return the receipt.

        Raises
        ------
        ContractRevertError
            The generated subclass named after the Solidity error.
        """
        receipt = self.chain.sender(key).transact(function, value=value)
        used = int(receipt["gasUsed"])
        self.gas[function.fn_name] += used
        self.last_gas[function.fn_name] = used
        self.calls[function.fn_name] += 1
        return receipt

    # --- reading -----------------------------------------------------------------------

    def _call(self, function: ContractFunction, *, block: BlockIdentifier = "latest") -> Any:
        """Read ``function`` at ``block``; reverts raise their generated class."""
        return self.chain.call(function, block=block)

    def _call_int(self, function: ContractFunction, *, block: BlockIdentifier = "latest") -> int:
        """Read an integer."""
        return int(self._call(function, block=block))

    def _call_bool(self, function: ContractFunction, *, block: BlockIdentifier = "latest") -> bool:
        """Read a boolean."""
        return bool(self._call(function, block=block))

    def _call_bytes(
        self, function: ContractFunction, *, block: BlockIdentifier = "latest"
    ) -> bytes:
        """Read ``bytes`` or ``bytesN``."""
        return bytes(self._call(function, block=block))

    def _call_address(
        self, function: ContractFunction, *, block: BlockIdentifier = "latest"
    ) -> Address:
        """Read an address (checksummed)."""
        return to_checksum_address(self._call(function, block=block))

    def _call_addresses(
        self, function: ContractFunction, *, block: BlockIdentifier = "latest"
    ) -> list[Address]:
        """Read an ``address[]`` (checksummed)."""
        return [to_checksum_address(a) for a in self._call(function, block=block)]

    # --- events ------------------------------------------------------------------------

    def _receipt_events(self, name: str, receipt: TxReceipt) -> list[EventData]:
        """Decode this contract's ``name`` events from a receipt (others are skipped)."""
        return cast(list[EventData], receipt_events(getattr(self.contract.events, name), receipt))

    def _receipt_event(self, name: str, receipt: TxReceipt) -> EventData:
        """Return the first ``name`` event of a receipt.

        Raises
        ------
        LedgerError
            If the transaction emitted none (the contract and its ABI disagree).
        """
        found = self._receipt_events(name, receipt)
        if not found:
            raise LedgerError(
                f"{self.contract_name} emitted no {name} in transaction "
                f"0x{bytes(receipt['transactionHash']).hex()}; is the manifest's address this "
                "contract?"
            )
        return found[0]

    def _logs(
        self,
        name: str,
        *,
        from_block: int | None = None,
        to_block: BlockIdentifier = "latest",
        **filters: Any,
    ) -> list[EventData]:
        """Every ``name`` event matching indexed ``filters`` since the deploy block."""
        event = getattr(self.contract.events, name)
        return list(
            event().get_logs(
                from_block=self.deploy_block if from_block is None else from_block,
                to_block=to_block,
                argument_filters=filters or None,
            )
        )

    def event_names(self, receipt: TxReceipt) -> list[str]:
        """Return the names of this contract's events in a receipt, in log order.

        Parameters
        ----------
        receipt
            A transaction receipt.

        Returns
        -------
        list[str]
            Event names, e.g. ``["RoundFinalised", "RewardsReleased"]``.
        """
        if self._topics is None:
            self._topics = {}
            for item in self.contract.abi:
                entry = cast(dict[str, Any], item)
                if entry.get("type") == "event":
                    topic = event_topic(getattr(self.contract.events, entry["name"]))
                    self._topics[topic] = entry["name"]
        return [
            self._topics[bytes(log["topics"][0])]
            for log in receipt["logs"]
            if log["address"] == self.address
            and log["topics"]
            and bytes(log["topics"][0]) in self._topics
        ]

    def cursor(
        self,
        path: str | os.PathLike[str] | None,
        *,
        events: Sequence[str] | None = None,
        idle_save_blocks: int = 0,
    ) -> EventCursor:
        """Return a resumable cursor over this contract's events from its deploy block.

        Parameters
        ----------
        path
            The cursor's state file (``None``: in memory only).
        events
            Only these event names (all when omitted).
        idle_save_blocks
            Save a position reached through empty blocks only every this many blocks.

        Returns
        -------
        EventCursor
            The cursor.
        """
        return EventCursor(
            self.chain,
            self.contract,
            path,
            start_block=self.deploy_block,
            events=list(events) if events is not None else None,
            idle_save_blocks=idle_save_blocks,
        )
