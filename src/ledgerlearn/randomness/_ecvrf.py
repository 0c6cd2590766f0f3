"""ECVRF: elliptic-curve verifiable random functions, as RFC 9381 specifies them.

Implements RFC 9381 Section 5 (ECVRF prove, proof-to-hash, verify) with the
try-and-increment encode-to-curve (5.4.1.1), RFC 6979 nonce generation (5.4.2.1), the
five-point challenge (5.4.3) and the proof encoding of 5.5, for two suites:

- ``ECVRF-P256-SHA256-TAI`` (suite string 0x01, RFC 9381 Section 5.5): checked against every
  test vector of RFC 9381 Appendix B.1, which proves the generic code.
- ``ECVRF-SECP256K1-SHA256-TAI`` (suite string 0xFE, not defined by the RFC): the same
  procedures on secp256k1, compatible with SEDA Protocol's vrf-rs implementation
  (github.com/sedaprotocol/vrf-rs, ``src/tests/ECVRF_SECP256K1_SHA256_TAI.json``), whose
  published vectors — prove and verify — pass here byte for byte. This is the suite the
  contracts verify (``contracts/randomness/EcVrf.sol``).

Trust assumption: the prover may be malicious. A proof verifies only for the unique output
``beta`` of the prover's key on ``alpha``, so a key holder can withhold an output but cannot
choose it; the beacon handles withholding with deadlines and fallback fulfilment. Secret
scalars are multiplied in libsecp256k1 (constant-time) for the secp256k1 suite; the P-256
suite uses variable-time Python arithmetic and is for interoperability tests only.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from ledgerlearn.exceptions import InvalidVrfProofError, VrfError
from ledgerlearn.randomness._groups import P256, SECP256K1, Group, Point

__all__ = [
    "P256_SHA256_TAI",
    "SECP256K1_SHA256_TAI",
    "EcvrfSuite",
    "InvalidVrfProofError",
    "VerificationHelpers",
    "VrfError",
    "VrfKey",
]


@dataclass(frozen=True, slots=True)
class VerificationHelpers:
    """Points an on-chain verifier needs so it can check, not compute, scalar products.

    Attributes
    ----------
    gamma
        The proof's Gamma, uncompressed.
    h
        ``encode_to_curve(Y, alpha)`` — recomputed on chain, supplied for gas-free checks.
    u
        ``s*B - c*Y``.
    s_h
        ``s*H``.
    c_gamma
        ``c*Gamma``.
    c, s
        The proof's scalars.
    """

    gamma: Point
    h: Point
    u: Point
    s_h: Point
    c_gamma: Point
    c: int
    s: int


@dataclass(frozen=True, slots=True)
class EcvrfSuite:
    """One ECVRF ciphersuite (RFC 9381 Section 5.5).

    Attributes
    ----------
    name
        The suite's name.
    suite_string
        Its one-byte identifier.
    group
        The elliptic-curve group.
    c_len
        Bytes of the challenge.
    """

    name: str
    suite_string: int
    group: Group
    c_len: int = 16

    @property
    def q_len(self) -> int:
        """Bytes of a scalar."""
        return (self.group.n.bit_length() + 7) // 8

    @property
    def proof_len(self) -> int:
        """Bytes of ``pi``: a compressed point, c and s."""
        return self.group.field_bytes + 1 + self.c_len + self.q_len

    @staticmethod
    def _hash(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    # --- RFC 9381 Section 5.4 building blocks -------------------------------------------------

    def encode_to_curve(self, public_key: Point, alpha: bytes) -> Point:
        """ECVRF_encode_to_curve_try_and_increment (Section 5.4.1.1).

        Parameters
        ----------
        public_key
            ``Y``; its encoding is the salt.
        alpha
            The VRF input.

        Returns
        -------
        Point
            ``H``.
        """
        prefix = bytes([self.suite_string, 0x01]) + self.group.encode(public_key) + alpha
        for ctr in range(256):
            digest = self._hash(prefix + bytes([ctr, 0x00]))
            point = self.group.decode(b"\x02" + digest)
            if point is not None:
                return point  # both suites have cofactor 1
        raise VrfError("encode_to_curve found no point in 256 tries")  # probability 2^-256

    def nonce(self, secret: int, h_string: bytes) -> int:
        """ECVRF_nonce_generation_RFC6979 (Section 5.4.2.1): RFC 6979 Section 3.2.

        Parameters
        ----------
        secret
            The secret scalar ``x``.
        h_string
            ``point_to_string(H)``.

        Returns
        -------
        int
            The nonce ``k`` in ``[1, q-1]``.
        """
        q = self.group.n
        rolen = self.q_len
        h1 = int.from_bytes(self._hash(h_string), "big")
        h1 >>= max(0, 256 - q.bit_length())
        bx = secret.to_bytes(rolen, "big") + (h1 % q).to_bytes(rolen, "big")
        v = b"\x01" * 32
        k = b"\x00" * 32
        k = hmac.new(k, v + b"\x00" + bx, hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()
        k = hmac.new(k, v + b"\x01" + bx, hashlib.sha256).digest()
        v = hmac.new(k, v, hashlib.sha256).digest()
        while True:
            t = b""
            while len(t) < rolen:
                v = hmac.new(k, v, hashlib.sha256).digest()
                t += v
            candidate = int.from_bytes(t[:rolen], "big") >> max(0, 8 * rolen - q.bit_length())
            if 1 <= candidate < q:
                return candidate
            k = hmac.new(k, v + b"\x00", hashlib.sha256).digest()
            v = hmac.new(k, v, hashlib.sha256).digest()

    def challenge(self, *points: Point) -> int:
        """ECVRF_challenge_generation (Section 5.4.3) over ``Y, H, Gamma, U, V``.

        Parameters
        ----------
        *points
            The five points in order.

        Returns
        -------
        int
            ``c``, the first ``cLen`` bytes of the hash as an integer.
        """
        data = bytes([self.suite_string, 0x02])
        data += b"".join(self.group.encode(point) for point in points) + b"\x00"
        return int.from_bytes(self._hash(data)[: self.c_len], "big")

    def gamma_to_hash(self, gamma: Point) -> bytes:
        """Hash a decoded Gamma to the VRF output (proof-to-hash, Section 5.2).

        Parameters
        ----------
        gamma
            The proof's Gamma.

        Returns
        -------
        bytes
            ``beta``, 32 bytes.
        """
        return self._hash(bytes([self.suite_string, 0x03]) + self.group.encode(gamma) + b"\x00")

    def decode_proof(self, pi: bytes) -> tuple[Point, int, int]:
        """ECVRF_decode_proof (Section 5.4.4).

        Parameters
        ----------
        pi
            The proof string.

        Returns
        -------
        tuple[Point, int, int]
            ``(Gamma, c, s)``.

        Raises
        ------
        InvalidVrfProofError
            If the length, the point or ``s`` is invalid.
        """
        if len(pi) != self.proof_len:
            raise InvalidVrfProofError(
                f"a {self.name} proof is {self.proof_len} bytes, got {len(pi)}"
            )
        point_len = self.group.field_bytes + 1
        gamma = self.group.decode(pi[:point_len])
        if gamma is None:
            raise InvalidVrfProofError("Gamma is not a point on the curve")
        c = int.from_bytes(pi[point_len : point_len + self.c_len], "big")
        s = int.from_bytes(pi[point_len + self.c_len :], "big")
        if s >= self.group.n:
            raise InvalidVrfProofError("s is not reduced modulo the group order")
        return gamma, c, s

    # --- Section 5.1-5.3 ----------------------------------------------------------------------

    def prove(self, key: VrfKey, alpha: bytes) -> bytes:
        """ECVRF_prove (Section 5.1).

        Parameters
        ----------
        key
            The prover's key (of this suite's group).
        alpha
            The input.

        Returns
        -------
        bytes
            ``pi``.
        """
        group = self.group
        h = self.encode_to_curve(key.public_key, alpha)
        h_string = group.encode(h)
        gamma = group.mul(key.secret, h)
        k = self.nonce(key.secret, h_string)
        c = self.challenge(key.public_key, h, gamma, group.base_mul(k), group.mul(k, h))
        s = (k + c * key.secret) % group.n
        return group.encode(gamma) + c.to_bytes(self.c_len, "big") + s.to_bytes(self.q_len, "big")

    def proof_to_hash(self, pi: bytes) -> bytes:
        """ECVRF_proof_to_hash (Section 5.2); call only on verified proofs.

        Parameters
        ----------
        pi
            The proof.

        Returns
        -------
        bytes
            ``beta``.
        """
        gamma, _, _ = self.decode_proof(pi)
        return self.gamma_to_hash(gamma)

    def validate_key(self, public_key: bytes | Point) -> Point:
        """ECVRF_validate_key (Section 5.4.5): on the curve, not the identity.

        Parameters
        ----------
        public_key
            ``PK_string`` or a point.

        Returns
        -------
        Point
            ``Y``.

        Raises
        ------
        InvalidVrfProofError
            If the key is not a valid point.
        """
        point = self.group.decode(public_key) if isinstance(public_key, bytes) else public_key
        if point is None or not self.group.is_on_curve(point):
            raise InvalidVrfProofError("the VRF public key is not a point on the curve")
        return point

    def verify(self, public_key: bytes | Point, pi: bytes, alpha: bytes) -> bytes:
        """ECVRF_verify (Section 5.3) with key validation.

        Parameters
        ----------
        public_key
            ``Y`` (compressed string or point).
        pi
            The proof.
        alpha
            The input.

        Returns
        -------
        bytes
            ``beta`` for a valid proof.

        Raises
        ------
        InvalidVrfProofError
            If the proof does not verify.
        """
        return self.gamma_to_hash(self.helpers(public_key, pi, alpha).gamma)

    def helpers(self, public_key: bytes | Point, pi: bytes, alpha: bytes) -> VerificationHelpers:
        """Verify ``pi`` and return the points an on-chain verifier checks.

        Parameters
        ----------
        public_key, pi, alpha
            As :meth:`verify`.

        Returns
        -------
        VerificationHelpers
            Gamma, H, U, s*H, c*Gamma, c and s.

        Raises
        ------
        InvalidVrfProofError
            If the proof does not verify.
        """
        group = self.group
        y = self.validate_key(public_key)
        gamma, c, s = self.decode_proof(pi)
        h = self.encode_to_curve(y, alpha)
        if s == 0 or c == 0:
            raise InvalidVrfProofError("degenerate proof (c or s is zero)")
        u = group.add(group.base_mul(s), group.neg(group.mul(c, y)))
        s_h = group.mul(s, h)
        c_gamma = group.mul(c, gamma)
        v = group.add(s_h, group.neg(c_gamma))
        if u is None or v is None or self.challenge(y, h, gamma, u, v) != c:
            raise InvalidVrfProofError(f"{self.name} proof does not verify for this key and input")
        return VerificationHelpers(gamma, h, u, s_h, c_gamma, c, s)


P256_SHA256_TAI = EcvrfSuite("ECVRF-P256-SHA256-TAI", 0x01, P256)
SECP256K1_SHA256_TAI = EcvrfSuite("ECVRF-SECP256K1-SHA256-TAI", 0xFE, SECP256K1)


@dataclass(frozen=True, slots=True)
class VrfKey:
    """An ECVRF key pair.

    Attributes
    ----------
    secret
        The secret scalar ``x`` (kept out of ``repr``).
    public_key
        ``Y = x*B``.
    suite
        The suite the key belongs to.
    """

    secret: int
    public_key: Point
    suite: EcvrfSuite

    def __repr__(self) -> str:
        return f"VrfKey({self.suite.name}, public={self.public_key_bytes.hex()})"

    @classmethod
    def from_secret(cls, secret: bytes | int, suite: EcvrfSuite = SECP256K1_SHA256_TAI) -> VrfKey:
        """Load a key from its secret scalar.

        Parameters
        ----------
        secret
            Big-endian bytes or an integer in ``[1, q-1]``.
        suite
            The suite (secp256k1 by default).

        Returns
        -------
        VrfKey
            The key.
        """
        x = int.from_bytes(secret, "big") if isinstance(secret, bytes) else secret
        if not 0 < x < suite.group.n:
            raise VrfError("a VRF secret must be in [1, q-1]")
        return cls(x, suite.group.base_mul(x), suite)

    @classmethod
    def derive(cls, identity_secret: bytes, suite: EcvrfSuite = SECP256K1_SHA256_TAI) -> VrfKey:
        """Derive the VRF key bound to an identity key (HKDF-SHA256, RFC 5869).

        The VRF key is separate from the signing key (no cross-protocol reuse) yet
        recoverable from it, and the beacon registers it from the identity's account, which
        binds the two on chain.

        Parameters
        ----------
        identity_secret
            The identity's secret key bytes.
        suite
            The suite.

        Returns
        -------
        VrfKey
            The derived key.
        """
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        counter = 0
        while True:
            okm = HKDF(
                algorithm=hashes.SHA256(),
                length=48,
                salt=b"ledgerlearn/vrf",
                info=f"{suite.name}/{counter}".encode(),
            ).derive(identity_secret)
            scalar = int.from_bytes(okm, "big") % suite.group.n
            if scalar:
                return cls.from_secret(scalar, suite)
            counter += 1  # pragma: no cover - probability 2^-256

    @property
    def public_key_bytes(self) -> bytes:
        """``PK_string``: the compressed public key."""
        return self.suite.group.encode(self.public_key)

    def prove(self, alpha: bytes) -> bytes:
        """Prove ``alpha``.

        Parameters
        ----------
        alpha
            The input.

        Returns
        -------
        bytes
            ``pi``.
        """
        return self.suite.prove(self, alpha)

    def evaluate(self, alpha: bytes) -> tuple[bytes, bytes]:
        """Return ``(beta, pi)`` for ``alpha``.

        Parameters
        ----------
        alpha
            The input.

        Returns
        -------
        tuple[bytes, bytes]
            The output and its proof.
        """
        pi = self.prove(alpha)
        return self.suite.proof_to_hash(pi), pi
