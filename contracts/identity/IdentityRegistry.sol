// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/**
 * @title IdentityRegistry
 * @dev The registry behind `did:ethr`, with the semantics of ERC-1056 (the
 * EthereumDIDRegistry): every Ethereum address is an identity that owns itself until it
 * names another owner; owners add delegates of a type for a validity period and publish
 * attributes (public keys, service endpoints). Nothing is stored but owners, delegate
 * expiry times, nonces and the `changed` block pointer: attributes live only in events, and
 * each event carries `previousChange`, the block of the identity's previous change, so a
 * resolver reads an identity's history backwards from `changed(identity)` with one log
 * query per block.
 *
 * Every write has a signed variant a relayer can submit. The signed message is ERC-1056's:
 * `keccak256(0x19 0x00 registry nonce(owner) identity <function name> <arguments>)`, so
 * existing did:ethr tooling can produce it; the signature is checked with OpenZeppelin's
 * ECDSA (low-s only) and the owner's nonce advances, so a signature works once.
 *
 * Custom errors replace ERC-1056's string reverts; events keep ERC-1056's names and fields
 * so did:ethr resolvers read them unchanged.
 */
contract IdentityRegistry {
    mapping(address identity => address owner) private _owners;
    mapping(address identity => mapping(bytes32 delegateTypeHash => mapping(address delegate => uint256 validTo)))
        private _delegates;
    mapping(address identity => uint256 blockNumber) private _changed;
    mapping(address signer => uint256 nonce) private _nonces;

    /// @dev The identity's owner changed to `owner` (0x0 deactivates the identity).
    event DIDOwnerChanged(address indexed identity, address owner, uint256 previousChange);

    /// @dev A delegate was added (validTo in the future) or revoked (validTo = now).
    event DIDDelegateChanged(
        address indexed identity, bytes32 delegateType, address delegate, uint256 validTo, uint256 previousChange
    );

    /// @dev An attribute was set (validTo in the future) or revoked (validTo = 0).
    event DIDAttributeChanged(
        address indexed identity, bytes32 name, bytes value, uint256 validTo, uint256 previousChange
    );

    /// @dev `actor` is not the current owner of `identity`.
    error IdentityRegistryNotOwner(address identity, address actor);

    /// @dev The validity period would overflow the expiry time.
    error IdentityRegistryInvalidValidity(uint256 validity);

    /**
     * @dev Requirements: `actor` owns `identity`.
     */
    modifier onlyOwner(address identity, address actor) {
        _checkOwner(identity, actor);
        _;
    }

    /// @dev The current owner of `identity`: the identity itself unless it named another.
    function identityOwner(address identity) public view returns (address) {
        address owner = _owners[identity];
        return owner == address(0) ? identity : owner;
    }

    /// @dev Legacy ERC-1056 getter: the explicitly set owner, 0x0 if never changed.
    function owners(address identity) external view returns (address) {
        return _owners[identity];
    }

    /// @dev Expiry time of a delegate (ERC-1056 getter); `delegateTypeHash` is keccak256 of the type.
    function delegates(address identity, bytes32 delegateTypeHash, address delegate) external view returns (uint256) {
        return _delegates[identity][delegateTypeHash][delegate];
    }

    /// @dev Block of the identity's latest change, 0 if it never changed.
    function changed(address identity) external view returns (uint256) {
        return _changed[identity];
    }

    /// @dev The signer's next meta-transaction nonce.
    function nonce(address signer) external view returns (uint256) {
        return _nonces[signer];
    }

    /// @dev Whether `delegate` is a live delegate of `delegateType` for `identity` right now.
    function validDelegate(address identity, bytes32 delegateType, address delegate) public view returns (bool) {
        return _delegates[identity][keccak256(abi.encode(delegateType))][delegate] > block.timestamp;
    }

    /**
     * @dev Makes `newOwner` the owner of `identity`; 0x0 deactivates it for good.
     *
     * Requirements: the caller owns `identity`.
     *
     * Emits a {DIDOwnerChanged} event.
     */
    function changeOwner(address identity, address newOwner) external onlyOwner(identity, msg.sender) {
        _changeOwner(identity, newOwner);
    }

    /**
     * @dev {changeOwner} signed by the owner and sent by anyone.
     *
     * Requirements: the signature is the owner's over the ERC-1056 message with its nonce.
     */
    function changeOwnerSigned(address identity, uint8 sigV, bytes32 sigR, bytes32 sigS, address newOwner)
        external
    {
        _checkSignature(identity, sigV, sigR, sigS, abi.encodePacked("changeOwner", newOwner));
        _changeOwner(identity, newOwner);
    }

    /**
     * @dev Adds `delegate` as a `delegateType` delegate of `identity` for `validity` seconds.
     *
     * Requirements: the caller owns `identity`.
     *
     * Emits a {DIDDelegateChanged} event.
     */
    function addDelegate(address identity, bytes32 delegateType, address delegate, uint256 validity)
        external
        onlyOwner(identity, msg.sender)
    {
        _addDelegate(identity, delegateType, delegate, validity);
    }

    /// @dev {addDelegate} signed by the owner and sent by anyone.
    function addDelegateSigned(
        address identity,
        uint8 sigV,
        bytes32 sigR,
        bytes32 sigS,
        bytes32 delegateType,
        address delegate,
        uint256 validity
    ) external {
        _checkSignature(identity, sigV, sigR, sigS, abi.encodePacked("addDelegate", delegateType, delegate, validity));
        _addDelegate(identity, delegateType, delegate, validity);
    }

    /**
     * @dev Revokes `delegate` from now on (its expiry becomes this block's timestamp).
     *
     * Requirements: the caller owns `identity`.
     *
     * Emits a {DIDDelegateChanged} event.
     */
    function revokeDelegate(address identity, bytes32 delegateType, address delegate)
        external
        onlyOwner(identity, msg.sender)
    {
        _revokeDelegate(identity, delegateType, delegate);
    }

    /// @dev {revokeDelegate} signed by the owner and sent by anyone.
    function revokeDelegateSigned(
        address identity,
        uint8 sigV,
        bytes32 sigR,
        bytes32 sigS,
        bytes32 delegateType,
        address delegate
    ) external {
        _checkSignature(identity, sigV, sigR, sigS, abi.encodePacked("revokeDelegate", delegateType, delegate));
        _revokeDelegate(identity, delegateType, delegate);
    }

    /**
     * @dev Publishes attribute `name` = `value` for `validity` seconds.
     *
     * Requirements: the caller owns `identity`.
     *
     * Emits a {DIDAttributeChanged} event.
     */
    function setAttribute(address identity, bytes32 name, bytes calldata value, uint256 validity)
        external
        onlyOwner(identity, msg.sender)
    {
        _setAttribute(identity, name, value, validity);
    }

    /// @dev {setAttribute} signed by the owner and sent by anyone.
    function setAttributeSigned(
        address identity,
        uint8 sigV,
        bytes32 sigR,
        bytes32 sigS,
        bytes32 name,
        bytes calldata value,
        uint256 validity
    ) external {
        _checkSignature(identity, sigV, sigR, sigS, abi.encodePacked("setAttribute", name, value, validity));
        _setAttribute(identity, name, value, validity);
    }

    /**
     * @dev Revokes attribute `name` = `value`.
     *
     * Requirements: the caller owns `identity`.
     *
     * Emits a {DIDAttributeChanged} event with `validTo` 0.
     */
    function revokeAttribute(address identity, bytes32 name, bytes calldata value)
        external
        onlyOwner(identity, msg.sender)
    {
        _revokeAttribute(identity, name, value);
    }

    /// @dev {revokeAttribute} signed by the owner and sent by anyone.
    function revokeAttributeSigned(
        address identity,
        uint8 sigV,
        bytes32 sigR,
        bytes32 sigS,
        bytes32 name,
        bytes calldata value
    ) external {
        _checkSignature(identity, sigV, sigR, sigS, abi.encodePacked("revokeAttribute", name, value));
        _revokeAttribute(identity, name, value);
    }

    function _checkOwner(address identity, address actor) private view {
        if (actor != identityOwner(identity)) revert IdentityRegistryNotOwner(identity, actor);
    }

    /**
     * @dev Checks an ERC-1056 meta-transaction: the owner signed
     * `keccak256(0x19 0x00 registry nonce(owner) identity payload)`, where `payload` is the
     * packed function name and arguments. Recovers the signer (low-s ECDSA), requires it to
     * own `identity`, and spends its nonce.
     */
    function _checkSignature(address identity, uint8 sigV, bytes32 sigR, bytes32 sigS, bytes memory payload)
        private
    {
        bytes32 digest = keccak256(
            abi.encodePacked(bytes1(0x19), bytes1(0), this, _nonces[identityOwner(identity)], identity, payload)
        );
        address signer = ECDSA.recover(digest, sigV, sigR, sigS);
        _checkOwner(identity, signer);
        _nonces[signer]++;
    }

    function _changeOwner(address identity, address newOwner) private {
        _owners[identity] = newOwner;
        emit DIDOwnerChanged(identity, newOwner, _changed[identity]);
        _changed[identity] = block.number;
    }

    function _addDelegate(address identity, bytes32 delegateType, address delegate, uint256 validity) private {
        if (validity > type(uint256).max - block.timestamp) revert IdentityRegistryInvalidValidity(validity);
        uint256 validTo = block.timestamp + validity;
        _delegates[identity][keccak256(abi.encode(delegateType))][delegate] = validTo;
        emit DIDDelegateChanged(identity, delegateType, delegate, validTo, _changed[identity]);
        _changed[identity] = block.number;
    }

    function _revokeDelegate(address identity, bytes32 delegateType, address delegate) private {
        _delegates[identity][keccak256(abi.encode(delegateType))][delegate] = block.timestamp;
        emit DIDDelegateChanged(identity, delegateType, delegate, block.timestamp, _changed[identity]);
        _changed[identity] = block.number;
    }

    function _setAttribute(address identity, bytes32 name, bytes calldata value, uint256 validity) private {
        if (validity > type(uint256).max - block.timestamp) revert IdentityRegistryInvalidValidity(validity);
        emit DIDAttributeChanged(identity, name, value, block.timestamp + validity, _changed[identity]);
        _changed[identity] = block.number;
    }

    function _revokeAttribute(address identity, bytes32 name, bytes calldata value) private {
        emit DIDAttributeChanged(identity, name, value, 0, _changed[identity]);
        _changed[identity] = block.number;
    }
}
