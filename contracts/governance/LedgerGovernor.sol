// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {Governor} from "@openzeppelin/contracts/governance/Governor.sol";
import {GovernorSettings} from "@openzeppelin/contracts/governance/extensions/GovernorSettings.sol";
import {GovernorCountingSimple} from "@openzeppelin/contracts/governance/extensions/GovernorCountingSimple.sol";
import {GovernorVotes} from "@openzeppelin/contracts/governance/extensions/GovernorVotes.sol";
import {GovernorVotesQuorumFraction} from
    "@openzeppelin/contracts/governance/extensions/GovernorVotesQuorumFraction.sol";
import {GovernorTimelockControl} from "@openzeppelin/contracts/governance/extensions/GovernorTimelockControl.sol";
import {GovernorPreventLateQuorum} from "@openzeppelin/contracts/governance/extensions/GovernorPreventLateQuorum.sol";
import {GovernorProposalGuardian} from "@openzeppelin/contracts/governance/extensions/GovernorProposalGuardian.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Bytes} from "@openzeppelin/contracts/utils/Bytes.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";

/**
 * @title LedgerGovernor
 * @dev Token governance of the protocol, assembled from OpenZeppelin's Governor modules and
 * nothing else for voting: settings (delay, period, threshold) changeable by governance,
 * simple for/against/abstain counting, votes from the protocol token's ERC20Votes
 * checkpoints, a quorum as a fraction of supply, execution through the {ProtocolTimelock},
 * late-quorum protection (a proposal that reaches quorum late gets `lateQuorumVoteExtension`
 * more blocks of voting) and a proposal guardian that may cancel any proposal.
 *
 * One rule of our own: a proposal that moves a model channel in the {ModelRegistry} must
 * cite an evaluation report (a non-empty CID in the call's arguments), checked when the
 * proposal is created, and the citation is emitted as {EvaluationReportCited} so auditors
 * find it without decoding calldata.
 */
contract LedgerGovernor is
    Governor,
    GovernorSettings,
    GovernorCountingSimple,
    GovernorVotes,
    GovernorVotesQuorumFraction,
    GovernorTimelockControl,
    GovernorPreventLateQuorum,
    GovernorProposalGuardian
{
    /// @dev Voting parameters, in blocks (the token's clock) and token units.
    struct Parameters {
        uint48 votingDelay;
        uint32 votingPeriod;
        uint256 proposalThreshold;
        uint256 quorumNumerator;
        uint48 lateQuorumExtension;
        address proposalGuardian;
    }

    ModelRegistry private immutable _registry;

    /// @dev Proposal `proposalId` moves `channel` of `modelId` to `version`, citing `evaluationReport`.
    event EvaluationReportCited(
        uint256 indexed proposalId, bytes32 indexed modelId, uint256 indexed version, string channel, bytes evaluationReport
    );

    /// @dev Action `index` of a proposal moves a model channel without an evaluation report.
    error LedgerGovernorEvaluationReportMissing(uint256 index);

    constructor(IVotes token, TimelockController timelockController, ModelRegistry modelRegistry, Parameters memory parameters)
        Governor("LedgerLearn Governor")
        GovernorSettings(parameters.votingDelay, parameters.votingPeriod, parameters.proposalThreshold)
        GovernorVotes(token)
        GovernorVotesQuorumFraction(parameters.quorumNumerator)
        GovernorTimelockControl(timelockController)
        GovernorPreventLateQuorum(parameters.lateQuorumExtension)
    {
        _registry = modelRegistry;
        _setProposalGuardian(parameters.proposalGuardian);
    }

    /// @dev The model registry whose channel moves must cite an evaluation report.
    function registry() external view returns (ModelRegistry) {
        return _registry;
    }

    /**
     * @dev Creates the proposal after checking every registry channel move it contains.
     *
     * Requirements: each call to {ModelRegistry-moveChannel} carries a non-empty evaluation report.
     *
     * Emits {ProposalCreated} and one {EvaluationReportCited} per channel move.
     */
    function _propose(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description,
        address proposer
    ) internal override returns (uint256 proposalId) {
        proposalId = super._propose(targets, values, calldatas, description, proposer);
        for (uint256 i = 0; i < targets.length; ++i) {
            if (targets[i] != address(_registry) || calldatas[i].length < 4) continue;
            if (bytes4(calldatas[i]) != ModelRegistry.moveChannel.selector) continue;
            (bytes32 modelId, string memory channel, uint256 version, bytes memory report) =
                abi.decode(Bytes.slice(calldatas[i], 4), (bytes32, string, uint256, bytes));
            if (report.length == 0) revert LedgerGovernorEvaluationReportMissing(i);
            emit EvaluationReportCited(proposalId, modelId, version, channel, report);
        }
    }

    // --- resolution of the modules' overlaps (no logic of our own) -----------------------

    function state(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (ProposalState)
    {
        return super.state(proposalId);
    }

    function proposalNeedsQueuing(uint256 proposalId)
        public
        view
        override(Governor, GovernorTimelockControl)
        returns (bool)
    {
        return super.proposalNeedsQueuing(proposalId);
    }

    function proposalThreshold() public view override(Governor, GovernorSettings) returns (uint256) {
        return super.proposalThreshold();
    }

    function proposalDeadline(uint256 proposalId)
        public
        view
        override(Governor, GovernorPreventLateQuorum)
        returns (uint256)
    {
        return super.proposalDeadline(proposalId);
    }

    function _tallyUpdated(uint256 proposalId) internal override(Governor, GovernorPreventLateQuorum) {
        super._tallyUpdated(proposalId);
    }

    function _validateCancel(uint256 proposalId, address caller)
        internal
        view
        override(Governor, GovernorProposalGuardian)
        returns (bool)
    {
        return super._validateCancel(proposalId, caller);
    }

    function _queueOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint48) {
        return super._queueOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _executeOperations(
        uint256 proposalId,
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) {
        super._executeOperations(proposalId, targets, values, calldatas, descriptionHash);
    }

    function _cancel(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        bytes32 descriptionHash
    ) internal override(Governor, GovernorTimelockControl) returns (uint256) {
        return super._cancel(targets, values, calldatas, descriptionHash);
    }

    function _executor() internal view override(Governor, GovernorTimelockControl) returns (address) {
        return super._executor();
    }
}
