"""zk proofs of inference: a real EZKL circuit, proofs checked off chain and on chain."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("ezkl")

from ledgerlearn.exceptions import ArtifactError, InvalidProofError, VerificationError
from ledgerlearn.learning.datasets import load_dataset
from ledgerlearn.learning.models import LogisticRegression, TrainConfig
from ledgerlearn.ledger import Chain, compile_solidity
from ledgerlearn.verification import deploy_verifier, verify_on_chain, zk

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def digits():  # type: ignore[no-untyped-def]
    return load_dataset("digits")


@pytest.fixture(scope="module")
def model(digits) -> LogisticRegression:  # type: ignore[no-untyped-def]
    model = LogisticRegression(64, 10, seed=0)
    model.fit(digits.x_train, digits.y_train, TrainConfig(epochs=2, learning_rate=0.1))
    return model


@pytest.fixture(scope="module")
def circuit(
    model: LogisticRegression, digits, tmp_path_factory: pytest.TempPathFactory
) -> zk.Circuit:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("zk") / "circuit"
    return zk.setup_circuit(model, digits.x_train[:16], directory)


@pytest.fixture(scope="module")
def proof(circuit: zk.Circuit, digits) -> zk.Proof:  # type: ignore[no-untyped-def]
    return zk.prove(circuit, digits.x_test[0])


@pytest.fixture(scope="module")
def verifier(circuit: zk.Circuit) -> Iterator[tuple[Chain, str]]:
    with Chain() as chain:
        yield chain, deploy_verifier(chain, circuit, chain.accounts[0])


def test_circuit_record_and_files(circuit: zk.Circuit) -> None:
    again = zk.Circuit.load(circuit.directory)
    assert again.weight_commitment == circuit.weight_commitment and again.local_srs
    assert not (circuit.directory / "witness.json").exists()  # scratch files are gone
    circuit.path("vk.key").rename(circuit.directory / "vk.moved")
    try:
        with pytest.raises(VerificationError, match=r"lacks vk\.key"):
            zk.Circuit.load(circuit.directory)
    finally:
        (circuit.directory / "vk.moved").rename(circuit.path("vk.key"))


def test_proof_binds_weights_input_and_answer(  # type: ignore[no-untyped-def]
    circuit: zk.Circuit, proof: zk.Proof, model: LogisticRegression, digits
) -> None:
    x = digits.x_test[0]
    assert proof.weight_commitment == circuit.weight_commitment
    assert proof.input_hash == zk.input_hash(circuit, x)
    assert proof.label == int(np.argmax(model.predict_proba(x[None])[0]))
    zk.verify_proof(circuit, proof, x)
    assert zk.Proof.from_json(proof.to_json()) == proof


def test_proof_for_another_input_or_model_is_refused(
    circuit: zk.Circuit, proof: zk.Proof, digits
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidProofError, match="not this request's"):
        zk.verify_proof(circuit, proof, digits.x_test[1])
    other = zk.Proof(proof.proof, (proof.instances[0], 12345, *proof.instances[2:]), 0)
    with pytest.raises(InvalidProofError, match="not this model version's"):
        zk.verify_proof(circuit, other)


def test_tampered_proof_fails_off_chain(circuit: zk.Circuit, proof: zk.Proof) -> None:
    tampered = bytearray(proof.proof)
    tampered[200] ^= 0x01
    with pytest.raises(InvalidProofError):
        zk.verify_proof(circuit, zk.Proof(bytes(tampered), proof.instances, proof.output_scale))
    forged = (*proof.instances[:2], (proof.instances[2] + 1) % zk.BN254_ORDER, *proof.instances[3:])
    with pytest.raises(InvalidProofError):
        zk.verify_proof(circuit, zk.Proof(proof.proof, forged, proof.output_scale))


def test_verifier_contract_accepts_only_the_claimed_model_and_input(
    circuit: zk.Circuit,
    proof: zk.Proof,
    verifier: tuple[Chain, str],
    digits,  # type: ignore[no-untyped-def]
) -> None:
    chain, address = verifier
    claim = {
        "weight_commitment": circuit.weight_commitment,
        "input_digest": zk.input_hash(circuit, digits.x_test[0]),
    }
    assert verify_on_chain(chain, address, proof, **claim)
    other_input = {**claim, "input_digest": zk.input_hash(circuit, digits.x_test[1])}
    assert not verify_on_chain(chain, address, proof, **other_input)
    other_model = {**claim, "weight_commitment": circuit.weight_commitment ^ 1}
    assert not verify_on_chain(chain, address, proof, **other_model)
    tampered = bytearray(proof.proof)
    tampered[200] ^= 0x01
    bad = zk.Proof(bytes(tampered), proof.instances, proof.output_scale)
    assert not verify_on_chain(chain, address, bad, **claim)
    lie = (*proof.instances[:2], (proof.instances[2] + 1) % zk.BN254_ORDER, *proof.instances[3:])
    assert not verify_on_chain(chain, address, zk.Proof(proof.proof, lie, 0), **claim)


def test_malformed_proof_objects_and_sources_are_named() -> None:
    with pytest.raises(InvalidProofError, match="expected proof, instances"):
        zk.Proof.from_json({"proof": "0x00"})
    with pytest.raises(InvalidProofError, match="BN254"):
        zk.Proof.from_json({"proof": "0x00", "instances": ["0x1"], "outputScale": 0})
    with pytest.raises(ArtifactError, match="does not compile"):
        compile_solidity("contract Broken { function f( }", "Broken")
    with pytest.raises(ArtifactError, match="defines no contract 'Other'"):
        compile_solidity("pragma solidity ^0.8.0; contract Fine {}", "Other")


def test_bad_calibration_is_refused(tmp_path: Path) -> None:
    model = LogisticRegression(64, 10, seed=0)
    with pytest.raises(VerificationError, match=r"calibration inputs must be \(n, 64\)"):
        zk.setup_circuit(model, np.zeros((3, 5), np.float32), tmp_path / "c")
    assert not any(tmp_path.iterdir())  # nothing half-built left behind
    with pytest.raises(VerificationError, match="weights must be one of hashed, fixed"):
        zk.setup_circuit(model, np.zeros((3, 64), np.float32), tmp_path / "c", weights="public")


def test_calibration_chatter_is_held_back_unless_the_step_fails(
    capfd: pytest.CaptureFixture[str],
) -> None:
    import logging
    import os

    with zk._quiet("step"):
        os.write(1, b"Numerical Fidelity Report\n")
        os.write(2, b"scale 13 dropped\n")
        logging.getLogger("ezkl").error("forward pass failed")
    out, err = capfd.readouterr()
    assert "Fidelity" not in out + err and "dropped" not in out + err
    assert logging.getLogger("ezkl").level == logging.NOTSET
    failed = r"(?s)EZKL step failed.*why it failed"
    with pytest.raises(VerificationError, match=failed), zk._quiet("step"):
        os.write(2, b"why it failed\n")
        raise VerificationError("EZKL step failed")
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"


_ISOLATION_SCRIPT = """
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
from ledgerlearn.learning.models import MLP
from ledgerlearn.verification import zk

srs = sys.argv[2] if len(sys.argv) > 2 else None  # the first run's, to skip a second gen_srs
zk.setup_circuit(
    MLP(4, 3, (8,), seed=3), np.ones((2, 4)), Path(sys.argv[1]), weights="fixed", srs=srs
)
repo = os.environ["EZKL_REPO_PATH"]
child = subprocess.run(
    [sys.executable, "-c", "from ledgerlearn.verification import zk; import os; zk._ezkl(); "
     "print(os.environ['EZKL_REPO_PATH'])"],
    check=True, capture_output=True, text=True,
).stdout.strip()
print(json.dumps({"repo": repo, "tables": sorted(os.listdir(Path(repo) / "cache")),
                  "child": child}))
"""


def test_each_process_keeps_ezkl_lookup_tables_in_its_own_directory(tmp_path: Path) -> None:
    # EZKL's shared table cache (~/.ezkl/cache) is not safe for concurrent processes: one
    # reads a table another is still writing. ledgerlearn gives every process its own.
    env = {k: v for k, v in os.environ.items() if k != "EZKL_REPO_PATH"}
    env["HOME"] = str(tmp_path / "home")
    # What the shared cache looks like while another process writes a table (the directory
    # is there, the table not yet): EZKL's setup fails on it with a synthesis error.
    shared = tmp_path / "home" / ".ezkl" / "cache"
    for table in ("rangecheck_0_16383", "rangecheck_-1_1"):
        (shared / table).mkdir(parents=True)
    out = subprocess.run(
        [sys.executable, "-c", _ISOLATION_SCRIPT, str(tmp_path / "circuit")],
        env=env, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(seen["repo"]).name.startswith("ledgerlearn-ezkl-")
    assert any(name.startswith("rangecheck_") for name in seen["tables"])
    assert seen["child"] != seen["repo"]  # a child process does not share its parent's
    assert all(not any(table.iterdir()) for table in shared.iterdir())  # not read, not written
    assert not Path(seen["repo"]).exists()  # removed when the process exits
    # A directory the user chose is respected.
    env["EZKL_REPO_PATH"] = str(tmp_path / "chosen")
    out = subprocess.run(
        [sys.executable, "-c", _ISOLATION_SCRIPT, str(tmp_path / "circuit2"),
         str(tmp_path / "circuit" / "kzg.srs")],
        env=env, check=True, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert json.loads(out.stdout.strip().splitlines()[-1])["repo"] == str(tmp_path / "chosen")
    assert any(p.name.startswith("rangecheck_") for p in (tmp_path / "chosen" / "cache").iterdir())


class FakeEzkl:
    """Stands in for the ezkl module's gen_srs only: counts calls, writes slowly."""

    def __init__(self) -> None:
        self.calls = 0

    def gen_srs(self, path: str, logrows: int) -> None:
        self.calls += 1
        Path(path).write_bytes(b"s" * 1000)
        time.sleep(0.2)  # a concurrent caller must wait for the lock, not read half a file


def test_a_local_srs_is_made_once_per_size_and_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERLEARN_SRS_CACHE", str(tmp_path / "cache"))
    fake = FakeEzkl()
    step = functools.partial(zk._step, lambda line: None)
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: zk._local_srs(fake, 15, step), range(4)))
    assert fake.calls == 1 and len(set(paths)) == 1
    assert paths[0].read_bytes() == b"s" * 1000
    assert zk._local_srs(fake, 16, step).name == "kzg16.srs" and fake.calls == 2
    assert sorted(p.name for p in (tmp_path / "cache").glob("*.srs")) == [
        "kzg15.srs",
        "kzg16.srs",
    ]
