"""The embedded chain: indexed lookups, bloom-skipping log queries, two-run gas estimates, and
one request at a time across threads."""

from __future__ import annotations

import threading

import pytest
from eth_tester import EthereumTester
from eth_utils import keccak
from web3.exceptions import TransactionNotFound
from web3.types import Wei

from ledgerlearn.ledger import Chain
from ledgerlearn.staking import StakingClient, TokenClient
from tests.conftest import Deployment


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


def test_log_queries_skip_blocks_by_bloom_and_answer_as_eth_tester_does(
    deployment: Deployment,
) -> None:
    chain, manifest = deployment.chain, deployment.manifest
    tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    addresses = [record.address for record in manifest.contracts.values()]
    token = manifest.get_address("LedgerToken")
    transfer = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
    snapshot = chain.snapshot()
    TokenClient(chain, manifest).transfer(deployment.deployer, deployment.alice.address, 5)
    queries: list[dict[str, object]] = [
        {"from_block": 0, "to_block": "latest"},
        {"from_block": 0, "to_block": "latest", "address": token},
        {"from_block": 0, "to_block": "latest", "address": addresses[:3]},
        {"from_block": 3, "to_block": 9, "address": addresses},
        {"from_block": 0, "to_block": "latest", "address": token, "topics": [transfer]},
        {"from_block": 0, "to_block": "latest", "topics": [[transfer], None]},
        {"from_block": "latest", "to_block": "latest", "address": token},
    ]

    def both(query: dict[str, object]) -> tuple[list[object], list[object]]:
        ours = list(tester.get_logs(**query))
        theirs = list(EthereumTester.get_logs(tester, **query))
        return ours, theirs

    for query in queries:
        ours, theirs = both(query)
        assert ours == theirs, query
    assert both(queries[1])[0]  # the token's own logs are found, not skipped
    through_web3 = chain.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": token})
    assert len(through_web3) == len(both(queries[1])[0])
    assert not both({"from_block": 0, "to_block": "latest", "address": "0x" + "ab" * 20})[0]
    # A revert replaces blocks: their cached logs are not served again.
    chain.revert(snapshot)
    chain.sender(deployment.bob).send({"to": deployment.alice.address, "value": Wei(1)})
    for query in queries:
        ours, theirs = both(query)
        assert ours == theirs, query


def test_gas_estimates_suffice_and_stay_near_the_exact_minimum(deployment: Deployment) -> None:
    from eth.estimators.gas import binary_gas_search_exact
    from eth.vm.spoof import SpoofTransaction

    chain, manifest = deployment.chain, deployment.manifest
    tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    token = TokenClient(chain, manifest)
    staking = StakingClient(chain, manifest)
    token.approve(deployment.deployer, staking.address, 10**18)
    calls = [
        token.contract.functions.transfer(deployment.alice.address, 7),
        staking.contract.functions.stake(10**18),  # pulls tokens through a nested call
    ]
    for function in calls:
        tx = {
            "from": deployment.deployer.address,
            "to": function.address,
            "data": function._encode_transaction_data(),
        }
        estimate = int(chain.w3.eth.estimate_gas(tx))  # type: ignore[arg-type]
        evm_chain = tester.backend.chain
        unsigned = tester.backend._get_normalized_and_unsigned_evm_transaction(
            {**tester.normalizer.normalize_inbound_transaction(tx), "gas": 21_000}, "latest"
        )
        spoofed = SpoofTransaction(unsigned, from_=bytes.fromhex(tx["from"][2:]))
        with evm_chain.get_vm().in_costless_state() as state:
            exact = binary_gas_search_exact(state, spoofed)
        assert exact <= estimate <= exact * 1.1, function.fn_name
        # The estimate itself, without the sender's margin, is enough.
        receipt = chain.sender(deployment.deployer).send({**tx, "gas": estimate})  # type: ignore[typeddict-item]
        assert receipt["status"] == 1
