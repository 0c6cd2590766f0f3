"""Shared fixtures: real chains (embedded py-evm, anvil), real stores, real keys."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3.contract import Contract

from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.ledger import (
    BeaconParameters,
    Chain,
    DeploymentManifest,
    DevnetBackend,
    TokenParameters,
    deploy_protocol,
    project_root,
)

ROOT = project_root() or Path(__file__).resolve().parents[1]
VECTORS = Path(__file__).parent / "vectors"


@dataclass
class Deployment:
    chain: Chain
    manifest: DeploymentManifest
    token: Contract
    deployer: Secp256k1Key
    alice: Secp256k1Key
    bob: Secp256k1Key


def _deploy(chain: Chain) -> Deployment:
    deployer, alice, bob = chain.accounts[:3]
    manifest = deploy_protocol(
        chain,
        deployer,
        TokenParameters(initial_supply=1_000 * 10**18, max_supply=2_000 * 10**18),
        BeaconParameters(minimum_bond=10 * 10**18, fulfilment_window=5, unbonding_blocks=10),
    )
    token = chain.contract("LedgerToken", manifest.get_address("LedgerToken"))
    return Deployment(chain, manifest, token, deployer, alice, bob)


@pytest.fixture
def chain() -> Iterator[Chain]:
    with Chain() as embedded:
        yield embedded


@pytest.fixture
def deployment(chain: Chain) -> Deployment:
    return _deploy(chain)


@pytest.fixture(scope="session")
def devnet() -> Iterator[Chain]:
    """One anvil for the session's devnet tests."""
    with Chain(DevnetBackend()) as running:
        yield running


@pytest.fixture
def devnet_deployment(devnet: Chain) -> Deployment:
    return _deploy(devnet)
