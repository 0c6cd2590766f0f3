"""A node restarted while its transaction was pending waits for it and does not send twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlearn.exceptions import TransactionTimeoutError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.node import Node, NodeState
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.staking import StakingClient, TokenClient
from ledgerlearn.storage import LocalContentStore
from tests.chains import fresh_chain

TOKEN = 10**18
AMOUNT = 100 * TOKEN


class Staker(Node[NodeState]):
    """Stakes AMOUNT once: it reads its stake before it sends, as every role's action does.

    It sends through the client directly, not ``send``: the node journals every
    transaction its key signs, whichever code signs it.
    """

    role = "staker"

    def __init__(
        self, chain: Chain, manifest: DeploymentManifest, key: Secp256k1Key, state_dir: Path
    ) -> None:
        store = LocalContentStore(state_dir / "store")
        super().__init__(chain, manifest, store, key, state_dir, state_type=NodeState)
        self.staking = StakingClient(chain, manifest)

    def act(self, head: int) -> bool:
        if self.staking.stake_of(self.address) >= AMOUNT:
            return False
        self.staking._transact(self.key, self.staking.functions.stake(AMOUNT))
        return True


def test_a_transaction_pending_when_its_node_stopped_is_awaited_not_sent_again(
    tmp_path: Path,
) -> None:
    with fresh_chain() as chain:
        manifest = deploy_protocol(chain, chain.accounts[0])
        key = chain.accounts[4]
        token, staking = TokenClient(chain, manifest), StakingClient(chain, manifest)
        token.transfer(chain.accounts[0], key.address, 10 * AMOUNT)
        token.approve(key, staking.address, 10 * AMOUNT)
        chain.sender(key).timeout = 1.0
        chain.rpc("evm_setAutomine", [False])  # nothing is mined until the test says so

        with pytest.raises(TransactionTimeoutError):
            Staker(chain, manifest, key, tmp_path / "node").step()
        sent = chain.w3.eth.get_transaction_count(key.address, "pending")

        # Restarted from its state directory: the pending stake is not in stake_of yet, so
        # without the journal the node would stake a second time.
        again = Staker(chain, manifest, key, tmp_path / "node")
        assert len(again.state.unconfirmed) == 1
        with pytest.raises(TransactionTimeoutError):
            again.step()  # waits for the pending transaction; sends nothing
        assert chain.w3.eth.get_transaction_count(key.address, "pending") == sent

        chain.rpc("evm_setAutomine", [True])
        chain.mine(1)
        again.step()
        assert staking.stake_of(key.address) == AMOUNT
        assert again.state.unconfirmed == []
        assert [entry["event"] for entry in again.state.log] == ["settled"]
        assert chain.w3.eth.get_transaction_count(key.address, "latest") == sent


def test_a_journaled_transaction_the_node_refuses_does_not_block_the_node(
    tmp_path: Path,
) -> None:
    with fresh_chain() as chain:
        manifest = deploy_protocol(chain, chain.accounts[0])
        key = chain.accounts[5]
        token, staking = TokenClient(chain, manifest), StakingClient(chain, manifest)
        token.transfer(chain.accounts[0], key.address, 10 * AMOUNT)
        token.approve(key, staking.address, 10 * AMOUNT)
        node = Staker(chain, manifest, key, tmp_path / "node")
        # Left by an earlier run: signed with a fee the chain no longer accepts, and lost.
        nonce = chain.w3.eth.get_transaction_count(key.address)
        stale = key.account.sign_transaction(
            {
                "to": staking.address,
                "data": staking.functions.stake(AMOUNT)._encode_transaction_data(),
                "gas": 200_000,
                "maxFeePerGas": 1,
                "maxPriorityFeePerGas": 1,
                "nonce": nonce,
                "chainId": chain.chain_id,
                "value": 0,
            }
        )
        entry = [bytes(stale.hash).hex(), bytes(stale.raw_transaction).hex(), nonce]
        node.state.unconfirmed.append(entry)
        node.save()
        node.step()  # refused again: forgotten, and the role decides from the chain
        assert node.state.unconfirmed == []
        assert staking.stake_of(key.address) == AMOUNT
