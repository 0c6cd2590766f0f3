"""Models: the adapter interface, NumPy logistic regression and MLP, safetensors I/O.

The PyTorch CNN and character LSTM live in :mod:`ledgerlearn.learning.models.torch_models`
(install the ``torch`` extra); importing this package never imports torch.

Trust assumption: models run on their owner's machine.
"""

from ledgerlearn.learning.models._adapter import (
    FitResult,
    ModelAdapter,
    TrainConfig,
    weights_from_bytes,
    weights_to_bytes,
)
from ledgerlearn.learning.models._numpy import MLP, LogisticRegression

__all__ = [
    "MLP",
    "FitResult",
    "LogisticRegression",
    "ModelAdapter",
    "TrainConfig",
    "weights_from_bytes",
    "weights_to_bytes",
]
