"""The ledgerlearn command, run in process; exit codes and --json on every command."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ledgerlearn.cli._app import main
from ledgerlearn.exit_codes import REMEDIES, ExitCode
from ledgerlearn.storage import compute_cid
from tests.cli_args import argv


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(argv(args))
    out = capsys.readouterr()
    try:
        data = json.loads(out.out) if "--json" in args else out.out
    except json.JSONDecodeError:
        data = out.out
    return code, data, out.err


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("LEDGERLEARN_") and name != "LEDGERLEARN_SRS_CACHE":  # a cache
            monkeypatch.delenv(name)


def test_every_exit_code_has_a_remedy() -> None:
    assert set(REMEDIES) == set(ExitCode)


def test_version_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "version", "--json")
    assert code == 0 and data["version"]


def test_store_put_get_cid_round_trip(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "weights.bin"
    source.write_bytes(os.urandom(300_000))
    code, data, _ = run(capsys, "store", "put", str(source), "--json")
    assert code == 0 and data["cid"] == compute_cid(source.read_bytes())
    code, cid_only, _ = run(capsys, "store", "cid", str(source), "--json")
    assert cid_only["cid"] == data["cid"]
    code, _got, _ = run(
        capsys, "store", "get", data["cid"], "-o", str(tmp_path / "copy.bin"), "--json"
    )
    assert code == 0 and (tmp_path / "copy.bin").read_bytes() == source.read_bytes()
    assert (tmp_path / ".ledgerlearn" / "store" / "blobs").is_dir()


def test_store_errors_have_codes_and_remedies(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys,
        "store",
        "get",
        "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
        "-o",
        "x",
        "--json",
    )
    assert code == ExitCode.INVALID_CID and "CIDv0" in data["error"] and data["remedy"]
    code, _, err = run(capsys, "store", "get", compute_cid(b"absent"), "-o", "x")
    assert code == ExitCode.CONTENT_NOT_FOUND and "remedy" in err
    assert not Path("x").exists()


def test_did_new_and_resolve(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERLEARN_KEYSTORE_PASSWORD", "pw")
    code, data, _ = run(
        capsys,
        "did",
        "new",
        "--type",
        "secp256k1",
        "--keystore",
        str(tmp_path / "k.json"),
        "--json",
    )
    assert code == 0 and data["did"].startswith("did:key:zQ3s") and data["address"].startswith("0x")
    assert "pw" not in (tmp_path / "k.json").read_text()
    code, document, _ = run(capsys, "did", "resolve", data["did"], "--json")
    assert code == 0 and document["id"] == data["did"]
    code, data, _ = run(capsys, "did", "resolve", "did:web:example.com", "--json")
    assert code == ExitCode.IDENTITY and "did:key" in data["error"]


def test_deploy_on_embedded_writes_manifest_and_refuses_overwrite(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, data, _ = run(capsys, "deploy", "--json")
    assert code == 0 and Path(data["manifest"]).is_file()
    assert "LedgerToken" in data["contracts"]
    code, data, _ = run(capsys, "deploy", "--json")
    assert code == ExitCode.MANIFEST and "--force" in data["error"]


def test_unreachable_rpc_exits_with_chain_unavailable(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(
        capsys, "chain", "info", "--backend", "rpc", "--rpc-url", "http://127.0.0.1:9", "--json"
    )
    assert code == ExitCode.CHAIN_UNAVAILABLE and "chain up" in data["remedy"]


def test_invalid_config_exits_with_config_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "ledgerlearn.toml").write_text('[chain]\nbackend = "moon"\n')
    code, data, _ = run(capsys, "chain", "info", "--json")
    assert code == ExitCode.CONFIG and "chain.backend" in data["error"]


def test_wrong_keystore_password_exits_with_its_code(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerlearn.keys import Secp256k1Key, save_keystore

    save_keystore(Secp256k1Key.generate(), tmp_path / "k.json", "right", scrypt_n=2**10)
    (tmp_path / "pw").write_text("wrong\n")
    code, _data, _ = run(
        capsys,
        "deploy",
        "--keystore",
        str(tmp_path / "k.json"),
        "--password-file",
        str(tmp_path / "pw"),
        "--json",
    )
    assert code == ExitCode.KEYSTORE_PASSWORD
    assert not Path(".ledgerlearn/deployment.json").exists()


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, data, _ = run(capsys, "did", "new", "--type", "rsa", "--json")
    assert code == ExitCode.USAGE and data["exitCode"] == 2


def test_manifest_verify_refuses_another_chain(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "deploy", "--json")[0] == 0
    manifest = Path(".ledgerlearn/deployment.json")
    data = json.loads(manifest.read_text())
    data["chainId"] = 1
    manifest.write_text(json.dumps(data))
    code, out, _ = run(capsys, "manifest", "verify", "--json")
    assert code == ExitCode.CHAIN_MISMATCH and "chain 1" in out["error"]


def test_human_output_prints_dids_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "did", "new")
    assert code == 0 and out.startswith("did:key:z6Mk")


def test_missing_anvil_exits_12_naming_make_setup(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERLEARN_CHAIN__ANVIL_PATH", "/nonexistent/anvil")
    code, data, _ = run(capsys, "chain", "info", "--backend", "devnet", "--json")
    assert code == ExitCode.ANVIL_MISSING and "make setup" in data["error"]


def test_vrf_key_prove_verify(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerlearn.keys import Secp256k1Key, save_keystore

    monkeypatch.setenv("LEDGERLEARN_KEYSTORE_PASSWORD", "pw")
    save_keystore(Secp256k1Key.generate(), tmp_path / "k.json", "pw", scrypt_n=2**10)
    code, key, _ = run(capsys, "vrf", "key", "--keystore", str(tmp_path / "k.json"), "--json")
    assert code == 0 and key["suite"] == "ECVRF-SECP256K1-SHA256-TAI"
    code, proof, _ = run(
        capsys, "vrf", "prove", "0xabcd", "--keystore", str(tmp_path / "k.json"), "--json"
    )
    assert code == 0 and proof["publicKey"] == key["publicKey"]
    code, verdict, _ = run(capsys, "vrf", "verify", key["publicKey"], proof["pi"], "abcd", "--json")
    assert code == 0 and verdict["beta"] == proof["beta"]
    code, verdict, _ = run(capsys, "vrf", "verify", key["publicKey"], proof["pi"], "abce", "--json")
    assert code == ExitCode.IDENTITY and "does not verify" in verdict["error"]
    code, verdict, _ = run(capsys, "vrf", "verify", key["publicKey"], "zz", "abcd", "--json")
    assert code == ExitCode.USAGE


def test_simulate_runs_resumes_and_reports(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    args = [
        "simulate",
        "--dataset",
        "digits",
        "--partition",
        "iid",
        "--clients",
        "6",
        "--rounds",
        "2",
        "--rule",
        "median",
        "--attack",
        "sign_flip:0.2",
        "--workdir",
        str(tmp_path / "run"),
        "--json",
    ]
    code, data, _ = run(capsys, *args)
    assert code == 0 and len(data["rounds"]) == 2 and 0 <= data["finalAccuracy"] <= 1
    assert (tmp_path / "run" / "metrics.jsonl").read_text().count("\n") == 2
    code, again, _ = run(capsys, *args)  # everything done: resumes with nothing left to do
    assert code == 0 and again["finalAccuracy"] == data["finalAccuracy"]
    code, fedsgd, _ = run(
        capsys, *args[:-3], "--max-steps", "1", "--momentum", "0.5", "--json"
    )  # FedSGD: one step per round, no workdir
    assert code == 0 and fedsgd["config"]["local"]["max_steps"] == 1
    assert fedsgd["finalAccuracy"] != data["finalAccuracy"]
    code, bad, _ = run(capsys, *args[:-3], "--max-steps", "0", "--json")
    assert code == ExitCode.USAGE
    code, bad, _ = run(
        capsys, "simulate", "--dataset", "digits", "--rule", "krum", "--attack", "alie:x", "--json"
    )
    assert code == ExitCode.USAGE
    code, bad, _ = run(
        capsys, "simulate", "--dataset", "digits", "--partition", "zipf", "--rounds", "1", "--json"
    )
    assert code == ExitCode.LEARNING and "unknown partition" in bad["error"]


def test_privacy_plan_and_spend(capsys: pytest.CaptureFixture[str]) -> None:
    from ledgerlearn.learning.privacy import epsilon_for

    code, data, _ = run(capsys, "privacy", "plan", "--epsilon", "3", "--rounds", "12", "--json")
    assert code == 0
    z = data["noiseMultiplier"]
    assert data["schedule"][-1] == {"round": 12, "epsilon": epsilon_for(z, 12, 1e-5)}
    assert data["schedule"][-1]["epsilon"] <= 3.0
    code, spent, _ = run(
        capsys, "privacy", "spend", "--noise-multiplier", str(z), "--rounds", "12", "--json"
    )
    assert code == 0 and spent["schedule"] == data["schedule"]
    code, _, err = run(capsys, "privacy", "plan", "--epsilon", "1e-6", "--rounds", "2000")
    assert code == ExitCode.PRIVACY_BUDGET and "out of reach" in err
    code, _, err = run(capsys, "privacy", "plan", "--epsilon", "3", "--accountant", "moments")
    assert code == ExitCode.USAGE and "rdp or pld" in err
