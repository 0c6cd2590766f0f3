"""ModelRegistry and its client: publish, roles, guardian, verify and pull (embedded EVM)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from eth_utils import keccak
from safetensors.numpy import save_file

from ledgerlearn.exceptions import (
    ArtifactHashMismatchError,
    ContentCorruptedError,
    DestinationExistsError,
    InvalidModelArtifactError,
    ManifestMismatchError,
    ModelNotFoundError,
    ModelPausedError,
    VersionRevokedError,
)
from ledgerlearn.governance import Governance
from ledgerlearn.identity import EthrDidRegistry
from ledgerlearn.keys import Secp256k1Key, sign_typed_data
from ledgerlearn.ledger.errors import (
    AccessControlUnauthorizedAccount,
    ModelRegistryArtifactAlreadyRegistered,
    ModelRegistryInvalidManifestSignature,
    ModelRegistryMissingModelRole,
    ModelRegistryModelIsPaused,
    ModelRegistryVersionIsRevoked,
)
from ledgerlearn.registry import (
    MANIFEST_TYPES,
    ModelCard,
    ModelManifest,
    ModelRegistryClient,
    parse_model_ref,
)
from ledgerlearn.storage import LocalContentStore, parse_cid
from tests.conftest import Deployment

SPEC = {
    "framework": "numpy",
    "architecture": {"name": "mlp", "hidden": [8]},
    "inputs": [{"name": "x", "dtype": "float32", "shape": [None, 4]}],
    "outputs": [{"name": "logits", "dtype": "float32", "shape": [None, 2]}],
    "license": "Apache-2.0",
}


def weights(path: Path, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    save_file({"w": rng.standard_normal((4, 2)).astype(np.float32)}, str(path))
    return path


@pytest.fixture
def store(tmp_path: Path) -> LocalContentStore:
    return LocalContentStore(tmp_path / "store")


@pytest.fixture
def registry(deployment: Deployment, store: LocalContentStore) -> ModelRegistryClient:
    client = ModelRegistryClient(deployment.chain, deployment.manifest, store)
    client.create_model(deployment.alice, "digits")
    return client


def publish(
    registry: ModelRegistryClient, signer: Secp256k1Key, path: Path, **extra: object
) -> int:
    record = registry.publish(signer, "digits", path, **{**SPEC, **extra})  # type: ignore[arg-type]
    return record.version


def test_publish_records_every_field_and_the_manifest_round_trips(
    deployment: Deployment, registry: ModelRegistryClient, store: LocalContentStore, tmp_path: Path
) -> None:
    card = ModelCard(summary="digits", evaluation={"accuracy": 0.91}, data_manifests=["ab" * 32])
    record = registry.publish(
        deployment.alice, "digits", weights(tmp_path / "w.safetensors", 1), card=card, **SPEC
    )  # type: ignore[arg-type]
    assert (record.version, record.status.label, record.parent_version) == (1, "registered", 0)
    assert record.publisher == record.signer == deployment.alice.address
    manifest = ModelManifest.from_bytes(store.get(record.metadata_cid))
    assert manifest.weights.sha256 == record.artifact_sha256
    assert manifest.weights.tensors == {"w": {"dtype": "F32", "shape": [4, 2]}}
    assert manifest.card == card
    assert ModelManifest.from_bytes(manifest.to_bytes()) == manifest


def test_publishing_without_the_role_is_refused(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    with pytest.raises(ModelRegistryMissingModelRole) as caught:
        publish(registry, deployment.bob, weights(tmp_path / "w.safetensors", 1))
    assert caught.value.arguments["identity"] == deployment.bob.address
    registry.set_role(deployment.alice, "digits", "publisher", deployment.bob.address)
    assert publish(registry, deployment.bob, weights(tmp_path / "w.safetensors", 1)) == 1
    registry.set_role(
        deployment.alice, "digits", "publisher", deployment.bob.address, granted=False
    )
    with pytest.raises(ModelRegistryMissingModelRole):
        publish(registry, deployment.bob, weights(tmp_path / "w2.safetensors", 2))


def test_only_owners_grant_roles(deployment: Deployment, registry: ModelRegistryClient) -> None:
    with pytest.raises(ModelRegistryMissingModelRole):
        registry.set_role(deployment.bob, "digits", "publisher", deployment.bob.address)


def test_reregistering_an_artifact_hash_is_rejected_everywhere(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    path = weights(tmp_path / "w.safetensors", 1)
    publish(registry, deployment.alice, path)
    with pytest.raises(ModelRegistryArtifactAlreadyRegistered) as caught:
        publish(registry, deployment.alice, path, parent_version=1)
    assert caught.value.arguments["version"] == 1
    registry.create_model(deployment.alice, "other")
    with pytest.raises(ModelRegistryArtifactAlreadyRegistered):
        registry.publish(deployment.alice, "other", path, **SPEC)  # type: ignore[arg-type]


def test_delegate_keys_sign_and_rotated_or_revoked_keys_cannot(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    alice, bob, carol = deployment.alice, deployment.bob, deployment.chain.accounts[3]
    ids = EthrDidRegistry(deployment.chain, deployment.manifest)
    ids.add_delegate(alice, alice.address, bob.address)
    v1 = registry.publish(
        bob, "digits", weights(tmp_path / "a.safetensors", 1), publisher=alice.address, **SPEC
    )  # type: ignore[arg-type]
    assert (v1.publisher, v1.signer) == (alice.address, bob.address)
    ids.revoke_delegate(alice, alice.address, bob.address)
    with pytest.raises(ModelRegistryInvalidManifestSignature):
        registry.publish(
            bob, "digits", weights(tmp_path / "b.safetensors", 2), publisher=alice.address, **SPEC
        )  # type: ignore[arg-type]
    ids.change_owner(alice, alice.address, carol.address)  # rotate alice's identity to carol
    with pytest.raises(ModelRegistryInvalidManifestSignature):
        publish(registry, alice, weights(tmp_path / "c.safetensors", 3))
    v2 = registry.publish(
        carol, "digits", weights(tmp_path / "c.safetensors", 3), publisher=alice.address, **SPEC
    )  # type: ignore[arg-type]
    assert v2.signer == carol.address
    # v1 was signed by a key that was live then: it still verifies after the revocation.
    assert registry.verify("digits@1").record.signer == bob.address


def test_promoting_needs_governance_and_the_guardian_cannot(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    publish(registry, deployment.alice, weights(tmp_path / "w.safetensors", 1))
    move = registry.contract.functions.moveChannel(keccak(text="digits"), "production", 1, b"r")
    for who in (deployment.alice, deployment.deployer):  # owner; guardian (the deployer)
        with pytest.raises(AccessControlUnauthorizedAccount):
            deployment.chain.sender(who).transact(move)


def test_guardian_pauses_and_revokes_but_only_it(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    guardian = deployment.deployer
    publish(registry, deployment.alice, weights(tmp_path / "w.safetensors", 1))
    with pytest.raises(AccessControlUnauthorizedAccount):
        registry.pause(deployment.alice, "digits")
    registry.revoke(guardian, "digits", 1, "leaks training data")
    assert registry.get_version("digits", 1).status.label == "revoked"
    with pytest.raises(VersionRevokedError):
        registry.verify("digits@1")
    with pytest.raises(ModelRegistryVersionIsRevoked):
        publish(
            registry, deployment.alice, weights(tmp_path / "x.safetensors", 2), parent_version=1
        )
    publish(registry, deployment.alice, weights(tmp_path / "z.safetensors", 4))
    registry.pause(guardian, "digits")
    with pytest.raises(ModelPausedError):
        registry.verify("digits@2")
    with pytest.raises(ModelRegistryModelIsPaused):
        publish(registry, deployment.alice, weights(tmp_path / "y.safetensors", 3))
    with pytest.raises(AccessControlUnauthorizedAccount):
        deployment.chain.sender(guardian).transact(
            registry.contract.functions.unpauseModel(keccak(text="digits"))
        )


def test_timelock_alone_holds_admin_and_governance(deployment: Deployment) -> None:
    registry = deployment.chain.contract(
        "ModelRegistry", deployment.manifest.get_address("ModelRegistry")
    )
    timelock = deployment.manifest.get_address("ProtocolTimelock")
    holders: dict[bytes, set[str]] = {}
    for log in registry.events.RoleGranted().get_logs(from_block=0):
        holders.setdefault(bytes(log["args"]["role"]), set()).add(log["args"]["account"])
    for log in registry.events.RoleRevoked().get_logs(from_block=0):
        holders[bytes(log["args"]["role"])].discard(log["args"]["account"])
    assert holders[b"\x00" * 32] == {timelock}
    assert holders[keccak(text="GOVERNANCE_ROLE")] == {timelock}
    assert holders[keccak(text="GUARDIAN_ROLE")] == {deployment.deployer.address}
    tl = deployment.chain.contract("ProtocolTimelock", timelock)
    admin = tl.functions.DEFAULT_ADMIN_ROLE().call()
    assert not tl.functions.hasRole(admin, deployment.deployer.address).call()
    assert tl.functions.hasRole(admin, timelock).call()


def test_pull_verifies_and_writes_atomically(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    source = weights(tmp_path / "w.safetensors", 1)
    publish(registry, deployment.alice, source)
    result = registry.pull("digits@1", tmp_path / "out")
    assert result.weights.read_bytes() == source.read_bytes()
    assert ModelManifest.from_bytes(result.manifest.read_bytes()).model == "digits"
    assert len(result.report.checks) == 5
    with pytest.raises(DestinationExistsError):
        registry.pull("digits@1", tmp_path / "out")
    assert registry.pull("digits@1", tmp_path / "out", force=True).weights.exists()


def test_tampered_artifact_in_the_store_is_refused_and_nothing_written(
    deployment: Deployment, registry: ModelRegistryClient, store: LocalContentStore, tmp_path: Path
) -> None:
    record = registry.publish(
        deployment.alice, "digits", weights(tmp_path / "w.safetensors", 1), **SPEC
    )  # type: ignore[arg-type]
    blob = next(p for p in (tmp_path / "store").rglob("*") if record.artifact_cid in p.name)
    data = bytearray(blob.read_bytes())
    data[-1] ^= 1
    blob.write_bytes(bytes(data))
    with pytest.raises(ContentCorruptedError):
        registry.pull("digits@1", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def _register_raw(
    deployment: Deployment,
    registry: ModelRegistryClient,
    store: LocalContentStore,
    manifest_bytes: bytes,
    artifact_cid: str,
    sha: bytes,
) -> None:
    metadata_cid = store.put(manifest_bytes)
    message = {
        "model": "digits",
        "artifactSha256": sha,
        "artifactCid": parse_cid(artifact_cid).binary,
        "format": "safetensors",
        "license": "Apache-2.0",
        "metadataCid": parse_cid(metadata_cid).binary,
        "parentVersion": 0,
        "publisher": deployment.alice.address,
    }
    signature = sign_typed_data(
        deployment.alice, registry.domain, MANIFEST_TYPES, "ModelManifest", message
    )
    fields = (sha, message["artifactCid"], "safetensors", "Apache-2.0", message["metadataCid"], 0)
    deployment.chain.sender(deployment.alice).transact(
        registry.contract.functions.registerVersion(
            "digits", fields, deployment.alice.address, signature
        )
    )


def test_a_manifest_or_hash_that_contradicts_the_chain_is_refused(
    deployment: Deployment, registry: ModelRegistryClient, store: LocalContentStore, tmp_path: Path
) -> None:
    good = registry.publish(
        deployment.alice, "digits", weights(tmp_path / "w.safetensors", 1), **SPEC
    )  # type: ignore[arg-type]
    manifest = ModelManifest.from_bytes(store.get(good.metadata_cid))
    # v2: the chain's sha256 is not the artifact's (manifest tells the truth).
    _register_raw(deployment, registry, store, manifest.to_bytes(), good.artifact_cid, b"\x01" * 32)
    with pytest.raises(ManifestMismatchError, match=r"weights\.sha256"):
        registry.pull("digits@2", tmp_path / "out")
    # v3: manifest and chain agree on a sha256 the bytes do not have.
    lie = ModelManifest.from_bytes(
        manifest.to_bytes().replace(manifest.weights.sha256.encode(), b"02" * 32)
    )
    _register_raw(deployment, registry, store, lie.to_bytes(), good.artifact_cid, b"\x02" * 32)
    with pytest.raises(ArtifactHashMismatchError):
        registry.pull("digits@3", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_references_lineage_and_find(
    deployment: Deployment, registry: ModelRegistryClient, tmp_path: Path
) -> None:
    v1 = publish(registry, deployment.alice, weights(tmp_path / "a.safetensors", 1))
    v2 = publish(
        registry, deployment.alice, weights(tmp_path / "b.safetensors", 2), parent_version=v1
    )
    publish(registry, deployment.alice, weights(tmp_path / "c.safetensors", 3), parent_version=v2)
    assert [r.version for r in registry.lineage("digits@3")] == [3, 2, 1]
    assert parse_model_ref("digits") == parse_model_ref("digits@production")
    assert parse_model_ref("digits@7").version == 7
    with pytest.raises(ModelNotFoundError, match="points at no version"):
        registry.resolve("digits@production")
    with pytest.raises(ModelNotFoundError):
        registry.resolve("digits@9")
    with pytest.raises(ModelNotFoundError):
        registry.resolve("nothing@1")
    assert len(registry.find_versions(publisher=deployment.alice.address)) == 3
    assert registry.find_versions("digits", status="production") == []
    with pytest.raises(InvalidModelArtifactError):
        publish(registry, deployment.alice, tmp_path / "missing.safetensors")


def test_full_promote_promote_rollback_cycle(
    deployment: Deployment, registry: ModelRegistryClient, store: LocalContentStore, tmp_path: Path
) -> None:
    gov = Governance(deployment.chain, deployment.manifest, store)
    gov.delegate(deployment.deployer)
    v1 = publish(registry, deployment.alice, weights(tmp_path / "a.safetensors", 1))
    v2 = publish(
        registry, deployment.alice, weights(tmp_path / "b.safetensors", 2), parent_version=v1
    )
    r1, r2 = store.put(b'{"accuracy": 0.90}'), store.put(b'{"accuracy": 0.93}')
    voters, executor = [deployment.deployer], deployment.bob
    gov.pass_proposal(
        gov.propose_promotion(deployment.deployer, "digits", v1, evaluation_report=r1),
        voters,
        executor,
    )
    assert registry.view("digits")["channels"] == {"production": 1}
    gov.pass_proposal(
        gov.propose_promotion(deployment.deployer, "digits", v2, evaluation_report=r2),
        voters,
        executor,
    )
    assert [v["status"] for v in registry.view("digits")["versions"]] == [
        "deprecated",
        "production",
    ]
    rollback = gov.propose_rollback(deployment.deployer, "digits")
    assert gov.status(rollback).evaluation_reports == [r1]
    gov.pass_proposal(rollback, voters, executor)
    view = registry.view("digits")
    assert view["channels"] == {"production": 1}
    assert [v["status"] for v in view["versions"]] == ["production", "deprecated"]
    moves = [e for e in registry.history("digits") if e["event"] == "ChannelMoved"]
    assert [(m["version"], m["previousVersion"]) for m in moves] == [(1, 0), (2, 1), (1, 2)]
    assert all(m["proposalId"] for m in moves)
    registry.revoke(deployment.deployer, "digits", 1, "bad")
    with pytest.raises(ModelNotFoundError):
        registry.pull("digits@production", tmp_path / "out")
