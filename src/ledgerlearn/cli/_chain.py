"""``ledgerlearn chain``, ``deploy`` and ``manifest``: run or reach a chain, deploy the protocol.

``chain up`` runs anvil in the foreground (``--deploy`` also deploys and writes the
manifest); ``chain info`` prints the configured chain's id and height; ``deploy`` deploys
every protocol contract and writes the manifest atomically; ``manifest verify`` checks a
manifest against the chain.
"""

from __future__ import annotations

import signal
import sys
import time
from typing import Annotated, Any

import typer

from ledgerlearn.cli._common import (
    JsonOption,
    dev_account,
    group,
    options,
    settings,
    signing_keys,
)
from ledgerlearn.cli._output import Output
from ledgerlearn.config import Settings
from ledgerlearn.exceptions import KeystoreError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import DeploymentManifest

__all__ = ["app", "deploy", "manifest_app"]

app = group("Run or inspect a chain.")
manifest_app = group("Deployment manifests.")


@app.command("up")
def chain_up(
    port: Annotated[int, typer.Option(help="Loopback port to listen on.")] = 8545,
    block_time: Annotated[
        float | None, typer.Option(help="Seconds per block (default: automine).")
    ] = None,
    deploy: Annotated[
        bool, typer.Option("--deploy", help="Deploy the protocol and write the manifest.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Run a devnet (anvil) in the foreground until interrupted."""
    from ledgerlearn.ledger import Chain, DevnetBackend

    out = Output(json_output)
    config = settings()
    backend = DevnetBackend(config.chain.anvil_path, port=port, block_time=block_time)
    with Chain(backend) as chain:
        info: dict[str, Any] = {
            "rpcUrl": chain.rpc_url,
            "chainId": chain.chain_id,
            "devAccounts": [key.address for key in chain.accounts],
        }
        if deploy:
            deployed = _deploy_protocol(chain, dev_account(chain) or chain.accounts[0], config)
            path = deployed.save(options.manifest or config.deployment.manifest)
            info["manifest"] = str(path)
            info["contracts"] = deployed.to_json()["contracts"]
        out.result(
            info,
            f"devnet listening on [bold]{chain.rpc_url}[/] (chain id {chain.chain_id})\n"
            f"dev accounts (public test keys): {', '.join(info['devAccounts'][:3])}, ...\n"
            + (f"manifest: {info['manifest']}\n" if deploy else "")
            + "press Ctrl-C to stop",
        )
        sys.stdout.flush()
        stop = {"now": False}
        signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
        try:
            while (
                not stop["now"] and backend.process is not None and backend.process.poll() is None
            ):
                time.sleep(0.2)
        except KeyboardInterrupt:
            pass
    out.info("devnet stopped")


@app.command("info")
def chain_info(
    json_output: JsonOption = False,
) -> None:
    """Connect to the configured chain and print its id and height."""
    from ledgerlearn.ledger import open_chain

    with open_chain(settings().chain) as chain:
        data = {
            "backend": chain.backend.name,
            "chainId": chain.chain_id,
            "blockNumber": chain.block_number,
            "rpcUrl": chain.rpc_url,
        }
    Output(json_output).result(
        data, f"{data['backend']}: chain id {data['chainId']}, block {data['blockNumber']}"
    )


def _deploy_protocol(chain: Any, deployer: Secp256k1Key, settings: Settings) -> DeploymentManifest:
    from ledgerlearn.protocol import (
        BeaconParameters,
        GovernanceParameters,
        TokenParameters,
        deploy_protocol,
    )

    token = TokenParameters(
        initial_supply=settings.token.initial_supply * 10**18,
        max_supply=settings.token.max_supply * 10**18,
    )
    beacon = BeaconParameters(
        minimum_bond=settings.randomness.minimum_bond * 10**18,
        fulfilment_window=settings.randomness.fulfilment_window,
        unbonding_blocks=settings.randomness.unbonding_blocks,
    )
    g = settings.governance
    governance = GovernanceParameters(
        voting_delay=g.voting_delay,
        voting_period=g.voting_period,
        proposal_threshold=g.proposal_threshold * 10**18,
        quorum_fraction=g.quorum_fraction,
        late_quorum_extension=g.late_quorum_extension,
        timelock_delay=g.timelock_delay,
        guardian=g.guardian,
    )
    return deploy_protocol(chain, deployer, token, beacon, governance)


def deploy(
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing manifest.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Deploy the protocol's contracts and write the deployment manifest."""
    from ledgerlearn.exceptions import InvalidManifestError
    from ledgerlearn.ledger import open_chain

    out = Output(json_output)
    config = settings()
    target = options.manifest or config.deployment.manifest
    if target.exists() and not force:
        raise InvalidManifestError(
            f"{target} exists; pass --force to replace it or --manifest PATH (before the command)"
        )
    keys = signing_keys(config)
    with open_chain(config.chain, keys=keys) as chain:
        deployer = keys[0] if keys else dev_account(chain)
        if deployer is None:
            raise KeystoreError(
                "no signing account: pass --keystore (or --dev-accounts on a development chain)"
            )
        if chain.backend.name == "embedded":
            out.info(
                "[yellow]note[/]: the embedded chain lives only in this process; use "
                "`ledgerlearn chain up` and --backend rpc for a lasting deployment"
            )
        deployed = _deploy_protocol(chain, deployer, config)
        deployed.verify(chain)
        path = deployed.save(target)
    data = {"manifest": str(path), **deployed.to_json()}
    lines = [f"deployed to chain {deployed.chain_id}; manifest written to {path}"]
    lines += [
        f"  {name}: {rec['address']} (block {rec['block']})"
        for name, rec in data["contracts"].items()
    ]
    out.result(data, "\n".join(lines))


def manifest_verify(
    json_output: JsonOption = False,
) -> None:
    """Check a manifest against the chain: chain id and the code at every address."""
    from ledgerlearn.ledger import DeploymentManifest, open_chain

    config = settings()
    path = options.manifest or config.deployment.manifest
    loaded = DeploymentManifest.load(path)
    with open_chain(config.chain, expected_chain_id=loaded.chain_id) as chain:
        loaded.verify(chain)
    Output(json_output).result(
        {"manifest": str(path), "verified": True, **loaded.to_json()},
        f"{path}: {len(loaded.contracts)} contract(s) verified on chain {loaded.chain_id}",
    )


manifest_app.command("verify")(manifest_verify)
