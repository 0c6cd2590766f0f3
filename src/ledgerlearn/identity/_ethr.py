"""did:ethr: long-lived identities on the IdentityRegistry (ERC-1056).

Implements the did:ethr method (github.com/decentralized-identity/ethr-did-resolver,
``doc/did-method-spec.md``) over our ``IdentityRegistry`` contract, which has ERC-1056's
functions, meta-transaction message format and events:

- :func:`ethr_did` / :func:`parse_ethr_did` — ``did:ethr:<chainId>:<address or public key>``;
  the chain id is hex as in the method spec (decimal is accepted on input).
- :class:`~ledgerlearn.identity.EthrDidResolver` (``_ethr_resolver``) — reads
  ``changed(identity)`` at the requested block, walks the ``previousChange`` pointers
  backwards one log query per block, then replays the history forwards into a DID document:
  ``#controller`` (``EcdsaSecp256k1RecoveryMethod2020`` of the current owner), one
  ``#delegate-N`` per live delegate (``veriKey``: assertion; ``sigAuth``: authentication
  too) and per ``did/pub/<Algorithm>/<purpose>/<encoding>`` attribute (``Secp256k1`` → JWK,
  ``Ed25519``/``X25519`` → multibase; ``enc`` keys go to ``keyAgreement``), one
  ``#service-N`` per ``did/svc/<Type>`` attribute; an owner of 0x0 deactivates the
  identity. Numbering follows the reference resolver, so fragment ids match.
- :class:`~ledgerlearn.identity.EthrDidRegistry` (``_ethr_registry``) — every write, and
  its signed (meta-transaction) variant.

This module holds the method's syntax, attribute names and the document a history of
registry events builds; the two others talk to the contract.

Validity is the contract's: an entry is live at a block iff ``validTo`` is *after* that
block's timestamp (``validDelegate`` uses ``>``), so a revocation — which sets ``validTo``
to its block's timestamp — takes effect in the block it is mined in, also when resolving
"as of" that block. (The reference resolver uses ``>=`` against wall-clock time.)

Trust assumption: the chain's consensus. The resolver needs a node that serves historical
logs and state for the blocks it reads (an archive node for old blocks).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import base58
import coincurve
from eth_utils import keccak, to_checksum_address

from ledgerlearn.exceptions import InvalidDidError, UnsupportedDidMethodError
from ledgerlearn.types import Address, Did

if TYPE_CHECKING:
    from ledgerlearn.ledger import Chain

__all__ = [
    "DELEGATE_SIGNING",
    "DELEGATE_AUTHENTICATION",
    "DidEthrResolution",
    "EthrDid",
    "address_of",
    "attribute_name",
    "ethr_did",
    "parse_ethr_did",
]

DELEGATE_SIGNING = "veriKey"
"""Delegate type of keys that sign for an identity (assertionMethod)."""
DELEGATE_AUTHENTICATION = "sigAuth"
"""Delegate type of keys that also authenticate (and send transactions) for an identity."""

_ZERO = "0x" + "00" * 20
_DID_RE = re.compile(r"^did:ethr:(?:(?P<network>[^:]+):)?(?P<id>0x[0-9a-fA-F]+)$")
_ATTRIBUTE_RE = re.compile(r"^did/(pub|svc)/(\w+)(?:/(\w+))?(?:/(\w+))?$")
_VM_TYPES = {
    "Secp256k1": "EcdsaSecp256k1VerificationKey2019",
    "Ed25519": "Ed25519VerificationKey2020",
    "X25519": "X25519KeyAgreementKey2020",
}
_MULTICODEC = {"Ed25519VerificationKey2020": b"\xed\x01", "X25519KeyAgreementKey2020": b"\xec\x01"}
_CONTEXTS = {
    "EcdsaSecp256k1VerificationKey2019": "https://w3id.org/security/v2",
    "Ed25519VerificationKey2020": "https://w3id.org/security/suites/ed25519-2020/v1",
    "X25519KeyAgreementKey2020": "https://w3id.org/security/suites/x25519-2020/v1",
}


@dataclass(frozen=True, slots=True)
class EthrDid:
    """A parsed did:ethr.

    Attributes
    ----------
    chain_id
        The chain the identity lives on.
    address
        The identity's address (checksummed).
    public_key
        The compressed secp256k1 key when the DID was written in public-key form.
    """

    chain_id: int
    address: Address
    public_key: bytes | None = None

    @property
    def did(self) -> Did:
        """The canonical DID string (hex chain id, lower-case identifier)."""
        ident = "0x" + self.public_key.hex() if self.public_key else self.address.lower()
        return Did(f"did:ethr:{hex(self.chain_id)}:{ident}")


def ethr_did(chain_id: int, address: str) -> Did:
    """Return the canonical did:ethr of an address on a chain.

    Parameters
    ----------
    chain_id
        The chain id.
    address
        The identity's address.

    Returns
    -------
    Did
        ``did:ethr:0x<chain id>:0x<address, lower case>``.
    """
    return EthrDid(chain_id, to_checksum_address(address)).did


def parse_ethr_did(did: str, *, default_chain_id: int | None = None) -> EthrDid:
    """Parse ``did:ethr:[<chainId>:]<address | compressed public key>``.

    Parameters
    ----------
    did
        The DID (a fragment or query is ignored).
    default_chain_id
        The chain a DID without a network part refers to; without it such DIDs are refused
        (the method spec reads them as mainnet).

    Returns
    -------
    EthrDid
        Chain id, address and, for public-key DIDs, the key.

    Raises
    ------
    UnsupportedDidMethodError
        If it is not a did:ethr.
    InvalidDidError
        If the network or identifier is malformed.
    """
    base = did.split("#", 1)[0].split("?", 1)[0]
    if not base.startswith("did:ethr:"):
        raise UnsupportedDidMethodError(f"{did!r} is not a did:ethr")
    match = _DID_RE.match(base)
    if match is None:
        raise InvalidDidError(
            f"{did!r} is not did:ethr:<chainId>:<0x address or compressed public key>"
        )
    network, ident = match.group("network"), match.group("id")
    if network is None:
        if default_chain_id is None:
            raise InvalidDidError(f"{did!r} names no chain id; write did:ethr:<chainId>:{ident}")
        chain_id = default_chain_id
    else:
        try:
            chain_id = int(network, 16) if network.startswith("0x") else int(network)
        except ValueError as exc:
            raise InvalidDidError(
                f"{did!r}: network {network!r} is not a chain id (hex like 0x7a69 or decimal)"
            ) from exc
    raw = bytes.fromhex(ident[2:]) if len(ident) % 2 == 0 else b""
    if len(raw) == 20:
        return EthrDid(chain_id, to_checksum_address(ident))
    if len(raw) == 33 and raw[0] in (2, 3):
        try:
            point = coincurve.PublicKey(raw).format(compressed=False)
        except ValueError as exc:
            raise InvalidDidError(f"{did!r}: not a valid secp256k1 public key") from exc
        return EthrDid(chain_id, to_checksum_address(keccak(point[1:])[-20:]), raw)
    raise InvalidDidError(
        f"{did!r}: the identifier must be a 20-byte address or a 33-byte compressed key"
    )


def address_of(identity: str, chain_id: int) -> Address:
    """Return the address an identity names, given as an address or a did:ethr.

    Parameters
    ----------
    identity
        ``0x…`` or ``did:ethr:…`` (a DID without a chain id is read as ``chain_id``'s).
    chain_id
        The chain the caller is on; a did:ethr of another chain is refused.

    Returns
    -------
    Address
        The checksummed address.

    Raises
    ------
    InvalidDidError
        If it is a DID of another chain or malformed.
    """
    if not identity.startswith("did:"):
        try:
            return to_checksum_address(identity)
        except ValueError as exc:
            raise InvalidDidError(f"{identity!r} is neither an address nor a did:ethr") from exc
    parsed = parse_ethr_did(identity, default_chain_id=chain_id)
    if parsed.chain_id != chain_id:
        raise InvalidDidError(f"{identity} is on chain {parsed.chain_id}, not {chain_id}")
    return parsed.address


def attribute_name(
    kind: Literal["pub", "svc"],
    algorithm_or_service: str,
    purpose: str | None = None,
    encoding: str | None = None,
) -> bytes:
    """Return an ERC-1056 attribute name as the contract's ``bytes32``.

    Parameters
    ----------
    kind
        ``"pub"`` for a public key, ``"svc"`` for a service endpoint.
    algorithm_or_service
        ``Secp256k1``, ``Ed25519``, ``X25519`` — or the service type.
    purpose
        For keys: ``veriKey``, ``sigAuth`` or ``enc``.
    encoding
        For keys: ``hex``, ``base64`` or ``base58`` (how the value was written).

    Returns
    -------
    bytes
        32 bytes, the UTF-8 name right-padded with zeros.

    Raises
    ------
    ValueError
        If the name is longer than 32 bytes.
    """
    parts = ["did", kind, algorithm_or_service]
    if kind == "pub":
        parts += [purpose or DELEGATE_SIGNING, encoding or "hex"]
    name = "/".join(parts).encode()
    if len(name) > 32:
        raise ValueError(f"attribute name {name.decode()!r} exceeds 32 bytes")
    return name.ljust(32, b"\0")


def _bytes32(text: str) -> bytes:
    raw = text.encode()
    if len(raw) > 32:
        raise ValueError(f"{text!r} exceeds 32 bytes")
    return raw.ljust(32, b"\0")


def _text32(raw: bytes) -> str:
    return raw.rstrip(b"\0").decode("utf-8", errors="replace")


# --- resolution ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Event:
    name: str
    block: int
    log_index: int
    args: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DidEthrResolution:
    """The result of resolving a did:ethr.

    Attributes
    ----------
    document
        The DID document (JSON-LD, ``@context`` included).
    metadata
        ``didDocumentMetadata``: ``versionId`` (block of the last change), ``updated`` (its
        time), ``deactivated``, and ``nextVersionId`` when resolving as of an older block.
    block
        The block resolved at.
    owner
        The identity's owner at that block (0x0 when deactivated).
    delegates
        Live delegates by type (``veriKey``, ``sigAuth``) at that block.
    """

    document: dict[str, Any]
    metadata: dict[str, Any]
    block: int
    owner: Address
    delegates: dict[str, list[Address]] = field(default_factory=dict)

    @property
    def deactivated(self) -> bool:
        """Whether the owner was set to 0x0."""
        return bool(self.metadata.get("deactivated", False))

    def can_sign(self, address: str) -> bool:
        """Whether ``address`` may sign for the identity at the resolved block.

        Parameters
        ----------
        address
            A signer's address.

        Returns
        -------
        bool
            True for the owner and for live ``veriKey``/``sigAuth`` delegates.
        """
        if self.deactivated:
            return False
        checksummed = to_checksum_address(address)
        live = self.delegates.get(DELEGATE_SIGNING, []) + self.delegates.get(
            DELEGATE_AUTHENTICATION, []
        )
        return checksummed == self.owner or checksummed in live


def _jwk(compressed: bytes) -> dict[str, str]:
    point = coincurve.PublicKey(compressed).format(compressed=False)

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "EC", "crv": "secp256k1", "x": b64(point[1:33]), "y": b64(point[33:])}


def _key_method(vm_id: str, did: str, algorithm: str, value: bytes) -> dict[str, Any] | None:
    vm_type = _VM_TYPES.get(algorithm)
    method: dict[str, Any] = {"id": vm_id, "type": vm_type or algorithm, "controller": did}
    try:
        if vm_type == "EcdsaSecp256k1VerificationKey2019":
            method["publicKeyJwk"] = _jwk(value)
        elif vm_type is not None:
            method["publicKeyMultibase"] = "z" + base58.b58encode(
                _MULTICODEC[vm_type] + value
            ).decode("ascii")
        else:
            method["publicKeyHex"] = value.hex()
    except ValueError:
        return None  # a malformed key is not a key; the reference resolver skips it too
    return method


def _build(
    parsed: EthrDid,
    events: Iterable[_Event],
    height: int,
    now: int,
    next_version: int | None,
    chain: Chain,
) -> DidEthrResolution:
    did = parsed.did
    owner = parsed.address
    version_id = 0
    delegate_count = service_count = 0
    methods: dict[str, dict[str, Any]] = {}
    authentication: dict[str, str] = {}
    assertion: dict[str, str] = {}
    agreement: dict[str, str] = {}
    services: dict[str, dict[str, Any]] = {}
    delegates: dict[str, dict[str, Address]] = {}
    deactivated = False
    for event in events:
        version_id = max(version_id, event.block)
        args = event.args
        if event.name == "DIDOwnerChanged":
            owner = to_checksum_address(args["owner"])
            if owner == to_checksum_address(_ZERO):
                deactivated = True
                break
            continue
        live = int(args["validTo"]) > now
        if event.name == "DIDDelegateChanged":
            kind = _text32(args["delegateType"])
            key = f"delegate-{kind}-{args['delegate'].lower()}"
            delegate_count += 1
            _forget(key, methods, authentication, assertion, agreement, services)
            delegates.setdefault(kind, {}).pop(key, None)
            if live and kind in (DELEGATE_SIGNING, DELEGATE_AUTHENTICATION):
                vm_id = f"{did}#delegate-{delegate_count}"
                methods[key] = {
                    "id": vm_id,
                    "type": "EcdsaSecp256k1RecoveryMethod2020",
                    "controller": did,
                    "blockchainAccountId": f"eip155:{parsed.chain_id}:{args['delegate']}",
                }
                assertion[key] = vm_id
                if kind == DELEGATE_AUTHENTICATION:
                    authentication[key] = vm_id
                delegates.setdefault(kind, {})[key] = to_checksum_address(args["delegate"])
            continue
        name = _text32(args["name"])
        value = bytes(args["value"])
        key = f"attribute-{name}-{value.hex()}"
        match = _ATTRIBUTE_RE.match(name)
        if match is None:
            continue
        section, algorithm, purpose = match.group(1), match.group(2), match.group(3)
        if section == "pub":
            delegate_count += 1
        else:
            service_count += 1
        _forget(key, methods, authentication, assertion, agreement, services)
        if not live:
            continue
        if section == "pub":
            vm_id = f"{did}#delegate-{delegate_count}"
            method = _key_method(vm_id, did, algorithm, value)
            if method is None:
                continue
            methods[key] = method
            if purpose == "enc":
                agreement[key] = vm_id
            else:
                assertion[key] = vm_id
                if purpose == DELEGATE_AUTHENTICATION:
                    authentication[key] = vm_id
        else:
            try:
                text = value.decode("utf-8")
            except UnicodeDecodeError:
                continue
            try:
                endpoint: Any = json.loads(text)
            except json.JSONDecodeError:
                endpoint = text
            services[key] = {
                "id": f"{did}#service-{service_count}",
                "type": algorithm,
                "serviceEndpoint": endpoint,
            }

    metadata: dict[str, Any] = {"deactivated": deactivated}
    if version_id:
        stamp = int(chain.w3.eth.get_block(version_id)["timestamp"])
        metadata["versionId"] = str(version_id)
        metadata["updated"] = (
            dt.datetime.fromtimestamp(stamp, dt.UTC).isoformat().replace("+00:00", "Z")
        )
    if next_version is not None:
        metadata["nextVersionId"] = str(next_version)
    if deactivated:
        document: dict[str, Any] = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did}
        return DidEthrResolution(document, metadata, height, to_checksum_address(_ZERO))

    controller_id = f"{did}#controller"
    vms: list[dict[str, Any]] = [
        {
            "id": controller_id,
            "type": "EcdsaSecp256k1RecoveryMethod2020",
            "controller": did,
            "blockchainAccountId": f"eip155:{parsed.chain_id}:{owner}",
        }
    ]
    auth = [controller_id]
    if parsed.public_key is not None and owner == parsed.address:
        vms.append(
            {
                "id": f"{did}#controllerKey",
                "type": "EcdsaSecp256k1VerificationKey2019",
                "controller": did,
                "publicKeyJwk": _jwk(parsed.public_key),
            }
        )
        auth.append(f"{did}#controllerKey")
    vms += list(methods.values())
    contexts: list[Any] = [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/secp256k1recovery-2020/v2",
    ]
    for vm in vms:
        extra = _CONTEXTS.get(vm["type"])
        if extra and extra not in contexts:
            contexts.append(extra)
    if any("publicKeyJwk" in vm for vm in vms) or any("publicKeyHex" in vm for vm in vms):
        contexts.append(
            {
                "publicKeyJwk": {"@id": "https://w3id.org/security#publicKeyJwk", "@type": "@json"},
                "publicKeyHex": "https://w3id.org/security#publicKeyHex",
            }
        )
    document = {
        "@context": contexts,
        "id": did,
        "controller": ethr_did(parsed.chain_id, owner),
        "verificationMethod": vms,
        "authentication": auth + list(authentication.values()),
        "assertionMethod": auth + list(assertion.values()),
    }
    if agreement:
        document["keyAgreement"] = list(agreement.values())
    if services:
        document["service"] = list(services.values())
    live_delegates = {kind: list(found.values()) for kind, found in delegates.items() if found}
    return DidEthrResolution(document, metadata, height, owner, live_delegates)


def _forget(key: str, *tables: dict[str, Any]) -> None:
    for table in tables:
        table.pop(key, None)


# --- writes ---------------------------------------------------------------------------------
