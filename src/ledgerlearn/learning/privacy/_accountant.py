"""Privacy accounting for DP-FedAvg: how much ``(epsilon, delta)`` a schedule of rounds spends.

One round of client-level DP-FedAvg (McMahan, Ramage, Talwar, Zhang, "Learning Differentially
Private Recurrent Language Models", ICLR 2018) is a Gaussian mechanism with noise multiplier
``z`` (noise standard deviation over the clipping norm) applied to a Poisson sample of the
clients with rate ``q`` (``q = 1`` when every client takes part). ``T`` rounds compose. The
accountant builds that ``DpEvent`` and hands it to Google's ``dp-accounting``:

- ``rdp`` — Rényi DP (Mironov, "Rényi Differential Privacy", CSF 2017; the sampled Gaussian
  of Mironov, Talwar, Zhang 2019), converted to ``(epsilon, delta)``;
- ``pld`` — privacy loss distributions (Koskela et al. 2020; Doroshenko et al., "Connect the
  Dots", PETS 2022), tighter and slower.

Trust assumption: the mechanism really is the one accounted for — every client clips to
``C`` and the released sum carries Gaussian noise of standard deviation at least ``z * C``
(the committee adds it honestly under central DP; under distributed DP at least the
threshold number of clients add their share).
"""

from __future__ import annotations

import functools
import logging
import math
import sys

import dp_accounting
from absl import logging as absl_logging
from dp_accounting import pld, rdp

from ledgerlearn.exceptions import PrivacyBudgetError

__all__ = [
    "ACCOUNTANTS",
    "PrivacyAccountant",
    "PrivacyBudgetError",
    "dp_event",
    "epsilon_for",
    "plan_noise",
]

ACCOUNTANTS = ("rdp", "pld")

# absl (imported by dp-accounting) builds a log handler bound to the sys.stderr of that moment.
# A later logging.config.dictConfig (uvicorn's, when a gateway starts) closes every handler,
# and absl's close() closes its stream unless it is the current sys.stderr: a redirected or
# captured stderr would be closed under its owner. Bind it to the process's own stderr.
absl_logging.get_absl_handler().python_handler.stream = sys.__stderr__
# dp-accounting logs (through absl) every RDP order it cannot evaluate; the orders are simply
# left out of the minimum, which is what we want, so the warnings are noise for our users.
logging.getLogger("absl").setLevel(logging.ERROR)


def _check(noise_multiplier: float, sample_rate: float, delta: float, accountant: str) -> None:
    if not math.isfinite(noise_multiplier) or noise_multiplier <= 0:
        raise ValueError(f"noise multiplier must be a positive number, got {noise_multiplier}")
    if not 0 < sample_rate <= 1:
        raise ValueError(f"sample rate must be in (0, 1], got {sample_rate}")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), got {delta}")
    if accountant not in ACCOUNTANTS:
        raise ValueError(f"accountant must be one of {', '.join(ACCOUNTANTS)}, not {accountant!r}")


def dp_event(
    noise_multiplier: float, rounds: int, sample_rate: float = 1.0
) -> dp_accounting.DpEvent:
    """Return the ``DpEvent`` of ``rounds`` rounds of DP-FedAvg.

    Parameters
    ----------
    noise_multiplier
        ``z``: the noise standard deviation over the clipping norm.
    rounds
        Rounds composed (``>= 0``).
    sample_rate
        Probability that a client takes part in a round (Poisson sampling); ``1`` for all.

    Returns
    -------
    dp_accounting.DpEvent
        ``SelfComposed(PoissonSampled(Gaussian(z), q), rounds)``, or without the sampling
        when ``q = 1``.
    """
    gaussian = dp_accounting.GaussianDpEvent(noise_multiplier)
    event: dp_accounting.DpEvent = (
        gaussian if sample_rate >= 1 else dp_accounting.PoissonSampledDpEvent(sample_rate, gaussian)
    )
    return dp_accounting.SelfComposedDpEvent(event, rounds)


@functools.lru_cache(maxsize=4096)
def epsilon_for(
    noise_multiplier: float,
    rounds: int,
    delta: float,
    sample_rate: float = 1.0,
    accountant: str = "rdp",
) -> float:
    """Return the epsilon that ``rounds`` rounds of DP-FedAvg spend at ``delta``.

    Parameters
    ----------
    noise_multiplier, rounds, sample_rate
        The schedule (see :func:`dp_event`).
    delta
        The target delta.
    accountant
        ``rdp`` or ``pld``.

    Returns
    -------
    float
        Epsilon (``0`` for no rounds).

    Raises
    ------
    ValueError
        If a parameter is out of range.
    """
    _check(noise_multiplier, sample_rate, delta, accountant)
    if rounds < 0:
        raise ValueError(f"rounds must be >= 0, got {rounds}")
    if rounds == 0:
        return 0.0
    event = dp_event(noise_multiplier, rounds, sample_rate)
    if accountant == "rdp":
        engine: dp_accounting.PrivacyAccountant = rdp.RdpAccountant()
    else:
        engine = pld.PLDAccountant()
    engine.compose(event)
    return float(engine.get_epsilon(delta))


def plan_noise(
    target_epsilon: float,
    delta: float,
    rounds: int,
    sample_rate: float = 1.0,
    accountant: str = "rdp",
    *,
    tolerance: float = 1e-3,
) -> float:
    """Return the smallest noise multiplier whose schedule spends at most ``target_epsilon``.

    Bisection on ``z`` (epsilon decreases as ``z`` grows), to a relative ``tolerance``; the
    returned ``z`` is on the safe side (its epsilon is at most the target).

    Parameters
    ----------
    target_epsilon, delta
        The budget.
    rounds, sample_rate
        The schedule.
    accountant
        ``rdp`` or ``pld``.
    tolerance
        Relative precision of ``z``.

    Returns
    -------
    float
        The noise multiplier.

    Raises
    ------
    PrivacyBudgetError
        If no ``z`` up to 10^4 reaches the target (an epsilon that small needs more noise
        than any useful model tolerates).
    """
    if not math.isfinite(target_epsilon) or target_epsilon <= 0:
        raise ValueError(f"target epsilon must be a positive number, got {target_epsilon}")
    if rounds < 1:
        raise ValueError(f"rounds must be >= 1, got {rounds}")
    low, high = 1e-2, 1.0
    while epsilon_for(high, rounds, delta, sample_rate, accountant) > target_epsilon:
        low, high = high, high * 2
        if high > 1e4:
            raise PrivacyBudgetError(
                f"epsilon {target_epsilon:g} over {rounds} rounds is out of reach "
                f"(noise multiplier above 10^4); allow a larger epsilon or fewer rounds"
            )
    while high - low > tolerance * high:
        middle = (low + high) / 2
        if epsilon_for(middle, rounds, delta, sample_rate, accountant) > target_epsilon:
            low = middle
        else:
            high = middle
    return high


class PrivacyAccountant:
    """The budget of one task: epsilon after each round, and whether another round fits.

    Parameters
    ----------
    noise_multiplier, sample_rate
        The mechanism of every round.
    epsilon, delta
        The budget; ``delta`` is also the delta at which epsilon is reported.
    accountant
        ``rdp`` or ``pld``.

    Raises
    ------
    ValueError
        If a parameter is out of range.
    """

    def __init__(
        self,
        noise_multiplier: float,
        *,
        epsilon: float,
        delta: float,
        sample_rate: float = 1.0,
        accountant: str = "rdp",
    ) -> None:
        _check(noise_multiplier, sample_rate, delta, accountant)
        if not math.isfinite(epsilon) or epsilon <= 0:
            raise ValueError(f"epsilon budget must be a positive number, got {epsilon}")
        self.noise_multiplier = noise_multiplier
        self.sample_rate = sample_rate
        self.budget = epsilon
        self.delta = delta
        self.accountant = accountant

    def spent(self, rounds: int) -> float:
        """Return the epsilon spent after ``rounds`` rounds."""
        return epsilon_for(
            self.noise_multiplier, rounds, self.delta, self.sample_rate, self.accountant
        )

    def allows(self, round_number: int) -> bool:
        """Whether round ``round_number`` (1-based) keeps the spend within the budget."""
        return self.spent(round_number) <= self.budget

    def max_rounds(self, limit: int = 100_000) -> int:
        """Return the most rounds the budget allows (at most ``limit``)."""
        if not self.allows(1):
            return 0
        high = 1
        while high < limit and self.allows(min(high * 2, limit)):
            high = min(high * 2, limit)
        if high == limit:
            return limit
        top = min(high * 2, limit)  # does not fit
        while top - high > 1:
            middle = (high + top) // 2
            if self.allows(middle):
                high = middle
            else:
                top = middle
        return high

    def check(self, round_number: int) -> float:
        """Return round ``round_number``'s cumulative epsilon, or raise if it is over budget.

        Raises
        ------
        PrivacyBudgetError
            If the round would spend more than the budget.
        """
        spent = self.spent(round_number)
        if spent > self.budget:
            raise PrivacyBudgetError(
                f"round {round_number} would bring epsilon to {spent:.4g}, over the budget "
                f"{self.budget:g} (delta {self.delta:g}); the task may run at most "
                f"{self.max_rounds()} rounds with noise multiplier {self.noise_multiplier:g}"
            )
        return spent
