"""DP-FedAvg: the accountant against dp-accounting and the analytic Gaussian, noise, clipping."""

from __future__ import annotations

import math

import dp_accounting
import numpy as np
import pytest
from dp_accounting import pld, rdp
from scipy import optimize, stats

from ledgerlearn.exceptions import PrivacyBudgetError
from ledgerlearn.learning.privacy import (
    DpSettings,
    PrivacyAccountant,
    clip_update,
    epsilon_for,
    plan_noise,
    secure_gaussian,
)


@pytest.mark.parametrize("accountant", ["rdp", "pld"])
@pytest.mark.parametrize(("z", "rounds", "q"), [(1.1, 30, 1.0), (0.8, 50, 0.05)])
def test_epsilon_matches_dp_accounting_composed_directly(
    accountant: str, z: float, rounds: int, q: float
) -> None:
    delta = 1e-5
    engine = rdp.RdpAccountant() if accountant == "rdp" else pld.PLDAccountant()
    single: dp_accounting.DpEvent = dp_accounting.GaussianDpEvent(z)
    if q < 1:
        single = dp_accounting.PoissonSampledDpEvent(q, single)
    engine.compose(single, rounds)
    assert epsilon_for(z, rounds, delta, q, accountant) == pytest.approx(
        engine.get_epsilon(delta),
        rel=1e-6,  # PLD discretises each composition step
    )


def _analytic_gaussian_epsilon(z: float, rounds: int, delta: float) -> float:
    # Balle & Wang 2018 (Theorem 8): T Gaussian mechanisms with multiplier z compose to one
    # with mu = sqrt(T) / z; delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2).
    mu = math.sqrt(rounds) / z

    def gap(eps: float) -> float:
        return float(
            stats.norm.cdf(-eps / mu + mu / 2)
            - math.exp(eps) * stats.norm.cdf(-eps / mu - mu / 2)
            - delta
        )

    return float(optimize.brentq(gap, 0.0, 100.0))


def test_accountants_bracket_the_exact_gaussian_epsilon() -> None:
    z, rounds, delta = 2.0, 50, 1e-5
    exact = _analytic_gaussian_epsilon(z, rounds, delta)
    assert epsilon_for(z, rounds, delta, accountant="pld") == pytest.approx(exact, rel=0.02)
    assert epsilon_for(z, rounds, delta, accountant="rdp") >= exact  # RDP is an upper bound


@pytest.mark.parametrize("accountant", ["rdp", "pld"])
def test_plan_noise_is_the_smallest_multiplier_within_the_target(accountant: str) -> None:
    z = plan_noise(3.0, 1e-5, 40, 0.2, accountant)
    assert epsilon_for(z, 40, 1e-5, 0.2, accountant) <= 3.0
    assert epsilon_for(z * 0.995, 40, 1e-5, 0.2, accountant) > 3.0
    assert plan_noise(8.0, 1e-5, 40, 0.2, accountant) < z  # a looser budget needs less noise
    with pytest.raises(PrivacyBudgetError, match="out of reach"):
        plan_noise(1e-6, 1e-5, 1000)
    with pytest.raises(ValueError, match="epsilon"):
        plan_noise(-1, 1e-5, 10)


def test_budget_stops_the_round_that_would_exceed_it() -> None:
    accountant = PrivacyAccountant(1.5, epsilon=4.0, delta=1e-5)
    limit = accountant.max_rounds()
    assert limit >= 1
    assert accountant.check(limit) <= 4.0
    assert accountant.allows(limit) and not accountant.allows(limit + 1)
    spent = [accountant.spent(r) for r in range(1, limit + 1)]
    assert spent == sorted(spent)  # epsilon only grows
    with pytest.raises(PrivacyBudgetError, match=f"at most {limit} rounds"):
        accountant.check(limit + 1)


def test_secure_gaussian_is_keyed_and_normal() -> None:
    key = bytes(range(32))
    sample = secure_gaussian(key, 200_001, std=3.0)
    assert sample.shape == (200_001,)
    assert np.array_equal(sample, secure_gaussian(key, 200_001, std=3.0))
    assert not np.array_equal(sample[:10], secure_gaussian(bytes(32), 10, std=3.0))
    assert stats.kstest(sample / 3.0, "norm").pvalue > 1e-3
    assert abs(sample.std() - 3.0) < 0.03
    with pytest.raises(ValueError, match="32 bytes"):
        secure_gaussian(b"short", 3)


def test_clip_update_bounds_the_norm_and_keeps_small_updates() -> None:
    big = np.full(100, 1.0)
    assert np.linalg.norm(clip_update(big, 2.0)) == pytest.approx(2.0)
    small = np.full(100, 0.01)
    assert np.array_equal(clip_update(small, 2.0), small)
    with pytest.raises(ValueError, match="clip"):
        clip_update(small, 0.0)


def test_dp_settings_round_trip_and_errors() -> None:
    settings = DpSettings(clip=1.0, noise_multiplier=1.2, epsilon=8.0)
    assert DpSettings.from_json(settings.to_json()) == settings
    assert settings.noise_std == pytest.approx(1.2)
    with pytest.raises(ValueError, match="unknown fields"):
        DpSettings.from_json({**settings.to_json(), "sigma": 1})
    with pytest.raises(ValueError, match="lacks"):
        DpSettings.from_json({"clip": 1.0})
    with pytest.raises(ValueError, match="placement"):
        DpSettings(clip=1.0, noise_multiplier=1.0, epsilon=1.0, placement="local")
    with pytest.raises(ValueError, match="delta"):
        DpSettings(clip=1.0, noise_multiplier=1.0, epsilon=1.0, delta=2.0)


def test_simulation_runs_dp_fedavg_and_reports_epsilon_per_round() -> None:
    from ledgerlearn.learning.models import TrainConfig
    from ledgerlearn.learning.simulation import SimulationConfig, run_simulation

    dp = DpSettings(clip=2.0, noise_multiplier=0.3, epsilon=500.0, sample_rate=0.5)
    local = TrainConfig(epochs=5, batch_size=16, learning_rate=0.1)
    config = SimulationConfig(
        dataset="digits", partition="iid", clients=40, rounds=4, hidden=(16,), local=local, dp=dp
    )
    result = run_simulation(config)
    assert [m.epsilon for m in result.rounds] == [dp.accounting().spent(r) for r in (1, 2, 3, 4)]
    assert all(0 < m.participants < 40 for m in result.rounds)  # Poisson-sampled clients
    assert result.final_accuracy > 0.5  # noisy, but learning (chance is 0.1)
    with pytest.raises(PrivacyBudgetError):
        run_simulation(SimulationConfig(dataset="digits", rounds=3, dp=replace_eps(dp, 0.5)))


def replace_eps(dp: DpSettings, epsilon: float) -> DpSettings:
    from dataclasses import replace

    return replace(dp, epsilon=epsilon)
