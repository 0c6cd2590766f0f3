"""Protocol deployment: the contracts a ledgerlearn network needs, in dependency order.

:func:`deploy_protocol` deploys every protocol contract from the packaged artifacts and
returns the :class:`~ledgerlearn.ledger.DeploymentManifest`. Later layers append their
contracts to :data:`PROTOCOL_CONTRACTS`' order as they land.

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

from dataclasses import dataclass

from eth_utils import keccak

from ledgerlearn.identity import Secp256k1Key
from ledgerlearn.ledger._chain import Chain
from ledgerlearn.ledger._manifest import ContractRecord, DeploymentManifest

__all__ = [
    "PROTOCOL_CONTRACTS",
    "AuditParameters",
    "BeaconParameters",
    "GovernanceParameters",
    "OptimisticParameters",
    "OracleParameters",
    "ProofOfLearningParameters",
    "StakingParameters",
    "TokenParameters",
    "deploy_protocol",
]

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


@dataclass(frozen=True, slots=True)
class TokenParameters:
    """Supply of the protocol token, in its smallest unit (18 decimals).

    Attributes
    ----------
    initial_supply
        Minted to the deployer at deployment.
    max_supply
        Cap on all future minting.
    """

    initial_supply: int = 100_000_000 * 10**18
    max_supply: int = 1_000_000_000 * 10**18


@dataclass(frozen=True, slots=True)
class BeaconParameters:
    """Rules of the randomness beacon.

    Attributes
    ----------
    minimum_bond
        Smallest bond (token units) a VRF key registers with.
    fulfilment_window
        Blocks after the seed block reserved for the assigned key.
    unbonding_blocks
        Blocks between deactivating a key and withdrawing its bond.
    """

    minimum_bond: int = 1_000 * 10**18
    fulfilment_window: int = 20
    unbonding_blocks: int = 200


@dataclass(frozen=True, slots=True)
class StakingParameters:
    """Rules of the stake vault.

    Attributes
    ----------
    unbonding_blocks
        Blocks between starting to unbond and withdrawing; unbonding stake stays slashable,
        so this should exceed the longest task a staker can take part in.
    """

    unbonding_blocks: int = 1_000


@dataclass(frozen=True, slots=True)
class OracleParameters:
    """Rules of the inference oracle.

    Attributes
    ----------
    min_provider_stake
        Least stake (token units) in the vault a provider needs to be drawn for a request.
    """

    min_provider_stake: int = 100 * 10**18


@dataclass(frozen=True, slots=True)
class AuditParameters:
    """Rules of inference audits (``InferenceAudits.Parameters``); governance may change them.

    Attributes
    ----------
    auditors
        Auditors drawn per sampled request (at most 9).
    quorum
        Verdicts that must agree to confirm or to overturn (``2 * quorum > auditors``).
    verdict_blocks
        Blocks the panel has to post verdicts.
    open_window
        Blocks after a request's deadline during which its audit lottery may be opened.
    min_auditor_stake
        Least stake (token units) an auditor needs to join and to be drawn.
    slash_amount
        Stake (token units) each signer of an overturned result loses.
    """

    auditors: int = 3
    quorum: int = 2
    verdict_blocks: int = 50
    open_window: int = 1_000
    min_auditor_stake: int = 100 * 10**18
    slash_amount: int = 50 * 10**18

    def to_tuple(self) -> tuple[int, int, int, int, int, int]:
        """ABI tuple."""
        return (
            self.auditors,
            self.quorum,
            self.verdict_blocks,
            self.open_window,
            self.min_auditor_stake,
            self.slash_amount,
        )


@dataclass(frozen=True, slots=True)
class OptimisticParameters:
    """Rules of optimistic inference (``OptimisticInference.Parameters``); governance may change.

    Attributes
    ----------
    proposer_bond
        Tokens a claimant posts; lost to a challenger that wins the dispute.
    challenger_bond
        Tokens a challenger posts; lost to a claimant that wins the dispute.
    challenge_blocks
        Blocks a claim is open to challenge (again after each dispute it survives).
    round_blocks
        Blocks each party has per bisection round, and anyone has to re-execute the last layer.
    """

    proposer_bond: int = 20 * 10**18
    challenger_bond: int = 20 * 10**18
    challenge_blocks: int = 20
    round_blocks: int = 10

    def to_tuple(self) -> tuple[int, int, int, int]:
        """ABI tuple."""
        return (self.proposer_bond, self.challenger_bond, self.challenge_blocks, self.round_blocks)


@dataclass(frozen=True, slots=True)
class ProofOfLearningParameters:
    """Rules of proof-of-learning checks (``LearningProofs.Parameters``, fixed at deployment).

    Attributes
    ----------
    verifiers
        Verifiers drawn per claim from the auditor pool (at most 9).
    quorum
        Checks that must agree to pass or to fail a claim (``2 * quorum > verifiers``).
    samples
        Segments the beacon samples per claim (at most 16).
    verdict_blocks
        Blocks the panel has to post its checks.
    slash_amount
        Stake (token units) a trainer whose claim fails loses.
    """

    verifiers: int = 3
    quorum: int = 2
    samples: int = 2
    verdict_blocks: int = 50
    slash_amount: int = 50 * 10**18

    def to_tuple(self) -> tuple[int, int, int, int, int]:
        """ABI tuple."""
        return (self.verifiers, self.quorum, self.samples, self.verdict_blocks, self.slash_amount)


@dataclass(frozen=True, slots=True)
class GovernanceParameters:
    """Rules of token governance (OpenZeppelin Governor + TimelockController).

    Attributes
    ----------
    voting_delay
        Blocks between a proposal and the start of voting (the vote snapshot).
    voting_period
        Blocks voting stays open.
    proposal_threshold
        Votes (token units) an account needs to propose.
    quorum_fraction
        Percent of the token supply (at the snapshot) that must vote for or abstain.
    late_quorum_extension
        Blocks voting is extended by when quorum is reached late.
    timelock_delay
        Seconds between queueing and executing a passed proposal.
    guardian
        Address that may pause models, revoke versions and cancel proposals; ``None`` means
        the deployer, ``""`` none at all.
    """

    voting_delay: int = 1
    voting_period: int = 50
    proposal_threshold: int = 0
    quorum_fraction: int = 4
    late_quorum_extension: int = 10
    timelock_delay: int = 3600
    guardian: str | None = None


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
