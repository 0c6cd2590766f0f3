"""Shared fixtures: real chains (embedded py-evm, anvil), real stores, real keys.

Deploying the protocol takes seconds, so each test process deploys it once per chain kind
and every test that asks for ``deployment`` (or ``devnet_deployment``) gets that deployment
reverted to the state right after it was made: the chain snapshots before the test and
reverts after it (eth-tester snapshots on the embedded chain, ``evm_snapshot`` on anvil).
A test that needs a chain of its own asks for ``chain``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from web3.contract import Contract

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest, DevnetBackend
from ledgerlearn.ledger._artifacts import project_root
from ledgerlearn.protocol import BeaconParameters, TokenParameters, deploy_protocol

ROOT = project_root() or Path(__file__).resolve().parents[1]
VECTORS = Path(__file__).parent / "vectors"


@pytest.fixture(scope="session", autouse=True)
def _srs_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Local EZKL SRSs in this run's temporary root, shared by the workers, not in ~/.cache."""
    base = tmp_path_factory.getbasetemp()
    run_root = base.parent if base.name.startswith("popen-") else base
    os.environ["LEDGERLEARN_SRS_CACHE"] = str(run_root / "srs-cache")


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


@pytest.fixture(scope="session")
def _embedded_deployment() -> Iterator[Deployment]:
    with Chain() as embedded:
        yield _deploy(embedded)


def _isolated(deployed: Deployment) -> Iterator[Deployment]:
    snapshot = deployed.chain.snapshot()
    try:
        yield deployed
    finally:
        deployed.chain.revert(snapshot)


@pytest.fixture
def deployment(_embedded_deployment: Deployment) -> Iterator[Deployment]:
    """The protocol on the embedded chain, as it was right after deployment."""
    yield from _isolated(_embedded_deployment)


@pytest.fixture(scope="session")
def devnet() -> Iterator[Chain]:
    """One anvil for the session's devnet tests."""
    with Chain(DevnetBackend()) as running:
        yield running


@pytest.fixture(scope="session")
def _devnet_deployment(devnet: Chain) -> Deployment:
    return _deploy(devnet)


@pytest.fixture
def devnet_deployment(_devnet_deployment: Deployment) -> Iterator[Deployment]:
    """The protocol on the session's anvil, as it was right after deployment."""
    yield from _isolated(_devnet_deployment)


# pytest-xdist (``--dist loadfile``) hands whole files to its workers in collection order:
# the longest files go first so that the short ones fill the gaps instead of a long one
# starting last. Longest first, as `make test`'s durations show them.
LONGEST_FIRST = (
    "tests/e2e/test_demo.py",
    "tests/e2e/test_proven.py",
    "tests/e2e/test_zk.py",
    "tests/e2e/test_training_processes.py",
    "tests/e2e/test_cli_zk.py",
    "tests/e2e/test_oracle_processes.py",
    "tests/e2e/test_demo_private.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put the files of :data:`LONGEST_FIRST` first, in that order (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        path = item.nodeid.split("::", 1)[0]
        return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)
