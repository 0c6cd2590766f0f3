"""Identity: DIDs — who is who.

Every key of :mod:`ledgerlearn.keys` has a ``did:key``; long-lived identities use
``did:ethr`` on the IdentityRegistry (ERC-1056), whose keys rotate and revoke.

Trust assumption: a DID is only as trustworthy as the resolution path; did:key needs no
chain, did:ethr trusts the chain's consensus.
"""

from ledgerlearn.identity._didkey import (
    did_key_document,
    did_key_from_key,
    did_key_public_key,
    resolve_did_key,
)
from ledgerlearn.identity._ethr import (
    DELEGATE_AUTHENTICATION,
    DELEGATE_SIGNING,
    DidEthrResolution,
    EthrDid,
    address_of,
    attribute_name,
    ethr_did,
    parse_ethr_did,
)
from ledgerlearn.identity._ethr_registry import EthrDidRegistry, MetaSignature
from ledgerlearn.identity._ethr_resolver import EthrDidResolver

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
    "did_key_document",
    "did_key_from_key",
    "did_key_public_key",
    "resolve_did_key",
]
