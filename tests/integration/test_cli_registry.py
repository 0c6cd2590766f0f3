"""The did, model and gov commands against a devnet in another process, as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from ledgerlearn.cli._app import main
from ledgerlearn.exit_codes import ExitCode
from tests.cli_args import argv
from tests.integration.test_cli_devnet import _free_port


@pytest.fixture(scope="module")
def devnet_cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[str], Path]]:
    work = tmp_path_factory.mktemp("cli-registry")
    port = _free_port()
    manifest = work / "deployment.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLEARN_")}
    node = subprocess.Popen(
        [
            *(sys.executable, "-m", "ledgerlearn.cli", "--manifest", str(manifest)),
            *("chain", "up", "--port", str(port), "--deploy", "--json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=work,
    )
    assert node.stdout is not None
    for line in node.stdout:
        if line.rstrip() == "}":
            break
    chain = ["--backend", "rpc", "--rpc-url", f"http://127.0.0.1:{port}"]
    try:
        yield [*chain, "--manifest", str(manifest)], work
    finally:
        node.terminate()
        node.wait(timeout=30)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object]:
    capsys.readouterr()
    code = main(argv([*args, "--json"]))
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


@pytest.mark.slow
def test_publish_vote_promote_pull_and_rotate_from_the_cli(
    devnet_cli: tuple[list[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    chain, work = devnet_cli
    root = ["--root", str(work / "store")]
    dev = ["--dev-accounts"]
    alice = [*dev, "--account", "1"]
    save_file({"w": np.arange(6, dtype=np.float32)}, str(work / "w.safetensors"))
    (work / "report.json").write_text('{"accuracy": 0.9}')

    assert run(capsys, "model", "create", "digits", *chain, *alice)[0] == ExitCode.OK
    code, record = run(
        capsys,
        "model",
        "publish",
        "digits",
        str(work / "w.safetensors"),
        *chain,
        *alice,
        *root,
        "--card",
        '{"summary": "test", "evaluation": {"accuracy": 0.9}}',
    )
    assert code == ExitCode.OK and record["version"] == 1  # type: ignore[index]
    code, report = run(capsys, "store", "put", str(work / "report.json"), *root)
    cid = report["cid"]  # type: ignore[index]
    assert run(capsys, "gov", "delegate", *chain, *dev)[0] == ExitCode.OK
    code, status = run(
        capsys, "gov", "propose-promotion", "digits@1", "--report", cid, *chain, *dev, *root
    )
    pid = status["proposalId"]  # type: ignore[index]
    assert status["state"] == "pending"  # type: ignore[index]
    code, _ = run(capsys, "gov", "vote", pid, "for", *chain, *dev)
    assert code == ExitCode.PROPOSAL_STATE  # voting has not opened yet
    run(capsys, "gov", "advance", "--blocks", "2", *chain)
    assert run(capsys, "gov", "vote", pid, "for", *chain, *dev)[0] == ExitCode.OK
    run(capsys, "gov", "advance", "--blocks", "60", *chain)
    assert run(capsys, "gov", "queue", pid, *chain, *dev)[0] == ExitCode.OK
    run(capsys, "gov", "advance", "--seconds", "3601", *chain)
    code, status = run(capsys, "gov", "execute", pid, *chain, *dev)
    assert status["state"] == "executed"  # type: ignore[index]

    code, view = run(capsys, "model", "show", "digits", *chain)
    assert view["channels"] == {"production": 1}  # type: ignore[index]
    code, verified = run(capsys, "model", "verify", "digits@production", *chain, *root)
    assert verified["verified"] is True  # type: ignore[index]
    code, pulled = run(capsys, "model", "pull", "digits", str(work / "out"), *chain, *root)
    assert (
        code == ExitCode.OK
        and Path(pulled["weights"]).read_bytes()
        == (  # type: ignore[index]
            work / "w.safetensors"
        ).read_bytes()
    )
    code, _ = run(capsys, "model", "pull", "digits", str(work / "out"), *chain, *root)
    assert code == ExitCode.DESTINATION_EXISTS
    code, history = run(capsys, "model", "history", "digits", *chain)
    moved = [e for e in history["events"] if e["event"] == "ChannelMoved"]  # type: ignore[index]
    assert moved[0]["proposalId"] == pid and moved[0]["evaluationReport"] == cid
    code, lineage = run(capsys, "model", "lineage", "digits@1", *chain)
    assert [r["version"] for r in lineage["lineage"]] == [1]  # type: ignore[index]

    bob = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    did = "did:ethr:0x7a69:0x70997970c51812dc3a010c7d01b50e0d17dc79c8"
    assert run(capsys, "did", "delegate", bob, *chain, *alice)[0] == ExitCode.OK
    code, resolved = run(capsys, "did", "resolve", did, *chain)
    methods = resolved["didDocument"]["verificationMethod"]  # type: ignore[index]
    assert any(m["blockchainAccountId"].endswith(bob) for m in methods)
    code, revoked = run(capsys, "did", "revoke", bob, *chain, *alice)
    code, before = run(capsys, "did", "resolve", did, "--block", str(revoked["block"] - 1), *chain)  # type: ignore[index]
    assert len(before["didDocument"]["verificationMethod"]) == 2  # type: ignore[index]
    assert run(capsys, "did", "rotate", bob, *chain, *alice)[0] == ExitCode.OK
    code, rotated = run(capsys, "did", "resolve", did, *chain)
    assert rotated["didDocument"]["controller"].endswith(bob.lower())  # type: ignore[index]
    code, _ = run(capsys, "gov", "propose-promotion", "digits@1", "--report", "", *chain, *dev)
    assert code == ExitCode.GOVERNANCE
