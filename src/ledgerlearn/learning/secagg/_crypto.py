"""Key agreement, key derivation, mask expansion and share encryption for secure aggregation.

- X25519 key agreement (RFC 7748) through libsodium (PyNaCl).
- HKDF-SHA256 (RFC 5869) turns a shared secret into single-purpose keys, bound to the round
  and the ordered pair of clients through ``info``.
- Masks are the ChaCha20 keystream (RFC 8439) under a 32-byte seed with a zero nonce and
  counter, read as little-endian unsigned 32-bit words: a cryptographically secure
  generator, never a general-purpose PRNG. Each seed is used for one mask only (the round id
  is in every derivation).
- Shares travel under ChaCha20-Poly1305 (RFC 8439) with the round and both client ids as
  associated data, so a share cannot be replayed into another round or pair.

Trust assumption: X25519, HKDF-SHA256 and ChaCha20(-Poly1305) are secure; private keys
never leave the client that made them except as Shamir shares.
"""

from __future__ import annotations

import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl import bindings as sodium
from nacl.exceptions import RuntimeError as NaclRuntimeError
from numpy.typing import NDArray

__all__ = [
    "derive_key",
    "expand_mask",
    "generate_keypair",
    "key_agreement",
    "open_box",
    "public_key",
    "seal_box",
]


def generate_keypair() -> tuple[bytes, bytes]:
    """Return a fresh X25519 ``(private, public)`` key pair (32 bytes each)."""
    public, private = sodium.crypto_box_keypair()
    return bytes(private), bytes(public)


def public_key(private: bytes) -> bytes:
    """Return the X25519 public key of a private key (RFC 7748 scalar mult of the base)."""
    return bytes(sodium.crypto_scalarmult_base(private))


def key_agreement(private: bytes, peer_public: bytes) -> bytes:
    """Return the X25519 shared secret of ``private`` and ``peer_public``.

    Raises
    ------
    ValueError
        If the peer's key is a low-order point (the shared secret would be all zeros).
    """
    try:
        shared = bytes(sodium.crypto_scalarmult(private, peer_public))
    except NaclRuntimeError as exc:  # libsodium refuses an all-zero result
        raise ValueError("peer public key is a low-order point") from exc
    if shared == bytes(32):
        raise ValueError("peer public key is a low-order point")
    return shared


def derive_key(secret: bytes, purpose: str, context: bytes) -> bytes:
    """Derive a 32-byte key for one purpose and context with HKDF-SHA256.

    Parameters
    ----------
    secret
        Input keying material (a shared secret or a seed).
    purpose
        What the key is for, e.g. ``"pairwise-mask"``.
    context
        The round id and client ids the key is bound to.

    Returns
    -------
    bytes
        32 bytes.
    """
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"ledgerlearn secagg v1",
        info=purpose.encode() + b"\x00" + context,
    )
    return hkdf.derive(secret)


def expand_mask(seed: bytes, length: int) -> NDArray[np.uint32]:
    """Expand a 32-byte seed into ``length`` uniform 32-bit words with ChaCha20.

    Parameters
    ----------
    seed
        The ChaCha20 key.
    length
        Words wanted.

    Returns
    -------
    numpy.ndarray
        ``(length,)`` uint32, the keystream read little-endian.
    """
    cipher = Cipher(algorithms.ChaCha20(seed, bytes(16)), mode=None).encryptor()
    stream = cipher.update(bytes(4 * length))
    return np.frombuffer(stream, dtype="<u4").astype(np.uint32)


def seal_box(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    """Encrypt and authenticate with ChaCha20-Poly1305 (a fresh key per box, zero nonce)."""
    return ChaCha20Poly1305(key).encrypt(bytes(12), plaintext, associated)


def open_box(key: bytes, ciphertext: bytes, associated: bytes) -> bytes:
    """Decrypt what :func:`seal_box` sealed; raises ``cryptography``'s ``InvalidTag``."""
    return ChaCha20Poly1305(key).decrypt(bytes(12), ciphertext, associated)
