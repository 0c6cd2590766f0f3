from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlearn.exceptions import InvalidVrfProofError, VrfError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.randomness import P256_SHA256_TAI, SECP256K1_SHA256_TAI, VrfKey

SUITES = [SECP256K1_SHA256_TAI, P256_SHA256_TAI]
secrets = st.integers(min_value=1, max_value=SECP256K1_SHA256_TAI.group.n - 1)


@given(secret=secrets, alpha=st.binary(max_size=80))
@settings(max_examples=30, deadline=None)
def test_secp256k1_prove_verify_and_uniqueness(secret: int, alpha: bytes) -> None:
    key = VrfKey.from_secret(secret)
    beta, pi = key.evaluate(alpha)
    assert SECP256K1_SHA256_TAI.verify(key.public_key_bytes, pi, alpha) == beta
    assert key.prove(alpha) == pi  # deterministic nonce: one proof per input


@pytest.mark.parametrize("suite", SUITES, ids=lambda s: s.name)
def test_tampered_proofs_do_not_verify(suite: object) -> None:
    from ledgerlearn.randomness import EcvrfSuite

    assert isinstance(suite, EcvrfSuite)
    key = VrfKey.from_secret(123456789, suite)
    pi = key.prove(b"seed")
    for position in (0, 1, 20, 33, 40, 48, 70, len(pi) - 1):
        tampered = bytearray(pi)
        tampered[position] ^= 0x01
        with pytest.raises(InvalidVrfProofError):
            suite.verify(key.public_key_bytes, bytes(tampered), b"seed")


def test_wrong_key_wrong_input_and_malformed_proofs() -> None:
    suite = SECP256K1_SHA256_TAI
    key, other = VrfKey.from_secret(7), VrfKey.from_secret(8)
    pi = key.prove(b"round-1")
    with pytest.raises(InvalidVrfProofError, match="does not verify"):
        suite.verify(other.public_key_bytes, pi, b"round-1")
    with pytest.raises(InvalidVrfProofError, match="does not verify"):
        suite.verify(key.public_key_bytes, pi, b"round-2")
    with pytest.raises(InvalidVrfProofError, match="81 bytes"):
        suite.verify(key.public_key_bytes, pi[:-1], b"round-1")
    unreduced = pi[:49] + suite.group.n.to_bytes(32, "big")
    with pytest.raises(InvalidVrfProofError, match="reduced"):
        suite.verify(key.public_key_bytes, unreduced, b"round-1")
    off_curve = b"\x02" + (5).to_bytes(32, "big") + pi[33:]
    with pytest.raises(InvalidVrfProofError, match="Gamma"):
        suite.verify(key.public_key_bytes, off_curve, b"round-1")
    with pytest.raises(InvalidVrfProofError, match="public key"):
        suite.verify(b"\x02" + (5).to_bytes(32, "big"), pi, b"round-1")


def test_keys_derive_from_identity_deterministically_and_separately() -> None:
    identity = Secp256k1Key.generate()
    first, second = VrfKey.derive(identity.unsafe_secret()), VrfKey.derive(identity.unsafe_secret())
    assert first.public_key == second.public_key
    assert first.secret != int.from_bytes(identity.unsafe_secret(), "big")
    assert VrfKey.derive(Secp256k1Key.generate().unsafe_secret()).public_key != first.public_key
    assert str(first.secret) not in repr(first)


def test_out_of_range_secret_is_refused() -> None:
    with pytest.raises(VrfError):
        VrfKey.from_secret(0)
    with pytest.raises(VrfError):
        VrfKey.from_secret(SECP256K1_SHA256_TAI.group.n)


def test_group_arithmetic_agrees_between_backends() -> None:
    from ledgerlearn.randomness._groups import SECP256K1, WeierstrassGroup

    generic = WeierstrassGroup(
        "secp256k1", SECP256K1.p, SECP256K1.n, 0, 7, SECP256K1.g.x, SECP256K1.g.y
    )
    point = SECP256K1.base_mul(0xC0FFEE)
    assert generic.base_mul(0xC0FFEE) == point
    assert generic.mul(12345, point) == SECP256K1.mul(12345, point)
    assert generic.add(point, SECP256K1.g) == SECP256K1.add(point, SECP256K1.g)
    assert generic.add(point, point) == SECP256K1.mul(2, point)
    assert SECP256K1.add(point, SECP256K1.neg(point)) is None
