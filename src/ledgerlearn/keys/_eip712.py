"""EIP-712: typed structured data hashing and signing.

Implements EIP-712 (eips.ethereum.org/EIPS/eip-712) through eth-account's encoder, with the
one addition every ledgerlearn signature needs: the domain names the chain id and the
verifying contract, so a signature for one deployment cannot be replayed on another.

Trust assumption: signatures are checked on chain by OpenZeppelin's ``EIP712`` + ``ECDSA``
(low-s, no malleability); these helpers produce and check exactly what the contracts check.
"""

from __future__ import annotations

from typing import Any, TypedDict

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils import keccak, to_checksum_address

from ledgerlearn.exceptions import SignatureError
from ledgerlearn.keys._keys import Secp256k1Key
from ledgerlearn.types import Address

__all__ = [
    "Eip712Domain",
    "hash_typed_data",
    "recover_typed_data_signer",
    "sign_typed_data",
    "verify_typed_data",
]

TypeFields = dict[str, list[dict[str, str]]]


class Eip712Domain(TypedDict, total=False):
    """The EIP-712 domain separator's fields."""

    name: str
    version: str
    chainId: int
    verifyingContract: str
    salt: bytes


_DOMAIN_TYPES = {
    "name": "string",
    "version": "string",
    "chainId": "uint256",
    "verifyingContract": "address",
    "salt": "bytes32",
}


def _signable(
    domain: Eip712Domain, types: TypeFields, primary_type: str, message: dict[str, Any]
) -> SignableMessage:
    domain_fields = [{"name": k, "type": _DOMAIN_TYPES[k]} for k in _DOMAIN_TYPES if k in domain]
    full = {
        "types": {"EIP712Domain": domain_fields, **types},
        "domain": dict(domain),
        "primaryType": primary_type,
        "message": message,
    }
    try:
        return encode_typed_data(full_message=full)
    except (ValueError, TypeError, KeyError) as exc:
        raise SignatureError(f"typed data does not match its types: {exc}") from exc


def hash_typed_data(
    domain: Eip712Domain, types: TypeFields, primary_type: str, message: dict[str, Any]
) -> bytes:
    """Return the 32-byte EIP-712 digest ``keccak256(0x1901 || domainSeparator || hashStruct)``.

    Parameters
    ----------
    domain
        The domain (name, version, chainId, verifyingContract, salt as needed).
    types
        The struct types, without ``EIP712Domain``.
    primary_type
        The name of the signed struct.
    message
        The struct's values.

    Returns
    -------
    bytes
        The digest a signer signs.
    """
    signable = _signable(domain, types, primary_type, message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed_data(
    key: Secp256k1Key,
    domain: Eip712Domain,
    types: TypeFields,
    primary_type: str,
    message: dict[str, Any],
) -> bytes:
    """Sign typed data; return the 65-byte ``r || s || v`` signature.

    Parameters
    ----------
    key
        The signer.
    domain, types, primary_type, message
        As :func:`hash_typed_data`.

    Returns
    -------
    bytes
        The signature, ``v`` in {27, 28}.
    """
    return key.sign_hash(hash_typed_data(domain, types, primary_type, message))


def recover_typed_data_signer(
    signature: bytes,
    domain: Eip712Domain,
    types: TypeFields,
    primary_type: str,
    message: dict[str, Any],
) -> Address:
    """Recover the address that signed typed data.

    Parameters
    ----------
    signature
        65 bytes ``r || s || v``.
    domain, types, primary_type, message
        As :func:`hash_typed_data`.

    Returns
    -------
    Address
        The signer's checksummed address.

    Raises
    ------
    SignatureError
        If the signature is malformed.
    """
    signable = _signable(domain, types, primary_type, message)
    try:
        return to_checksum_address(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # eth-keys raises several unrelated types for bad input
        raise SignatureError(f"malformed EIP-712 signature: {exc}") from exc


def verify_typed_data(
    signature: bytes,
    expected_signer: str,
    domain: Eip712Domain,
    types: TypeFields,
    primary_type: str,
    message: dict[str, Any],
) -> None:
    """Check that ``expected_signer`` signed the typed data.

    Parameters
    ----------
    signature
        65 bytes ``r || s || v``.
    expected_signer
        The address that should have signed.
    domain, types, primary_type, message
        As :func:`hash_typed_data`.

    Raises
    ------
    SignatureError
        If the signature is malformed or made by someone else.
    """
    signer = recover_typed_data_signer(signature, domain, types, primary_type, message)
    if signer != to_checksum_address(expected_signer):
        raise SignatureError(f"typed data was signed by {signer}, not {expected_signer}")
