"""Training task specs: what a task trains and how, stored as canonical JSON under its CID.

A spec names the model architecture, the local training settings every trainer uses, the
aggregation rule with its Byzantine bound, the update checks (norm bound, minimum cosine
agreement with the aggregate to earn a score), and the privacy settings. The chain stores
only the spec's CID; every node fetches the same bytes and parses them here, so a malformed
spec fails the same way everywhere.

Trust assumption: none beyond the content store's hashing; a spec is data, checked on parse.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import InvalidTaskSpecError
from ledgerlearn.learning.models import MLP, TrainConfig
from ledgerlearn.learning.privacy import DpSettings, clip_update
from ledgerlearn.learning.secagg import SecAggSettings
from ledgerlearn.learning.strategy import DifferentialPrivacy, Strategy, make_strategy

__all__ = ["SPEC_SCHEMA", "STATELESS_RULES", "TaskSpec"]

SPEC_SCHEMA = "ledgerlearn/training-spec/v1"

STATELESS_RULES = (
    "fedavg",
    "median",
    "trimmed_mean",
    "krum",
    "multi_krum",
    "bulyan",
    "geometric_median",
)
"""Rules a committee may use: stateless, so a member needs only the round's inputs. Stateful
rules (centered clipping's momentum, bucketing's shuffles across rounds) would make members
that were not on the previous committee disagree."""


@dataclass(frozen=True, slots=True)
class TaskSpec:
    """The off-chain half of a training task.

    Attributes
    ----------
    architecture
        ``{"kind": "mlp", "inputs": 784, "hidden": [128], "classes": 10}``.
    local
        Local training settings (``TrainConfig`` fields except the seed, which each trainer
        derives from the task, round and its address).
    rule
        Aggregation rule spec (:func:`ledgerlearn.learning.strategy.make_strategy`), one of
        :data:`STATELESS_RULES`, optionally after ``nnm+``.
    byzantine
        ``f``, the number of Byzantine updates the rule must tolerate.
    max_norm
        Updates with a larger L2 norm are rejected before aggregation.
    min_cosine
        An accepted update whose cosine with the aggregate is below this scores zero (it
        pulled against the agreed direction) and counts as rejected for rewards and slashing.
    privacy
        ``{"transport": "x25519-sealed-box"}``, optionally with ``"dp"``: client-level
        DP-FedAvg settings (:class:`~ledgerlearn.learning.privacy.DpSettings` JSON: ``clip``,
        ``noiseMultiplier``, ``epsilon``, ``delta``, ``accountant``, ``placement``), which
        need the ``fedavg`` rule (the noise is calibrated to the sum of clipped updates);
        and optionally ``"secagg"``: secure aggregation
        (:class:`~ledgerlearn.learning.secagg.SecAggSettings` JSON: ``bits``, ``range``,
        ``degree``, ``threshold``), which needs ``fedavg`` too (the committee sees only the
        sum, so each trainer clips its update to ``maxNorm``, or to the DP clip) and, with
        DP, the ``distributed`` placement (the unmasked sum is public, so the noise must be
        in it before unmasking).
    dataset
        The public name of the data the task is about (each trainer uses its own shard).
    """

    architecture: dict[str, Any]
    local: dict[str, Any] = field(default_factory=dict)
    rule: str = "trimmed_mean"
    byzantine: int = 1
    max_norm: float = 10.0
    min_cosine: float = 0.0
    privacy: dict[str, Any] = field(default_factory=lambda: {"transport": "x25519-sealed-box"})
    dataset: str = "mnist"

    def __post_init__(self) -> None:
        arch = self.architecture
        if arch.get("kind") != "mlp":
            raise InvalidTaskSpecError(
                f"architecture kind {arch.get('kind')!r} is not supported by nodes; use 'mlp'"
            )
        for key in ("inputs", "classes"):
            if not isinstance(arch.get(key), int) or arch[key] <= 0:
                raise InvalidTaskSpecError(f"architecture.{key} must be a positive integer")
        base = self.rule.split("+")[-1].split(":")[0]
        if base not in STATELESS_RULES:
            raise InvalidTaskSpecError(
                f"rule {self.rule!r}: committees need a stateless rule, one of "
                f"{', '.join(STATELESS_RULES)} (optionally 'nnm+' before it)"
            )
        try:
            self.train_config(0)
        except (TypeError, ValueError) as exc:
            raise InvalidTaskSpecError(f"local training settings: {exc}") from exc
        if not isinstance(self.privacy, dict):
            raise InvalidTaskSpecError("privacy must be an object")
        try:
            dp, secagg = self.dp, self.secagg
        except ValueError as exc:
            raise InvalidTaskSpecError(f"invalid spec: {exc}") from exc
        if dp is not None and self.rule != "fedavg":
            raise InvalidTaskSpecError(
                f"privacy.dp needs rule 'fedavg', not {self.rule!r}: the noise is calibrated "
                "to a sum of clipped updates, which robust rules do not compute"
            )
        if secagg is not None and self.rule != "fedavg":
            raise InvalidTaskSpecError(
                f"privacy.secagg needs rule 'fedavg', not {self.rule!r}: the committee sees only "
                "the sum of the clipped updates, so a robust rule has nothing to work on"
            )
        if dp is not None and dp.placement == "distributed" and secagg is None:
            raise InvalidTaskSpecError(
                "privacy.dp placement 'distributed' needs secure aggregation: add "
                "privacy.secagg, or use placement 'central'"
            )
        if dp is not None and dp.placement == "central" and secagg is not None:
            raise InvalidTaskSpecError(
                "privacy.dp placement 'central' cannot go with privacy.secagg: the unmasked "
                "sum is public before the committee could add noise; use 'distributed'"
            )
        if self.byzantine < 0 or self.max_norm <= 0:
            raise InvalidTaskSpecError("byzantine must be >= 0 and max_norm > 0")
        try:
            self.train_config(0)
            self.strategy()
        except (TypeError, ValueError) as exc:
            raise InvalidTaskSpecError(f"invalid spec: {exc}") from exc

    @property
    def dp(self) -> DpSettings | None:
        """The differential-privacy settings, or ``None`` for a task without DP."""
        raw = self.privacy.get("dp")
        return None if raw is None else DpSettings.from_json(raw)

    @property
    def secagg(self) -> SecAggSettings | None:
        """The secure-aggregation settings, or ``None`` when the committee reads each update."""
        raw = self.privacy.get("secagg")
        return None if raw is None else SecAggSettings.from_json(raw)

    @property
    def update_clip(self) -> float:
        """The L2 norm a trainer clips its update to under secure aggregation or DP."""
        dp = self.dp
        return dp.clip if dp is not None else self.max_norm

    def check_secagg(self, secagg_blocks: int, min_trainers: int) -> None:
        """Check that a task's on-chain settings fit this spec's secure aggregation.

        Raises
        ------
        InvalidTaskSpecError
            If the spec asks for secure aggregation and the task has no windows for it
            (``secaggBlocks`` 0), or the other way round, or fewer than 2 trainers suffice.
        """
        if (self.secagg is not None) != (secagg_blocks > 0):
            raise InvalidTaskSpecError(
                "privacy.secagg in the spec and the task's secaggBlocks must go together: "
                + (
                    "give the task secure-aggregation windows (secaggBlocks > 0)"
                    if self.secagg is not None
                    else "set secaggBlocks to 0, or add privacy.secagg to the spec"
                )
            )
        if self.secagg is not None and min_trainers < 2:
            raise InvalidTaskSpecError("secure aggregation needs minTrainers >= 2")

    def check_rounds(self, rounds: int) -> float | None:
        """Return the epsilon ``rounds`` rounds spend (``None`` without DP).

        Raises
        ------
        PrivacyBudgetError
            If the rounds would exceed the spec's epsilon budget.
        """
        dp = self.dp
        return None if dp is None else dp.accounting().check(rounds)

    def build_model(self) -> MLP:
        """Return a model of the spec's architecture (weights to be set from the chain)."""
        arch = self.architecture
        return MLP(arch["inputs"], arch["classes"], tuple(arch.get("hidden", (128,))), seed=0)

    def train_config(self, seed: int) -> TrainConfig:
        """Return the local training settings with ``seed``."""
        return TrainConfig(**{**self.local, "seed": seed})

    def strategy(
        self,
        *,
        round_number: int | None = None,
        noise_key: Callable[[], bytes] | None = None,
        min_clients: int = 1,
    ) -> Strategy:
        """Return the aggregation strategy, wrapped in :class:`DifferentialPrivacy` under DP.

        Parameters
        ----------
        round_number
            The round it aggregates; with DP its epsilon is checked against the budget.
        noise_key
            Keys the central DP noise (see :class:`DifferentialPrivacy`).
        min_clients
            The task's ``minTrainers`` (distributed DP refuses fewer inputs).

        Raises
        ------
        PrivacyBudgetError
            If the spec has DP and the round would exceed the task's epsilon budget.
        """
        strategy = make_strategy(self.rule, self.byzantine)
        dp = self.dp
        if dp is None:
            return strategy
        return DifferentialPrivacy(
            strategy,
            dp,
            round_number=round_number,
            noise_key=noise_key,
            min_clients=min_clients,
        )

    def client_update(
        self, delta: NDArray[np.floating], *, noise_key: bytes | None = None, min_clients: int = 1
    ) -> NDArray[np.float64]:
        """Return what a trainer sends of its flat update (clipped, noised under DP).

        Without DP the update goes as it is, except that under secure aggregation it is
        clipped to the task's norm bound (the field's range needs a bound).
        """
        dp = self.dp
        if dp is not None:
            return DifferentialPrivacy.client_update(
                delta, dp, noise_key=noise_key, min_clients=min_clients
            )
        update = np.asarray(delta, dtype=np.float64)
        return clip_update(update, self.max_norm) if self.secagg is not None else update

    def to_json(self) -> dict[str, Any]:
        """Return the stored JSON object."""
        data = asdict(self)
        data["maxNorm"] = data.pop("max_norm")
        data["minCosine"] = data.pop("min_cosine")
        return {"schema": SPEC_SCHEMA, **data}

    def to_bytes(self) -> bytes:
        """Canonical bytes (sorted keys, compact)."""
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> TaskSpec:
        """Parse stored bytes.

        Parameters
        ----------
        raw
            The spec's bytes.

        Returns
        -------
        TaskSpec
            The spec.

        Raises
        ------
        InvalidTaskSpecError
            If it is not a spec of this schema.
        """
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidTaskSpecError(f"task spec is not JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("schema") != SPEC_SCHEMA:
            raise InvalidTaskSpecError(f"task spec schema must be {SPEC_SCHEMA!r}")
        try:
            return cls(
                architecture=data["architecture"],
                local=data.get("local", {}),
                rule=data.get("rule", "trimmed_mean"),
                byzantine=int(data.get("byzantine", 1)),
                max_norm=float(data.get("maxNorm", 10.0)),
                min_cosine=float(data.get("minCosine", 0.0)),
                privacy=data.get("privacy", {"transport": "x25519-sealed-box"}),
                dataset=data.get("dataset", "mnist"),
            )
        except (KeyError, TypeError) as exc:
            raise InvalidTaskSpecError(f"task spec lacks or mistypes {exc}") from exc
