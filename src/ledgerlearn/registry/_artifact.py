"""Model artifacts: safetensors weights plus a manifest that says what they are.

A published model version is two content-addressed files:

- the **artifact**: the weights as safetensors (its sha256 and CID go on chain);
- the **manifest**: canonical JSON (sorted keys, no spaces) naming the model, framework,
  architecture, input and output schema, preprocessing, the weights' sha256, CID, size and
  tensor table, the licence, the parent version, and the model card (training summary,
  evaluation metrics, hashes of the data manifests used). Its CID is the version's
  ``metadataCid`` on chain.

The publisher signs (EIP-712) the on-chain fields, which include the manifest's CID, so the
signature covers every byte of the manifest and, through the hashes in it, the weights.

Trust assumption: none; a manifest is checked against the chain's record on every pull.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypedDict

from safetensors import safe_open

from ledgerlearn.exceptions import InvalidModelArtifactError
from ledgerlearn.storage import compute_file_cid
from ledgerlearn.types import Cid

__all__ = [
    "MANIFEST_SCHEMA",
    "ModelCard",
    "ModelManifest",
    "TensorSpec",
    "WeightsInfo",
    "describe_weights",
]

MANIFEST_SCHEMA = "ledgerlearn/model-manifest/v1"
"""The ``schema`` field every manifest carries."""


class TensorSpec(TypedDict):
    """One named input or output: dtype and shape (``None`` for a free dimension)."""

    name: str
    dtype: str
    shape: list[int | None]


@dataclass(frozen=True, slots=True)
class WeightsInfo:
    """The weights file as the manifest records it.

    Attributes
    ----------
    sha256
        Hex sha256 of the file.
    cid
        Its CIDv1.
    size
        Bytes.
    tensors
        Name → ``{"dtype", "shape"}`` for every tensor in the file.
    """

    sha256: str
    cid: Cid
    size: int
    tensors: dict[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What a reviewer needs to judge a version.

    Attributes
    ----------
    summary
        One paragraph: what the model is for.
    training
        How it was trained (dataset, partition, rounds, rule, hyper-parameters).
    evaluation
        Metric name → value on the stated test data.
    data_manifests
        sha256 of each data manifest the training used (never the data itself).
    """

    summary: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    evaluation: dict[str, float] = field(default_factory=dict)
    data_manifests: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ModelManifest:
    """Everything about a model version except its weights.

    Attributes
    ----------
    model
        The registry name.
    framework
        ``numpy``, ``torch``, ``onnx`` ...
    architecture
        Name and constructor parameters, enough to rebuild the model.
    inputs, outputs
        Tensor schemas.
    preprocessing
        What to do to raw input first (e.g. scaling).
    weights
        The weights file's hashes and tensor table.
    license
        SPDX identifier.
    parent_version
        The version this one was trained from (0 for a root).
    card
        The model card.
    format
        The artifact format (``safetensors``).
    """

    model: str
    framework: str
    architecture: dict[str, Any]
    inputs: list[TensorSpec]
    outputs: list[TensorSpec]
    preprocessing: dict[str, Any]
    weights: WeightsInfo
    license: str
    parent_version: int = 0
    card: ModelCard = field(default_factory=ModelCard)
    format: str = "safetensors"

    def to_json(self) -> dict[str, Any]:
        """Return the manifest as a JSON object (camelCase keys).

        Returns
        -------
        dict
            The document that is stored.
        """
        card = asdict(self.card)
        card["dataManifests"] = card.pop("data_manifests")
        return {
            "schema": MANIFEST_SCHEMA,
            "model": self.model,
            "framework": self.framework,
            "format": self.format,
            "architecture": self.architecture,
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "preprocessing": self.preprocessing,
            "weights": asdict(self.weights),
            "license": self.license,
            "parentVersion": self.parent_version,
            "card": card,
        }

    def to_bytes(self) -> bytes:
        """Return the canonical encoding (sorted keys, compact, UTF-8) that is stored.

        Returns
        -------
        bytes
            Identical for identical manifests, so identical manifests share a CID.
        """
        return json.dumps(
            self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ModelManifest:
        """Parse and validate a stored manifest.

        Parameters
        ----------
        raw
            The manifest's bytes.

        Returns
        -------
        ModelManifest
            The parsed manifest.

        Raises
        ------
        InvalidModelArtifactError
            If it is not JSON, has another schema, or lacks a field.
        """
        try:
            data = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidModelArtifactError(f"the manifest is not JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("schema") != MANIFEST_SCHEMA:
            raise InvalidModelArtifactError(
                f"the manifest's schema is not {MANIFEST_SCHEMA!r}; it was not made by "
                "ledgerlearn's registry"
            )
        try:
            card = dict(data["card"])
            weights = dict(data["weights"])
            return cls(
                model=str(data["model"]),
                framework=str(data["framework"]),
                format=str(data["format"]),
                architecture=dict(data["architecture"]),
                inputs=list(data["inputs"]),
                outputs=list(data["outputs"]),
                preprocessing=dict(data["preprocessing"]),
                weights=WeightsInfo(
                    sha256=str(weights["sha256"]),
                    cid=Cid(str(weights["cid"])),
                    size=int(weights["size"]),
                    tensors=dict(weights["tensors"]),
                ),
                license=str(data["license"]),
                parent_version=int(data["parentVersion"]),
                card=ModelCard(
                    summary=str(card.get("summary", "")),
                    training=dict(card.get("training", {})),
                    evaluation={k: float(v) for k, v in dict(card.get("evaluation", {})).items()},
                    data_manifests=[str(h) for h in card.get("dataManifests", [])],
                ),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidModelArtifactError(
                f"the manifest lacks or mistypes a field: {exc}"
            ) from exc


def describe_weights(path: str | os.PathLike[str]) -> WeightsInfo:
    """Hash a safetensors file and list its tensors.

    Parameters
    ----------
    path
        The weights file.

    Returns
    -------
    WeightsInfo
        sha256, CID, size and tensor table.

    Raises
    ------
    InvalidModelArtifactError
        If the file is missing or not safetensors.
    """
    target = Path(path)
    try:
        with safe_open(str(target), framework="numpy") as weights:
            tensors: dict[str, dict[str, Any]] = {}
            for name in sorted(weights.keys()):
                piece = weights.get_slice(name)
                tensors[name] = {"dtype": piece.get_dtype(), "shape": list(piece.get_shape())}
    except FileNotFoundError as exc:
        raise InvalidModelArtifactError(f"weights file {target} does not exist") from exc
    except Exception as exc:  # safetensors raises its own SafetensorError and OSError
        raise InvalidModelArtifactError(f"{target} is not a safetensors file: {exc}") from exc
    digest = hashlib.sha256()
    with target.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
        stream.seek(0)
        layout = compute_file_cid(stream)
    return WeightsInfo(digest.hexdigest(), layout.cid, layout.size, tensors)
