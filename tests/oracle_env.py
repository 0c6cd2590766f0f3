"""A deployed InferenceOracle with a registered model, six staked providers and a VRF key.

Shared by the oracle contract tests and the evidence-trail tests (on anvil, see tests.chains).
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file

from ledgerlearn.governance import Governance
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain
from ledgerlearn.oracle import OracleClient, RequestSpec, SignedAnswer, sign_answer
from ledgerlearn.protocol import (
    BeaconParameters,
    OracleParameters,
    TokenParameters,
    deploy_protocol,
)
from ledgerlearn.randomness import BeaconClient, VrfKey
from ledgerlearn.registry import ModelRegistryClient
from ledgerlearn.storage import LocalContentStore
from ledgerlearn.training import TrainingClient
from tests.chains import fresh_chain

TOKEN = 10**18
INPUT = b'{"x": [[0.0, 1.0, 2.0, 3.0]]}'


@dataclass
class Env:
    chain: Chain
    oracle: OracleClient
    registry: ModelRegistryClient
    beacon: BeaconClient
    store: LocalContentStore
    deployer: Secp256k1Key
    owner: Secp256k1Key
    client: Secp256k1Key
    providers: list[Secp256k1Key]
    outsider: Secp256k1Key
    vrf_holder: Secp256k1Key
    vrf: VrfKey
    governance: Governance

    def spec(self, **changes: object) -> RequestSpec:
        fields: dict[str, object] = {
            "model": "digits",
            "input_sha256": hashlib.sha256(INPUT).digest(),
            "input_cid": str(self.store.put(INPUT)),
            "version": 1,
            "redundancy": 5,
            "quorum": 3,
            "deadline_blocks": 30,
            "fee": 10 * TOKEN,
        }
        fields.update(changes)
        return RequestSpec(**fields)  # type: ignore[arg-type]

    def drawn(self, spec: RequestSpec) -> tuple[int, list[Secp256k1Key]]:
        """Request, fulfil the beacon draw, select; return the id and the drawn keys."""
        request_id = self.oracle.request(self.client, spec)
        self.beacon.fulfil(self.vrf_holder, self.vrf, self.oracle.randomness_request_id(request_id))
        chosen = {a.lower() for a in self.oracle.select(self.client, request_id)}
        return request_id, [k for k in self.providers if k.address.lower() in chosen]

    def fork(self, root: Path) -> Env:
        """Return this environment with fresh clients and a copy of its store at ``root``.

        Tests share one built environment and revert the chain after each test
        (:func:`tests.snapshots.reverting`); clients keep caches keyed by request ids,
        which restart after a revert, and some tests corrupt stored content, so each test
        gets new clients over its own copy of the store.
        """
        shutil.copytree(self.store.root, root)
        store = LocalContentStore(root)
        manifest = self.oracle.deployment
        return replace(
            self,
            oracle=OracleClient(self.chain, manifest),
            registry=ModelRegistryClient(self.chain, manifest, store),
            beacon=BeaconClient(self.chain, manifest),
            store=store,
            governance=Governance(self.chain, manifest, store),
        )

    def answer(self, key: Secp256k1Key, request_id: int, value: int) -> SignedAnswer:
        request = self.oracle.get_request(request_id)
        output = hashlib.sha256(str(value).encode()).digest()
        return sign_answer(
            key,
            self.oracle.domain,
            request_id,
            request.model_hash,
            request.input_hash,
            output,
            value,
        )


def build_oracle_env(tmp_path: Path, chain: Chain | None = None) -> Env:
    """Deploy and populate the oracle on ``chain`` (a fresh anvil by default)."""
    chain = chain or fresh_chain()
    accounts = chain.accounts
    deployer, owner, client, vrf_holder, outsider = accounts[:5]
    extra = Secp256k1Key.from_secret(hashlib.sha256(b"sixth provider").digest())
    chain.sender(deployer).send({"to": extra.address, "value": 10**20})
    providers = [*accounts[5:10], extra]  # six serve; five are drawn per request
    assert len(providers) == 6
    manifest = deploy_protocol(
        chain,
        deployer,
        TokenParameters(),
        BeaconParameters(minimum_bond=10 * TOKEN, fulfilment_window=5, unbonding_blocks=10),
        oracle=OracleParameters(min_provider_stake=50 * TOKEN),
    )
    store = LocalContentStore(tmp_path / "store")
    registry = ModelRegistryClient(chain, manifest, store)
    registry.create_model(owner, "digits")
    for version in (1, 2):
        path = tmp_path / f"w{version}.safetensors"
        save_file({"w": np.full((2, 2), version, np.float32)}, str(path))
        registry.publish(
            owner,
            "digits",
            path,
            framework="numpy",
            architecture={"name": "mlp"},
            inputs=[],
            outputs=[],
            license="MIT",
        )
    training = TrainingClient(chain, manifest)
    token = training.token.functions
    send = chain.sender(deployer).transact
    for key in [*providers, client, vrf_holder, outsider]:
        send(token.transfer(key.address, 1_000 * TOKEN))
    oracle = OracleClient(chain, manifest)
    for i, key in enumerate(providers):
        training.staking.stake(key, (100 + 10 * i) * TOKEN)
        oracle.serve(key, "digits", 1)
    beacon = BeaconClient(chain, manifest)
    vrf = VrfKey.from_secret(hashlib.sha256(b"oracle test vrf").digest())
    chain.sender(vrf_holder).transact(token.approve(beacon.contract.address, 10 * TOKEN))
    beacon.register_key(vrf_holder, vrf, 10 * TOKEN)
    governance = Governance(chain, manifest, store)
    governance.delegate(deployer)
    return Env(
        chain,
        oracle,
        registry,
        beacon,
        store,
        deployer,
        owner,
        client,
        list(providers),
        outsider,
        vrf_holder,
        vrf,
        governance,
    )


def pass_proposal(gov: Governance, proposer: Secp256k1Key, proposal_id: int) -> None:
    gov.advance_to_voting(proposal_id)
    gov.vote(proposer, proposal_id, "for")
    gov.advance_past_deadline(proposal_id)
    gov.queue(proposer, proposal_id)
    gov.advance_past_eta(proposal_id)
    gov.execute(proposer, proposal_id)
