from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledgerlearn.exceptions import EventCursorError
from ledgerlearn.ledger import EventCursor
from tests.conftest import Deployment


def _key(event: Any) -> tuple[int, int]:
    return (int(event["blockNumber"]), int(event["logIndex"]))


def _transfers(d: Deployment, count: int) -> None:
    for i in range(count):
        d.chain.sender(d.deployer).transact(d.token.functions.transfer(d.alice.address, i + 1))


def _cursor(d: Deployment, path: Path | None, **kwargs: Any) -> EventCursor:
    return EventCursor(d.chain, d.token, path, start_block=d.manifest.deploy_block, **kwargs)


def test_restarted_cursor_neither_misses_nor_repeats(
    deployment: Deployment, tmp_path: Path
) -> None:
    d, state = deployment, tmp_path / "cursor.json"
    _transfers(d, 5)
    seen: list[tuple[int, int]] = []
    assert _cursor(d, state).poll(lambda e: seen.append(_key(e)), max_events=3) == 3
    _cursor(d, state).poll(lambda e: seen.append(_key(e)))  # a "restarted" reader
    _transfers(d, 2)
    _cursor(d, state).poll(lambda e: seen.append(_key(e)))
    everything: list[tuple[int, int]] = []
    _cursor(d, None).poll(lambda e: everything.append(_key(e)))
    assert seen == everything and len(set(seen)) == len(seen) == 2 + 5 + 2


def test_handler_crash_redelivers_only_the_event_in_flight(
    deployment: Deployment, tmp_path: Path
) -> None:
    d, state = deployment, tmp_path / "cursor.json"
    _transfers(d, 3)
    seen: list[tuple[int, int]] = []

    def flaky(event: Any) -> None:
        if len(seen) == 2:
            raise RuntimeError("crash")
        seen.append(_key(event))

    with pytest.raises(RuntimeError):
        _cursor(d, state).poll(flaky)
    _cursor(d, state).poll(lambda e: seen.append(_key(e)))
    assert len(seen) == 5 and len(set(seen)) == 5


def test_checkpoint_saves_once_per_range_and_a_crash_redelivers_the_range(
    deployment: Deployment, tmp_path: Path
) -> None:
    d, state = deployment, tmp_path / "cursor.json"
    _transfers(d, 4)
    kept: list[tuple[int, int]] = []  # the handler's own state, "persisted" by checkpoint
    pending: list[tuple[int, int]] = []
    order: list[str] = []

    def checkpoint() -> None:
        order.append("checkpoint")
        kept.extend(pending)
        pending.clear()

    def crashing(event: Any) -> None:
        if len(pending) == 3:
            raise RuntimeError("crash")
        pending.append(_key(event))

    with pytest.raises(RuntimeError):
        _cursor(d, state).poll(crashing, checkpoint=checkpoint)
    assert kept == [] and not state.exists()  # nothing was written before the checkpoint
    pending.clear()  # the crashed process's unsaved state is gone
    cursor = _cursor(d, state, batch_blocks=1_000)
    cursor.poll(lambda e: pending.append(_key(e)), checkpoint=checkpoint)
    everything: list[tuple[int, int]] = []
    _cursor(d, None).poll(lambda e: everything.append(_key(e)))
    assert kept == everything  # redelivered from the start, each once
    assert order == ["checkpoint"]  # one save for the whole range
    assert json.loads(state.read_text())["block"] == cursor.position.block


def test_empty_blocks_are_saved_every_idle_save_blocks_and_events_at_once(
    deployment: Deployment, tmp_path: Path
) -> None:
    d, state = deployment, tmp_path / "cursor.json"
    _transfers(d, 2)
    seen: list[tuple[int, int]] = []
    checkpoints: list[int] = []
    cursor = _cursor(d, state, idle_save_blocks=5)

    def poll() -> None:
        cursor.poll(lambda e: seen.append(_key(e)), checkpoint=lambda: checkpoints.append(1))

    def saved() -> int:
        return int(json.loads(state.read_text())["block"])

    poll()
    assert saved() == d.chain.block_number and len(checkpoints) == 1  # events: at once
    events_block = saved()
    for _ in range(4):  # empty blocks, polled one by one: kept in memory only
        d.chain.mine(1)
        poll()
        assert saved() == events_block and cursor.position.block == d.chain.block_number
    assert len(checkpoints) == 1
    d.chain.mine(1)  # five blocks past the last save
    poll()
    assert saved() == d.chain.block_number and len(checkpoints) == 2
    d.chain.mine(2)
    poll()
    _transfers(d, 1)  # an event after unsaved empty blocks is saved with them
    poll()
    assert saved() == d.chain.block_number and len(checkpoints) == 3
    restarted: list[tuple[int, int]] = []
    _cursor(d, state, idle_save_blocks=5).poll(lambda e: restarted.append(_key(e)))
    everything: list[tuple[int, int]] = []
    _cursor(d, None).poll(lambda e: everything.append(_key(e)))
    assert restarted == [] and seen == everything
    with pytest.raises(EventCursorError, match="idle_save_blocks"):
        _cursor(d, None, idle_save_blocks=-1)


def test_confirmations_hold_back_recent_blocks(deployment: Deployment) -> None:
    d = deployment
    _transfers(d, 3)
    seen: list[tuple[int, int]] = []
    cursor = _cursor(d, None, confirmations=2)
    cursor.poll(lambda e: seen.append(_key(e)))
    assert max(block for block, _ in seen) == d.chain.block_number - 2
    _transfers(d, 2)
    cursor.poll(lambda e: seen.append(_key(e)))
    assert max(block for block, _ in seen) == d.chain.block_number - 2
    assert len(set(seen)) == len(seen)


def test_event_filter_and_small_batches(deployment: Deployment) -> None:
    d = deployment
    _transfers(d, 4)
    names: list[str] = []
    _cursor(d, None, events=["Transfer"], batch_blocks=1).poll(lambda e: names.append(e["event"]))
    assert names == ["Transfer"] * 5


def test_state_of_another_contract_is_refused(deployment: Deployment, tmp_path: Path) -> None:
    state = tmp_path / "cursor.json"
    state.write_text(
        json.dumps(
            {
                "chainId": deployment.chain.chain_id,
                "address": deployment.alice.address,
                "block": 1,
                "logIndex": 0,
            }
        )
    )
    with pytest.raises(EventCursorError, match="another state file"):
        _cursor(deployment, state)
    state.write_text("garbage")
    with pytest.raises(EventCursorError, match="unreadable"):
        _cursor(deployment, state)


def test_unknown_event_name_is_refused(deployment: Deployment) -> None:
    with pytest.raises(EventCursorError, match="no event 'Nope'"):
        _cursor(deployment, None, events=["Nope"])
