"""``ledgerlearn gateway``: the DID-authenticated HTTP front door to the oracle."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from ledgerlearn.cli import _common as common

__all__ = ["gateway_command"]


def gateway_command(
    config: Annotated[
        Path,
        typer.Option("--config", help="TOML with chain, deployment, storage and gateway sections."),
    ],
) -> None:
    """Run the inference gateway (HTTP, DID-signed calls) until stopped.

    It logs JSON lines on stderr and prints nothing on stdout (so it takes no --json): its
    output is its HTTP API.

    It listens on the gateway section's address and port, pays requests from the chain
    section's keystore account (or the gateway section's dev_account on a development
    chain) and writes inputs to the content store the providers read.
    """
    import uvicorn

    from ledgerlearn._logging import configure_json_logging
    from ledgerlearn.exceptions import ConfigError
    from ledgerlearn.gateway import Gateway, GatewayPolicy, gateway_app
    from ledgerlearn.identity import EthrDidResolver
    from ledgerlearn.ledger import DeploymentManifest
    from ledgerlearn.node import connect_waiting, node_key
    from ledgerlearn.oracle import OracleClient, Quota, RateLimiter, RequestVerifier
    from ledgerlearn.storage import LocalContentStore

    common.options.config_name = str(config)
    settings = common.settings(config)
    options = settings.gateway
    if settings.chain.backend == "embedded":
        raise ConfigError(
            "the gateway needs a lasting chain: set [chain] backend = 'rpc' and rpc_url in "
            f"{config}"
        )
    configure_json_logging(min(logging.INFO, logging.getLogger().level))
    deployment = DeploymentManifest.load(settings.deployment.manifest)
    keys = common.signing_keys(settings)
    with connect_waiting(settings, keys, deployment.chain_id) as chain:
        deployment.verify(chain)
        key = node_key(settings, keys, options.dev_account, chain)
        policy = GatewayPolicy(
            redundancy=options.redundancy,
            quorum=options.quorum,
            deadline_blocks=options.deadline_blocks,
            fee=int(options.fee * 10**18),
            wait_seconds=options.wait_seconds,
            gather_timeout=options.gather_timeout,
        )
        gateway = Gateway(
            OracleClient(chain, deployment), LocalContentStore(settings.storage.root), key, policy
        )
        verifier = RequestVerifier(
            resolver=EthrDidResolver(chain, deployment),
            chain_id=chain.chain_id,
            max_lifetime=options.max_signature_lifetime,
            cache_seconds=options.did_cache_seconds,
        )
        app = gateway_app(
            gateway,
            verifier,
            RateLimiter(rate=options.rate, burst=options.burst),
            Quota(limit=options.quota, window=options.quota_window_seconds),
        )
        logging.getLogger("ledgerlearn.gateway").info(
            json.dumps(
                {
                    "event": "listening",
                    "url": f"http://{options.address}:{options.port}",
                    "gateway": key.address,
                }
            )
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app, host=options.address, port=options.port, log_level="warning", ws="none"
            )
        )
        try:
            server.run()
        finally:
            gateway.close()
