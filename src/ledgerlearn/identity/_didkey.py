"""did:key: DIDs that are their own public key.

Implements the W3C CCG did:key method (w3c-ccg.github.io/did-method-key): the method-specific
id is multibase base58btc (``z``) of the multicodec-prefixed public key — ``ed25519-pub``
(0xed) or ``secp256k1-pub`` (0xe7, compressed). Resolution builds the DID document locally;
an Ed25519 DID also gets its X25519 key-agreement key (``x25519-pub``, 0xec). Documents use
the suites of the method's published test vectors (``Ed25519VerificationKey2018``,
``X25519KeyAgreementKey2019``, ``EcdsaSecp256k1VerificationKey2019``) and are checked
against them.

Trust assumption: none beyond the key itself; a did:key cannot be rotated or revoked, so
long-lived identities use did:ethr on the IdentityRegistry instead.
"""

from __future__ import annotations

from typing import Any

import base58
from nacl import bindings as sodium
from pydid import DIDDocument

from ledgerlearn.exceptions import InvalidDidError, InvalidKeyError, UnsupportedDidMethodError
from ledgerlearn.keys import Ed25519Key, KeyType, Secp256k1Key
from ledgerlearn.types import Did

__all__ = ["did_key_document", "did_key_from_key", "did_key_public_key", "resolve_did_key"]

_ED25519 = b"\xed\x01"
_SECP256K1 = b"\xe7\x01"
_X25519 = b"\xec\x01"
_PREFIX = "did:key:"


def _multibase(prefix: bytes, key: bytes) -> str:
    return "z" + base58.b58encode(prefix + key).decode("ascii")


def did_key_from_key(key: Ed25519Key | Secp256k1Key) -> Did:
    """Return the did:key of a key pair.

    Parameters
    ----------
    key
        An Ed25519 or secp256k1 key.

    Returns
    -------
    Did
        ``did:key:z6Mk...`` (Ed25519) or ``did:key:zQ3s...`` (secp256k1).
    """
    prefix = _ED25519 if isinstance(key, Ed25519Key) else _SECP256K1
    return Did(_PREFIX + _multibase(prefix, key.public_key))


def did_key_public_key(did: str) -> tuple[KeyType, bytes]:
    """Decode a did:key into its key type and public key.

    Parameters
    ----------
    did
        A did:key DID (a DID URL fragment is ignored).

    Returns
    -------
    tuple[KeyType, bytes]
        ``("ed25519", 32 bytes)`` or ``("secp256k1", 33 compressed bytes)``.

    Raises
    ------
    InvalidDidError
        If ``did`` is not a well-formed did:key.
    UnsupportedDidMethodError
        If it is another method or a key type ledgerlearn does not use.
    """
    did = did.split("#", 1)[0]
    if not did.startswith("did:"):
        raise InvalidDidError(f"{did!r} is not a DID (it must start with 'did:')")
    if not did.startswith(_PREFIX):
        method = did.split(":")[1] if did.count(":") >= 2 else "?"
        raise UnsupportedDidMethodError(f"{did!r} uses method {method!r}; expected did:key")
    ident = did[len(_PREFIX) :]
    if not ident.startswith("z"):
        raise InvalidDidError(f"{did!r}: did:key ids are base58btc multibase (start with 'z')")
    try:
        raw = base58.b58decode(ident[1:])
    except ValueError as exc:
        raise InvalidDidError(f"{did!r}: not valid base58btc") from exc
    if raw[:2] == _ED25519 and len(raw) == 34:
        return "ed25519", raw[2:]
    if raw[:2] == _SECP256K1 and len(raw) == 35:
        try:
            from coincurve import PublicKey

            PublicKey(raw[2:])
        except ValueError as exc:
            raise InvalidKeyError(f"{did!r}: not a point on secp256k1") from exc
        return "secp256k1", raw[2:]
    raise UnsupportedDidMethodError(
        f"{did!r}: key type 0x{raw[:2].hex()} is not supported (use Ed25519 or secp256k1)"
    )


def did_key_document(did: str) -> dict[str, Any]:
    """Build the JSON-LD DID document of a did:key.

    Parameters
    ----------
    did
        A did:key DID.

    Returns
    -------
    dict[str, Any]
        The document as in the did:key method's test vectors.
    """
    key_type, public_key = did_key_public_key(did)
    did = did.split("#", 1)[0]
    ident = did[len(_PREFIX) :]
    signing_id = f"{did}#{ident}"
    if key_type == "ed25519":
        x25519 = bytes(sodium.crypto_sign_ed25519_pk_to_curve25519(public_key))
        agreement_id = f"{did}#{_multibase(_X25519, x25519)}"
        context = [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/ed25519-2018/v1",
            "https://w3id.org/security/suites/x25519-2019/v1",
        ]
        methods = [
            _method(signing_id, "Ed25519VerificationKey2018", did, public_key),
            _method(agreement_id, "X25519KeyAgreementKey2019", did, x25519),
        ]
    else:
        agreement_id = signing_id
        context = [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/secp256k1-2019/v1",
        ]
        methods = [_method(signing_id, "EcdsaSecp256k1VerificationKey2019", did, public_key)]
    return {
        "@context": context,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [signing_id],
        "authentication": [signing_id],
        "capabilityInvocation": [signing_id],
        "capabilityDelegation": [signing_id],
        "keyAgreement": [agreement_id],
    }


def _method(method_id: str, kind: str, controller: str, key: bytes) -> dict[str, str]:
    return {
        "id": method_id,
        "type": kind,
        "controller": controller,
        "publicKeyBase58": base58.b58encode(key).decode("ascii"),
    }


def resolve_did_key(did: str) -> DIDDocument:
    """Resolve a did:key to a pydid :class:`~pydid.DIDDocument`.

    Parameters
    ----------
    did
        A did:key DID.

    Returns
    -------
    pydid.DIDDocument
        The validated document.
    """
    return DIDDocument.deserialize(did_key_document(did))
