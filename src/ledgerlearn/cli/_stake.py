"""``ledgerlearn stake``: stakes in the StakeVault — deposit, unbond, withdraw, show."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from ledgerlearn.cli._common import JsonOption, Session, group, reading, session, tokens
from ledgerlearn.cli._output import Output
from ledgerlearn.staking import StakingClient

__all__ = ["app"]

app = group("Stakes in the StakeVault.")


def _client(session: Session) -> StakingClient:
    return StakingClient(session.chain, session.deployment)


@app.command("deposit")
def stake_deposit(
    amount: Annotated[float, typer.Argument(help="Whole tokens (LLT) to stake.")],
    json_output: JsonOption = False,
) -> None:
    """Approve and stake AMOUNT tokens from your account."""
    out = Output(json_output)
    with session() as s:
        client = _client(s)
        client.stake(s.signer, tokens(amount))
        out.result({"account": s.signer.address, "stake": client.stake_of(s.signer.address)})


@app.command("unbond")
def stake_unbond(
    amount: Annotated[float, typer.Argument(help="Whole tokens to start unbonding.")],
    json_output: JsonOption = False,
) -> None:
    """Start unbonding AMOUNT tokens (still slashable until released)."""
    out = Output(json_output)
    with session() as s:
        release = _client(s).unbond(s.signer, tokens(amount))
        out.result({"account": s.signer.address, "releaseBlock": release})


@app.command("withdraw")
def stake_withdraw(json_output: JsonOption = False) -> None:
    """Withdraw every released unbonding entry."""
    out = Output(json_output)
    with session() as s:
        amount = _client(s).withdraw(s.signer)
        out.result({"account": s.signer.address, "withdrawn": amount})


@app.command("show")
def stake_show(
    address: Annotated[str, typer.Argument(help="Account to show.")],
    json_output: JsonOption = False,
) -> None:
    """Show an account's active, unbonding and slashed stake, and the vault's totals."""
    out = Output(json_output)
    with reading() as s:
        client = _client(s)
        totals = asdict(client.totals())
        out.result(
            {
                "account": address,
                "active": client.stake_of(address),
                "unbonding": client.unbonding_of(address),
                "slashed": client.slashed_of(address),
                "vault": {f"total{k.title()}": v for k, v in totals.items()},
            }
        )
