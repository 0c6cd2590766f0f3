// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {InferenceAudits} from "./InferenceAudits.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {RandomnessBeacon} from "../randomness/RandomnessBeacon.sol";
import {WeightedSelection} from "../randomness/WeightedSelection.sol";
import {StakeVault} from "../staking/StakeVault.sol";

/**
 * @title LearningProofs
 * @dev Proof-of-learning checks of training work (Jia et al., IEEE S&P 2021).
 *
 * A trainer that claims a piece of training work commits, with the hash of the weights it
 * produced, the Merkle root of its proof-of-learning log ({submit}): one leaf per segment
 * of `k` steps, binding the segment's starting and ending checkpoints (sha256 of the
 * weights), its seed and its batch indices; the log itself is in the content store at
 * `logCid`. The contract asks the beacon for randomness, drawn after the commitment, which
 * samples `samples` segments and draws a panel of `verifiers` staked verifiers from the
 * auditor pool of {InferenceAudits}, never the trainer ({draw}). Each verifier re-executes
 * the sampled segments from their starting checkpoints with the logged batches and posts
 * whether every ending checkpoint was reproduced within the tolerance, with the worst
 * distance ({submitVerdict}). {finalize} counts the verdicts: a quorum of failures slashes
 * the trainer `slashAmount` (the failed check, committed on chain, is the evidence); a
 * quorum of passes accepts the work; otherwise the check is inconclusive.
 *
 * Where it applies: jobs whose verifiers may see the data (compute jobs on public
 * datasets), not private federated clients, whose defence stays robust aggregation.
 *
 * Trust: fewer than `quorum` of a panel are dishonest; the beacon's output is unbiased;
 * training is reproducible to within the tolerance on the verifiers' hardware.
 */
contract LearningProofs is ReentrancyGuardTransient {
    uint256 public constant MAX_VERIFIERS = 9;
    uint256 public constant MAX_SAMPLES = 16;

    enum Status {
        None,
        Drawing,
        Checking,
        Passed,
        Failed,
        Inconclusive
    }

    struct Parameters {
        uint8 verifiers;
        uint8 quorum;
        uint8 samples;
        uint64 verdictBlocks;
        uint256 slashAmount;
    }

    struct Claim {
        Status status;
        uint8 verifiers;
        uint8 verdicts;
        uint32 segments;
        uint64 deadline;
        address trainer;
        bytes32 updateHash;
        bytes32 logRoot;
        bytes32 panel;
    }

    struct Verdict {
        bool posted;
        bool passed;
        uint32 segment;
        uint256 distance;
    }

    InferenceAudits private immutable _audits;
    ModelRegistry private immutable _registry;
    RandomnessBeacon private immutable _beacon;
    StakeVault private immutable _vault;
    Parameters private _parameters;

    uint256 private _count;
    mapping(uint256 claimId => Claim) private _claims;
    mapping(uint256 claimId => mapping(address verifier => Verdict)) private _verdicts;

    event WorkSubmitted(
        uint256 indexed claimId, address indexed trainer, bytes32 updateHash, bytes32 logRoot, uint32 segments, bytes logCid
    );
    event VerifiersDrawn(uint256 indexed claimId, address[] verifiers, uint32[] segments, uint64 deadline);
    event CheckPosted(uint256 indexed claimId, address indexed verifier, bool passed, uint32 segment, uint256 distance);
    event CheckFinalized(uint256 indexed claimId, Status status, uint256 passing, uint256 failing, uint256 slashed);
    event VerifierMissed(uint256 indexed claimId, address indexed verifier);

    error LearningNotActor(address identity, address actor);
    error LearningInvalid(string field);
    error LearningInsufficientStake(address trainer, uint256 stake, uint256 required);
    error LearningWrongStatus(uint256 claimId, Status status);
    error LearningRandomnessPending(uint256 claimId, bytes32 randomnessRequestId);
    error LearningPanelMismatch(uint256 claimId);
    error LearningNotOnPanel(uint256 claimId, address verifier);
    error LearningAlreadyPosted(uint256 claimId, address verifier);
    error LearningDeadlinePassed(uint256 claimId, uint64 deadline);
    error LearningVerdictsPending(uint256 claimId, uint256 verdicts, uint64 deadline);

    constructor(
        InferenceAudits audits,
        ModelRegistry registry,
        RandomnessBeacon beacon,
        StakeVault vault,
        Parameters memory parameters_
    ) {
        if (parameters_.verifiers == 0 || parameters_.verifiers > MAX_VERIFIERS) revert LearningInvalid("verifiers");
        if (2 * uint256(parameters_.quorum) <= parameters_.verifiers || parameters_.quorum > parameters_.verifiers) {
            revert LearningInvalid("quorum");
        }
        if (parameters_.samples == 0 || parameters_.samples > MAX_SAMPLES) revert LearningInvalid("samples");
        if (parameters_.verdictBlocks == 0) revert LearningInvalid("verdictBlocks");
        _audits = audits;
        _registry = registry;
        _beacon = beacon;
        _vault = vault;
        _parameters = parameters_;
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The rules of every check.
    function parameters() external view returns (Parameters memory) {
        return _parameters;
    }

    /// @dev The claim `claimId` (status `None` if unknown).
    function getClaim(uint256 claimId) external view returns (Claim memory) {
        return _claims[claimId];
    }

    /// @dev The check `verifier` posted on claim `claimId`.
    function verdictOf(uint256 claimId, address verifier) external view returns (Verdict memory) {
        return _verdicts[claimId][verifier];
    }

    /// @dev Claims submitted so far (ids are 0 .. count-1).
    function claimCount() external view returns (uint256) {
        return _count;
    }

    /// @dev The beacon request that samples claim `claimId`'s segments and draws its panel.
    function randomnessRequestId(uint256 claimId) public view returns (bytes32) {
        return keccak256(abi.encode(address(this), _purpose(claimId)));
    }

    // --- lifecycle ---------------------------------------------------------------------

    /**
     * @dev Commits identity `trainer`'s training work: the sha256 of the weights it
     * produced, the Merkle root of its `segments`-segment proof-of-learning log and the
     * log's CID. Returns the claim id and asks the beacon for the check's randomness.
     *
     * Requirements: the caller acts for `trainer`; hashes, CID and `segments` are set;
     * `trainer` has at least the slash amount staked, so a failed check costs it something.
     *
     * Emits {WorkSubmitted}.
     */
    function submit(address trainer, bytes32 updateHash, bytes32 logRoot, uint32 segments, bytes calldata logCid)
        external
        returns (uint256 claimId)
    {
        if (!_registry.isActor(trainer, msg.sender)) revert LearningNotActor(trainer, msg.sender);
        if (updateHash == bytes32(0)) revert LearningInvalid("updateHash");
        if (logRoot == bytes32(0)) revert LearningInvalid("logRoot");
        if (segments == 0) revert LearningInvalid("segments");
        if (logCid.length == 0) revert LearningInvalid("logCid");
        uint256 stake = _vault.stakeOf(trainer);
        uint256 required = _parameters.slashAmount;
        if (stake < required) revert LearningInsufficientStake(trainer, stake, required);
        claimId = _count++;
        Claim storage c = _claims[claimId];
        c.status = Status.Drawing;
        c.trainer = trainer;
        c.updateHash = updateHash;
        c.logRoot = logRoot;
        c.segments = segments;
        emit WorkSubmitted(claimId, trainer, updateHash, logRoot, segments, logCid);
        _beacon.requestRandomness(_purpose(claimId));
    }

    /**
     * @dev Samples claim `claimId`'s segments and draws its panel by stake from the auditor
     * pool, without the trainer. Anyone may call it once the beacon answered. Too few
     * eligible verifiers for a quorum make the check inconclusive.
     *
     * Emits {VerifiersDrawn}, or {CheckFinalized} (inconclusive).
     */
    function draw(uint256 claimId) external {
        Claim storage c = _claims[claimId];
        if (c.status != Status.Drawing) revert LearningWrongStatus(claimId, c.status);
        bytes32 randomnessId = randomnessRequestId(claimId);
        if (!_beacon.getRequest(randomnessId).fulfilled) revert LearningRandomnessPending(claimId, randomnessId);
        bytes32 randomness = _beacon.randomnessOf(randomnessId);
        Parameters memory p = _parameters;
        address[] memory pool = _audits.auditors();
        uint256[] memory weights = new uint256[](pool.length);
        uint256 eligible = 0;
        uint256 minStake = _audits.parameters().minAuditorStake;
        for (uint256 i = 0; i < pool.length; ++i) {
            uint256 stake = _vault.stakeOf(pool[i]);
            if (pool[i] != c.trainer && stake >= minStake && stake > 0) {
                weights[i] = stake;
                ++eligible;
            }
        }
        if (eligible < p.quorum) {
            c.status = Status.Inconclusive;
            emit CheckFinalized(claimId, Status.Inconclusive, 0, 0, 0);
            return;
        }
        uint256 size = eligible < p.verifiers ? eligible : p.verifiers;
        uint256[] memory chosen = WeightedSelection.select(keccak256(abi.encode(randomness, "verifiers")), weights, size);
        address[] memory panel = new address[](size);
        for (uint256 i = 0; i < size; ++i) {
            panel[i] = pool[chosen[i]];
        }
        uint32[] memory sampled = new uint32[](p.samples);
        for (uint256 i = 0; i < p.samples; ++i) {
            sampled[i] = uint32(uint256(keccak256(abi.encode(randomness, "segment", i))) % c.segments);
        }
        c.status = Status.Checking;
        c.verifiers = uint8(size);
        c.panel = keccak256(abi.encodePacked(panel));
        c.deadline = uint64(block.number) + p.verdictBlocks;
        emit VerifiersDrawn(claimId, panel, sampled, c.deadline);
    }

    /**
     * @dev Posts `verifier`'s check of claim `claimId`: whether every sampled segment was
     * reproduced within tolerance, and the worst segment with its distance (parts per
     * million of the checkpoint's norm).
     *
     * Requirements: the caller acts for `verifier`; the check is running, before its
     * deadline; `panel` is the drawn panel and contains `verifier`; not posted before.
     *
     * Emits {CheckPosted}.
     */
    function submitVerdict(
        uint256 claimId,
        address verifier,
        address[] calldata panel,
        bool passed,
        uint32 segment,
        uint256 distance
    ) external {
        if (!_registry.isActor(verifier, msg.sender)) revert LearningNotActor(verifier, msg.sender);
        Claim storage c = _requirePanel(claimId, panel);
        if (block.number > c.deadline) revert LearningDeadlinePassed(claimId, c.deadline);
        if (!_contains(panel, verifier)) revert LearningNotOnPanel(claimId, verifier);
        Verdict storage v = _verdicts[claimId][verifier];
        if (v.posted) revert LearningAlreadyPosted(claimId, verifier);
        _verdicts[claimId][verifier] = Verdict(true, passed, segment, distance);
        c.verdicts += 1;
        emit CheckPosted(claimId, verifier, passed, segment, distance);
    }

    /**
     * @dev Counts claim `claimId`'s checks once all are in or the deadline passed: a quorum
     * of failures slashes the trainer `slashAmount` to the treasury; a quorum of passes
     * accepts the work; anything else is inconclusive. Anyone may call it.
     *
     * Emits {VerifierMissed} per silent verifier and {CheckFinalized}.
     */
    function finalize(uint256 claimId, address[] calldata panel) external nonReentrant {
        Claim storage c = _requirePanel(claimId, panel);
        if (c.verdicts < c.verifiers && block.number <= c.deadline) {
            revert LearningVerdictsPending(claimId, c.verdicts, c.deadline);
        }
        uint256 passing = 0;
        uint256 failing = 0;
        for (uint256 i = 0; i < panel.length; ++i) {
            Verdict storage v = _verdicts[claimId][panel[i]];
            if (!v.posted) emit VerifierMissed(claimId, panel[i]);
            else if (v.passed) ++passing;
            else ++failing;
        }
        uint256 quorum = _parameters.quorum;
        uint256 slashed = 0;
        if (failing >= quorum) {
            c.status = Status.Failed;
            slashed = _vault.slash(c.trainer, _parameters.slashAmount, keccak256(abi.encode("pol", claimId, c.logRoot)));
        } else if (passing >= quorum) {
            c.status = Status.Passed;
        } else {
            c.status = Status.Inconclusive;
        }
        emit CheckFinalized(claimId, c.status, passing, failing, slashed);
    }

    // --- internals ---------------------------------------------------------------------

    function _requirePanel(uint256 claimId, address[] calldata panel) private view returns (Claim storage c) {
        c = _claims[claimId];
        if (c.status != Status.Checking) revert LearningWrongStatus(claimId, c.status);
        if (keccak256(abi.encodePacked(panel)) != c.panel) revert LearningPanelMismatch(claimId);
    }

    function _purpose(uint256 claimId) private pure returns (bytes32) {
        return keccak256(abi.encode("proof-of-learning", claimId));
    }

    function _contains(address[] calldata list, address item) private pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == item) return true;
        }
        return false;
    }
}
