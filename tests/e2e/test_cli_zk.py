"""``ledgerlearn zk setup|fetch|prove|verify`` against a devnet in another process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("ezkl")

from ledgerlearn.exit_codes import ExitCode
from ledgerlearn.learning.models import MLP
from tests.integration.test_cli_registry import devnet_cli, run

__all__ = ["devnet_cli"]

ARCH = '{"kind": "mlp", "inputs": 4, "hidden": [8], "classes": 3}'


@pytest.mark.slow
def test_setup_binds_the_circuit_and_fetch_rebuilds_it(
    devnet_cli: tuple[list[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    chain, work = devnet_cli
    root = ["--root", str(work / "store")]
    owner = ["--dev-accounts", "--account", "2"]
    (work / "mlp.safetensors").write_bytes(MLP(4, 3, (8,), seed=3).to_bytes())
    assert run(capsys, "model", "create", "tiny", *chain, *owner)[0] == ExitCode.OK
    code, record = run(
        capsys, "model", "publish", "tiny", str(work / "mlp.safetensors"),
        "--architecture", ARCH, *chain, *owner, *root,
    )  # fmt: skip
    assert code == ExitCode.OK
    ref = f"tiny@{record['version']}"  # type: ignore[index]

    code, error = run(capsys, "zk", "fetch", ref, "--dir", str(work / "none"), *chain, *root)
    assert code == ExitCode.VERIFICATION and "no zk circuit bound" in str(error)
    (work / "bad.json").write_text('{"x": [[1, 2]]}')
    code, _ = run(
        capsys, "zk", "setup", ref, "--calibration", str(work / "bad.json"), *chain, *owner, *root
    )
    assert code == ExitCode.USAGE
    code, _ = run(capsys, "zk", "setup", ref, "--weights", "public", *chain, *owner, *root)
    assert code == ExitCode.USAGE

    (work / "calibration.json").write_text(json.dumps({"x": [[0.5, -1, 2, 0.25]] * 4}))
    code, bound = run(
        capsys, "zk", "setup", ref, "--dir", str(work / "circuit"),
        "--calibration", str(work / "calibration.json"), "--weights", "fixed",
        *chain, *owner, *root,
    )  # fmt: skip
    assert code == ExitCode.OK and bound["localSrs"] is True  # type: ignore[index]
    assert bound["weights"] == "fixed"  # type: ignore[index]
    code, fetched = run(
        capsys, "zk", "fetch", ref, "--dir", str(work / "fetched"), "--audit", *chain, *root
    )
    assert code == ExitCode.OK, fetched
    assert fetched["audited"] is True  # type: ignore[index]
    assert fetched["weights"] == "fixed"  # type: ignore[index]
    assert fetched["weightCommitment"] == bound["weightCommitment"]  # type: ignore[index]
    assert (work / "fetched" / "vk.key").read_bytes() == (work / "circuit" / "vk.key").read_bytes()
    # Bound once: a second setup cannot rebind the version, and says so before building.
    code, error = run(
        capsys, "zk", "setup", ref, "--dir", str(work / "again"),
        "--calibration", str(work / "calibration.json"), *chain, *owner, *root,
    )  # fmt: skip
    assert code == ExitCode.VERIFICATION and "already has a circuit bound" in str(error)
    assert not (work / "again").exists()
    # No such request to prove or verify.
    code, _ = run(capsys, "zk", "prove", "999", "--dir", str(work / "fetched"), *chain, *owner)
    assert code != ExitCode.OK
