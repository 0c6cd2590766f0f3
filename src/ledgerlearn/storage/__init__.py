"""Storage: content-addressed artifacts with IPFS-compatible CIDs.

Weights, manifests, updates and reports live off chain under CIDs that the chain records.
:func:`compute_cid` gives the CID ``ipfs add --cid-version=1 --raw-leaves`` prints;
:class:`ContentStore` is the base every back end implements and verifies every read;
:class:`LocalContentStore` keeps content in a local directory.

Trust assumption: storage back ends are untrusted; integrity comes from the CID alone.
"""

from ledgerlearn.storage._cid import (
    CHUNK_SIZE,
    CidBuilder,
    DagLayout,
    ParsedCid,
    build_dag,
    cid_from_binary,
    cid_or_hex,
    compute_cid,
    compute_file_cid,
    parse_cid,
)
from ledgerlearn.storage._local import LocalContentStore
from ledgerlearn.storage._store import ContentStore

__all__ = [
    "CHUNK_SIZE",
    "CidBuilder",
    "ContentStore",
    "DagLayout",
    "LocalContentStore",
    "ParsedCid",
    "build_dag",
    "cid_from_binary",
    "cid_or_hex",
    "compute_cid",
    "compute_file_cid",
    "parse_cid",
]
