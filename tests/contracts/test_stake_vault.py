"""StakeVault: staking, unbonding, withdrawal, slashing — and the accounting invariant."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from ledgerlearn.ledger import Chain, StakingParameters, deploy_protocol, revert_error_class
from ledgerlearn.training import TrainingClient

TOKEN = 10**18
SLASHER = keccak(text="SLASHER_ROLE")


def _vault_env(chain: Chain, unbonding: int = 5):
    deployer = chain.accounts[0]
    manifest = deploy_protocol(
        chain, deployer, staking=StakingParameters(unbonding_blocks=unbonding)
    )
    client = TrainingClient(chain, manifest)
    stakers = chain.accounts[1:4]
    for key in stakers:
        chain.sender(deployer).transact(client.token.functions.transfer(key.address, 1_000 * TOKEN))
    return deployer, manifest, client, stakers


def test_stake_unbond_withdraw_and_named_errors(chain: Chain) -> None:
    _, _, client, (alice, bob, _) = _vault_env(chain)
    client.stake(alice, 100 * TOKEN)
    assert client.stake_of(alice.address) == 100 * TOKEN
    with pytest.raises(revert_error_class("StakeVaultInsufficientStake")):
        client.unbond(alice, 101 * TOKEN)
    release = client.unbond(alice, 40 * TOKEN)
    with pytest.raises(revert_error_class("StakeVaultNothingToWithdraw")) as caught:
        client.withdraw(alice)
    assert caught.value.arguments["nextReleaseBlock"] == release
    chain.mine(5)
    assert client.withdraw(alice) == 40 * TOKEN
    assert client.stake_of(alice.address) == 60 * TOKEN
    with pytest.raises(revert_error_class("StakeVaultZeroAmount")):
        chain.sender(bob).transact(client.vault.functions.stake(0))


def test_only_slashers_slash_with_evidence_and_unbonding_stake_is_slashable(chain: Chain) -> None:
    deployer, manifest, client, (alice, bob, _) = _vault_env(chain)
    client.stake(alice, 100 * TOKEN)
    client.unbond(alice, 70 * TOKEN)
    slash = client.vault.functions.slash(alice.address, 50 * TOKEN, b"\x01" * 32)
    with pytest.raises(revert_error_class("AccessControlUnauthorizedAccount")):
        chain.sender(bob).transact(slash)
    with pytest.raises(revert_error_class("AccessControlUnauthorizedAccount")):
        chain.sender(deployer).transact(client.vault.functions.grantRole(SLASHER, bob.address))
    # Only the timelock administers the vault; the coordinator is its slasher.
    assert client.vault.functions.hasRole(SLASHER, client.coordinator.address).call()
    timelock = manifest.get_address("ProtocolTimelock")
    assert client.vault.functions.hasRole(b"\x00" * 32, timelock).call()
    assert client.vault.functions.parameters().call()[1] == timelock


class _VaultOnly(TrainingClient):
    """The client's stake methods over a bare token and vault."""

    def __init__(self, chain: Chain, token: object, vault: object) -> None:
        self.chain, self.token, self.vault = chain, token, vault  # type: ignore[assignment]
        from collections import Counter

        self.gas, self.calls = Counter(), Counter()


class VaultMachine(RuleBasedStateMachine):
    """Random stakes, unbonds, withdrawals, blocks and slashes keep the books balanced."""

    def __init__(self) -> None:
        super().__init__()
        self.chain = Chain()
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
        self.client = _VaultOnly(self.chain, token, vault)

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
            with pytest.raises(revert_error_class("StakeVaultInsufficientStake")):
                self.client.unbond(key, amount * TOKEN)

    @rule(who=st.integers(0, 1))
    def withdraw(self, who: int) -> None:
        try:
            self.client.withdraw(self.stakers[who])
        except revert_error_class("StakeVaultNothingToWithdraw"):
            pass

    @rule(blocks=st.integers(1, 4))
    def mine(self, blocks: int) -> None:
        self.chain.mine(blocks)

    @rule(who=st.integers(0, 1), amount=st.integers(1, 80))
    def slash(self, who: int, amount: int) -> None:
        self.chain.sender(self.deployer).transact(
            self.client.vault.functions.slash(
                self.stakers[who].address, amount * TOKEN, b"\x09" * 32
            )
        )

    @invariant()
    def books_balance(self) -> None:
        totals = self.client.vault_totals()
        assert totals["totalDeposited"] == (
            totals["totalActive"]
            + totals["totalUnbonding"]
            + totals["totalWithdrawn"]
            + totals["totalSlashed"]
        )
        held = self.client.token.functions.balanceOf(self.client.vault.address).call()
        assert held == totals["totalActive"] + totals["totalUnbonding"]
        f = self.client.vault.functions
        per_account = sum(
            f.stakeOf(k.address).call() + f.unbondingOf(k.address).call() for k in self.stakers[:2]
        )
        assert per_account == totals["totalActive"] + totals["totalUnbonding"]


VaultMachine.TestCase.settings = settings(
    max_examples=6,
    stateful_step_count=14,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_vault_accounting_invariant = VaultMachine.TestCase
