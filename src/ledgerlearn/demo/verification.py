"""Demo section: verification of work — an audit, a zk-proven answer, an optimistic dispute.

A digits MLP (64-32-10, trained here) is registered; five staked providers serve it. Three
of them lie and fulfil a request as a quorum; governance set the model's audit rate, the
beacon samples the request and draws three staked auditors, who re-run the artifact and
overturn the result: the liars are slashed and the requester refunded. Then the version's
EZKL circuit is built, bound in the registry, and a request in proven mode is settled by a
proof the deployed verifier accepts on chain. Finally a provider claims a request in
optimistic mode with a trace that lies at one layer; an honest watcher challenges, the
bisection finds the layer, the chain re-executes one neuron of it and the liar's bond goes
to the watcher, whose answer settles the request.

Trust assumption: as each layer's; nothing is mocked (the EZKL SRS is generated locally,
development only, as :mod:`ledgerlearn.verification.zk` says).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import replace

import numpy as np
from web3.types import Wei

from ledgerlearn.demo._context import DemoContext
from ledgerlearn.devnet import LyingProvider
from ledgerlearn.governance import Governance
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.learning.datasets import load_digits
from ledgerlearn.learning.models import MLP, TrainConfig
from ledgerlearn.ledger import Chain, DeploymentManifest
from ledgerlearn.ledger.enums import OptimisticInferencePhase
from ledgerlearn.oracle import (
    LoadedModel,
    Mode,
    OracleClient,
    Provider,
    RequestSpec,
    build_report,
    load_model,
    load_network,
)
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient
from ledgerlearn.verification import (
    AuditClient,
    Auditor,
    DisputeAgent,
    FixedPointNetwork,
    OptimisticClient,
    input_commitment,
    proven,
    zk,
)

__all__ = ["section"]

TOKEN = 10**18
MODEL = "verified-digits"


class _Beacon:
    """Fulfils beacon requests with whichever registered VRF key the beacon assigns."""

    def __init__(self, chain: Chain, manifest: DeploymentManifest, holders: list[Secp256k1Key]):
        self.beacon = BeaconClient(chain, manifest)
        self.keys: dict[int, tuple[Secp256k1Key, VrfKey]] = {}
        for holder in holders:
            index = self.beacon.key_index_of(holder.address)
            if index is not None:
                self.keys[index] = (holder, VrfKey.derive(holder.unsafe_secret()))

    def fulfil(self, request_id: bytes) -> None:
        self.beacon.wait_for_seed(request_id)
        assigned = self.beacon.assigned_key(request_id)
        if assigned not in self.keys:
            # A stopped node's key (from an earlier section) was assigned: after the
            # fulfilment window any active key may fulfil, and the miss is recorded.
            deadline = int(self.beacon.request_state(request_id)["deadline"])
            self.beacon.chain.wait_for_block(deadline + 1)
            assigned = min(self.keys)
        holder, vrf_key = self.keys[assigned]
        self.beacon.fulfil(holder, vrf_key, request_id)


def section(
    ctx: DemoContext,
    *,
    vrf_holders: list[Secp256k1Key],
) -> None:
    """Run the verification part of the demo (after the randomness section's VRF keys).

    Parameters
    ----------
    ctx
        The demo's chain, deployment, directory, printer and report.
    vrf_holders
        Accounts holding VRF keys registered with the beacon (derived from their secrets).
    """
    chain, manifest, workdir, say, report = ctx.parts()
    started = time.perf_counter()
    store = LocalContentStore(workdir / "store")
    deployer, owner, client = chain.accounts[0], chain.accounts[6], chain.accounts[7]
    beacon = _Beacon(chain, manifest, vrf_holders)
    oracle = OracleClient(chain, manifest)
    registry = ModelRegistryClient(chain, manifest, store)
    training = TrainingClient(chain, manifest)
    token = training.token.functions
    send = chain.sender(deployer)

    data = load_digits()
    model = MLP(64, 10, (32,), seed=0)
    model.fit(data.x_train, data.y_train, TrainConfig(epochs=5, batch_size=32))
    weights = workdir / "verified-digits.safetensors"
    weights.write_bytes(model.to_bytes())
    registry.create_model(owner, MODEL)
    record = registry.publish(
        owner,
        MODEL,
        weights,
        framework="numpy",
        architecture={"kind": "mlp", "inputs": 64, "hidden": [32], "classes": 10},
        inputs=[{"name": "x", "dtype": "float32", "shape": [None, 64]}],
        outputs=[{"name": "probabilities", "dtype": "float32", "shape": [None, 10]}],
        license="MIT",
    )
    version = record.version
    providers = [
        Secp256k1Key.from_secret(hashlib.sha256(f"verification provider {i}".encode()).digest())
        for i in range(5)
    ]
    auditors = [
        Secp256k1Key.from_secret(hashlib.sha256(f"verification auditor {i}".encode()).digest())
        for i in range(3)
    ]
    audits = AuditClient(chain, manifest, oracle)
    for key in [*providers, *auditors]:
        send.send({"to": key.address, "value": Wei(10 * 10**18)})
        send.transact(token.transfer(key.address, 500 * TOKEN))
        training.staking.stake(key, 200 * TOKEN)
    for key in providers:
        oracle.serve(key, MODEL, version)
    for key in auditors:
        audits.join(key)
    send.transact(token.transfer(client.address, 100 * TOKEN))
    send.transact(token.transfer(owner.address, 100 * TOKEN))
    gov = Governance(chain, manifest, store)
    proposal = gov.propose_audit_rate(deployer, MODEL, 10_000)
    gov.pass_proposal(proposal, [deployer], deployer)
    say(
        f"{MODEL}@{version} (64-32-10, trained on digits) served by 5 staked providers; "
        f"3 staked auditors; audit rate 100 % set by governance"
    )

    row = [float(v) for v in np.asarray(data.x_test[0], dtype=np.float32)]
    payload = json.dumps({"x": [row]}).encode()
    base = RequestSpec(
        model=MODEL,
        input_sha256=hashlib.sha256(payload).digest(),
        input_cid=str(store.put(payload)),
        version=version,
        deadline_blocks=200,
        fee=TOKEN,
    )

    def drawn(spec: RequestSpec) -> tuple[int, list[Secp256k1Key]]:
        request_id = oracle.request(client, spec)
        beacon.fulfil(oracle.randomness_request_id(request_id))
        chosen = set(oracle.select(client, request_id))
        return request_id, [k for k in providers if k.address in chosen]

    # --- 1. an audit catches a lying quorum --------------------------------------------
    loaded: LoadedModel = load_model(registry, MODEL, version)
    request_id, chosen = drawn(base)
    answers = [
        (LyingProvider if i < 3 else Provider)(k, oracle, store, [loaded]).answer(request_id).answer
        for i, k in enumerate(chosen)
    ]
    request = oracle.get_request(request_id)
    oracle.fulfil(client, build_report(request, oracle.selected(request_id), answers))
    lie = oracle.get_request(request_id).result
    stakes = {k.address: training.staking.stake_of(k.address) for k in chosen}
    audits.open(client, request_id)
    beacon.fulfil(audits.randomness_request_id(request_id))
    panel = audits.draw(client, request_id)
    for key in auditors:
        if key.address in panel:
            Auditor(key, audits, store, [loaded]).audit(request_id)
    outcome = audits.finalize(client, request_id)
    lost = {a: stakes[a] - training.staking.stake_of(a) for a in stakes}
    say(
        f"audit: request {request_id} fulfilled by a lying quorum with label {lie}; 3 auditors "
        f"(none of its providers) re-ran the artifact → {outcome.status}, corrected label "
        f"{outcome.corrected}; slashed "
        + ", ".join(f"{a[:8]}… {v / TOKEN:.0f} LLT" for a, v in lost.items() if v)
        + f"; the honest providers lost {sum(lost[k.address] for k in chosen[3:]) / TOKEN:.0f} LLT"
    )
    report.add(
        "audit",
        requestId=request_id,
        lie=lie,
        status=outcome.status,
        corrected=outcome.corrected,
        slashed=outcome.slashed,
    )

    # --- 2. a zk-proven answer ---------------------------------------------------------
    network, _ = load_network(registry, MODEL, version)
    built_at = time.perf_counter()
    # The weights are constants of the circuit, committed by its verifying key: 2^15 rows
    # instead of the 2^17 a public Poseidon commitment needs (`zk setup --weights hashed`).
    built = zk.setup_circuit(
        network,
        np.asarray(data.x_test[:20], dtype=np.float32),
        workdir / "circuit",
        weights="fixed",
    )
    binding = proven.publish_circuit(chain, registry, owner, MODEL, version, built)
    circuit = proven.fetch_circuit(chain, registry, MODEL, version, workdir / "circuit-fetched")
    say(
        f"zk: EZKL circuit (2^{circuit.logrows} rows, weights fixed in the verifying key, "
        f"local SRS: development only) built in {time.perf_counter() - built_at:.0f} s; "
        f"verifier {binding.verifier[:10]}… compiled with solc-js, deployed and bound to "
        f"{MODEL}@{version} with the key's commitment {hex(binding.weight_commitment)[:14]}…"
    )
    spec = replace(
        base,
        mode=Mode.PROVEN,
        redundancy=2,
        quorum=1,
        zk_input_hash=proven.request_input_hash(circuit, payload),
    )
    request_id, chosen = drawn(spec)
    proof = proven.prove_request(oracle, store, circuit, chosen[0], request_id)
    checked = proven.verify_proven_answer(oracle, store, circuit, request_id)
    say(
        f"zk: request {request_id} settled by {chosen[0].address[:10]}…'s proof "
        f"({len(proof.proof):,} bytes) accepted by the verifier on chain: label "
        f"{oracle.get_request(request_id).result} (true {int(data.y_test[0])}); proof "
        f"re-checked from the transaction's calldata: label {checked.label}"
    )
    report.add("zk proof", requestId=request_id, label=checked.label, bytes=len(proof.proof))

    # --- 3. an optimistic dispute won by the honest party ------------------------------
    fixed = FixedPointNetwork.from_mlp(network)
    optimistic = OptimisticClient(chain, manifest, oracle)
    optimistic.bind_trace(owner, MODEL, version, fixed)
    spec = replace(
        base,
        mode=Mode.OPTIMISTIC,
        redundancy=2,
        quorum=1,
        zk_input_hash=input_commitment(fixed, payload),
    )
    request_id, chosen = drawn(spec)
    honest = fixed.trace(fixed.quantise(row))
    lie_trace = honest.tampered(2, neuron=honest.label, delta=-(60 << 16))
    liar, watcher = chosen[0], client
    optimistic.propose(liar, request_id, lie_trace)
    agents = [
        DisputeAgent(liar, optimistic, fixed, lie_trace),
        DisputeAgent(watcher, optimistic, fixed, honest),
    ]
    agents[1].watch(request_id)
    while optimistic.get_claim(request_id).phase in (
        OptimisticInferencePhase.BISECTING,
        OptimisticInferencePhase.STEPPING,
    ):
        for agent in agents:
            agent.act(request_id)
    (resolved,) = optimistic.contract.events.DisputeResolved().get_logs(
        from_block=optimistic.deploy_block, argument_filters={"requestId": request_id}
    )
    chain.mine(optimistic.parameters().challenge_blocks + 1)
    optimistic.finalize(client, request_id)
    settled = oracle.get_request(request_id)
    say(
        f"optimistic: {liar.address[:10]}… claimed request {request_id} with label "
        f"{lie_trace.label} (a trace lying at its last layer); the watcher challenged, "
        f"{resolved['args']['rounds']} bisection round(s) found the layer, the chain "
        f"re-executed one neuron → winner {str(resolved['args']['winner'])[:10]}… "
        f"({resolved['args']['how']}), the liar's bond went to it; settled label "
        f"{settled.result} ({settled.status})"
    )
    report.add(
        "optimistic dispute",
        requestId=request_id,
        lie=lie_trace.label,
        winner=str(resolved["args"]["winner"]),
        rounds=int(resolved["args"]["rounds"]),
        result=settled.result,
        seconds=round(time.perf_counter() - started, 1),
    )
    say(f"verification section took {time.perf_counter() - started:.0f} s")
