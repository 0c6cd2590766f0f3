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
        Attack-specific parameter: the factor for sign flip, scaling and IPM (epsilon), the
        noise's sigma for Gaussian, ALIE's ``z`` (``None``: the paper's ``z_max`` from n
        and f).
    poisons_data
        True for label flipping: attackers train on flipped labels, updates untouched.
    """

    name: str
    strength: float | None = 1.0
    poisons_data: bool = False

    @property
    def spec(self) -> str:
        """The CLI spec that rebuilds this attack: ``name`` or ``name=strength``."""
        default = ATTACKS.get(self.name)
        if default is not None and default.strength == self.strength:
            return self.name
        return f"{self.name}={self.strength:g}"

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
        if self.name == "alie":
            reference = honest if honest.shape[0] else own
            n = honest.shape[0] + count
            z = alie_z(n, count) if self.strength is None else self.strength
            return np.tile(reference.mean(axis=0) - z * reference.std(axis=0), (count, 1))
        factor = 1.0 if self.strength is None else self.strength
        if self.name == "sign_flip":
            return -factor * own
        if self.name == "gaussian":
            return rng.normal(0.0, factor, size=own.shape)
        if self.name == "scaling":
            return factor * own
        if self.name == "free_rider":
            return np.zeros_like(own)
        if self.name == "ipm":
            reference = honest if honest.shape[0] else own
            return np.tile(-factor * reference.mean(axis=0), (count, 1))
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
    "alie": Attack("alie", None),
    "ipm": Attack("ipm", 10.0),
    "free_rider": Attack("free_rider", 1.0),
}
"""The attacks with the strengths used in the robustness benchmark.

Sign flip and IPM use large factors (10) so that, with 20 % attackers, they reverse plain
averaging (4 x 10 outweighs 16 honest updates), as in Xie et al.'s experiments against the
mean; ALIE uses the paper's ``z_max`` computed from n and f (strength ``None``)."""


def make_attack(spec: str, strength: float | None = None) -> Attack:
    """Return a named attack, optionally with another strength.

    Parameters
    ----------
    spec
        One of :data:`ATTACKS`, optionally with its strength: ``alie`` (the paper's
        ``z_max``) or ``alie=1.5`` (``z = 1.5``), ``sign_flip=4``.
    strength
        Overrides the default parameter (and any strength in ``spec``).

    Returns
    -------
    Attack
        The attack.

    Raises
    ------
    ValueError
        If the name is unknown or the strength is not a finite number.
    """
    name, sep, value = spec.partition("=")
    if name not in ATTACKS:
        raise ValueError(f"unknown attack {name!r}; choose one of {', '.join(ATTACKS)}")
    if sep and strength is None:
        try:
            strength = float(value)
        except ValueError:
            strength = float("nan")
        if not math.isfinite(strength):
            raise ValueError(f"attack strength in {spec!r} must be a finite number, e.g. {name}=2")
    base = ATTACKS[name]
    return base if strength is None else Attack(base.name, strength, base.poisons_data)
