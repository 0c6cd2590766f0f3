"""The private demo (``ledgerlearn demo --private``): secure aggregation and DP in rounds.

Its own module so that pytest-xdist (``--dist loadfile``) can run it beside the main demo.
It runs in a directory an earlier demo left behind (a cursor far past the new chain's
events): a rerun must start afresh.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.cli.test_cli import _isolated, run

__all__ = ["_isolated"]  # the autouse fixture: a clean working directory and environment


# anvil and the demo's deployment are deterministic: anvil's chain id, LedgerToken at dev
# account 0's second contract address.
CHAIN_ID, TOKEN = 31337, "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"


def test_private_demo_trains_under_secure_aggregation_and_dp(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "demo").mkdir()
    stale = {"chainId": CHAIN_ID, "address": TOKEN, "block": 10**6, "logIndex": 0}
    (tmp_path / "demo" / "cursor.json").write_text(json.dumps(stale))
    # On anvil: the main demo test covers the embedded chain; this one the devnet path.
    quick = ["--network-rounds", "2", "--no-verification", "--chain", "devnet"]
    code, data, _ = run(
        capsys, "demo", "--private", "--workdir", str(tmp_path / "demo"), *quick, "--json"
    )
    assert code == 0
    steps = {step["step"]: step for step in data["steps"]}
    assert steps["read events"]["events"][0] == "RoleGranted"  # a rerun starts afresh
    network = next(step for step in data["steps"] if step["step"] == "training network")
    assert network["production"] == network["version"] and network["gas"]["postSecAgg"] > 0
    privacy = [row["privacy"] for row in network["trail"]]
    assert [p["placement"] for p in privacy] == ["distributed"] * 2
    assert all(p["survivors"] == 10 for p in privacy)  # ten trainers, none dropped
    epsilons = [p["epsilon"] for p in privacy]
    assert 0 < epsilons[0] < epsilons[1] <= 8.0  # spent per round, within the budget
