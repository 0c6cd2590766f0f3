"""Inference provider: serve a registered model, answer drawn requests, sign the answers.

A provider loads a model only after :meth:`ModelRegistryClient.verify` passed (the weights'
sha256 is the chain's, the manifest and its signature match the record, the version is not
revoked), runs it with NumPy or onnxruntime, and answers a request only if the oracle drew
it and the request's model hash and input hash match what it loaded and read. The answer
is the canonical JSON of the output probabilities (rounded to 1e-6, so NumPy and
onnxruntime agree), its sha256, and the value the oracle aggregates: the top label for a
``majority`` request, or the probability of the last class (P(positive) for a binary
model) in :data:`~ledgerlearn.oracle.VALUE_SCALE` units for a ``median`` request.

Trust assumption: the provider trusts the chain and its own verification of the artifact;
it trusts no client, gateway or store: every input is checked against the on-chain hash
and its shape against the manifest before the model runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from ledgerlearn.exceptions import InvalidInferenceInputError, OracleError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.models import MLP, weights_from_bytes
from ledgerlearn.ledger.enums import InferenceOracleStatus
from ledgerlearn.oracle._answers import Mode, SignedAnswer, encode_value, sign_answer
from ledgerlearn.oracle._client import OracleClient
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import ContentStore

__all__ = [
    "MAX_INPUT_BYTES",
    "MAX_INPUT_ROWS",
    "Backend",
    "LoadedModel",
    "Provider",
    "ProviderAnswer",
    "compute_answer",
    "load_model",
    "load_network",
    "parse_input",
]

MAX_INPUT_BYTES = 1 << 20
"""Largest input a provider reads (1 MiB of JSON)."""

MAX_INPUT_ROWS = 64
"""Most rows one request may ask about (a defence against bulk extraction)."""

Backend = Literal["numpy", "onnx"]


class _Engine(Protocol):
    def __call__(self, x: NDArray[np.float32]) -> NDArray[np.float32]: ...


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A verified model ready to run."""

    name: str
    version: int
    artifact_sha256: bytes
    features: int
    classes: int
    backend: Backend
    engine: _Engine

    def run(self, x: NDArray[np.float32]) -> NDArray[np.float32]:
        """Return class probabilities for the rows of ``x``."""
        return np.asarray(self.engine(x), dtype=np.float32)


def load_network(registry: ModelRegistryClient, name: str, version: int) -> tuple[MLP, bytes]:
    """Verify ``name@version`` against the registry; return its network and artifact hash.

    Raises
    ------
    ArtifactVerificationError
        If the artifact, manifest or signature do not match the chain (nothing is loaded).
    OracleError
        If the architecture is not an MLP (``inputs``, ``hidden``, ``classes``).
    """
    report = registry.verify(f"{name}@{version}")
    arch = report.manifest.architecture
    try:
        features, classes = int(arch["inputs"]), int(arch["classes"])
        hidden = tuple(int(h) for h in arch.get("hidden", ()))
    except (KeyError, TypeError, ValueError) as exc:
        raise OracleError(
            f"{name}@{version}: architecture {arch} is not an MLP with inputs, hidden and "
            "classes; providers serve those"
        ) from exc
    if registry.store is None:
        raise OracleError("loading a model needs a registry client with a content store")
    raw = registry.store.get(report.record.artifact_cid)
    if hashlib.sha256(raw).hexdigest() != report.record.artifact_sha256:  # read again: check
        raise OracleError(f"{name}@{version}: the weights changed in the store since verify")
    model = MLP(features, classes, hidden, seed=0)
    model.set_weights(dict(weights_from_bytes(raw)))
    return model, bytes.fromhex(report.record.artifact_sha256)


def load_model(
    registry: ModelRegistryClient, name: str, version: int, *, backend: Backend = "numpy"
) -> LoadedModel:
    """Verify ``name@version`` against the registry, then load it for inference.

    Raises
    ------
    ArtifactVerificationError
        If the artifact, manifest or signature do not match the chain (nothing is loaded).
    OracleError
        If the architecture is not one a provider can run (an MLP: ``inputs``, ``hidden``,
        ``classes``).
    """
    model, artifact_sha256 = load_network(registry, name, version)
    engine: _Engine = model.predict_proba
    if backend == "onnx":
        engine = _onnx_engine(model)
    return LoadedModel(
        name,
        version,
        artifact_sha256,
        model.sizes[0],
        model.sizes[-1],
        backend,
        engine,
    )


def _onnx_engine(model: MLP) -> _Engine:
    import onnxruntime

    with tempfile.TemporaryDirectory() as tmp:
        path = model.export_onnx(Path(tmp) / "model.onnx")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        session = onnxruntime.InferenceSession(
            path.read_bytes(), options, providers=["CPUExecutionProvider"]
        )

    def run(x: NDArray[np.float32]) -> NDArray[np.float32]:
        (probabilities,) = session.run(["probabilities"], {"x": x})
        return np.asarray(probabilities, dtype=np.float32)

    return run


def parse_input(raw: bytes, model: LoadedModel) -> NDArray[np.float32]:
    """Parse a request input, ``{"x": [[feature, ...], ...]}``, for ``model``.

    Raises
    ------
    InvalidInferenceInputError
        Too large, not JSON, not a list of rows of ``model.features`` finite numbers, or
        more than :data:`MAX_INPUT_ROWS` rows; the message says which.
    """
    if len(raw) > MAX_INPUT_BYTES:
        raise InvalidInferenceInputError(
            f"input is {len(raw)} bytes; the limit is {MAX_INPUT_BYTES}"
        )
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        hint = 'send {"x": [[...], ...]}'
        raise InvalidInferenceInputError(f"input is not JSON ({exc}); {hint}") from exc
    rows = data.get("x") if isinstance(data, dict) else None
    if not isinstance(rows, list) or not rows:
        raise InvalidInferenceInputError('input must be a JSON object {"x": [[...], ...]}')
    if len(rows) > MAX_INPUT_ROWS:
        raise InvalidInferenceInputError(
            f"input has {len(rows)} rows; at most {MAX_INPUT_ROWS} per request"
        )
    try:
        x = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidInferenceInputError(f"input rows are not numbers: {exc}") from exc
    if x.ndim != 2 or x.shape[1] != model.features:
        raise InvalidInferenceInputError(
            f"input has shape {list(x.shape)}; {model.name}@{model.version} takes "
            f"[rows, {model.features}]"
        )
    if not np.isfinite(x).all():
        raise InvalidInferenceInputError("input contains NaN or infinity")
    return x.astype(np.float32)


@dataclass(frozen=True, slots=True)
class ProviderAnswer:
    """A signed answer with the output it commits to."""

    answer: SignedAnswer
    output: bytes

    def to_json(self) -> dict[str, Any]:
        """JSON form: the signed answer and the output document."""
        return {"answer": self.answer.to_json(), "output": json.loads(self.output)}


def compute_answer(model: LoadedModel, raw: bytes, mode: Mode) -> tuple[int, bytes]:
    """Run ``model`` on the request input ``raw``; return the value and output document.

    This is what an honest provider signs and what an auditor re-computes: the value the
    oracle aggregates (see :func:`_value`) and the canonical JSON output whose sha256 is
    the answer's output hash.

    Raises
    ------
    InvalidInferenceInputError
        The input is malformed or does not fit the model.
    OracleError
        The model produced a non-finite probability.
    """
    probabilities = model.run(parse_input(raw, model))
    return _value(mode, probabilities), _output_document(model, probabilities)


def _output_document(model: LoadedModel, probabilities: NDArray[np.float32]) -> bytes:
    rounded = [[round(float(p), 6) for p in row] for row in probabilities]
    document = {
        "model": f"{model.name}@{model.version}",
        "probabilities": rounded,
        "labels": [int(np.argmax(row)) for row in probabilities],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def _value(mode: Mode, probabilities: NDArray[np.float32]) -> int:
    first = probabilities[0]
    if mode.is_label:
        return encode_value(mode, int(np.argmax(first)))
    score = float(first[-1])
    if not math.isfinite(score):
        raise OracleError("the model produced a non-finite probability")
    return encode_value(mode, round(score, 6))


class Provider:
    """Answers the oracle's requests for the models it loaded.

    Parameters
    ----------
    key
        The provider identity's key (owner or ``veriKey`` delegate).
    oracle
        The oracle client.
    store
        Where request inputs are read and outputs written.
    models
        Loaded, verified models.
    identity
        The provider identity when ``key`` is a delegate.

    Experiments make a lying provider by overriding :meth:`compute` in a subclass
    (:class:`ledgerlearn.devnet.LyingProvider`); this class knows nothing of them.
    """

    def __init__(
        self,
        key: Secp256k1Key,
        oracle: OracleClient,
        store: ContentStore,
        models: list[LoadedModel],
        *,
        identity: str | None = None,
    ) -> None:
        self.key = key
        self.oracle = oracle
        self.store = store
        self.identity = identity or key.address
        self.models = {(ModelRegistryClient.model_id(m.name), m.version): m for m in models}

    def compute(self, model: LoadedModel, raw: bytes) -> NDArray[np.float32]:
        """Run ``model`` on a request's raw input; return its class probabilities.

        Parameters
        ----------
        model
            The verified, loaded model the request names.
        raw
            The request's input, already checked against its on-chain hash.

        Returns
        -------
        numpy.ndarray
            ``(rows, classes)`` probabilities.

        Raises
        ------
        InvalidInferenceInputError
            If the input is malformed or of the wrong shape for the model.
        """
        return model.run(parse_input(raw, model))

    def answer(self, request_id: int) -> ProviderAnswer:
        """Compute and sign this provider's answer to ``request_id``.

        Raises
        ------
        OracleError
            The request is not open, this provider was not drawn for it, or it does not
            serve the model version (or its artifact hash differs).
        InvalidInferenceInputError
            The input does not hash to the request's input hash, or is malformed.
        """
        request = self.oracle.get_request(request_id)
        if request.status is not InferenceOracleStatus.OPEN:
            raise OracleError(f"request {request_id} is {request.status}, not open for answers")
        drawn = {p.lower() for p in self.oracle.selected(request_id)}
        if self.identity.lower() not in drawn:
            raise OracleError(f"provider {self.identity} was not drawn for request {request_id}")
        model = self.models.get((request.model_id, request.version))
        if model is None:
            raise OracleError(
                f"request {request_id} asks for version {request.version} of a model this "
                "provider does not serve"
            )
        if model.artifact_sha256 != request.model_hash:
            raise OracleError(f"request {request_id} names another artifact than the one loaded")
        raw = self.oracle.read_input(self.store, request)
        probabilities = self.compute(model, raw)
        output = _output_document(model, probabilities)
        self.store.put(output)
        signed = sign_answer(
            self.key,
            self.oracle.domain,
            request_id,
            request.model_hash,
            request.input_hash,
            hashlib.sha256(output).digest(),
            _value(request.mode, probabilities),
            provider=self.identity,
        )
        return ProviderAnswer(signed, output)
