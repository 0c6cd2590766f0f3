"""did:ethr: long-lived identities on the IdentityRegistry (ERC-1056).

Implements the did:ethr method (github.com/decentralized-identity/ethr-did-resolver,
``doc/did-method-spec.md``) over our ``IdentityRegistry`` contract, which has ERC-1056's
functions, meta-transaction message format and events:

- :func:`ethr_did` / :func:`parse_ethr_did` — ``did:ethr:<chainId>:<address or public key>``;
  the chain id is hex as in the method spec (decimal is accepted on input).
- :class:`EthrDidResolver` — reads ``changed(identity)`` at the requested block, walks the
  ``previousChange`` pointers backwards one log query per block, then replays the history
  forwards into a DID document: ``#controller`` (``EcdsaSecp256k1RecoveryMethod2020`` of the
  current owner), one ``#delegate-N`` per live delegate (``veriKey``: assertion;
  ``sigAuth``: authentication too) and per ``did/pub/<Algorithm>/<purpose>/<encoding>``
  attribute (``Secp256k1`` → JWK, ``Ed25519``/``X25519`` → multibase; ``enc`` keys go to
  ``keyAgreement``), one ``#service-N`` per ``did/svc/<Type>`` attribute; an owner of 0x0
  deactivates the identity. Numbering follows the reference resolver, so fragment ids match.
- :class:`EthrDidRegistry` — every write, and its signed (meta-transaction) variant.

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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import base58
import coincurve
from eth_abi.packed import encode_packed
from eth_utils import keccak, to_checksum_address
from web3.types import BlockIdentifier, TxReceipt

from ledgerlearn.exceptions import InvalidDidError, SignatureError, UnsupportedDidMethodError
from ledgerlearn.identity._keys import Secp256k1Key
from ledgerlearn.types import Address, Did

if TYPE_CHECKING:
    from web3.contract import Contract

    from ledgerlearn.ledger import Chain

__all__ = [
    "DELEGATE_SIGNING",
    "DELEGATE_AUTHENTICATION",
    "DidEthrResolution",
    "EthrDid",
    "EthrDidRegistry",
    "EthrDidResolver",
    "MetaSignature",
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


class EthrDidResolver:
    """Resolve did:ethr DIDs from an IdentityRegistry's events.

    Parameters
    ----------
    chain
        The chain the registry is on.
    registry_address
        The IdentityRegistry's address.
    """

    def __init__(self, chain: Chain, registry_address: str) -> None:
        self._chain = chain
        self._contract: Contract = chain.contract("IdentityRegistry", registry_address)
        from ledgerlearn.ledger import event_topic  # ledger imports identity: bind late

        self._topics: dict[bytes, Any] = {
            event_topic(getattr(self._contract.events, name)): getattr(
                self._contract.events, name
            )()
            for name in ("DIDOwnerChanged", "DIDDelegateChanged", "DIDAttributeChanged")
        }

    @property
    def registry_address(self) -> Address:
        """The IdentityRegistry read from."""
        return to_checksum_address(self._contract.address)

    def history(self, address: str, *, block: BlockIdentifier = "latest") -> list[_Event]:
        """Return the identity's registry events up to ``block``, oldest first.

        Parameters
        ----------
        address
            The identity.
        block
            The last block to include.

        Returns
        -------
        list
            Decoded events (name, block, log index, arguments).

        Raises
        ------
        InvalidDidError
            If a ``previousChange`` pointer leads to a block without the identity's events
            (a node without historical logs).
        """
        identity = to_checksum_address(address)
        pointer = int(self._chain.call(self._contract.functions.changed(identity), block=block))
        topic = "0x" + "00" * 12 + identity[2:].lower()
        events: list[_Event] = []
        while pointer:
            logs = self._chain.w3.eth.get_logs(
                {
                    "address": self._contract.address,
                    "fromBlock": pointer,
                    "toBlock": pointer,
                    "topics": [None, topic],
                }
            )
            if not logs:
                raise InvalidDidError(
                    f"block {pointer} holds no registry event for {identity} although the "
                    "registry points there; use a node that keeps historical logs"
                )
            batch = []
            for log in logs:
                decoder = self._topics.get(bytes(log["topics"][0]))
                if decoder is None:
                    continue
                decoded = decoder.process_log(log)
                batch.append(
                    _Event(decoded["event"], pointer, int(log["logIndex"]), dict(decoded["args"]))
                )
            batch.sort(key=lambda e: e.log_index)
            events[:0] = batch
            pointer = int(batch[0].args["previousChange"]) if batch else 0
        return events

    def resolve(self, did: str, *, block: BlockIdentifier = "latest") -> DidEthrResolution:
        """Resolve ``did`` as of ``block`` (default: the latest block).

        Parameters
        ----------
        did
            A did:ethr on this chain (``?versionId=<block>`` is honoured too).
        block
            The block to resolve at; keys revoked or expired by then are absent.

        Returns
        -------
        DidEthrResolution
            The document and its metadata.

        Raises
        ------
        InvalidDidError
            If the DID is malformed or names another chain.
        """
        if "?versionId=" in did and block == "latest":
            version = did.split("?versionId=", 1)[1].split("&", 1)[0].split("#", 1)[0]
            if not version.isdigit():
                raise InvalidDidError(f"{did!r}: versionId must be a block number")
            block = int(version)
        parsed = parse_ethr_did(did, default_chain_id=self._chain.chain_id)
        if parsed.chain_id != self._chain.chain_id:
            raise InvalidDidError(
                f"{did} is on chain {parsed.chain_id}, but this resolver reads chain "
                f"{self._chain.chain_id}; connect to that chain"
            )
        head = self._chain.w3.eth.get_block(block)
        height, now = int(head["number"]), int(head["timestamp"])
        history = self.history(parsed.address)  # one walk; later changes only set nextVersionId
        events = [e for e in history if e.block <= height]
        later = [e.block for e in history if e.block > height]
        return _build(parsed, events, height, now, later[0] if later else None, self._chain)


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


@dataclass(frozen=True, slots=True)
class MetaSignature:
    """An owner's signature over an ERC-1056 meta-transaction.

    Attributes
    ----------
    identity
        The identity the change is for.
    signer
        The owner who signed.
    v, r, s
        The signature.
    """

    identity: Address
    signer: Address
    v: int
    r: bytes
    s: bytes


class EthrDidRegistry:
    """Writes to the IdentityRegistry: owner changes, delegates, attributes.

    Each write exists twice: sent by the owner itself (``change_owner`` ...), or signed by the
    owner (``sign_change_owner`` ...) and sent by any relayer (``change_owner_signed`` ...).

    Parameters
    ----------
    chain
        The chain the registry is on.
    registry_address
        The IdentityRegistry's address.
    """

    def __init__(self, chain: Chain, registry_address: str) -> None:
        self._chain = chain
        self.contract: Contract = chain.contract("IdentityRegistry", registry_address)

    def did(self, address: str) -> Did:
        """Return the did:ethr of ``address`` on this chain.

        Parameters
        ----------
        address
            The identity.

        Returns
        -------
        Did
            Its DID.
        """
        return ethr_did(self._chain.chain_id, address)

    def owner(self, identity: str, *, block: BlockIdentifier = "latest") -> Address:
        """Return the identity's owner.

        Parameters
        ----------
        identity
            The identity.
        block
            The block to read at.

        Returns
        -------
        Address
            The owner (the identity itself unless changed).
        """
        fn = self.contract.functions.identityOwner(to_checksum_address(identity))
        return to_checksum_address(self._chain.call(fn, block=block))

    def valid_delegate(
        self, identity: str, delegate_type: str, delegate: str, *, block: BlockIdentifier = "latest"
    ) -> bool:
        """Return whether ``delegate`` is a live delegate of that type.

        Parameters
        ----------
        identity, delegate_type, delegate
            As the contract's ``validDelegate``.
        block
            The block to read at.

        Returns
        -------
        bool
            Whether it is live.
        """
        fn = self.contract.functions.validDelegate(
            to_checksum_address(identity), _bytes32(delegate_type), to_checksum_address(delegate)
        )
        return bool(self._chain.call(fn, block=block))

    def nonce(self, signer: str) -> int:
        """Return the signer's next meta-transaction nonce.

        Parameters
        ----------
        signer
            The owner that will sign.

        Returns
        -------
        int
            The nonce.
        """
        return int(self._chain.call(self.contract.functions.nonce(to_checksum_address(signer))))

    # direct writes -------------------------------------------------------------------------

    def change_owner(self, owner: Secp256k1Key, identity: str, new_owner: str) -> TxReceipt:
        """Make ``new_owner`` the owner of ``identity`` (rotation); 0x0 deactivates it.

        Parameters
        ----------
        owner
            The current owner's key.
        identity
            The identity.
        new_owner
            The new owner's address.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        fn = self.contract.functions.changeOwner(
            to_checksum_address(identity), to_checksum_address(new_owner)
        )
        return self._chain.sender(owner).transact(fn)

    def add_delegate(
        self,
        owner: Secp256k1Key,
        identity: str,
        delegate: str,
        *,
        delegate_type: str = DELEGATE_SIGNING,
        validity: int = 365 * 86400,
    ) -> TxReceipt:
        """Add a delegate for ``validity`` seconds.

        Parameters
        ----------
        owner
            The current owner's key.
        identity
            The identity.
        delegate
            The delegate's address.
        delegate_type
            ``veriKey`` (signs) or ``sigAuth`` (signs and authenticates).
        validity
            Seconds from now.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        fn = self.contract.functions.addDelegate(
            to_checksum_address(identity),
            _bytes32(delegate_type),
            to_checksum_address(delegate),
            validity,
        )
        return self._chain.sender(owner).transact(fn)

    def revoke_delegate(
        self,
        owner: Secp256k1Key,
        identity: str,
        delegate: str,
        *,
        delegate_type: str = DELEGATE_SIGNING,
    ) -> TxReceipt:
        """Revoke a delegate from this block on.

        Parameters
        ----------
        owner
            The current owner's key.
        identity, delegate, delegate_type
            Which delegate.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        fn = self.contract.functions.revokeDelegate(
            to_checksum_address(identity), _bytes32(delegate_type), to_checksum_address(delegate)
        )
        return self._chain.sender(owner).transact(fn)

    def set_attribute(
        self,
        owner: Secp256k1Key,
        identity: str,
        name: bytes,
        value: bytes,
        *,
        validity: int = 365 * 86400,
    ) -> TxReceipt:
        """Publish an attribute (a key or a service) for ``validity`` seconds.

        Parameters
        ----------
        owner
            The current owner's key.
        identity
            The identity.
        name
            The 32-byte name, see :func:`attribute_name`.
        value
            The raw value (key bytes, or UTF-8 endpoint).
        validity
            Seconds from now.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        fn = self.contract.functions.setAttribute(
            to_checksum_address(identity), name, value, validity
        )
        return self._chain.sender(owner).transact(fn)

    def revoke_attribute(
        self, owner: Secp256k1Key, identity: str, name: bytes, value: bytes
    ) -> TxReceipt:
        """Revoke an attribute.

        Parameters
        ----------
        owner
            The current owner's key.
        identity, name, value
            Which attribute.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        fn = self.contract.functions.revokeAttribute(to_checksum_address(identity), name, value)
        return self._chain.sender(owner).transact(fn)

    # signed (meta-transaction) writes ------------------------------------------------------

    def _sign(
        self, owner: Secp256k1Key, identity: str, types: list[str], values: list[Any]
    ) -> MetaSignature:
        identity = to_checksum_address(identity)
        current = self.owner(identity)
        if current != owner.address:
            raise SignatureError(f"{owner.address} does not own {identity} (owner: {current})")
        digest = keccak(
            encode_packed(
                ["bytes1", "bytes1", "address", "uint256", "address", *types],
                [b"\x19", b"\x00", self.contract.address, self.nonce(current), identity, *values],
            )
        )
        sig = owner.sign_hash(digest)
        return MetaSignature(identity, owner.address, sig[64], sig[:32], sig[32:64])

    def sign_change_owner(
        self, owner: Secp256k1Key, identity: str, new_owner: str
    ) -> MetaSignature:
        """Sign ``changeOwner`` for a relayer (uses the owner's current nonce).

        Parameters
        ----------
        owner, identity, new_owner
            As :meth:`change_owner`.

        Returns
        -------
        MetaSignature
            Pass to :meth:`change_owner_signed`.
        """
        return self._sign(
            owner, identity, ["string", "address"], ["changeOwner", to_checksum_address(new_owner)]
        )

    def sign_add_delegate(
        self,
        owner: Secp256k1Key,
        identity: str,
        delegate: str,
        *,
        delegate_type: str = DELEGATE_SIGNING,
        validity: int = 365 * 86400,
    ) -> MetaSignature:
        """Sign ``addDelegate`` for a relayer.

        Parameters
        ----------
        owner, identity, delegate, delegate_type, validity
            As :meth:`add_delegate`.

        Returns
        -------
        MetaSignature
            Pass to :meth:`add_delegate_signed` with the same arguments.
        """
        return self._sign(
            owner,
            identity,
            ["string", "bytes32", "address", "uint256"],
            ["addDelegate", _bytes32(delegate_type), to_checksum_address(delegate), validity],
        )

    def sign_revoke_delegate(
        self,
        owner: Secp256k1Key,
        identity: str,
        delegate: str,
        *,
        delegate_type: str = DELEGATE_SIGNING,
    ) -> MetaSignature:
        """Sign ``revokeDelegate`` for a relayer.

        Parameters
        ----------
        owner, identity, delegate, delegate_type
            As :meth:`revoke_delegate`.

        Returns
        -------
        MetaSignature
            Pass to :meth:`revoke_delegate_signed`.
        """
        return self._sign(
            owner,
            identity,
            ["string", "bytes32", "address"],
            ["revokeDelegate", _bytes32(delegate_type), to_checksum_address(delegate)],
        )

    def sign_set_attribute(
        self,
        owner: Secp256k1Key,
        identity: str,
        name: bytes,
        value: bytes,
        *,
        validity: int = 365 * 86400,
    ) -> MetaSignature:
        """Sign ``setAttribute`` for a relayer.

        Parameters
        ----------
        owner, identity, name, value, validity
            As :meth:`set_attribute`.

        Returns
        -------
        MetaSignature
            Pass to :meth:`set_attribute_signed`.
        """
        return self._sign(
            owner,
            identity,
            ["string", "bytes32", "bytes", "uint256"],
            ["setAttribute", name, value, validity],
        )

    def sign_revoke_attribute(
        self, owner: Secp256k1Key, identity: str, name: bytes, value: bytes
    ) -> MetaSignature:
        """Sign ``revokeAttribute`` for a relayer.

        Parameters
        ----------
        owner, identity, name, value
            As :meth:`revoke_attribute`.

        Returns
        -------
        MetaSignature
            Pass to :meth:`revoke_attribute_signed`.
        """
        return self._sign(
            owner, identity, ["string", "bytes32", "bytes"], ["revokeAttribute", name, value]
        )

    def _relay(
        self, relayer: Secp256k1Key, function: Callable[..., Any], sig: MetaSignature, *args: Any
    ) -> TxReceipt:
        return self._chain.sender(relayer).transact(
            function(sig.identity, sig.v, sig.r, sig.s, *args)
        )

    def change_owner_signed(
        self, relayer: Secp256k1Key, signature: MetaSignature, new_owner: str
    ) -> TxReceipt:
        """Send a signed ``changeOwner``; the relayer pays the gas.

        Parameters
        ----------
        relayer
            Any funded key.
        signature
            From :meth:`sign_change_owner`.
        new_owner
            As signed.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        fn = self.contract.functions.changeOwnerSigned
        return self._relay(relayer, fn, signature, to_checksum_address(new_owner))

    def add_delegate_signed(
        self,
        relayer: Secp256k1Key,
        signature: MetaSignature,
        delegate: str,
        *,
        delegate_type: str = DELEGATE_SIGNING,
        validity: int = 365 * 86400,
    ) -> TxReceipt:
        """Send a signed ``addDelegate``.

        Parameters
        ----------
        relayer
            Any funded key.
        signature
            From :meth:`sign_add_delegate`.
        delegate, delegate_type, validity
            As signed.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        return self._relay(
            relayer,
            self.contract.functions.addDelegateSigned,
            signature,
            _bytes32(delegate_type),
            to_checksum_address(delegate),
            validity,
        )

    def revoke_delegate_signed(
        self,
        relayer: Secp256k1Key,
        signature: MetaSignature,
        delegate: str,
        *,
        delegate_type: str = DELEGATE_SIGNING,
    ) -> TxReceipt:
        """Send a signed ``revokeDelegate``.

        Parameters
        ----------
        relayer
            Any funded key.
        signature
            From :meth:`sign_revoke_delegate`.
        delegate, delegate_type
            As signed.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        return self._relay(
            relayer,
            self.contract.functions.revokeDelegateSigned,
            signature,
            _bytes32(delegate_type),
            to_checksum_address(delegate),
        )

    def set_attribute_signed(
        self,
        relayer: Secp256k1Key,
        signature: MetaSignature,
        name: bytes,
        value: bytes,
        *,
        validity: int = 365 * 86400,
    ) -> TxReceipt:
        """Send a signed ``setAttribute``.

        Parameters
        ----------
        relayer
            Any funded key.
        signature
            From :meth:`sign_set_attribute`.
        name, value, validity
            As signed.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        return self._relay(
            relayer, self.contract.functions.setAttributeSigned, signature, name, value, validity
        )

    def revoke_attribute_signed(
        self, relayer: Secp256k1Key, signature: MetaSignature, name: bytes, value: bytes
    ) -> TxReceipt:
        """Send a signed ``revokeAttribute``.

        Parameters
        ----------
        relayer
            Any funded key.
        signature
            From :meth:`sign_revoke_attribute`.
        name, value
            As signed.

        Returns
        -------
        TxReceipt
            The receipt.
        """
        return self._relay(
            relayer, self.contract.functions.revokeAttributeSigned, signature, name, value
        )
