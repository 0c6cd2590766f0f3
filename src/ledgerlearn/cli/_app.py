"""The ``ledgerlearn`` command: a root that takes the global options, one module per area.

The root callback takes what every command that touches a chain needs, once: ``--config``,
``--backend``, ``--rpc-url``, ``--manifest``, ``--keystore``, ``--password-file``,
``--dev-accounts``, ``--account`` and ``--store-root`` go before the command
(``ledgerlearn --backend rpc --rpc-url URL --manifest F model show NAME``); the environment
(``LEDGERLEARN_<SECTION>__<KEY>``) and ``ledgerlearn.toml`` still work beneath them.
Every command takes ``--json`` (``node run`` and ``gateway`` log JSON lines instead; see
their help); every failure exits with a numbered code from :mod:`ledgerlearn.exit_codes`
and prints its remedy.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from typer.exceptions import TyperException

from ledgerlearn import __version__
from ledgerlearn.cli import (
    _chain,
    _did,
    _evidence,
    _gov,
    _model,
    _node,
    _privacy,
    _stake,
    _store,
    _task,
    _vrf,
    _zk,
)
from ledgerlearn.cli._common import GlobalOptions, JsonOption, options
from ledgerlearn.cli._demo import demo
from ledgerlearn.cli._gateway import gateway_command
from ledgerlearn.cli._output import Output, print_error
from ledgerlearn.cli._simulate import simulate
from ledgerlearn.exceptions import LedgerLearnError
from ledgerlearn.exit_codes import ExitCode

__all__ = ["app", "main"]

app = typer.Typer(
    name="ledgerlearn",
    help="Trustless machine learning on an EVM ledger.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
app.add_typer(_chain.app, name="chain")
app.add_typer(_store.app, name="store")
app.add_typer(_did.app, name="did")
app.add_typer(_chain.manifest_app, name="manifest")
app.add_typer(_vrf.app, name="vrf")
app.add_typer(_model.app, name="model")
app.add_typer(_gov.app, name="gov")
app.add_typer(_stake.app, name="stake")
app.add_typer(_task.app, name="task")
app.add_typer(_node.app, name="node")
app.add_typer(_evidence.app, name="evidence")
app.add_typer(_privacy.app, name="privacy")
app.add_typer(_zk.app, name="zk")
app.command("deploy")(_chain.deploy)
app.command("gateway")(gateway_command)
app.command("simulate")(simulate)
app.command("demo")(demo)


@app.callback()
def _root(
    config: Annotated[
        Path | None,
        typer.Option("--config", help="TOML settings file (default ./ledgerlearn.toml)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    backend: Annotated[
        str | None,
        typer.Option("--backend", help="embedded, devnet or rpc (overrides [chain] backend)."),
    ] = None,
    rpc_url: Annotated[
        str | None, typer.Option("--rpc-url", help="JSON-RPC URL for --backend rpc.")
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option("--manifest", help="Deployment manifest (overrides [deployment] manifest)."),
    ] = None,
    keystore: Annotated[
        Path | None,
        typer.Option("--keystore", help="Encrypted keystore of the signing account."),
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="File holding the keystore password."),
    ] = None,
    dev_accounts: Annotated[
        bool,
        typer.Option(
            "--dev-accounts", help="Sign with the public dev accounts (development chains only)."
        ),
    ] = False,
    account: Annotated[
        int,
        typer.Option(
            "--account", min=0, metavar="<int>", help="Dev account index (with --dev-accounts)."
        ),
    ] = 0,
    store_root: Annotated[
        Path | None,
        typer.Option("--store-root", help="Content store directory (overrides [storage] root)."),
    ] = None,
) -> None:
    """Trustless machine learning on an EVM ledger.

    Options that say where the chain, the deployment, the signing key and the store are
    come before the command, e.g. `ledgerlearn --backend rpc --rpc-url URL --manifest
    deployment.json model show NAME`.
    """
    state = GlobalOptions(
        config=config,
        debug=debug,
        backend=backend,
        rpc_url=rpc_url,
        manifest=manifest,
        keystore=keystore,
        password_file=password_file,
        dev_accounts=dev_accounts,
        account=account,
        store_root=store_root,
        config_name=str(config) if config else "ledgerlearn.toml",
    )
    vars(options).update(vars(state))
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,
    )


@app.command()
def version(json_output: JsonOption = False) -> None:
    """Print the ledgerlearn version."""
    Output(json_output).result({"version": __version__}, f"ledgerlearn {__version__}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; map every error to its exit code and remedy.

    Parameters
    ----------
    argv
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The process exit status.
    """
    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    vars(options).update(vars(GlobalOptions()))
    command = typer.main.get_command(app)
    try:
        # Without standalone mode, click returns a typer.Exit's code instead of raising it.
        returned = command.main(args=args, prog_name="ledgerlearn", standalone_mode=False)
        if isinstance(returned, int) and returned:
            return returned
    except LedgerLearnError as exc:
        if options.debug:
            raise
        print_error(str(exc), exc.exit_code, as_json, config=options.config_name)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except TyperException as exc:
        print_error(exc.format_message(), ExitCode.USAGE, as_json)
        return ExitCode.USAGE
    except (KeyboardInterrupt, typer.Abort):
        print_error("interrupted", ExitCode.INTERRUPTED, as_json)
        return ExitCode.INTERRUPTED
    return ExitCode.OK
