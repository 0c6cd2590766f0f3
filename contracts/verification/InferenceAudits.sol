// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {InferenceOracle} from "../oracle/InferenceOracle.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {ResultAggregation} from "../oracle/ResultAggregation.sol";
import {RandomnessBeacon} from "../randomness/RandomnessBeacon.sol";
import {WeightedSelection} from "../randomness/WeightedSelection.sol";
import {StakeVault} from "../staking/StakeVault.sol";

/**
 * @title InferenceAudits
 * @dev Random audits of fulfilled inference requests by staked auditors.
 *
 * Anyone (in practice the requester or the gateway) opens the audit lottery of a fulfilled
 * request, up to `openWindow` blocks after the request's deadline: the contract asks the
 * {RandomnessBeacon} for fresh randomness, drawn after the answers were signed, so the
 * providers could not know whether they would be audited. Once the beacon answered,
 * {draw} samples the request with the model's audit rate (basis points, set by governance);
 * a sampled request gets a panel of `auditors` auditors drawn by stake from the registered
 * auditors that are not among the request's drawn providers. Each panel member re-executes
 * the registered artifact on the request's input and posts its value ({submitVerdict}).
 * After every verdict is in, or `verdictBlocks` have passed, {finalize} counts them with
 * the request's own rule (within its tolerance for a median, equal for a label):
 *
 * - at least `quorum` verdicts contradict the result: the request is overturned in the
 *   oracle (the corrected result is the aggregate of the contradicting verdicts; the fee
 *   still held is refunded), every signer that agreed with the overturned result loses
 *   `slashAmount` of stake, the requester is paid the part of its fee the signers had
 *   already withdrawn out of that stake, and the rest goes to the treasury;
 * - at least `quorum` verdicts agree: the result is confirmed;
 * - otherwise the audit is inconclusive and nobody is slashed.
 *
 * An honest provider is never slashed: only signers of an answer that agreed with a result
 * a quorum of auditors contradicted lose stake, and an honest answer to a deterministic
 * model equals what honest auditors compute.
 *
 * Trust: fewer than `quorum` of a panel are dishonest (auditors are staked and drawn by the
 * beacon, so a provider cannot audit its own request); the beacon's output is unbiased.
 * Verdicts are posted in the clear, so a lazy auditor could copy an earlier verdict; a
 * commit-reveal round would close that and is not built.
 */
contract InferenceAudits is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    uint256 public constant BPS = 10_000;
    uint256 public constant MAX_AUDITORS = 9;

    enum Status {
        None,
        Drawing,
        NotSampled,
        Auditing,
        Confirmed,
        Overturned,
        Inconclusive
    }

    /// @dev Rules every new audit takes a copy of.
    struct Parameters {
        uint8 auditors;
        uint8 quorum;
        uint64 verdictBlocks;
        uint64 openWindow;
        uint256 minAuditorStake;
        uint256 slashAmount;
    }

    struct Audit {
        Status status;
        uint8 auditors;
        uint8 quorum;
        uint8 verdicts;
        uint64 deadline;
        bytes32 panel;
    }

    struct Verdict {
        bool posted;
        int256 value;
        bytes32 outputHash;
    }

    InferenceOracle private immutable _oracle;
    ModelRegistry private immutable _registry;
    RandomnessBeacon private immutable _beacon;
    StakeVault private immutable _vault;
    IERC20 private immutable _token;

    Parameters private _parameters;
    mapping(bytes32 modelId => uint16 rateBps) private _rates;
    address[] private _pool;
    mapping(address auditor => uint256 indexPlusOne) private _poolIndex;
    mapping(uint256 requestId => Audit) private _audits;
    mapping(uint256 requestId => mapping(address auditor => Verdict)) private _verdicts;

    event AuditRateSet(bytes32 indexed modelId, uint16 rateBps);
    event ParametersSet(
        uint8 auditors, uint8 quorum, uint64 verdictBlocks, uint64 openWindow, uint256 minAuditorStake, uint256 slashAmount
    );
    event AuditorJoined(address indexed auditor);
    event AuditorLeft(address indexed auditor);
    event AuditOpened(uint256 indexed requestId, bytes32 randomnessRequestId);
    event AuditNotSampled(uint256 indexed requestId);
    event AuditorsDrawn(uint256 indexed requestId, address[] auditors, uint64 deadline);
    event VerdictSubmitted(uint256 indexed requestId, address indexed auditor, int256 value, bytes32 outputHash);
    event AuditFinalized(uint256 indexed requestId, Status status, uint256 agreeing, uint256 contradicting, int256 corrected);
    event AuditorMissed(uint256 indexed requestId, address indexed auditor);
    event SignerSlashed(uint256 indexed requestId, address indexed signer, uint256 amount);
    event RequesterCompensated(uint256 indexed requestId, address indexed requester, uint256 amount);

    error AuditsNotActor(address auditor, address actor);
    error AuditsInvalidParameters(string field);
    error AuditsAlreadyAuditor(address auditor);
    error AuditsNotAuditor(address auditor);
    error AuditsInsufficientStake(address auditor, uint256 stake, uint256 required);
    error AuditsRequestNotFulfilled(uint256 requestId, InferenceOracle.Status status);
    error AuditsWindowClosed(uint256 requestId, uint256 lastBlock);
    error AuditsWrongStatus(uint256 requestId, Status status);
    error AuditsRandomnessPending(uint256 requestId, bytes32 randomnessRequestId);
    error AuditsSelectionMismatch(uint256 requestId);
    error AuditsPanelMismatch(uint256 requestId);
    error AuditsNotOnPanel(uint256 requestId, address auditor);
    error AuditsAlreadySubmitted(uint256 requestId, address auditor);
    error AuditsDeadlinePassed(uint256 requestId, uint64 deadline);
    error AuditsVerdictsPending(uint256 requestId, uint256 verdicts, uint64 deadline);

    constructor(
        InferenceOracle oracle,
        ModelRegistry registry,
        RandomnessBeacon beacon,
        StakeVault vault,
        IERC20 token,
        address governance,
        Parameters memory parameters_
    ) {
        _oracle = oracle;
        _registry = registry;
        _beacon = beacon;
        _vault = vault;
        _token = token;
        _setParameters(parameters_);
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The rules new audits use.
    function parameters() external view returns (Parameters memory) {
        return _parameters;
    }

    /// @dev The audit rate of model `modelId`, in basis points of its fulfilled requests.
    function auditRate(bytes32 modelId) external view returns (uint16) {
        return _rates[modelId];
    }

    /// @dev The registered auditors.
    function auditors() external view returns (address[] memory) {
        return _pool;
    }

    /// @dev Whether `auditor` is registered.
    function isAuditor(address auditor) external view returns (bool) {
        return _poolIndex[auditor] != 0;
    }

    /// @dev The audit of request `requestId` (status `None` if never opened).
    function getAudit(uint256 requestId) external view returns (Audit memory) {
        return _audits[requestId];
    }

    /// @dev The verdict `auditor` posted on request `requestId`.
    function verdictOf(uint256 requestId, address auditor) external view returns (Verdict memory) {
        return _verdicts[requestId][auditor];
    }

    /// @dev The beacon request whose output samples request `requestId` and draws its panel.
    function randomnessRequestId(uint256 requestId) public view returns (bytes32) {
        return keccak256(abi.encode(address(this), _purpose(requestId)));
    }

    // --- auditors ----------------------------------------------------------------------

    /**
     * @dev Registers identity `auditor`; it is drawn with weight equal to its stake.
     *
     * Requirements: the caller acts for `auditor`; its stake is at least `minAuditorStake`.
     *
     * Emits {AuditorJoined}.
     */
    function join(address auditor) external {
        _requireActor(auditor);
        if (_poolIndex[auditor] != 0) revert AuditsAlreadyAuditor(auditor);
        uint256 stake = _vault.stakeOf(auditor);
        if (stake < _parameters.minAuditorStake || stake == 0) {
            revert AuditsInsufficientStake(auditor, stake, _parameters.minAuditorStake);
        }
        _pool.push(auditor);
        _poolIndex[auditor] = _pool.length;
        emit AuditorJoined(auditor);
    }

    /**
     * @dev Removes `auditor` from the pool (panels it was already drawn for still count it).
     *
     * Requirements: the caller acts for `auditor`; registered.
     *
     * Emits {AuditorLeft}.
     */
    function leave(address auditor) external {
        _requireActor(auditor);
        uint256 indexPlusOne = _poolIndex[auditor];
        if (indexPlusOne == 0) revert AuditsNotAuditor(auditor);
        address last = _pool[_pool.length - 1];
        _pool[indexPlusOne - 1] = last;
        _poolIndex[last] = indexPlusOne;
        _pool.pop();
        delete _poolIndex[auditor];
        emit AuditorLeft(auditor);
    }

    // --- audits ------------------------------------------------------------------------

    /**
     * @dev Opens the audit lottery of fulfilled request `requestId`: requests fresh
     * randomness from the beacon. Anyone may call it. A model with audit rate 0 is never
     * sampled, and its requests close at once, as do requests settled by a zk proof.
     *
     * Requirements: the request is fulfilled; at most `openWindow` blocks after its
     * deadline; not opened before.
     *
     * Emits {AuditOpened}, or {AuditNotSampled}.
     */
    function open(uint256 requestId) external {
        InferenceOracle.Request memory request = _oracle.getRequest(requestId);
        if (request.status != InferenceOracle.Status.Fulfilled) {
            revert AuditsRequestNotFulfilled(requestId, request.status);
        }
        uint256 lastBlock = uint256(request.deadline) + _parameters.openWindow;
        if (block.number > lastBlock) revert AuditsWindowClosed(requestId, lastBlock);
        Audit storage audit = _audits[requestId];
        if (audit.status != Status.None) revert AuditsWrongStatus(requestId, audit.status);
        // A proven answer carries its own zk proof; only quorum answers are audited.
        if (_rates[request.modelId] == 0 || request.mode == InferenceOracle.Mode.Proven) {
            audit.status = Status.NotSampled;
            emit AuditNotSampled(requestId);
            return;
        }
        audit.status = Status.Drawing;
        audit.auditors = _parameters.auditors;
        audit.quorum = _parameters.quorum;
        bytes32 randomness = _beacon.requestRandomness(_purpose(requestId));
        emit AuditOpened(requestId, randomness);
    }

    /**
     * @dev Samples request `requestId` with its model's audit rate and, if sampled, draws
     * the panel by stake from the auditors that are not among `selected`, the request's
     * drawn providers (as in the oracle's {InferenceOracle-ProvidersSelected}). Anyone may
     * call it. Too few eligible auditors for a quorum makes the audit inconclusive.
     *
     * Requirements: the audit is drawing and its randomness fulfilled; `selected` is the
     * request's draw.
     *
     * Emits {AuditNotSampled}, {AuditorsDrawn}, or {AuditFinalized} (inconclusive).
     */
    function draw(uint256 requestId, address[] calldata selected) external {
        Audit storage audit = _audits[requestId];
        if (audit.status != Status.Drawing) revert AuditsWrongStatus(requestId, audit.status);
        bytes32 randomnessId = randomnessRequestId(requestId);
        if (!_beacon.getRequest(randomnessId).fulfilled) revert AuditsRandomnessPending(requestId, randomnessId);
        InferenceOracle.Request memory request = _oracle.getRequest(requestId);
        if (keccak256(abi.encodePacked(selected)) != request.selection) revert AuditsSelectionMismatch(requestId);
        bytes32 randomness = _beacon.randomnessOf(randomnessId);
        if (uint256(keccak256(abi.encode(randomness, "sample"))) % BPS >= _rates[request.modelId]) {
            audit.status = Status.NotSampled;
            emit AuditNotSampled(requestId);
            return;
        }
        (uint256[] memory weights, uint256 eligible) = _eligibleWeights(selected);
        if (eligible < audit.quorum) {
            audit.status = Status.Inconclusive;
            emit AuditFinalized(requestId, Status.Inconclusive, 0, 0, 0);
            return;
        }
        uint256 size = eligible < audit.auditors ? eligible : audit.auditors;
        uint256[] memory chosen =
            WeightedSelection.select(keccak256(abi.encode(randomness, "auditors")), weights, size);
        address[] memory panel = new address[](size);
        for (uint256 i = 0; i < size; ++i) {
            panel[i] = _pool[chosen[i]];
        }
        audit.status = Status.Auditing;
        audit.auditors = uint8(size);
        audit.panel = keccak256(abi.encodePacked(panel));
        audit.deadline = uint64(block.number) + _parameters.verdictBlocks;
        emit AuditorsDrawn(requestId, panel, audit.deadline);
    }

    /**
     * @dev Posts `auditor`'s verdict on request `requestId`: the value it computed (encoded
     * as the oracle's answers are) and the sha256 of its output document.
     *
     * Requirements: the caller acts for `auditor`; the audit is running and before its
     * deadline; `panel` is the drawn panel and contains `auditor`; no verdict yet.
     *
     * Emits {VerdictSubmitted}.
     */
    function submitVerdict(
        uint256 requestId,
        address auditor,
        address[] calldata panel,
        int256 value,
        bytes32 outputHash
    ) external {
        _requireActor(auditor);
        Audit storage audit = _requirePanel(requestId, panel);
        if (block.number > audit.deadline) revert AuditsDeadlinePassed(requestId, audit.deadline);
        if (!_contains(panel, auditor)) revert AuditsNotOnPanel(requestId, auditor);
        Verdict storage verdict = _verdicts[requestId][auditor];
        if (verdict.posted) revert AuditsAlreadySubmitted(requestId, auditor);
        verdict.posted = true;
        verdict.value = value;
        verdict.outputHash = outputHash;
        audit.verdicts += 1;
        emit VerdictSubmitted(requestId, auditor, value, outputHash);
    }

    /**
     * @dev Counts the verdicts on request `requestId` and acts on them (see the contract's
     * description). Anyone may call it.
     *
     * Requirements: the audit is running; every panel member posted, or the deadline
     * passed; `panel` and `selected` are the audit's panel and the request's draw.
     *
     * Emits {AuditFinalized}, {AuditorMissed} per silent auditor and, when overturned,
     * {SignerSlashed} per signer and {RequesterCompensated}.
     */
    function finalize(uint256 requestId, address[] calldata panel, address[] calldata selected)
        external
        nonReentrant
    {
        Audit storage audit = _requirePanel(requestId, panel);
        if (audit.verdicts < panel.length && block.number <= audit.deadline) {
            revert AuditsVerdictsPending(requestId, audit.verdicts, audit.deadline);
        }
        InferenceOracle.Request memory request = _oracle.getRequest(requestId);
        uint256 tolerance = request.mode == InferenceOracle.Mode.Median ? request.tolerance : 0;
        int256[] memory contradicting = new int256[](panel.length);
        uint256 against = 0;
        uint256 agreeing = 0;
        for (uint256 i = 0; i < panel.length; ++i) {
            Verdict storage verdict = _verdicts[requestId][panel[i]];
            if (!verdict.posted) {
                emit AuditorMissed(requestId, panel[i]);
                continue;
            }
            if (ResultAggregation.distance(verdict.value, request.result) <= tolerance) {
                ++agreeing;
            } else {
                contradicting[against++] = verdict.value;
            }
        }
        if (against >= audit.quorum) {
            assembly ("memory-safe") {
                mstore(contradicting, against)
            }
            int256 corrected =
                request.mode == InferenceOracle.Mode.Median ? ResultAggregation.lowerMedian(contradicting) : ResultAggregation.plurality(contradicting);
            audit.status = Status.Overturned;
            emit AuditFinalized(requestId, Status.Overturned, agreeing, against, corrected);
            _punish(requestId, corrected, selected);
        } else {
            Status outcome = agreeing >= audit.quorum ? Status.Confirmed : Status.Inconclusive;
            audit.status = outcome;
            emit AuditFinalized(requestId, outcome, agreeing, against, request.result);
        }
    }

    // --- governance --------------------------------------------------------------------

    /**
     * @dev Sets the share of model `modelId`'s fulfilled requests that are audited, in
     * basis points (0 .. 10000).
     *
     * Requirements: the caller has `GOVERNANCE_ROLE` (the timelock).
     *
     * Emits {AuditRateSet}.
     */
    function setAuditRate(bytes32 modelId, uint16 rateBps) external onlyRole(GOVERNANCE_ROLE) {
        if (rateBps > BPS) revert AuditsInvalidParameters("rateBps");
        _rates[modelId] = rateBps;
        emit AuditRateSet(modelId, rateBps);
    }

    /**
     * @dev Sets the rules audits opened from now on use.
     *
     * Requirements: the caller has `GOVERNANCE_ROLE`; `1 <= quorum <= auditors <=
     * MAX_AUDITORS`, `2·quorum > auditors`, `verdictBlocks >= 1`, `slashAmount > 0`.
     *
     * Emits {ParametersSet}.
     */
    function setParameters(Parameters calldata parameters_) external onlyRole(GOVERNANCE_ROLE) {
        _setParameters(parameters_);
    }

    // --- internals ---------------------------------------------------------------------

    function _setParameters(Parameters memory p) private {
        if (p.auditors == 0 || p.auditors > MAX_AUDITORS) revert AuditsInvalidParameters("auditors");
        if (p.quorum == 0 || p.quorum > p.auditors || 2 * uint256(p.quorum) <= p.auditors) {
            revert AuditsInvalidParameters("quorum");
        }
        if (p.verdictBlocks == 0) revert AuditsInvalidParameters("verdictBlocks");
        if (p.slashAmount == 0) revert AuditsInvalidParameters("slashAmount");
        _parameters = p;
        emit ParametersSet(p.auditors, p.quorum, p.verdictBlocks, p.openWindow, p.minAuditorStake, p.slashAmount);
    }

    /// @dev Overturns the request, slashes its agreeing signers and compensates the requester.
    function _punish(uint256 requestId, int256 corrected, address[] calldata selected) private {
        bytes32 evidence = keccak256(abi.encode(address(this), requestId, corrected));
        (address[] memory signers, uint256 shortfall, address requester) =
            _oracle.overturn(requestId, corrected, selected, evidence);
        uint256 slashed = 0;
        uint256 amount = _parameters.slashAmount;
        for (uint256 i = 0; i < signers.length; ++i) {
            uint256 taken = _vault.slashTo(signers[i], amount, evidence, address(this));
            slashed += taken;
            emit SignerSlashed(requestId, signers[i], taken);
        }
        uint256 compensation = shortfall < slashed ? shortfall : slashed;
        if (compensation > 0) {
            emit RequesterCompensated(requestId, requester, compensation);
            _token.safeTransfer(requester, compensation);
        }
        if (slashed > compensation) {
            (, address treasury,) = _vault.parameters();
            _token.safeTransfer(treasury, slashed - compensation);
        }
    }

    function _eligibleWeights(address[] calldata selected)
        private
        view
        returns (uint256[] memory weights, uint256 eligible)
    {
        uint256 n = _pool.length;
        weights = new uint256[](n);
        uint256 minStake = _parameters.minAuditorStake;
        for (uint256 i = 0; i < n; ++i) {
            address candidate = _pool[i];
            if (_contains(selected, candidate)) continue;
            uint256 stake = _vault.stakeOf(candidate);
            if (stake >= minStake && stake > 0) {
                weights[i] = stake;
                ++eligible;
            }
        }
    }

    function _requirePanel(uint256 requestId, address[] calldata panel) private view returns (Audit storage audit) {
        audit = _audits[requestId];
        if (audit.status != Status.Auditing) revert AuditsWrongStatus(requestId, audit.status);
        if (keccak256(abi.encodePacked(panel)) != audit.panel) revert AuditsPanelMismatch(requestId);
    }

    function _purpose(uint256 requestId) private view returns (bytes32) {
        return keccak256(abi.encode("audit", address(_oracle), requestId));
    }

    function _requireActor(address auditor) private view {
        if (!_registry.isActor(auditor, msg.sender)) revert AuditsNotActor(auditor, msg.sender);
    }

    function _contains(address[] calldata list, address item) private pure returns (bool) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == item) return true;
        }
        return false;
    }
}
