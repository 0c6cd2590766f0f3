"""StakeVault: staking, unbonding, withdrawal, slashing — and the accounting invariant."""

from __future__ import annotations

import contextlib

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from web3.contract import Contract

from ledgerlearn.ledger import Chain, ContractRecord, DeploymentManifest
from ledgerlearn.ledger.errors import (
    AccessControlUnauthorizedAccount,
    StakeVaultInsufficientStake,
    StakeVaultNothingToWithdraw,
    StakeVaultZeroAmount,
)
from ledgerlearn.protocol import StakingParameters, deploy_protocol
from ledgerlearn.staking import StakingClient
from tests.chains import fresh_chain

TOKEN = 10**18
SLASHER = keccak(text="SLASHER_ROLE")


def _vault_env(chain: Chain, unbonding: int = 5):
    deployer = chain.accounts[0]
    manifest = deploy_protocol(
        chain, deployer, staking=StakingParameters(unbonding_blocks=unbonding)
    )
    client = StakingClient(chain, manifest)
    stakers = chain.accounts[1:4]
    for key in stakers:
        chain.sender(deployer).transact(client.token.functions.transfer(key.address, 1_000 * TOKEN))
    return deployer, manifest, client, stakers


def test_stake_unbond_withdraw_and_named_errors(chain: Chain) -> None:
    _, _, client, (alice, bob, _) = _vault_env(chain)
    client.stake(alice, 100 * TOKEN)
    assert client.stake_of(alice.address) == 100 * TOKEN
    with pytest.raises(StakeVaultInsufficientStake):
        client.unbond(alice, 101 * TOKEN)
    release = client.unbond(alice, 40 * TOKEN)
    with pytest.raises(StakeVaultNothingToWithdraw) as caught:
        client.withdraw(alice)
    assert caught.value.arguments["nextReleaseBlock"] == release
    chain.mine(5)
    assert client.withdraw(alice) == 40 * TOKEN
    assert client.stake_of(alice.address) == 60 * TOKEN
    with pytest.raises(StakeVaultZeroAmount):
        chain.sender(bob).transact(client.functions.stake(0))


def test_only_slashers_slash_with_evidence_and_unbonding_stake_is_slashable(chain: Chain) -> None:
    deployer, manifest, client, (alice, bob, _) = _vault_env(chain)
    client.stake(alice, 100 * TOKEN)
    client.unbond(alice, 70 * TOKEN)
    slash = client.functions.slash(alice.address, 50 * TOKEN, b"\x01" * 32)
    with pytest.raises(AccessControlUnauthorizedAccount):
        chain.sender(bob).transact(slash)
    with pytest.raises(AccessControlUnauthorizedAccount):
        chain.sender(deployer).transact(client.functions.grantRole(SLASHER, bob.address))
    # Only the timelock administers the vault; the coordinator is its slasher.
    assert client.functions.hasRole(SLASHER, manifest.get_address("TrainingCoordinator")).call()
    timelock = manifest.get_address("ProtocolTimelock")
    assert client.functions.hasRole(b"\x00" * 32, timelock).call()
    assert client.functions.parameters().call()[1] == timelock


def _vault_only(chain: Chain, token: Contract, vault: Contract) -> StakingClient:
    """A staking client of a bare token and vault (no protocol around them)."""
    records = {
        name: ContractRecord(contract.address, 0, "", "", "")
        for name, contract in (("LedgerToken", token), ("StakeVault", vault))
    }
    return StakingClient(chain, DeploymentManifest(chain.chain_id, token.address, records))


class VaultMachine(RuleBasedStateMachine):
    """Random stakes, unbonds, withdrawals, blocks and slashes keep the books balanced."""

    def __init__(self) -> None:
        super().__init__()
        self.chain = fresh_chain()  # anvil: each example sends dozens of transactions
        deployer = self.deployer = self.chain.accounts[0]
        self.stakers = self.chain.accounts[1:4]
        token, _ = self.chain.deploy(
            "LedgerToken",
            deployer.address,
            deployer.address,
            10**6 * TOKEN,
            10**7 * TOKEN,
            sender=deployer,
        )
        # The deployer administers this test vault so it can act as the slasher.
        vault, _ = self.chain.deploy(
            "StakeVault",
            token.address,
            self.stakers[2].address,
            3,
            deployer.address,
            sender=deployer,
        )
        send = self.chain.sender(deployer).transact
        send(vault.functions.grantRole(SLASHER, deployer.address))
        for key in self.stakers[:2]:
            send(token.functions.transfer(key.address, 1_000 * TOKEN))
        self.client = _vault_only(self.chain, token, vault)

    def teardown(self) -> None:
        self.chain.close()

    @rule(who=st.integers(0, 1), amount=st.integers(1, 50))
    def stake(self, who: int, amount: int) -> None:
        self.client.stake(self.stakers[who], amount * TOKEN)

    @rule(who=st.integers(0, 1), amount=st.integers(1, 60))
    def unbond(self, who: int, amount: int) -> None:
        key = self.stakers[who]
        if amount * TOKEN <= self.client.stake_of(key.address):
            self.client.unbond(key, amount * TOKEN)
        else:
            with pytest.raises(StakeVaultInsufficientStake):
                self.client.unbond(key, amount * TOKEN)

    @rule(who=st.integers(0, 1))
    def withdraw(self, who: int) -> None:
        with contextlib.suppress(StakeVaultNothingToWithdraw):
            self.client.withdraw(self.stakers[who])

    @rule(blocks=st.integers(1, 4))
    def mine(self, blocks: int) -> None:
        self.chain.mine(blocks)

    @rule(who=st.integers(0, 1), amount=st.integers(1, 80))
    def slash(self, who: int, amount: int) -> None:
        self.chain.sender(self.deployer).transact(
            self.client.functions.slash(self.stakers[who].address, amount * TOKEN, b"\x09" * 32)
        )

    @invariant()
    def books_balance(self) -> None:
        totals = self.client.totals()
        assert totals.deposited == (
            totals.active + totals.unbonding + totals.withdrawn + totals.slashed
        )
        held = self.client.token.functions.balanceOf(self.client.address).call()
        assert held == totals.active + totals.unbonding
        f = self.client.functions
        per_account = sum(
            f.stakeOf(k.address).call() + f.unbondingOf(k.address).call() for k in self.stakers[:2]
        )
        assert per_account == totals.active + totals.unbonding


VaultMachine.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_vault_accounting_invariant = VaultMachine.TestCase
