"""Atomic files: write to a temporary file beside the target, fsync, then rename.

Readers see either the old file or the complete new one, never a partial write, even if
the process dies mid-way (POSIX ``rename`` is atomic within a filesystem).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

__all__ = ["atomic_output", "atomic_write_bytes"]


@contextmanager
def atomic_output(
    path: str | os.PathLike[str], *, mode: int | None = None, temp_dir: Path | None = None
) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only if the block completes.

    Parameters
    ----------
    path
        The target; its parent directory is created.
    mode
        Permission bits for the new file (e.g. ``0o600`` for secrets).
    temp_dir
        Where the temporary file goes; the target's directory by default. It must be on
        the same filesystem.

    Yields
    ------
    BinaryIO
        The temporary file; on an exception it is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", dir=temp_dir or target.parent)
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_bytes(
    path: str | os.PathLike[str], data: bytes, *, mode: int | None = None
) -> Path:
    """Replace ``path`` with ``data`` atomically.

    Parameters
    ----------
    path
        The target file.
    data
        Its new content.
    mode
        Permission bits for the new file.

    Returns
    -------
    Path
        The target.
    """
    with atomic_output(path, mode=mode) as out:
        out.write(data)
    return Path(path)
