// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {InferenceOracle} from "../oracle/InferenceOracle.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {StakeVault} from "../staking/StakeVault.sol";

/**
 * @title OptimisticInference
 * @dev Optimistic settlement of `Optimistic` oracle requests, with bisection disputes.
 *
 * A model version is bound once, by its owner or a publisher, to a fixed-point trace model:
 * `layers` dense layers (ReLU on all but the last) with weights and biases quantised to
 * `fracBits` fractional bits, committed as `weightsRoot`, a Merkle root over layer leaves
 * `keccak256(abi.encode(layer, inputs, outputs, relu, rowsRoot))`, each `rowsRoot` a Merkle
 * root over neuron leaves `keccak256(abi.encodePacked(neuron, bias, weights[inputs]))`.
 * Anyone can rebuild the commitment from the registered artifact.
 *
 * A drawn provider claims a request ({propose}) with a bond and the Merkle root of its trace:
 * leaf `i` is `keccak256(abi.encodePacked(i, vector))` for the input (`i = 0`, whose leaf
 * must be the request's input commitment) and each layer's output (`i = 1..layers`; the
 * last is the logits, revealed in the claim, whose argmax is the result). Fixed-point
 * arithmetic makes honest parties agree bit for bit: a neuron is
 * `(bias · 2^f + Σ w·x) >> f`, then `max(0, ·)` under ReLU.
 *
 * Within `challengeBlocks` anyone may challenge with a bond and its own trace whose logits
 * differ ({challenge}). Both parties then bisect: each round both reveal their leaf at the
 * midpoint of the disputed interval, with a Merkle proof against their own root
 * ({reveal}); equal leaves move the agreed end up, different ones the disputed end down.
 * When one layer is left, both reveal their output vector of that layer ({revealOutput}),
 * then anyone re-executes it on chain ({resolve}): the agreed input vector, both revealed
 * vectors, and one neuron where they differ, with its weights proven against the weight
 * commitment. The party whose neuron value is right wins the other's bond. Timeouts decide
 * for the side that kept answering: a party that misses a round loses (both missing: both
 * bonds go to the treasury and the request is refunded), and if nobody re-executes the
 * layer in time after both revealed, the challenger, who asserted the fraud, loses. A claim that stands (`challengeBlocks` after its proposal or its last won
 * dispute) settles the request ({finalize}); a winning challenger's trace becomes the
 * claim, open to challenge in turn.
 *
 * Trust: at least one honest party watches each claim within the window and can post a
 * bond; the publisher's fixed-point commitment matches the artifact (checkable by anyone).
 * Bisection after Canetti, Riva and Rothblum (CCS 2011) and Truebit (Teutsch and
 * Reitwießner, 2017); one-neuron re-execution keeps every step within a block for dense
 * layers of any width.
 */
contract OptimisticInference is AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");
    uint256 public constant MAX_LAYERS = 32;
    uint256 public constant MAX_FRAC_BITS = 32;

    enum Phase {
        None,
        Proposed,
        Bisecting,
        Stepping,
        Settled
    }

    /// @dev Rules every new claim and challenge use.
    struct Parameters {
        uint256 proposerBond;
        uint256 challengerBond;
        uint64 challengeBlocks;
        uint64 roundBlocks;
    }

    /// @dev A version's fixed-point trace model.
    struct TraceModel {
        bytes32 weightsRoot;
        uint16 layers;
        uint8 fracBits;
    }

    /// @dev The claim that settles a request if it stands.
    struct Claim {
        Phase phase;
        bool drawn;
        uint16 layers;
        uint64 deadline;
        address provider;
        address account;
        uint256 bond;
        bytes32 traceRoot;
        bytes32 outputLeaf;
        int256 label;
        bytes32 modelId;
        uint256 version;
    }

    /// @dev The open dispute of a claim. Leaves `lo` agree, leaves `hi` differ.
    struct Dispute {
        address challenger;
        uint16 lo;
        uint16 hi;
        uint16 rounds;
        uint8 revealed;
        uint64 deadline;
        uint256 bond;
        bytes32 traceRoot;
        bytes32 outputLeaf;
        int256 label;
        bytes32 loLeaf;
        bytes32 proposerLeaf;
        bytes32 challengerLeaf;
        bytes32 proposerMid;
        bytes32 challengerMid;
    }

    /// @dev A party's trace commitment: root, logits, and proofs of leaves 0 and `layers`.
    struct Commitment {
        bytes32 traceRoot;
        int256[] logits;
        bytes32[] inputProof;
        bytes32[] outputProof;
    }

    /// @dev One committed dense layer and its proof against the weight commitment.
    struct Layer {
        uint256 inputs;
        uint256 outputs;
        bool relu;
        bytes32 rowsRoot;
        bytes32[] proof;
    }

    /// @dev Everything the one-layer re-execution needs.
    struct Step {
        int256[] input;
        int256[] proposerOutput;
        int256[] challengerOutput;
        uint256 neuron;
        int256 bias;
        int256[] weights;
        bytes32[] rowProof;
        Layer layer;
    }

    InferenceOracle private immutable _oracle;
    ModelRegistry private immutable _registry;
    StakeVault private immutable _vault;
    IERC20 private immutable _token;

    Parameters private _parameters;
    mapping(bytes32 modelId => mapping(uint256 version => TraceModel)) private _traces;
    mapping(uint256 requestId => Claim) private _claims;
    mapping(uint256 requestId => Dispute) private _disputes;

    event ParametersSet(uint256 proposerBond, uint256 challengerBond, uint64 challengeBlocks, uint64 roundBlocks);
    event TraceBound(bytes32 indexed modelId, uint256 version, bytes32 weightsRoot, uint16 layers, uint8 fracBits);
    event ClaimProposed(
        uint256 indexed requestId, address indexed provider, address account, int256 label, bytes32 traceRoot, uint64 deadline
    );
    event ClaimChallenged(
        uint256 indexed requestId, address indexed challenger, int256 label, bytes32 traceRoot, uint64 deadline
    );
    event LeafRevealed(uint256 indexed requestId, address indexed party, uint256 index, bytes32 leaf);
    event OutputRevealed(uint256 indexed requestId, address indexed party, uint256 index, int256[] vector);
    event Bisected(uint256 indexed requestId, uint16 lo, uint16 hi, uint16 rounds, uint64 deadline);
    event LayerReexecuted(uint256 indexed requestId, uint256 layer, uint256 neuron, int256 computed);
    event DisputeResolved(uint256 indexed requestId, address winner, address loser, uint16 rounds, string how);
    event ClaimSettled(uint256 indexed requestId, address indexed provider, int256 label, bool refunded);

    error OptimisticNotActor(address provider, address actor);
    error OptimisticInvalidParameters(string field);
    error OptimisticInvalidTrace(string field);
    error OptimisticTraceBound(bytes32 modelId, uint256 version);
    error OptimisticNoTrace(bytes32 modelId, uint256 version);
    error OptimisticWrongPhase(uint256 requestId, Phase phase);
    error OptimisticWindowClosed(uint256 requestId, uint64 deadline);
    error OptimisticWindowOpen(uint256 requestId, uint64 deadline);
    error OptimisticBadProof(uint256 requestId, string what);
    error OptimisticSameOutput(uint256 requestId);
    error OptimisticNotParty(uint256 requestId, address caller);
    error OptimisticAlreadyRevealed(uint256 requestId, address party);
    error OptimisticNeuronAgrees(uint256 requestId, uint256 neuron);
    error OptimisticOutputsPending(uint256 requestId, uint8 revealed);

    constructor(
        InferenceOracle oracle,
        ModelRegistry registry,
        StakeVault vault,
        IERC20 token,
        address governance,
        Parameters memory parameters_
    ) {
        _oracle = oracle;
        _registry = registry;
        _vault = vault;
        _token = token;
        _setParameters(parameters_);
        _grantRole(DEFAULT_ADMIN_ROLE, governance);
        _grantRole(GOVERNANCE_ROLE, governance);
    }

    // --- views -------------------------------------------------------------------------

    /// @dev The rules new claims and challenges use.
    function parameters() external view returns (Parameters memory) {
        return _parameters;
    }

    /// @dev The trace model bound to `version` of `modelId` (zero root if none).
    function traceOf(bytes32 modelId, uint256 version) external view returns (TraceModel memory) {
        return _traces[modelId][version];
    }

    /// @dev The claim on request `requestId` (phase `None` if none).
    function getClaim(uint256 requestId) external view returns (Claim memory) {
        return _claims[requestId];
    }

    /// @dev The dispute of request `requestId`'s claim (zero challenger if none).
    function getDispute(uint256 requestId) external view returns (Dispute memory) {
        return _disputes[requestId];
    }

    // --- binding -----------------------------------------------------------------------

    /**
     * @dev Binds `version` of `modelId` to its fixed-point trace model, once.
     *
     * Requirements: the caller acts for `publisher`, the model's owner or a publisher; the
     * version exists; `1 <= layers <= MAX_LAYERS`, `fracBits <= MAX_FRAC_BITS`, root set.
     *
     * Emits {TraceBound}.
     */
    function bindTrace(bytes32 modelId, uint256 version, TraceModel calldata trace, address publisher) external {
        if (!_registry.isActor(publisher, msg.sender)) revert OptimisticNotActor(publisher, msg.sender);
        bytes32 publisherRole = _registry.MODEL_PUBLISHER_ROLE();
        if (
            !_registry.hasModelRole(modelId, publisherRole, publisher)
                && !_registry.hasModelRole(modelId, _registry.MODEL_OWNER_ROLE(), publisher)
        ) revert ModelRegistry.ModelRegistryMissingModelRole(modelId, publisherRole, publisher);
        (ModelRegistry.VersionStatus status,) = _registry.versionState(modelId, version);
        if (status == ModelRegistry.VersionStatus.None) revert OptimisticNoTrace(modelId, version);
        if (_traces[modelId][version].layers != 0) revert OptimisticTraceBound(modelId, version);
        if (trace.weightsRoot == bytes32(0)) revert OptimisticInvalidTrace("weightsRoot");
        if (trace.layers == 0 || trace.layers > MAX_LAYERS) revert OptimisticInvalidTrace("layers");
        if (trace.fracBits > MAX_FRAC_BITS) revert OptimisticInvalidTrace("fracBits");
        _traces[modelId][version] = trace;
        emit TraceBound(modelId, version, trace.weightsRoot, trace.layers, trace.fracBits);
    }

    // --- claims ------------------------------------------------------------------------

    /**
     * @dev Claims `Optimistic` request `requestId` for drawn provider `provider` with trace
     * commitment `c`; the caller posts `proposerBond` and plays the claim's side of disputes.
     *
     * Requirements: the caller acts for `provider`; the oracle accepts the claim (the
     * request is optimistic, open, `provider` drawn); the version has a trace model; `c`'s
     * leaf 0 is the request's input commitment and its logits are leaf `layers`.
     *
     * Emits {ClaimProposed}.
     */
    function propose(uint256 requestId, address provider, address[] calldata selected, Commitment calldata c)
        external
        nonReentrant
    {
        if (!_registry.isActor(provider, msg.sender)) revert OptimisticNotActor(provider, msg.sender);
        (bytes32 modelId, uint256 version, uint256 inputCommitment) = _oracle.claim(requestId, provider, selected);
        TraceModel memory trace = _traces[modelId][version];
        if (trace.layers == 0) revert OptimisticNoTrace(modelId, version);
        (bytes32 outputLeaf, int256 label) = _checkCommitment(requestId, c, trace.layers, bytes32(inputCommitment));
        uint256 bond = _parameters.proposerBond;
        Claim storage claim_ = _claims[requestId];
        claim_.phase = Phase.Proposed;
        claim_.drawn = true;
        claim_.layers = trace.layers;
        claim_.deadline = uint64(block.number) + _parameters.challengeBlocks;
        claim_.provider = provider;
        claim_.account = msg.sender;
        claim_.bond = bond;
        claim_.traceRoot = c.traceRoot;
        claim_.outputLeaf = outputLeaf;
        claim_.label = label;
        claim_.modelId = modelId;
        claim_.version = version;
        emit ClaimProposed(requestId, provider, msg.sender, label, c.traceRoot, claim_.deadline);
        if (bond > 0) _token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /**
     * @dev Challenges the claim on `requestId` with the caller's trace commitment `c`, whose
     * logits must differ; the caller posts `challengerBond`.
     *
     * Requirements: the claim is proposed (not disputed) and its window open; the caller is
     * not the claim's account; `c` starts at the request's input commitment.
     *
     * Emits {ClaimChallenged}, and {Bisected} when one layer is already in dispute.
     */
    function challenge(uint256 requestId, Commitment calldata c) external nonReentrant {
        Claim storage claim_ = _claims[requestId];
        if (claim_.phase != Phase.Proposed) revert OptimisticWrongPhase(requestId, claim_.phase);
        if (block.number > claim_.deadline) revert OptimisticWindowClosed(requestId, claim_.deadline);
        if (msg.sender == claim_.account) revert OptimisticNotParty(requestId, msg.sender);
        bytes32 inputLeaf = bytes32(_oracle.zkInputHashOf(requestId));
        (bytes32 outputLeaf, int256 label) = _checkCommitment(requestId, c, claim_.layers, inputLeaf);
        if (outputLeaf == claim_.outputLeaf) revert OptimisticSameOutput(requestId);
        uint256 bond = _parameters.challengerBond;
        Dispute storage d = _disputes[requestId];
        d.challenger = msg.sender;
        d.lo = 0;
        d.hi = claim_.layers;
        d.bond = bond;
        d.traceRoot = c.traceRoot;
        d.outputLeaf = outputLeaf;
        d.label = label;
        d.loLeaf = inputLeaf;
        d.proposerLeaf = claim_.outputLeaf;
        d.challengerLeaf = outputLeaf;
        d.deadline = uint64(block.number) + _parameters.roundBlocks;
        claim_.phase = claim_.layers == 1 ? Phase.Stepping : Phase.Bisecting;
        emit ClaimChallenged(requestId, msg.sender, label, c.traceRoot, d.deadline);
        if (bond > 0) _token.safeTransferFrom(msg.sender, address(this), bond);
    }

    /**
     * @dev Reveals the caller's trace leaf at the disputed interval's midpoint, with its
     * Merkle proof against the caller's root. When both parties revealed, the interval
     * halves and the next round starts.
     *
     * Requirements: the claim is bisecting, before the round's deadline; the caller is the
     * claim's account or the challenger and has not revealed this round; the proof holds.
     *
     * Emits {LeafRevealed}, and {Bisected} after the second reveal.
     */
    function reveal(uint256 requestId, bytes32 leaf, bytes32[] calldata proof) external {
        Claim storage claim_ = _claims[requestId];
        if (claim_.phase != Phase.Bisecting) revert OptimisticWrongPhase(requestId, claim_.phase);
        Dispute storage d = _disputes[requestId];
        uint256 mid = (uint256(d.lo) + d.hi) / 2;
        (uint8 bit, bytes32 root) = _party(requestId, claim_, d);
        if (!_verify(root, mid, leaf, proof, _depth(uint256(claim_.layers) + 1))) {
            revert OptimisticBadProof(requestId, "trace leaf");
        }
        if (bit == 1) d.proposerMid = leaf;
        else d.challengerMid = leaf;
        d.revealed |= bit;
        emit LeafRevealed(requestId, msg.sender, mid, leaf);
        if (d.revealed != 3) return;

        if (d.proposerMid == d.challengerMid) {
            d.lo = uint16(mid);
            d.loLeaf = d.proposerMid;
        } else {
            d.hi = uint16(mid);
            d.proposerLeaf = d.proposerMid;
            d.challengerLeaf = d.challengerMid;
        }
        d.revealed = 0;
        d.rounds += 1;
        d.deadline = uint64(block.number) + _parameters.roundBlocks;
        if (d.hi - d.lo == 1) claim_.phase = Phase.Stepping;
        emit Bisected(requestId, d.lo, d.hi, d.rounds, d.deadline);
    }

    /**
     * @dev Reveals the caller's output vector of the one disputed layer (its trace leaf
     * `hi`). Once both parties revealed, anyone may {resolve} until `roundBlocks` later.
     *
     * Requirements: the claim is stepping, before the deadline; the caller is a party that
     * has not revealed; `vector` hashes to the caller's leaf.
     *
     * Emits {OutputRevealed}.
     */
    function revealOutput(uint256 requestId, int256[] calldata vector) external {
        Claim storage claim_ = _claims[requestId];
        if (claim_.phase != Phase.Stepping) revert OptimisticWrongPhase(requestId, claim_.phase);
        Dispute storage d = _disputes[requestId];
        (uint8 bit,) = _party(requestId, claim_, d);
        bytes32 leaf = bit == 1 ? d.proposerLeaf : d.challengerLeaf;
        if (_traceLeaf(d.hi, vector) != leaf) revert OptimisticBadProof(requestId, "output");
        d.revealed |= bit;
        if (d.revealed == 3) d.deadline = uint64(block.number) + _parameters.roundBlocks;
        emit OutputRevealed(requestId, msg.sender, d.hi, vector);
    }

    /**
     * @dev Re-executes the one disputed layer at one neuron where the parties' outputs
     * differ, and decides the dispute for the party whose value is right. Anyone may call.
     *
     * Requirements: the claim is stepping, both outputs revealed, before the deadline;
     * `s.input` is the agreed vector, `s.proposerOutput` and `s.challengerOutput` the
     * parties' revealed vectors;
     * the layer and the neuron's weights are proven against the weight commitment; the
     * parties' values at `s.neuron` differ.
     *
     * Emits {LayerReexecuted} and {DisputeResolved} (and {ClaimSettled} if both were wrong).
     */
    function resolve(uint256 requestId, Step calldata s) external nonReentrant {
        Claim storage claim_ = _claims[requestId];
        if (claim_.phase != Phase.Stepping) revert OptimisticWrongPhase(requestId, claim_.phase);
        Dispute storage d = _disputes[requestId];
        if (d.revealed != 3) revert OptimisticOutputsPending(requestId, d.revealed);
        if (block.number > d.deadline) revert OptimisticWindowClosed(requestId, d.deadline);
        uint256 hi = d.hi;
        if (_traceLeaf(hi - 1, s.input) != d.loLeaf) revert OptimisticBadProof(requestId, "input");
        if (_traceLeaf(hi, s.proposerOutput) != d.proposerLeaf) revert OptimisticBadProof(requestId, "proposer output");
        if (_traceLeaf(hi, s.challengerOutput) != d.challengerLeaf) {
            revert OptimisticBadProof(requestId, "challenger output");
        }
        int256 computed = _reexecute(requestId, claim_, s, hi - 1);
        bool proposerRight = _valueAt(s.proposerOutput, s.neuron, s.layer.outputs) == computed;
        bool challengerRight = _valueAt(s.challengerOutput, s.neuron, s.layer.outputs) == computed;
        if (proposerRight && challengerRight) revert OptimisticNeuronAgrees(requestId, s.neuron);
        emit LayerReexecuted(requestId, hi - 1, s.neuron, computed);
        _decide(requestId, claim_, d, proposerRight, challengerRight, "re-execution");
    }

    /**
     * @dev Ends a dispute whose round deadline passed: a party that revealed (a leaf, or its
     * output of the last layer) beats one that did not; if neither revealed both lose; if
     * both revealed their outputs and nobody re-executed the layer in time the challenger
     * loses. Anyone may call.
     *
     * Emits {DisputeResolved} (and {ClaimSettled} if both lost).
     */
    function timeout(uint256 requestId) external nonReentrant {
        Claim storage claim_ = _claims[requestId];
        if (claim_.phase != Phase.Bisecting && claim_.phase != Phase.Stepping) {
            revert OptimisticWrongPhase(requestId, claim_.phase);
        }
        Dispute storage d = _disputes[requestId];
        if (block.number <= d.deadline) revert OptimisticWindowOpen(requestId, d.deadline);
        if (d.revealed == 3) {
            _decide(requestId, claim_, d, true, false, "timeout: no re-execution");
        } else {
            _decide(requestId, claim_, d, d.revealed == 1, d.revealed == 2, "timeout: no reveal");
        }
    }

    /**
     * @dev Settles request `requestId` with the claim that stood through its window: the
     * bond goes back to the claim's account and the oracle pays the fee to its provider.
     * Anyone may call.
     *
     * Requirements: the claim is proposed and its window has closed.
     *
     * Emits {ClaimSettled}.
     */
    function finalize(uint256 requestId) external nonReentrant {
        Claim storage claim_ = _claims[requestId];
        if (claim_.phase != Phase.Proposed) revert OptimisticWrongPhase(requestId, claim_.phase);
        if (block.number <= claim_.deadline) revert OptimisticWindowOpen(requestId, claim_.deadline);
        claim_.phase = Phase.Settled;
        uint256 bond = claim_.bond;
        claim_.bond = 0;
        emit ClaimSettled(requestId, claim_.provider, claim_.label, false);
        _oracle.settleClaim(requestId, claim_.provider, claim_.drawn, claim_.label, claim_.outputLeaf);
        if (bond > 0) _token.safeTransfer(claim_.account, bond);
    }

    // --- governance --------------------------------------------------------------------

    /**
     * @dev Replaces the bonds and windows new claims and challenges use.
     *
     * Requirements: the caller has `GOVERNANCE_ROLE`; both windows are at least one block.
     *
     * Emits {ParametersSet}.
     */
    function setParameters(Parameters calldata parameters_) external onlyRole(GOVERNANCE_ROLE) {
        _setParameters(parameters_);
    }

    // --- internals ---------------------------------------------------------------------

    function _setParameters(Parameters memory p) private {
        if (p.challengeBlocks == 0) revert OptimisticInvalidParameters("challengeBlocks");
        if (p.roundBlocks == 0) revert OptimisticInvalidParameters("roundBlocks");
        _parameters = p;
        emit ParametersSet(p.proposerBond, p.challengerBond, p.challengeBlocks, p.roundBlocks);
    }

    /// @dev The caller's side of the dispute (1 claimant, 2 challenger) and its trace root;
    /// requires the round open and the caller not yet revealed in it.
    function _party(uint256 requestId, Claim storage claim_, Dispute storage d)
        private
        view
        returns (uint8 bit, bytes32 root)
    {
        if (block.number > d.deadline) revert OptimisticWindowClosed(requestId, d.deadline);
        if (msg.sender == claim_.account) {
            (bit, root) = (1, claim_.traceRoot);
        } else if (msg.sender == d.challenger) {
            (bit, root) = (2, d.traceRoot);
        } else {
            revert OptimisticNotParty(requestId, msg.sender);
        }
        if (d.revealed & bit != 0) revert OptimisticAlreadyRevealed(requestId, msg.sender);
    }

    /// @dev Checks a commitment's input and output leaves; returns the output leaf and label.
    function _checkCommitment(uint256 requestId, Commitment calldata c, uint256 layers, bytes32 inputLeaf)
        private
        pure
        returns (bytes32 outputLeaf, int256 label)
    {
        uint256 depth = _depth(layers + 1);
        if (!_verify(c.traceRoot, 0, inputLeaf, c.inputProof, depth)) revert OptimisticBadProof(requestId, "input leaf");
        if (c.logits.length == 0) revert OptimisticBadProof(requestId, "logits");
        outputLeaf = _traceLeaf(layers, c.logits);
        if (!_verify(c.traceRoot, layers, outputLeaf, c.outputProof, depth)) {
            revert OptimisticBadProof(requestId, "output leaf");
        }
        uint256 best = 0;
        for (uint256 i = 1; i < c.logits.length; ++i) {
            if (c.logits[i] > c.logits[best]) best = i;
        }
        label = int256(best);
    }

    /// @dev Computes neuron `s.neuron` of trace layer `layer` (0-based dense layer) on chain.
    function _reexecute(uint256 requestId, Claim storage claim_, Step calldata s, uint256 layer)
        private
        view
        returns (int256 value)
    {
        TraceModel memory trace = _traces[claim_.modelId][claim_.version];
        Layer calldata l = s.layer;
        bytes32 layerLeaf = keccak256(abi.encode(layer, l.inputs, l.outputs, l.relu, l.rowsRoot));
        if (!_verify(trace.weightsRoot, layer, layerLeaf, l.proof, _depth(trace.layers))) {
            revert OptimisticBadProof(requestId, "layer");
        }
        if (s.neuron >= l.outputs || s.weights.length != l.inputs || s.input.length != l.inputs) {
            revert OptimisticBadProof(requestId, "shape");
        }
        bytes32 rowLeaf = keccak256(abi.encodePacked(s.neuron, s.bias, s.weights));
        if (!_verify(l.rowsRoot, s.neuron, rowLeaf, s.rowProof, _depth(l.outputs))) {
            revert OptimisticBadProof(requestId, "neuron");
        }
        int256 acc = s.bias * (int256(1) << trace.fracBits);
        for (uint256 k = 0; k < s.weights.length; ++k) {
            acc += s.weights[k] * s.input[k];
        }
        value = acc >> trace.fracBits;
        if (l.relu && value < 0) value = 0;
    }

    /// @dev A party's value at `neuron`, or an impossible value when its vector has the
    /// wrong width (then it cannot be right).
    function _valueAt(int256[] calldata output, uint256 neuron, uint256 width) private pure returns (int256) {
        if (output.length != width) return type(int256).min;
        return output[neuron];
    }

    /// @dev Ends the dispute: the winner takes the loser's bond; a winning challenger's
    /// trace becomes the claim; if both lost, both bonds go to the treasury and the request
    /// is refunded.
    function _decide(
        uint256 requestId,
        Claim storage claim_,
        Dispute storage d,
        bool proposerWins,
        bool challengerWins,
        string memory how
    ) private {
        address proposer = claim_.account;
        address challenger = d.challenger;
        uint16 rounds = d.rounds;
        uint256 proposerBond = claim_.bond;
        uint256 challengerBond = d.bond;
        if (proposerWins) {
            emit DisputeResolved(requestId, proposer, challenger, rounds, how);
            _reopen(claim_);
            delete _disputes[requestId];
            if (challengerBond > 0) _token.safeTransfer(proposer, challengerBond);
        } else if (challengerWins) {
            emit DisputeResolved(requestId, challenger, proposer, rounds, how);
            claim_.drawn = false;
            claim_.provider = challenger;
            claim_.account = challenger;
            claim_.bond = challengerBond;
            claim_.traceRoot = d.traceRoot;
            claim_.outputLeaf = d.outputLeaf;
            claim_.label = d.label;
            _reopen(claim_);
            delete _disputes[requestId];
            if (proposerBond > 0) _token.safeTransfer(challenger, proposerBond);
        } else {
            emit DisputeResolved(requestId, address(0), address(0), rounds, how);
            claim_.phase = Phase.Settled;
            claim_.bond = 0;
            delete _disputes[requestId];
            emit ClaimSettled(requestId, address(0), 0, true);
            _oracle.settleClaim(requestId, address(0), false, 0, bytes32(0));
            (, address treasury,) = _vault.parameters();
            if (proposerBond + challengerBond > 0) _token.safeTransfer(treasury, proposerBond + challengerBond);
        }
    }

    /// @dev Opens a fresh challenge window on the (surviving or new) claim.
    function _reopen(Claim storage claim_) private {
        claim_.phase = Phase.Proposed;
        claim_.deadline = uint64(block.number) + _parameters.challengeBlocks;
    }

    function _traceLeaf(uint256 index, int256[] calldata vector) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(index, vector));
    }

    /// @dev Depth of a binary tree over `leaves` leaves padded with zero leaves to a power of two.
    function _depth(uint256 leaves) private pure returns (uint256 depth) {
        while ((uint256(1) << depth) < leaves) ++depth;
    }

    /// @dev Whether `leaf` is at `index` under `root`, with siblings `proof` bottom up.
    function _verify(bytes32 root, uint256 index, bytes32 leaf, bytes32[] calldata proof, uint256 depth)
        private
        pure
        returns (bool)
    {
        if (proof.length != depth) return false;
        bytes32 node = leaf;
        for (uint256 i = 0; i < depth; ++i) {
            node = (index >> i) & 1 == 0
                ? keccak256(abi.encodePacked(node, proof[i]))
                : keccak256(abi.encodePacked(proof[i], node));
        }
        return node == root;
    }
}
