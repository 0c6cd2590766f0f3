"""Staking: the protocol token and the StakeVault — stakes, unbonding, slashes.

:class:`StakingClient` stakes, unbonds and withdraws for every role that can be slashed;
:class:`TokenClient` approves and transfers the protocol token and signs EIP-2612 permits.
The parameters of both contracts are :class:`StakingParameters` and
:class:`TokenParameters`.

Trust assumption: the vault holds every stake and releases it only after unbonding; only
protocol modules holding its slasher role can take stake, and each slash carries evidence.
"""

from ledgerlearn.staking._parameters import StakingParameters, TokenParameters
from ledgerlearn.staking._token import PERMIT_TYPES, PermitSignature, TokenClient, sign_permit
from ledgerlearn.staking._vault import StakingClient, Unbonding, VaultTotals

__all__ = [
    "PERMIT_TYPES",
    "PermitSignature",
    "StakingClient",
    "StakingParameters",
    "TokenClient",
    "TokenParameters",
    "Unbonding",
    "VaultTotals",
    "sign_permit",
]
