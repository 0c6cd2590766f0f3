"""Transactions: nonces, gas, fees, retries, receipts and decoded reverts.

:class:`TransactionSender` signs locally (keys never reach the node) and:

- hands out nonces from one :class:`NonceManager` per (connection, account), so threads
  sharing an account never reuse or skip a nonce; after a failed broadcast, or a node that
  says the nonce is taken (another process sending from the same account), the manager
  resynchronises from the chain's pending count;
- estimates gas (the estimate also surfaces reverts before anything is sent) and adds a
  margin; prices EIP-1559 fees from the latest base fee;
- retries transient RPC failures (connection errors, timeouts, HTTP 429/5xx) with
  exponential backoff — resending a signed transaction is safe, its hash is its identity;
- waits for the receipt with a timeout, and turns a revert into the exception named after
  the Solidity error (:mod:`ledgerlearn.ledger._reverts`).

Trust assumption: the node may be flaky but not malicious about receipts; anything that
matters is re-read from chain state by the caller.
"""

from __future__ import annotations

import ast
import contextlib
import logging
import random
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, cast

import requests
from eth_tester.exceptions import TransactionFailed as EthTesterTransactionFailed
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractLogicError, TransactionNotFound, Web3RPCError
from web3.types import TxParams, TxReceipt

from ledgerlearn.exceptions import (
    ChainUnavailableError,
    TransactionError,
    TransactionFailedError,
    TransactionTimeoutError,
)
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger._logs import format_receipt
from ledgerlearn.ledger._reverts import decode_revert
from ledgerlearn.ledger._rpc import RpcHttpError

__all__ = [
    "NonceManager",
    "RetryPolicy",
    "TransactionSender",
    "is_transient",
    "revert_data",
    "with_retries",
]

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How to retry transient RPC failures.

    Attributes
    ----------
    attempts
        Tries in all, the first included.
    backoff
        Seconds before the first retry; doubled each time, with up to 25 % jitter.
    max_backoff
        Cap on one wait.
    """

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 5.0


def revert_data(exc: BaseException) -> bytes | None:
    """Find the revert payload in an exception from web3 or the embedded back end.

    web3 puts it in ``ContractLogicError.data`` (hex); eth-tester raises
    ``TransactionFailed`` whose first argument, somewhere in the cause chain, is the bytes.

    Parameters
    ----------
    exc
        The exception a call or gas estimate raised.

    Returns
    -------
    bytes | None
        The payload, or ``None`` if there is none.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        data = getattr(current, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        if current.args and isinstance(current.args[0], bytes):
            return current.args[0]
        if current.args and isinstance(current.args[0], str):
            # eth-tester's eth_call path passes the payload as the repr of a bytes object
            text = current.args[0].removeprefix("execution reverted: ")
            if text.startswith(("b'", 'b"')):
                with contextlib.suppress(ValueError, SyntaxError):
                    payload = ast.literal_eval(text)
                    if isinstance(payload, bytes):
                        return payload
        current = current.__cause__ or current.__context__
    return None


def is_transient(exc: BaseException) -> bool:
    """Return whether an RPC failure is worth retrying.

    Parameters
    ----------
    exc
        The exception a web3 call raised.

    Returns
    -------
    bool
        True for connection errors, timeouts and HTTP 429/502/503/504 (from ``requests``
        or the direct transport).
    """
    if isinstance(exc, requests.ConnectionError | requests.Timeout | ConnectionError):
        return True
    if isinstance(exc, TimeoutError):
        return True
    if isinstance(exc, RpcHttpError):
        return exc.status in (429, 502, 503, 504)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        return exc.response.status_code in (429, 502, 503, 504)
    return False


def with_retries(call: Callable[[], T], policy: RetryPolicy, what: str) -> T:
    """Run ``call``, retrying transient failures by ``policy``.

    Parameters
    ----------
    call
        The RPC operation.
    policy
        Retry policy.
    what
        Description for logs and errors.

    Returns
    -------
    T
        What ``call`` returned.

    Raises
    ------
    ChainUnavailableError
        When every attempt failed transiently.
    """
    delay = policy.backoff
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == policy.attempts:
                raise ChainUnavailableError(
                    f"{what} failed {attempt} times; last error: {exc}"
                ) from exc
            log.warning(
                "%s: transient RPC failure (%s); retry %d in %.2fs", what, exc, attempt, delay
            )
            time.sleep(delay * (1 + random.random() / 4))
            delay = min(delay * 2, policy.max_backoff)
    raise AssertionError("unreachable")


class NonceManager:
    """Hands out consecutive nonces for one account on one chain, thread-safely.

    Get the shared instance with :meth:`for_account`.
    """

    _registry: ClassVar[weakref.WeakKeyDictionary[Web3, dict[str, NonceManager]]] = (
        weakref.WeakKeyDictionary()
    )
    _registry_lock = threading.Lock()

    def __init__(self, w3: Web3, address: ChecksumAddress) -> None:
        self._w3 = w3
        self._address = address
        self._lock = threading.Lock()
        self._next: int | None = None
        self.order = threading.Lock()
        """Held from reserving a nonce until the node took the transaction, so a process
        submits an account's transactions in nonce order: a node without a pending pool
        (the embedded py-evm) refuses a nonce ahead of the account's, which two threads
        sending at once would otherwise produce."""

    @classmethod
    def for_account(cls, w3: Web3, address: ChecksumAddress) -> NonceManager:
        """Return the manager of ``address`` on the connection ``w3``.

        Parameters
        ----------
        w3
            A connection to the chain; every sender using it shares managers.
        address
            The sending account.

        Returns
        -------
        NonceManager
            Shared by every sender of that account over ``w3``.
        """
        with cls._registry_lock:
            managers = cls._registry.setdefault(w3, {})
            manager = managers.get(address)
            if manager is None:
                manager = managers[address] = cls(w3, address)
            return manager

    @classmethod
    def resync_all(cls, w3: Web3) -> None:
        """Forget the local counts of every account on the connection ``w3``.

        Parameters
        ----------
        w3
            A connection whose chain went back in time (a reverted snapshot).
        """
        with cls._registry_lock:
            managers = list(cls._registry.get(w3, {}).values())
        for manager in managers:
            manager.resync()

    def reserve(self) -> int:
        """Take the next nonce.

        Returns
        -------
        int
            A nonce no other caller in this process will get.
        """
        with self._lock:
            if self._next is None:
                self._next = int(self._w3.eth.get_transaction_count(self._address, "pending"))
            nonce = self._next
            self._next += 1
            return nonce

    def resync(self) -> None:
        """Forget the local count; the next :meth:`reserve` reads it from the chain."""
        with self._lock:
            self._next = None


class TxJournal(Protocol):
    """Where a :class:`TransactionSender` reports the transactions it signs."""

    def tx_signed(self, tx_hash: bytes, raw: bytes, nonce: int) -> None:
        """Keep ``(tx_hash, raw, nonce)``: signed, about to be broadcast."""

    def tx_resolved(self, tx_hash: bytes) -> None:
        """Forget ``tx_hash``: it has a receipt, or the node refused it."""


class TransactionSender:
    """Signs and sends transactions for one account.

    Parameters
    ----------
    w3
        Connection to the chain.
    key
        The sending account's key.
    chain_id
        The chain's id (EIP-155 replay protection).
    timeout
        Seconds to wait for a receipt.
    poll_interval
        Longest wait between receipt polls (polling starts at 0.5 ms and doubles).
    gas_margin
        Factor on the gas estimate.
    retry
        Policy for transient RPC failures.
    rebroadcast_after
        Seconds between checks that the node still has a transaction that is not mined
        yet; a dropped one is broadcast again (also checked after the node was down).
    rpc
        Sends one raw JSON-RPC request (:meth:`Chain.rpc`); when given, the requests of
        :meth:`send` go through it instead of web3's formatters, with the same results.
    """

    def __init__(
        self,
        w3: Web3,
        key: Secp256k1Key,
        chain_id: int,
        *,
        timeout: float = 120.0,
        poll_interval: float = 0.5,
        gas_margin: float = 1.2,
        retry: RetryPolicy | None = None,
        rebroadcast_after: float = 15.0,
        rpc: Callable[[str, Sequence[Any]], Any] | None = None,
    ) -> None:
        self.w3 = w3
        self._rpc = rpc
        self.key = key
        self.chain_id = chain_id
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.gas_margin = gas_margin
        self.retry = retry or RetryPolicy()
        self.rebroadcast_after = rebroadcast_after
        self.nonces = NonceManager.for_account(w3, key.address)
        self.journal: TxJournal | None = None
        """Told of each signed transaction before its broadcast, and when it is resolved
        (a receipt, or refused by the node): a node keeps the unresolved ones so that a
        restart waits for them (:meth:`settle`) instead of sending the action again."""

    @property
    def address(self) -> ChecksumAddress:
        """The sending account."""
        return self.key.address

    def transact(self, function: ContractFunction, *, value: int = 0) -> TxReceipt:
        """Call a contract function in a transaction and wait for its receipt.

        Parameters
        ----------
        function
            A bound web3 contract function, e.g. ``token.functions.transfer(to, amount)``.
        value
            Wei to send along.

        Returns
        -------
        TxReceipt
            The receipt of the successful transaction.

        Raises
        ------
        ContractRevertError
            Subclass named after the Solidity error, if the call reverts.
        TransactionTimeoutError
            If no receipt arrives in time.
        """
        tx: TxParams = {
            "from": self.address,
            "to": function.address,
            "data": function._encode_transaction_data(),
            "value": Web3.to_wei(value, "wei"),
        }
        return self.send(tx, context=f"{function.fn_name}()")

    def send(self, params: TxParams, *, context: str = "transaction") -> TxReceipt:
        """Complete, sign, broadcast and confirm a transaction.

        Parameters
        ----------
        params
            At least ``to`` (omit for a contract creation) and ``data``/``value``; missing
            ``gas`` and fees are filled in.
        context
            What is being done, for error messages.

        Returns
        -------
        TxReceipt
            The receipt of the successful transaction.
        """
        tx: dict[str, Any] = {**params, "from": self.address, "chainId": self.chain_id}
        if "gas" not in tx:
            estimate = self._call(lambda: self._estimate_gas(tx), f"estimate gas for {context}")
            tx["gas"] = int(estimate * self.gas_margin)
        if "maxFeePerGas" not in tx and "gasPrice" not in tx:
            tx.update(self._fees())
        with self.nonces.order:
            for _ in range(3):
                tx["nonce"] = self.nonces.reserve()
                try:
                    signed = self.key.account.sign_transaction(tx)
                except BaseException:
                    self.nonces.resync()  # the reserved nonce was never used
                    raise
                raw = signed.raw_transaction
                if self.journal is not None:
                    try:
                        self.journal.tx_signed(bytes(signed.hash), bytes(raw), int(tx["nonce"]))
                    except BaseException:
                        self.nonces.resync()  # not broadcast: the nonce is free again
                        raise
                try:
                    tx_hash = self._call(
                        lambda raw=raw: self._send_raw(raw),  # type: ignore[misc]
                        f"send {context}",
                    )
                    break
                except Web3RPCError as exc:
                    message = str(exc).lower()
                    if "already known" in message or "already imported" in message:
                        tx_hash = signed.hash
                        break
                    if "nonce too low" in message and self._known(signed.hash):
                        # A retried broadcast: the first attempt reached the node (its reply
                        # was lost) and is already pending or mined. Signing the call again
                        # with the next nonce would execute it twice.
                        tx_hash = signed.hash
                        break
                    self.nonces.resync()
                    self._resolved(signed.hash)  # refused: it can never be mined
                    if "nonce too low" in message or "nonce too high" in message:
                        continue
                    raise TransactionFailedError(f"{context} rejected by the node: {exc}") from exc
                except BaseException:
                    self.nonces.resync()
                    raise
            else:
                raise TransactionFailedError(
                    f"{context}: nonce kept conflicting; is another process using {self.address}?"
                )
        try:
            receipt = self._wait(tx_hash, raw, context)
        except TransactionTimeoutError:
            # The node may have lost the transaction (and with it the nonce): count again
            # from the chain, or every later transaction of this account waits behind a gap.
            self.nonces.resync()
            raise
        self._resolved(tx_hash)
        if receipt["status"] != 1:
            raise self._explain_failure(tx, receipt, context)
        return receipt

    def _resolved(self, tx_hash: bytes) -> None:
        if self.journal is not None:
            self.journal.tx_resolved(bytes(tx_hash))

    def _call(self, call: Callable[[], T], what: str) -> T:
        try:
            return with_retries(call, self.retry, what)
        except (ContractLogicError, EthTesterTransactionFailed) as exc:
            raise decode_revert(revert_data(exc), what) from exc

    def _estimate_gas(self, tx: dict[str, Any]) -> int:
        if self._rpc is None:
            return int(self.w3.eth.estimate_gas(cast(TxParams, tx)))
        request: dict[str, Any] = {k: tx[k] for k in ("from", "to", "data") if k in tx}
        request["value"] = hex(int(tx.get("value", 0)))
        return int(self._rpc("eth_estimateGas", [request]), 16)

    def _send_raw(self, raw: bytes) -> bytes:
        if self._rpc is None:
            return bytes(self.w3.eth.send_raw_transaction(raw))
        return bytes.fromhex(str(self._rpc("eth_sendRawTransaction", ["0x" + raw.hex()]))[2:])

    def _receipt(self, tx_hash: bytes) -> TxReceipt:
        if self._rpc is None:
            return self.w3.eth.get_transaction_receipt(tx_hash)  # type: ignore[arg-type]
        raw = self._rpc("eth_getTransactionReceipt", ["0x" + bytes(tx_hash).hex()])
        if raw is None:
            raise TransactionNotFound(f"no receipt for 0x{bytes(tx_hash).hex()} yet")
        return format_receipt(raw)

    def _base_fee(self) -> int | None:
        if self._rpc is None:
            latest = self.w3.eth.get_block("latest")
            fee = latest.get("baseFeePerGas")
            return None if fee is None else int(fee)
        block = self._rpc("eth_getBlockByNumber", ["latest", False])
        fee = block.get("baseFeePerGas")
        return None if fee is None else int(fee, 16)

    def _fees(self) -> dict[str, int]:
        base_fee = self._call(self._base_fee, "read latest block")
        if base_fee is None:
            return {"gasPrice": int(self._call(lambda: self.w3.eth.gas_price, "read gas price"))}
        priority = Web3.to_wei(1, "gwei")
        return {"maxPriorityFeePerGas": priority, "maxFeePerGas": 2 * int(base_fee) + priority}

    def _wait(self, tx_hash: bytes, raw: bytes, context: str) -> TxReceipt:
        """Poll for the receipt: at once, then after 0.5 ms, doubling up to ``poll_interval``.

        Instant-mining chains answer within a few milliseconds; real chains are polled at
        ``poll_interval`` without hammering the node. If the node stops knowing the
        transaction (it restarted and lost its pool, or dropped it), the same signed bytes
        are broadcast again: checked after the node was unreachable, and every
        ``rebroadcast_after`` seconds otherwise.
        """
        deadline = time.monotonic() + self.timeout
        next_check = time.monotonic() + self.rebroadcast_after
        delay = 0.0005
        unreachable = False
        while True:
            try:
                return self._receipt(tx_hash)
            except TransactionNotFound:
                if unreachable or time.monotonic() >= next_check:
                    self._rebroadcast_if_dropped(tx_hash, raw, context)
                    unreachable, next_check = False, time.monotonic() + self.rebroadcast_after
            except Exception as exc:
                # ChainUnavailableError: the direct transport already retried and gave up;
                # the node may come back (a restart) within the receipt timeout.
                if not (is_transient(exc) or isinstance(exc, ChainUnavailableError)):
                    raise
                unreachable = True
            if time.monotonic() >= deadline:
                raise TransactionTimeoutError(
                    f"{context}: no receipt for 0x{tx_hash.hex()} after {self.timeout:.0f} s"
                )
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, self.poll_interval)

    def settle(
        self, tx_hash: bytes, raw: bytes, nonce: int, *, context: str = "an earlier transaction"
    ) -> TxReceipt | None:
        """Wait for a transaction this account signed earlier (perhaps in another run).

        Parameters
        ----------
        tx_hash, raw, nonce
            The signed transaction, as :attr:`journal` saw it.
        context
            What it was, for messages.

        Returns
        -------
        TxReceipt or None
            Its receipt (successful or not), or ``None`` when it can never be mined:
            another transaction of the account took its nonce, or the node no longer has
            it and refuses it again (a fee below today's base fee, no funds for gas).

        Raises
        ------
        TransactionTimeoutError
            If it is still pending after :attr:`timeout` (broadcast again if dropped).
        """
        receipt = self._receipt_or_none(tx_hash)
        if receipt is not None:
            return receipt
        mined_nonce = self._call(
            lambda: int(self.w3.eth.get_transaction_count(self.address, "latest")),
            "read the account's nonce",
        )
        if mined_nonce > nonce:
            return self._receipt_or_none(tx_hash)  # mined meanwhile, or replaced
        if not self._known(tx_hash):
            # Never broadcast (stopped just after signing) or lost with the node's pool.
            try:
                self._send_raw(raw)
            except Web3RPCError as exc:
                message = str(exc).lower()
                if "already known" not in message and "already imported" not in message:
                    log.warning("%s 0x%s refused again: %s", context, tx_hash.hex(), exc)
                    return self._receipt_or_none(tx_hash)
        return self._wait(tx_hash, raw, context)

    def _receipt_or_none(self, tx_hash: bytes) -> TxReceipt | None:
        try:
            return self._call(lambda: self._receipt(tx_hash), "read a receipt")
        except TransactionNotFound:
            return None

    def _known(self, tx_hash: bytes) -> bool:
        """Whether the node has the transaction, pending or mined."""
        try:
            if self._rpc is None:
                self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
                return True
            return self._rpc("eth_getTransactionByHash", ["0x" + bytes(tx_hash).hex()]) is not None
        except TransactionNotFound:
            return False

    def _rebroadcast_if_dropped(self, tx_hash: bytes, raw: bytes, context: str) -> None:
        """Send ``raw`` again if the node no longer has it (no receipt, not pending)."""
        try:
            self.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
            return  # still pending
        except TransactionNotFound:
            pass
        except Exception as exc:
            if is_transient(exc):
                return  # unreachable again; the next poll tries once more
            raise
        try:
            self.w3.eth.send_raw_transaction(raw)
            log.warning("%s: node had dropped 0x%s; broadcast it again", context, tx_hash.hex())
        except Exception as exc:
            # "already known" (a race with the pool) is fine; "nonce too low" means another
            # transaction took the nonce, and the wait ends in a timeout that says so.
            log.warning("%s: rebroadcast of 0x%s refused: %s", context, tx_hash.hex(), exc)

    def _explain_failure(
        self, tx: dict[str, Any], receipt: TxReceipt, context: str
    ) -> TransactionError:
        """Replay a transaction that failed in a block to recover its revert reason."""
        replay = {k: tx[k] for k in ("from", "to", "data", "value", "gas") if k in tx}
        try:
            self.w3.eth.call(replay, receipt["blockNumber"] - 1)  # type: ignore[arg-type]
        except (ContractLogicError, EthTesterTransactionFailed) as exc:
            data = revert_data(exc)
            if data:
                return decode_revert(data, context)
        except Exception as exc:  # the replay is best effort
            log.debug("replay of failed %s failed: %s", context, exc)
        used, limit = int(receipt["gasUsed"]), int(tx.get("gas", 0))
        hint = "it ran out of gas" if limit and used >= limit else "it reverted without a reason"
        return TransactionFailedError(
            f"{context} failed in block {receipt['blockNumber']} "
            f"(tx 0x{bytes(receipt['transactionHash']).hex()}, gas {used}/{limit}): {hint}"
        )
