"""Quantisation of float updates into the ring Z_(2^32), and back, for masked summation.

Bonawitz et al. 2017 sum vectors in Z_R; each client clips its update to ``[-c, c]`` per
coordinate and maps it onto ``2^b`` integer levels. The sum of ``n`` such values stays
below ``n * (2^b - 1) < 2^32``, so the masked sum mod 2^32 is the exact integer sum and
dequantises without wrap-around.

Trust assumption: none; this is arithmetic. Clipping is also the sensitivity bound that
differential privacy needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Quantizer"]


@dataclass(frozen=True)
class Quantizer:
    """Clip to ``[-clip, clip]`` and round onto ``2^bits`` levels.

    Attributes
    ----------
    clip
        Per-coordinate bound ``c`` (> 0).
    bits
        Levels ``2^bits``; with ``n`` clients ``bits + ceil(log2 n) <= 32``.
    """

    clip: float = 1.0
    bits: int = 16

    def __post_init__(self) -> None:
        if not self.clip > 0 or not 1 <= self.bits <= 31:
            raise ValueError("clip must be > 0 and bits in [1, 31]")

    @property
    def levels(self) -> int:
        """Largest quantised value, ``2^bits - 1``."""
        return (1 << self.bits) - 1

    def max_clients(self) -> int:
        """Most values whose sum cannot wrap around 2^32."""
        return ((1 << 32) - 1) // self.levels

    def quantize(self, update: NDArray[np.floating]) -> NDArray[np.uint32]:
        """Clip and round one update (round half to even, deterministic)."""
        values = np.clip(np.asarray(update, dtype=np.float64), -self.clip, self.clip)
        scaled = (values + self.clip) * (self.levels / (2 * self.clip))
        return np.rint(scaled).astype(np.uint32)

    def dequantize_sum(self, total: NDArray[np.uint32], count: int) -> NDArray[np.float64]:
        """Turn the integer sum of ``count`` quantised updates into the float sum."""
        if not 1 <= count <= self.max_clients():
            raise ValueError(f"{count} values may wrap around; at most {self.max_clients()}")
        return total.astype(np.float64) * (2 * self.clip / self.levels) - count * self.clip
