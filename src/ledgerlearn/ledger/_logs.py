"""Event log decoding: Solidity's event ABI encoding, read straight with ``eth_abi``.

A log's topic 0 is the keccak256 of the event signature; each indexed argument is one
further topic (its ABI encoding, or the keccak256 of it for dynamic types); the others are
ABI-encoded together in the data (Solidity ABI specification, "Events"). web3's
``ContractEvent.process_log`` decodes the same thing through layers of generic formatters,
which costs about a millisecond per log; nodes that follow a busy contract decode tens of
thousands. :class:`LogDecoder` precomputes the types once per event and returns exactly
what ``process_log`` returns (a test compares the two on every event of every contract).
Events whose arguments are all elementary (``uintN``, ``intN``, ``address``, ``bool``,
``bytesN``, ``bytes``, ``string``) are read word by word; a word that is not a canonical
encoding (bad padding, an out-of-range value, an offset outside the data) sends the log to
``eth_abi``, which raises as it would. Other arrays go to ``eth_abi`` and events with struct
(tuple) arguments to web3, which names their fields.

Trust assumption: none beyond the ABI; logs come from the chain as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from eth_abi import decode
from hexbytes import HexBytes
from web3.datastructures import AttributeDict
from web3.types import EventData, LogReceipt, TxReceipt

from ledgerlearn.ledger._abi import checksum, normaliser, signature_topic

__all__ = ["LogDecoder", "format_log", "format_receipt"]

_DYNAMIC = re.compile(r"^(string|bytes)$|\[\]")
_ELEMENTARY = re.compile(r"^(uint|int)(\d*)$|^(address|bool|bytes|string)$|^bytes(\d+)$")

Word = Callable[[bytes, int], Any]
"""Reads the argument whose head word starts at an offset of the data (or of a topic)."""


class _IrregularWordError(Exception):
    """A word is not what the canonical encoding of its type would be."""


def _word_reader(type_str: str) -> Word | None:
    """Return a reader for an elementary type, or ``None`` for anything else."""
    match = _ELEMENTARY.match(type_str)
    if match is None:
        return None
    integer, bits, named, size = match.groups()
    if integer is not None:
        width = int(bits or 256)
        if integer == "uint":

            def unsigned(data: bytes, at: int) -> int:
                value = int.from_bytes(data[at : at + 32], "big")
                if value >> width:
                    raise _IrregularWordError
                return value

            return unsigned

        def signed(data: bytes, at: int) -> int:
            value = int.from_bytes(data[at : at + 32], "big", signed=True)
            if not -(1 << (width - 1)) <= value < 1 << (width - 1):
                raise _IrregularWordError
            return value

        return signed
    if size is not None:
        length = int(size)

        def fixed(data: bytes, at: int) -> bytes:
            word = data[at : at + 32]
            if len(word) != 32 or any(word[length:]):
                raise _IrregularWordError
            return word[:length]

        return fixed
    if named == "address":

        def address(data: bytes, at: int) -> str:
            word = data[at : at + 32]
            if len(word) != 32 or any(word[:12]):
                raise _IrregularWordError
            return checksum("0x" + word[12:].hex())

        return address
    if named == "bool":

        def boolean(data: bytes, at: int) -> bool:
            value = int.from_bytes(data[at : at + 32], "big")
            if value > 1:
                raise _IrregularWordError
            return value == 1

        return boolean
    text = named == "string"

    def dynamic(data: bytes, at: int) -> bytes | str:
        start = int.from_bytes(data[at : at + 32], "big")
        if start + 32 > len(data):
            raise _IrregularWordError
        length = int.from_bytes(data[start : start + 32], "big")
        end = start + 32 + length
        padded = end + -length % 32
        if padded > len(data) or any(data[end:padded]):
            raise _IrregularWordError
        value = data[start + 32 : end]
        if not text:
            return value
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _IrregularWordError from exc

    return dynamic


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
        topic_readers = [_word_reader(t) for _, t in self._topics]
        data_readers = [_word_reader(t) for t in self._data_types]
        self._words: tuple[list[tuple[str, Word]], list[tuple[str, Word]]] | None = None
        if self._fast and all(topic_readers) and all(data_readers):
            self._words = (
                [(n, cast(Word, r)) for (n, _), r in zip(self._topics, topic_readers, strict=True)],
                [(n, cast(Word, r)) for (n, _), r in zip(self._data, data_readers, strict=True)],
            )

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
        args = self._read_words(topics, bytes(log["data"])) if self._words else None
        if args is None:
            args = {}
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

    def _read_words(self, topics: Sequence[bytes], data: bytes) -> dict[str, Any] | None:
        """Read elementary arguments word by word; ``None`` if a word is irregular."""
        assert self._words is not None
        in_topics, in_data = self._words
        if len(data) < 32 * len(in_data):
            return None
        args: dict[str, Any] = {}
        try:
            for (name, read), topic in zip(in_topics, topics[1:], strict=True):
                word = bytes(topic)
                if len(word) != 32:
                    return None
                args[name] = read(word, 0)
            for index, (name, read) in enumerate(in_data):
                args[name] = read(data, 32 * index)
        except _IrregularWordError:
            return None
        return args


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
