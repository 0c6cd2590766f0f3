from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from ledgerlearn.exceptions import DatasetError, DatasetNotInstalledError
from ledgerlearn.learning.datasets import (
    dirichlet,
    iid,
    load_churn,
    load_digits,
    load_fashion_mnist,
    load_mnist,
    load_shakespeare,
    natural,
    partition,
    quantity_skew,
)
from ledgerlearn.learning.models import (
    MLP,
    LogisticRegression,
    TrainConfig,
    weights_from_bytes,
    weights_to_bytes,
)


@pytest.fixture(scope="module")
def digits():  # type: ignore[no-untyped-def]
    return load_digits()


def test_offline_loaders_give_the_published_sizes() -> None:
    mnist = load_mnist()
    assert mnist.x_train.shape == (60000, 784) and mnist.x_test.shape == (10000, 784)
    assert (
        mnist.x_train.dtype == np.float32 and mnist.x_train.min() >= 0 and mnist.x_train.max() <= 1
    )
    fashion = load_fashion_mnist()
    assert fashion.x_train.shape == (60000, 784) and set(np.unique(fashion.y_test)) == set(
        range(10)
    )
    churn = load_churn()
    assert (
        churn.num_classes == 2
        and churn.groups_train is not None
        and len(set(churn.groups_train)) == 51
    )
    shakespeare = load_shakespeare()
    assert shakespeare.x_train.shape[1] == 80 and shakespeare.groups_train is not None
    assert all("/" in g for g in shakespeare.groups_train[:5])


def test_missing_dataset_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotInstalledError, match="apt-get install dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path)


def test_partitions_are_seeded_disjoint_and_complete(digits) -> None:  # type: ignore[no-untyped-def]
    n = len(digits.y_train)
    for parts in (
        iid(n, 7, seed=3),
        dirichlet(digits.y_train, 7, 0.3, seed=3),
        quantity_skew(n, 7, 0.5, seed=3),
    ):
        joined = np.concatenate(parts)
        assert len(joined) == n and len(np.unique(joined)) == n
    assert all(
        np.array_equal(a, b)
        for a, b in zip(
            dirichlet(digits.y_train, 5, 0.5, 1), dirichlet(digits.y_train, 5, 0.5, 1), strict=True
        )
    )


def test_small_alpha_skews_labels(digits) -> None:  # type: ignore[no-untyped-def]
    skewed = dirichlet(digits.y_train, 10, 0.1, seed=0)
    spread = iid(len(digits.y_train), 10, seed=0)

    def distinct(parts: list[np.ndarray]) -> float:
        return float(np.mean([len(np.unique(digits.y_train[p])) for p in parts]))

    assert distinct(skewed) < distinct(spread)


def test_natural_partition_by_site() -> None:
    churn = load_churn()
    assert churn.groups_train is not None
    parts, names = natural(churn.groups_train, max_clients=5)
    assert len(parts) == 5 and all(
        set(churn.groups_train[p]) == {name} for p, name in zip(parts, names, strict=True)
    )
    with pytest.raises(DatasetError, match="no natural groups"):
        partition(load_digits(), "natural", 3, 0)
    with pytest.raises(DatasetError, match="unknown partition"):
        partition(load_digits(), "zipf", 3, 0)


def test_training_is_bit_for_bit_reproducible_and_learns(digits) -> None:  # type: ignore[no-untyped-def]
    config = TrainConfig(
        epochs=5, batch_size=16, learning_rate=0.1, momentum=0.9, schedule="cosine", seed=4
    )
    runs = []
    for _ in range(2):
        model = MLP(64, 10, (32,), seed=2)
        model.fit(digits.x_train, digits.y_train, config)
        runs.append(weights_to_bytes(model.get_weights()))
    assert runs[0] == runs[1]
    assert model.evaluate(digits.x_test, digits.y_test)["accuracy"] > 0.9


def test_max_steps_stops_local_training_early(digits) -> None:  # type: ignore[no-untyped-def]
    x, y = digits.x_train[:200], digits.y_train[:200]
    full = TrainConfig(epochs=2, batch_size=16, learning_rate=0.1, seed=3)
    assert full.total_steps(200) == 26 and TrainConfig(max_steps=3).total_steps(200) == 3
    runs = {}
    for steps in (None, 26, 1, 3):
        model = MLP(64, 10, (16,), seed=0)
        result = model.fit(x, y, replace(full, max_steps=steps))
        runs[steps] = (result.num_examples, weights_to_bytes(model.get_weights()))
    assert runs[None] == runs[26] and runs[None][0] == 400  # a cap at the total changes nothing
    assert runs[1][0] == 16 and runs[3][0] == 48  # examples actually seen
    assert len({runs[s][1] for s in runs}) == 3
    # FedSGD: one step is exactly one gradient of the first shuffled batch.
    model = MLP(64, 10, (16,), seed=0)
    start = model.get_weights()
    batch = np.random.default_rng(3).permutation(200)[:16]
    _, grads = model._gradients(x[batch].astype(np.float32), y[batch])
    model.set_weights({k: v - np.float32(0.1) * grads[k] for k, v in start.items()})
    assert weights_to_bytes(model.get_weights()) == runs[1][1]
    with pytest.raises(ValueError, match="max_steps must be at least 1"):
        TrainConfig(max_steps=0)
    with pytest.raises(ValueError, match="batch_size"):
        TrainConfig(batch_size=0)


def test_fedprox_keeps_weights_closer_to_the_anchor(digits) -> None:  # type: ignore[no-untyped-def]
    distances = []
    for mu in (0.0, 1.0):
        model = LogisticRegression(64, 10, seed=0)
        start = model.get_weights()
        model.fit(
            digits.x_train, digits.y_train, TrainConfig(epochs=3, learning_rate=0.5, proximal_mu=mu)
        )
        distances.append(
            sum(float(np.linalg.norm(model.get_weights()[k] - start[k])) for k in start)
        )
    assert distances[1] < distances[0]


def test_safetensors_round_trip_is_canonical(digits) -> None:  # type: ignore[no-untyped-def]
    model = MLP(64, 10, (16,), seed=1)
    data = weights_to_bytes(model.get_weights())
    restored = weights_from_bytes(data)
    assert weights_to_bytes(restored) == data
    clone = MLP(64, 10, (16,), seed=9)
    clone.set_weights(restored)
    np.testing.assert_array_equal(
        clone.predict_proba(digits.x_test), model.predict_proba(digits.x_test)
    )
    with pytest.raises(ValueError, match="names"):
        clone.set_weights({"x": np.zeros(1, dtype=np.float32)})


def test_onnx_export_matches_numpy_to_1e5(digits, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import onnxruntime

    model = MLP(64, 10, (32, 16), seed=3)
    model.fit(digits.x_train, digits.y_train, TrainConfig(epochs=2))
    path = model.export_onnx(tmp_path / "mlp.onnx")
    session = onnxruntime.InferenceSession(str(path))
    out = session.run(None, {"x": digits.x_test})[0]
    assert np.max(np.abs(out - model.predict_proba(digits.x_test))) < 1e-5
