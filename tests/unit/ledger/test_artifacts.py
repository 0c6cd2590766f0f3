from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledgerlearn.exceptions import ArtifactNotFoundError
from ledgerlearn.ledger import all_artifacts, find_stale_artifacts, get_artifact
from tests.conftest import ROOT

needs_checkout = pytest.mark.skipif(
    not (ROOT / "node_modules" / "@openzeppelin").is_dir(), reason="needs npm ci (make setup)"
)


@needs_checkout
def test_committed_artifacts_match_their_sources() -> None:
    assert find_stale_artifacts(ROOT) == []


@needs_checkout
def test_a_changed_source_is_reported_stale(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "contracts", copy / "contracts")
    (copy / "node_modules").symlink_to(ROOT / "node_modules")
    source = copy / "contracts" / "token" / "LedgerToken.sol"
    source.write_text(source.read_text() + "\n// edited\n")
    (copy / "contracts" / "Extra.sol").write_text(
        "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.28;\n"
    )
    problems = find_stale_artifacts(copy)
    assert any("LedgerToken.sol changed" in p for p in problems)
    assert any("Extra.sol has no compiled artifact" in p for p in problems)


def test_artifacts_record_compiler_settings_and_code() -> None:
    for artifact in all_artifacts():
        assert artifact.compiler_version.startswith("0.8.28")
        assert artifact.settings["optimizer"]["enabled"] is True
        assert artifact.settings["evmVersion"] == "cancun"
        assert artifact.bytecode and artifact.deployed_bytecode


def test_unknown_artifact_is_a_named_error() -> None:
    with pytest.raises(ArtifactNotFoundError, match="LedgerToken"):
        get_artifact("NoSuchContract")
