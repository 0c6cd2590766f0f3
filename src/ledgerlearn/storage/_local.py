"""Local content store: content-addressed files on one filesystem.

Layout under the store root::

    blobs/<last two CID chars>/<cid>    the content, byte for byte
    leaves/<last two CID chars>/<cid>   sha2-256 of each 256 KiB leaf (multi-leaf only)
    tmp/                                writes in progress

A write streams into ``tmp/`` while hashing, fsyncs, then renames the leaf index and then the
blob into place, so a crash leaves either the old state or the complete new one, never a
partial blob. Several processes may share a root.

Trust assumption: the disk may rot or be tampered with; every read is verified against the
CID by :class:`~ledgerlearn.storage.ContentStore`.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ledgerlearn._atomic import atomic_output
from ledgerlearn.exceptions import ContentCorruptedError, ContentNotFoundError, StorageError
from ledgerlearn.storage._cid import CidBuilder, iter_stream, parse_cid
from ledgerlearn.storage._store import ContentStore
from ledgerlearn.types import Cid

__all__ = ["LocalContentStore"]

_DIGEST = 32


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalContentStore(ContentStore):
    """A content store in a local directory.

    Parameters
    ----------
    root
        The store's directory; created if missing.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        try:
            for sub in ("blobs", "leaves", "tmp"):
                (self.root / sub).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create content store at {self.root}: {exc}") from exc

    def __repr__(self) -> str:
        return f"LocalContentStore({str(self.root)!r})"

    def _path(self, kind: str, cid: Cid) -> Path:
        return self.root / kind / cid[-2:] / cid

    def _write(self, chunks: Iterable[bytes]) -> Cid:
        builder = CidBuilder()
        fd, tmp_name = tempfile.mkstemp(prefix="put-", dir=self.root / "tmp")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    builder.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            layout = builder.finish()
            blob = self._path("blobs", layout.cid)
            if blob.exists():
                tmp.unlink()
                return layout.cid
            blob.parent.mkdir(exist_ok=True)
            if layout.leaf_digests:
                self._write_index(layout.cid, layout.leaf_digests)
            os.replace(tmp, blob)
            _fsync_dir(blob.parent)
            return layout.cid
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _write_index(self, cid: Cid, digests: Sequence[bytes]) -> None:
        with atomic_output(self._path("leaves", cid), temp_dir=self.root / "tmp") as out:
            out.write(b"".join(digests))

    def _read(self, cid: Cid) -> Iterator[bytes]:
        try:
            stream = open(self._path("blobs", cid), "rb")  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise ContentNotFoundError(f"{cid} is not in {self.root}") from exc
        with stream:
            yield from iter_stream(stream)

    def _leaf_digests(self, cid: Cid, size: int) -> Sequence[bytes]:
        try:
            raw = self._path("leaves", cid).read_bytes()
        except FileNotFoundError as exc:
            raise ContentCorruptedError(f"{cid}: leaf index is missing from {self.root}") from exc
        if len(raw) % _DIGEST:
            raise ContentCorruptedError(f"{cid}: leaf index is truncated")
        return [raw[i : i + _DIGEST] for i in range(0, len(raw), _DIGEST)]

    def has(self, cid: Cid) -> bool:
        """Return whether a blob for ``cid`` is present.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        bool
            True if present.
        """
        return self._path("blobs", Cid(str(parse_cid(cid)))).is_file()

    def size(self, cid: Cid) -> int:
        """Return the stored size of ``cid``'s content.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        int
            Size in bytes.
        """
        key = Cid(str(parse_cid(cid)))
        try:
            return self._path("blobs", key).stat().st_size
        except FileNotFoundError as exc:
            raise ContentNotFoundError(f"{key} is not in {self.root}") from exc

    def delete(self, cid: Cid) -> bool:
        """Remove ``cid``'s blob and leaf index.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        bool
            Whether a blob was removed.
        """
        key = Cid(str(parse_cid(cid)))
        blob = self._path("blobs", key)
        existed = blob.is_file()
        blob.unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self._path("leaves", key).unlink()
        return existed

    def iter_cids(self) -> Iterator[Cid]:
        """Yield the CIDs of all stored blobs (unverified).

        Yields
        ------
        Cid
            A stored CID.
        """
        for shard in sorted((self.root / "blobs").iterdir()):
            for blob in sorted(shard.iterdir()):
                yield Cid(blob.name)
