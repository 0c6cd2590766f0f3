"""CLI output: Rich for people, JSON for programs, one remedy line for every failure."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from ledgerlearn.exit_codes import ExitCode, remedy

__all__ = ["Output", "print_error"]

# emoji off: "did:key:z6Mk..." must not render ":key:" as an emoji.
stdout = Console(highlight=False, soft_wrap=True, emoji=False)
stderr = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class Output:
    """Where a command's result goes: a JSON document or human-readable lines.

    Parameters
    ----------
    as_json
        Print exactly one JSON document on stdout instead of prose.
    """

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def info(self, message: str) -> None:
        """Print progress for people (stderr under ``--json`` is left quiet).

        Parameters
        ----------
        message
            Rich markup.
        """
        if not self.as_json:
            stdout.print(message)

    def result(self, data: Any, human: str | None = None) -> None:
        """Print the command's result.

        Parameters
        ----------
        data
            JSON-serialisable result.
        human
            What people see instead; ``data`` pretty-printed when omitted.
        """
        if self.as_json:
            sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        elif human is not None:
            stdout.print(human)
        else:
            stdout.print_json(json.dumps(data, default=str))


def print_error(
    message: str, code: ExitCode, as_json: bool, *, config: str = "ledgerlearn.toml"
) -> None:
    """Report a failure with its exit code and remedy.

    Parameters
    ----------
    message
        What went wrong.
    code
        The exit code the process ends with.
    as_json
        Emit a JSON error document on stdout instead of prose on stderr.
    config
        The settings file the command read (remedies that name a setting point there).
    """
    advice = remedy(code, config)
    if as_json:
        document = {"error": message, "exitCode": int(code), "remedy": advice}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        stderr.print(f"[bold red]error[/]: {escape(message)}", markup=True)
        stderr.print(f"[yellow]remedy[/]: {escape(advice)}  (exit code {int(code)})", markup=True)
