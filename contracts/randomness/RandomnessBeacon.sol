// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {EcVrf} from "./EcVrf.sol";
import {WeightedSelection} from "./WeightedSelection.sol";

/**
 * @title RandomnessBeacon
 * @dev Unbiasable randomness for committees, provider sets and audits.
 *
 * Key holders register an ECVRF public key from their account (binding key and identity) and
 * bond protocol tokens. A request names a purpose; its seed mixes the request with the hash
 * of the block after the request, which the requester cannot know, so it cannot grind the
 * seed. One registered key, chosen from the keys registered at request time weighted by
 * bond, is assigned; it fulfils with an ECVRF proof over the seed that the contract
 * verifies. The VRF output is unique for that key and seed, so the holder can withhold it
 * but not choose it. After the deadline any registered holder may fulfil with its own key,
 * and the assigned holder's miss is recorded for slashing. An output is final once emitted.
 */
contract RandomnessBeacon is ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct VrfKey {
        address owner;
        uint256 x;
        uint256 y;
        uint256 bond;
        uint64 registeredAt;
        uint64 deactivatedAt;
        uint64 withdrawableAt;
        uint32 missed;
    }

    struct Request {
        address requester;
        bytes32 purpose;
        uint64 requestBlock;
        uint64 seedBlock;
        uint64 deadline;
        uint32 keyCount;
        bool fulfilled;
        bool missRecorded;
        uint32 fulfiller;
        bytes32 output;
    }

    IERC20 private immutable _token;
    uint256 private immutable _minimumBond;
    uint64 private immutable _fulfilmentWindow;
    uint64 private immutable _unbondingBlocks;

    VrfKey[] private _keys;
    mapping(address owner => uint256 indexPlusOne) private _keyOf;
    mapping(bytes32 requestId => Request) private _requests;

    /// @dev Emitted when `owner` registers VRF key number `keyIndex` with `bond` tokens.
    event VrfKeyRegistered(uint256 indexed keyIndex, address indexed owner, uint256 x, uint256 y, uint256 bond);
    /// @dev Emitted when a key stops being eligible; its bond unlocks at `withdrawableAt`.
    event VrfKeyDeactivated(uint256 indexed keyIndex, address indexed owner, uint64 withdrawableAt);
    /// @dev Emitted when a deactivated key's bond is returned.
    event BondWithdrawn(uint256 indexed keyIndex, address indexed owner, uint256 amount);
    /// @dev Emitted for a new request; the seed is fixed by the hash of block `seedBlock`.
    event RandomnessRequested(
        bytes32 indexed requestId, address indexed requester, bytes32 indexed purpose, uint64 seedBlock, uint64 deadline
    );
    /// @dev Emitted when a request whose seed block hash expired gets a new seed block.
    event SeedRefreshed(bytes32 indexed requestId, uint64 seedBlock, uint64 deadline);
    /// @dev Emitted when the assigned key let the deadline pass; evidence for slashing.
    event FulfilmentMissed(bytes32 indexed requestId, uint256 indexed keyIndex, address indexed owner);
    /// @dev Emitted when a verified output is final.
    event RandomnessFulfilled(bytes32 indexed requestId, uint256 indexed keyIndex, bytes32 output);

    error BeaconBondTooSmall(uint256 provided, uint256 minimum);
    error BeaconKeyAlreadyRegistered(address owner);
    error BeaconUnknownKey(address owner);
    error BeaconKeyInactive(uint256 keyIndex);
    error BeaconBondLocked(uint256 keyIndex, uint64 withdrawableAt);
    error BeaconInvalidPublicKey(uint256 x, uint256 y);
    error BeaconNoEligibleKeys();
    error BeaconPurposeAlreadyRequested(bytes32 requestId);
    error BeaconUnknownRequest(bytes32 requestId);
    error BeaconAlreadyFulfilled(bytes32 requestId);
    error BeaconSeedNotReady(bytes32 requestId, uint64 seedBlock);
    error BeaconSeedUnavailable(bytes32 requestId, uint64 seedBlock);
    error BeaconSeedStillAvailable(bytes32 requestId);
    error BeaconNotAssigned(bytes32 requestId, uint256 assignedKeyIndex);

    /**
     * @dev Sets the bond token and the timing rules.
     * @param token_ the protocol token bonds are paid in
     * @param minimumBond_ the smallest bond a key may register with
     * @param fulfilmentWindow_ blocks after the seed block reserved for the assigned key
     * @param unbondingBlocks_ blocks between deactivation and bond withdrawal; longer than
     *        the window so a no-show cannot leave with its bond before its miss is recorded
     */
    constructor(IERC20 token_, uint256 minimumBond_, uint64 fulfilmentWindow_, uint64 unbondingBlocks_) {
        _token = token_;
        _minimumBond = minimumBond_;
        _fulfilmentWindow = fulfilmentWindow_;
        _unbondingBlocks = unbondingBlocks_ > fulfilmentWindow_ ? unbondingBlocks_ : fulfilmentWindow_ + 1;
    }

    // --- keys --------------------------------------------------------------------------

    /**
     * @dev Registers the caller's ECVRF public key (uncompressed secp256k1) with a bond.
     *
     * Requirements:
     * - the caller has no key yet; the key is on the curve; `bond >= minimumBond()` and the
     *   caller approved it.
     *
     * Emits {VrfKeyRegistered}.
     */
    function registerKey(uint256[2] calldata publicKey, uint256 bond) external nonReentrant returns (uint256 keyIndex) {
        if (_keyOf[msg.sender] != 0) revert BeaconKeyAlreadyRegistered(msg.sender);
        if (!EcVrf.isOnCurve(publicKey[0], publicKey[1])) revert BeaconInvalidPublicKey(publicKey[0], publicKey[1]);
        if (bond < _minimumBond) revert BeaconBondTooSmall(bond, _minimumBond);
        keyIndex = _keys.length;
        _keys.push(
            VrfKey({
                owner: msg.sender,
                x: publicKey[0],
                y: publicKey[1],
                bond: bond,
                registeredAt: uint64(block.number),
                deactivatedAt: 0,
                withdrawableAt: 0,
                missed: 0
            })
        );
        _keyOf[msg.sender] = keyIndex + 1;
        emit VrfKeyRegistered(keyIndex, msg.sender, publicKey[0], publicKey[1], bond);
        _token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /**
     * @dev Stops the caller's key from being assigned to new requests.
     *
     * Emits {VrfKeyDeactivated}.
     */
    function deactivateKey() external {
        uint256 index = _requireKey(msg.sender);
        VrfKey storage key = _keys[index];
        if (key.deactivatedAt != 0) revert BeaconKeyInactive(index);
        key.deactivatedAt = uint64(block.number);
        key.withdrawableAt = uint64(block.number) + _unbondingBlocks;
        emit VrfKeyDeactivated(index, msg.sender, key.withdrawableAt);
    }

    /**
     * @dev Returns the bond of the caller's deactivated key once unbonding has passed.
     *
     * Emits {BondWithdrawn}.
     */
    function withdrawBond() external nonReentrant {
        uint256 index = _requireKey(msg.sender);
        VrfKey storage key = _keys[index];
        if (key.deactivatedAt == 0 || block.number < key.withdrawableAt) {
            revert BeaconBondLocked(index, key.withdrawableAt);
        }
        uint256 amount = key.bond;
        key.bond = 0;
        emit BondWithdrawn(index, msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    // --- requests ----------------------------------------------------------------------

    /**
     * @dev Requests randomness for `purpose` (e.g. keccak256 of "round", task and round).
     * The request id is keccak256(abi.encode(requester, purpose)); each purpose is served
     * once per requester.
     *
     * Emits {RandomnessRequested}.
     */
    function requestRandomness(bytes32 purpose) external returns (bytes32 requestId) {
        requestId = keccak256(abi.encode(msg.sender, purpose));
        if (_requests[requestId].requestBlock != 0) revert BeaconPurposeAlreadyRequested(requestId);
        if (_activeBondAt(_keys.length, block.number) == 0) revert BeaconNoEligibleKeys();
        uint64 seedBlock = uint64(block.number) + 1;
        Request storage request = _requests[requestId];
        request.requester = msg.sender;
        request.purpose = purpose;
        request.requestBlock = uint64(block.number);
        request.seedBlock = seedBlock;
        request.deadline = seedBlock + _fulfilmentWindow;
        request.keyCount = uint32(_keys.length);
        emit RandomnessRequested(requestId, msg.sender, purpose, seedBlock, request.deadline);
    }

    /**
     * @dev Gives a request whose seed block is more than 256 blocks old (its hash is no
     * longer available) a new seed block. Anyone may call it.
     *
     * Emits {SeedRefreshed}.
     */
    function refreshSeed(bytes32 requestId) external {
        Request storage request = _requireOpen(requestId);
        if (block.number <= request.seedBlock || blockhash(request.seedBlock) != 0) {
            revert BeaconSeedStillAvailable(requestId);
        }
        request.seedBlock = uint64(block.number) + 1;
        request.deadline = request.seedBlock + _fulfilmentWindow;
        emit SeedRefreshed(requestId, request.seedBlock, request.deadline);
    }

    /**
     * @dev Fulfils a request with an ECVRF proof over its seed by the caller's key.
     *
     * Requirements:
     * - the request is open and its seed block is mined (and not older than 256 blocks);
     * - until the deadline only the assigned key may fulfil; after it any active key may,
     *   and the assigned key's miss is recorded;
     * - the proof verifies for the caller's key and the seed.
     *
     * Emits {RandomnessFulfilled}, and {FulfilmentMissed} on a fallback fulfilment.
     */
    function fulfil(bytes32 requestId, EcVrf.Proof calldata proof, EcVrf.Helpers calldata helpers)
        external
        returns (bytes32 output)
    {
        Request storage request = _requireOpen(requestId);
        bytes32 seed = seedOf(requestId);
        uint256 index = _requireKey(msg.sender);
        VrfKey storage key = _keys[index];
        if (key.deactivatedAt != 0) revert BeaconKeyInactive(index);
        uint256 assigned = _assignedKey(request, seed);
        if (index != assigned) {
            if (block.number <= request.deadline) revert BeaconNotAssigned(requestId, assigned);
            if (!request.missRecorded) {
                request.missRecorded = true;
                _keys[assigned].missed += 1;
                emit FulfilmentMissed(requestId, assigned, _keys[assigned].owner);
            }
        }
        output = EcVrf.verify([key.x, key.y], proof, abi.encodePacked(seed), helpers);
        request.fulfilled = true;
        request.fulfiller = uint32(index);
        request.output = output;
        emit RandomnessFulfilled(requestId, index, output);
    }

    // --- views -------------------------------------------------------------------------

    /**
     * @dev The seed a request's proof is over: keccak256(chain id, beacon, request id, hash
     * of the seed block).
     *
     * Requirements:
     * - the seed block is mined and at most 256 blocks old (else {refreshSeed}).
     */
    function seedOf(bytes32 requestId) public view returns (bytes32) {
        Request storage request = _requests[requestId];
        if (request.requestBlock == 0) revert BeaconUnknownRequest(requestId);
        if (block.number <= request.seedBlock) revert BeaconSeedNotReady(requestId, request.seedBlock);
        bytes32 hash = blockhash(request.seedBlock);
        if (hash == 0) revert BeaconSeedUnavailable(requestId, request.seedBlock);
        return keccak256(abi.encode(block.chainid, address(this), requestId, hash));
    }

    /// @dev The key index assigned to fulfil `requestId` before its deadline.
    function assignedKey(bytes32 requestId) external view returns (uint256) {
        return _assignedKey(_requests[requestId], seedOf(requestId));
    }

    /// @dev A request's state.
    function getRequest(bytes32 requestId) external view returns (Request memory) {
        Request memory request = _requests[requestId];
        if (request.requestBlock == 0) revert BeaconUnknownRequest(requestId);
        return request;
    }

    /// @dev The final output of a fulfilled request.
    function randomnessOf(bytes32 requestId) external view returns (bytes32) {
        Request storage request = _requests[requestId];
        if (!request.fulfilled) revert BeaconUnknownRequest(requestId);
        return request.output;
    }

    /// @dev A registered key.
    function getKey(uint256 keyIndex) external view returns (VrfKey memory) {
        return _keys[keyIndex];
    }

    /// @dev The key index of `owner` (reverts if none).
    function keyIndexOf(address owner) external view returns (uint256) {
        return _requireKey(owner);
    }

    /// @dev How many keys were ever registered.
    function keyCount() external view returns (uint256) {
        return _keys.length;
    }

    /// @dev The bond token, minimum bond, fulfilment window and unbonding period.
    function parameters() external view returns (IERC20, uint256, uint64, uint64) {
        return (_token, _minimumBond, _fulfilmentWindow, _unbondingBlocks);
    }

    /// @dev {WeightedSelection-select}: k distinct indices proportional to `weights`.
    function select(bytes32 seed, uint256[] calldata weights, uint256 k) external pure returns (uint256[] memory) {
        return WeightedSelection.select(seed, weights, k);
    }

    /// @dev {EcVrf-verify} for any key: returns beta or reverts with the reason.
    function verifyProof(
        uint256[2] calldata publicKey,
        EcVrf.Proof calldata proof,
        bytes calldata alpha,
        EcVrf.Helpers calldata helpers
    ) external view returns (bytes32) {
        return EcVrf.verify(publicKey, proof, alpha, helpers);
    }

    // --- internals ---------------------------------------------------------------------

    function _requireKey(address owner) private view returns (uint256) {
        uint256 indexPlusOne = _keyOf[owner];
        if (indexPlusOne == 0) revert BeaconUnknownKey(owner);
        return indexPlusOne - 1;
    }

    function _requireOpen(bytes32 requestId) private view returns (Request storage request) {
        request = _requests[requestId];
        if (request.requestBlock == 0) revert BeaconUnknownRequest(requestId);
        if (request.fulfilled) revert BeaconAlreadyFulfilled(requestId);
    }

    function _eligibleWeights(uint256 count, uint256 atBlock) private view returns (uint256[] memory weights) {
        weights = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            VrfKey storage key = _keys[i];
            if (key.deactivatedAt == 0 || key.deactivatedAt > atBlock) weights[i] = key.bond;
        }
    }

    function _activeBondAt(uint256 count, uint256 atBlock) private view returns (uint256 total) {
        uint256[] memory weights = _eligibleWeights(count, atBlock);
        for (uint256 i = 0; i < count; ++i) {
            total += weights[i];
        }
    }

    /// @dev Keys registered before the request and not deactivated by then, weighted by bond.
    function _assignedKey(Request storage request, bytes32 seed) private view returns (uint256) {
        uint256[] memory weights = _eligibleWeights(request.keyCount, request.requestBlock);
        return WeightedSelection.select(keccak256(abi.encode(seed, "assign")), weights, 1)[0];
    }
}
