"""Differential privacy for federated training: client-level DP-FedAvg and its accountant.

Each client's update is clipped to an L2 norm ``C``; Gaussian noise of standard deviation
``z * C`` is added to the sum of the clipped updates, once by the committee (central DP) or
split among the clients under secure aggregation (distributed DP). The accountant, built on
Google's ``dp-accounting`` (RDP and PLD), turns ``z``, the sampling rate and the number of
rounds into the ``(epsilon, delta)`` a task spends, and :func:`plan_noise` inverts it.
See :mod:`ledgerlearn.learning.privacy._accountant` and ``._mechanism`` for the papers.
"""

from ledgerlearn.learning.privacy._accountant import (
    ACCOUNTANTS,
    PrivacyAccountant,
    dp_event,
    epsilon_for,
    plan_noise,
)
from ledgerlearn.learning.privacy._mechanism import (
    DpSettings,
    clip_rows,
    clip_update,
    secure_gaussian,
)

__all__ = [
    "ACCOUNTANTS",
    "DpSettings",
    "PrivacyAccountant",
    "clip_rows",
    "clip_update",
    "dp_event",
    "epsilon_for",
    "plan_noise",
    "secure_gaussian",
]
