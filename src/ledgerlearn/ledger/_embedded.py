"""The embedded back end: py-evm in this process through eth-tester.

Every transaction is mined at once and requests are serialised, so threads may share the
chain. Two things make eth-tester fit for more than unit tests: transactions are found
through py-evm's index, gas is estimated the way geth does it (two executions instead of
py-evm's bisection), and log queries skip blocks by their logs bloom (Ethereum yellow
paper, section 4.3.1). Tests compare the last two with eth-tester's own answers.

Trust assumption: none beyond py-evm itself; the chain lives and dies with this process.
"""

from __future__ import annotations

import threading
from typing import Any

from web3 import EthereumTesterProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

from ledgerlearn.ledger._backends import DEV_MNEMONIC, _DevChainBackend

__all__ = ["EmbeddedBackend"]


def _estimate_gas(state: Any, transaction: Any) -> int:
    """Estimate a transaction's gas the way geth does: run it once, check one guess.

    py-evm's default estimator bisects between the intrinsic gas and the block gas limit,
    executing the transaction about a dozen times; on the embedded chain that was a third
    of the demo's time. This runs it once at the block gas limit (an error there is the
    transaction's own, and is raised as py-evm's estimator raises it), then checks
    ``(used + refund + 2300) * 64 / 63``, the gas a call needs when each nested call may
    only forward 63/64 of what is left. Only when that guess runs out of gas does it fall
    back to py-evm's bisection.
    """
    from eth.estimators.gas import _get_computation_error, binary_gas_search
    from eth.vm.spoof import SpoofTransaction

    limit = state.gas_limit
    snapshot = state.snapshot()
    try:
        computation = state.apply_transaction(SpoofTransaction(transaction, gas=limit, gas_price=0))
        if computation.is_error:
            raise computation.error
        needed = transaction.intrinsic_gas + computation.get_gas_used()
        refund = computation.get_gas_refund()
    finally:
        state.revert(snapshot)
    guess = min(limit, (needed + refund + 2300) * 64 // 63)
    checked: Any = SpoofTransaction(transaction, gas=guess)
    if _get_computation_error(state, checked) is None:
        return int(guess)
    return int(binary_gas_search(state, transaction, tolerance=1000))


def _indexed_pyevm_backend() -> Any:
    """Return eth-tester's py-evm back end with transactions found through py-evm's index.

    eth-tester 0.14 finds a transaction by walking every block back from the head, so each
    receipt (and each log, which carries its transaction's receipt data) costs O(chain
    length): after a thousand blocks a log query took seconds. py-evm keeps a
    hash → (block, index) index of canonical transactions; this back end uses it. Gas is
    estimated with :func:`_estimate_gas` (two executions instead of a dozen).
    """
    from eth.exceptions import TransactionNotFound as EvmTransactionNotFound
    from eth_tester import PyEVMBackend
    from eth_tester.backends.pyevm.serializers import (
        serialize_transaction,
        serialize_transaction_receipt,
    )
    from eth_tester.exceptions import TransactionNotFound

    class IndexedPyEVMBackend(PyEVMBackend):  # type: ignore[misc]
        def _find(self, transaction_hash: bytes) -> tuple[Any, Any, int]:
            head = self.chain.get_block()  # the pending block: not indexed yet
            for index, transaction in enumerate(head.transactions):
                if transaction.hash == transaction_hash:
                    return head, transaction, index
            try:
                number, index = self.chain.chaindb.get_transaction_index(transaction_hash)
            except EvmTransactionNotFound as exc:
                raise TransactionNotFound(
                    f"No transaction found for transaction hash: 0x{transaction_hash.hex()}"
                ) from exc
            block = self.chain.get_canonical_block_by_number(number)
            return block, block.transactions[index], index

        def estimate_gas(self, transaction: Any, block_number: Any = "latest") -> Any:
            self.chain.gas_estimator = _estimate_gas  # the chain is rebuilt on a revert
            return super().estimate_gas(transaction, block_number)

        def get_transaction_by_hash(self, transaction_hash: bytes) -> Any:
            block, transaction, index = self._find(transaction_hash)
            pending = block.number == self.chain.get_block().number
            return serialize_transaction(block, transaction, index, pending)

        def get_transaction_receipt(self, transaction_hash: bytes) -> Any:
            block, transaction, index = self._find(transaction_hash)
            pending = block.number == self.chain.get_block().number
            receipts = block.get_receipts(self.chain.chaindb)
            return serialize_transaction_receipt(
                block, receipts, transaction, index, pending, self.chain.get_vm()
            )

    return IndexedPyEVMBackend


def _bloomed_tester() -> Any:
    """Return eth-tester's ``EthereumTester`` with log queries that skip blocks by bloom.

    eth-tester answers ``eth_getLogs`` by fetching every block in the range and every
    receipt in it, then normalising every log before filtering: a query from a contract's
    deploy block cost O(chain length) receipts, and the providers' cursors and the
    readers' history queries were a fifth of the demo's time. This subclass answers the
    same queries with the same filter: it skips a mined block whose header's logs bloom
    (Ethereum yellow paper, section 4.3.1) cannot hold any of the queried addresses, and
    keeps each mined block's normalised logs by block hash (a revert that replaces a block
    replaces its hash).
    """
    from functools import partial

    from eth_bloom.bloom import BloomFilter
    from eth_tester import EthereumTester
    from eth_tester.utils.filters import Filter, check_if_log_matches

    class BloomedEthereumTester(EthereumTester):  # type: ignore[misc]
        KEEP_BLOCKS = 4096

        def __init__(self, backend: Any) -> None:
            super().__init__(backend)
            self._block_logs: dict[bytes, list[Any]] = {}

        def _raw_logs(self, number: int) -> list[Any]:
            block = self.get_block_by_number(number)
            return [
                self.normalizer.normalize_inbound_log_entry(entry)
                for tx_hash in block["transactions"]
                for entry in self.get_transaction_receipt(tx_hash)["logs"]
            ]

        def _mined_logs(self, number: int, wanted: tuple[bytes, ...]) -> list[Any]:
            header = self.backend.chain.get_canonical_block_header_by_number(number)
            if wanted:
                bloom = BloomFilter(header.bloom)
                if not any(address in bloom for address in wanted):
                    return []
            logs = self._block_logs.get(header.hash)
            if logs is None:
                logs = self._block_logs[header.hash] = self._raw_logs(number)
                if len(self._block_logs) > self.KEEP_BLOCKS:
                    del self._block_logs[next(iter(self._block_logs))]
            return logs

        def _bound(self, raw: Any) -> int:
            if isinstance(raw, int):
                return raw
            return int(self.get_block_by_number("latest" if raw is None else raw)["number"])

        def get_logs(
            self,
            from_block: Any = None,
            to_block: Any = None,
            address: Any = None,
            topics: Any = None,
        ) -> tuple[Any, ...]:
            self.validator.validate_inbound_filter_params(
                from_block=from_block, to_block=to_block, address=address, topics=topics
            )
            raw_from, raw_to, raw_address, raw_topics = (
                self.normalizer.normalize_inbound_filter_params(
                    from_block=from_block, to_block=to_block, address=address, topics=topics
                )
            )
            params = {
                "from_block": raw_from,
                "to_block": raw_to,
                "addresses": raw_address,
                "topics": raw_topics,
            }
            found = Filter(filter_params=params, filter_fn=partial(check_if_log_matches, **params))
            if raw_address is None:
                wanted: tuple[bytes, ...] = ()
            elif isinstance(raw_address, bytes):
                wanted = (raw_address,)
            else:
                wanted = tuple(raw_address)
            head = int(self.backend.chain.get_canonical_head().block_number)
            for number in range(self._bound(raw_from), self._bound(raw_to) + 1):
                entries = (
                    self._mined_logs(number, wanted) if number <= head else self._raw_logs(number)
                )
                for entry in entries:
                    found.add(entry)
            return tuple(self.normalizer.normalize_outbound_log_entry(i) for i in found.get_all())

    return BloomedEthereumTester


class _SerialTesterProvider(EthereumTesterProvider):
    """eth-tester's provider with one request at a time.

    py-evm's state is not thread-safe; an HTTP server answering from worker threads (a
    provider or gateway running on the embedded chain) would otherwise interleave two
    transactions' state changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.serial = threading.RLock()
        """Held for each request; hold it to act on ``ethereum_tester`` directly."""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self.serial:
            return super().make_request(method, params)


class EmbeddedBackend(_DevChainBackend):
    """py-evm in this process through eth-tester; transactions are mined immediately.

    Requests are serialised, so threads may share the chain (one request at a time).
    """

    name = "embedded"

    def mine(self, w3: Web3, blocks: int) -> None:
        """Mine ``blocks`` empty blocks in py-evm.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.
        blocks
            How many.
        """
        provider = w3.provider
        assert isinstance(provider, _SerialTesterProvider)
        tester = provider.ethereum_tester
        assert tester is not None
        with provider.serial:
            tester.mine_blocks(blocks)

    def advance_time(self, w3: Web3, seconds: int) -> None:
        """Move py-evm's clock forward and mine one block at the new time.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.
        seconds
            How far; the next block's timestamp is the head's plus this.
        """
        provider = w3.provider
        assert isinstance(provider, _SerialTesterProvider)
        tester = provider.ethereum_tester
        assert tester is not None
        with provider.serial:
            head = int(w3.eth.get_block("latest")["timestamp"])
            tester.time_travel(head + seconds)
            if int(w3.eth.get_block("latest")["timestamp"]) < head + seconds:
                tester.mine_blocks(1)

    def snapshot(self, w3: Web3) -> Any:
        """Record py-evm's state (eth-tester's snapshot); :meth:`revert` returns to it.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.

        Returns
        -------
        Any
            The snapshot id.
        """
        provider = w3.provider
        assert isinstance(provider, _SerialTesterProvider)
        tester = provider.ethereum_tester
        assert tester is not None
        with provider.serial:
            return tester.take_snapshot()

    def revert(self, w3: Web3, snapshot: Any) -> None:
        """Return py-evm to ``snapshot``.

        Parameters
        ----------
        w3
            The connection :meth:`start` returned.
        snapshot
            What :meth:`snapshot` returned.
        """
        provider = w3.provider
        assert isinstance(provider, _SerialTesterProvider)
        tester = provider.ethereum_tester
        assert tester is not None
        with provider.serial:
            tester.revert_to_snapshot(snapshot)

    def start(self) -> Web3:
        """Create a fresh in-memory chain with the development accounts funded.

        Returns
        -------
        Web3
            Connected to the embedded chain.
        """
        backend = _indexed_pyevm_backend()(mnemonic=DEV_MNEMONIC, hd_path="m/44'/60'/0'/0")
        provider = _SerialTesterProvider(_bloomed_tester()(backend))
        provider.cache_allowed_requests = True  # the chain id only, as for HTTP
        provider.cacheable_requests = {RPCEndpoint("eth_chainId")}
        return Web3(provider)
