"""Stakes: the StakeVault client — stake, unbond, withdraw, and what the vault holds.

Every role that can be slashed (trainer, aggregator, provider, auditor, verifier) keeps its
stake here; protocol modules holding the vault's slasher role take from it with evidence.
:class:`StakingClient` is what every node uses to bring its stake up to what a role needs.

Trust assumption: the vault contract keeps its accounting (tested as an invariant: active
plus unbonding plus withdrawn plus slashed equals deposits); stake that is unbonding stays
slashable until it is released.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.staking._token import TokenClient

__all__ = ["StakingClient", "Unbonding", "VaultTotals"]


@dataclass(frozen=True, slots=True)
class Unbonding:
    """One pending unbonding entry: ``amount`` withdrawable from ``release_block``."""

    amount: int
    release_block: int


@dataclass(frozen=True, slots=True)
class VaultTotals:
    """The vault's accounting totals (token units)."""

    deposited: int
    active: int
    unbonding: int
    withdrawn: int
    slashed: int


class StakingClient(ContractClient):
    """Stakes in the StakeVault of one deployment.

    Parameters
    ----------
    chain, deployment
        The chain and the deployment manifest (StakeVault, LedgerToken).
    """

    contract_name = "StakeVault"

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        super().__init__(chain, deployment)
        self.token = TokenClient(chain, deployment)

    def stake(self, key: Secp256k1Key, amount: int) -> None:
        """Approve and stake ``amount`` token units from ``key``'s account.

        Raises
        ------
        StakeVaultZeroAmount
            If ``amount`` is 0.
        ERC20InsufficientBalance
            If the account holds fewer tokens.
        """
        self.token.approve(key, self.address, amount)
        self._transact(key, self.functions.stake(amount))

    def ensure_stake(self, key: Secp256k1Key, minimum: int, *, top_up: int = 0) -> int:
        """Stake what ``key``'s account lacks to hold at least ``minimum``; return what was added.

        Parameters
        ----------
        key
            The staker.
        minimum
            The stake the role needs.
        top_up
            Stake at least this much when staking at all (a node's configured stake).

        Returns
        -------
        int
            Tokens staked now (0 when the stake was enough).
        """
        have = self.stake_of(key.address)
        if have >= minimum:
            return 0
        amount = max(top_up, minimum - have)
        self.stake(key, amount)
        return amount

    def unbond(self, key: Secp256k1Key, amount: int) -> int:
        """Start unbonding ``amount``; return the block from which it can be withdrawn."""
        receipt = self._transact(key, self.functions.unbond(amount))
        return int(self._receipt_event("UnbondingStarted", receipt)["args"]["releaseBlock"])

    def withdraw(self, key: Secp256k1Key) -> int:
        """Withdraw every released unbonding entry; return the amount.

        Raises
        ------
        StakeVaultNothingToWithdraw
            If no entry is released yet.
        """
        receipt = self._transact(key, self.functions.withdraw())
        return int(self._receipt_event("Withdrawn", receipt)["args"]["amount"])

    def stake_of(self, account: str) -> int:
        """Return ``account``'s active stake."""
        return self._call_int(self.functions.stakeOf(to_checksum_address(account)))

    def unbonding_of(self, account: str) -> int:
        """Return ``account``'s unbonding stake (still slashable), released or not."""
        return self._call_int(self.functions.unbondingOf(to_checksum_address(account)))

    def slashed_of(self, account: str) -> int:
        """Return everything ever slashed from ``account``."""
        return self._call_int(self.functions.slashedOf(to_checksum_address(account)))

    def unbonding_entries(self, account: str) -> list[Unbonding]:
        """Return ``account``'s pending unbonding entries, oldest first."""
        raw = self._call(self.functions.unbondingEntries(to_checksum_address(account)))
        return [Unbonding(int(amount), int(release)) for amount, release in raw]

    def unbonding_blocks(self) -> int:
        """Return the blocks between starting to unbond and withdrawing."""
        return int(self._call(self.functions.parameters())[2])

    def totals(self) -> VaultTotals:
        """Return the vault's accounting totals."""
        f = self.functions
        return VaultTotals(
            deposited=self._call_int(f.totalDeposited()),
            active=self._call_int(f.totalActive()),
            unbonding=self._call_int(f.totalUnbonding()),
            withdrawn=self._call_int(f.totalWithdrawn()),
            slashed=self._call_int(f.totalSlashed()),
        )
