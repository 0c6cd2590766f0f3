"""Evidence trail of an answer: rebuilt from chain and store, every check named."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlearn.cli._app import main
from ledgerlearn.exceptions import OracleError
from ledgerlearn.exit_codes import ExitCode
from ledgerlearn.ledger import Chain, DevnetBackend
from ledgerlearn.oracle import Mode, build_report
from ledgerlearn.provenance import inference_evidence, verify_inference
from tests.cli_args import argv
from tests.oracle_env import INPUT, Env, build_oracle_env, pass_proposal
from tests.snapshots import reverting


@pytest.fixture(scope="module")
def _built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    built = build_oracle_env(tmp_path_factory.mktemp("evidence"))
    yield built
    built.chain.close()


@pytest.fixture
def env(_built: Env, tmp_path: Path) -> Iterator[Env]:
    with reverting(_built.chain):
        yield _built.fork(tmp_path / "store")


def settled(env: Env, values: list[int]) -> int:
    """Promote v1 to production, ask the channel, answer with ``values``; return the id."""
    report = env.store.put(b'{"accuracy": 0.9}')
    proposal = env.governance.propose_promotion(env.deployer, "digits", 1, evaluation_report=report)
    pass_proposal(env.governance, env.deployer, proposal)
    request_id, drawn = env.drawn(env.spec(version=0, channel="production", mode=Mode.MAJORITY))
    answers = [env.answer(k, request_id, v) for k, v in zip(drawn, values, strict=False)]
    request = env.oracle.get_request(request_id)
    env.oracle.fulfil(env.outsider, build_report(request, env.oracle.selected(request_id), answers))
    return request_id


def test_the_trail_names_model_governance_providers_and_deviations(env: Env) -> None:
    request_id = settled(env, [7, 7, 2, 7])  # the fifth provider is offline
    evidence = inference_evidence(env.chain, env.oracle.deployment, env.store, request_id)
    assert (evidence.status, evidence.asked, evidence.version) == (
        "fulfilled",
        "digits@production",
        1,
    )
    assert evidence.publisher == env.owner.address
    assert evidence.channel_move is not None and evidence.channel_move["proposalId"]
    assert evidence.input_sha256 == "0x" + hashlib.sha256(INPUT).hexdigest()
    assert len(evidence.selected) == 5 and len(evidence.answers) == 4
    assert sorted(a["deviation"] for a in evidence.answers) == [0, 0, 0, 5]
    assert evidence.fulfilment is not None and evidence.fulfilment["result"] == 7
    assert evidence.fulfilment["reporter"] == env.outsider.address
    _, checks = verify_inference(env.chain, env.oracle.deployment, env.store, request_id)
    assert all(c.ok for c in checks), [c for c in checks if not c.ok]
    names = [c.name for c in checks]
    assert names[:4] == ["input", "model", "channel", "draw"]
    assert sum(n.startswith("answer ") for n in names) == 4
    assert names[-2:] == ["aggregate", "deadline"]


def test_verify_says_exactly_what_fails(env: Env) -> None:
    request_id = settled(env, [7, 7, 7])
    evidence = inference_evidence(env.chain, env.oracle.deployment, env.store, request_id)
    # The stored input is swapped for other bytes (a tampering store).
    cid = evidence.input_cid
    path = env.store.root / "blobs" / cid[-2:] / cid
    path.chmod(0o644)
    path.write_bytes(b'{"x": [[9, 9, 9, 9]]}')
    _, checks = verify_inference(env.chain, env.oracle.deployment, env.store, request_id)
    failed = {c.name: c.detail for c in checks if not c.ok}
    assert list(failed) == ["input"]
    assert evidence.input_cid in failed["input"]


def test_an_unknown_request_is_a_clear_error(env: Env) -> None:
    with pytest.raises(OracleError, match="request 99 does not exist"):
        inference_evidence(env.chain, env.oracle.deployment, env.store, 99)


@pytest.mark.slow
def test_evidence_commands_on_a_devnet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Chain(DevnetBackend()) as chain:
        env = build_oracle_env(tmp_path, chain)
        request_id = settled(env, [7, 7, 7, 1])
        manifest = env.oracle.deployment.save(tmp_path / "deployment.json")
        common = [
            *("--backend", "rpc", "--rpc-url", str(chain.rpc_url)),
            *("--manifest", str(manifest), "--root", str(env.store.root), "--json"),
        ]
        capsys.readouterr()
        assert main(argv(["evidence", "show", str(request_id), *common])) == ExitCode.OK
        shown = json.loads(capsys.readouterr().out)
        assert shown["fulfilment"]["result"] == 7 and shown["asked"] == "digits@production"
        assert main(argv(["evidence", "verify", str(request_id), *common])) == ExitCode.OK
        assert json.loads(capsys.readouterr().out)["ok"] is True
        cid = shown["input_cid"]
        blob = env.store.root / "blobs" / cid[-2:] / cid
        blob.chmod(0o644)
        blob.write_bytes(b"tampered")
        assert main(argv(["evidence", "verify", str(request_id), *common])) == ExitCode.EVIDENCE
        verdict = json.loads(capsys.readouterr().out)
        assert verdict["ok"] is False
        assert [c["name"] for c in verdict["checks"] if not c["ok"]] == ["input"]
