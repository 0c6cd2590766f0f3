"""Every command's help: brackets survive, flags show no metavar, and ``--json`` exists."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from ledgerlearn.cli._app import app


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        yield from _commands(sub, (*path, name))


COMMANDS = list(_commands(typer.main.get_command(app)))
LEAVES = [(path, cmd) for path, cmd in COMMANDS if not hasattr(cmd, "commands")]
RUNNER = CliRunner()


def _help(path: tuple[str, ...]) -> str:
    result = RUNNER.invoke(app, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_tree_holds_every_group_and_command() -> None:
    assert len(LEAVES) >= 50
    assert {path[0] for path, _ in COMMANDS if path} >= {"chain", "model", "node", "zk", "task"}


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_keeps_brackets_and_shows_no_flag_metavars(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert "<bool>" not in text and "int range" not in text, text


def test_root_help_names_the_settings_sections_it_overrides() -> None:
    text = " ".join(_help(()).split())  # unwrap
    assert "[chain] backend" in text and "[deployment] manifest" in text


# Long-running servers whose output is an HTTP API: their help says where the JSON goes.
NO_JSON = {("gateway",)}


@pytest.mark.parametrize(("path", "command"), LEAVES, ids=[" ".join(p) for p, _ in LEAVES])
def test_every_command_takes_json_or_says_why_not(path: tuple[str, ...], command: Any) -> None:
    takes = any("--json" in param.opts for param in command.params)
    if path in NO_JSON:
        text = " ".join(_help(path).split())
        assert not takes and "JSON lines on stderr" in text and "no --json" in text
    else:
        assert takes, " ".join(path)
