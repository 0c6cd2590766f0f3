"""A simulation killed with SIGKILL resumes from its checkpoint and ends bit-identical."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ARGS = [
    "simulate",
    "--dataset",
    "digits",
    "--partition",
    "dirichlet:0.5",
    "--clients",
    "8",
    "--rounds",
    "25",
    "--rule",
    "nnm+centered_clipping:auto",
    "--attack",
    "alie:0.25",
    "--learning-rate",
    "0.1",
    "--json",
]


def _run(workdir: Path) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLEARN_")}
    return subprocess.Popen(
        [sys.executable, "-m", "ledgerlearn.cli", *ARGS, "--workdir", str(workdir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )


@pytest.mark.slow
def test_killed_simulation_resumes_to_identical_weights(tmp_path: Path) -> None:
    victim = _run(tmp_path / "killed")
    state = tmp_path / "killed" / "state.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if state.exists() and json.loads(state.read_text())["round"] >= 3:
            break
        time.sleep(0.02)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    interrupted_at = json.loads(state.read_text())["round"]
    assert 3 <= interrupted_at < 25, "the run finished before it could be killed"

    resumed = _run(tmp_path / "killed")
    resumed_out, _ = resumed.communicate(timeout=300)
    reference = _run(tmp_path / "clean")
    reference_out, _ = reference.communicate(timeout=300)
    assert resumed.returncode == reference.returncode == 0
    assert json.loads(resumed_out)["finalAccuracy"] == json.loads(reference_out)["finalAccuracy"]
    killed_weights = (tmp_path / "killed" / "checkpoint.safetensors").read_bytes()
    assert killed_weights == (tmp_path / "clean" / "checkpoint.safetensors").read_bytes()
    rounds = [
        json.loads(line)["round"]
        for line in (tmp_path / "killed" / "metrics.jsonl").read_text().splitlines()
    ]
    assert rounds == list(range(1, 26))
