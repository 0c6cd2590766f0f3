"""Content identifiers: CIDv1 exactly as ``ipfs add --cid-version=1 --raw-leaves`` makes them.

Implements the IPFS UnixFS v1 file layout (specs.ipfs.tech/unixfs), the dag-pb codec
(ipld.io/specs/codecs/dag-pb) and CIDv1 with a sha2-256 multihash (multiformats CID spec):

- content is cut into fixed 256 KiB chunks (kubo's default ``size-262144`` chunker);
- a file of at most one chunk is a single raw leaf, so its CID uses the ``raw`` codec
  (0x55) over the sha2-256 of the bytes themselves; the empty file is the empty raw leaf;
- a larger file is a balanced DAG: leaves are raw blocks, each internal node is a dag-pb
  ``PBNode`` whose ``Data`` is a UnixFS ``File`` message (``filesize`` and the ``blocksizes``
  of its children) with at most 174 links, built bottom-up so every subtree but the last
  is full — the shape kubo's balanced layout produces;
- the CID string is multibase base32 (lower case, ``b`` prefix), kubo's default for CIDv1.

Trust assumption: none. A CID is a hash; anyone recomputes it from the bytes, so a store or
peer that returns other bytes is caught by :func:`compute_cid` or :class:`CidBuilder`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ledgerlearn.exceptions import InvalidCidError
from ledgerlearn.types import Cid

__all__ = [
    "CHUNK_SIZE",
    "CODEC_DAG_PB",
    "CODEC_RAW",
    "MAX_LINKS",
    "CidBuilder",
    "DagLayout",
    "ParsedCid",
    "build_dag",
    "cid_from_binary",
    "cid_or_hex",
    "compute_cid",
    "compute_file_cid",
    "iter_stream",
    "parse_cid",
]

CHUNK_SIZE = 262_144
"""Bytes per leaf: kubo's default fixed-size chunker."""

MAX_LINKS = 174
"""Links per internal node in kubo's balanced layout."""

CODEC_RAW = 0x55
CODEC_DAG_PB = 0x70
_SHA2_256 = 0x12
_SHA2_256_LEN = 32
_UNIXFS_FILE = 2


def _varint(value: int) -> bytes:
    """Encode an unsigned integer as an unsigned LEB128 varint (multiformats, protobuf)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """Decode a varint at ``offset``; return ``(value, next_offset)``."""
    value = 0
    shift = 0
    for index in range(offset, min(len(data), offset + 9)):
        byte = data[index]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if byte == 0 and index > offset:
                raise InvalidCidError("CID contains a non-minimal varint")
            return value, index + 1
        shift += 7
    raise InvalidCidError("CID ends inside a varint or has a varint over 9 bytes")


def _cid_bytes(codec: int, digest: bytes) -> bytes:
    return b"\x01" + _varint(codec) + bytes([_SHA2_256, _SHA2_256_LEN]) + digest


@functools.lru_cache(maxsize=16_384)
def _cid_string(cid_bytes: bytes) -> Cid:
    # Memoised (pure): stores and nodes turn the same CIDs into text again and again.
    return Cid("b" + base64.b32encode(cid_bytes).decode("ascii").lower().rstrip("="))


@dataclass(frozen=True, slots=True)
class ParsedCid:
    """The parts of a CIDv1 with a sha2-256 multihash.

    Attributes
    ----------
    codec
        Multicodec of the block: ``CODEC_RAW`` or ``CODEC_DAG_PB``.
    digest
        The 32-byte sha2-256 digest of the block.
    """

    codec: int
    digest: bytes

    @property
    def binary(self) -> bytes:
        """The CID's binary form (version, codec, multihash)."""
        return _cid_bytes(self.codec, self.digest)

    def __str__(self) -> str:
        return _cid_string(self.binary)


def cid_from_binary(raw: bytes) -> Cid:
    """Return the base32 string of a binary CID (as contracts store it), validated.

    Parameters
    ----------
    raw
        The binary CIDv1 (version, codec, multihash).

    Returns
    -------
    Cid
        Its canonical ``b...`` form.

    Raises
    ------
    InvalidCidError
        If the bytes are not a CIDv1 this module accepts.
    """
    text = _cid_string(bytes(raw))
    parse_cid(text)
    return text


def cid_or_hex(raw: bytes) -> str:
    """Show bytes that should hold a binary CID: its ``b…`` form, or ``0x…`` hex if not one.

    For displaying values read from contracts, which store CIDs in binary.

    Parameters
    ----------
    raw
        The bytes.

    Returns
    -------
    str
        The CID string, or the hex of bytes that are not a CID.
    """
    try:
        return cid_from_binary(raw)
    except InvalidCidError:
        return "0x" + bytes(raw).hex()


def parse_cid(text: str) -> ParsedCid:
    """Parse and validate a CID string.

    Parameters
    ----------
    text
        A CIDv1 in multibase base32 (``b...``), the form this module produces.

    Returns
    -------
    ParsedCid
        Its codec and digest.

    Raises
    ------
    InvalidCidError
        If ``text`` is not a base32 CIDv1 with a raw or dag-pb codec and a sha2-256
        multihash; the message says which part is wrong.
    """
    if not isinstance(text, str) or not text:
        raise InvalidCidError("empty CID: pass a CIDv1 string such as 'bafkrei...'")
    return _parse(text)


@functools.lru_cache(maxsize=16_384)
def _parse(text: str) -> ParsedCid:
    """Parse a CID string (memoised: the result is immutable and errors are not cached)."""
    if text.startswith("Qm") and len(text) == 46:
        raise InvalidCidError(
            f"{text!r} is a CIDv0; ledgerlearn uses CIDv1 (convert with `ipfs cid base32`)"
        )
    if text[0] != "b":
        raise InvalidCidError(
            f"{text!r} is not multibase base32 (it must start with 'b'); "
            "convert with `ipfs cid format -b base32`"
        )
    body = text[1:]
    if body != body.lower():
        raise InvalidCidError(f"{text!r}: base32 CIDs are lower case")
    try:
        raw = base64.b32decode(body.upper() + "=" * (-len(body) % 8))
    except (ValueError, base64.binascii.Error) as exc:  # type: ignore[attr-defined]
        raise InvalidCidError(f"{text!r} is not valid base32: {exc}") from exc
    if not raw or raw[0] != 1:
        raise InvalidCidError(f"{text!r} is not a version-1 CID")
    codec, offset = _read_varint(raw, 1)
    if codec not in (CODEC_RAW, CODEC_DAG_PB):
        raise InvalidCidError(f"{text!r} has codec 0x{codec:x}; only raw and dag-pb are stored")
    hash_code, offset = _read_varint(raw, offset)
    length, offset = _read_varint(raw, offset)
    if hash_code != _SHA2_256 or length != _SHA2_256_LEN:
        raise InvalidCidError(f"{text!r} does not use a sha2-256 multihash")
    digest = raw[offset:]
    if len(digest) != _SHA2_256_LEN:
        raise InvalidCidError(f"{text!r} has a truncated or overlong digest")
    parsed = ParsedCid(codec, digest)
    if str(parsed) != text:
        raise InvalidCidError(f"{text!r} is not in canonical form")
    return parsed


def _pb_bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _pb_uint(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _encode_node(children: Sequence[tuple[bytes, int, int]]) -> tuple[bytes, int, int]:
    """Encode an internal dag-pb file node.

    ``children`` holds ``(cid_bytes, tsize, filesize)`` per child. Returns the node's block
    bytes, its cumulative tsize and the file bytes under it.
    """
    filesize = sum(child[2] for child in children)
    unixfs = _pb_uint(1, _UNIXFS_FILE) + _pb_uint(3, filesize)
    unixfs += b"".join(_pb_uint(4, child[2]) for child in children)
    links = b"".join(
        _pb_bytes(2, _pb_bytes(1, cid) + _pb_bytes(2, b"") + _pb_uint(3, tsize))
        for cid, tsize, _ in children
    )
    block = links + _pb_bytes(1, unixfs)
    return block, len(block) + sum(child[1] for child in children), filesize


@dataclass(frozen=True, slots=True)
class DagLayout:
    """The UnixFS DAG of one file.

    Attributes
    ----------
    cid
        The root CID.
    size
        File size in bytes.
    leaf_digests
        sha2-256 of each 256 KiB leaf, in file order.
    nodes
        The dag-pb internal blocks keyed by their CID string (empty for one leaf), so a
        store that speaks IPFS blocks can publish the whole DAG.
    """

    cid: Cid
    size: int
    leaf_digests: tuple[bytes, ...]
    nodes: dict[Cid, bytes]


def build_dag(leaf_digests: Sequence[bytes], size: int) -> DagLayout:
    """Build the balanced UnixFS DAG over leaves already hashed.

    Parameters
    ----------
    leaf_digests
        sha2-256 digest of each leaf in order; every leaf but the last is ``CHUNK_SIZE``
        bytes.
    size
        Total file size in bytes.

    Returns
    -------
    DagLayout
        The root CID and the internal nodes.
    """
    expected_leaves = max(1, -(-size // CHUNK_SIZE))
    if len(leaf_digests) != expected_leaves:
        raise ValueError(f"{size} bytes need {expected_leaves} leaves, got {len(leaf_digests)}")
    if expected_leaves == 1:
        return DagLayout(_cid_string(_cid_bytes(CODEC_RAW, leaf_digests[0])), size, (), {})
    level: list[tuple[bytes, int, int]] = []
    for index, digest in enumerate(leaf_digests):
        leaf_size = min(CHUNK_SIZE, size - index * CHUNK_SIZE)
        level.append((_cid_bytes(CODEC_RAW, digest), leaf_size, leaf_size))
    nodes: dict[Cid, bytes] = {}
    while len(level) > 1:
        parents: list[tuple[bytes, int, int]] = []
        for start in range(0, len(level), MAX_LINKS):
            block, tsize, filesize = _encode_node(level[start : start + MAX_LINKS])
            cid = _cid_bytes(CODEC_DAG_PB, hashlib.sha256(block).digest())
            nodes[_cid_string(cid)] = block
            parents.append((cid, tsize, filesize))
        level = parents
    return DagLayout(_cid_string(level[0][0]), size, tuple(leaf_digests), nodes)


class CidBuilder:
    """Compute a file's CID incrementally, holding at most one chunk in memory.

    Feed bytes in any slicing with :meth:`update`; :meth:`finish` returns the layout.
    Hashing is one sha2-256 pass over the content plus a few hundred bytes of node
    encoding per 44 MiB, so throughput is that of ``hashlib.sha256``.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._digests: list[bytes] = []
        self._size = 0

    @property
    def size(self) -> int:
        """Bytes fed so far."""
        return self._size

    def update(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        """Feed content.

        Parameters
        ----------
        data
            The next bytes of the file.

        Returns
        -------
        list[bytes]
            Digests of the leaves this call completed, in order.
        """
        view = memoryview(data)
        self._size += len(view)
        done: list[bytes] = []
        if self._buffer:
            take = CHUNK_SIZE - len(self._buffer)
            self._buffer += view[:take]
            view = view[take:]
            if len(self._buffer) < CHUNK_SIZE:
                return done
            done.append(hashlib.sha256(self._buffer).digest())
            self._buffer.clear()
        while len(view) >= CHUNK_SIZE:
            done.append(hashlib.sha256(view[:CHUNK_SIZE]).digest())
            view = view[CHUNK_SIZE:]
        self._buffer += view
        self._digests.extend(done)
        return done

    def finish(self) -> DagLayout:
        """Hash the last partial chunk and build the DAG.

        Returns
        -------
        DagLayout
            Root CID, size, leaf digests and internal nodes.
        """
        if self._buffer or not self._digests:
            self._digests.append(hashlib.sha256(self._buffer).digest())
            self._buffer.clear()
        return build_dag(self._digests, self._size)


def compute_cid(data: bytes | Iterable[bytes]) -> Cid:
    """Return the CIDv1 ``ipfs add --cid-version=1 --raw-leaves`` gives for ``data``.

    Parameters
    ----------
    data
        The content, whole or as an iterable of byte strings.

    Returns
    -------
    Cid
        The content's CID.
    """
    builder = CidBuilder()
    if isinstance(data, bytes | bytearray | memoryview):
        builder.update(data)
    else:
        for part in data:
            builder.update(part)
    return builder.finish().cid


def iter_stream(stream: BinaryIO, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Yield a binary stream's content in chunks of ``chunk_size`` bytes.

    Parameters
    ----------
    stream
        An open binary file or stream.
    chunk_size
        Bytes per chunk.

    Yields
    ------
    bytes
        The next chunk; the last may be shorter.
    """
    while chunk := stream.read(chunk_size):
        yield chunk


def compute_file_cid(stream: BinaryIO) -> DagLayout:
    """Hash a binary stream chunk by chunk and return its DAG layout.

    Parameters
    ----------
    stream
        An open binary file or stream; it is read to its end.

    Returns
    -------
    DagLayout
        Root CID, size and leaf digests.
    """
    builder = CidBuilder()
    for chunk in iter_stream(stream):
        builder.update(chunk)
    return builder.finish()
