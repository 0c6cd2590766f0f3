"""PyTorch models behind the ``torch`` extra: a CNN for images and a character LSTM.

- :class:`CNN` — the two-convolution network of McMahan et al. (AISTATS 2017) for 28x28
  grey images (MNIST, Fashion-MNIST), narrowed for CPUs. Exports to ONNX as a plain
  ``Conv``/``Relu``/``MaxPool``/``Gemm`` graph built with the ``onnx`` helpers, so the
  export does not depend on PyTorch's exporter.
- :class:`CharLSTM` — LEAF's Shakespeare model (Caldas et al. 2018): an 8-dimensional
  character embedding, a two-layer LSTM and a linear read-out over the 80-character
  vocabulary, predicting the next character of an 80-character window.

Both follow :class:`~ledgerlearn.learning.models.ModelAdapter`: named float32 weights,
``fit`` with the same :class:`TrainConfig` (momentum, FedProx, schedules, seed) as the NumPy
models, and deterministic CPU training (``torch.use_deterministic_algorithms``, seeded batch
order).

Trust assumption: runs on the client's machine over its own data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

from ledgerlearn.learning.models._adapter import FitResult, ModelAdapter, TrainConfig
from ledgerlearn.learning.weights import Weights

__all__ = ["CNN", "CharLSTM", "TorchModel"]


class TorchModel(ModelAdapter):
    """Adapter over a ``torch.nn.Module`` whose output is class logits.

    Parameters
    ----------
    module
        The network.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def _inputs(self, x: NDArray[np.generic]) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x, dtype=np.float32))

    def get_weights(self) -> Weights:
        """Return the state dict as named float32 arrays.

        Returns
        -------
        Weights
            Copies of every parameter.
        """
        return {
            name: value.detach().cpu().numpy().astype(np.float32).copy()
            for name, value in self.module.state_dict().items()
        }

    def set_weights(self, weights: Weights) -> None:
        """Load named float32 arrays into the module.

        Parameters
        ----------
        weights
            Same names and shapes as :meth:`get_weights`.
        """
        current = self.module.state_dict()
        if set(weights) != set(current):
            raise ValueError(f"weights have names {sorted(weights)}, expected {sorted(current)}")
        self.module.load_state_dict(
            {
                name: torch.as_tensor(np.asarray(value, dtype=np.float32))
                for name, value in weights.items()
            }
        )

    def predict_proba(self, x: NDArray[np.generic]) -> NDArray[np.float32]:
        """Class probabilities.

        Parameters
        ----------
        x
            Inputs.

        Returns
        -------
        numpy.ndarray
            ``(n, classes)`` float32.
        """
        self.module.eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, len(x), 1024):
                logits = self.module(self._inputs(x[start : start + 1024]))
                outputs.append(torch.softmax(logits, dim=1).numpy())
        return np.concatenate(outputs).astype(np.float32)

    def fit(self, x: NDArray[np.generic], y: NDArray[np.int64], config: TrainConfig) -> FitResult:
        """Mini-batch SGD, deterministic for ``config.seed``.

        Parameters
        ----------
        x
            Local inputs.
        y
            Local labels.
        config
            Training settings.

        Returns
        -------
        FitResult
            Examples and mean loss.
        """
        n = len(y)
        if n == 0:
            return FitResult(0, 0.0)
        torch.manual_seed(config.seed)
        torch.use_deterministic_algorithms(True)
        anchor = (
            [p.detach().clone() for p in self.module.parameters()] if config.proximal_mu else None
        )
        optimiser = torch.optim.SGD(
            self.module.parameters(),
            lr=config.learning_rate,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
        rng = np.random.default_rng(config.seed)
        total = config.total_steps(n)
        labels = torch.as_tensor(np.asarray(y, dtype=np.int64))
        losses: list[float] = []
        step = 0
        self.module.train()
        seen = 0
        for epoch in range(config.epochs):
            order = rng.permutation(n)
            for start in range(0, n, config.batch_size):
                if step >= total:
                    break
                batch = order[start : start + config.batch_size]
                seen += len(batch)
                for group in optimiser.param_groups:
                    group["lr"] = config.rate(epoch, step, total)
                optimiser.zero_grad()
                loss = nn.functional.cross_entropy(
                    self.module(self._inputs(x[batch])), labels[batch]
                )
                if anchor is not None:
                    proximal = sum(
                        ((p - a) ** 2).sum()
                        for p, a in zip(self.module.parameters(), anchor, strict=True)
                    )
                    loss = loss + config.proximal_mu / 2 * proximal
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
                losses.append(float(loss.detach()))
                step += 1
        return FitResult(seen, float(np.mean(losses)))


class _CnnModule(nn.Module):
    def __init__(self, num_classes: int, channels: tuple[int, int], hidden: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels[0], 5, padding=2)
        self.conv2 = nn.Conv2d(channels[0], channels[1], 5, padding=2)
        self.fc1 = nn.Linear(channels[1] * 7 * 7, hidden)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(-1, 1, 28, 28)
        x = nn.functional.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class CNN(TorchModel):
    """Two 5x5 convolutions with max-pooling and two dense layers, for 28x28 images.

    Parameters
    ----------
    num_classes
        Output classes.
    channels
        Filters of the two convolutions.
    hidden
        Width of the dense layer.
    seed
        Initialisation seed.
    """

    def __init__(
        self,
        num_classes: int = 10,
        channels: tuple[int, int] = (16, 32),
        hidden: int = 128,
        seed: int = 0,
    ) -> None:
        torch.manual_seed(seed)
        super().__init__(_CnnModule(num_classes, channels, hidden))

    def export_onnx(self, path: str | Path, opset: int = 17) -> Path:
        """Write the CNN as ONNX (input ``x`` float32 ``(n, 784)``, output probabilities).

        Parameters
        ----------
        path
            Destination file.
        opset
            ONNX opset (17 or 18).

        Returns
        -------
        Path
            The file.
        """
        import onnx
        from onnx import TensorProto, helper, numpy_helper

        weights = self.get_weights()
        initialisers = [numpy_helper.from_array(value, name) for name, value in weights.items()]
        initialisers.append(
            numpy_helper.from_array(np.array([-1, 1, 28, 28], dtype=np.int64), "image_shape")
        )
        conv: dict[str, Any] = {"kernel_shape": [5, 5], "pads": [2, 2, 2, 2]}
        pool: dict[str, Any] = {"kernel_shape": [2, 2], "strides": [2, 2]}
        nodes = [
            helper.make_node("Reshape", ["x", "image_shape"], ["image"]),
            helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], **conv),
            helper.make_node("Relu", ["c1"], ["r1"]),
            helper.make_node("MaxPool", ["r1"], ["p1"], **pool),
            helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], **conv),
            helper.make_node("Relu", ["c2"], ["r2"]),
            helper.make_node("MaxPool", ["r2"], ["p2"], **pool),
            helper.make_node("Flatten", ["p2"], ["flat"], axis=1),
            helper.make_node("Gemm", ["flat", "fc1.weight", "fc1.bias"], ["h"], transB=1),
            helper.make_node("Relu", ["h"], ["hr"]),
            helper.make_node("Gemm", ["hr", "fc2.weight", "fc2.bias"], ["logits"], transB=1),
            helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1),
        ]
        classes = weights["fc2.bias"].shape[0]
        graph = helper.make_graph(
            nodes,
            "ledgerlearn_cnn",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 784])],
            [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["n", classes])],
            initialisers,
        )
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = 8
        onnx.checker.check_model(model)
        target = Path(path)
        target.write_bytes(model.SerializeToString())
        return target


class _LstmModule(nn.Module):
    def __init__(self, vocabulary: int, embedding: int, hidden: int, layers: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocabulary, embedding)
        self.lstm = nn.LSTM(embedding, hidden, num_layers=layers, batch_first=True)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.lstm(self.embedding(x))
        return self.head(output[:, -1, :])


class CharLSTM(TorchModel):
    """LEAF's next-character model: embedding, two-layer LSTM, linear read-out.

    Parameters
    ----------
    vocabulary
        Characters (80 for LEAF's alphabet).
    embedding
        Embedding width (8 in LEAF).
    hidden
        LSTM width (256 in LEAF; 128 by default here for CPUs).
    layers
        LSTM layers.
    seed
        Initialisation seed.
    """

    def __init__(
        self,
        vocabulary: int = 80,
        embedding: int = 8,
        hidden: int = 128,
        layers: int = 2,
        seed: int = 0,
    ) -> None:
        torch.manual_seed(seed)
        super().__init__(_LstmModule(vocabulary, embedding, hidden, layers))

    def _inputs(self, x: NDArray[np.generic]) -> torch.Tensor:
        return torch.as_tensor(np.asarray(x, dtype=np.int64))
