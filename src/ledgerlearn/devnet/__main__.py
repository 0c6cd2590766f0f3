"""``python -m ledgerlearn.devnet node --config NODE.toml [--attack SPEC] [--lying]``.

Runs a node exactly as ``ledgerlearn node run`` does, with the experiment's Byzantine
behaviour wrapped around it from outside: ``--attack`` makes a trainer forge its updates
(:func:`~ledgerlearn.devnet.byzantine_trainer`), ``--lying`` makes a provider answer wrongly
(:class:`~ledgerlearn.devnet.LyingProvider`). For the process tests and the demo on a
devnet only: production nodes have no such options.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from functools import partial
from pathlib import Path

from ledgerlearn._logging import configure_json_logging
from ledgerlearn.config import load_settings
from ledgerlearn.devnet.experiments import LyingProvider, byzantine_trainer
from ledgerlearn.node import TrainerNode, run_configured_node
from ledgerlearn.oracle import Provider


def main(argv: list[str] | None = None) -> int:
    """Run one experiment node; return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m ledgerlearn.devnet")
    commands = parser.add_subparsers(dest="command", required=True)
    node = commands.add_parser("node", help="run a node with experiment behaviour")
    node.add_argument("--config", type=Path, required=True, help="the node's TOML")
    node.add_argument("--attack", help="a trainer's attack, e.g. sign_flip:4 or label_flip")
    node.add_argument("--lying", action="store_true", help="a provider answers wrongly")
    args = parser.parse_args(argv)
    configure_json_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    summary = run_configured_node(
        load_settings(args.config),
        stop=stop,
        trainer=partial(byzantine_trainer, args.attack) if args.attack else TrainerNode,
        provider_type=LyingProvider if args.lying else Provider,
    )
    sys.stdout.write(json.dumps(summary) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
