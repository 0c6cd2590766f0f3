"""The shared ContentStore suite: every back end runs these tests."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ledgerlearn.exceptions import ContentNotFoundError, InvalidCidError
from ledgerlearn.storage import CHUNK_SIZE, ContentStore, compute_cid

SIZES = [0, 1, CHUNK_SIZE, CHUNK_SIZE + 1, 5 * CHUNK_SIZE + 3]


class ContentStoreSuite:
    """Subclass and provide a ``store`` fixture returning a fresh, empty store."""

    @pytest.mark.parametrize("size", SIZES)
    def test_put_get_round_trip_with_ipfs_cid(self, store: ContentStore, size: int) -> None:
        data = os.urandom(size)
        cid = store.put(data)
        assert cid == compute_cid(data)
        assert store.get(cid) == data
        assert store.size(cid) == size
        assert store.has(cid) and cid in store

    def test_put_is_idempotent(self, store: ContentStore) -> None:
        data = os.urandom(CHUNK_SIZE + 10)
        assert store.put(data) == store.put(data)
        assert store.get(compute_cid(data)) == data

    def test_put_stream_accepts_iterables_and_files(self, store: ContentStore) -> None:
        data = os.urandom(3 * CHUNK_SIZE)
        pieces: Iterator[bytes] = (data[i : i + 1000] for i in range(0, len(data), 1000))
        assert store.put_stream(pieces) == compute_cid(data)
        assert store.put_stream(io.BytesIO(data)) == compute_cid(data)

    def test_iter_chunks_yields_leaf_sized_chunks(self, store: ContentStore) -> None:
        data = os.urandom(2 * CHUNK_SIZE + 1)
        chunks = list(store.iter_chunks(store.put(data)))
        assert [len(c) for c in chunks] == [CHUNK_SIZE, CHUNK_SIZE, 1]

    def test_get_missing_raises_content_not_found(self, store: ContentStore) -> None:
        cid = compute_cid(b"never stored")
        assert not store.has(cid)
        with pytest.raises(ContentNotFoundError):
            store.get(cid)
        with pytest.raises(LookupError):
            store.size(cid)

    def test_malformed_cid_raises_invalid_cid(self, store: ContentStore) -> None:
        with pytest.raises(InvalidCidError):
            store.get("not-a-cid")
        assert "not-a-cid" not in store

    def test_get_to_file_writes_verified_copy(self, store: ContentStore, tmp_path: Path) -> None:
        data = os.urandom(CHUNK_SIZE + 99)
        target = store.get_to_file(store.put(data), tmp_path / "out" / "model.bin")
        assert target.read_bytes() == data

    def test_delete_removes_content(self, store: ContentStore) -> None:
        cid = store.put(b"short-lived")
        assert store.delete(cid) is True
        assert store.delete(cid) is False
        assert not store.has(cid)
