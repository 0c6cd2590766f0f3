"""Parameters of audits, optimistic disputes and proof-of-learning checks.

Trust assumption: set at deployment; the audit and dispute rules change only through the
timelock, proof-of-learning rules never.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AuditParameters", "OptimisticParameters", "ProofOfLearningParameters"]


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
