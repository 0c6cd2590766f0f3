"""Private transport of training updates: one content key per update, sealed to each reader.

An update's plaintext (canonical safetensors bytes) is encrypted once with a fresh random
256-bit content key under XChaCha20-Poly1305 (IETF AEAD, libsodium via PyNaCl), with the
update's context (chain, coordinator, task, round, trainer) as associated data, so an
envelope cannot be replayed under another trainer's name or in another round. The content
key is then sealed to every reader's X25519 key-agreement key with libsodium sealed boxes
(``crypto_box_seal``: ephemeral X25519 + XSalsa20-Poly1305). Readers are the task's
aggregators, the candidates the committee is drawn from after commits close; their keys come
from the ``keyAgreement`` section of their did:ethr documents. Storage only ever holds the
envelope.

Envelope bytes: the magic ``LLSEAL1`` and a newline, a 4-byte big-endian header length,
the header as canonical JSON (recipients' key ids and sealed keys, nonce), then the
ciphertext.

Trust assumption: X25519 and XChaCha20-Poly1305 are secure; readers keep their key-agreement
secrets; the trainer encrypts to the keys the chain's DID documents name.
"""

from __future__ import annotations

import base64
import json
import os
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import base58
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt,
    crypto_aead_xchacha20poly1305_ietf_encrypt,
)
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from ledgerlearn.exceptions import EnvelopeError

__all__ = [
    "UpdateContext",
    "derive_agreement_key",
    "key_agreement_keys",
    "open_update",
    "open_update_keyed",
    "seal_update",
]

MAGIC = b"LLSEAL1\n"
_X25519_MULTICODEC = b"\xec\x01"


@dataclass(frozen=True, slots=True)
class UpdateContext:
    """What an update is for; bound into its ciphertext as associated data."""

    chain_id: int
    coordinator: str
    task: int
    round: int
    trainer: str

    def to_bytes(self) -> bytes:
        """Canonical encoding used as associated data."""
        return json.dumps(
            {
                "chainId": self.chain_id,
                "coordinator": self.coordinator.lower(),
                "round": self.round,
                "task": self.task,
                "trainer": self.trainer.lower(),
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()


def derive_agreement_key(identity_secret: bytes) -> PrivateKey:
    """Derive a node's X25519 key-agreement key from its identity secret (HKDF-SHA256).

    Parameters
    ----------
    identity_secret
        The 32-byte secp256k1 identity secret.

    Returns
    -------
    nacl.public.PrivateKey
        The X25519 private key; publish its public key as a did:ethr ``enc`` attribute.
    """
    okm = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"ledgerlearn/x25519", info=b"key-agreement"
    ).derive(identity_secret)
    return PrivateKey(okm)


def key_agreement_keys(document: Mapping[str, object]) -> dict[str, bytes]:
    """Return the X25519 key-agreement keys of a DID document by key id.

    Parameters
    ----------
    document
        A resolved DID document.

    Returns
    -------
    dict[str, bytes]
        Key id → 32-byte X25519 public key.
    """
    found: dict[str, bytes] = {}
    listed = cast(list[Any], document.get("verificationMethod") or [])
    methods = {str(m.get("id")): m for m in listed if isinstance(m, dict)}
    for entry in cast(list[Any], document.get("keyAgreement") or []):
        method = methods.get(entry) if isinstance(entry, str) else entry  # reference or embedded
        if not isinstance(method, dict) or method.get("type") != "X25519KeyAgreementKey2020":
            continue
        encoded = str(method.get("publicKeyMultibase", ""))
        if not encoded.startswith("z"):
            continue
        raw = base58.b58decode(encoded[1:])
        if raw.startswith(_X25519_MULTICODEC) and len(raw) == 34:
            found[str(method["id"])] = raw[2:]
    return found


def seal_update(plaintext: bytes, context: UpdateContext, readers: Mapping[str, bytes]) -> bytes:
    """Encrypt an update for ``readers``.

    Parameters
    ----------
    plaintext
        The update's bytes.
    context
        What it is for (bound as associated data).
    readers
        Key id → X25519 public key; at least one.

    Returns
    -------
    bytes
        The envelope.

    Raises
    ------
    EnvelopeError
        If there is no reader.
    """
    if not readers:
        raise EnvelopeError(
            "no key-agreement keys to encrypt the update to; the task's "
            "aggregators must publish X25519 keys in their DID documents"
        )
    content_key = os.urandom(32)
    nonce = os.urandom(24)
    ciphertext = crypto_aead_xchacha20poly1305_ietf_encrypt(
        plaintext, context.to_bytes(), nonce, content_key
    )
    recipients = [
        {
            "kid": kid,
            "key": base64.b64encode(SealedBox(PublicKey(pk)).encrypt(content_key)).decode(),
        }
        for kid, pk in sorted(readers.items())
    ]
    header = json.dumps(
        {"nonce": base64.b64encode(nonce).decode(), "recipients": recipients},
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + ciphertext


def open_update(envelope: bytes, context: UpdateContext, key: PrivateKey) -> bytes:
    """Decrypt an update sealed to ``key``.

    Parameters
    ----------
    envelope
        What :func:`seal_update` returned.
    context
        The context the update must be for.
    key
        The reader's X25519 private key.

    Returns
    -------
    bytes
        The plaintext.

    Raises
    ------
    EnvelopeError
        If the envelope is malformed, not sealed to ``key``, or fails authentication (tampered
        or made for another context).
    """
    return open_update_keyed(envelope, context, key)[0]


def open_update_keyed(
    envelope: bytes, context: UpdateContext, key: PrivateKey
) -> tuple[bytes, bytes]:
    """Decrypt an update sealed to ``key``; also return its 32-byte content key.

    The content key is random, and only the trainer and the envelope's readers know it: a
    committee uses the round's content keys as a shared secret none of the outsiders holds
    (the key of the central DP noise).

    Raises
    ------
    EnvelopeError
        As :func:`open_update`.
    """
    if not envelope.startswith(MAGIC) or len(envelope) < len(MAGIC) + 4:
        raise EnvelopeError("not a ledgerlearn update envelope")
    (length,) = struct.unpack(">I", envelope[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    try:
        header = json.loads(envelope[start : start + length])
        nonce = base64.b64decode(header["nonce"])
        sealed = [base64.b64decode(r["key"]) for r in header["recipients"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise EnvelopeError(f"malformed envelope header: {exc}") from exc
    box = SealedBox(key)
    content_key = None
    for candidate in sealed:
        try:
            content_key = box.decrypt(candidate)
            break
        except CryptoError:
            continue
    if content_key is None:
        raise EnvelopeError("the update is not encrypted to this node's key-agreement key")
    try:
        plaintext = crypto_aead_xchacha20poly1305_ietf_decrypt(
            envelope[start + length :], context.to_bytes(), nonce, content_key
        )
    except CryptoError as exc:
        raise EnvelopeError(
            "the update fails authentication: tampered, or sealed for another trainer or round"
        ) from exc
    return plaintext, content_key
