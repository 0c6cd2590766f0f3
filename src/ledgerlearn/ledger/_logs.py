"""Event log decoding: Solidity's event ABI encoding, read straight with ``eth_abi``.

A log's topic 0 is the keccak256 of the event signature; each indexed argument is one
further topic (its ABI encoding, or the keccak256 of it for dynamic types); the others are
ABI-encoded together in the data (Solidity ABI specification, "Events"). web3's
``ContractEvent.process_log`` decodes the same thing through layers of generic formatters,
which costs about a millisecond per log; nodes that follow a busy contract decode tens of
thousands. :class:`LogDecoder` precomputes the types once per event and returns exactly
what ``process_log`` returns (a test compares the two on every event of every contract).
Events with struct (tuple) arguments are handed to web3, which names their fields.

Trust assumption: none beyond the ABI; logs come from the chain as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from eth_abi import decode
from hexbytes import HexBytes
from web3.datastructures import AttributeDict
from web3.types import EventData, LogReceipt, TxReceipt

from ledgerlearn.ledger._abi import checksum, normaliser, signature_topic

__all__ = ["LogDecoder", "format_log", "format_receipt"]

_DYNAMIC = re.compile(r"^(string|bytes)$|\[\]")


class LogDecoder:
    """Decode the logs of one event type as web3's ``process_log`` would.

    Parameters
    ----------
    event
        A web3 contract event instance (``contract.events.Name()``); its ABI gives the
        types, and it decodes the logs whose arguments are structs.

    Raises
    ------
    ValueError
        For an anonymous event.
    """

    def __init__(self, event: Any) -> None:
        abi = cast(Mapping[str, Any], event.abi)
        self.name = str(abi["name"])
        if abi.get("anonymous"):
            raise ValueError(f"{self.name} is anonymous: it has no topic to recognise it by")
        inputs = list(abi["inputs"])
        self.topic = signature_topic(abi)
        self._event = event
        self._fast = not any(str(i["type"]).startswith("tuple") for i in inputs)
        self._topics = [
            (
                i["name"],
                "bytes32" if _DYNAMIC.search(i["type"]) else i["type"],
            )
            for i in inputs
            if i.get("indexed")
        ]
        self._data = [(i["name"], i["type"]) for i in inputs if not i.get("indexed")]
        self._data_types = [t for _, t in self._data]

    def decode(self, log: LogReceipt) -> EventData:
        """Return the decoded event (``args``, ``event``, ``blockNumber`` ...).

        Raises
        ------
        ValueError
            If the log is not this event's (topic 0 or the number of topics differ).
        """
        topics = log["topics"]
        if not topics or bytes(topics[0]) != self.topic:
            raise ValueError(f"the log is not a {self.name} event")
        if not self._fast:
            return cast(EventData, self._event.process_log(log))
        if len(topics) - 1 != len(self._topics):
            raise ValueError(
                f"{self.name} has {len(self._topics)} indexed arguments, "
                f"the log {len(topics) - 1} topics"
            )
        args: dict[str, Any] = {}
        for (name, type_str), topic in zip(self._topics, topics[1:], strict=True):
            args[name] = normaliser(type_str)(decode([type_str], bytes(topic))[0])
        values = decode(self._data_types, bytes(log["data"]))
        for (name, type_str), value in zip(self._data, values, strict=True):
            args[name] = normaliser(type_str)(value)
        return cast(
            EventData,
            AttributeDict(
                {
                    "args": AttributeDict(args),
                    "event": self.name,
                    "logIndex": log["logIndex"],
                    "transactionIndex": log["transactionIndex"],
                    "transactionHash": log["transactionHash"],
                    "address": log["address"],
                    "blockHash": log["blockHash"],
                    "blockNumber": log["blockNumber"],
                }
            ),
        )


def _int(value: Any) -> Any:
    return int(value, 16) if isinstance(value, str) else value


def _bytes(value: Any) -> Any:
    return HexBytes(value) if value is not None else None


def format_log(raw: Mapping[str, Any]) -> LogReceipt:
    """Format a JSON-RPC log object as web3's ``eth.get_logs`` does.

    Parameters
    ----------
    raw
        One entry of an ``eth_getLogs`` result (hex strings).

    Returns
    -------
    LogReceipt
        ``HexBytes`` hashes, topics and data, int block number and indices, checksummed
        address; other members as the node sent them.
    """
    log = dict(raw)
    log["address"] = checksum(raw["address"])
    log["topics"] = [HexBytes(topic) for topic in raw["topics"]]
    log["data"] = HexBytes(raw["data"])
    for key in ("blockHash", "transactionHash"):
        if key in raw:
            log[key] = _bytes(raw[key])
    for key in ("blockNumber", "transactionIndex", "logIndex"):
        if key in raw:
            log[key] = _int(raw[key])
    return cast(LogReceipt, AttributeDict(log))


_RECEIPT_INTS = (
    "blockNumber",
    "transactionIndex",
    "cumulativeGasUsed",
    "status",
    "gasUsed",
    "effectiveGasPrice",
    "type",
    "blobGasPrice",
    "blobGasUsed",
)


def format_receipt(raw: Mapping[str, Any]) -> TxReceipt:
    """Format a JSON-RPC transaction receipt as web3's ``eth.get_transaction_receipt`` does.

    Parameters
    ----------
    raw
        An ``eth_getTransactionReceipt`` result (hex strings).

    Returns
    -------
    TxReceipt
        Int quantities, ``HexBytes`` hashes and bloom, checksummed addresses, formatted
        logs; other members as the node sent them.
    """
    receipt = dict(raw)
    for key in _RECEIPT_INTS:
        if raw.get(key) is not None:
            receipt[key] = _int(raw[key])
    for key in ("blockHash", "transactionHash", "logsBloom"):
        if raw.get(key) is not None:
            receipt[key] = HexBytes(raw[key])
    for key in ("contractAddress", "from", "to"):
        if raw.get(key) is not None:
            receipt[key] = checksum(raw[key])
    receipt["logs"] = [format_log(log) for log in raw.get("logs", [])]
    return cast(TxReceipt, AttributeDict.recursive(receipt))
