"""``ledgerlearn node run``: a long-running node of any role, from its TOML.

The node reads ``[chain]``, ``[deployment]``, ``[storage]`` and ``[node]`` from its own
file (``--config``), logs one JSON object per line on stderr and prints one JSON summary on
stdout when it ends (a task participant when its task is over, a provider at SIGTERM).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from ledgerlearn._logging import configure_json_logging
from ledgerlearn.cli._common import JsonOption, group, options, signing_keys
from ledgerlearn.cli._common import settings as load_settings

__all__ = ["app"]

app = group("Run a node: trainer, aggregator, provider, auditor, watcher or verifier.")


@app.command("run")
def node_run(
    config: Annotated[
        Path,
        typer.Option("--config", help="The node's TOML: [chain], [deployment], [storage], [node]."),
    ],
    role: Annotated[
        str | None,
        typer.Option(
            help="trainer, aggregator, provider, auditor, watcher or verifier (overrides "
            "[node] role)."
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Run a trainer or aggregator until its task ends, or a service role until stopped.

    Service roles: provider (answers inference requests), auditor (re-executes sampled
    answers), watcher (disputes false optimistic claims), verifier (re-runs
    proof-of-learning segments).

    Safe to kill and restart: each resumes from its state directory and the chain. Logs go
    to stderr as JSON lines; the summary at the end is one JSON document on stdout (with
    or without --json).
    """
    options.config_name = str(config)
    settings = load_settings(config)
    chosen = role or settings.node.role
    from ledgerlearn.node import ROLES, run_configured_node  # ~1 s: only when a node runs

    if chosen not in ROLES:
        raise typer.BadParameter(f"--role must be one of {', '.join(ROLES)}")
    # JSON lines at INFO (DEBUG under --debug), replacing the CLI's plain WARNING default.
    configure_json_logging(min(logging.INFO, logging.getLogger().level))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    summary = run_configured_node(settings, keys=signing_keys(settings), role=chosen, stop=stop)
    typer.echo(json.dumps(summary, indent=2 if json_output else None))
