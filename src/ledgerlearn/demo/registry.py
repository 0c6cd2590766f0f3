"""Demo section: identities, a trained model's two versions, governance promotions, rollback.

Trains an MLP federatedly on scikit-learn's digits (5 clients, robust default rule) for 3
rounds (v1) and the same seeded run for 8 rounds (v2, whose parent is v1: its first three
rounds reproduce v1 bit for bit), publishes both
from a did:ethr identity through a delegate key, promotes v1 and then v2 to ``production``
by token votes through the timelock, rolls back to v1 the same way, and finally pulls the
live version with every check. The registry's view is printed after each step.

Trust assumption: as each layer's; nothing here is mocked.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors.numpy import save_file

from ledgerlearn.demo._context import DemoContext
from ledgerlearn.governance import Governance
from ledgerlearn.identity import EthrDidRegistry, EthrDidResolver, ethr_did
from ledgerlearn.registry import ModelCard, ModelRegistryClient
from ledgerlearn.storage import LocalContentStore

__all__ = ["section"]

MODEL = "digits-mlp"


def _train(workdir: Path, rounds: int) -> tuple[Path, float, Any]:
    from ledgerlearn.learning.simulation import SimulationConfig, run_simulation

    shutil.rmtree(workdir, ignore_errors=True)  # a fresh chain: train afresh too
    config = SimulationConfig(
        dataset="digits", partition="dirichlet:1.0", clients=5, rounds=rounds, seed=7
    )
    result = run_simulation(config, workdir)
    weights = workdir / "model.safetensors"
    save_file(dict(result.weights), str(weights))
    return weights, result.final_accuracy, config


def _view_line(view: dict[str, Any]) -> str:
    channels = ", ".join(f"{c} → v{v}" for c, v in view["channels"].items()) or "no channels"
    versions = ", ".join(f"v{v['version']} {v['status']}" for v in view["versions"])
    return f"registry: {channels}; {versions}"


def section(
    ctx: DemoContext,
) -> None:
    """Run the identity, registry and governance part of the demo.

    Parameters
    ----------
    ctx
        The demo's chain, deployment, directory, printer and report.
    """
    chain, manifest, workdir, say, report = ctx.parts()
    deployer, org, signer = chain.accounts[0], chain.accounts[4], chain.accounts[5]
    store = LocalContentStore(workdir / "store")
    ids = EthrDidRegistry(chain, manifest)
    resolver = EthrDidResolver(chain, manifest)
    registry = ModelRegistryClient(chain, manifest, store)
    gov = Governance(chain, manifest, store)

    # Identities: the organisation's did:ethr gets a signing delegate (its release key).
    org_did = ethr_did(chain.chain_id, org.address)
    ids.add_delegate(org, org.address, signer.address, validity=30 * 86400)
    doc = resolver.resolve(org_did).document
    say(f"identity {org_did}: {len(doc['verificationMethod'])} keys (owner + release key)")
    report.add("did:ethr identity", did=org_did, verificationMethods=len(doc["verificationMethod"]))

    # Train two versions; v2 is v1's run carried on to 8 rounds.
    weights_v1, acc_v1, config = _train(workdir / "train-v1", 3)
    weights_v2, acc_v2, _ = _train(workdir / "train-v2", 8)
    say(
        f"trained on digits (5 clients, {config.rule}): v1 {acc_v1:.3f} after 3 rounds, "
        f"v2 {acc_v2:.3f} after 8"
    )

    registry.create_model(org, MODEL)
    spec: dict[str, Any] = {
        "framework": "numpy",
        "architecture": {"name": "mlp", "hidden": list(config.hidden), "classes": 10},
        "inputs": [{"name": "x", "dtype": "float32", "shape": [None, 64]}],
        "outputs": [{"name": "logits", "dtype": "float32", "shape": [None, 10]}],
        "preprocessing": {"dataset": "sklearn digits", "scale": "pixel / 16"},
        "license": "Apache-2.0",
    }
    records = []
    reports = []
    for number, (weights, accuracy, rounds) in enumerate(
        [(weights_v1, acc_v1, 3), (weights_v2, acc_v2, 8)], start=1
    ):
        card = ModelCard(
            summary="Digit classifier trained federatedly by ledgerlearn's demo.",
            training={"dataset": "digits", "clients": 5, "rounds": rounds, "rule": config.rule},
            evaluation={"accuracy": accuracy},
        )
        record = registry.publish(
            signer,
            MODEL,
            weights,
            publisher=org.address,
            parent_version=number - 1,
            card=card,
            **spec,
        )
        records.append(record)
        evaluation = {
            "model": f"{MODEL}@{record.version}",
            "dataset": "digits test split",
            "accuracy": accuracy,
        }
        reports.append(store.put(json.dumps(evaluation, sort_keys=True).encode()))
        say(
            f"published {MODEL}@{record.version} (sha256 {record.artifact_sha256[:12]}…, "
            f"signed by release key {record.signer[:10]}…, parent v{record.parent_version})"
        )
        report.add("publish", **record.to_json(chain.chain_id))
    say(_view_line(registry.view(MODEL)))

    gov.delegate(deployer)
    steps: list[tuple[str, Callable[[], int]]] = [
        (
            "promote v1",
            lambda: gov.propose_promotion(deployer, MODEL, 1, evaluation_report=reports[0]),
        ),
        (
            "promote v2",
            lambda: gov.propose_promotion(deployer, MODEL, 2, evaluation_report=reports[1]),
        ),
        ("roll back to v1", lambda: gov.propose_rollback(deployer, MODEL)),
    ]
    for title, propose in steps:
        proposal = propose()
        gov.pass_proposal(proposal, [deployer], deployer)
        status = gov.status(proposal)
        view = registry.view(MODEL)
        say(
            f"{title}: proposal {str(proposal)[:10]}… {status.state} "
            f"(for {status.votes['for'] // 10**18:,} LLT, report {status.evaluation_reports[0]})"
        )
        say(_view_line(view))
        report.add(title, proposal=str(proposal), state=status.state, view=view)

    pulled = registry.pull(f"{MODEL}@production", workdir / "pulled", force=True)
    say(
        f"pulled {MODEL}@production = v{pulled.report.record.version} into {pulled.directory} "
        f"after {len(pulled.report.checks)} checks"
    )
    lineage = registry.lineage(f"{MODEL}@2")
    say("lineage of v2: " + " ← ".join(f"v{r.version}" for r in lineage))
    report.add(
        "pull production",
        version=pulled.report.record.version,
        checks=pulled.report.checks,
        lineage=[r.version for r in lineage],
    )
