"""did:ethr writes: owner changes, delegates and attributes on the IdentityRegistry (ERC-1056).

Each write exists twice: sent by the owner itself, or signed by the owner (ERC-1056's
meta-transaction message ``0x19 0x00 registry nonce identity ...``) and relayed by anyone.

Trust assumption: the contract checks every signature and the current owner; a relayer
pays gas and learns nothing it could misuse.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi.packed import encode_packed
from eth_utils import keccak, to_checksum_address
from web3.types import BlockIdentifier, TxReceipt

from ledgerlearn.exceptions import SignatureError
from ledgerlearn.identity._ethr import DELEGATE_SIGNING, _bytes32, ethr_did
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import ContractClient
from ledgerlearn.types import Address, Did

__all__ = ["EthrDidRegistry", "MetaSignature"]


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


class EthrDidRegistry(ContractClient):
    """Writes to the IdentityRegistry: owner changes, delegates, attributes.

    Each write exists twice: sent by the owner itself (``change_owner`` ...), or signed by the
    owner (``sign_change_owner`` ...) and sent by any relayer (``change_owner_signed`` ...).

    Parameters
    ----------
    chain
        The chain the registry is on.
    deployment
        The deployment manifest naming the IdentityRegistry; :meth:`at` binds a registry
        outside a manifest.
    """

    contract_name = "IdentityRegistry"

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
        return ethr_did(self.chain.chain_id, address)

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
        fn = self.functions.identityOwner(to_checksum_address(identity))
        return to_checksum_address(self._call(fn, block=block))

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
        fn = self.functions.validDelegate(
            to_checksum_address(identity), _bytes32(delegate_type), to_checksum_address(delegate)
        )
        return bool(self._call(fn, block=block))

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
        return int(self._call(self.functions.nonce(to_checksum_address(signer))))

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
        fn = self.functions.changeOwner(
            to_checksum_address(identity), to_checksum_address(new_owner)
        )
        return self._transact(owner, fn)

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
        fn = self.functions.addDelegate(
            to_checksum_address(identity),
            _bytes32(delegate_type),
            to_checksum_address(delegate),
            validity,
        )
        return self._transact(owner, fn)

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
        fn = self.functions.revokeDelegate(
            to_checksum_address(identity), _bytes32(delegate_type), to_checksum_address(delegate)
        )
        return self._transact(owner, fn)

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
        fn = self.functions.setAttribute(to_checksum_address(identity), name, value, validity)
        return self._transact(owner, fn)

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
        fn = self.functions.revokeAttribute(to_checksum_address(identity), name, value)
        return self._transact(owner, fn)

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
                [b"\x19", b"\x00", self.address, self.nonce(current), identity, *values],
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
        return self._transact(relayer, function(sig.identity, sig.v, sig.r, sig.s, *args))

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
        fn = self.functions.changeOwnerSigned
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
            self.functions.addDelegateSigned,
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
            self.functions.revokeDelegateSigned,
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
            relayer, self.functions.setAttributeSigned, signature, name, value, validity
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
        return self._relay(relayer, self.functions.revokeAttributeSigned, signature, name, value)
