"""EcVrf.sol, WeightedSelection.sol and RandomnessBeacon.sol on the embedded EVM."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain
from ledgerlearn.ledger.errors import (
    BeaconAlreadyFulfilled,
    BeaconBondLocked,
    BeaconBondTooSmall,
    BeaconInvalidPublicKey,
    BeaconKeyAlreadyRegistered,
    BeaconNoEligibleKeys,
    BeaconNotAssigned,
    BeaconPurposeAlreadyRequested,
    BeaconSeedNotReady,
    BeaconSeedStillAvailable,
    BeaconSeedUnavailable,
    EcVrfInvalidHelper,
    EcVrfInvalidProof,
    EcVrfInvalidScalar,
    EcVrfPointNotOnCurve,
    WeightedSelectionTooFewCandidates,
)
from ledgerlearn.randomness import (
    SECP256K1_SHA256_TAI,
    BeaconClient,
    Point,
    VrfKey,
    purpose_id,
    select_indices,
    solidity_proof,
)
from tests.conftest import Deployment

SUITE = SECP256K1_SHA256_TAI
N = SUITE.group.n
P = SUITE.group.p


@dataclass
class Holder:
    account: Secp256k1Key
    vrf: VrfKey
    index: int


@pytest.fixture
def beacon(deployment: Deployment) -> BeaconClient:
    client = BeaconClient(deployment.chain, deployment.manifest)
    return client


def _holders(d: Deployment, beacon: BeaconClient, count: int = 3) -> list[Holder]:
    holders = []
    bond = beacon.minimum_bond
    for account in d.chain.accounts[3 : 3 + count]:
        d.chain.sender(d.deployer).transact(d.token.functions.transfer(account.address, bond))
        vrf = VrfKey.derive(account.unsafe_secret())
        holders.append(Holder(account, vrf, beacon.register_key(account, vrf, bond)))
    return holders


def _honest_helpers(public_key: Point, pi: bytes, alpha: bytes) -> tuple[int, ...]:
    """Helpers computed correctly for (key, alpha) from any proof, without verifying it."""
    g = SUITE.group
    gamma, c, s = SUITE.decode_proof(pi)
    h = SUITE.encode_to_curve(public_key, alpha)
    u = g.add(g.base_mul(s), g.neg(g.mul(c, public_key)))
    assert u is not None
    points = (u, g.mul(s, h), g.mul(c, gamma))
    return tuple(coordinate for point in points for coordinate in (point.x, point.y))


def _args(vrf: VrfKey, alpha: bytes) -> tuple[list[int], tuple[int, ...], bytes, tuple[int, ...]]:
    pi = vrf.prove(alpha)
    proof, helpers = solidity_proof(SUITE.helpers(vrf.public_key, pi, alpha))
    return [vrf.public_key.x, vrf.public_key.y], proof, alpha, helpers


# --- verifier -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def module_beacon() -> BeaconClient:
    from ledgerlearn.protocol import deploy_protocol

    chain = Chain()
    manifest = deploy_protocol(chain, chain.accounts[0])
    return BeaconClient(chain, manifest)


@given(secret=st.integers(1, N - 1), alpha=st.binary(max_size=64))
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_on_chain_verification_matches_python(
    module_beacon: BeaconClient, secret: int, alpha: bytes
) -> None:
    vrf = VrfKey.from_secret(secret)
    beta, pi = vrf.evaluate(alpha)
    assert module_beacon.verify_on_chain(vrf.public_key, pi, alpha) == beta


def test_tampered_proofs_revert_with_named_errors(module_beacon: BeaconClient) -> None:
    verify = module_beacon.contract.functions.verifyProof
    vrf, other = VrfKey.from_secret(1111), VrfKey.from_secret(2222)
    key, proof, alpha, helpers = _args(vrf, b"seed-A")

    # a valid proof for another seed: its own helpers fail, honest ones miss the challenge
    pi_b = vrf.prove(b"seed-B")
    _, proof_b, _, helpers_b = _args(vrf, b"seed-B")
    with pytest.raises(EcVrfInvalidHelper):
        module_beacon.chain.call(verify(key, proof_b, alpha, helpers_b))
    with pytest.raises(EcVrfInvalidProof):
        module_beacon.chain.call(
            verify(key, proof_b, alpha, _honest_helpers(vrf.public_key, pi_b, alpha))
        )
    # the right proof under another key
    with pytest.raises(EcVrfInvalidHelper) as caught:
        module_beacon.chain.call(
            verify([other.public_key.x, other.public_key.y], proof, alpha, helpers)
        )
    assert caught.value.arguments == {"which": 0}
    # another key with helpers recomputed for it: the challenge no longer matches
    pi = vrf.prove(alpha)
    y = other.public_key
    with pytest.raises(EcVrfInvalidProof):
        module_beacon.chain.call(verify([y.x, y.y], proof, alpha, _honest_helpers(y, pi, alpha)))
    # a helper that is not the product it claims
    bad_helpers = (*helpers[:2], *helpers[4:6], *helpers[4:6])
    with pytest.raises(EcVrfInvalidHelper):
        module_beacon.chain.call(verify(key, proof, alpha, bad_helpers))
    # points off the curve
    with pytest.raises(EcVrfPointNotOnCurve):
        module_beacon.chain.call(
            verify(key, (proof[0], proof[1] + 1, proof[2], proof[3]), alpha, helpers)
        )
    with pytest.raises(EcVrfPointNotOnCurve):
        module_beacon.chain.call(verify([key[0], key[1] ^ 1], proof, alpha, helpers))
    # scalars out of range
    with pytest.raises(EcVrfInvalidScalar):
        module_beacon.chain.call(verify(key, (proof[0], proof[1], proof[2], N), alpha, helpers))
    with pytest.raises(EcVrfInvalidScalar):
        module_beacon.chain.call(
            verify(key, (proof[0], proof[1], 1 << 128, proof[3]), alpha, helpers)
        )


@given(
    seed=st.binary(min_size=32, max_size=32),
    weights=st.lists(st.integers(0, 10**30), min_size=1, max_size=20),
    data=st.data(),
)
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_selection_is_bit_identical_in_solidity_and_python(
    module_beacon: BeaconClient, seed: bytes, weights: list[int], data: st.DataObject
) -> None:
    eligible = sum(1 for w in weights if w > 0)
    k = data.draw(st.integers(0, eligible))
    assert module_beacon.select_on_chain(seed, weights, k) == select_indices(seed, weights, k)


def test_selection_of_too_many_reverts(module_beacon: BeaconClient) -> None:
    with pytest.raises(WeightedSelectionTooFewCandidates) as caught:
        module_beacon.select_on_chain(b"\x01" * 32, [1, 0, 1], 3)
    assert caught.value.arguments == {"requested": 3, "eligible": 2}


# --- beacon ---------------------------------------------------------------------------


def test_request_fulfil_by_assigned_key(deployment: Deployment, beacon: BeaconClient) -> None:
    holders = _holders(deployment, beacon)
    request_id = beacon.request(deployment.deployer, purpose_id("round", 1, 1))
    seed = beacon.wait_for_seed(request_id)
    assigned = beacon.assigned_key(request_id)
    weights = [beacon.minimum_bond] * len(holders)
    from eth_abi import encode
    from eth_utils import keccak

    expected = select_indices(keccak(encode(["bytes32", "string"], [seed, "assign"])), weights, 1)[
        0
    ]
    assert assigned == expected
    holder = holders[assigned]
    fulfilment = beacon.fulfil(holder.account, holder.vrf, request_id)
    assert fulfilment.output == holder.vrf.evaluate(seed)[0] == beacon.output_of(request_id)
    assert fulfilment.key_index == assigned


def test_bad_fulfilments_revert_and_change_nothing(
    deployment: Deployment, beacon: BeaconClient
) -> None:
    d = deployment
    holders = _holders(d, beacon)
    request_id = beacon.request(d.deployer, purpose_id("audit", 7))
    with pytest.raises(BeaconPurposeAlreadyRequested):
        beacon.request(d.deployer, purpose_id("audit", 7))
    seed = beacon.wait_for_seed(request_id)
    assigned = holders[beacon.assigned_key(request_id)]
    other = next(h for h in holders if h.index != assigned.index)

    # an unassigned key before the deadline
    _, proof, _, helpers = _args(other.vrf, seed)
    with pytest.raises(BeaconNotAssigned):
        d.chain.sender(other.account).transact(
            beacon.contract.functions.fulfil(request_id, proof, helpers)
        )
    # the assigned key with a proof for another seed
    pi = assigned.vrf.prove(b"\x00" * 32)
    proof = SUITE.decode_proof(pi)
    proof_args = (proof[0].x, proof[0].y, proof[1], proof[2])
    helpers = _honest_helpers(assigned.vrf.public_key, pi, seed)
    with pytest.raises(EcVrfInvalidProof):
        d.chain.sender(assigned.account).transact(
            beacon.contract.functions.fulfil(request_id, proof_args, helpers)
        )
    assert beacon.request_state(request_id)["fulfilled"] is False

    beacon.fulfil(assigned.account, assigned.vrf, request_id)
    _, proof, _, helpers = _args(assigned.vrf, seed)
    with pytest.raises(BeaconAlreadyFulfilled):  # replay
        d.chain.sender(assigned.account).transact(
            beacon.contract.functions.fulfil(request_id, proof, helpers)
        )


def test_after_the_deadline_another_key_fulfils_and_the_miss_is_recorded(
    deployment: Deployment, beacon: BeaconClient
) -> None:
    holders = _holders(deployment, beacon)
    request_id = beacon.request(deployment.deployer, purpose_id("request", 99))
    beacon.wait_for_seed(request_id)
    assigned = beacon.assigned_key(request_id)
    state = beacon.request_state(request_id)
    deployment.chain.mine(int(state["deadline"]) - deployment.chain.block_number)
    backup = next(h for h in holders if h.index != assigned)
    receipt_before = beacon.contract.functions.getKey(assigned).call()
    fulfilment = beacon.fulfil(backup.account, backup.vrf, request_id)
    assert fulfilment.key_index == backup.index
    missed = beacon.contract.events.FulfilmentMissed().get_logs(from_block=fulfilment.block)
    assert [e["args"]["keyIndex"] for e in missed] == [assigned]
    assert beacon.contract.functions.getKey(assigned).call()[7] == receipt_before[7] + 1


def test_seed_is_not_ready_in_the_request_block(
    deployment: Deployment, beacon: BeaconClient
) -> None:
    holders = _holders(deployment, beacon, 1)
    request_id = beacon.request(deployment.deployer, purpose_id("early"))
    _, proof, _, helpers = _args(holders[0].vrf, b"guess")
    with pytest.raises(BeaconSeedNotReady):
        deployment.chain.sender(holders[0].account).transact(
            beacon.contract.functions.fulfil(request_id, proof, helpers)
        )


def test_expired_seed_block_can_be_refreshed(deployment: Deployment, beacon: BeaconClient) -> None:
    holders = _holders(deployment, beacon, 1)
    request_id = beacon.request(deployment.deployer, purpose_id("late"))
    with pytest.raises(BeaconSeedStillAvailable):
        deployment.chain.sender(deployment.deployer).transact(
            beacon.contract.functions.refreshSeed(request_id)
        )
    deployment.chain.mine(260)
    with pytest.raises(BeaconSeedUnavailable):
        beacon.chain.call(beacon.contract.functions.seedOf(request_id))
    deployment.chain.sender(deployment.deployer).transact(
        beacon.contract.functions.refreshSeed(request_id)
    )
    fulfilment = beacon.fulfil(holders[0].account, holders[0].vrf, request_id)
    assert fulfilment.output == beacon.output_of(request_id)


def test_key_registration_rules(deployment: Deployment, beacon: BeaconClient) -> None:
    d = deployment
    with pytest.raises(BeaconNoEligibleKeys):
        beacon.request(d.deployer, purpose_id("nobody"))
    vrf = VrfKey.derive(d.alice.unsafe_secret())
    d.chain.sender(d.deployer).transact(
        d.token.functions.transfer(d.alice.address, 2 * beacon.minimum_bond)
    )
    with pytest.raises(BeaconBondTooSmall):
        beacon.register_key(d.alice, vrf, beacon.minimum_bond - 1)
    with pytest.raises(BeaconInvalidPublicKey):
        d.chain.sender(d.alice).transact(
            beacon.contract.functions.registerKey([1, 2], beacon.minimum_bond)
        )
    beacon.register_key(d.alice, vrf)
    with pytest.raises(BeaconKeyAlreadyRegistered):
        beacon.register_key(d.alice, vrf)
    with pytest.raises(BeaconBondLocked):
        d.chain.sender(d.alice).transact(beacon.contract.functions.withdrawBond())
    d.chain.sender(d.alice).transact(beacon.contract.functions.deactivateKey())
    with pytest.raises(BeaconNoEligibleKeys):
        beacon.request(d.deployer, purpose_id("nobody"))
    d.chain.mine(beacon.contract.functions.parameters().call()[3])
    before = d.token.functions.balanceOf(d.alice.address).call()
    d.chain.sender(d.alice).transact(beacon.contract.functions.withdrawBond())
    assert d.token.functions.balanceOf(d.alice.address).call() == before + beacon.minimum_bond
