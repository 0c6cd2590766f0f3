"""Protocol deployment: the contracts a ledgerlearn network needs, in dependency order.

:func:`deploy_protocol` deploys every protocol contract from the packaged artifacts and
returns the :class:`~ledgerlearn.ledger.DeploymentManifest`. Later layers append their
contracts to :data:`PROTOCOL_CONTRACTS`' order as they land.

Trust assumption: the deployer is trusted once, at deployment: it becomes the token's admin
and first holder. Governance takes over as later contracts are added.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.ledger._chain import Chain
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest

__all__ = ["PROTOCOL_CONTRACTS", "BeaconParameters", "TokenParameters", "deploy_protocol"]

PROTOCOL_CONTRACTS = ("LedgerToken", "RandomnessBeacon")
"""Contracts of a deployment, in the order they are deployed."""


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


def deploy_protocol(
    chain: Chain,
    deployer: Secp256k1Key,
    token: TokenParameters | None = None,
    beacon: BeaconParameters | None = None,
) -> DeploymentManifest:
    """Deploy the protocol's contracts and return their manifest.

    Parameters
    ----------
    chain
        The chain to deploy to.
    deployer
        The deploying account; pays gas, becomes admin and first token holder.
    token
        Token supply parameters.
    beacon
        Randomness beacon rules.

    Returns
    -------
    DeploymentManifest
        Addresses and hashes of what was deployed; save it with
        :meth:`DeploymentManifest.save`.
    """
    token = token or TokenParameters()
    beacon = beacon or BeaconParameters()
    records: dict[str, ContractRecord] = {}
    token_contract, records["LedgerToken"] = chain.deploy(
        "LedgerToken",
        deployer.address,
        deployer.address,
        token.initial_supply,
        token.max_supply,
        sender=deployer,
    )
    _, records["RandomnessBeacon"] = chain.deploy(
        "RandomnessBeacon",
        token_contract.address,
        beacon.minimum_bond,
        beacon.fulfilment_window,
        beacon.unbonding_blocks,
        sender=deployer,
    )
    return DeploymentManifest(chain_id=chain.chain_id, deployer=deployer.address, contracts=records)
