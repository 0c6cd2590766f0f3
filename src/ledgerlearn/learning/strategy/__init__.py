"""Strategies: stateful wrappers that turn a round's updates into one update.

Each robust rule's strategy is a thin class over its pure function in
:mod:`ledgerlearn.learning.aggregation`; pre-aggregators (:class:`Bucketing`,
:class:`NearestNeighbourMixing`) and :class:`DifferentialPrivacy` wrap another strategy.

Trust assumption: as the wrapped aggregation rule's.
"""

from ledgerlearn.learning.strategy._base import Strategy
from ledgerlearn.learning.strategy.dp import DifferentialPrivacy
from ledgerlearn.learning.strategy.rules import (
    Bucketing,
    Bulyan,
    CenteredClipping,
    FedAvg,
    GeometricMedian,
    Krum,
    Median,
    MultiKrum,
    NearestNeighbourMixing,
    TrimmedMean,
)

__all__ = [
    "Bucketing",
    "Bulyan",
    "CenteredClipping",
    "DifferentialPrivacy",
    "FedAvg",
    "GeometricMedian",
    "Krum",
    "Median",
    "MultiKrum",
    "NearestNeighbourMixing",
    "Strategy",
    "TrimmedMean",
    "make_strategy",
]


def make_strategy(spec: str, num_byzantine: int) -> Strategy:
    """Build a strategy from a CLI-style spec.

    ``fedavg``, ``median``, ``trimmed_mean``, ``krum``, ``multi_krum``, ``bulyan``,
    ``geometric_median``, ``centered_clipping[:tau|auto]``, and pre-aggregators as prefixes:
    ``bucketing:2+krum`` or ``nnm+median``.

    Parameters
    ----------
    spec
        The rule spec.
    num_byzantine
        ``f`` for rules that need it.

    Returns
    -------
    Strategy
        The strategy.
    """
    if "+" in spec:
        head, rest = spec.split("+", 1)
        inner = make_strategy(rest, num_byzantine)
        name, _, arg = head.partition(":")
        if name == "bucketing":
            size = int(arg or 2)
            return Bucketing(inner, size)
        if name == "nnm":
            return NearestNeighbourMixing(inner, num_byzantine)
        raise ValueError(f"unknown pre-aggregator {name!r}: use bucketing[:s] or nnm")
    name, _, arg = spec.partition(":")
    simple: dict[str, Strategy] = {
        "fedavg": FedAvg(),
        "median": Median(),
        "geometric_median": GeometricMedian(),
    }
    if name in simple:
        return simple[name]
    if name == "trimmed_mean":
        return TrimmedMean(num_byzantine)
    if name == "krum":
        return Krum(num_byzantine)
    if name == "multi_krum":
        return MultiKrum(num_byzantine)
    if name == "bulyan":
        return Bulyan(num_byzantine)
    if name == "centered_clipping":
        return CenteredClipping(clip_radius=None if arg == "auto" else float(arg or 1.0))
    raise ValueError(
        f"unknown rule {name!r}: use fedavg, median, trimmed_mean, krum, multi_krum, bulyan, "
        "geometric_median, centered_clipping[:tau], optionally prefixed by bucketing[:s]+ or nnm+"
    )
