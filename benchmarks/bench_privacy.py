"""Privacy benchmarks: a secure-aggregation round against a plain one, beside Flower's SecAgg+,
and the MNIST model's accuracy under client-level DP at epsilon 1, 3 and 8.

Round time. Both systems run one round of FedAvg with the same number of clients and
parameters, once plain and once with secure aggregation, and the table shows each system's
overhead ratio (secure / plain) side by side:

- **ledgerlearn**: the real training network on a devnet (anvil), every node in one process
  (``run_in_process``):
  trainers commit sealed updates (plain) or key adverts and then post share bundles, masked
  inputs and unmask shares through the chain and the content store in their windows
  (secure); a committee of 3 opens the updates (plain) or unmasks the sum (secure) and posts.
  The round is timed from the first block after the join window to the round's
  finalisation. Trainers return a fixed update instead of training, so the round measures
  aggregation and transport only (training would add the same time to both variants).
- **Flower 1.41**: ``run_simulation`` of a ServerApp running ``DefaultWorkflow`` plain or
  with ``SecAggPlusWorkflow`` (clients with ``secaggplus_mod``), the same degree and
  threshold, clients returning a fixed update (``flower_secagg_round.py``, in Flower's
  virtualenv), timed around the workflow call.

Each cell is the median of three runs.

Accuracy. The simulator's DP-FedAvg (``SimulationConfig.dp``) on MNIST: 1,000 clients (IID,
60 examples each), Poisson sampling q = 0.1, 30 rounds, clip 1, the noise multiplier
planned for each epsilon at delta 1e-5 (RDP); beside the same schedule without DP.

    python benchmarks/bench_privacy.py [rounds|accuracy|all]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from ledgerlearn.devnet import NetworkConfig, make_nodes, run_in_process, setup_network
from ledgerlearn.learning.models import TrainConfig
from ledgerlearn.learning.privacy import DpSettings, plan_noise
from ledgerlearn.learning.simulation import SimulationConfig, run_simulation
from ledgerlearn.ledger import Chain, DevnetBackend
from ledgerlearn.node import TrainerNode
from ledgerlearn.protocol import deploy_protocol
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "privacy.md"
FLOWER = ROOT / ".venv-flower" / "bin" / "python"
SIZES = [(20, 1_009_660, 1270), (100, 101_770, 128)]  # clients, parameters, MNIST MLP hidden
REPEATS = 3


def _fixed_delta(self: TrainerNode, round_number: int):  # type: ignore[no-untyped-def]
    """Benchmark stand-in for local training: a fixed update of the model's size."""
    weights, _, _ = self.global_weights(round_number)
    size = sum(w.size for w in weights.values())
    rng = np.random.default_rng(int(self.address, 16) % 2**32)
    return rng.uniform(-0.001, 0.001, size).astype(np.float32), weights


def ours(clients: int, hidden: int, secure: bool) -> float:
    """Return one ledgerlearn round's seconds, plain or with secure aggregation."""
    TrainerNode.local_update = _fixed_delta  # type: ignore[method-assign]
    with Chain(DevnetBackend()) as chain, tempfile.TemporaryDirectory() as tmp:
        manifest = deploy_protocol(chain, chain.accounts[0])
        store = LocalContentStore(Path(tmp) / "store")
        config = NetworkConfig(
            model="bench-secagg" if secure else "bench-plain",
            trainers=clients,
            aggregators=3,
            attacks=(),
            rounds=1,
            rule="fedavg",
            byzantine=0,
            partition="iid",
            max_train=clients * 20,
            hidden=(hidden,),
            join_blocks=5 * clients + 60,
            commit_blocks=2 * clients + 20,
            aggregate_blocks=40,
            min_trainers=clients // 2,
            secagg={"bits": 24} if secure else None,
            secagg_blocks=2 * clients + 10,
        )
        setup = setup_network(chain, manifest, store, chain.accounts[0], config)
        client = TrainingClient(chain, manifest)
        deadline = client.task(setup.task_id).join_deadline
        marks: dict[str, float] = {}

        def on_step() -> None:
            if "start" not in marks and chain.block_number > deadline:
                marks["start"] = time.perf_counter()
            done = "start" in marks and "end" not in marks
            if done and client.round(setup.task_id, 1).finalised:
                marks["end"] = time.perf_counter()

        nodes = make_nodes(chain, manifest, store, setup, config, Path(tmp) / "nodes")
        run_in_process(chain, nodes, on_step=on_step)
        task = client.task(setup.task_id)
        if task.phase.label != "completed":
            raise RuntimeError(f"benchmark task ended {task.phase}")
    return marks["end"] - marks["start"]


def flower(clients: int, params: int, mode: str) -> float:
    """Return one Flower simulation round's seconds (``plain`` or ``secagg``)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        env = {**os.environ, "LEDGERLEARN_FLOWER_OUTPUT": str(out), "RAY_DEDUP_LOGS": "0"}
        subprocess.run(
            [str(FLOWER), str(ROOT / "flower_secagg_round.py"), str(clients), str(params), mode],
            check=True,
            env=env,
            capture_output=True,
            timeout=3_600,
        )
        return float(json.loads(out.read_text())["round"])


def rounds_table() -> list[str]:
    lines = [
        "## Round time: secure aggregation against plain aggregation",
        "",
        f"Each cell is the median of {REPEATS} runs.",
        "",
        "| clients x parameters | ledgerlearn plain (s) | ledgerlearn SecAgg+ (s) | "
        "ledgerlearn overhead | Flower plain (s) | Flower SecAgg+ (s) | Flower overhead | "
        "overhead ratio ours / Flower |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for clients, params, hidden in SIZES:
        # The median of REPEATS runs of each cell: single rounds on 2 shared cores vary by
        # a quarter from run to run.
        plain = statistics.median(ours(clients, hidden, False) for _ in range(REPEATS))
        secure = statistics.median(ours(clients, hidden, True) for _ in range(REPEATS))
        f_plain = statistics.median(flower(clients, params, "plain") for _ in range(REPEATS))
        f_secure = statistics.median(flower(clients, params, "secagg") for _ in range(REPEATS))
        ours_ratio, flower_ratio = secure / plain, f_secure / f_plain
        lines.append(
            f"| {clients} x {params:,} | {plain:.2f} | {secure:.2f} | {ours_ratio:.2f}x | "
            f"{f_plain:.2f} | {f_secure:.2f} | {flower_ratio:.2f}x | "
            f"{ours_ratio / flower_ratio:.2f} |"
        )
        print(lines[-1], flush=True)
    return lines


def accuracy_table(rounds: int = 30) -> list[str]:
    q, delta = 0.1, 1e-5
    base = SimulationConfig(
        dataset="mnist",
        partition="iid",
        clients=1_000,
        rule="fedavg",
        rounds=rounds,
        local=TrainConfig(epochs=1, batch_size=16, learning_rate=0.1, momentum=0.0),
    )
    lines = [
        "## MNIST accuracy under client-level DP (DP-FedAvg)",
        "",
        f"1,000 clients (IID, 60 examples each), Poisson sampling q = {q}, {rounds} rounds, "
        "clip 1, delta 1e-5, RDP accountant; the MNIST MLP (784-128-10, 101,770 parameters).",
        "",
        "| setting | noise multiplier z | epsilon spent | test accuracy |",
        "|---|---|---|---|",
    ]
    runs: list[tuple[str, SimulationConfig, float | None]] = [
        ("non-private (FedAvg, all clients)", base, None)
    ]
    for epsilon in (8.0, 3.0, 1.0):
        z = plan_noise(epsilon, delta, rounds, sample_rate=q)
        dp = DpSettings(clip=1.0, noise_multiplier=z, epsilon=epsilon, delta=delta, sample_rate=q)
        runs.append((f"DP, epsilon budget {epsilon:g}", replace(base, dp=dp), z))
    for name, config, z in runs:
        started = time.perf_counter()
        result = run_simulation(config)
        last = result.rounds[-1]
        spent = "—" if last.epsilon is None else f"{last.epsilon:.3f}"
        lines.append(
            f"| {name} | {'—' if z is None else f'{z:.3f}'} | {spent} | {last.accuracy:.3f} |"
        )
        print(lines[-1], f"({time.perf_counter() - started:.0f} s)", flush=True)
    return lines


def main() -> None:
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    header = [
        "# Privacy: secure aggregation and differential privacy",
        "",
        "Written by `python benchmarks/bench_privacy.py` (`make bench`); 2 cores, no GPU.",
        "",
    ]
    sections: list[str] = []
    if what in ("rounds", "all"):
        sections += [*rounds_table(), ""]
    if what in ("accuracy", "all"):
        sections += [*accuracy_table(), ""]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if what != "all" and RESULTS.exists():
        # Replace only the section measured, keeping the other one's last results.
        kept = RESULTS.read_text().split("\n## ")
        title = sections[0].removeprefix("## ")
        fresh = "\n".join(sections).removeprefix("## ")
        parts = [fresh if part.startswith(title) else part for part in kept]
        RESULTS.write_text("\n## ".join(parts))
    else:
        RESULTS.write_text("\n".join(header + sections))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
