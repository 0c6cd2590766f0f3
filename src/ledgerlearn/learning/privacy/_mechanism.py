"""The DP-FedAvg mechanism: clip each client's update, add calibrated Gaussian noise to the sum.

McMahan, Ramage, Talwar, Zhang, "Learning Differentially Private Recurrent Language Models"
(ICLR 2018): a client's update is scaled down to L2 norm at most ``C``; the sum of the
clipped updates gets Gaussian noise of standard deviation ``z * C``; the server divides by
the number of updates. Replacing one client changes the sum by at most ``C`` in L2, so each
round is a Gaussian mechanism with noise multiplier ``z`` (:mod:`._accountant`).

Noise comes from :func:`secure_gaussian`: ChaCha20 keystream (RFC 8439) under a secret
256-bit key, turned into normal deviates by the Box-Muller transform, so whoever does not hold
the key cannot predict or subtract it (a general-purpose generator's state can be recovered
from its outputs). Placement:

- ``central`` — the committee adds ``N(0, (zC)^2)`` once; members derive the key from the
  round's update content keys, which only the task's aggregators can open (see
  :mod:`ledgerlearn.training._aggregate`);
- ``distributed`` — under secure aggregation each client adds ``N(0, (zC)^2 / t)`` before
  quantising, ``t`` being the fewest clients the protocol unmasks, so the sum carries at least
  the planned variance whatever the dropouts (Kairouz, Liu, Steinke, "The Distributed Discrete
  Gaussian Mechanism", ICML 2021, without its discrete-noise refinement: the rounding onto the
  field's grid is not accounted for, see docs/privacy.md).

Trust assumption: central — the committee adds the noise and keeps the key to itself;
distributed — at least ``t`` clients follow the protocol.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
from numpy.typing import NDArray

from ledgerlearn.learning.privacy._accountant import ACCOUNTANTS, PrivacyAccountant

__all__ = ["PLACEMENTS", "DpSettings", "clip_rows", "clip_update", "secure_gaussian"]

PLACEMENTS = ("central", "distributed")


_LANES = 4096


def _norm(vector: NDArray[np.float64]) -> float:
    """Return the L2 norm, the same bits on every CPU.

    A BLAS dot product's (or NumPy's pairwise sum's) last bits depend on the vector width
    the CPU offers, and committee members must agree. Here the squares are added in
    ``_LANES`` fixed lanes, one row after another (element-wise IEEE additions, which every
    CPU rounds alike), and the lanes are then summed exactly (``math.fsum``): a fixed order
    of operations, about 8x faster than an exact sum of all the squares.
    """
    squares = vector * vector
    if not squares.size:
        return 0.0
    pad = -squares.size % _LANES
    if pad:
        squares = np.concatenate([squares, np.zeros(pad)])
    rows = squares.reshape(-1, _LANES)
    lanes = rows[0].copy()
    for row in rows[1:]:
        lanes += row
    return math.sqrt(math.fsum(lanes.tolist()))


def clip_update(update: NDArray[np.floating], clip_norm: float) -> NDArray[np.float64]:
    """Return ``update`` scaled so that its L2 norm is at most ``clip_norm``.

    Parameters
    ----------
    update
        A flat update.
    clip_norm
        ``C > 0``.

    Returns
    -------
    numpy.ndarray
        float64, ``update * min(1, C / ||update||)``, identical on every machine.
    """
    if not clip_norm > 0:
        raise ValueError(f"clip norm must be > 0, got {clip_norm}")
    return _clip(np.asarray(update, dtype=np.float64).ravel(), clip_norm)[0]


def _clip(vector: NDArray[np.float64], clip_norm: float) -> tuple[NDArray[np.float64], bool]:
    """Return the clipped vector and whether it was scaled down."""
    norm = _norm(vector)
    if norm > clip_norm:
        return vector * (clip_norm / norm), True
    return vector, False


def clip_rows(rows: NDArray[np.floating], clip_norm: float) -> tuple[NDArray[np.float64], int]:
    """Return every row scaled to L2 norm at most ``clip_norm``, and how many were scaled.

    Parameters
    ----------
    rows
        ``(n, d)`` updates, one per client.
    clip_norm
        ``C > 0``.

    Returns
    -------
    tuple
        float64 ``(n, d)`` rows, identical on every machine, and the count scaled down.
    """
    if not clip_norm > 0:
        raise ValueError(f"clip norm must be > 0, got {clip_norm}")
    matrix = np.asarray(rows, dtype=np.float64)
    out = np.empty_like(matrix)
    scaled = 0
    for index, row in enumerate(matrix):
        out[index], was = _clip(row, clip_norm)
        scaled += was
    return out, scaled


def secure_gaussian(key: bytes, count: int, std: float = 1.0) -> NDArray[np.float64]:
    """Return ``count`` independent ``N(0, std^2)`` deviates from a ChaCha20 keystream.

    Parameters
    ----------
    key
        32 secret bytes; the same key gives the same deviates.
    count
        How many.
    std
        Standard deviation (``>= 0``).

    Returns
    -------
    numpy.ndarray
        ``(count,)`` float64.
    """
    if len(key) != 32:
        raise ValueError("the noise key must be 32 bytes")
    if count < 0 or not std >= 0:
        raise ValueError("count must be >= 0 and std >= 0")
    pairs = (count + 1) // 2
    stream = Cipher(algorithms.ChaCha20(key, bytes(16)), mode=None).encryptor()
    words = np.frombuffer(stream.update(bytes(16 * pairs)), dtype="<u8").reshape(pairs, 2)
    scale = 2.0**-53
    u1 = ((words[:, 0] >> np.uint64(11)).astype(np.float64) + 1.0) * scale  # (0, 1]
    u2 = (words[:, 1] >> np.uint64(11)).astype(np.float64) * scale  # [0, 1)
    radius = np.sqrt(-2.0 * np.log(u1))
    angle = 2.0 * math.pi * u2
    out = np.empty(2 * pairs)
    out[0::2] = radius * np.cos(angle)
    out[1::2] = radius * np.sin(angle)
    return out[:count] * std


@dataclass(frozen=True, slots=True)
class DpSettings:
    """A task's differential-privacy settings (the ``privacy.dp`` object of its spec).

    Attributes
    ----------
    clip
        ``C``: every client's update is scaled to L2 norm at most ``C``.
    noise_multiplier
        ``z``: the sum gets Gaussian noise of standard deviation ``z * C``.
    epsilon, delta
        The budget; a round whose cumulative epsilon would exceed it does not start.
    accountant
        ``rdp`` or ``pld``.
    sample_rate
        Probability a client takes part in a round (``1``: all of them every round).
    placement
        ``central`` (the committee adds the noise) or ``distributed`` (clients add shares of
        it under secure aggregation).
    """

    clip: float
    noise_multiplier: float
    epsilon: float
    delta: float = 1e-5
    accountant: str = "rdp"
    sample_rate: float = 1.0
    placement: str = "central"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.clip) and self.clip > 0):
            raise ValueError(f"dp.clip must be a positive number, got {self.clip}")
        if self.accountant not in ACCOUNTANTS:
            raise ValueError(f"dp.accountant must be one of {', '.join(ACCOUNTANTS)}")
        if self.placement not in PLACEMENTS:
            raise ValueError(f"dp.placement must be one of {', '.join(PLACEMENTS)}")
        self.accounting()  # checks z, q, epsilon and delta

    @property
    def noise_std(self) -> float:
        """Standard deviation of the noise on the sum, ``z * C``."""
        return self.noise_multiplier * self.clip

    def client_noise_std(self, min_clients: int) -> float:
        """Return each client's noise std under distributed placement, ``z * C / sqrt(t)``.

        ``t`` clients' independent shares sum to variance ``(zC)^2``; more clients only add
        noise. The protocol must refuse to unmask a sum of fewer than ``t`` clients.
        """
        if min_clients < 1:
            raise ValueError("distributed noise needs at least one client")
        return self.noise_std / math.sqrt(min_clients)

    def accounting(self) -> PrivacyAccountant:
        """Return the accountant for these settings."""
        return PrivacyAccountant(
            self.noise_multiplier,
            epsilon=self.epsilon,
            delta=self.delta,
            sample_rate=self.sample_rate,
            accountant=self.accountant,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the spec's JSON form (camelCase keys)."""
        data = asdict(self)
        return {
            "clip": data["clip"],
            "noiseMultiplier": data["noise_multiplier"],
            "epsilon": data["epsilon"],
            "delta": data["delta"],
            "accountant": data["accountant"],
            "sampleRate": data["sample_rate"],
            "placement": data["placement"],
        }

    @classmethod
    def from_json(cls, data: Any) -> DpSettings:
        """Parse the spec's ``privacy.dp`` object.

        Raises
        ------
        ValueError
            If a field is missing, mistyped or out of range.
        """
        if not isinstance(data, dict):
            raise ValueError("privacy.dp must be an object")
        known = {
            "clip",
            "noiseMultiplier",
            "epsilon",
            "delta",
            "accountant",
            "sampleRate",
            "placement",
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"privacy.dp has unknown fields {sorted(unknown)}")
        try:
            return cls(
                clip=float(data["clip"]),
                noise_multiplier=float(data["noiseMultiplier"]),
                epsilon=float(data["epsilon"]),
                delta=float(data.get("delta", 1e-5)),
                accountant=str(data.get("accountant", "rdp")),
                sample_rate=float(data.get("sampleRate", 1.0)),
                placement=str(data.get("placement", "central")),
            )
        except KeyError as exc:
            raise ValueError(f"privacy.dp lacks {exc}") from exc
        except TypeError as exc:
            raise ValueError(f"privacy.dp mistypes a field: {exc}") from exc
