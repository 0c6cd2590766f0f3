"""The private demo (``ledgerlearn demo --private``): secure aggregation and DP in rounds.

Its own module so that pytest-xdist (``--dist loadfile``) can run it beside the main demo.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.test_cli import _isolated, run

__all__ = ["_isolated"]  # the autouse fixture: a clean working directory and environment


@pytest.mark.timeout(600)
def test_private_demo_trains_under_secure_aggregation_and_dp(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    quick = ["--network-rounds", "2", "--no-verification"]
    code, data, _ = run(
        capsys, "demo", "--private", "--workdir", str(tmp_path / "demo"), *quick, "--json"
    )
    assert code == 0
    network = next(step for step in data["steps"] if step["step"] == "training network")
    assert network["production"] == network["version"] and network["gas"]["postSecAgg"] > 0
    privacy = [row["privacy"] for row in network["trail"]]
    assert [p["placement"] for p in privacy] == ["distributed"] * 2
    assert all(p["survivors"] == 10 for p in privacy)  # ten trainers, none dropped
    epsilons = [p["epsilon"] for p in privacy]
    assert 0 < epsilons[0] < epsilons[1] <= 8.0  # spent per round, within the budget
