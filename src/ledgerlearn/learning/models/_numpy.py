"""NumPy models: multinomial logistic regression and a ReLU multilayer perceptron.

Plain mini-batch SGD with softmax cross-entropy, written in NumPy so training is fast on a
CPU and bit-for-bit reproducible for a seed (batch order from ``numpy.random.Generator``,
float32 arithmetic, no threads racing). Supports client momentum, FedProx's proximal term,
weight decay and learning-rate schedules from :class:`TrainConfig`. The MLP exports to
ONNX (``Gemm``/``Relu``/``Softmax``) for onnxruntime.

Trust assumption: runs on the client's machine over its own data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.learning.models._adapter import FitResult, ModelAdapter, TrainConfig
from ledgerlearn.learning.weights import Weights

__all__ = ["LogisticRegression", "MLP"]


class MLP(ModelAdapter):
    """Fully connected ReLU network with a softmax output.

    Parameters
    ----------
    num_features
        Input width.
    num_classes
        Output classes.
    hidden
        Hidden layer widths; empty gives logistic regression.
    seed
        Initialisation seed (He-uniform weights, zero biases).
    """

    def __init__(
        self, num_features: int, num_classes: int, hidden: Sequence[int] = (128,), seed: int = 0
    ) -> None:
        self.sizes = [num_features, *hidden, num_classes]
        rng = np.random.default_rng(seed)
        self._weights: Weights = {}
        for layer, (fan_in, fan_out) in enumerate(
            zip(self.sizes[:-1], self.sizes[1:], strict=True)
        ):
            bound = np.sqrt(6.0 / fan_in)
            self._weights[f"layer{layer}.weight"] = rng.uniform(
                -bound, bound, (fan_in, fan_out)
            ).astype(np.float32)
            self._weights[f"layer{layer}.bias"] = np.zeros(fan_out, dtype=np.float32)

    @property
    def num_layers(self) -> int:
        """Dense layers."""
        return len(self.sizes) - 1

    def get_weights(self) -> Weights:
        """Return a copy of the weights.

        Returns
        -------
        Weights
            ``layer{i}.weight`` (in, out) and ``layer{i}.bias``.
        """
        return {name: value.copy() for name, value in self._weights.items()}

    def set_weights(self, weights: Weights) -> None:
        """Replace the weights.

        Parameters
        ----------
        weights
            Same names and shapes as :meth:`get_weights`.
        """
        if set(weights) != set(self._weights):
            raise ValueError(
                f"weights have names {sorted(weights)}, expected {sorted(self._weights)}"
            )
        for name, value in weights.items():
            if np.shape(value) != self._weights[name].shape:
                raise ValueError(
                    f"{name} has shape {np.shape(value)}, expected {self._weights[name].shape}"
                )
            self._weights[name] = np.array(value, dtype=np.float32)

    def _forward(self, x: NDArray[np.float32]) -> list[NDArray[np.float32]]:
        activations = [x]
        for layer in range(self.num_layers):
            z = (
                activations[-1] @ self._weights[f"layer{layer}.weight"]
                + self._weights[f"layer{layer}.bias"]
            )
            activations.append(np.maximum(z, 0) if layer < self.num_layers - 1 else z)
        return activations

    @staticmethod
    def _softmax(logits: NDArray[np.float32]) -> NDArray[np.float32]:
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=1, keepdims=True)

    def predict_proba(self, x: NDArray[np.generic]) -> NDArray[np.float32]:
        """Class probabilities.

        Parameters
        ----------
        x
            ``(n, num_features)``.

        Returns
        -------
        numpy.ndarray
            ``(n, num_classes)`` float32.
        """
        features = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        return self._softmax(self._forward(features)[-1])

    def fit(self, x: NDArray[np.generic], y: NDArray[np.int64], config: TrainConfig) -> FitResult:
        """Mini-batch SGD from the current weights.

        Parameters
        ----------
        x
            Local features.
        y
            Local labels.
        config
            Training settings.

        Returns
        -------
        FitResult
            Examples and mean loss.
        """
        features = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        labels = np.asarray(y, dtype=np.int64)
        n = len(labels)
        if n == 0:
            return FitResult(0, 0.0)
        anchor = self.get_weights() if config.proximal_mu else None
        velocity = {name: np.zeros_like(value) for name, value in self._weights.items()}
        rng = np.random.default_rng(config.seed)
        total = config.total_steps(n)
        losses: list[float] = []
        seen = 0
        step = 0
        for epoch in range(config.epochs):
            order = rng.permutation(n)
            for start in range(0, n, config.batch_size):
                if step >= total:
                    break
                batch = order[start : start + config.batch_size]
                seen += len(batch)
                loss, grads = self._gradients(features[batch], labels[batch])
                losses.append(loss)
                rate = np.float32(config.rate(epoch, step, total))
                for name, grad in grads.items():
                    if config.weight_decay:
                        grad = grad + np.float32(config.weight_decay) * self._weights[name]
                    if anchor is not None:
                        grad = grad + np.float32(config.proximal_mu) * (
                            self._weights[name] - anchor[name]
                        )
                    if config.momentum:
                        velocity[name] = np.float32(config.momentum) * velocity[name] + grad
                        grad = velocity[name]
                    self._weights[name] -= rate * grad
                step += 1
        return FitResult(seen, float(np.mean(losses)))

    def _gradients(self, x: NDArray[np.float32], y: NDArray[np.int64]) -> tuple[float, Weights]:
        activations = self._forward(x)
        proba = self._softmax(activations[-1])
        m = len(y)
        loss = float(-np.log(np.clip(proba[np.arange(m), y], 1e-12, 1.0)).mean())
        delta = proba
        delta[np.arange(m), y] -= 1.0
        delta /= np.float32(m)
        grads: Weights = {}
        for layer in reversed(range(self.num_layers)):
            grads[f"layer{layer}.weight"] = activations[layer].T @ delta
            grads[f"layer{layer}.bias"] = delta.sum(axis=0)
            if layer:
                delta = (delta @ self._weights[f"layer{layer}.weight"].T) * (activations[layer] > 0)
        return loss, grads

    def export_onnx(
        self, path: str | Path, opset: int = 17, *, output: str = "probabilities", batch: int = 0
    ) -> Path:
        """Write the model as ONNX (input ``x`` float32 ``(n, features)``, output probabilities).

        Parameters
        ----------
        path
            Destination file.
        opset
            ONNX opset (17 or 18).
        output
            ``probabilities`` (softmax) or ``logits`` (the last layer, as zk circuits prove
            it: the class is the same, and a softmax would cost the circuit lookup tables).
        batch
            A fixed batch size, or 0 for a symbolic ``n`` (circuits need a fixed one).

        Returns
        -------
        Path
            The file.
        """
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        if output not in ("probabilities", "logits") or opset not in (17, 18) or batch < 0:
            raise ValueError(
                f"export_onnx needs output probabilities or logits, opset 17 or 18 and a "
                f"batch >= 0, not {output!r}, {opset}, {batch}"
            )
        rows: int | str = batch or "n"
        nodes, initialisers = [], []
        current = "x"
        for layer in range(self.num_layers):
            weight, bias = f"layer{layer}.weight", f"layer{layer}.bias"
            initialisers += [
                numpy_helper.from_array(self._weights[weight], weight),
                numpy_helper.from_array(self._weights[bias], bias),
            ]
            last = layer == self.num_layers - 1
            out = "logits" if last and output == "logits" else f"z{layer}"
            nodes.append(helper.make_node("Gemm", [current, weight, bias], [out]))
            if layer < self.num_layers - 1:
                nodes.append(helper.make_node("Relu", [out], [f"a{layer}"]))
                out = f"a{layer}"
            current = out
        if output == "probabilities":
            nodes.append(helper.make_node("Softmax", [current], ["probabilities"], axis=1))
        graph = helper.make_graph(
            nodes,
            "ledgerlearn_mlp",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [rows, self.sizes[0]])],
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, [rows, self.sizes[-1]])],
            initialisers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        target = Path(path)
        target.write_bytes(model.SerializeToString())
        return target


class LogisticRegression(MLP):
    """Multinomial logistic regression: an :class:`MLP` without hidden layers."""

    def __init__(self, num_features: int, num_classes: int, seed: int = 0) -> None:
        super().__init__(num_features, num_classes, hidden=(), seed=seed)
