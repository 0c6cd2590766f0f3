// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {RandomnessBeacon} from "../randomness/RandomnessBeacon.sol";
import {WeightedSelection} from "../randomness/WeightedSelection.sol";
import {StakeVault} from "../staking/StakeVault.sol";

/**
 * @title TrainingCoordinator
 * @dev Federated training with no central server: trainers and aggregators meet here.
 *
 * A model owner creates a task naming a registry base version, a spec CID (model,
 * hyper-parameters, aggregation rule, privacy settings), the number of rounds, block
 * deadlines, the minimum number of trainers, committee size and quorum, the minimum stake
 * and a reward pool. Accounts with enough stake in the {StakeVault} join as trainers or
 * aggregators during the join window.
 *
 * Each round: trainers commit the sha256 of their (encrypted, stored) update with its CID
 * before the commit deadline. Then the {RandomnessBeacon} draws the round's committee from
 * the task's aggregators weighted by stake. Each member posts the aggregate's sha256 and CID,
 * the Merkle root over `(trainer, update sha256, score)` of every committed update in
 * canonical (address) order, the total score, and the round record's CID (the final round
 * adds the model manifest's CID). The first commitment that `quorum` members post finalises
 * the round; finalisation costs the same for any number of trainers. Members that posted
 * another commitment, or nothing by the deadline, are faults, slashable by anyone through
 * {slashAggregator}. A round with too few commits, or without quorum by the deadline, is
 * extended once and then aborts the task (remaining pool back to the creator): no phase can
 * wait forever.
 *
 * Rewards: each finalised round's share of the pool goes to its trainers pro rata to their
 * agreed score; a trainer claims with a Merkle proof. Score zero means the committee
 * rejected the update; a trainer rejected in `maxRejections` rounds can be slashed with
 * those rounds' commitments and proofs as evidence. The final round registers the aggregate
 * in the {ModelRegistry} as a new version with the base version as parent (the coordinator
 * needs the model's publisher role, granted by its owner).
 *
 * Secure aggregation (`secaggBlocks > 0`): a trainer's commit is then its key advert, and
 * once the committee is drawn three windows of `secaggBlocks` blocks follow, one per
 * message of the protocol (share bundles, masked input, unmask shares). Each committer posts
 * the sha256 and CID of each message with {postSecAgg} inside its window, after posting the
 * previous one; so the chain fixes who took part in which phase, and every party reads the
 * same routing and the same survivor list. The committee posts only after the last window,
 * and the aggregate deadline leaves `aggregateBlocks` for it. The beacon output of the
 * committee draw also seeds the protocol's neighbour graph.
 *
 * Trust assumption: at least `quorum` of each committee is honest and online; the beacon's
 * output is unpredictable at commit time (see RandomnessBeacon).
 */
contract TrainingCoordinator is ReentrancyGuard {
    using SafeERC20 for IERC20;

    enum Role {
        None,
        Trainer,
        Aggregator
    }

    enum Phase {
        Commit,
        Selecting,
        Aggregating,
        Completed,
        Aborted
    }

    enum Fault {
        None,
        Disagreed,
        Missed
    }

    /// @dev What a task creator chooses.
    struct TaskConfig {
        string model;
        uint256 baseVersion;
        bytes specCid;
        string license;
        uint32 rounds;
        uint32 minTrainers;
        uint32 committeeSize;
        uint32 quorum;
        uint64 joinBlocks;
        uint64 commitBlocks;
        uint64 aggregateBlocks;
        uint32 maxRejections;
        uint256 minStake;
        uint256 rewardPool;
        uint256 slashAmount;
        uint64 secaggBlocks;
    }

    struct Task {
        TaskConfig config;
        address creator;
        uint64 createdBlock;
        uint64 joinDeadline;
        uint32 trainers;
        uint32 round;
        Phase phase;
        uint256 paidOut;
        uint256 registeredVersion;
        bytes32 lastCommitment;
    }

    /// @dev One slot: the round's clock and counters.
    struct RoundState {
        uint64 commitDeadline;
        uint64 aggregateDeadline;
        uint32 commits;
        bool commitExtended;
        bool aggregateExtended;
        bool finalised;
        uint64 secaggStart;
        uint32 maskedInputs; // secure-aggregation step-2 posts: the round's survivors
    }

    /// @dev What a committee member posts for a round.
    struct AggregatePost {
        bytes32 aggregateSha256;
        bytes aggregateCid;
        bytes32 updatesRoot;
        uint256 totalScore;
        bytes recordCid;
        bytes manifestCid;
    }

    struct RoundResult {
        bytes32 commitment;
        bytes32 aggregateSha256;
        bytes32 updatesRoot;
        uint256 totalScore;
        uint256 reward;
        uint64 finalisedBlock;
    }

    ModelRegistry private immutable _registry;
    RandomnessBeacon private immutable _beacon;
    StakeVault private immutable _vault;
    IERC20 private immutable _token;

    mapping(uint256 taskId => Task) private _tasks;
    uint256 private _taskCount;
    mapping(uint256 taskId => mapping(address account => Role)) private _roles;
    mapping(uint256 taskId => address[]) private _aggregators;
    mapping(uint256 taskId => mapping(uint256 round => RoundState)) private _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address trainer => bytes32 updateSha256))) private
        _commits;
    mapping(uint256 taskId => mapping(uint256 round => address[])) private _committees;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address member => bytes32 commitment))) private _posts;
    mapping(uint256 taskId => mapping(uint256 round => mapping(bytes32 commitment => uint256 count))) private _tally;
    mapping(uint256 taskId => mapping(uint256 round => RoundResult)) private _results;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address trainer => bool))) private _claimed;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address member => bool))) private _aggregatorSlashed;
    mapping(uint256 taskId => mapping(address trainer => bool)) private _trainerSlashed;
    mapping(uint256 taskId => bytes32) private _finalRecordHash;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address trainer => uint8 steps))) private _secagg;

    event TaskCreated(uint256 indexed taskId, address indexed creator, string model, uint256 baseVersion, bytes specCid);
    event Joined(uint256 indexed taskId, address indexed account, Role role, uint256 stake);
    event RoundOpened(uint256 indexed taskId, uint256 indexed round, uint64 commitDeadline);
    event UpdateCommitted(uint256 indexed taskId, address indexed trainer, uint256 round, bytes32 updateSha256, bytes cid);
    event RoundExtended(uint256 indexed taskId, uint256 indexed round, Phase phase, uint64 newDeadline);
    event CommitteeRequested(uint256 indexed taskId, uint256 indexed round, bytes32 requestId, uint32 commits);
    event CommitteeSelected(uint256 indexed taskId, uint256 indexed round, address[] members, uint64 aggregateDeadline);
    event AggregatePosted(uint256 indexed taskId, uint256 indexed round, address indexed member, bytes32 commitment);
    event RoundFinalised(
        uint256 indexed taskId,
        uint256 indexed round,
        bytes32 commitment,
        bytes32 aggregateSha256,
        bytes aggregateCid,
        bytes32 updatesRoot,
        uint256 totalScore,
        bytes recordCid,
        uint256 reward
    );
    event SecAggPosted(
        uint256 indexed taskId, uint256 indexed round, address indexed trainer, uint8 step, bytes32 messageSha256, bytes cid
    );
    event CommitteeFault(uint256 indexed taskId, uint256 indexed round, address indexed member, Fault fault);
    event TaskCompleted(uint256 indexed taskId, uint256 version, bytes manifestCid, bytes recordCid);
    event ResultRegistrationFailed(uint256 indexed taskId, bytes reason);
    event TaskAborted(uint256 indexed taskId, uint256 indexed round, string reason, uint256 refund);
    event RewardClaimed(uint256 indexed taskId, uint256 indexed round, address indexed trainer, uint256 amount);
    event TrainerSlashed(uint256 indexed taskId, address indexed trainer, bytes32 evidence, uint256 amount);
    event AggregatorSlashed(uint256 indexed taskId, uint256 indexed round, address indexed member, Fault fault, uint256 amount);

    error CoordinatorInvalidConfig(string field);
    error CoordinatorNotModelOwner(address identity, address caller);
    error CoordinatorNotPublisher(string model);
    error CoordinatorUnknownTask(uint256 taskId);
    error CoordinatorJoinClosed(uint256 taskId, uint64 joinDeadline);
    error CoordinatorAlreadyJoined(uint256 taskId, address account);
    error CoordinatorInsufficientStake(address account, uint256 stake, uint256 minimum);
    error CoordinatorNotTrainer(uint256 taskId, address account);
    error CoordinatorWrongRound(uint256 taskId, uint256 round, uint256 currentRound);
    error CoordinatorWrongPhase(uint256 taskId, Phase phase);
    error CoordinatorCommitsNotOpen(uint256 taskId, uint64 opensAfter);
    error CoordinatorDeadlinePassed(uint256 taskId, uint256 round, uint64 deadline);
    error CoordinatorAlreadyCommitted(uint256 taskId, uint256 round, address trainer);
    error CoordinatorEmptyField(string field);
    error CoordinatorNothingToAdvance(uint256 taskId, Phase phase, uint64 dueAfter);
    error CoordinatorRandomnessPending(uint256 taskId, bytes32 requestId);
    error CoordinatorNotCommitteeMember(uint256 taskId, uint256 round, address account);
    error CoordinatorAlreadyPosted(uint256 taskId, uint256 round, address member);
    error CoordinatorRoundNotFinalised(uint256 taskId, uint256 round);
    error CoordinatorInvalidProof(uint256 taskId, uint256 round, address trainer);
    error CoordinatorAlreadyClaimed(uint256 taskId, uint256 round, address trainer);
    error CoordinatorNotRejected(uint256 taskId, uint256 round, address trainer);
    error CoordinatorTooFewRejections(uint256 provided, uint256 required);
    error CoordinatorAlreadySlashed(uint256 taskId, address account);
    error CoordinatorNoFault(uint256 taskId, uint256 round, address member);
    error CoordinatorNothingToRegister(uint256 taskId);
    error CoordinatorNoSecureAggregation(uint256 taskId);
    error CoordinatorSecAggWindow(uint256 taskId, uint256 round, uint8 step, uint64 opensAfter, uint64 closesAt);
    error CoordinatorSecAggOrder(uint256 taskId, uint256 round, address trainer, uint8 step);

    constructor(ModelRegistry registry_, RandomnessBeacon beacon_, StakeVault vault_, IERC20 token_) {
        _registry = registry_;
        _beacon = beacon_;
        _vault = vault_;
        _token = token_;
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The registry, beacon, vault and token this coordinator uses.
    function dependencies() external view returns (ModelRegistry, RandomnessBeacon, StakeVault, IERC20) {
        return (_registry, _beacon, _vault, _token);
    }

    /// @dev Number of tasks created.
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @dev A task.
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    /// @dev The role `account` joined task `taskId` with.
    function roleOf(uint256 taskId, address account) external view returns (Role) {
        return _roles[taskId][account];
    }

    /// @dev The task's aggregators (committee candidates), in join order.
    function aggregators(uint256 taskId) external view returns (address[] memory) {
        return _aggregators[taskId];
    }

    /// @dev A round's clock and counters.
    function getRound(uint256 taskId, uint256 round) external view returns (RoundState memory) {
        return _rounds[taskId][round];
    }

    /// @dev The update hash `trainer` committed in a round (zero if none).
    function commitOf(uint256 taskId, uint256 round, address trainer) external view returns (bytes32) {
        return _commits[taskId][round][trainer];
    }

    /// @dev A round's committee, in draw order.
    function committee(uint256 taskId, uint256 round) external view returns (address[] memory) {
        return _committees[taskId][round];
    }

    /// @dev The commitment `member` posted for a round (zero if none).
    function postOf(uint256 taskId, uint256 round, address member) external view returns (bytes32) {
        return _posts[taskId][round][member];
    }

    /// @dev Bit `step - 1` is set for each secure-aggregation message `trainer` posted in a round.
    function secAggSteps(uint256 taskId, uint256 round, address trainer) external view returns (uint8) {
        return _secagg[taskId][round][trainer];
    }

    /// @dev A finalised round's result.
    function getResult(uint256 taskId, uint256 round) external view returns (RoundResult memory) {
        return _results[taskId][round];
    }

    /// @dev Whether `trainer` claimed its reward for a round.
    function claimed(uint256 taskId, uint256 round, address trainer) external view returns (bool) {
        return _claimed[taskId][round][trainer];
    }

    /// @dev The beacon request id of a round's committee draw.
    function committeeRequestId(uint256 taskId, uint256 round) public view returns (bytes32) {
        return keccak256(abi.encode(address(this), _purpose(taskId, round)));
    }

    /// @dev The commitment a post stands for; equal posts have equal commitments.
    function commitmentOf(AggregatePost calldata post) public pure returns (bytes32) {
        return keccak256(
            abi.encode(
                post.aggregateSha256,
                keccak256(post.aggregateCid),
                post.updatesRoot,
                post.totalScore,
                keccak256(post.recordCid),
                keccak256(post.manifestCid)
            )
        );
    }

    /// @dev The leaf of `(trainer, update sha256, score)` in a round's updates tree.
    function updateLeaf(address trainer, bytes32 updateSha256, uint256 score) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(trainer, updateSha256, score))));
    }

    /// @dev `member`'s fault in a finalised round: posted another commitment, or nothing by the deadline.
    function faultOf(uint256 taskId, uint256 round, address member) public view returns (Fault) {
        RoundState storage state = _rounds[taskId][round];
        if (!state.finalised || !_inCommittee(taskId, round, member)) return Fault.None;
        bytes32 posted = _posts[taskId][round][member];
        if (posted == bytes32(0)) return block.number > state.aggregateDeadline ? Fault.Missed : Fault.None;
        return posted == _results[taskId][round].commitment ? Fault.None : Fault.Disagreed;
    }

    // --- creators ----------------------------------------------------------------------

    /**
     * @dev Creates a task for registry model `config.model`, acting for `owner`, an owner
     * identity of the model; pulls the reward pool from the caller.
     *
     * Requirements:
     * - the caller acts for `owner`, which owns the model; this coordinator holds the
     *   model's publisher role; the base version exists;
     * - rounds, trainers, committee and quorum are positive, `quorum <= committeeSize` and
     *   `2 * quorum > committeeSize` (two commitments cannot both reach quorum); every
     *   window is positive; the spec CID is not empty.
     *
     * Emits {TaskCreated}.
     */
    function createTask(TaskConfig calldata config, address owner) external nonReentrant returns (uint256 taskId) {
        _checkConfig(config);
        bytes32 modelId = _registry.modelId(config.model);
        if (!_registry.hasModelRole(modelId, _registry.MODEL_OWNER_ROLE(), owner) || !_registry.isActor(owner, msg.sender))
        {
            revert CoordinatorNotModelOwner(owner, msg.sender);
        }
        if (!_registry.hasModelRole(modelId, _registry.MODEL_PUBLISHER_ROLE(), address(this))) {
            revert CoordinatorNotPublisher(config.model);
        }
        _registry.getVersion(modelId, config.baseVersion); // reverts for an unknown version
        taskId = _taskCount++;
        Task storage task = _tasks[taskId];
        task.config = config;
        task.creator = msg.sender;
        task.createdBlock = uint64(block.number);
        task.joinDeadline = uint64(block.number) + config.joinBlocks;
        task.round = 1;
        task.phase = Phase.Commit;
        _rounds[taskId][1].commitDeadline = task.joinDeadline + config.commitBlocks;
        emit TaskCreated(taskId, msg.sender, config.model, config.baseVersion, config.specCid);
        emit RoundOpened(taskId, 1, task.joinDeadline + config.commitBlocks);
        if (config.rewardPool > 0) _token.safeTransferFrom(msg.sender, address(this), config.rewardPool);
    }

    // --- participants ------------------------------------------------------------------

    /**
     * @dev Joins a task as trainer or aggregator until its join deadline.
     *
     * Requirements: the caller has not joined; its active stake is at least the minimum.
     *
     * Emits {Joined}.
     */
    function join(uint256 taskId, Role role) external {
        Task storage task = _task(taskId);
        if (block.number > task.joinDeadline) revert CoordinatorJoinClosed(taskId, task.joinDeadline);
        if (role == Role.None) revert CoordinatorInvalidConfig("role");
        if (_roles[taskId][msg.sender] != Role.None) revert CoordinatorAlreadyJoined(taskId, msg.sender);
        uint256 stake = _vault.stakeOf(msg.sender);
        if (stake < task.config.minStake) revert CoordinatorInsufficientStake(msg.sender, stake, task.config.minStake);
        _roles[taskId][msg.sender] = role;
        if (role == Role.Trainer) task.trainers += 1;
        else _aggregators[taskId].push(msg.sender);
        emit Joined(taskId, msg.sender, role, stake);
    }

    /**
     * @dev Commits the sha256 of the caller's update for `round` and the CID of its stored
     * (encrypted) form, after the join window and before the round's commit deadline.
     *
     * Emits {UpdateCommitted}.
     */
    function commitUpdate(uint256 taskId, uint256 round, bytes32 updateSha256, bytes calldata cid) external {
        // Only a joined trainer passes, and joining needs an existing task: no separate
        // existence check on this hot path.
        if (_roles[taskId][msg.sender] != Role.Trainer) revert CoordinatorNotTrainer(taskId, msg.sender);
        Task storage task = _tasks[taskId];
        if (round != task.round) revert CoordinatorWrongRound(taskId, round, task.round);
        if (task.phase != Phase.Commit) revert CoordinatorWrongPhase(taskId, task.phase);
        if (block.number <= task.joinDeadline) revert CoordinatorCommitsNotOpen(taskId, task.joinDeadline);
        RoundState storage state = _rounds[taskId][round];
        if (block.number > state.commitDeadline) revert CoordinatorDeadlinePassed(taskId, round, state.commitDeadline);
        if (updateSha256 == bytes32(0)) revert CoordinatorEmptyField("updateSha256");
        if (cid.length == 0) revert CoordinatorEmptyField("cid");
        if (_commits[taskId][round][msg.sender] != bytes32(0)) revert CoordinatorAlreadyCommitted(taskId, round, msg.sender);
        _commits[taskId][round][msg.sender] = updateSha256;
        state.commits += 1;
        emit UpdateCommitted(taskId, msg.sender, round, updateSha256, cid);
    }

    /**
     * @dev Moves a task on when its current phase is due; anyone may call it.
     *
     * - Commit phase past its deadline: with at least `minTrainers` commits, requests the
     *   committee draw from the beacon; with fewer, extends the window once, then aborts.
     * - Selecting: once the beacon fulfilled the draw, picks the committee by stake.
     * - Aggregating past its deadline without quorum: extends once, then aborts.
     *
     * Emits {CommitteeRequested}, {CommitteeSelected}, {RoundExtended} or {TaskAborted}.
     */
    function advance(uint256 taskId) external nonReentrant {
        Task storage task = _task(taskId);
        uint256 round = task.round;
        RoundState storage state = _rounds[taskId][round];
        if (task.phase == Phase.Commit) {
            if (block.number <= state.commitDeadline) {
                revert CoordinatorNothingToAdvance(taskId, task.phase, state.commitDeadline);
            }
            if (state.commits < task.config.minTrainers) {
                if (!state.commitExtended) {
                    state.commitExtended = true;
                    state.commitDeadline = uint64(block.number) + task.config.commitBlocks;
                    emit RoundExtended(taskId, round, Phase.Commit, state.commitDeadline);
                } else {
                    _abort(taskId, task, "too few commits");
                }
                return;
            }
            task.phase = Phase.Selecting;
            bytes32 requestId = _beacon.requestRandomness(_purpose(taskId, round));
            emit CommitteeRequested(taskId, round, requestId, state.commits);
        } else if (task.phase == Phase.Selecting) {
            _selectCommittee(taskId, task, round, state);
        } else if (task.phase == Phase.Aggregating) {
            if (block.number <= state.aggregateDeadline) {
                revert CoordinatorNothingToAdvance(taskId, task.phase, state.aggregateDeadline);
            }
            if (!state.aggregateExtended) {
                state.aggregateExtended = true;
                state.aggregateDeadline = uint64(block.number) + task.config.aggregateBlocks;
                emit RoundExtended(taskId, round, Phase.Aggregating, state.aggregateDeadline);
            } else {
                _abort(taskId, task, "no committee quorum");
            }
        } else {
            revert CoordinatorWrongPhase(taskId, task.phase);
        }
    }

    /**
     * @dev Posts the sha256 and CID of the caller's secure-aggregation message `step`
     * (1 share bundles, 2 masked input, 3 unmask shares) for the current round, inside the
     * step's window: blocks `(secaggStart + (step - 1) * secaggBlocks, secaggStart + step *
     * secaggBlocks]`.
     *
     * Requirements: the task uses secure aggregation; the caller committed in the round;
     * it posted every earlier step and not this one. A step-2 post counts in the round's
     * `maskedInputs` (the survivors trainers check before they help unmask).
     *
     * Emits {SecAggPosted}.
     */
    function postSecAgg(uint256 taskId, uint256 round, uint8 step, bytes32 messageSha256, bytes calldata cid)
        external
    {
        Task storage task = _task(taskId);
        uint64 window = task.config.secaggBlocks;
        if (window == 0) revert CoordinatorNoSecureAggregation(taskId);
        if (round != task.round) revert CoordinatorWrongRound(taskId, round, task.round);
        if (task.phase != Phase.Aggregating) revert CoordinatorWrongPhase(taskId, task.phase);
        if (_commits[taskId][round][msg.sender] == bytes32(0)) revert CoordinatorNotTrainer(taskId, msg.sender);
        if (step == 0 || step > 3) revert CoordinatorInvalidConfig("step");
        if (messageSha256 == bytes32(0)) revert CoordinatorEmptyField("messageSha256");
        if (cid.length == 0) revert CoordinatorEmptyField("cid");
        uint64 start = _rounds[taskId][round].secaggStart;
        uint64 opensAfter = start + (step - 1) * window;
        uint64 closesAt = opensAfter + window;
        if (block.number <= opensAfter || block.number > closesAt) {
            revert CoordinatorSecAggWindow(taskId, round, step, opensAfter, closesAt);
        }
        uint8 steps = _secagg[taskId][round][msg.sender];
        uint8 bit = uint8(1) << (step - 1);
        if (steps != bit - 1) revert CoordinatorSecAggOrder(taskId, round, msg.sender, step);
        _secagg[taskId][round][msg.sender] = steps | bit;
        if (step == 2) ++_rounds[taskId][round].maskedInputs;
        emit SecAggPosted(taskId, round, msg.sender, step, messageSha256, cid);
    }

    /**
     * @dev Posts the caller's aggregate for the current round as a committee member. The
     * post that brings a commitment to quorum finalises the round, opens the next one or,
     * after the last, registers the model version. Members may still post until the
     * deadline after finalisation; a different commitment is then recorded as a fault.
     *
     * Emits {AggregatePosted}; {RoundFinalised} (and {CommitteeFault} for members that
     * posted otherwise) on quorum; {CommitteeFault} for a late dissent.
     */
    function postAggregate(uint256 taskId, uint256 round, AggregatePost calldata post) external nonReentrant {
        Task storage task = _task(taskId);
        RoundState storage state = _rounds[taskId][round];
        if (!_inCommittee(taskId, round, msg.sender)) revert CoordinatorNotCommitteeMember(taskId, round, msg.sender);
        if (block.number > state.aggregateDeadline) revert CoordinatorDeadlinePassed(taskId, round, state.aggregateDeadline);
        if (_posts[taskId][round][msg.sender] != bytes32(0)) revert CoordinatorAlreadyPosted(taskId, round, msg.sender);
        uint64 secaggEnd = state.secaggStart + 3 * task.config.secaggBlocks;
        if (task.config.secaggBlocks > 0 && block.number <= secaggEnd) {
            revert CoordinatorSecAggWindow(taskId, round, 4, secaggEnd, state.aggregateDeadline);
        }
        if (post.aggregateSha256 == bytes32(0) || post.updatesRoot == bytes32(0)) revert CoordinatorEmptyField("hash");
        if (post.aggregateCid.length == 0 || post.recordCid.length == 0) revert CoordinatorEmptyField("cid");
        bytes32 commitment = commitmentOf(post);
        _posts[taskId][round][msg.sender] = commitment;
        uint256 count = ++_tally[taskId][round][commitment];
        emit AggregatePosted(taskId, round, msg.sender, commitment);
        if (state.finalised) {
            if (commitment != _results[taskId][round].commitment) {
                emit CommitteeFault(taskId, round, msg.sender, Fault.Disagreed);
            }
            return;
        }
        if (task.phase != Phase.Aggregating || round != task.round) revert CoordinatorWrongPhase(taskId, task.phase);
        if (count >= task.config.quorum) _finalise(taskId, task, round, state, post, commitment);
    }

    /**
     * @dev Pays `trainer`'s share of a finalised round's reward: `reward * score / totalScore`,
     * proven by a Merkle proof of `(trainer, updateSha256, score)` against the round's root.
     *
     * Emits {RewardClaimed}.
     */
    function claimReward(uint256 taskId, uint256 round, bytes32 updateSha256, uint256 score, bytes32[] calldata proof)
        external
        nonReentrant
        returns (uint256 amount)
    {
        RoundResult storage result = _finalisedResult(taskId, round);
        if (_claimed[taskId][round][msg.sender]) revert CoordinatorAlreadyClaimed(taskId, round, msg.sender);
        if (!MerkleProof.verifyCalldata(proof, result.updatesRoot, updateLeaf(msg.sender, updateSha256, score))) {
            revert CoordinatorInvalidProof(taskId, round, msg.sender);
        }
        _claimed[taskId][round][msg.sender] = true;
        amount = result.totalScore == 0 ? 0 : (result.reward * score) / result.totalScore;
        emit RewardClaimed(taskId, round, msg.sender, amount);
        if (amount > 0) _token.safeTransfer(msg.sender, amount);
    }

    // --- accountability ----------------------------------------------------------------

    /**
     * @dev Slashes a trainer the committee rejected (score zero) in at least `maxRejections`
     * finalised rounds of a task; the evidence hash binds the task, the trainer and those
     * rounds' commitments. Anyone may call it, once per trainer and task.
     *
     * Emits {TrainerSlashed}.
     */
    function slashTrainer(
        uint256 taskId,
        address trainer,
        uint256[] calldata rounds,
        bytes32[] calldata updateHashes,
        bytes32[][] calldata proofs
    ) external nonReentrant returns (uint256 taken) {
        Task storage task = _task(taskId);
        if (_trainerSlashed[taskId][trainer]) revert CoordinatorAlreadySlashed(taskId, trainer);
        uint32 required = task.config.maxRejections;
        if (required == 0 || rounds.length < required) revert CoordinatorTooFewRejections(rounds.length, required);
        if (updateHashes.length != rounds.length || proofs.length != rounds.length) revert CoordinatorInvalidConfig("proofs");
        bytes32[] memory commitments = new bytes32[](rounds.length);
        for (uint256 i = 0; i < rounds.length; ++i) {
            if (i > 0 && rounds[i] <= rounds[i - 1]) revert CoordinatorInvalidConfig("rounds");
            commitments[i] = _rejection(taskId, trainer, rounds[i], updateHashes[i], proofs[i]);
        }
        _trainerSlashed[taskId][trainer] = true;
        bytes32 evidence = keccak256(abi.encode(taskId, trainer, rounds, commitments));
        taken = _vault.slash(trainer, task.config.slashAmount, evidence);
        emit TrainerSlashed(taskId, trainer, evidence, taken);
    }

    /**
     * @dev Slashes a committee member that disagreed with a finalised round's commitment or
     * posted nothing by the deadline; evidence binds the round, the agreed commitment and
     * the member's post. Anyone may call it, once per member and round.
     *
     * Emits {AggregatorSlashed}.
     */
    function slashAggregator(uint256 taskId, uint256 round, address member) external nonReentrant returns (uint256 taken) {
        Task storage task = _task(taskId);
        Fault fault = faultOf(taskId, round, member);
        if (fault == Fault.None) revert CoordinatorNoFault(taskId, round, member);
        if (_aggregatorSlashed[taskId][round][member]) revert CoordinatorAlreadySlashed(taskId, member);
        _aggregatorSlashed[taskId][round][member] = true;
        bytes32 evidence = keccak256(
            abi.encode(taskId, round, _results[taskId][round].commitment, _posts[taskId][round][member])
        );
        taken = _vault.slash(member, task.config.slashAmount, evidence);
        emit AggregatorSlashed(taskId, round, member, fault, taken);
    }

    /**
     * @dev Retries registering a completed task's model version after the registry refused
     * it (for example while the model was paused). Anyone may call it.
     */
    function registerResult(uint256 taskId, bytes calldata aggregateCid, bytes calldata manifestCid)
        external
        nonReentrant
        returns (uint256 version)
    {
        Task storage task = _task(taskId);
        uint256 last = task.config.rounds;
        if (task.phase != Phase.Completed || task.registeredVersion != 0) revert CoordinatorNothingToRegister(taskId);
        RoundResult storage result = _results[taskId][last];
        // The CIDs must be the ones the quorum agreed to: re-derive the final commitment.
        bytes32 expected = keccak256(
            abi.encode(
                result.aggregateSha256,
                keccak256(aggregateCid),
                result.updatesRoot,
                result.totalScore,
                _finalRecordHash[taskId],
                keccak256(manifestCid)
            )
        );
        if (expected != result.commitment) revert CoordinatorNothingToRegister(taskId);
        version = _registry.registerOwnVersion(task.config.model, _versionInput(task, result.aggregateSha256, aggregateCid, manifestCid));
        task.registeredVersion = version;
        emit TaskCompleted(taskId, version, manifestCid, "");
    }

    // --- internals ---------------------------------------------------------------------

    function _finalise(
        uint256 taskId,
        Task storage task,
        uint256 round,
        RoundState storage state,
        AggregatePost calldata post,
        bytes32 commitment
    ) private {
        state.finalised = true;
        uint256 rounds = task.config.rounds;
        uint256 reward = task.config.rewardPool / rounds;
        if (round == rounds) reward = task.config.rewardPool - task.paidOut;
        task.paidOut += reward;
        task.lastCommitment = commitment;
        _results[taskId][round] = RoundResult({
            commitment: commitment,
            aggregateSha256: post.aggregateSha256,
            updatesRoot: post.updatesRoot,
            totalScore: post.totalScore,
            reward: reward,
            finalisedBlock: uint64(block.number)
        });
        emit RoundFinalised(
            taskId, round, commitment, post.aggregateSha256, post.aggregateCid, post.updatesRoot, post.totalScore, post.recordCid, reward
        );
        address[] storage members = _committees[taskId][round];
        for (uint256 i = 0; i < members.length; ++i) {
            bytes32 posted = _posts[taskId][round][members[i]];
            if (posted != bytes32(0) && posted != commitment) emit CommitteeFault(taskId, round, members[i], Fault.Disagreed);
        }
        if (round < rounds) {
            task.round = uint32(round + 1);
            task.phase = Phase.Commit;
            uint64 deadline = uint64(block.number) + task.config.commitBlocks;
            _rounds[taskId][round + 1].commitDeadline = deadline;
            emit RoundOpened(taskId, round + 1, deadline);
            return;
        }
        task.phase = Phase.Completed;
        _finalRecordHash[taskId] = keccak256(post.recordCid);
        if (post.manifestCid.length == 0) {
            emit ResultRegistrationFailed(taskId, "no manifest CID in the final post");
            return;
        }
        try _registry.registerOwnVersion(
            task.config.model, _versionInput(task, post.aggregateSha256, post.aggregateCid, post.manifestCid)
        ) returns (uint256 version) {
            task.registeredVersion = version;
            emit TaskCompleted(taskId, version, post.manifestCid, post.recordCid);
        } catch (bytes memory reason) {
            emit ResultRegistrationFailed(taskId, reason);
        }
    }

    /// @dev The commitment of a finalised round in which `trainer`'s update scored zero.
    function _rejection(uint256 taskId, address trainer, uint256 round, bytes32 updateSha256, bytes32[] calldata proof)
        private
        view
        returns (bytes32)
    {
        RoundResult storage result = _finalisedResult(taskId, round);
        if (!MerkleProof.verifyCalldata(proof, result.updatesRoot, updateLeaf(trainer, updateSha256, 0))) {
            revert CoordinatorNotRejected(taskId, round, trainer);
        }
        return result.commitment;
    }

    function _versionInput(Task storage task, bytes32 sha256Hash, bytes memory cid, bytes memory manifestCid)
        private
        view
        returns (ModelRegistry.VersionInput memory)
    {
        return ModelRegistry.VersionInput({
            artifactSha256: sha256Hash,
            artifactCid: cid,
            format: "safetensors",
            license: task.config.license,
            metadataCid: manifestCid,
            parentVersion: task.config.baseVersion
        });
    }

    function _selectCommittee(uint256 taskId, Task storage task, uint256 round, RoundState storage state) private {
        bytes32 requestId = committeeRequestId(taskId, round);
        if (!_beacon.getRequest(requestId).fulfilled) revert CoordinatorRandomnessPending(taskId, requestId);
        bytes32 output = _beacon.randomnessOf(requestId);
        address[] storage candidates = _aggregators[taskId];
        uint256[] memory weights = new uint256[](candidates.length);
        uint256 eligible = 0;
        for (uint256 i = 0; i < candidates.length; ++i) {
            uint256 stake = _vault.stakeOf(candidates[i]);
            if (stake >= task.config.minStake && stake > 0) {
                weights[i] = stake;
                ++eligible;
            }
        }
        if (eligible < task.config.quorum) {
            _abort(taskId, task, "too few staked aggregators");
            return;
        }
        uint256 size = eligible < task.config.committeeSize ? eligible : task.config.committeeSize;
        uint256[] memory chosen = WeightedSelection.select(keccak256(abi.encode(output, "committee")), weights, size);
        address[] storage members = _committees[taskId][round];
        address[] memory drawn = new address[](size);
        for (uint256 i = 0; i < size; ++i) {
            drawn[i] = candidates[chosen[i]];
            members.push(drawn[i]);
        }
        task.phase = Phase.Aggregating;
        state.secaggStart = uint64(block.number);
        state.aggregateDeadline = uint64(block.number) + 3 * task.config.secaggBlocks + task.config.aggregateBlocks;
        emit CommitteeSelected(taskId, round, drawn, state.aggregateDeadline);
    }

    function _abort(uint256 taskId, Task storage task, string memory reason) private {
        task.phase = Phase.Aborted;
        uint256 refund = task.config.rewardPool - task.paidOut;
        task.paidOut = task.config.rewardPool;
        emit TaskAborted(taskId, task.round, reason, refund);
        if (refund > 0) _token.safeTransfer(task.creator, refund);
    }

    function _checkConfig(TaskConfig calldata config) private pure {
        if (config.rounds == 0) revert CoordinatorInvalidConfig("rounds");
        if (config.minTrainers == 0 || (config.secaggBlocks > 0 && config.minTrainers < 2)) {
            revert CoordinatorInvalidConfig("minTrainers");
        }
        if (config.committeeSize == 0) revert CoordinatorInvalidConfig("committeeSize");
        if (config.quorum == 0 || config.quorum > config.committeeSize || 2 * config.quorum <= config.committeeSize) {
            revert CoordinatorInvalidConfig("quorum");
        }
        if (config.joinBlocks == 0) revert CoordinatorInvalidConfig("joinBlocks");
        if (config.commitBlocks == 0) revert CoordinatorInvalidConfig("commitBlocks");
        if (config.aggregateBlocks == 0) revert CoordinatorInvalidConfig("aggregateBlocks");
        if (config.specCid.length == 0) revert CoordinatorInvalidConfig("specCid");
        if (bytes(config.license).length == 0) revert CoordinatorInvalidConfig("license");
    }

    function _task(uint256 taskId) private view returns (Task storage) {
        if (taskId >= _taskCount) revert CoordinatorUnknownTask(taskId);
        return _tasks[taskId];
    }

    function _finalisedResult(uint256 taskId, uint256 round) private view returns (RoundResult storage) {
        _task(taskId);
        if (!_rounds[taskId][round].finalised) revert CoordinatorRoundNotFinalised(taskId, round);
        return _results[taskId][round];
    }

    function _inCommittee(uint256 taskId, uint256 round, address account) private view returns (bool) {
        address[] storage members = _committees[taskId][round];
        for (uint256 i = 0; i < members.length; ++i) {
            if (members[i] == account) return true;
        }
        return false;
    }

    function _purpose(uint256 taskId, uint256 round) private pure returns (bytes32) {
        return keccak256(abi.encode("ledgerlearn.training.committee", taskId, round));
    }
}
