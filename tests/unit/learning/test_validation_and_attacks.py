from __future__ import annotations

import numpy as np
import pytest

from ledgerlearn.learning.attacks import ATTACKS, alie_z, flip_labels, make_attack
from ledgerlearn.learning.validation import validate_updates

TEMPLATE = {"w": np.zeros((2, 2), dtype=np.float32), "b": np.zeros(2, dtype=np.float32)}


def good(value: float) -> dict[str, np.ndarray]:
    return {"w": np.full((2, 2), value, dtype=np.float32), "b": np.full(2, value, dtype=np.float32)}


def test_validation_reports_a_reason_for_every_rejection() -> None:
    updates = {
        "c": good(1.0),
        "a": good(0.5),
        "nan": {**good(0.0), "b": np.array([np.nan, 0], dtype=np.float32)},
        "shape": {**good(0.0), "w": np.zeros((3, 2), dtype=np.float32)},
        "dtype": {**good(0.0), "b": np.zeros(2, dtype=np.float64)},
        "names": {"w": np.zeros((2, 2), dtype=np.float32)},
        "big": good(100.0),
    }
    report = validate_updates(updates, TEMPLATE, max_norm=10.0)
    assert report.clients == ["a", "c"]
    assert report.updates.shape == (2, 6) and report.updates.dtype == np.float32
    reasons = {r.client: r.reason for r in report.rejections}
    assert set(reasons) == {"nan", "shape", "dtype", "names", "big"}
    assert "NaN" in reasons["nan"] and "shape" in reasons["shape"] and "float32" in reasons["dtype"]
    assert "missing ['b']" in reasons["names"] and "exceeds the bound" in reasons["big"]


def test_empty_round_gives_empty_stack() -> None:
    report = validate_updates({}, TEMPLATE)
    assert report.updates.shape == (0, 6) and report.rejections == []


def test_attacks_forge_what_their_papers_describe() -> None:
    rng = np.random.default_rng(0)
    honest = rng.normal(1.0, 0.5, size=(16, 10))
    own = rng.normal(1.0, 0.5, size=(4, 10))
    assert np.allclose(make_attack("sign_flip", 2.0).forge(honest, own, rng), -2 * own)
    assert np.allclose(make_attack("free_rider").forge(honest, own, rng), 0)
    assert np.allclose(make_attack("scaling", 10).forge(honest, own, rng), 10 * own)
    ipm = make_attack("ipm", 0.5).forge(honest, own, rng)
    assert np.allclose(ipm, -0.5 * honest.mean(axis=0)) and float(ipm[0] @ honest.mean(axis=0)) < 0
    alie = make_attack("alie").forge(honest, own, rng)
    z = alie_z(20, 4)
    assert np.allclose(alie, honest.mean(axis=0) - z * honest.std(axis=0))
    assert make_attack("label_flip").forge(honest, own, rng) is own
    assert make_attack("gaussian", 3.0).forge(honest, own, rng).std() > 2


def test_attack_specs_set_the_strength() -> None:
    rng = np.random.default_rng(1)
    honest = rng.normal(0.0, 1.0, size=(16, 6))
    own = rng.normal(0.0, 1.0, size=(4, 6))
    strong = make_attack("alie=1.5")
    assert strong.strength == 1.5 and strong.spec == "alie=1.5"
    assert np.allclose(
        strong.forge(honest, own, rng), honest.mean(axis=0) - 1.5 * honest.std(axis=0)
    )
    # z = 1 is a z like any other, not "use the paper's z_max" (strength None is)
    assert not np.allclose(
        make_attack("alie=1").forge(honest, own, rng), make_attack("alie").forge(honest, own, rng)
    )
    assert make_attack("alie").spec == "alie" and make_attack("sign_flip=4").strength == 4.0
    for bad in ("alie=big", "alie=nan", "alie=inf"):
        with pytest.raises(ValueError, match="finite number"):
            make_attack(bad)


def test_alie_z_matches_the_paper_table() -> None:
    # Baruch et al. 2019: n = 50, f = 12 -> s = 14, z = Phi^-1(36/50) ~ 0.58
    assert alie_z(50, 12) == pytest.approx(0.583, abs=1e-3)


def test_flip_labels_and_unknown_attack() -> None:
    assert list(flip_labels(np.array([0, 3, 9]), 10)) == [9, 6, 0]
    assert set(ATTACKS) == {
        "sign_flip",
        "gaussian",
        "label_flip",
        "scaling",
        "alie",
        "ipm",
        "free_rider",
    }
    with pytest.raises(ValueError, match="unknown attack"):
        make_attack("dos")


def test_free_riders_are_rejected_by_validation() -> None:
    report = validate_updates({"lazy": good(0.0), "busy": good(0.1)}, TEMPLATE)
    assert report.clients == ["busy"]
    assert "free rider" in report.rejections[0].reason
