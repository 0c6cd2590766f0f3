"""Sealed-box transport: only listed readers open an update, for its own context only."""

from __future__ import annotations

import pytest

from ledgerlearn.exceptions import EnvelopeError
from ledgerlearn.identity._didkey import _multibase
from ledgerlearn.training import (
    UpdateContext,
    derive_agreement_key,
    key_agreement_keys,
    open_update,
    seal_update,
)

CONTEXT = UpdateContext(31337, "0x" + "11" * 20, 4, 2, "0x" + "22" * 20)


def _readers(n: int) -> list:
    return [derive_agreement_key(bytes([i + 1]) * 32) for i in range(n)]


def test_every_reader_opens_and_the_envelope_hides_the_plaintext() -> None:
    keys = _readers(3)
    plaintext = b"update bytes " * 1000
    envelope = seal_update(
        plaintext, CONTEXT, {f"k{i}": bytes(k.public_key) for i, k in enumerate(keys)}
    )
    assert plaintext[:64] not in envelope
    for key in keys:
        assert open_update(envelope, CONTEXT, key) == plaintext


def test_outsider_wrong_context_and_tampering_are_refused() -> None:
    reader, outsider = _readers(2)
    envelope = seal_update(b"secret", CONTEXT, {"k": bytes(reader.public_key)})
    with pytest.raises(EnvelopeError, match="not encrypted to this node"):
        open_update(envelope, CONTEXT, outsider)
    other = UpdateContext(31337, CONTEXT.coordinator, 4, 2, "0x" + "33" * 20)
    with pytest.raises(EnvelopeError, match="another trainer or round"):
        open_update(envelope, other, reader)
    tampered = envelope[:-1] + bytes([envelope[-1] ^ 1])
    with pytest.raises(EnvelopeError, match="tampered"):
        open_update(tampered, CONTEXT, reader)
    with pytest.raises(EnvelopeError, match="not a ledgerlearn"):
        open_update(b"plain", CONTEXT, reader)


def test_sealing_needs_a_reader() -> None:
    with pytest.raises(EnvelopeError, match="no key-agreement keys"):
        seal_update(b"x", CONTEXT, {})


def test_key_agreement_keys_follow_references_into_verification_methods() -> None:
    key = derive_agreement_key(b"\x07" * 32)
    public = bytes(key.public_key)
    document = {
        "verificationMethod": [
            {"id": "did:x#controller", "type": "EcdsaSecp256k1RecoveryMethod2020"},
            {
                "id": "did:x#delegate-1",
                "type": "X25519KeyAgreementKey2020",
                "publicKeyMultibase": _multibase(b"\xec\x01", public),
            },
        ],
        "keyAgreement": ["did:x#delegate-1"],
    }
    assert key_agreement_keys(document) == {"did:x#delegate-1": public}
    assert key_agreement_keys({"keyAgreement": []}) == {}
