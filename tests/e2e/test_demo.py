"""The whole demo (``ledgerlearn demo``), run in process: every section's evidence.

About 2.5 minutes alone on 2 cores (the verification section's EZKL circuit, proof and
dispute take a minute of it); the private demo on devnet is :mod:`tests.e2e.test_demo_private`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.test_cli import _isolated, run

__all__ = ["_isolated"]  # the autouse fixture: a clean working directory and environment


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    quick = ["--network-rounds", "1"]
    code, data, _ = run(capsys, "demo", "--workdir", str(tmp_path / "demo"), *quick, "--json")
    assert code == 0
    steps = {step["step"]: step for step in data["steps"]}
    network = steps["training network"]
    assert network["production"] == network["version"] and len(network["trail"]) == 1
    assert len(network["slashed"]) == 0 and len(network["rejected"]) == 2  # 1 round < 2 rejections
    assert steps["read events"]["events"] == ["RoleGranted", "Transfer", "Approval", "Transfer"]
    assert steps["store artifact"]["cid"].startswith("bafybei")
    assert len(steps["randomness"]["committee"]) == 3 and steps["randomness"]["fulfilGas"] < 200_000
    assert (tmp_path / "demo" / "deployment.json").is_file()
    oracle = steps["inference oracle"]
    assert all(check["ok"] for check in oracle["checks"]) and len(oracle["checks"]) >= 10
    assert all(answer["status"] == "fulfilled" for answer in oracle["requests"])
    assert oracle["liarStats"]["deviated"] >= 3  # every majority answer of the liar
    assert oracle["liarStats"]["fees"] == 0
    above = [
        answer["requestId"]
        for answer in oracle["requests"]
        if answer["mode"] == "median" and answer["result"] >= 0.5
    ]
    assert [request for request, why in oracle["reviews"] if why == "threshold"] == above
    audit = steps["audit"]
    assert audit["status"] == "overturned" and audit["corrected"] != audit["lie"]
    assert len(audit["slashed"]) == 3
    assert steps["zk proof"]["bytes"] > 0
    dispute = steps["optimistic dispute"]
    assert dispute["result"] != dispute["lie"] and dispute["rounds"] >= 1
