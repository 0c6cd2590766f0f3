from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledgerlearn.exceptions import InvalidCidError
from ledgerlearn.storage import (
    CHUNK_SIZE,
    CidBuilder,
    build_dag,
    compute_cid,
    compute_file_cid,
    parse_cid,
)
from tests.conftest import ROOT

EMPTY = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def test_parse_cid_round_trips_raw_and_dag_pb() -> None:
    for text in (EMPTY, compute_cid(b"x" * (CHUNK_SIZE + 1))):
        assert str(parse_cid(text)) == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG", "CIDv0"),
        ("zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA", "base32"),
        ("BAFKREIHDWDCEFGH4DQKJV67UZCMW7OJEE6XEDZDETOJUZJEVTENXQUVYKU", "base32"),
        ("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyk", "base32|digest"),
        ("bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvykuaa", "digest"),
        ("bagaaierasords4njcts6vs7qvdjfcvgnume4hqohf65zsfguprqphs3icwea", "codec"),
        ("b!!!", "base32"),
    ],
)
def test_parse_cid_rejects_malformed(text: str, fragment: str) -> None:
    with pytest.raises(InvalidCidError, match=fragment):
        parse_cid(text)


def test_invalid_cid_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_cid("nope")


@given(st.binary(max_size=3 * CHUNK_SIZE), st.lists(st.integers(1, CHUNK_SIZE + 7), max_size=8))
@settings(max_examples=40, deadline=None)
def test_builder_is_independent_of_how_input_is_sliced(data: bytes, cuts: list[int]) -> None:
    builder = CidBuilder()
    offset = 0
    for cut in cuts:
        builder.update(data[offset : offset + cut])
        offset += cut
    builder.update(data[offset:])
    assert builder.finish().cid == compute_cid(data)


def test_single_chunk_is_a_raw_leaf_and_two_chunks_a_dag() -> None:
    assert compute_cid(b"a" * CHUNK_SIZE).startswith("bafkrei")
    layout = CidBuilder()
    layout.update(b"a" * (CHUNK_SIZE + 1))
    dag = layout.finish()
    assert dag.cid.startswith("bafybei") and len(dag.leaf_digests) == 2 and len(dag.nodes) == 1


def test_build_dag_rejects_wrong_leaf_count() -> None:
    with pytest.raises(ValueError, match="leaves"):
        build_dag([b"\0" * 32], CHUNK_SIZE + 1)


def test_compute_file_cid_matches_compute_cid() -> None:
    data = os.urandom(CHUNK_SIZE * 2 + 5)
    assert compute_file_cid(io.BytesIO(data)).cid == compute_cid(data)


@pytest.mark.skipif(
    shutil.which("node") is None or not (ROOT / "node_modules" / "ipfs-unixfs-importer").is_dir(),
    reason="needs node and npm ci (make setup)",
)
def test_cids_match_the_js_unixfs_importer_on_random_sizes(tmp_path: Path) -> None:
    sizes = [
        0,
        1,
        255,
        CHUNK_SIZE - 1,
        CHUNK_SIZE,
        CHUNK_SIZE + 1,
        3 * CHUNK_SIZE + 17,
        175 * CHUNK_SIZE + 3,
    ]
    expected = {}
    for size in sizes:
        path = tmp_path / f"f{size}"
        data = os.urandom(size)
        path.write_bytes(data)
        expected[str(path)] = compute_cid(data)
    out = subprocess.run(
        ["node", str(ROOT / "scripts" / "reference-cid.mjs"), *expected],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    reference = dict(reversed(line.split(" ", 1)) for line in out.strip().splitlines())
    assert reference == expected
