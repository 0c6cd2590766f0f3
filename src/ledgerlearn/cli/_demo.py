"""``ledgerlearn demo``: the end-to-end demo (embedded chain; ``--chain devnet --processes``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ledgerlearn.cli._common import JsonOption
from ledgerlearn.cli._output import Output

__all__ = ["demo"]


def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo writes its files.")] = Path(
        ".ledgerlearn/demo"
    ),
    chain: Annotated[
        str, typer.Option("--chain", help="embedded (in this process) or devnet (anvil).")
    ] = "embedded",
    processes: Annotated[
        bool, typer.Option("--processes", help="Run each training node as its own process.")
    ] = False,
    network_rounds: Annotated[
        int,
        typer.Option(
            "--network-rounds", min=1, metavar="<int>", help="Rounds of the training network."
        ),
    ] = 5,
    private: Annotated[
        bool,
        typer.Option(
            "--private", help="Train with client-level DP (epsilon 8); print epsilon per round."
        ),
    ] = False,
    verification: Annotated[
        bool,
        typer.Option(
            "--verification/--no-verification",
            help="Run the verification section (audit, zk proof, optimistic dispute; ~2 min).",
        ),
    ] = True,
    json_output: JsonOption = False,
) -> None:
    """Run the end-to-end demo (embedded chain by default; --chain devnet --processes)."""
    from ledgerlearn.demo import run_demo

    if chain not in ("embedded", "devnet"):
        raise typer.BadParameter("--chain must be embedded or devnet")
    out = Output(json_output)
    report = run_demo(
        workdir,
        say=lambda line: out.info(f"[green]✓[/] {escape(line)}"),
        chain_backend=chain,
        processes=processes,
        network_rounds=network_rounds,
        private=private,
        verification=verification,
    )
    out.result({"steps": report.steps}, f"[bold]demo complete[/]: files in {workdir}")
