"""Chain: one connected EVM chain, whatever back end runs it.

:class:`Chain` is the object the rest of ledgerlearn talks to: it starts its
:class:`~ledgerlearn.ledger.ChainBackend`, knows the chain id, deploys artifacts, binds
contracts by name and address, and hands out :class:`~ledgerlearn.ledger.TransactionSender`
objects. The embedded, devnet and rpc back ends behave the same through it.

The reads nodes make in their loops (head, ``eth_call``, ``eth_getLogs``) go over HTTP
back ends as plain JSON-RPC (Ethereum JSON-RPC specification) through the web3 provider,
decoded with ``eth_abi`` into exactly what web3 returns; web3's middleware and formatter
stack costs more per request than the node takes to answer it. Tests compare both paths.

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

from eth_abi.exceptions import DecodingError
from eth_tester.exceptions import TransactionFailed as EthTesterTransactionFailed
from eth_typing import HexStr
from eth_utils import keccak, to_checksum_address
from web3 import HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import BlockIdentifier, FilterParams, LogReceipt, RPCEndpoint, TxParams, TxReceipt

from ledgerlearn.config import ChainSettings
from ledgerlearn.exceptions import (
    ChainIdMismatchError,
    LedgerError,
    TransactionFailedError,
    TransactionTimeoutError,
)
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger._abi import decode_return
from ledgerlearn.ledger._artifacts import get_artifact
from ledgerlearn.ledger._backends import ChainBackend, DevnetBackend, RpcBackend
from ledgerlearn.ledger._embedded import EmbeddedBackend
from ledgerlearn.ledger._logs import format_log
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest
from ledgerlearn.ledger._reverts import decode_revert
from ledgerlearn.ledger._rpc import rpc_transport
from ledgerlearn.ledger._tx import (
    NonceManager,
    RetryPolicy,
    TransactionSender,
    revert_data,
    with_retries,
)
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
        provider = self.w3.provider
        self._http = provider if isinstance(provider, HTTPProvider) else None
        self._direct = (
            rpc_transport(
                str(self._http.endpoint_uri),
                timeout=float(self._http.get_request_kwargs().get("timeout", 30.0)),
            )
            if self._http is not None
            else None
        )
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
        if self._direct is not None:
            self._direct.close()
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
        if self._http is not None:
            return int(self.rpc("eth_blockNumber", []), 16)
        return int(self.w3.eth.block_number)

    def rpc(self, method: str, params: Sequence[Any]) -> Any:
        """Send one JSON-RPC request to an HTTP back end and return its raw ``result``.

        Parameters
        ----------
        method
            The JSON-RPC method, e.g. ``eth_blockNumber``.
        params
            Its parameters, already in JSON-RPC form (hex quantities).

        Returns
        -------
        Any
            The ``result`` member, unformatted (hex strings).

        Raises
        ------
        LedgerError
            On the embedded back end, which has no JSON-RPC endpoint.
        web3.exceptions.ContractLogicError
            If the node reports a revert (``data`` holds the payload).
        web3.exceptions.Web3RPCError
            For any other error the node returns.
        """
        if self._http is None:
            raise LedgerError(f"{self.backend.name} has no JSON-RPC endpoint; use self.w3")
        if self._direct is not None:
            direct = self._direct
            response: Any = with_retries(
                lambda: direct.request(method, params), self._retry, f"JSON-RPC {method}"
            )
        else:
            response = self._http.make_request(RPCEndpoint(method), list(params))
        error = response.get("error")
        if error is None:
            return response.get("result")
        if isinstance(error, dict):
            message = str(error.get("message") or "")
            if error.get("code") == 3 or "revert" in message.lower():
                data = error.get("data")
                raise ContractLogicError(
                    message or "execution reverted", data=data if isinstance(data, str) else None
                )
        raise Web3RPCError(f"{method} failed: {error}", rpc_response=response)

    def get_logs(self, params: FilterParams) -> list[LogReceipt]:
        """Return the logs matching a filter, as web3's ``eth.get_logs`` returns them.

        Parameters
        ----------
        params
            ``address``, ``topics`` and integer ``fromBlock`` / ``toBlock``.

        Returns
        -------
        list[LogReceipt]
            The logs, formatted like web3's (``HexBytes`` topics and data, int positions,
            checksummed address).
        """
        if self._http is None:
            return list(self.w3.eth.get_logs(params))
        request: dict[str, Any] = dict(params)
        for key in ("fromBlock", "toBlock"):
            if isinstance(request.get(key), int):
                request[key] = hex(request[key])
        return [format_log(log) for log in self.rpc("eth_getLogs", [request])]

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
        request: TxParams = {"to": function.address, "data": function._encode_transaction_data()}
        try:
            if self._http is not None and isinstance(block, int | str):
                tag = hex(block) if isinstance(block, int) else block
                data = bytes.fromhex(str(self.rpc("eth_call", [request, tag]))[2:])
            else:
                data = self.w3.eth.call(request, block)
        except (ContractLogicError, EthTesterTransactionFailed) as exc:
            raise decode_revert(revert_data(exc), f"{function.fn_name}()") from exc
        try:
            # What web3's ContractFunction.call returns, without its formatter walk.
            return decode_return(function.abi["outputs"], bytes(data))
        except DecodingError as exc:
            raise LedgerError(
                f"{function.fn_name}() at {function.address} returned {len(data)} bytes that "
                "are not its outputs: is the contract deployed there on this chain "
                f"({self.chain_id})? Check the deployment manifest"
            ) from exc

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

    def snapshot(self) -> Any:
        """Record a development chain's state; :meth:`revert` returns to it.

        Tests share one deployment this way: snapshot after deploying, revert after each
        test. Works on the embedded chain and on anvil.

        Returns
        -------
        Any
            An opaque snapshot id, used once by :meth:`revert`.

        Raises
        ------
        LedgerError
            On a chain that cannot snapshot (a real network).
        """
        return self.backend.snapshot(self.w3)

    def revert(self, snapshot: Any) -> None:
        """Return a development chain to ``snapshot`` and forget every cached nonce.

        Parameters
        ----------
        snapshot
            What :meth:`snapshot` returned.

        Raises
        ------
        LedgerError
            If the chain cannot revert to it.
        """
        self.backend.revert(self.w3, snapshot)
        NonceManager.resync_all(self.w3)

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
                    self.w3,
                    key,
                    self.chain_id,
                    timeout=self._tx_timeout,
                    retry=self._retry,
                    rpc=self.rpc if self._http is not None else None,
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
        address, receipt = self.deploy_code(bytes.fromhex(data[2:]), sender=sender, name=name)
        record = ContractRecord(
            address=address,
            block=int(receipt["blockNumber"]),
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            artifact_hash=artifact.artifact_hash,
            code_hash="0x" + keccak(self.code_at(address)).hex(),
        )
        return self.contract(name, address), record

    def deploy_code(
        self, creation_code: bytes, *, sender: Secp256k1Key, name: str
    ) -> tuple[Address, TxReceipt]:
        """Send a contract-creation transaction and return the new contract's address.

        For packaged contracts use :meth:`deploy`; this is also for contracts compiled at
        run time (EZKL's verifiers).

        Parameters
        ----------
        creation_code
            Creation bytecode with any constructor arguments appended.
        sender
            The deploying account.
        name
            The contract's name, for messages.

        Returns
        -------
        tuple[Address, TxReceipt]
            The checksummed address (it holds code) and the receipt.

        Raises
        ------
        TransactionFailedError
            If the receipt names no address, or no code was left there (a constructor that
            returned nothing, or runtime code over EIP-170's 24,576-byte limit).
        """
        receipt = self.sender(sender).send(
            {"data": HexStr("0x" + creation_code.hex())}, context=f"deploy {name}"
        )
        created = receipt["contractAddress"]
        if created is None:
            raise TransactionFailedError(f"deploy {name}: the receipt names no contract address")
        address: Address = to_checksum_address(created)
        if not self.code_at(address):
            raise TransactionFailedError(
                f"deploy {name}: no code at {address} (is its runtime code over EIP-170's "
                "24,576 bytes?)"
            )
        return address, receipt


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
