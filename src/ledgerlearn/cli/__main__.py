"""Run the CLI as ``python -m ledgerlearn.cli``."""

from ledgerlearn.cli import main

main()
