"""A task's secure-aggregation settings: the ``privacy.secagg`` object of a training spec.

Bonawitz et al. 2017 sum integers in Z_(2^32); these settings fix how many levels each
coordinate gets (``bits``), the per-coordinate range that is clipped before quantising
(``range``), and the neighbour graph's degree and the Shamir threshold (SecAgg+, Bell et al.
2020). Every party of a round reads the same spec, so they agree on the quantiser.

Trust assumption: none; this is configuration, checked on parse.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ledgerlearn.learning.secagg._quantize import Quantizer

__all__ = ["SecAggSettings"]


@dataclass(frozen=True, slots=True)
class SecAggSettings:
    """How a task runs secure aggregation.

    Attributes
    ----------
    bits
        Quantisation levels per coordinate, ``2^bits``; ``n`` clients need
        ``bits + ceil(log2 n) <= 32``. The default 24 allows 256 clients with a step of
        ``2 * range / 2^24``.
    range
        Per-coordinate clipping bound before quantising, or ``None`` for the default: the
        update's L2 clip (no coordinate of a clipped vector exceeds it), widened by six
        standard deviations of the client's share of distributed DP noise.
    degree
        Neighbours per client (``None``: ``2 * ceil(log2 n) + 2``, or everyone when fewer).
    threshold
        Shares that recover a client's secrets (``None``: ``floor(k / 2) + 1``).
    """

    bits: int = 24
    range: float | None = None
    degree: int | None = None
    threshold: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.bits <= 31:
            raise ValueError(f"secagg bits must be in [1, 31], not {self.bits}")
        if self.range is not None and not (math.isfinite(self.range) and self.range > 0):
            raise ValueError(f"secagg range must be a positive number, not {self.range}")
        if self.degree is not None and self.degree < 1:
            raise ValueError("secagg degree must be positive")
        if self.threshold is not None and self.threshold < 1:
            raise ValueError("secagg threshold must be positive")

    def quantizer(self, l2_clip: float, noise_std: float = 0.0) -> Quantizer:
        """Return the quantiser for updates clipped to ``l2_clip`` plus per-client noise.

        Parameters
        ----------
        l2_clip
            The L2 norm bound every client clips its update to.
        noise_std
            Standard deviation of the Gaussian noise each client adds per coordinate.

        Returns
        -------
        Quantizer
            Clip range :attr:`range` (or the default) and :attr:`bits`.
        """
        bound = self.range if self.range is not None else l2_clip + 6.0 * noise_std
        return Quantizer(clip=float(bound), bits=self.bits)

    def to_json(self) -> dict[str, Any]:
        """Return the spec's JSON object (``null`` fields omitted)."""
        raw: dict[str, Any] = {"bits": self.bits}
        for name in ("range", "degree", "threshold"):
            value = getattr(self, name)
            if value is not None:
                raw[name] = value
        return raw

    @classmethod
    def from_json(cls, raw: Any) -> SecAggSettings:
        """Parse the spec's ``privacy.secagg`` object.

        Raises
        ------
        ValueError
            If it is not an object of known fields with valid values.
        """
        if not isinstance(raw, dict):
            raise ValueError('privacy.secagg must be an object, e.g. {"bits": 24}')
        unknown = set(raw) - {"bits", "range", "degree", "threshold"}
        if unknown:
            raise ValueError(f"privacy.secagg has unknown fields {sorted(unknown)}")
        try:
            return cls(
                bits=int(raw.get("bits", 24)),
                range=None if raw.get("range") is None else float(raw["range"]),
                degree=None if raw.get("degree") is None else int(raw["degree"]),
                threshold=None if raw.get("threshold") is None else int(raw["threshold"]),
            )
        except (TypeError, ValueError) as exc:
            raise ValueError(f"privacy.secagg: {exc}") from exc
