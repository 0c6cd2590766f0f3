"""Identity: keys, DIDs and EIP-712 signatures — who is who.

secp256k1 keys are Ethereum accounts; Ed25519 keys sign off chain and give X25519 keys for
encryption. Both have a ``did:key``; long-lived identities use ``did:ethr`` on the
IdentityRegistry (ERC-1056), whose keys rotate and revoke. EIP-712 helpers sign exactly
what the contracts verify.

Trust assumption: a DID is only as trustworthy as the resolution path; did:key needs no
chain, did:ethr trusts the chain's consensus.
"""

from ledgerlearn.identity._didkey import (
    did_key_document,
    did_key_from_key,
    did_key_public_key,
    resolve_did_key,
)
from ledgerlearn.identity._eip712 import (
    Eip712Domain,
    hash_typed_data,
    recover_typed_data_signer,
    sign_typed_data,
    verify_typed_data,
)
from ledgerlearn.identity._ethr import (
    DELEGATE_AUTHENTICATION,
    DELEGATE_SIGNING,
    DidEthrResolution,
    EthrDid,
    EthrDidRegistry,
    EthrDidResolver,
    MetaSignature,
    address_of,
    attribute_name,
    ethr_did,
    parse_ethr_did,
)
from ledgerlearn.identity._keys import Ed25519Key, KeyType, Secp256k1Key, verify_ed25519
from ledgerlearn.identity._keystore import load_keystore, save_keystore

__all__ = [
    "DELEGATE_AUTHENTICATION",
    "DELEGATE_SIGNING",
    "DidEthrResolution",
    "EthrDid",
    "EthrDidRegistry",
    "EthrDidResolver",
    "MetaSignature",
    "address_of",
    "attribute_name",
    "ethr_did",
    "parse_ethr_did",
    "Ed25519Key",
    "Eip712Domain",
    "KeyType",
    "Secp256k1Key",
    "did_key_document",
    "did_key_from_key",
    "did_key_public_key",
    "hash_typed_data",
    "load_keystore",
    "recover_typed_data_signer",
    "resolve_did_key",
    "save_keystore",
    "sign_typed_data",
    "verify_ed25519",
    "verify_typed_data",
]
