"""Content store: the base class every artifact store implements, with verified reads.

A :class:`ContentStore` maps CIDs (see :mod:`ledgerlearn.storage._cid`) to bytes. Back ends
only move bytes; this base class computes CIDs on the way in and checks them on the way
out, leaf by leaf, *before* handing bytes to the caller. So a back end that loses, truncates
or flips content produces :class:`~ledgerlearn.exceptions.ContentCorruptedError` or
:class:`~ledgerlearn.exceptions.ContentNotFoundError`, never wrong bytes.

Trust assumption: the storage back end (a disk, an IPFS node, an S3 bucket) is not trusted
for integrity; only the CID, which the chain records, is.
"""

from __future__ import annotations

import hashlib
import io
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

from ledgerlearn._atomic import atomic_output
from ledgerlearn.exceptions import ContentCorruptedError, StorageError
from ledgerlearn.storage._cid import CHUNK_SIZE, CODEC_RAW, build_dag, iter_stream, parse_cid
from ledgerlearn.types import Cid

__all__ = ["ContentStore", "iter_stream"]


class ContentStore(ABC):
    """Content-addressed storage with CIDs identical to ``ipfs add --cid-version=1 --raw-leaves``.

    Subclasses implement the five primitives (``_write``, ``_read``, ``_leaf_digests``,
    ``has``, ``size``, ``delete``); the public reads and writes here add CID computation and
    verification, and are the same for every back end.
    """

    # --- primitives -----------------------------------------------------------------

    @abstractmethod
    def _write(self, chunks: Iterable[bytes]) -> Cid:
        """Store content atomically and return its CID (computed while writing)."""

    @abstractmethod
    def _read(self, cid: Cid) -> Iterator[bytes]:
        """Yield the stored bytes for ``cid`` unverified, in any slicing.

        Raises :class:`ContentNotFoundError` when absent.
        """

    @abstractmethod
    def _leaf_digests(self, cid: Cid, size: int) -> Sequence[bytes]:
        """Return the sha2-256 of each 256 KiB leaf of a multi-leaf CID (unverified)."""

    @abstractmethod
    def has(self, cid: Cid) -> bool:
        """Return whether the store holds content for ``cid``.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        bool
            True if present (its integrity is checked on read, not here).
        """

    @abstractmethod
    def size(self, cid: Cid) -> int:
        """Return the stored content's size in bytes.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        int
            Size in bytes.

        Raises
        ------
        ContentNotFoundError
            If the store does not hold ``cid``.
        """

    @abstractmethod
    def delete(self, cid: Cid) -> bool:
        """Remove content; return whether anything was removed.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        bool
            False if the store did not hold ``cid``.
        """

    # --- writes -----------------------------------------------------------------------

    def put(self, data: bytes) -> Cid:
        """Store ``data`` and return its CID. Storing the same bytes twice is a no-op.

        Parameters
        ----------
        data
            The content.

        Returns
        -------
        Cid
            The content's CIDv1.
        """
        return self._write([data])

    def put_stream(self, chunks: Iterable[bytes] | BinaryIO) -> Cid:
        """Store content from an iterable of byte strings or a binary stream.

        Memory use is bounded by one chunk whatever the content's size.

        Parameters
        ----------
        chunks
            Byte strings in order, or an open binary stream read to its end.

        Returns
        -------
        Cid
            The content's CIDv1.
        """
        if isinstance(chunks, io.IOBase) or hasattr(chunks, "read"):
            return self._write(iter_stream(cast(BinaryIO, chunks)))
        return self._write(chunks)

    def put_file(self, path: str | os.PathLike[str]) -> Cid:
        """Store a file's content.

        Parameters
        ----------
        path
            The file to read.

        Returns
        -------
        Cid
            The content's CIDv1.
        """
        with open(path, "rb") as stream:
            return self._write(iter_stream(stream))

    # --- verified reads ---------------------------------------------------------------

    def iter_chunks(self, cid: Cid | str) -> Iterator[bytes]:
        """Yield the content for ``cid`` in 256 KiB chunks, each verified before it is yielded.

        Parameters
        ----------
        cid
            The content's CID.

        Yields
        ------
        bytes
            The next verified chunk.

        Raises
        ------
        InvalidCidError
            If ``cid`` is malformed.
        ContentNotFoundError
            If the store does not hold ``cid``.
        ContentCorruptedError
            If the stored bytes do not hash to ``cid``; no unverified byte is yielded.
        """
        parsed = parse_cid(str(cid))
        key = Cid(str(parsed))
        size = self.size(key)
        if parsed.codec == CODEC_RAW:
            expected: Sequence[bytes] = [parsed.digest]
            if size > CHUNK_SIZE:
                raise ContentCorruptedError(f"{key}: a raw CID holds at most one chunk, got {size}")
        else:
            expected = self._leaf_digests(key, size)
            try:
                rebuilt = build_dag(expected, size).cid
            except ValueError as exc:
                raise ContentCorruptedError(f"{key}: leaf index is damaged ({exc})") from exc
            if rebuilt != key:
                raise ContentCorruptedError(f"{key}: leaf index hashes to {rebuilt}")
        yield from self._verified(key, size, expected)

    def _verified(self, cid: Cid, size: int, expected: Sequence[bytes]) -> Iterator[bytes]:
        """Re-cut the back end's bytes into leaves and check each before yielding it."""
        if size == 0:
            self._check_leaf(cid, b"", expected, 0)
            return
        buffer = bytearray()
        index = 0
        seen = 0
        for part in self._read(cid):
            seen += len(part)
            if seen > size:
                raise ContentCorruptedError(f"{cid}: stored content is longer than {size} bytes")
            buffer += part
            while index < len(expected):
                length = min(CHUNK_SIZE, size - index * CHUNK_SIZE)
                if len(buffer) < length:
                    break
                leaf = bytes(buffer[:length])
                del buffer[:length]
                index = self._check_leaf(cid, leaf, expected, index)
                yield leaf
        if seen != size or index != len(expected):
            raise ContentCorruptedError(f"{cid}: stored content is {seen} bytes, expected {size}")

    @staticmethod
    def _check_leaf(cid: Cid, leaf: bytes, expected: Sequence[bytes], index: int) -> int:
        if index >= len(expected) or hashlib.sha256(leaf).digest() != expected[index]:
            raise ContentCorruptedError(
                f"{cid}: chunk {index} does not match its hash; the stored copy is damaged"
            )
        return index + 1

    def get(self, cid: Cid | str) -> bytes:
        """Return the whole verified content for ``cid``.

        Parameters
        ----------
        cid
            The content's CID.

        Returns
        -------
        bytes
            The content.

        Raises
        ------
        ContentNotFoundError, ContentCorruptedError, InvalidCidError
            As :meth:`iter_chunks`.
        """
        return b"".join(self.iter_chunks(cid))

    def get_to_file(self, cid: Cid | str, path: str | os.PathLike[str]) -> Path:
        """Write the verified content for ``cid`` to ``path`` atomically.

        The file appears only once every byte is verified; on any error ``path`` is left as
        it was.

        Parameters
        ----------
        cid
            The content's CID.
        path
            Destination file.

        Returns
        -------
        Path
            The destination.
        """
        with atomic_output(path) as out:
            for chunk in self.iter_chunks(cid):
                out.write(chunk)
        return Path(path)

    def verify(self, cid: Cid | str) -> None:
        """Read and check the whole content for ``cid``.

        Parameters
        ----------
        cid
            The content's CID.

        Raises
        ------
        ContentNotFoundError, ContentCorruptedError, InvalidCidError
            As :meth:`iter_chunks`.
        """
        for _ in self.iter_chunks(cid):
            pass

    def __contains__(self, cid: object) -> bool:
        if not isinstance(cid, str):
            return False
        try:
            return self.has(Cid(str(parse_cid(cid))))
        except StorageError:
            return False
