"""ledgerlearn: trustless machine learning on an EVM ledger.

Organisations train models together without sharing data, independent providers serve
inference, and every model version, round and answer leaves evidence on chain that anyone
can check with only the chain and the content store.

The base layers are :mod:`ledgerlearn.ledger` (EVM chains), :mod:`ledgerlearn.storage`
(content-addressed artifacts) and :mod:`ledgerlearn.identity` (keys and DIDs).
"""

from ledgerlearn.exceptions import LedgerLearnError

__all__ = ["LedgerLearnError", "__version__"]

__version__ = "0.1.0"
