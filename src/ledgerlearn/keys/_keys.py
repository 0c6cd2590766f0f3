"""Keys: secp256k1 (Ethereum accounts) and Ed25519 (with its X25519 key-agreement twin).

secp256k1 keys sign transactions and EIP-712 messages through eth-account; Ed25519 keys
(RFC 8032, via PyNaCl/libsodium) sign off-chain messages and convert to X25519 (RFC 7748)
for sealed-box encryption to a DID's key-agreement key.

Trust assumption: key material never leaves the process except encrypted
(:mod:`ledgerlearn.keys._keystore`); ``repr`` never shows a secret.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys as eth_keys
from eth_typing import Hash32
from nacl import bindings as sodium
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from ledgerlearn.exceptions import InvalidKeyError, SignatureError
from ledgerlearn.types import Address

__all__ = ["Ed25519Key", "KeyType", "Secp256k1Key", "verify_ed25519"]

KeyType = Literal["secp256k1", "ed25519"]

_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True, slots=True)
class Secp256k1Key:
    """A secp256k1 key pair: an Ethereum account.

    Attributes
    ----------
    account
        The eth-account signer, used to sign transactions and typed data.
    """

    account: LocalAccount = field(repr=False)
    key_type: KeyType = field(default="secp256k1", init=False)

    @classmethod
    def generate(cls) -> Secp256k1Key:
        """Create a new random key from the OS CSPRNG.

        Returns
        -------
        Secp256k1Key
            A fresh key.
        """
        return cls.from_secret(secrets.token_bytes(32))

    @classmethod
    def from_secret(cls, secret: bytes) -> Secp256k1Key:
        """Load a key from its 32-byte secret scalar.

        Parameters
        ----------
        secret
            The private key, big-endian.

        Returns
        -------
        Secp256k1Key
            The key.

        Raises
        ------
        InvalidKeyError
            If ``secret`` is not 32 bytes or not in ``[1, n-1]``.
        """
        if len(secret) != 32 or not 0 < int.from_bytes(secret, "big") < _SECP256K1_ORDER:
            raise InvalidKeyError("a secp256k1 secret is 32 bytes in [1, n-1]")
        return cls(Account.from_key(secret))

    @property
    def address(self) -> Address:
        """The EIP-55 checksummed Ethereum address."""
        return self.account.address

    @property
    def public_key(self) -> bytes:
        """The 33-byte SEC1 compressed public key."""
        return bytes(eth_keys.PrivateKey(self.account.key).public_key.to_compressed_bytes())

    def unsafe_secret(self) -> bytes:
        """Return the raw private key. Dangerous: only for encrypting it to a keystore.

        Returns
        -------
        bytes
            The 32-byte secret.
        """
        return bytes(self.account.key)

    def sign_hash(self, digest: bytes) -> bytes:
        """Sign a 32-byte digest with recoverable ECDSA (65 bytes ``r || s || v``).

        Parameters
        ----------
        digest
            The hash to sign; it must be a domain-separated hash (EIP-712 or EIP-191).

        Returns
        -------
        bytes
            The signature with ``v`` in {27, 28}.
        """
        if len(digest) != 32:
            raise InvalidKeyError("sign_hash takes a 32-byte digest")
        signed = self.account.unsafe_sign_hash(Hash32(digest))
        return bytes(signed.signature)


@dataclass(frozen=True, slots=True)
class Ed25519Key:
    """An Ed25519 key pair with its birationally equivalent X25519 key pair.

    Attributes
    ----------
    signing_key
        The PyNaCl signing key.
    """

    signing_key: SigningKey = field(repr=False)
    key_type: KeyType = field(default="ed25519", init=False)

    @classmethod
    def generate(cls) -> Ed25519Key:
        """Create a new random key.

        Returns
        -------
        Ed25519Key
            A fresh key.
        """
        return cls(SigningKey.generate())

    @classmethod
    def from_secret(cls, seed: bytes) -> Ed25519Key:
        """Load a key from its 32-byte RFC 8032 seed.

        Parameters
        ----------
        seed
            The private seed.

        Returns
        -------
        Ed25519Key
            The key.

        Raises
        ------
        InvalidKeyError
            If ``seed`` is not 32 bytes.
        """
        if len(seed) != 32:
            raise InvalidKeyError("an Ed25519 seed is 32 bytes")
        return cls(SigningKey(seed))

    @property
    def public_key(self) -> bytes:
        """The 32-byte Ed25519 public key."""
        return bytes(self.signing_key.verify_key)

    @property
    def x25519_public_key(self) -> bytes:
        """The 32-byte X25519 public key for key agreement."""
        return bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(self.public_key))

    def unsafe_x25519_private_key(self) -> bytes:
        """Return the X25519 private key. Dangerous: for sealed-box decryption only.

        Returns
        -------
        bytes
            32 bytes.
        """
        secret = self.signing_key.encode() + self.public_key
        return bytes(sodium.crypto_sign_ed25519_sk_to_curve25519(secret))

    def unsafe_secret(self) -> bytes:
        """Return the seed. Dangerous: only for encrypting it to a keystore.

        Returns
        -------
        bytes
            The 32-byte seed.
        """
        return bytes(self.signing_key.encode())

    def sign(self, message: bytes) -> bytes:
        """Sign ``message`` (pure Ed25519).

        Parameters
        ----------
        message
            The bytes to sign.

        Returns
        -------
        bytes
            The 64-byte signature.
        """
        return bytes(self.signing_key.sign(message).signature)


def verify_ed25519(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Check an Ed25519 signature.

    Parameters
    ----------
    public_key
        The signer's 32-byte public key.
    message
        The signed bytes.
    signature
        The 64-byte signature.

    Raises
    ------
    SignatureError
        If the signature is malformed or does not verify.
    """
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError) as exc:
        raise SignatureError("Ed25519 signature does not verify for this key") from exc
