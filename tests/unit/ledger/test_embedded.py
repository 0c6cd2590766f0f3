"""The embedded chain: indexed transaction lookups and one request at a time across threads."""

from __future__ import annotations

import threading

import pytest
from web3.exceptions import TransactionNotFound
from web3.types import Wei

from ledgerlearn.ledger import Chain


def test_transactions_and_receipts_are_found_by_hash_in_any_block() -> None:
    with Chain() as chain:
        sender, to = chain.accounts[0], chain.accounts[1]
        hashes = []
        for value in range(1, 6):
            receipt = chain.sender(sender).send({"to": to.address, "value": Wei(value)})
            hashes.append((receipt["transactionHash"], int(receipt["blockNumber"]), value))
            chain.mine(7)  # the transaction sinks below empty blocks
        for tx_hash, block, value in hashes:
            receipt = chain.w3.eth.get_transaction_receipt(tx_hash)
            transaction = chain.w3.eth.get_transaction(tx_hash)
            assert receipt["blockNumber"] == block == transaction["blockNumber"]
            assert receipt["transactionHash"] == tx_hash and transaction["value"] == value
            assert chain.w3.eth.get_block(block)["transactions"][0] == tx_hash
        with pytest.raises(TransactionNotFound):
            chain.w3.eth.get_transaction_receipt(b"\x01" * 32)


def test_threads_may_share_the_embedded_chain() -> None:
    with Chain() as chain:
        accounts = chain.accounts
        errors: list[BaseException] = []

        def send(index: int) -> None:
            try:
                for _ in range(15):
                    chain.sender(accounts[index]).send({"to": accounts[9].address, "value": Wei(1)})
                    chain.mine(1)
            except BaseException as exc:
                errors.append(exc)

        before = chain.w3.eth.get_balance(accounts[9].address)
        threads = [threading.Thread(target=send, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert chain.w3.eth.get_balance(accounts[9].address) == before + 60
