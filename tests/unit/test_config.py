from __future__ import annotations

from pathlib import Path

import pytest

from ledgerlearn.config import load_settings
from ledgerlearn.exceptions import ConfigError


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGERLEARN_CONFIG", raising=False)
    monkeypatch.delenv("LEDGERLEARN_CHAIN__BACKEND", raising=False)


def test_defaults_are_embedded_and_local() -> None:
    settings = load_settings()
    assert settings.chain.backend == "embedded"
    assert settings.storage.root == Path(".ledgerlearn/store")


def test_toml_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ledgerlearn.toml").write_text(
        '[chain]\nbackend = "devnet"\nconfirmations = 3\n[storage]\nroot = "/data"\n'
    )
    settings = load_settings()
    assert (settings.chain.backend, settings.chain.confirmations, settings.storage.root) == (
        "devnet",
        3,
        Path("/data"),
    )
    monkeypatch.setenv("LEDGERLEARN_CHAIN__CONFIRMATIONS", "5")
    assert load_settings().chain.confirmations == 5
    assert load_settings(chain={"confirmations": 7}).chain.confirmations == 7


def test_explicit_and_env_config_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "other.toml"
    other.write_text('[deployment]\nmanifest = "m.json"\n')
    assert load_settings(other).deployment.manifest == Path("m.json")
    monkeypatch.setenv("LEDGERLEARN_CONFIG", str(other))
    assert load_settings().deployment.manifest == Path("m.json")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ('[chain]\nbackend = "rpc"\n', "rpc_url"),
        ("[chain]\nconfirmations = -1\n", "chain.confirmations"),
        ('[chain]\nprivate_key = "0xabc"\n', "private_key"),
        ("[chain\n", "cannot read"),
    ],
)
def test_invalid_settings_name_the_setting(tmp_path: Path, toml: str, fragment: str) -> None:
    (tmp_path / "ledgerlearn.toml").write_text(toml)
    with pytest.raises(ConfigError, match=fragment):
        load_settings()


def test_randomness_section(tmp_path: Path) -> None:
    (tmp_path / "ledgerlearn.toml").write_text(
        "[randomness]\nminimum_bond = 5\nfulfilment_window = 3\n"
    )
    settings = load_settings()
    assert (settings.randomness.minimum_bond, settings.randomness.fulfilment_window) == (5, 3)
