"""`ledgerlearn chain up` in its own process, used by other commands over JSON-RPC."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ledgerlearn.cli._app import main
from ledgerlearn.exit_codes import ExitCode
from tests.cli_args import argv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_chain_up_serves_other_processes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    manifest = tmp_path / "deployment.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERLEARN_")}
    node = subprocess.Popen(
        [
            *(sys.executable, "-m", "ledgerlearn.cli", "--manifest", str(manifest)),
            *("chain", "up", "--port", str(port), "--deploy", "--json"),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert node.stdout is not None
        lines = []
        for line in node.stdout:
            lines.append(line)
            if line.rstrip() == "}":
                break
        info = json.loads("".join(lines))
        url = f"http://127.0.0.1:{port}"
        assert info["rpcUrl"] == url and info["chainId"] == 31337 and manifest.is_file()

        assert (
            main(
                argv(
                    [
                        "manifest",
                        "verify",
                        "--backend",
                        "rpc",
                        "--rpc-url",
                        url,
                        "--manifest",
                        str(manifest),
                        "--json",
                    ]
                )
            )
            == 0
        )
        assert json.loads(capsys.readouterr().out)["verified"] is True

        second = tmp_path / "second.json"
        args = ["deploy", "--backend", "rpc", "--rpc-url", url, "--manifest", str(second), "--json"]
        assert (
            main(argv(args)) == ExitCode.KEYSTORE
        )  # no account without --dev-accounts or --keystore
        capsys.readouterr()
        assert main(argv([*args, "--dev-accounts"])) == 0
        deployed = json.loads(capsys.readouterr().out)
        assert deployed["chainId"] == 31337 and second.is_file()
    finally:
        node.send_signal(signal.SIGTERM)
        assert node.wait(20) == 0
    assert (
        main(argv(["chain", "info", "--backend", "rpc", "--rpc-url", url]))
        == ExitCode.CHAIN_UNAVAILABLE
    )
