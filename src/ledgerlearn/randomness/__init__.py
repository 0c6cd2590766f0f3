"""Randomness: ECVRF (RFC 9381), the on-chain beacon, and weighted selection.

:class:`VrfKey` and the suites ``SECP256K1_SHA256_TAI`` / ``P256_SHA256_TAI`` prove and
verify; :class:`BeaconClient` drives the RandomnessBeacon contract, which verifies proofs
on chain; :func:`select` picks committees exactly as the contracts do.

Trust assumption: nobody — requester, key holder, committee candidate — can steer an
output: seeds include a future block hash, VRF outputs are unique per key and seed, and the
contract verifies every proof. A key holder can withhold; deadlines and fallback
fulfilment handle that, and the miss is recorded for slashing.
"""

from ledgerlearn.randomness._beacon import BeaconClient, Fulfilment, purpose_id, solidity_proof
from ledgerlearn.randomness._ecvrf import (
    P256_SHA256_TAI,
    SECP256K1_SHA256_TAI,
    EcvrfSuite,
    VerificationHelpers,
    VrfKey,
)
from ledgerlearn.randomness._groups import Point
from ledgerlearn.randomness._parameters import BeaconParameters
from ledgerlearn.randomness._selection import select, select_indices

__all__ = [
    "BeaconParameters",
    "P256_SHA256_TAI",
    "SECP256K1_SHA256_TAI",
    "BeaconClient",
    "EcvrfSuite",
    "Fulfilment",
    "Point",
    "VerificationHelpers",
    "VrfKey",
    "purpose_id",
    "select",
    "select_indices",
    "solidity_proof",
]
