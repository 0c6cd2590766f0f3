"""Chain: one connected EVM chain, whatever back end runs it.

:class:`Chain` is the object the rest of ledgerlearn talks to: it starts its
:class:`~ledgerlearn.ledger.ChainBackend`, knows the chain id, deploys artifacts, binds
contracts by name and address, and hands out :class:`~ledgerlearn.ledger.TransactionSender`
objects. The embedded, devnet and rpc back ends behave the same through it.

Trust assumption: as the back end's; contract addresses come from a verified manifest.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from eth_tester.exceptions import TransactionFailed as EthTesterTransactionFailed
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError
from web3.types import BlockIdentifier

from ledgerlearn.config import ChainSettings
from ledgerlearn.exceptions import (
    ChainIdMismatchError,
    LedgerError,
    TransactionFailedError,
    TransactionTimeoutError,
)
from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.ledger._artifacts import get_artifact
from ledgerlearn.ledger._backends import ChainBackend, DevnetBackend, EmbeddedBackend, RpcBackend
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest
from ledgerlearn.ledger._reverts import decode_revert
from ledgerlearn.ledger._tx import RetryPolicy, TransactionSender, revert_data
from ledgerlearn.types import Address

__all__ = ["Chain", "open_chain"]


class Chain:
    """A started chain back end with deploy, bind and send helpers.

    Parameters
    ----------
    backend
        Where the chain runs; :class:`EmbeddedBackend` when omitted.
    keys
        Extra signing keys (e.g. from a keystore) besides the back end's dev accounts.
    tx_timeout
        Seconds to wait for each receipt.
    retry
        Policy for transient RPC failures.

    Examples
    --------
    >>> with Chain() as chain:
    ...     deployer = chain.accounts[0]
    ...     token = chain.deploy("LedgerToken", deployer.address, deployer.address, 10, 100,
    ...                          sender=deployer)
    """

    def __init__(
        self,
        backend: ChainBackend | None = None,
        *,
        keys: Sequence[Secp256k1Key] = (),
        tx_timeout: float = 120.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.backend = backend or EmbeddedBackend()
        self.w3: Web3 = self.backend.start()
        try:
            self.chain_id = int(self.w3.eth.chain_id)
        except Exception:
            self.backend.stop()
            raise
        self._keys = list(keys)
        self._tx_timeout = tx_timeout
        self._retry = retry or RetryPolicy()
        self._senders: dict[str, TransactionSender] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Chain(backend={self.backend.name!r}, chain_id={self.chain_id})"

    def __enter__(self) -> Chain:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop the back end (ends a devnet's anvil)."""
        self.backend.stop()

    @property
    def rpc_url(self) -> str | None:
        """The JSON-RPC URL other processes can reach the chain at, if any."""
        return self.backend.rpc_url

    @property
    def accounts(self) -> list[Secp256k1Key]:
        """Signing keys available: configured keys first, then funded dev accounts."""
        return [*self._keys, *self.backend.dev_accounts()]

    @property
    def block_number(self) -> int:
        """The latest block's number."""
        return int(self.w3.eth.block_number)

    def call(self, function: ContractFunction, *, block: BlockIdentifier = "latest") -> Any:
        """Run a contract function as a read-only call, decoding reverts.

        Parameters
        ----------
        function
            A bound web3 contract function, e.g. ``token.functions.balanceOf(owner)``.
        block
            The block to read at.

        Returns
        -------
        Any
            The decoded return value.

        Raises
        ------
        ContractRevertError
            Subclass named after the Solidity error, if the call reverts.
        """
        try:
            return function.call(block_identifier=block)
        except (ContractLogicError, EthTesterTransactionFailed) as exc:
            raise decode_revert(revert_data(exc), f"{function.fn_name}()") from exc

    def mine(self, blocks: int = 1) -> int:
        """Mine empty blocks on a development chain (embedded, anvil).

        Parameters
        ----------
        blocks
            How many.

        Returns
        -------
        int
            The new head's number.

        Raises
        ------
        LedgerError
            On a chain that does not mine on request.
        """
        self.backend.mine(self.w3, blocks)
        return self.block_number

    def advance_time(self, seconds: int) -> int:
        """Move a development chain's clock forward by ``seconds`` and mine a block there.

        Parameters
        ----------
        seconds
            How far.

        Returns
        -------
        int
            The new head's timestamp.

        Raises
        ------
        LedgerError
            On a chain whose clock cannot be moved.
        """
        if seconds < 0:
            raise ValueError("seconds must be >= 0; a chain's clock only moves forward")
        self.backend.advance_time(self.w3, seconds)
        return self.timestamp()

    def timestamp(self, block: BlockIdentifier = "latest") -> int:
        """Return a block's timestamp (seconds since the epoch).

        Parameters
        ----------
        block
            Which block.

        Returns
        -------
        int
            Its timestamp.
        """
        return int(self.w3.eth.get_block(block)["timestamp"])

    def wait_for_block(self, number: int, *, timeout: float = 600.0, mine: bool = True) -> int:
        """Return once the head is at least ``number``, mining on development chains.

        Parameters
        ----------
        number
            The block height to reach.
        timeout
            Seconds to wait on chains that mine on their own.
        mine
            Mine the missing blocks when the back end can.

        Returns
        -------
        int
            The head's number.

        Raises
        ------
        TransactionTimeoutError
            If the height is not reached in time.
        """
        head = self.block_number
        if head >= number:
            return head
        if mine:
            with contextlib.suppress(LedgerError):
                return self.mine(number - head)
        deadline = time.monotonic() + timeout
        while (head := self.block_number) < number:
            if time.monotonic() > deadline:
                raise TransactionTimeoutError(f"block {number} not reached in {timeout:.0f} s")
            time.sleep(1.0)
        return head

    def code_at(self, address: str) -> bytes:
        """Return the runtime code at ``address`` (empty for an account).

        Parameters
        ----------
        address
            The address.

        Returns
        -------
        bytes
            The code.
        """
        return bytes(self.w3.eth.get_code(to_checksum_address(address)))

    def sender(self, key: Secp256k1Key) -> TransactionSender:
        """Return the transaction sender of ``key`` (one per account per chain).

        Parameters
        ----------
        key
            The signing key.

        Returns
        -------
        TransactionSender
            Shared across calls.
        """
        with self._lock:
            sender = self._senders.get(key.address)
            if sender is None:
                sender = TransactionSender(
                    self.w3, key, self.chain_id, timeout=self._tx_timeout, retry=self._retry
                )
                self._senders[key.address] = sender
            return sender

    def load_manifest(self, path: str | os.PathLike[str]) -> DeploymentManifest:
        """Load a deployment manifest and verify it against this chain.

        Parameters
        ----------
        path
            The manifest file.

        Returns
        -------
        DeploymentManifest
            The verified manifest.

        Raises
        ------
        ManifestNotFoundError, InvalidManifestError
            If the file is missing or malformed.
        ChainIdMismatchError
            If it is for another chain.
        ManifestCodeMismatchError
            If an address holds code other than its artifact's.
        """
        manifest = DeploymentManifest.load(path)
        manifest.verify(self)
        return manifest

    def contract(self, name: str, address: str) -> Contract:
        """Bind the packaged ABI of ``name`` at ``address``.

        Parameters
        ----------
        name
            Contract name, e.g. ``"LedgerToken"``.
        address
            Where it is deployed.

        Returns
        -------
        web3.contract.Contract
            The bound contract.
        """
        return self.w3.eth.contract(
            address=to_checksum_address(address), abi=get_artifact(name).abi
        )

    def deploy(
        self, name: str, *args: Any, sender: Secp256k1Key
    ) -> tuple[Contract, ContractRecord]:
        """Deploy the packaged artifact ``name`` with constructor ``args``.

        Parameters
        ----------
        name
            Contract name.
        *args
            Constructor arguments.
        sender
            The deploying account.

        Returns
        -------
        tuple[Contract, ContractRecord]
            The bound contract and its manifest record.

        Raises
        ------
        ContractRevertError
            If the constructor reverts.
        """
        artifact = get_artifact(name)
        factory = self.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args).data_in_transaction
        receipt = self.sender(sender).send({"data": data}, context=f"deploy {name}")
        created = receipt["contractAddress"]
        if created is None:
            raise TransactionFailedError(f"deploy {name}: the receipt names no contract address")
        address: Address = to_checksum_address(created)
        record = ContractRecord(
            address=address,
            block=int(receipt["blockNumber"]),
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            artifact_hash=artifact.artifact_hash,
            code_hash="0x" + keccak(self.code_at(address)).hex(),
        )
        return self.contract(name, address), record


def open_chain(
    settings: ChainSettings,
    *,
    keys: Sequence[Secp256k1Key] = (),
    expected_chain_id: int | None = None,
) -> Chain:
    """Start or connect to the chain the settings describe.

    Parameters
    ----------
    settings
        The ``[chain]`` settings.
    keys
        Signing keys to offer besides dev accounts (e.g. a decrypted keystore).
    expected_chain_id
        Refuse the chain unless it has this id (a manifest's chain id).

    Returns
    -------
    Chain
        The started chain; close it when done.

    Raises
    ------
    ChainUnavailableError
        If an RPC endpoint does not answer.
    AnvilNotFoundError
        If the devnet back end cannot find anvil.
    ChainIdMismatchError
        If the chain id is not ``expected_chain_id``.
    """
    backend: ChainBackend
    if settings.backend == "embedded":
        backend = EmbeddedBackend()
    elif settings.backend == "devnet":
        backend = DevnetBackend(settings.anvil_path, block_time=settings.block_time)
    else:
        assert settings.rpc_url is not None  # enforced by ChainSettings
        backend = RpcBackend(
            settings.rpc_url,
            timeout=settings.rpc_timeout,
            use_dev_accounts=settings.use_dev_accounts,
        )
    chain = Chain(backend, keys=keys, tx_timeout=settings.tx_timeout)
    if expected_chain_id is not None and chain.chain_id != expected_chain_id:
        chain.close()
        raise ChainIdMismatchError(
            f"the deployment manifest is for chain {expected_chain_id}, but "
            f"{backend.rpc_url or backend.name} is chain {chain.chain_id}"
        )
    return chain
