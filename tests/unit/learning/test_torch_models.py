from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from ledgerlearn.learning.datasets import load_mnist, load_shakespeare  # noqa: E402
from ledgerlearn.learning.models import TrainConfig, weights_from_bytes, weights_to_bytes  # noqa: E402
from ledgerlearn.learning.models.torch_models import CNN, CharLSTM  # noqa: E402


@pytest.fixture(scope="module")
def mnist():  # type: ignore[no-untyped-def]
    return load_mnist()


def test_cnn_training_is_deterministic_and_learns(mnist) -> None:  # type: ignore[no-untyped-def]
    config = TrainConfig(
        epochs=1, batch_size=32, learning_rate=0.05, momentum=0.9, proximal_mu=0.01, seed=7
    )
    runs = []
    for _ in range(2):
        model = CNN(seed=1)
        model.fit(mnist.x_train[:1500], mnist.y_train[:1500], config)
        runs.append(weights_to_bytes(model.get_weights()))
    assert runs[0] == runs[1]
    assert model.evaluate(mnist.x_test[:500], mnist.y_test[:500])["accuracy"] > 0.6


def test_cnn_max_steps_counts_examples_seen(mnist) -> None:  # type: ignore[no-untyped-def]
    model = CNN(seed=1)
    before = weights_to_bytes(model.get_weights())
    result = model.fit(
        mnist.x_train[:300], mnist.y_train[:300], TrainConfig(batch_size=32, max_steps=2)
    )
    assert result.num_examples == 64 and weights_to_bytes(model.get_weights()) != before


def test_cnn_exports_to_onnx_matching_to_1e5(mnist, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import onnxruntime

    model = CNN(seed=2)
    model.fit(mnist.x_train[:300], mnist.y_train[:300], TrainConfig(epochs=1))
    path = model.export_onnx(tmp_path / "cnn.onnx")
    out = onnxruntime.InferenceSession(str(path)).run(None, {"x": mnist.x_test[:100]})[0]
    assert np.max(np.abs(out - model.predict_proba(mnist.x_test[:100]))) < 1e-5


def test_weights_round_trip_through_safetensors(mnist) -> None:  # type: ignore[no-untyped-def]
    model = CNN(seed=3)
    clone = CNN(seed=4)
    clone.set_weights(weights_from_bytes(weights_to_bytes(model.get_weights())))
    np.testing.assert_array_equal(
        clone.predict_proba(mnist.x_test[:20]), model.predict_proba(mnist.x_test[:20])
    )
    with pytest.raises(ValueError, match="names"):
        clone.set_weights({"nope": np.zeros(1, dtype=np.float32)})


def test_char_lstm_learns_next_characters() -> None:
    data = load_shakespeare()
    model = CharLSTM(hidden=64, seed=0)
    before = model.evaluate(data.x_test[:300], data.y_test[:300])["loss"]
    model.fit(
        data.x_train[:1500],
        data.y_train[:1500],
        TrainConfig(epochs=1, batch_size=32, learning_rate=1.0),
    )
    assert model.evaluate(data.x_test[:300], data.y_test[:300])["loss"] < before
