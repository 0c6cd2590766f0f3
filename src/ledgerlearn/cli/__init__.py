"""CLI: the ``ledgerlearn`` command (Typer + Rich).

Every command accepts ``--json``; every failure exits non-zero with a code from
:mod:`ledgerlearn.exit_codes` and a one-line remedy.
"""

import sys

from ledgerlearn.cli._app import app
from ledgerlearn.cli._app import main as _main

__all__ = ["app", "main"]


def main() -> None:
    """Console-script entry point."""
    sys.exit(_main())
