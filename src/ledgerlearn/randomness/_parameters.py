"""Parameters of the randomness beacon, fixed at deployment.

Trust assumption: chosen by the deployer once.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BeaconParameters"]


@dataclass(frozen=True, slots=True)
class BeaconParameters:
    """Rules of the randomness beacon.

    Attributes
    ----------
    minimum_bond
        Smallest bond (token units) a VRF key registers with.
    fulfilment_window
        Blocks after the seed block reserved for the assigned key.
    unbonding_blocks
        Blocks between deactivating a key and withdrawing its bond.
    """

    minimum_bond: int = 1_000 * 10**18
    fulfilment_window: int = 20
    unbonding_blocks: int = 200
