from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledgerlearn.exceptions import ArtifactNotFoundError, ContractRevertError
from ledgerlearn.ledger import enums, get_artifact
from ledgerlearn.ledger._artifacts import all_artifacts, find_stale_artifacts
from ledgerlearn.ledger._codegen import generated_modules
from ledgerlearn.ledger.errors import SOLIDITY_ERRORS
from ledgerlearn.oracle import Mode
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


def test_generated_bindings_match_the_artifacts() -> None:
    stale = [
        path.name
        for path, source in generated_modules().items()
        if not path.exists() or path.read_text() != source
    ]
    assert stale == [], "run `make contracts` to regenerate ledgerlearn.ledger.errors/enums"


def test_every_custom_error_has_a_class_and_every_enum_its_members() -> None:
    for artifact in all_artifacts():
        for item in artifact.abi:
            if item.get("type") == "error":
                assert issubclass(SOLIDITY_ERRORS[item["name"]], ContractRevertError)
        for name, members in artifact.enums.items():
            generated = getattr(enums, f"{artifact.name}{name}")
            assert [m.value for m in generated] == list(range(len(members)))
            assert [m.name.replace("_", "") for m in generated] == [m.upper() for m in members]


def test_the_oracle_mode_matches_its_solidity_enum() -> None:
    assert [(m.name, m.value) for m in Mode] == [
        (m.name, m.value) for m in enums.InferenceOracleMode
    ]
