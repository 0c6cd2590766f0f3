from __future__ import annotations

import os
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlearn.exceptions import ContentCorruptedError, StorageError
from ledgerlearn.storage import CHUNK_SIZE, LocalContentStore, compute_cid
from tests.unit.storage.store_suite import ContentStoreSuite


class TestLocalContentStore(ContentStoreSuite):
    @pytest.fixture
    def store(self, tmp_path: Path) -> LocalContentStore:
        return LocalContentStore(tmp_path / "store")


def _blob(store: LocalContentStore, cid: str) -> Path:
    return store.root / "blobs" / cid[-2:] / cid


@pytest.fixture
def store(tmp_path: Path) -> LocalContentStore:
    return LocalContentStore(tmp_path / "store")


def test_flipped_byte_raises_before_any_bad_byte_is_returned(store: LocalContentStore) -> None:
    data = os.urandom(3 * CHUNK_SIZE)
    cid = store.put(data)
    blob = _blob(store, cid)
    damaged = bytearray(blob.read_bytes())
    damaged[2 * CHUNK_SIZE + 5] ^= 0x01
    blob.write_bytes(bytes(damaged))
    received = []
    with pytest.raises(ContentCorruptedError, match="chunk 2"):
        for chunk in store.iter_chunks(cid):
            received.append(chunk)
    assert b"".join(received) == data[: 2 * CHUNK_SIZE]


@pytest.mark.parametrize("size", [0, 10, CHUNK_SIZE])
def test_corrupted_single_leaf_is_detected(store: LocalContentStore, size: int) -> None:
    cid = store.put(os.urandom(size))
    _blob(store, cid).write_bytes(b"other bytes")
    with pytest.raises(ContentCorruptedError):
        store.get(cid)


def test_truncated_and_extended_blobs_are_detected(store: LocalContentStore) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 7)
    cid = store.put(data)
    _blob(store, cid).write_bytes(data[:-1])
    with pytest.raises(ContentCorruptedError):
        store.get(cid)
    _blob(store, cid).write_bytes(data + b"!")
    with pytest.raises(ContentCorruptedError):
        store.get(cid)


def test_damaged_or_missing_leaf_index_is_detected(store: LocalContentStore) -> None:
    cid = store.put(os.urandom(2 * CHUNK_SIZE))
    index = store.root / "leaves" / cid[-2:] / cid
    index.write_bytes(index.read_bytes()[:-1])
    with pytest.raises(ContentCorruptedError, match="index"):
        store.get(cid)
    index.write_bytes(os.urandom(64))
    with pytest.raises(ContentCorruptedError, match="index"):
        store.get(cid)
    index.unlink()
    with pytest.raises(ContentCorruptedError, match="missing"):
        store.get(cid)


def test_failed_write_leaves_nothing_behind(store: LocalContentStore) -> None:
    def broken() -> Iterator[bytes]:
        yield os.urandom(CHUNK_SIZE)
        raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        store.put_stream(broken())
    assert list(store.iter_cids()) == []
    assert list((store.root / "tmp").iterdir()) == []


def test_get_to_file_leaves_target_untouched_on_corruption(
    store: LocalContentStore, tmp_path: Path
) -> None:
    data = os.urandom(2 * CHUNK_SIZE)
    cid = store.put(data)
    _blob(store, cid).write_bytes(os.urandom(len(data)))
    target = tmp_path / "model.bin"
    target.write_bytes(b"previous")
    with pytest.raises(ContentCorruptedError):
        store.get_to_file(cid, target)
    assert target.read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model")] == []


def test_two_stores_on_one_root_share_content(tmp_path: Path) -> None:
    first, second = LocalContentStore(tmp_path / "s"), LocalContentStore(tmp_path / "s")
    cid = first.put(b"shared")
    assert second.get(cid) == b"shared"


def test_unwritable_root_raises_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot create"):
        LocalContentStore(blocker / "store")


def test_streaming_64_mib_keeps_python_memory_under_4_mib(store: LocalContentStore) -> None:
    size = 64 * 1024 * 1024
    block = os.urandom(1 << 20)

    def content() -> Iterator[bytes]:
        for _ in range(size // len(block)):
            yield block

    tracemalloc.start()
    try:
        cid = store.put_stream(content())
        total = sum(len(chunk) for chunk in store.iter_chunks(cid))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size and cid == compute_cid(content())
    assert peak < 4 * 1024 * 1024, f"peak traced memory {peak / 2**20:.1f} MiB"
