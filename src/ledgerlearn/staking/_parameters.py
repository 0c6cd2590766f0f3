"""Parameters of the protocol token and the stake vault, fixed at deployment.

Trust assumption: chosen by the deployer once; the vault's admin afterwards is the timelock.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StakingParameters", "TokenParameters"]


@dataclass(frozen=True, slots=True)
class StakingParameters:
    """Rules of the stake vault.

    Attributes
    ----------
    unbonding_blocks
        Blocks between starting to unbond and withdrawing; unbonding stake stays slashable,
        so this should exceed the longest task a staker can take part in.
    """

    unbonding_blocks: int = 1_000


@dataclass(frozen=True, slots=True)
class TokenParameters:
    """Supply of the protocol token, in its smallest unit (18 decimals).

    Attributes
    ----------
    initial_supply
        Minted to the deployer at deployment.
    max_supply
        Cap on all future minting.
    """

    initial_supply: int = 100_000_000 * 10**18
    max_supply: int = 1_000_000_000 * 10**18
