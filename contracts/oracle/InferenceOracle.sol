// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {ResultAggregation} from "./ResultAggregation.sol";
import {RandomnessBeacon} from "../randomness/RandomnessBeacon.sol";
import {WeightedSelection} from "../randomness/WeightedSelection.sol";
import {StakeVault} from "../staking/StakeVault.sol";

/// @dev The verifier EZKL renders for a circuit (Halo2, KZG on BN254).
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/**
 * @title InferenceOracle
 * @dev Inference answered by several independent providers and settled by one report.
 *
 * Providers are identities (ERC-1056, see {ModelRegistry-isActor}) with stake in the
 * {StakeVault}; each declares the registered model versions it serves. A request names a
 * model and a version, or a channel resolved to its version when the request is made, the
 * input's sha256 and CID, the redundancy `k`, a quorum (`2·quorum > k`), an aggregation mode
 * (median of numbers, or majority of labels), a tolerance, a deadline in blocks and a fee
 * held in escrow. The {RandomnessBeacon} then draws `k` providers serving that version,
 * weighted by stake ({selectProviders}, callable by anyone once the draw is fulfilled).
 *
 * Fulfilment is one transaction: the result and at least `quorum` answers, each an EIP-712
 * signature by a selected provider (owner key or `veriKey` delegate) over the request id,
 * the model's artifact hash, the input hash, its output hash and value; the domain binds the
 * chain id and this contract. The contract recomputes the aggregate from the signed values
 * (lower median; or the most frequent label), requires the report's result to equal it and
 * at least `quorum` answers to agree with it (within `tolerance` for the median; equal for
 * labels), pays the fee to the agreeing signers, and records every signer's deviation. A
 * result at or above the threshold governance set for the model, or a split vote (a third or
 * more of the answers disagree), emits {ReviewRequested}. Unfulfilled requests are refunded
 * after the deadline; a version revoked in the registry cannot be served, requested or
 * answered.
 *
 * A fulfilled request may later be overturned by the audit module ({AUDITOR_ROLE}, see
 * {InferenceAudits}) when a quorum of independent auditors contradicts the result: the
 * contract records which drawn providers agreed with the result (a bit per draw position),
 * and {overturn} returns those signers, claws their share of the fee back from their unpaid
 * fees, refunds it to the requester and marks the request overturned.
 *
 * A request in `Proven` mode is settled by one drawn provider's zk proof instead of a quorum
 * ({fulfilWithProof}): the version must have a circuit bound in the registry, the request
 * carries the circuit's Poseidon hash of its input (`zkInputHash`, which anyone can recompute
 * from the input at its CID), and the proof must verify on the bound verifier with public
 * instances `[zkInputHash, the version's weight commitment, logits...]`. The result is the
 * label with the largest proven logit; the prover is paid the fee.
 *
 * A request in `Optimistic` mode is settled by one drawn provider's bonded claim that
 * survives a challenge window in the dispute module ({OPTIMISTIC_ROLE}, see
 * {OptimisticInference}); its `zkInputHash` then carries the keccak commitment to the
 * fixed-point input (trace leaf 0). {claim} locks the request, {settleClaim} ends it.
 *
 * Trust: providers may be Byzantine; an honest quorum among the drawn providers is assumed,
 * and the draw comes from the beacon. Whoever submits the report (the gateway, or any
 * provider after a timeout) is not trusted: every signature, the draw and the aggregate are
 * checked here.
 */
contract InferenceOracle is AccessControl, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;
    using SafeCast for int256;

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");
    bytes32 public constant OPTIMISTIC_ROLE = keccak256("OPTIMISTIC_ROLE");
    bytes32 public constant ANSWER_TYPEHASH = keccak256(
        "Answer(uint256 requestId,bytes32 modelHash,bytes32 inputHash,bytes32 outputHash,int256 value)"
    );
    uint256 public constant MAX_REDUNDANCY = 16;
    uint256 public constant MAX_DEADLINE_BLOCKS = 100_000;
    /// @dev The scalar field of BN254: every zk public instance is below it.
    uint256 public constant BN254_ORDER =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    enum Mode {
        Median,
        Majority,
        Proven,
        Optimistic
    }

    enum Status {
        None,
        Selecting,
        Open,
        Fulfilled,
        Refunded,
        Overturned,
        Claimed
    }

    /// @dev What a requester asks; `version` 0 means "the version `channel` points at now".
    struct RequestInput {
        bytes32 modelId;
        string channel;
        uint256 version;
        bytes32 inputHash;
        bytes inputCid;
        uint8 redundancy;
        uint8 quorum;
        Mode mode;
        uint256 tolerance;
        uint64 deadlineBlocks;
        uint256 fee;
        uint256 zkInputHash;
    }

    /// @dev Laid out so that fulfilment reads six slots and writes three already non-zero
    /// ones. `agreed` has bit `i` set when the `i`-th drawn provider signed an answer that
    /// agreed with the result.
    struct Request {
        address requester;
        Status status;
        Mode mode;
        uint8 redundancy;
        uint8 quorum;
        uint64 deadline;
        bytes32 modelId;
        bytes32 modelHash;
        bytes32 inputHash;
        uint64 version;
        uint128 tolerance;
        uint32 agreed;
        uint128 fee;
        int128 result;
        bytes32 selection;
    }

    /// @dev One provider's signed answer, as carried in a report.
    struct Answer {
        address provider;
        bytes32 outputHash;
        int256 value;
        bytes signature;
    }

    /// @dev Running totals per provider, one storage slot.
    struct ProviderStats {
        uint128 fees;
        uint32 answered;
        uint32 deviated;
        uint64 lastRequest;
    }

    struct ReviewThreshold {
        bool enabled;
        int256 threshold;
    }

    ModelRegistry private immutable _registry;
    RandomnessBeacon private immutable _beacon;
    StakeVault private immutable _vault;
    IERC20 private immutable _token;
    uint256 private _minProviderStake;

    uint256 private _requestCount;
    mapping(uint256 requestId => Request) private _requests;
    mapping(bytes32 modelId => mapping(uint256 version => address[] providers)) private _servers;
    mapping(bytes32 modelId => mapping(uint256 version => mapping(address provider => uint256 indexPlusOne)))
        private _serverIndex;
    mapping(address provider => ProviderStats) private _stats;
    mapping(bytes32 modelId => ReviewThreshold) private _reviews;
    mapping(uint256 requestId => uint256 zkInputHash) private _zkInputs;

    event ProviderServing(address indexed provider, bytes32 indexed modelId, uint256 version, bool serving);
    event InferenceRequested(
        uint256 indexed requestId,
        address indexed requester,
        bytes32 indexed modelId,
        uint256 version,
        bytes32 inputHash,
        bytes inputCid,
        uint64 deadline
    );
    event ProvidersSelected(uint256 indexed requestId, address[] providers);
    event AnswerRecorded(
        uint256 indexed requestId, address indexed provider, int256 value, bytes32 outputHash, uint256 deviation, bool agreed
    );
    event InferenceFulfilled(uint256 indexed requestId, int256 result, bytes32 outputHash, uint256 agreeing, address reporter);
    event ReviewRequested(uint256 indexed requestId, bytes32 indexed modelId, uint256 version, string reason, int256 result);
    event RequestRefunded(uint256 indexed requestId, address indexed requester, uint256 fee, string reason);
    event FeesWithdrawn(address indexed provider, address indexed to, uint256 amount);
    event ReviewThresholdSet(bytes32 indexed modelId, bool enabled, int256 threshold);
    event MinProviderStakeSet(uint256 amount);
    event ProofAccepted(uint256 indexed requestId, address indexed provider, address verifier, int256 label);
    event RequestOverturned(
        uint256 indexed requestId, int256 corrected, address[] signers, uint256 refunded, bytes32 evidence
    );

    error OracleNotActor(address provider, address actor);
    error OracleVersionRevoked(bytes32 modelId, uint256 version);
    error OracleUnknownChannel(bytes32 modelId, string channel);
    error OracleAlreadyServing(address provider, bytes32 modelId, uint256 version);
    error OracleNotServing(address provider, bytes32 modelId, uint256 version);
    error OracleInvalidRequest(string field);
    error OracleTooFewProviders(bytes32 modelId, uint256 version, uint256 serving, uint256 quorum);
    error OracleUnknownRequest(uint256 requestId);
    error OracleWrongStatus(uint256 requestId, Status status);
    error OracleDeadlinePassed(uint256 requestId, uint64 deadline);
    error OracleDeadlineNotPassed(uint256 requestId, uint64 deadline);
    error OracleRandomnessPending(uint256 requestId, bytes32 randomnessRequestId);
    error OracleTooFewAnswers(uint256 requestId, uint256 answers, uint256 quorum);
    error OracleProvidersNotAscending(uint256 requestId, address provider);
    error OracleProviderNotSelected(uint256 requestId, address provider);
    error OracleSelectionMismatch(uint256 requestId);
    error OracleInvalidSignature(uint256 requestId, address provider, address signer);
    error OracleResultMismatch(uint256 requestId, int256 reported, int256 computed);
    error OracleNoAgreement(uint256 requestId, uint256 agreeing, uint256 quorum);
    error OracleNothingToWithdraw(address provider);
    error OracleNoCircuit(bytes32 modelId, uint256 version);
    error OracleWrongMode(uint256 requestId, Mode mode);
    error OracleInstanceMismatch(uint256 requestId, uint256 index);
    error OracleInvalidProof(uint256 requestId);

    constructor(
        ModelRegistry registry,
        RandomnessBeacon beacon,
        StakeVault vault,
        IERC20 token,
        address governance,
        uint256 minProviderStake
    ) EIP712("LedgerLearn InferenceOracle", "1") {
        _registry = registry;
        _beacon = beacon;
        _vault = vault;
        _token = token;
        _minProviderStake = minProviderStake;
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The registry, beacon, vault and token this oracle uses, and the least stake a provider needs.
    function parameters() external view returns (ModelRegistry, RandomnessBeacon, StakeVault, IERC20, uint256) {
        return (_registry, _beacon, _vault, _token, _minProviderStake);
    }

    /// @dev How many requests were made (ids are 0 .. count - 1).
    function requestCount() external view returns (uint256) {
        return _requestCount;
    }

    /// @dev Everything recorded about request `requestId`.
    function getRequest(uint256 requestId) external view returns (Request memory) {
        return _request(requestId);
    }

    /// @dev The commitment to a draw: keccak256 of the drawn addresses, each padded to 32 bytes.
    function selectionOf(address[] calldata providers) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(providers));
    }

    /// @dev The circuit's Poseidon hash of the input of a `Proven` request (0 for others).
    function zkInputHashOf(uint256 requestId) external view returns (uint256) {
        return _zkInputs[requestId];
    }

    /// @dev The providers that declared they serve `version` of model `modelId`.
    function providersOf(bytes32 modelId, uint256 version) external view returns (address[] memory) {
        return _servers[modelId][version];
    }

    /// @dev Whether `provider` serves `version` of model `modelId`.
    function serves(address provider, bytes32 modelId, uint256 version) external view returns (bool) {
        return _serverIndex[modelId][version][provider] != 0;
    }

    /// @dev A provider's unpaid fees, answers, deviations beyond tolerance and last request.
    function statsOf(address provider) external view returns (ProviderStats memory) {
        return _stats[provider];
    }

    /// @dev The review threshold governance set for model `modelId`.
    function reviewThreshold(bytes32 modelId) external view returns (ReviewThreshold memory) {
        return _reviews[modelId];
    }

    /// @dev The beacon request id that draws the providers of `requestId`.
    function randomnessRequestId(uint256 requestId) public view returns (bytes32) {
        return keccak256(abi.encode(address(this), _purpose(requestId)));
    }

    /// @dev The EIP-712 digest a provider signs for its answer to `requestId`.
    function answerDigest(uint256 requestId, bytes32 outputHash, int256 value) public view returns (bytes32) {
        Request storage r = _request(requestId);
        return _hashTypedDataV4(
            keccak256(abi.encode(ANSWER_TYPEHASH, requestId, r.modelHash, r.inputHash, outputHash, value))
        );
    }

    // --- providers ---------------------------------------------------------------------

    /**
     * @dev Declares that identity `provider` serves `version` of model `modelId`.
     *
     * Requirements: the caller acts for `provider`; the version exists and is not revoked;
     * not already declared.
     *
     * Emits {ProviderServing}.
     */
    function serve(address provider, bytes32 modelId, uint256 version) external {
        _requireActor(provider);
        (ModelRegistry.VersionStatus status,) = _registry.versionState(modelId, version);
        if (status == ModelRegistry.VersionStatus.Revoked) revert OracleVersionRevoked(modelId, version);
        if (_serverIndex[modelId][version][provider] != 0) revert OracleAlreadyServing(provider, modelId, version);
        _servers[modelId][version].push(provider);
        _serverIndex[modelId][version][provider] = _servers[modelId][version].length;
        emit ProviderServing(provider, modelId, version, true);
    }

    /**
     * @dev Withdraws `provider`'s declaration for `version` of model `modelId`. Anyone may
     * drop a declaration for a revoked version.
     *
     * Requirements: the caller acts for `provider`, or the version is revoked; declared.
     *
     * Emits {ProviderServing}.
     */
    function unserve(address provider, bytes32 modelId, uint256 version) external {
        (ModelRegistry.VersionStatus status,) = _registry.versionState(modelId, version);
        if (status != ModelRegistry.VersionStatus.Revoked) _requireActor(provider);
        uint256 indexPlusOne = _serverIndex[modelId][version][provider];
        if (indexPlusOne == 0) revert OracleNotServing(provider, modelId, version);
        address[] storage list = _servers[modelId][version];
        address last = list[list.length - 1];
        list[indexPlusOne - 1] = last;
        _serverIndex[modelId][version][last] = indexPlusOne;
        list.pop();
        delete _serverIndex[modelId][version][provider];
        emit ProviderServing(provider, modelId, version, false);
    }

    /**
     * @dev Pays `provider`'s fees to `to`.
     *
     * Requirements: the caller acts for `provider`; something is owed.
     *
     * Emits {FeesWithdrawn}.
     */
    function withdrawFees(address provider, address to) external nonReentrant returns (uint256 amount) {
        _requireActor(provider);
        amount = _stats[provider].fees;
        if (amount == 0) revert OracleNothingToWithdraw(provider);
        _stats[provider].fees = 0;
        emit FeesWithdrawn(provider, to, amount);
        _token.safeTransfer(to, amount);
    }

    // --- requests ----------------------------------------------------------------------

    /**
     * @dev Asks for an inference; pulls `input.fee` into escrow and requests the provider draw.
     *
     * Requirements:
     * - `version` exists (or `channel` points at one) and is not revoked;
     * - `1 <= quorum <= redundancy <= MAX_REDUNDANCY` and `2·quorum > redundancy`;
     * - `inputHash` and `inputCid` are set; `1 <= deadlineBlocks <= MAX_DEADLINE_BLOCKS`;
     * - at least `quorum` providers serve the version; the fee is approved.
     *
     * Emits {InferenceRequested}.
     */
    function request(RequestInput calldata input) external nonReentrant returns (uint256 requestId) {
        uint256 version = input.version;
        if (version == 0) {
            version = _registry.channelVersion(input.modelId, input.channel);
            if (version == 0) revert OracleUnknownChannel(input.modelId, input.channel);
        }
        (ModelRegistry.VersionStatus status, bytes32 modelHash) = _registry.versionState(input.modelId, version);
        if (status == ModelRegistry.VersionStatus.Revoked) revert OracleVersionRevoked(input.modelId, version);
        _checkInput(input);
        uint256 serving = _servers[input.modelId][version].length;
        if (serving < input.quorum) revert OracleTooFewProviders(input.modelId, version, serving, input.quorum);
        if (input.mode == Mode.Proven && _registry.circuitOf(input.modelId, version).verifier == address(0)) {
            revert OracleNoCircuit(input.modelId, version);
        }

        requestId = _requestCount++;
        if (input.mode >= Mode.Proven) _zkInputs[requestId] = input.zkInputHash;
        Request storage r = _requests[requestId];
        r.requester = msg.sender;
        r.status = Status.Selecting;
        r.mode = input.mode;
        r.redundancy = input.redundancy;
        r.quorum = input.quorum;
        r.deadline = uint64(block.number) + input.deadlineBlocks;
        r.modelId = input.modelId;
        r.version = version.toUint64();
        r.modelHash = modelHash;
        r.inputHash = input.inputHash;
        r.tolerance = uint128(input.tolerance); // both bounded by _checkInput
        r.fee = uint128(input.fee);
        emit InferenceRequested(requestId, msg.sender, input.modelId, version, input.inputHash, input.inputCid, r.deadline);
        if (input.fee > 0) _token.safeTransferFrom(msg.sender, address(this), input.fee);
        _beacon.requestRandomness(_purpose(requestId));
    }

    /**
     * @dev Draws the request's providers, weighted by stake, from the beacon's output.
     * Anyone may call it. If the version was revoked meanwhile, or fewer than `quorum`
     * providers still serve it with enough stake, the request is refunded instead.
     *
     * Requirements: the request is selecting, before its deadline, and the draw fulfilled.
     *
     * Emits {ProvidersSelected}, or {RequestRefunded}.
     */
    function selectProviders(uint256 requestId) external nonReentrant {
        Request storage r = _request(requestId);
        if (r.status != Status.Selecting) revert OracleWrongStatus(requestId, r.status);
        if (block.number > r.deadline) revert OracleDeadlinePassed(requestId, r.deadline);
        bytes32 randomness = randomnessRequestId(requestId);
        if (!_beacon.getRequest(randomness).fulfilled) revert OracleRandomnessPending(requestId, randomness);
        ModelRegistry.VersionStatus status = _registry.versionStatus(r.modelId, r.version);
        if (status == ModelRegistry.VersionStatus.Revoked) {
            _refund(requestId, r, "version revoked");
            return;
        }
        address[] storage candidates = _servers[r.modelId][r.version];
        uint256[] memory weights = new uint256[](candidates.length);
        uint256 eligible = 0;
        uint256 minStake = _minProviderStake;
        for (uint256 i = 0; i < candidates.length; ++i) {
            uint256 stake = _vault.stakeOf(candidates[i]);
            if (stake >= minStake && stake > 0) {
                weights[i] = stake;
                ++eligible;
            }
        }
        if (eligible < r.quorum) {
            _refund(requestId, r, "too few staked providers");
            return;
        }
        uint256 size = eligible < r.redundancy ? eligible : r.redundancy;
        uint256[] memory chosen =
            WeightedSelection.select(keccak256(abi.encode(_beacon.randomnessOf(randomness), "providers")), weights, size);
        address[] memory drawn = new address[](size);
        for (uint256 i = 0; i < size; ++i) {
            drawn[i] = candidates[chosen[i]];
        }
        r.selection = keccak256(abi.encodePacked(drawn));
        r.status = Status.Open;
        emit ProvidersSelected(requestId, drawn);
    }

    /**
     * @dev Settles request `requestId` with `result` and the providers' signed `answers`.
     * `selected` repeats the drawn providers (as in {ProvidersSelected}); the contract keeps
     * only their hash. Anyone may submit it: the gateway, or any provider if the gateway
     * does not.
     *
     * Requirements:
     * - the request is open, before its deadline, and its version not revoked;
     * - `selected` is the draw; `result` fits in int128;
     * - at least `quorum` answers, from distinct selected providers in ascending order, each
     *   signed (EIP-712) by the provider's owner key or a live `veriKey` delegate;
     * - `result` is the aggregate of the signed values and at least `quorum` answers agree.
     *
     * Emits {AnswerRecorded} per answer, {InferenceFulfilled}, and {ReviewRequested} when
     * the result reaches the model's threshold or the vote is split.
     */
    function fulfil(uint256 requestId, int256 result, address[] calldata selected, Answer[] calldata answers)
        external
        nonReentrant
    {
        Request storage r = _request(requestId);
        if (r.mode >= Mode.Proven) revert OracleWrongMode(requestId, r.mode);
        _requireOpen(requestId, r, selected);
        if (answers.length < r.quorum) revert OracleTooFewAnswers(requestId, answers.length, r.quorum);

        (int256[] memory values, uint256[] memory positions) = _checkAnswers(requestId, r, selected, answers);
        int256 computed = r.mode == Mode.Median ? ResultAggregation.lowerMedian(values) : ResultAggregation.plurality(values);
        if (computed != result) revert OracleResultMismatch(requestId, result, computed);

        (uint256 agreeing, bytes32 outputHash) = _record(requestId, r, result, answers, positions);
        if (agreeing < r.quorum) revert OracleNoAgreement(requestId, agreeing, r.quorum);
        r.status = Status.Fulfilled;
        r.result = result.toInt128();
        emit InferenceFulfilled(requestId, result, outputHash, agreeing, msg.sender);
        _pay(r, answers, result, agreeing);
        _maybeReview(requestId, r, result, answers.length - agreeing, answers.length);
    }

    /**
     * @dev Settles `Proven` request `requestId` with drawn provider `provider`'s zk proof.
     * `selected` repeats the draw. The proof's public instances must be the request's
     * `zkInputHash`, the weight commitment bound to the version in the registry (absent when
     * the circuit's verifying key commits to the weights), then the logits (field elements;
     * above half the order they are negative); the verifier bound to the version must
     * accept it. The result is the index of the largest logit (the first on
     * a tie); the whole fee goes to `provider`.
     *
     * Requirements: the caller acts for `provider`, which was drawn; the request is proven,
     * open, before its deadline and its version not revoked; the instances match; the proof
     * verifies.
     *
     * Emits {AnswerRecorded}, {InferenceFulfilled} and {ProofAccepted}.
     */
    function fulfilWithProof(
        uint256 requestId,
        address provider,
        address[] calldata selected,
        bytes calldata proof,
        uint256[] calldata instances
    ) external nonReentrant {
        _requireActor(provider);
        Request storage r = _request(requestId);
        uint256 position = _openFor(requestId, r, Mode.Proven, provider, selected);
        ModelRegistry.Circuit memory circuit = _registry.circuitOf(r.modelId, r.version);
        // Logits follow the input hash, and the weight commitment unless the key holds it.
        uint256 first = circuit.weightsInKey ? 1 : 2;
        if (instances.length <= first) revert OracleInstanceMismatch(requestId, instances.length);
        if (instances[0] != _zkInputs[requestId]) revert OracleInstanceMismatch(requestId, 0);
        if (first == 2 && instances[1] != circuit.weightCommitment) revert OracleInstanceMismatch(requestId, 1);
        // EZKL's verifiers revert on a false proof rather than return false: both refuse.
        try IHalo2Verifier(circuit.verifier).verifyProof(proof, instances) returns (bool valid) {
            if (!valid) revert OracleInvalidProof(requestId);
        } catch {
            revert OracleInvalidProof(requestId);
        }

        int256 label = int256(_argmaxLogit(requestId, instances, first));
        r.agreed = uint32(1 << position);
        _fulfilBy(requestId, r, provider, label, keccak256(abi.encodePacked(instances)));
        emit ProofAccepted(requestId, provider, circuit.verifier, label);
    }

    /**
     * @dev Returns the fee of a request that was not fulfilled by its deadline. Anyone may
     * call it; the fee goes to the requester.
     *
     * Emits {RequestRefunded}.
     */
    function refund(uint256 requestId) external nonReentrant {
        Request storage r = _request(requestId);
        if (r.status != Status.Selecting && r.status != Status.Open) revert OracleWrongStatus(requestId, r.status);
        if (block.number <= r.deadline) revert OracleDeadlineNotPassed(requestId, r.deadline);
        _refund(requestId, r, "expired");
    }

    // --- audits ------------------------------------------------------------------------

    /**
     * @dev Overturns fulfilled request `requestId`: records `corrected` as its result, claws
     * each agreeing signer's share of the fee back from its unpaid fees and refunds what was
     * clawed back to the requester. Returns the signers that agreed with the overturned
     * result (to be slashed by the caller), the part of the fee that could not be clawed back
     * (already withdrawn) and the requester.
     *
     * Requirements: the caller has `AUDITOR_ROLE`; the request is fulfilled; `selected` is
     * its draw; `evidence` is not zero.
     *
     * Emits {RequestOverturned}.
     */
    function overturn(uint256 requestId, int256 corrected, address[] calldata selected, bytes32 evidence)
        external
        onlyRole(AUDITOR_ROLE)
        nonReentrant
        returns (address[] memory signers, uint256 shortfall, address requester)
    {
        Request storage r = _request(requestId);
        if (r.status != Status.Fulfilled) revert OracleWrongStatus(requestId, r.status);
        if (keccak256(abi.encodePacked(selected)) != r.selection) revert OracleSelectionMismatch(requestId);
        if (evidence == bytes32(0)) revert OracleInvalidRequest("evidence");
        signers = _agreeingSigners(r.agreed, selected);
        uint256 refunded = _clawBack(r.fee, signers);
        requester = r.requester;
        shortfall = r.fee - refunded;
        r.status = Status.Overturned;
        r.result = corrected.toInt128();
        emit RequestOverturned(requestId, corrected, signers, refunded, evidence);
        if (refunded > 0) _token.safeTransfer(requester, refunded);
    }

    // --- optimistic mode ---------------------------------------------------------------

    /**
     * @dev Locks `Optimistic` request `requestId` for drawn provider `provider`'s claim: the
     * request can no longer be refunded on its deadline and only {settleClaim} ends it.
     * Returns the request's model, version and input commitment (its `zkInputHash`).
     *
     * Requirements: the caller has `OPTIMISTIC_ROLE` (the dispute module, which checked the
     * caller acts for `provider`); the request is optimistic, open, before its deadline and
     * its version not revoked; `selected` is its draw and contains `provider`.
     */
    function claim(uint256 requestId, address provider, address[] calldata selected)
        external
        onlyRole(OPTIMISTIC_ROLE)
        returns (bytes32 modelId, uint256 version, uint256 inputCommitment)
    {
        Request storage r = _request(requestId);
        uint256 position = _openFor(requestId, r, Mode.Optimistic, provider, selected);
        r.status = Status.Claimed;
        r.agreed = uint32(1 << position);
        return (r.modelId, r.version, _zkInputs[requestId]);
    }

    /**
     * @dev Ends claimed request `requestId`: with `provider` zero it is refunded (every claim
     * was refuted); otherwise it is fulfilled with `result` and `outputHash` and the whole
     * fee goes to `provider`. `drawn` says whether `provider` is the drawn provider that
     * claimed it (a winning challenger is not, and then no draw position agreed).
     *
     * Requirements: the caller has `OPTIMISTIC_ROLE`; the request is claimed.
     *
     * Emits {AnswerRecorded} and {InferenceFulfilled}, or {RequestRefunded}.
     */
    function settleClaim(uint256 requestId, address provider, bool drawn, int256 result, bytes32 outputHash)
        external
        onlyRole(OPTIMISTIC_ROLE)
        nonReentrant
    {
        Request storage r = _request(requestId);
        if (r.status != Status.Claimed) revert OracleWrongStatus(requestId, r.status);
        if (provider == address(0)) {
            _refund(requestId, r, "claim refuted");
            return;
        }
        if (!drawn) r.agreed = 0;
        _fulfilBy(requestId, r, provider, result, outputHash);
    }

    // --- governance --------------------------------------------------------------------

    /**
     * @dev Makes results of model `modelId` at or above `threshold` emit {ReviewRequested}.
     *
     * Requirements: the caller has `GOVERNANCE_ROLE` (the timelock).
     *
     * Emits {ReviewThresholdSet}.
     */
    function setReviewThreshold(bytes32 modelId, bool enabled, int256 threshold) external onlyRole(GOVERNANCE_ROLE) {
        _reviews[modelId] = ReviewThreshold(enabled, threshold);
        emit ReviewThresholdSet(modelId, enabled, threshold);
    }

    /**
     * @dev Sets the least stake a provider needs to be drawn.
     *
     * Requirements: the caller has `GOVERNANCE_ROLE`.
     *
     * Emits {MinProviderStakeSet}.
     */
    function setMinProviderStake(uint256 amount) external onlyRole(GOVERNANCE_ROLE) {
        _minProviderStake = amount;
        emit MinProviderStakeSet(amount);
    }

    // --- internals ---------------------------------------------------------------------

    function _request(uint256 requestId) private view returns (Request storage r) {
        r = _requests[requestId];
        if (r.status == Status.None) revert OracleUnknownRequest(requestId);
    }

    /// @dev Fulfils `r` with `result` by one provider, which is paid the whole fee.
    function _fulfilBy(uint256 requestId, Request storage r, address provider, int256 result, bytes32 outputHash)
        private
    {
        r.status = Status.Fulfilled;
        r.result = result.toInt128();
        ProviderStats storage stats = _stats[provider];
        stats.answered += 1;
        stats.lastRequest = uint64(requestId);
        stats.fees += r.fee;
        emit AnswerRecorded(requestId, provider, result, outputHash, 0, true);
        emit InferenceFulfilled(requestId, result, outputHash, 1, msg.sender);
    }

    /// @dev Requires `r` open, before its deadline, `selected` its draw and its version live.
    function _requireOpen(uint256 requestId, Request storage r, address[] calldata selected) private view {
        if (r.status != Status.Open) revert OracleWrongStatus(requestId, r.status);
        if (block.number > r.deadline) revert OracleDeadlinePassed(requestId, r.deadline);
        if (keccak256(abi.encodePacked(selected)) != r.selection) revert OracleSelectionMismatch(requestId);
        if (_registry.versionStatus(r.modelId, r.version) == ModelRegistry.VersionStatus.Revoked) {
            revert OracleVersionRevoked(r.modelId, r.version);
        }
    }

    /// @dev {_requireOpen} for a single-provider `mode` request; returns `provider`'s draw position.
    function _openFor(uint256 requestId, Request storage r, Mode mode, address provider, address[] calldata selected)
        private
        view
        returns (uint256 position)
    {
        if (r.mode != mode) revert OracleWrongMode(requestId, r.mode);
        _requireOpen(requestId, r, selected);
        position = _indexOf(selected, provider);
        if (position == type(uint256).max) revert OracleProviderNotSelected(requestId, provider);
    }

    function _purpose(uint256 requestId) private pure returns (bytes32) {
        return keccak256(abi.encode("inference", requestId));
    }

    function _requireActor(address provider) private view {
        if (!_registry.isActor(provider, msg.sender)) revert OracleNotActor(provider, msg.sender);
    }

    function _checkInput(RequestInput calldata input) private pure {
        if (input.inputHash == bytes32(0)) revert OracleInvalidRequest("inputHash");
        if (input.inputCid.length == 0) revert OracleInvalidRequest("inputCid");
        if (input.redundancy == 0 || input.redundancy > MAX_REDUNDANCY) revert OracleInvalidRequest("redundancy");
        bool single = input.mode >= Mode.Proven;
        bool majority = 2 * uint256(input.quorum) > input.redundancy || single;
        if (input.quorum == 0 || input.quorum > input.redundancy || !majority) revert OracleInvalidRequest("quorum");
        if (input.deadlineBlocks == 0 || input.deadlineBlocks > MAX_DEADLINE_BLOCKS) {
            revert OracleInvalidRequest("deadlineBlocks");
        }
        if (input.fee > type(uint128).max) revert OracleInvalidRequest("fee");
        if (single) {
            // One proof or one unchallenged claim settles the request: any drawn provider may give it.
            if (input.quorum != 1) revert OracleInvalidRequest("quorum");
            if (input.zkInputHash == 0) revert OracleInvalidRequest("zkInputHash");
            if (input.mode == Mode.Proven && input.zkInputHash >= BN254_ORDER) revert OracleInvalidRequest("zkInputHash");
        } else if (input.zkInputHash != 0) {
            revert OracleInvalidRequest("zkInputHash");
        }
        if (input.tolerance > type(uint128).max) revert OracleInvalidRequest("tolerance");
    }

    /// @dev Checks order, selection and signatures; returns the signed values.
    function _checkAnswers(
        uint256 requestId,
        Request storage r,
        address[] calldata selected,
        Answer[] calldata answers
    ) private view returns (int256[] memory values, uint256[] memory positions) {
        values = new int256[](answers.length);
        positions = new uint256[](answers.length);
        bytes32 modelHash = r.modelHash;
        bytes32 inputHash = r.inputHash;
        address previous = address(0);
        for (uint256 i = 0; i < answers.length; ++i) {
            Answer calldata answer = answers[i];
            if (answer.provider <= previous) revert OracleProvidersNotAscending(requestId, answer.provider);
            previous = answer.provider;
            positions[i] = _indexOf(selected, answer.provider);
            if (positions[i] == type(uint256).max) revert OracleProviderNotSelected(requestId, answer.provider);
            bytes32 digest = _hashTypedDataV4(
                keccak256(abi.encode(ANSWER_TYPEHASH, requestId, modelHash, inputHash, answer.outputHash, answer.value))
            );
            (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, answer.signature);
            if (err != ECDSA.RecoverError.NoError || !_registry.isSigner(answer.provider, signer)) {
                revert OracleInvalidSignature(requestId, answer.provider, signer);
            }
            values[i] = answer.value;
        }
    }

    /// @dev Records each answer's deviation and the draw positions of the agreeing signers
    /// (`agreed`); returns how many agree and the result's output hash.
    function _record(
        uint256 requestId,
        Request storage r,
        int256 result,
        Answer[] calldata answers,
        uint256[] memory positions
    ) private returns (uint256 agreeing, bytes32 outputHash) {
        uint32 agreed = 0;
        uint256 tolerance = r.mode == Mode.Median ? r.tolerance : 0;
        for (uint256 i = 0; i < answers.length; ++i) {
            Answer calldata answer = answers[i];
            uint256 deviation = ResultAggregation.distance(answer.value, result);
            bool ok = deviation <= tolerance;
            if (ok) {
                ++agreeing;
                agreed |= uint32(1 << positions[i]);
                if (outputHash == bytes32(0) && answer.value == result) outputHash = answer.outputHash;
            }
            ProviderStats storage stats = _stats[answer.provider];
            stats.answered += 1;
            if (!ok) stats.deviated += 1;
            stats.lastRequest = uint64(requestId);
            emit AnswerRecorded(requestId, answer.provider, answer.value, answer.outputHash, deviation, ok);
        }
        r.agreed = agreed;
    }

    /// @dev Splits the fee among the agreeing signers; the first takes the rounding remainder.
    function _pay(Request storage r, Answer[] calldata answers, int256 result, uint256 agreeing) private {
        uint256 fee = r.fee;
        if (fee == 0) return;
        uint256 share = fee / agreeing;
        uint256 remainder = fee - share * agreeing;
        uint256 tolerance = r.mode == Mode.Median ? r.tolerance : 0;
        for (uint256 i = 0; i < answers.length; ++i) {
            if (ResultAggregation.distance(answers[i].value, result) > tolerance) continue;
            _stats[answers[i].provider].fees += uint128(share + remainder);
            remainder = 0;
        }
    }

    /// @dev The drawn providers whose bit is set in `agreed`, in draw order.
    function _agreeingSigners(uint32 agreed, address[] calldata selected) private pure returns (address[] memory signers) {
        uint256 count = 0;
        for (uint256 i = 0; i < selected.length; ++i) {
            if (agreed & uint32(1 << i) != 0) ++count;
        }
        signers = new address[](count);
        uint256 k = 0;
        for (uint256 i = 0; i < selected.length; ++i) {
            if (agreed & uint32(1 << i) != 0) signers[k++] = selected[i];
        }
    }

    /// @dev Takes back from the signers' unpaid fees what {_pay} credited them for a fee of
    /// `fee` (the lowest address took the rounding remainder); returns the total taken.
    function _clawBack(uint256 fee, address[] memory signers) private returns (uint256 refunded) {
        uint256 count = signers.length;
        if (fee == 0 || count == 0) return 0;
        address first = signers[0];
        for (uint256 i = 1; i < count; ++i) {
            if (signers[i] < first) first = signers[i];
        }
        uint256 share = fee / count;
        uint256 remainder = fee - share * count;
        for (uint256 i = 0; i < count; ++i) {
            uint256 owed = signers[i] == first ? share + remainder : share;
            ProviderStats storage stats = _stats[signers[i]];
            uint256 taken = owed < stats.fees ? owed : stats.fees;
            stats.fees -= uint128(taken);
            refunded += taken;
        }
    }

    function _maybeReview(uint256 requestId, Request storage r, int256 result, uint256 dissent, uint256 total) private {
        ReviewThreshold storage review = _reviews[r.modelId];
        if (review.enabled && result >= review.threshold) {
            emit ReviewRequested(requestId, r.modelId, r.version, "threshold", result);
        }
        if (3 * dissent >= total && dissent > 0) {
            emit ReviewRequested(requestId, r.modelId, r.version, "split vote", result);
        }
    }

    function _refund(uint256 requestId, Request storage r, string memory reason) private {
        r.status = Status.Refunded;
        uint256 fee = r.fee;
        emit RequestRefunded(requestId, r.requester, fee, reason);
        if (fee > 0) _token.safeTransfer(r.requester, fee);
    }

    /// @dev The index of the largest logit among `instances[first:]` (signed field elements).
    function _argmaxLogit(uint256 requestId, uint256[] calldata instances, uint256 first)
        private
        pure
        returns (uint256 best)
    {
        int256 top = type(int256).min;
        for (uint256 i = first; i < instances.length; ++i) {
            uint256 v = instances[i];
            if (v >= BN254_ORDER) revert OracleInstanceMismatch(requestId, i);
            // v < BN254_ORDER < 2^254, so both casts are exact.
            int256 logit = v > BN254_ORDER / 2 ? int256(v) - int256(BN254_ORDER) : int256(v);
            if (logit > top) {
                top = logit;
                best = i - first;
            }
        }
    }

    /// @dev The position of `item` in `list`, or `type(uint256).max` when absent.
    function _indexOf(address[] calldata list, address item) private pure returns (uint256) {
        for (uint256 i = 0; i < list.length; ++i) {
            if (list[i] == item) return i;
        }
        return type(uint256).max;
    }
}
