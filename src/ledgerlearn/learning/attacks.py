"""Attacks on federated learning, for evaluating robust rules only.

Model-poisoning attacks produce the Byzantine clients' updates from the honest ones (the
strongest, omniscient setting); label flipping poisons a client's data instead.

- Sign flip and Gaussian noise — classic baselines (e.g. Blanchard et al. 2017).
- Label flip — Biggio, Nelson, Laskov, "Poisoning Attacks against Support Vector
  Machines", ICML 2012 (label flipping as data poisoning).
- Scaling / model replacement — Bagdasaryan et al., "How To Backdoor Federated Learning",
  AISTATS 2020.
- A little is enough (ALIE) — Baruch, Baruch, Goldberg, NeurIPS 2019.
- Inner-product manipulation (IPM) — Xie, Koyejo, Gupta, "Fall of Empires: Breaking
  Byzantine-tolerant SGD by Inner Product Manipulation", UAI 2020.
- Free riding — Lin, Du, Liu, "Free-riders in Federated Learning", 2019: returning the
  global model unchanged (a zero update).

Trust assumption: this module is the adversary; nothing in a real node imports it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from numpy.typing import NDArray

__all__ = ["ATTACKS", "Attack", "alie_z", "flip_labels", "make_attack"]

Matrix = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Attack:
    """A model-poisoning attack (or label flipping when ``poisons_data``).

    Attributes
    ----------
    name
        Short name used on the CLI.
    strength
        Attack-specific parameter (scale, sigma, epsilon, z override).
    poisons_data
        True for label flipping: attackers train on flipped labels, updates untouched.
    """

    name: str
    strength: float = 1.0
    poisons_data: bool = False

    def forge(self, honest: Matrix, own: Matrix, rng: np.random.Generator) -> Matrix:
        """Produce the attackers' updates.

        Parameters
        ----------
        honest
            ``(h, d)`` honest updates of the round (omniscient attacker).
        own
            ``(a, d)`` the updates the attackers computed honestly on their own data.
        rng
            Seeded generator for noisy attacks.

        Returns
        -------
        numpy.ndarray
            ``(a, d)`` malicious updates.
        """
        count = own.shape[0]
        if count == 0 or self.poisons_data:
            return own
        if self.name == "sign_flip":
            return -self.strength * own
        if self.name == "gaussian":
            return rng.normal(0.0, self.strength, size=own.shape)
        if self.name == "scaling":
            return self.strength * own
        if self.name == "free_rider":
            return np.zeros_like(own)
        reference = honest if honest.shape[0] else own
        mean = reference.mean(axis=0)
        if self.name == "ipm":
            return np.tile(-self.strength * mean, (count, 1))
        if self.name == "alie":
            n = honest.shape[0] + count
            z = alie_z(n, count) if self.strength == 1.0 else self.strength
            return np.tile(mean - z * reference.std(axis=0), (count, 1))
        raise ValueError(f"unknown attack {self.name!r}; choose one of {', '.join(ATTACKS)}")


def alie_z(n: int, num_byzantine: int) -> float:
    """Return the ALIE deviation ``z_max`` (Baruch et al. 2019, Algorithm 3).

    Parameters
    ----------
    n
        All clients.
    num_byzantine
        Attackers.

    Returns
    -------
    float
        ``Phi^-1((n - s) / n)`` with ``s = floor(n / 2 + 1) - f``.
    """
    s = math.floor(n / 2 + 1) - num_byzantine
    return NormalDist().inv_cdf(min(max((n - s) / n, 1e-6), 1 - 1e-6))


def flip_labels(labels: NDArray[np.integer], num_classes: int) -> NDArray[np.int64]:
    """Map label ``y`` to ``num_classes - 1 - y``.

    Parameters
    ----------
    labels
        Integer labels.
    num_classes
        Number of classes.

    Returns
    -------
    numpy.ndarray
        Flipped labels.
    """
    return (num_classes - 1 - np.asarray(labels)).astype(np.int64)


ATTACKS = {
    "sign_flip": Attack("sign_flip", 10.0),
    "gaussian": Attack("gaussian", 1.0),
    "label_flip": Attack("label_flip", 1.0, poisons_data=True),
    "scaling": Attack("scaling", 10.0),
    "alie": Attack("alie", 1.0),
    "ipm": Attack("ipm", 10.0),
    "free_rider": Attack("free_rider", 1.0),
}
"""The attacks with the strengths used in the robustness benchmark.

Sign flip and IPM use large factors (10) so that, with 20 % attackers, they reverse plain
averaging (4 x 10 outweighs 16 honest updates), as in Xie et al.'s experiments against the
mean; ALIE uses the paper's ``z_max`` (strength 1.0 means "compute z from n and f")."""


def make_attack(name: str, strength: float | None = None) -> Attack:
    """Return a named attack, optionally with another strength.

    Parameters
    ----------
    name
        One of :data:`ATTACKS`.
    strength
        Overrides the default parameter.

    Returns
    -------
    Attack
        The attack.
    """
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; choose one of {', '.join(ATTACKS)}")
    base = ATTACKS[name]
    return base if strength is None else Attack(base.name, strength, base.poisons_data)
