"""``[node]`` settings build the role they name; a missing section is a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlearn.config import load_settings
from ledgerlearn.exceptions import ConfigError, KeystoreError, NodeStateError
from ledgerlearn.ledger import Chain, DevnetBackend, RpcBackend, dev_keys
from ledgerlearn.node import (
    AggregatorNode,
    AuditorNode,
    ProviderNode,
    VerifierNode,
    WatcherNode,
    build_node,
    node_key,
)
from tests.conftest import Deployment


def _settings(tmp_path: Path, role: str, section: str = "") -> object:
    path = tmp_path / f"{role}.toml"
    path.write_text(
        f'[node]\nrole = "{role}"\nstate_dir = "{tmp_path / role}"\n'
        f'[storage]\nroot = "{tmp_path / "store"}"\n{section}'
    )
    return load_settings(path)


@pytest.mark.parametrize(
    ("role", "section", "kind"),
    [
        ("aggregator", "", AggregatorNode),
        ("provider", '[node.provider]\nmodels = ["m@1"]\n', ProviderNode),
        ("auditor", '[node.auditor]\nmodels = ["m@1"]\nvrf = false\n', AuditorNode),
        ("watcher", '[node.watcher]\nmodels = ["m@production"]\n', WatcherNode),
        ("verifier", '[node.verifier]\ndataset = "digits"\nmax_train = 50\n', VerifierNode),
    ],
)
def test_each_role_is_built_from_its_section(
    deployment: Deployment, tmp_path: Path, role: str, section: str, kind: type
) -> None:
    settings = _settings(tmp_path, role, section)
    node = build_node(settings, deployment.chain, deployment.manifest, deployment.alice)  # type: ignore[arg-type]
    assert isinstance(node, kind) and node.role == role


@pytest.mark.parametrize("role", ["provider", "auditor", "watcher"])
def test_a_service_role_without_models_says_which_setting_to_add(
    deployment: Deployment, tmp_path: Path, role: str
) -> None:
    settings = _settings(tmp_path, role)
    with pytest.raises(ConfigError, match=rf"\[node\.{role}\] models"):
        build_node(settings, deployment.chain, deployment.manifest, deployment.alice)  # type: ignore[arg-type]


def test_a_state_directory_of_another_role_is_refused(
    deployment: Deployment, tmp_path: Path
) -> None:
    state = tmp_path / "aggregator"  # where _settings puts it; a provider wrote it
    state.mkdir()
    (state / "state.json").write_text('{"done": [], "log": [], "following": [1]}')
    settings = _settings(tmp_path, "aggregator")
    with pytest.raises(NodeStateError, match="another role's state directory"):
        build_node(settings, deployment.chain, deployment.manifest, deployment.alice)  # type: ignore[arg-type]


def test_development_keys_are_handed_out_on_development_chains_only(tmp_path: Path) -> None:
    settings = load_settings(chain={"use_dev_accounts": True})
    with Chain(DevnetBackend(chain_id=31337)) as dev:
        assert node_key(settings, [], 12, dev) == dev_keys(13)[12]
    with Chain(DevnetBackend(chain_id=424242)) as other:
        url = other.rpc_url
        assert url is not None
        with (
            Chain(RpcBackend(url, use_dev_accounts=True)) as real,
            pytest.raises(KeystoreError, match="not a development chain"),
        ):
            node_key(settings, [], 0, real)
