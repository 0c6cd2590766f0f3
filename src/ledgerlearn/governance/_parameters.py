"""Parameters of token governance: the Governor's voting rules, the timelock and the guardian.

Trust assumption: changed afterwards only by proposals that pass and wait out the timelock.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["GovernanceParameters"]


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
