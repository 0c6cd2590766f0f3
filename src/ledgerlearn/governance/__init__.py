"""Governance: token votes through a timelock decide which model version is live.

:class:`Governance` proposes promotions (citing an evaluation report), rollbacks and
parameter changes on the OpenZeppelin Governor, votes, queues, executes and reports a
proposal's state; on development chains it also advances blocks and time.

Trust assumption: a quorum-backed majority of token votes decides; the timelock delays
every decision; the guardian can cancel but never promote.
"""

from ledgerlearn.governance._governance import Governance
from ledgerlearn.governance._parameters import GovernanceParameters
from ledgerlearn.governance._reader import PARAMETERS, GovernanceReader, ProposalStatus

__all__ = [
    "PARAMETERS",
    "Governance",
    "GovernanceParameters",
    "GovernanceReader",
    "ProposalStatus",
]
