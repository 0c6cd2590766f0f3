"""Parameters of the inference oracle, set at deployment and changed by governance.

Trust assumption: the timelock is the only account that may change them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OracleParameters"]


@dataclass(frozen=True, slots=True)
class OracleParameters:
    """Rules of the inference oracle.

    Attributes
    ----------
    min_provider_stake
        Least stake (token units) in the vault a provider needs to be drawn for a request.
    """

    min_provider_stake: int = 100 * 10**18
