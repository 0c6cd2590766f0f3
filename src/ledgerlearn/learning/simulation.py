"""Simulation: federated training in one process, with attackers, dropouts and resume.

N clients hold partitions of a dataset. Each round every client starts from the global
model and trains locally; clients that crash or miss the deadline drop out; a fraction of
clients are attackers whose updates an :class:`~ledgerlearn.learning.attacks.Attack`
forges; updates are validated, ordered canonically and aggregated by a strategy; the global
model moves by the aggregate and is evaluated. Metrics go to ``metrics.jsonl`` (one JSON
object per round) and a checkpoint is written after every round, so a killed run resumes
where it stopped and ends with the same weights, bit for bit, as an uninterrupted run:
every random choice is derived from ``(seed, round, client)``, never from a running
generator.

Trust assumption: this is an evaluation harness; the attacker is omniscient (it sees the
honest updates of the round), the strongest standard setting.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from safetensors import safe_open
from safetensors.numpy import save as save_safetensors

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import AggregationError, SimulationError
from ledgerlearn.learning.attacks import flip_labels, make_attack
from ledgerlearn.learning.datasets import Dataset, load_dataset, partition
from ledgerlearn.learning.models import (
    MLP,
    LogisticRegression,
    ModelAdapter,
    TrainConfig,
)
from ledgerlearn.learning.privacy import DpSettings
from ledgerlearn.learning.strategy import DifferentialPrivacy, FedAvg, Strategy, make_strategy
from ledgerlearn.learning.validation import validate_updates
from ledgerlearn.learning.weights import flatten, unflatten

__all__ = [
    "DEFAULT_RULE",
    "RoundMetrics",
    "SimulationConfig",
    "SimulationError",
    "SimulationResult",
    "run_simulation",
]

DEFAULT_RULE = "nnm+centered_clipping:auto"
"""The rule the robustness benchmark holds to its target (see benchmarks/results)."""


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that determines a simulation's outcome.

    Attributes
    ----------
    dataset
        ``digits``, ``mnist``, ``fashion_mnist``, ``churn``.
    partition
        ``iid``, ``dirichlet:A``, ``quantity:A``, ``natural``.
    clients
        Number of clients.
    rule
        Strategy spec (see :func:`ledgerlearn.learning.strategy.make_strategy`).
    attack
        Attack name, or ``None``.
    attack_fraction
        Share of clients that attack (the first ones by id).
    rounds
        Rounds to run.
    model
        ``mlp``, ``logreg``, or with the torch extra ``cnn`` (28x28 images) and ``lstm``
        (Shakespeare).
    hidden
        MLP hidden widths.
    local
        Local training settings (its seed is replaced per round and client).
    dropout
        Probability a client crashes in a round.
    deadline
        Simulated seconds a round waits; client latency is log-normal, proportional to its
        data size, so slow clients miss it.
    min_clients
        Fewest updates a round needs; otherwise it is skipped.
    max_norm
        Update norm bound for validation (none by default).
    num_byzantine
        ``f`` told to the rule; defaults to the number of attackers.
    max_train
        Use only the first training examples (for quick runs).
    seed
        Root seed.
    dp
        Client-level DP-FedAvg (central noise) instead of ``rule``: each round samples
        clients with ``dp.sample_rate``, clips their updates to ``dp.clip``, adds Gaussian
        noise of standard deviation ``z * C`` to the sum and divides by the expected number
        of participants; ``run_simulation`` refuses a schedule over ``dp.epsilon``.
    """

    dataset: str = "digits"
    partition: str = "dirichlet:0.5"
    clients: int = 20
    rule: str = DEFAULT_RULE
    attack: str | None = None
    attack_fraction: float = 0.0
    rounds: int = 30
    model: str = "mlp"
    hidden: tuple[int, ...] = (128,)
    local: TrainConfig = field(
        default_factory=lambda: TrainConfig(
            epochs=1, batch_size=32, learning_rate=0.05, momentum=0.0
        )
    )
    dropout: float = 0.0
    deadline: float = float("inf")
    min_clients: int = 1
    max_norm: float | None = None
    num_byzantine: int | None = None
    max_train: int | None = None
    seed: int = 0
    dp: DpSettings | None = None

    @property
    def num_attackers(self) -> int:
        """Clients that attack (the first ones by id)."""
        return round(self.attack_fraction * self.clients) if self.attack else 0

    def fingerprint(self) -> str:
        """sha256 of the canonical JSON of the configuration (checked on resume)."""
        data = asdict(self)
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class RoundMetrics:
    """One round's outcome (one line of ``metrics.jsonl``)."""

    round: int
    accuracy: float
    loss: float
    participants: int
    dropped: list[str]
    rejected: dict[str, str]
    skipped: str | None
    seconds: float
    epsilon: float | None = None


@dataclass
class SimulationResult:
    """Metrics of every round and the final global weights."""

    rounds: list[RoundMetrics]
    weights: dict[str, NDArray[np.float32]]

    @property
    def final_accuracy(self) -> float:
        """Test accuracy after the last round."""
        return self.rounds[-1].accuracy if self.rounds else float("nan")


def _derive_seed(*parts: int | str) -> int:
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _build_model(config: SimulationConfig, dataset: Dataset) -> ModelAdapter:
    if config.model == "mlp":
        return MLP(dataset.num_features, dataset.num_classes, config.hidden, seed=config.seed)
    if config.model == "logreg":
        return LogisticRegression(dataset.num_features, dataset.num_classes, seed=config.seed)
    if config.model in ("cnn", "lstm"):
        try:
            from ledgerlearn.learning.models.torch_models import CNN, CharLSTM
        except ImportError as exc:
            raise SimulationError(
                f"model {config.model!r} needs the torch extra: pip install 'ledgerlearn[torch]'"
            ) from exc
        if config.model == "cnn":
            return CNN(dataset.num_classes, seed=config.seed)
        return CharLSTM(dataset.num_classes, seed=config.seed)
    raise SimulationError(f"unknown model {config.model!r}: use mlp, logreg, cnn or lstm")


def run_simulation(
    config: SimulationConfig,
    workdir: Path | None = None,
    *,
    progress: bool = False,
    stop_after: int | None = None,
    on_round: Callable[[RoundMetrics], None] | None = None,
) -> SimulationResult:
    """Run (or resume) a simulation.

    Parameters
    ----------
    config
        The simulation.
    workdir
        Where ``checkpoint.safetensors``, ``state.json`` and ``metrics.jsonl`` go; with an
        existing checkpoint the run resumes after its round. ``None`` keeps nothing.
    progress
        Show a Rich progress bar.
    stop_after
        Stop after this round (to simulate an interruption).
    on_round
        Called with each round's metrics.

    Returns
    -------
    SimulationResult
        Metrics of all rounds so far (resumed ones included) and the global weights.

    Raises
    ------
    PrivacyBudgetError
        If ``config.dp`` is set and ``config.rounds`` rounds would exceed its epsilon.
    """
    if config.dp is not None:
        config.dp.accounting().check(config.rounds)
    dataset = load_dataset(config.dataset)
    if config.max_train:
        dataset = dataset.subset(config.max_train)
    parts = partition(dataset, config.partition, config.clients, config.seed)
    client_ids = [f"client-{i:03d}" for i in range(len(parts))]
    attackers = set(client_ids[: config.num_attackers])
    attack = make_attack(config.attack) if config.attack else None
    f = config.num_byzantine if config.num_byzantine is not None else len(attackers)
    strategy = make_strategy(config.rule, f)
    model = _build_model(config, dataset)
    history: list[RoundMetrics] = []
    start_round = 1
    if workdir is not None:
        workdir.mkdir(parents=True, exist_ok=True)
        start_round, history = _resume(workdir, config, model, strategy)
    bar = _progress(progress, config.rounds, start_round - 1)
    try:
        for round_number in range(start_round, config.rounds + 1):
            metrics = _round(
                round_number, config, dataset, parts, client_ids, attackers, attack, strategy, model
            )
            history.append(metrics)
            if workdir is not None:
                _checkpoint(workdir, config, model, strategy, metrics)
            if on_round is not None:
                on_round(metrics)
            if bar is not None:
                bar[0].update(
                    bar[1],
                    advance=1,
                    description=f"round {round_number} acc {metrics.accuracy:.3f}",
                )
            if stop_after is not None and round_number >= stop_after:
                break
    finally:
        if bar is not None:
            bar[0].stop()
    return SimulationResult(history, model.get_weights())


def _round(
    round_number: int,
    config: SimulationConfig,
    dataset: Dataset,
    parts: list[NDArray[np.int64]],
    client_ids: list[str],
    attackers: set[str],
    attack: Any,
    strategy: Strategy,
    model: ModelAdapter,
) -> RoundMetrics:
    started = time.perf_counter()
    global_weights = model.get_weights()
    global_vector = flatten(global_weights)
    rng = np.random.default_rng(_derive_seed(config.seed, "round", round_number))
    sizes = np.array([len(p) for p in parts], dtype=np.float64)
    latency = rng.lognormal(0.0, 0.5, len(parts)) * sizes / sizes.mean()
    crashed = rng.random(len(parts)) < config.dropout
    if config.dp is not None and config.dp.sample_rate < 1:  # Poisson sampling of clients
        sampler = np.random.default_rng(_derive_seed(config.seed, "sample", round_number))
        crashed |= sampler.random(len(parts)) >= config.dp.sample_rate
    dropped = [
        cid
        for cid, late, crash in zip(client_ids, latency > config.deadline, crashed, strict=True)
        if late or crash
    ]
    updates: dict[str, dict[str, NDArray[np.float32]]] = {}
    for index, cid in enumerate(client_ids):
        if cid in dropped:
            continue
        x, y = dataset.x_train[parts[index]], dataset.y_train[parts[index]]
        if attack is not None and attack.poisons_data and cid in attackers:
            y = flip_labels(y, dataset.num_classes)
        model.set_weights(global_weights)
        local = TrainConfig(
            **{**asdict(config.local), "seed": _derive_seed(config.seed, round_number, cid)}
        )
        model.fit(x, y, local)
        delta = flatten(model.get_weights()) - global_vector
        updates[cid] = unflatten(delta, global_weights)
    honest = [cid for cid in sorted(updates) if cid not in attackers]
    forged = [cid for cid in sorted(updates) if cid in attackers]
    if attack is not None and forged and not attack.poisons_data:
        honest_matrix = (
            np.stack([flatten(updates[c]) for c in honest]).astype(np.float64)
            if honest
            else np.zeros((0, global_vector.size))
        )
        own = np.stack([flatten(updates[c]) for c in forged]).astype(np.float64)
        for cid, row in zip(forged, attack.forge(honest_matrix, own, rng), strict=True):
            updates[cid] = unflatten(row.astype(np.float32), global_weights)
    report = validate_updates(updates, global_weights, max_norm=config.max_norm)
    rejected = {r.client: r.reason for r in report.rejections}
    skipped: str | None = None
    if len(report.clients) < max(config.min_clients, 1):
        skipped = f"only {len(report.clients)} valid updates, need {config.min_clients}"
    elif config.dp is not None:
        model.set_weights(
            unflatten(
                global_vector + _dp_fedavg(config, round_number, report.updates), global_weights
            )
        )
    else:
        counts = [len(parts[client_ids.index(c)]) for c in report.clients]
        try:
            aggregate = strategy.aggregate(
                report.updates, counts, seed=_derive_seed(config.seed, "agg", round_number)
            )
        except AggregationError as exc:
            skipped = str(exc)
        else:
            model.set_weights(unflatten(global_vector + aggregate, global_weights))
    if skipped is not None:
        model.set_weights(global_weights)
    evaluation = model.evaluate(dataset.x_test, dataset.y_test)
    return RoundMetrics(
        round=round_number,
        accuracy=evaluation["accuracy"],
        loss=evaluation["loss"],
        participants=len(report.clients),
        dropped=dropped,
        rejected=rejected,
        skipped=skipped,
        seconds=round(time.perf_counter() - started, 4),
        epsilon=None if config.dp is None else config.dp.accounting().spent(round_number),
    )


def _dp_fedavg(
    config: SimulationConfig, round_number: int, rows: NDArray[np.float32]
) -> NDArray[np.float32]:
    """DP-FedAvg's noisy mean of clipped updates (McMahan et al. 2018, fixed denominator)."""
    dp = config.dp
    assert dp is not None
    key = hashlib.sha256(f"simulation-dp/{config.seed}/{round_number}".encode()).digest()
    # With sampling, divide by the expected number of participants (see DifferentialPrivacy).
    expected = None if dp.sample_rate >= 1 else max(1.0, dp.sample_rate * config.clients)
    private = DifferentialPrivacy(FedAvg(), dp, noise_key=lambda: key, expected_inputs=expected)
    return private.aggregate(rows)


_STRATEGY_PREFIX = "__strategy__."
_STATE_KEY = "ledgerlearn.checkpoint"


def _checkpoint(
    workdir: Path,
    config: SimulationConfig,
    model: ModelAdapter,
    strategy: Strategy,
    metrics: RoundMetrics,
) -> None:
    """Append the round's metrics, then atomically replace the checkpoint.

    Weights, strategy state, round number and configuration fingerprint live in one
    safetensors file replaced in one rename, so a kill at any instant leaves a consistent
    checkpoint; metrics of rounds after it are dropped and recomputed on resume.
    """
    with (workdir / "metrics.jsonl").open("a") as out:
        out.write(json.dumps(asdict(metrics), sort_keys=True) + "\n")
    tensors: dict[str, NDArray[Any]] = dict(model.get_weights())
    for name, value in strategy.state().items():
        tensors[_STRATEGY_PREFIX + name] = np.asarray(value, dtype=np.float64)
    # One metadata key: safetensors stores metadata as a hash map whose order varies between
    # processes, so several keys would make the checkpoint's bytes differ run to run.
    state_json = json.dumps(
        {"config": config.fingerprint(), "round": metrics.round}, sort_keys=True
    )
    atomic_write_bytes(
        workdir / "checkpoint.safetensors", save_safetensors(tensors, {_STATE_KEY: state_json})
    )
    state = {"round": metrics.round, "config": config.fingerprint()}  # informational copy
    atomic_write_bytes(workdir / "state.json", json.dumps(state).encode())


def _resume(
    workdir: Path, config: SimulationConfig, model: ModelAdapter, strategy: Strategy
) -> tuple[int, list[RoundMetrics]]:
    checkpoint = workdir / "checkpoint.safetensors"
    if not checkpoint.exists():
        (workdir / "metrics.jsonl").unlink(missing_ok=True)
        return 1, []
    with safe_open(str(checkpoint), framework="np") as handle:
        metadata = json.loads((handle.metadata() or {}).get(_STATE_KEY, "{}"))
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}  # noqa: SIM118
    if metadata.get("config") != config.fingerprint():
        raise SimulationError(
            f"{workdir} holds a checkpoint of another configuration; use a new --workdir or "
            "the same settings"
        )
    weights = {
        k: v.astype(np.float32) for k, v in tensors.items() if not k.startswith(_STRATEGY_PREFIX)
    }
    model.set_weights(weights)
    strategy.load_state(
        {
            k[len(_STRATEGY_PREFIX) :]: v
            for k, v in tensors.items()
            if k.startswith(_STRATEGY_PREFIX)
        }
    )
    done = int(metadata["round"])
    history = []
    metrics_path = workdir / "metrics.jsonl"
    lines = metrics_path.read_text().splitlines() if metrics_path.exists() else []
    for line in lines:
        record = json.loads(line)
        if record["round"] <= done:
            history.append(RoundMetrics(**record))
    atomic_write_bytes(
        metrics_path,
        "".join(json.dumps(asdict(m), sort_keys=True) + "\n" for m in history).encode(),
    )
    return done + 1, history


def _progress(enabled: bool, total: int, completed: int) -> tuple[Any, Any] | None:
    if not enabled:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
    )
    task = bar.add_task("simulating", total=total, completed=completed)
    bar.start()
    return bar, task
