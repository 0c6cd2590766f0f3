"""Providers: verified loading, NumPy and onnxruntime answers, input checks, the HTTP API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ledgerlearn.exceptions import (
    ArtifactHashMismatchError,
    ContentCorruptedError,
    InvalidInferenceInputError,
    OracleError,
    VersionRevokedError,
)
from ledgerlearn.learning.models import MLP
from ledgerlearn.oracle import (
    MAX_INPUT_ROWS,
    Mode,
    Provider,
    build_report,
    load_model,
    provider_app,
)
from ledgerlearn.oracle._provider import parse_input
from tests.oracle_env import Env, build_oracle_env
from tests.snapshots import reverting

FEATURES, CLASSES = 4, 3
ROW = [0.5, -1.0, 2.0, 0.25]


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp_path = tmp_path_factory.mktemp("provider")
    env = build_oracle_env(tmp_path)
    model = MLP(FEATURES, CLASSES, (8,), seed=3)
    weights = tmp_path / "mlp.safetensors"
    weights.write_bytes(model.to_bytes())
    env.registry.publish(
        env.owner,
        "digits",
        weights,
        framework="numpy",
        architecture={"kind": "mlp", "inputs": FEATURES, "hidden": [8], "classes": CLASSES},
        inputs=[{"name": "x", "dtype": "float32", "shape": [None, FEATURES]}],
        outputs=[{"name": "probabilities", "dtype": "float32", "shape": [None, CLASSES]}],
        license="MIT",
    )  # version 3
    for key in env.providers:
        env.oracle.serve(key, "digits", 3)
    yield env
    env.chain.close()


@pytest.fixture
def env(_built: Env, tmp_path: Path) -> Iterator[Env]:
    with reverting(_built.chain):
        yield _built.fork(tmp_path / "store")


def ask(env: Env, payload: bytes, **changes: object) -> int:
    spec = env.spec(
        version=3,
        input_sha256=hashlib.sha256(payload).digest(),
        input_cid=str(env.store.put(payload)),
        **changes,
    )
    request_id = env.oracle.request(env.client, spec)
    env.beacon.fulfil(env.vrf_holder, env.vrf, env.oracle.randomness_request_id(request_id))
    env.oracle.select(env.client, request_id)
    return request_id


def providers(env: Env) -> dict[str, Provider]:
    numpy_model = load_model(env.registry, "digits", 3, backend="numpy")
    onnx_model = load_model(env.registry, "digits", 3, backend="onnx")
    return {
        key.address: Provider(key, env.oracle, env.store, [numpy_model if i % 2 else onnx_model])
        for i, key in enumerate(env.providers)
    }


def test_numpy_and_onnx_providers_agree_and_their_report_settles(env: Env) -> None:
    request_id = ask(env, json.dumps({"x": [ROW]}).encode(), mode=Mode.MAJORITY)
    by_address = providers(env)
    drawn = env.oracle.selected(request_id)
    results = [by_address[p].answer(request_id) for p in drawn]
    assert {r.answer.value for r in results} == {results[0].answer.value}
    assert {r.answer.output_hash for r in results} == {results[0].answer.output_hash}
    document = json.loads(results[0].output)
    assert document["labels"] == [results[0].answer.value]
    assert abs(sum(document["probabilities"][0]) - 1) < 1e-5
    assert env.store.get(env.store.put(results[0].output)) == results[0].output  # stored
    request = env.oracle.get_request(request_id)
    env.oracle.fulfil(env.client, build_report(request, drawn, [r.answer for r in results]))
    assert env.oracle.get_request(request_id).result == results[0].answer.value


def test_median_requests_carry_the_last_class_probability(env: Env) -> None:
    request_id = ask(env, json.dumps({"x": [ROW]}).encode(), mode=Mode.MEDIAN, tolerance=10)
    by_address = providers(env)
    drawn = env.oracle.selected(request_id)
    answers = [by_address[p].answer(request_id) for p in drawn[:3]]
    probability = json.loads(answers[0].output)["probabilities"][0][-1]
    assert answers[0].answer.value == round(probability * 10**6)


def test_a_provider_answers_only_what_it_was_drawn_for(env: Env) -> None:
    request_id = ask(env, json.dumps({"x": [ROW]}).encode())
    drawn = {p.lower() for p in env.oracle.selected(request_id)}
    outsider = next(p for a, p in providers(env).items() if a.lower() not in drawn)
    with pytest.raises(OracleError, match="was not drawn"):
        outsider.answer(request_id)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"not json", "not JSON"),
        (json.dumps({"x": [[1.0, 2.0]]}).encode(), r"shape \[1, 2\].*takes \[rows, 4\]"),
        (json.dumps({"y": [ROW]}).encode(), "JSON object"),
        (json.dumps({"x": [ROW] * (MAX_INPUT_ROWS + 1)}).encode(), "rows; at most"),
        (b'{"x": [[NaN, 1, 2, 3]]}', "NaN or infinity"),
        (json.dumps({"x": [["a", 1, 2, 3]]}).encode(), "not numbers"),
        (b'{"x": [[' + b"1," * 600_000 + b"1]]}", "bytes; the limit"),
    ],
)
def test_bad_inputs_are_refused_with_the_reason(env: Env, payload: bytes, message: str) -> None:
    model = load_model(env.registry, "digits", 3)
    with pytest.raises(InvalidInferenceInputError, match=message):
        parse_input(payload, model)


def test_nothing_is_loaded_from_a_tampered_or_revoked_artifact(env: Env) -> None:
    record = env.registry.get_version("digits", 3)
    cid = str(record.artifact_cid)
    blob = env.store.root / "blobs" / cid[-2:] / cid
    original = blob.read_bytes()
    blob.chmod(0o644)
    blob.write_bytes(original[:-4] + b"\0\0\0\0")
    with pytest.raises((ArtifactHashMismatchError, ContentCorruptedError)):
        load_model(env.registry, "digits", 3)
    blob.write_bytes(original)
    env.registry.revoke(env.deployer, "digits", 3, "withdrawn")
    with pytest.raises(VersionRevokedError):
        load_model(env.registry, "digits", 3)


def test_the_http_api_answers_and_speaks_problem_json(env: Env) -> None:
    request_id = ask(env, json.dumps({"x": [ROW]}).encode())
    by_address = providers(env)
    drawn = env.oracle.selected(request_id)
    client = TestClient(provider_app(by_address[drawn[0]]))
    health = client.get("/v1/health").json()
    assert health["provider"] == drawn[0] and health["models"][0]["version"] == 3
    answered = client.post("/v1/answers", json={"requestId": request_id})
    assert answered.status_code == 200
    assert answered.json()["answer"]["provider"] == drawn[0]
    missing = client.post("/v1/answers", json={"requestId": 999})
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    bad = client.post("/v1/answers", json={"requestId": -1})
    assert bad.status_code == 422 and bad.json()["title"] == "invalid request body"
    not_drawn = next(p for a, p in by_address.items() if a not in drawn)
    refused = TestClient(provider_app(not_drawn)).post(
        "/v1/answers", json={"requestId": request_id}
    )
    assert refused.status_code == 409 and "not drawn" in refused.json()["detail"]
    wrong_shape = ask(env, json.dumps({"x": [[1.0]]}).encode())
    first = by_address[env.oracle.selected(wrong_shape)[0]]
    rejected = TestClient(provider_app(first)).post("/v1/answers", json={"requestId": wrong_shape})
    assert rejected.status_code == 422 and "takes [rows, 4]" in rejected.json()["detail"]
    assert np.isfinite(answered.json()["output"]["probabilities"][0]).all()
