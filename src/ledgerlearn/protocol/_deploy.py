"""Protocol deployment: the contracts a ledgerlearn network needs, in dependency order.

:func:`deploy_protocol` deploys every protocol contract from the packaged artifacts and
returns the :class:`~ledgerlearn.ledger.DeploymentManifest`: the composition root of the
protocol. Each layer owns the parameters of its contracts (``BeaconParameters`` in
``randomness``, ``AuditParameters`` in ``verification``, ...); this module wires them.

Trust assumption: the deployer is trusted once, at deployment: it becomes the token's admin
and first holder. The model registry is governed from the first block: the timelock is its
only admin and governance-role holder, the governor is the timelock's only proposer, and the
deployer renounces its temporary timelock admin before :func:`deploy_protocol` returns.
The stake vault's slashers are the training coordinator, the audit module and the
proof-of-learning module (``LearningProofs``); its admin and
treasury is the timelock. The inference oracle's admin and governance role (review
thresholds, least provider stake) is the timelock, and its only auditor role holder (which
may overturn a fulfilled request) is the audit module, whose governance is the timelock;
its only optimistic role holder (which may lock and settle optimistic requests) is the
dispute module ``OptimisticInference``, whose governance is the timelock too.
"""

from __future__ import annotations

from eth_utils import keccak

from ledgerlearn.governance import GovernanceParameters
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, ContractRecord, DeploymentManifest
from ledgerlearn.oracle import OracleParameters
from ledgerlearn.randomness import BeaconParameters
from ledgerlearn.staking import StakingParameters, TokenParameters
from ledgerlearn.verification import (
    AuditParameters,
    OptimisticParameters,
    ProofOfLearningParameters,
)

__all__ = ["PROTOCOL_CONTRACTS", "deploy_protocol"]

PROTOCOL_CONTRACTS = (
    "IdentityRegistry",
    "LedgerToken",
    "RandomnessBeacon",
    "ProtocolTimelock",
    "ModelRegistry",
    "LedgerGovernor",
    "StakeVault",
    "TrainingCoordinator",
    "InferenceOracle",
    "InferenceAudits",
    "OptimisticInference",
    "LearningProofs",
)
"""Contracts of a deployment, in the order they are deployed."""

_ZERO_ADDRESS = "0x" + "00" * 20
_DEFAULT_ADMIN_ROLE = b"\x00" * 32


def deploy_protocol(
    chain: Chain,
    deployer: Secp256k1Key,
    token: TokenParameters | None = None,
    beacon: BeaconParameters | None = None,
    governance: GovernanceParameters | None = None,
    staking: StakingParameters | None = None,
    oracle: OracleParameters | None = None,
    audits: AuditParameters | None = None,
    optimistic: OptimisticParameters | None = None,
    learning: ProofOfLearningParameters | None = None,
) -> DeploymentManifest:
    """Deploy the protocol's contracts and return their manifest.

    Parameters
    ----------
    chain
        The chain to deploy to.
    deployer
        The deploying account; pays gas, becomes admin and first token holder.
    token
        Token supply parameters.
    beacon
        Randomness beacon rules.
    governance
        Voting and timelock rules, and the guardian.
    staking
        Unbonding delay of the stake vault.
    oracle
        Least provider stake of the inference oracle.
    audits
        Panel size, quorum, windows, auditor stake and slash amount of inference audits.
    optimistic
        Bonds and windows of optimistic inference claims and their disputes.
    learning
        Panel, quorum, samples, window and slash amount of proof-of-learning checks.

    Returns
    -------
    DeploymentManifest
        Addresses and hashes of what was deployed; save it with
        :meth:`DeploymentManifest.save`.
    """
    token = token or TokenParameters()
    beacon = beacon or BeaconParameters()
    governance = governance or GovernanceParameters()
    staking = staking or StakingParameters()
    oracle = oracle or OracleParameters()
    audits = audits or AuditParameters()
    optimistic = optimistic or OptimisticParameters()
    learning = learning or ProofOfLearningParameters()
    guardian = deployer.address if governance.guardian is None else governance.guardian
    guardian = guardian or _ZERO_ADDRESS
    records: dict[str, ContractRecord] = {}
    identities, records["IdentityRegistry"] = chain.deploy("IdentityRegistry", sender=deployer)
    token_contract, records["LedgerToken"] = chain.deploy(
        "LedgerToken",
        deployer.address,
        deployer.address,
        token.initial_supply,
        token.max_supply,
        sender=deployer,
    )
    beacon_contract, records["RandomnessBeacon"] = chain.deploy(
        "RandomnessBeacon",
        token_contract.address,
        beacon.minimum_bond,
        beacon.fulfilment_window,
        beacon.unbonding_blocks,
        sender=deployer,
    )
    timelock, records["ProtocolTimelock"] = chain.deploy(
        "ProtocolTimelock",
        governance.timelock_delay,
        [],
        [_ZERO_ADDRESS],
        deployer.address,
        sender=deployer,
    )
    registry, records["ModelRegistry"] = chain.deploy(
        "ModelRegistry", identities.address, timelock.address, guardian, sender=deployer
    )
    governor, records["LedgerGovernor"] = chain.deploy(
        "LedgerGovernor",
        token_contract.address,
        timelock.address,
        registry.address,
        (
            governance.voting_delay,
            governance.voting_period,
            governance.proposal_threshold,
            governance.quorum_fraction,
            governance.late_quorum_extension,
            guardian,
        ),
        sender=deployer,
    )
    vault, records["StakeVault"] = chain.deploy(
        "StakeVault",
        token_contract.address,
        timelock.address,
        staking.unbonding_blocks,
        deployer.address,
        sender=deployer,
    )
    coordinator, records["TrainingCoordinator"] = chain.deploy(
        "TrainingCoordinator",
        registry.address,
        beacon_contract.address,
        vault.address,
        token_contract.address,
        sender=deployer,
    )
    # The deployer administers the oracle until the audit module holds its auditor role.
    oracle_contract, records["InferenceOracle"] = chain.deploy(
        "InferenceOracle",
        registry.address,
        beacon_contract.address,
        vault.address,
        token_contract.address,
        deployer.address,
        oracle.min_provider_stake,
        sender=deployer,
    )
    audits_contract, records["InferenceAudits"] = chain.deploy(
        "InferenceAudits",
        oracle_contract.address,
        registry.address,
        beacon_contract.address,
        vault.address,
        token_contract.address,
        timelock.address,
        audits.to_tuple(),
        sender=deployer,
    )
    disputes_contract, records["OptimisticInference"] = chain.deploy(
        "OptimisticInference",
        oracle_contract.address,
        registry.address,
        vault.address,
        token_contract.address,
        timelock.address,
        optimistic.to_tuple(),
        sender=deployer,
    )
    learning_contract, records["LearningProofs"] = chain.deploy(
        "LearningProofs",
        audits_contract.address,
        registry.address,
        beacon_contract.address,
        vault.address,
        learning.to_tuple(),
        sender=deployer,
    )
    send = chain.sender(deployer).transact
    governance_role = keccak(text="GOVERNANCE_ROLE")
    oracle_roles = oracle_contract.functions
    send(oracle_roles.grantRole(keccak(text="AUDITOR_ROLE"), audits_contract.address))
    send(oracle_roles.grantRole(keccak(text="OPTIMISTIC_ROLE"), disputes_contract.address))
    send(oracle_roles.grantRole(governance_role, timelock.address))
    send(oracle_roles.grantRole(_DEFAULT_ADMIN_ROLE, timelock.address))
    send(oracle_roles.renounceRole(governance_role, deployer.address))
    send(oracle_roles.renounceRole(_DEFAULT_ADMIN_ROLE, deployer.address))
    # The vault's slashers are protocol modules; its admin (who adds modules) is the timelock.
    send(vault.functions.grantRole(keccak(text="SLASHER_ROLE"), coordinator.address))
    send(vault.functions.grantRole(keccak(text="SLASHER_ROLE"), audits_contract.address))
    send(vault.functions.grantRole(keccak(text="SLASHER_ROLE"), learning_contract.address))
    send(vault.functions.grantRole(_DEFAULT_ADMIN_ROLE, timelock.address))
    send(vault.functions.renounceRole(_DEFAULT_ADMIN_ROLE, deployer.address))
    roles = timelock.functions
    send(roles.grantRole(keccak(text="PROPOSER_ROLE"), governor.address))
    send(roles.grantRole(keccak(text="CANCELLER_ROLE"), governor.address))
    if guardian != _ZERO_ADDRESS:
        send(roles.grantRole(keccak(text="CANCELLER_ROLE"), guardian))
    send(roles.renounceRole(_DEFAULT_ADMIN_ROLE, deployer.address))
    return DeploymentManifest(chain_id=chain.chain_id, deployer=deployer.address, contracts=records)
