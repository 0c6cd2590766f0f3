"""Demo section: the training network — stakes, a task, 5 rounds, a registered and promoted model.

Ten trainers with non-IID MNIST shards (Dirichlet alpha = 0.5), two of them Byzantine (sign
flip x4 and Gaussian noise), and three aggregators stake, join a task and train a 100k
parameter MLP for five rounds with the coordinate-wise trimmed mean (f = 2). Committees are
drawn by the beacon, updates travel sealed to the aggregators' X25519 keys, every round is
finalised by a quorum of equal posts, rejected trainers lose their rewards and, after two
rejections, part of their stake. The final round registers a new model version whose parent
is the base; a governance vote promotes it to production. The summary prints accuracy per
round, who was rejected and why, rewards, slashes, gas and the verified evidence trail.

Trust assumption: as each layer's; nothing here is mocked.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

from ledgerlearn.demo._context import DemoContext
from ledgerlearn.devnet import (
    NetworkConfig,
    drive_clock,
    evaluate_weights,
    make_nodes,
    run_in_process,
    setup_network,
    spawn_nodes,
)
from ledgerlearn.governance import Governance
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient, training_trail

__all__ = ["section"]


PRIVATE_EPSILON = 8.0
PRIVATE_DELTA = 1e-5


def private_config(rounds: int) -> NetworkConfig:
    """Return the demo network with secure aggregation and distributed client-level DP.

    Trainers clip their updates, add their share of the Gaussian noise and mask them
    (SecAgg+); the committee unmasks only the noisy sum. The noise multiplier is planned so
    that ``rounds`` rounds spend epsilon 8 at delta 1e-5 (RDP accountant). Each trainer's
    share is sized for 8 survivors of the 10 (``minTrainers``), so two may drop out without
    the noise falling short. Nobody attacks (DP bounds each trainer's influence, it does not
    detect poisoning, and the committee sees no individual update to reject).
    """
    from ledgerlearn.learning.privacy import plan_noise

    z = plan_noise(PRIVATE_EPSILON, PRIVATE_DELTA, rounds)
    return NetworkConfig(
        rounds=rounds,
        rule="fedavg",
        byzantine=0,
        attacks=(),
        min_trainers=8,
        dp={
            "clip": 1.0,
            "noiseMultiplier": z,
            "epsilon": PRIVATE_EPSILON,
            "delta": PRIVATE_DELTA,
            "placement": "distributed",
        },
        secagg={"bits": 24},
    )


def section(
    ctx: DemoContext,
    config: NetworkConfig | None = None,
    *,
    processes: bool = False,
) -> None:
    """Run the training network part of the demo.

    Parameters
    ----------
    ctx
        The demo's chain, deployment, directory, printer and report.
    config
        The network's shape (the issue's demo by default).
    processes
        Run every node as its own ``ledgerlearn node run`` process (needs an RPC chain, e.g.
        the devnet) while this process keeps the block clock; otherwise step them in-process.
    """
    chain, manifest, workdir, say, report = ctx.parts()
    config = config or NetworkConfig()
    # A fresh chain each run: node state from an earlier run would describe another chain.
    shutil.rmtree(workdir / "nodes", ignore_errors=True)
    if processes:
        # Thirteen processes share two cores: give trainers a longer commit window.
        config = replace(config, commit_blocks=max(config.commit_blocks, 40))
    started = time.perf_counter()
    owner = chain.accounts[0]
    store = LocalContentStore(workdir / "store")
    setup = setup_network(chain, manifest, store, owner, config)
    client = TrainingClient(chain, manifest)
    if setup.spec.dp is not None:
        dp = setup.spec.dp
        say(
            f"private task: DP-FedAvg ({dp.placement} noise), clip {dp.clip:g}, noise "
            f"multiplier {dp.noise_multiplier:.3f} (std {dp.noise_std:.3f} on the sum), budget "
            f"epsilon {dp.epsilon:g} at delta {dp.delta:g} ({dp.accountant} accountant)"
        )
    if setup.spec.secagg is not None:
        secagg = setup.spec.secagg
        say(
            f"secure aggregation: SecAgg+ over the chain, {secagg.bits}-bit quantisation, "
            f"windows of {config.secagg_blocks} blocks; the committee sees only the sum of "
            f"at least {config.min_trainers} trainers' masked updates"
        )
    say(
        f"task {setup.task_id}: {config.model}@{setup.base_version} base, "
        f"{config.rounds} rounds of {config.rule} (f={config.byzantine}), "
        f"{config.trainers} trainers on {config.dataset} {config.partition} "
        + (
            f"({len(setup.attackers)} attacking: {', '.join(sorted(setup.attackers.values()))}), "
            if setup.attackers
            else "(none attacking), "
        )
        + f"{config.aggregators} aggregators, "
        f"committee {config.committee_size} quorum {config.quorum}"
    )
    accuracy: dict[int, float] = {}
    finals: Callable[[], dict[int, dict[str, Any]]]

    def progress() -> None:
        for number, final in sorted(finals().items()):
            if number not in accuracy:
                accuracy[number] = evaluate_weights(
                    setup.spec, store.get(final["aggregateCid"]), setup.dataset
                )
                spent = ""
                if setup.spec.dp is not None:
                    spent = f", epsilon spent {setup.spec.dp.accounting().spent(number):.3f}"
                if setup.spec.secagg is not None:
                    record = json.loads(store.get(final["recordCid"]))
                    secure = record.get("secureAggregation", {})
                    spent += (
                        f", unmasked sum of {len(secure.get('survivors', []))}/"
                        f"{secure.get('participants', 0)} masked updates"
                        + (f" (skipped: {record['skipped']})" if record.get("skipped") else "")
                    )
                say(f"  round {number} finalised: test accuracy {accuracy[number]:.3f}{spent}")

    gas = Counter[str]()
    calls = Counter[str]()
    if processes:
        manifest_path = manifest.save(workdir / "deployment.json")
        procs = spawn_nodes(
            chain, manifest_path, workdir / "store", setup, config, workdir / "nodes"
        )
        say(f"  started {len(procs.configs)} node processes (logs in {procs.logs})")
        finals = partial(client.finalised, setup.task_id)
        procs.start_all()
        try:
            drive_clock(chain, client, setup.task_id, tick=0.3, on_tick=progress)
            wait_until = time.monotonic() + 120  # trainers claim the last round, then exit
            while time.monotonic() < wait_until and procs.running():
                chain.mine(1)
                time.sleep(0.3)
        finally:
            procs.stop_all()
        progress()
        for log in client.events("UpdateCommitted", setup.task_id):
            calls["commitUpdate"] += 1
            gas["commitUpdate"] += int(
                chain.w3.eth.get_transaction_receipt(log["transactionHash"])["gasUsed"]
            )
    else:
        nodes = make_nodes(chain, manifest, store, setup, config, workdir / "nodes")
        finals = nodes[-1].finalised
        run_in_process(chain, nodes, on_step=progress)
        for node in nodes:
            gas.update(node.client.gas)
            calls.update(node.client.calls)
    task = client.task(setup.task_id)
    say(
        f"task {task.phase} after {time.perf_counter() - started:.0f} s; "
        f"registered {config.model}@{task.registered_version}"
    )

    trail = training_trail(client, store, setup.task_id)
    rejected: dict[str, list[str]] = {}
    for row in trail:
        for trainer, reason in row.rejected.items():
            rejected.setdefault(trainer, []).append(f"r{row.round}: {reason}")
    for trainer, reasons in sorted(rejected.items()):
        tag = setup.attackers.get(trainer, "honest")
        say(f"  rejected {trainer[:10]}… ({tag}): " + "; ".join(reasons))
    rewards = Counter[str]()
    for log in client.events("RewardClaimed", setup.task_id):
        rewards[log["args"]["trainer"]] += int(log["args"]["amount"])
    slashes = {
        log["args"]["trainer"]: int(log["args"]["amount"])
        for log in client.events("TrainerSlashed", setup.task_id)
    }
    say(
        "  rewards (LLT): "
        + ", ".join(f"{t[:8]}… {a / 10**18:.1f}" for t, a in sorted(rewards.items()))
    )
    say(
        "  slashed (LLT): "
        + (", ".join(f"{t[:8]}… {a / 10**18:.0f}" for t, a in slashes.items()) or "nobody")
    )
    say(
        "  gas by coordinator call (mean): "
        + ", ".join(f"{name} {gas[name] // calls[name]:,}" for name in sorted(gas))
    )

    registry = ModelRegistryClient(chain, manifest, store)
    ref = f"{config.model}@{task.registered_version}"
    verified = registry.verify(ref)
    final_accuracy = evaluate_weights(
        setup.spec, store.get(verified.record.artifact_cid), setup.dataset
    )
    say(f"evidence trail of {ref} (parent v{verified.record.parent_version}):")
    for check in verified.checks:
        say(f"  ✓ {check}")
    say(
        f"  ✓ training record {verified.manifest.card.training['trainingRecord']} → "
        f"{len(trail)} round records, each matching its on-chain root, aggregate and score"
    )
    for row in trail:
        say(
            f"    round {row.round}: commitment {row.commitment[:12]}…, committee "
            f"{', '.join(m[:8] for m in row.committee)}, {len(row.included)} included, "
            f"{len(row.rejected)} rejected"
            + (
                f", epsilon {row.privacy['epsilon']:.3f} (recorded, re-derived from the spec)"
                if row.privacy
                else ""
            )
        )

    gov = Governance(chain, manifest, store)
    gov.delegate(owner)  # votes count from the block after delegation
    evaluation = store.put(
        json.dumps(
            {"model": ref, "dataset": f"{config.dataset} test split", "accuracy": final_accuracy},
            sort_keys=True,
        ).encode()
    )
    proposal = gov.propose_promotion(
        owner, config.model, task.registered_version, evaluation_report=evaluation
    )
    gov.pass_proposal(proposal, [owner], owner)
    live = registry.resolve(f"{config.model}@production")
    say(
        f"governance: proposal {str(proposal)[:10]}… {gov.status(proposal).state}; "
        f"{config.model}@production = v{live.version} (accuracy {final_accuracy:.3f})"
    )
    report.add(
        "training network",
        task=setup.task_id,
        accuracy={str(k): v for k, v in sorted(accuracy.items())},
        rejected=rejected,
        rewards={k: v for k, v in rewards.items()},
        slashed=slashes,
        gas={name: gas[name] // calls[name] for name in sorted(gas)},
        version=task.registered_version,
        trail=[row.to_json() for row in trail],
        production=live.version,
        seconds=round(time.perf_counter() - started, 1),
    )
