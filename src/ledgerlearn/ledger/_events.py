"""Event cursor: read a contract's events once each, across restarts.

An :class:`EventCursor` remembers the last event it delivered — ``(block, logIndex)`` — in a
small JSON state file, written atomically after each handled event (or once per block range
with a checkpoint). A restarted reader resumes right after that event, so it neither misses
nor repeats one. Only blocks at least ``confirmations`` deep are read, so a shallow
reorganisation cannot deliver an event that later disappears. Logs are decoded by
:class:`~ledgerlearn.ledger._logs.LogDecoder`.

Trust assumption: the node returns the logs of the canonical chain; ``confirmations``
bounds the reorg depth that is tolerated. A handler that crashes mid-way sees its event
again on restart, so handlers must be idempotent for the one event in flight.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from web3.contract import Contract
from web3.types import EventData, FilterParams, LogReceipt

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import EventCursorError
from ledgerlearn.ledger._abi import signature_topic
from ledgerlearn.ledger._chain import Chain
from ledgerlearn.ledger._logs import LogDecoder
from ledgerlearn.ledger._tx import RetryPolicy, with_retries

__all__ = ["BLOCK_DONE", "CursorPosition", "EventCursor", "event_topic", "receipt_events"]


@dataclass(frozen=True, slots=True, order=True)
class CursorPosition:
    """The last delivered event; ``log_index == BLOCK_DONE`` means all of ``block`` is done."""

    block: int
    log_index: int


BLOCK_DONE = 2**31
"""A log index past any real one: the position after the last event of a block."""


class EventCursor:
    """Deliver a contract's events in chain order, exactly once across restarts.

    Parameters
    ----------
    chain
        The connected chain.
    contract
        The contract whose events to read.
    state_path
        Where to persist the position; ``None`` keeps it in memory only.
    events
        Event names to deliver; all of the contract's events when omitted.
    start_block
        First block to read when there is no saved state (e.g. the manifest's deploy block).
    confirmations
        Blocks to stay behind the head.
    batch_blocks
        Most blocks per ``eth_getLogs`` request.
    idle_save_blocks
        Persist a position reached through blocks without events only once it is this many
        blocks past the last saved one (0: every time). A restart then reads those empty
        blocks again, which delivers nothing; a node that polls after every block saves a
        write (and an fsync) per poll.
    """

    def __init__(
        self,
        chain: Chain,
        contract: Contract,
        state_path: str | os.PathLike[str] | None,
        *,
        events: Sequence[str] | None = None,
        start_block: int = 0,
        confirmations: int = 0,
        batch_blocks: int = 2_000,
        idle_save_blocks: int = 0,
    ) -> None:
        if confirmations < 0 or batch_blocks < 1 or idle_save_blocks < 0:
            raise EventCursorError(
                "confirmations and idle_save_blocks must be >= 0 and batch_blocks >= 1"
            )
        self._idle_save = idle_save_blocks
        self._chain = chain
        self._contract = contract
        self._state_path = Path(state_path) if state_path is not None else None
        self._confirmations = confirmations
        self._batch = batch_blocks
        names = (
            list(events)
            if events is not None
            else [
                str(cast(dict[str, Any], e)["name"])
                for e in contract.abi
                if e.get("type") == "event"
            ]
        )
        self._events: dict[bytes, LogDecoder] = {}
        for name in names:
            event = getattr(contract.events, name, None)
            if event is None:
                raise EventCursorError(f"{contract.address} has no event {name!r}")
            decoder = LogDecoder(event())
            self._events[decoder.topic] = decoder
        self._position = self._load() or CursorPosition(start_block - 1, BLOCK_DONE)
        self._saved_block = self._position.block

    @property
    def position(self) -> CursorPosition:
        """The last delivered event (or fully processed block)."""
        return self._position

    def _load(self) -> CursorPosition | None:
        if self._state_path is None or not self._state_path.exists():
            return None
        try:
            state = json.loads(self._state_path.read_text())
            position = CursorPosition(int(state["block"]), int(state["logIndex"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EventCursorError(f"cursor state {self._state_path} is unreadable: {exc}") from exc
        if (
            state.get("chainId") != self._chain.chain_id
            or state.get("address") != self._contract.address
        ):
            raise EventCursorError(
                f"cursor state {self._state_path} belongs to chain {state.get('chainId')} "
                f"contract {state.get('address')}, not {self._chain.chain_id} "
                f"{self._contract.address}; use another state file"
            )
        return position

    def _save(self, position: CursorPosition) -> None:
        self._position = position
        self._write()

    def _write(self) -> None:
        if self._state_path is None:
            return
        state = {
            "chainId": self._chain.chain_id,
            "address": self._contract.address,
            "block": self._position.block,
            "logIndex": self._position.log_index,
        }
        atomic_write_bytes(self._state_path, json.dumps(state).encode())
        self._saved_block = self._position.block

    def poll(
        self,
        handler: Callable[[EventData], Any],
        *,
        max_events: int | None = None,
        checkpoint: Callable[[], None] | None = None,
        head: int | None = None,
    ) -> int:
        """Deliver every new confirmed event to ``handler``, in order.

        Parameters
        ----------
        handler
            Called once per event; the position is saved after it returns.
        max_events
            Stop after this many (the rest come on the next call).
        checkpoint
            If given, the position is saved once per block range fetched instead of after
            every event, right after ``checkpoint()`` persists what the handler recorded
            (its own state file). A crash in between redelivers the range, so the handler
            must be idempotent. Saves one write per event for handlers that keep state.
        head
            The chain's latest block number if the caller just read it (saves a request);
            read here when omitted.

        Returns
        -------
        int
            How many events were delivered.
        """
        head = (self._chain.block_number if head is None else head) - self._confirmations
        delivered = 0
        start = self._position.block + (1 if self._position.log_index == BLOCK_DONE else 0)
        start = max(start, 0)

        def save(position: CursorPosition) -> None:
            if checkpoint is not None:
                checkpoint()
            self._save(position)

        while start <= head:
            end = min(head, start + self._batch - 1)
            before = delivered
            for log in self._fetch(start, end):
                position = CursorPosition(int(log["blockNumber"]), int(log["logIndex"]))
                if position <= self._position:
                    continue
                handler(self._decode(log))
                delivered += 1
                if checkpoint is None:
                    self._save(position)
                else:
                    self._position = position  # written with the range, after checkpoint()
                if max_events is not None and delivered >= max_events:
                    if checkpoint is not None:
                        save(position)
                    return delivered
            done = CursorPosition(end, BLOCK_DONE)
            if self._position < done:
                if delivered > before or end - self._saved_block >= self._idle_save:
                    save(done)
                else:
                    self._position = done  # nothing new to keep; saved with a later range
            start = end + 1
        return delivered

    def _fetch(self, start: int, end: int) -> list[LogReceipt]:
        params: FilterParams = {
            "address": self._contract.address,
            "fromBlock": start,
            "toBlock": end,
            "topics": [["0x" + topic.hex() for topic in self._events]],
        }
        logs = with_retries(
            lambda: self._chain.get_logs(params), RetryPolicy(), "read contract events"
        )
        return sorted(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))

    def _decode(self, log: LogReceipt) -> EventData:
        return self._events[bytes(log["topics"][0])].decode(log)


def event_topic(event: Any) -> bytes:
    """Return an event's topic 0: keccak256 of its canonical signature.

    Parameters
    ----------
    event
        A contract event class, e.g. ``contract.events.Transfer``.

    Returns
    -------
    bytes
        32 bytes.
    """
    return signature_topic(event().abi)


def receipt_events(event: Any, receipt: Any) -> list[Any]:
    """Decode the logs of one event type from a receipt, skipping every other log.

    web3's ``process_receipt`` warns about each log of another type; this filters by the
    event's topic first.

    Parameters
    ----------
    event
        A contract event class, e.g. ``contract.events.Transfer``.
    receipt
        A transaction receipt.

    Returns
    -------
    list
        The decoded events (``args``, ``blockNumber`` ...), in log order.
    """
    instance = event()
    decoder = LogDecoder(instance)
    topic = decoder.topic
    address = instance.address
    return [
        decoder.decode(log)
        for log in receipt["logs"]
        if log["topics"]
        and bytes(log["topics"][0]) == topic
        and (address is None or log["address"] == address)
    ]
