from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledgerlearn.exceptions import (
    ChainIdMismatchError,
    InvalidManifestError,
    ManifestCodeMismatchError,
    ManifestNotFoundError,
)
from ledgerlearn.ledger import Chain, DeploymentManifest
from tests.conftest import Deployment


def test_manifest_round_trips_and_verifies(deployment: Deployment, tmp_path: Path) -> None:
    path = deployment.manifest.save(tmp_path / "m" / "deployment.json")
    loaded = DeploymentManifest.load(path)
    assert loaded == deployment.manifest
    assert loaded.deploy_block == 1
    loaded.verify(deployment.chain)
    data = json.loads(path.read_text())
    assert data["chainId"] == deployment.chain.chain_id
    assert set(data["contracts"]["LedgerToken"]) == {
        "address",
        "block",
        "txHash",
        "artifactHash",
        "codeHash",
    }


def test_manifest_on_another_chain_is_refused(deployment: Deployment) -> None:
    other = DeploymentManifest.from_json({**deployment.manifest.to_json(), "chainId": 1})
    with pytest.raises(ChainIdMismatchError, match="chain 1"):
        other.verify(deployment.chain)


def test_manifest_pointing_at_other_code_is_refused(deployment: Deployment) -> None:
    data = deployment.manifest.to_json()
    data["contracts"]["LedgerToken"]["address"] = deployment.alice.address  # an account, no code
    with pytest.raises(ManifestCodeMismatchError, match="no code"):
        DeploymentManifest.from_json(data).verify(deployment.chain)
    data = deployment.manifest.to_json()
    data["contracts"]["LedgerToken"]["codeHash"] = "0x" + "00" * 32
    with pytest.raises(ManifestCodeMismatchError, match="not the code recorded"):
        DeploymentManifest.from_json(data).verify(deployment.chain)
    data = deployment.manifest.to_json()
    data["contracts"]["LedgerToken"]["artifactHash"] = "ff" * 32
    with pytest.raises(ManifestCodeMismatchError, match="another version"):
        DeploymentManifest.from_json(data).verify(deployment.chain)


def test_manifest_from_a_fresh_chain_finds_no_code(deployment: Deployment) -> None:
    with Chain() as fresh, pytest.raises(ManifestCodeMismatchError, match=r"[Rr]edeploy"):
        deployment.manifest.verify(fresh)


def test_missing_and_malformed_manifests_are_named_errors(tmp_path: Path) -> None:
    with pytest.raises(ManifestNotFoundError, match="ledgerlearn deploy"):
        DeploymentManifest.load(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InvalidManifestError):
        DeploymentManifest.load(tmp_path / "bad.json")
    (tmp_path / "partial.json").write_text(json.dumps({"version": 1, "chainId": 5}))
    with pytest.raises(InvalidManifestError, match="not a valid deployment manifest"):
        DeploymentManifest.load(tmp_path / "partial.json")


def test_get_address_of_unknown_contract(deployment: Deployment) -> None:
    with pytest.raises(InvalidManifestError, match="has no 'Nope'"):
        deployment.manifest.get_address("Nope")


def test_save_is_atomic_and_leaves_no_temp_files(deployment: Deployment, tmp_path: Path) -> None:
    deployment.manifest.save(tmp_path / "deployment.json")
    deployment.manifest.save(tmp_path / "deployment.json")
    assert [p.name for p in tmp_path.iterdir()] == ["deployment.json"]


def test_chain_load_manifest_loads_and_verifies(deployment: Deployment, tmp_path: Path) -> None:
    path = deployment.manifest.save(tmp_path / "deployment.json")
    assert deployment.chain.load_manifest(path) == deployment.manifest
    with Chain() as other, pytest.raises(ManifestCodeMismatchError):
        other.load_manifest(path)
