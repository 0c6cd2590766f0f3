// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/**
 * @title ProtocolTimelock
 * @dev OpenZeppelin's {TimelockController}, unchanged: every governance decision waits
 * `minDelay` seconds between queueing and execution, so holders can react (exit, or have
 * the guardian cancel) before it takes effect. It is the only admin of the ModelRegistry
 * and the only holder of its `GOVERNANCE_ROLE`; the LedgerGovernor is its proposer, the
 * governor and the guardian are its cancellers, anyone may execute a ready operation, and
 * after deployment it administers itself.
 */
contract ProtocolTimelock is TimelockController {
    constructor(uint256 minDelay, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelay, proposers, executors, admin)
    {}
}
