"""``ledgerlearn store``: the content store — put, get (verified), compute CIDs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledgerlearn.cli._common import JsonOption, group, store
from ledgerlearn.cli._output import Output

__all__ = ["app"]

app = group("Content-addressed storage (CIDv1, as `ipfs add --cid-version=1 --raw-leaves`).")


@app.command("put")
def store_put(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    json_output: JsonOption = False,
) -> None:
    """Store a file; print its CID."""
    content = store()
    cid = content.put_file(path)
    Output(json_output).result({"cid": cid, "size": path.stat().st_size, "path": str(path)}, cid)


@app.command("get")
def store_get(
    cid: str,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file instead of stdout.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Fetch content by CID, verified; to a file or stdout."""
    content = store()
    if output is not None:
        content.get_to_file(cid, output)
        Output(json_output).result(
            {"cid": cid, "path": str(output), "size": output.stat().st_size}, str(output)
        )
        return
    if json_output:
        raise typer.BadParameter("--json needs -o/--output (content goes to the file)")
    for chunk in content.iter_chunks(cid):
        sys.stdout.buffer.write(chunk)
    sys.stdout.buffer.flush()


@app.command("cid")
def store_cid(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    json_output: JsonOption = False,
) -> None:
    """Print a file's CID without storing it (as `ipfs add -n --cid-version=1 --raw-leaves`)."""
    from ledgerlearn.storage import compute_file_cid

    with path.open("rb") as stream:
        layout = compute_file_cid(stream)
    Output(json_output).result(
        {"cid": layout.cid, "size": layout.size, "path": str(path)}, layout.cid
    )
