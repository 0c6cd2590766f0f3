"""LogDecoder returns exactly what web3's process_log returns, for every event we emit."""

from __future__ import annotations

import random
from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hexbytes import HexBytes
from web3 import Web3
from web3.datastructures import AttributeDict
from web3.types import LogReceipt

from ledgerlearn.ledger import event_topic
from ledgerlearn.ledger._artifacts import all_artifacts
from ledgerlearn.ledger._logs import LogDecoder
from tests.conftest import Deployment
from tests.unit.ledger.abi_values import value_for

_EVENTS = [
    (artifact.name, entry["name"])
    for artifact in all_artifacts()
    for entry in artifact.abi
    if entry.get("type") == "event"
]


def _log(abi: dict[str, Any], rng: random.Random) -> AttributeDict[str, Any]:
    signature = f"{abi['name']}({','.join(i['type'] for i in abi['inputs'])})"
    topics = [HexBytes(keccak(text=signature))]
    data_types, data_values = [], []
    for item in abi["inputs"]:
        value = value_for(item, rng)
        if not item.get("indexed"):
            data_types.append(item["type"])
            data_values.append(value)
        elif item["type"] in ("string", "bytes") or item["type"].endswith("]"):
            topics.append(HexBytes(keccak(encode([item["type"]], [value]))))
        else:
            topics.append(HexBytes(encode([item["type"]], [value])))
    return AttributeDict(
        {
            "address": to_checksum_address(rng.randbytes(20)),
            "topics": topics,
            "data": HexBytes(encode(data_types, data_values)),
            "blockNumber": rng.randint(0, 10**6),
            "blockHash": HexBytes(rng.randbytes(32)),
            "transactionHash": HexBytes(rng.randbytes(32)),
            "transactionIndex": rng.randint(0, 100),
            "logIndex": rng.randint(0, 100),
            "removed": False,
        }
    )


@pytest.mark.parametrize(("contract", "event"), _EVENTS)
def test_decoder_equals_web3_process_log(contract: str, event: str) -> None:
    artifact = next(a for a in all_artifacts() if a.name == contract)
    instance = getattr(Web3().eth.contract(abi=artifact.abi).events, event)()
    decoder = LogDecoder(instance)
    rng = random.Random(f"{contract}.{event}")
    for _ in range(20):
        log = _log(instance.abi, rng)
        ours, theirs = decoder.decode(cast(LogReceipt, log)), instance.process_log(log)
        assert ours == theirs
        for name, value in theirs["args"].items():
            assert type(ours["args"][name]) is type(value), name


def test_decoder_on_real_logs_and_wrong_event(deployment: Deployment) -> None:
    d = deployment
    sender = d.chain.sender(d.deployer)
    for amount in (1, 12345):
        sender.transact(d.token.functions.transfer(d.alice.address, amount))
    sender.transact(d.token.functions.approve(d.alice.address, 2**200))
    logs = d.chain.w3.eth.get_logs(
        {"address": d.token.address, "fromBlock": d.manifest.deploy_block, "toBlock": "latest"}
    )
    transfer = d.token.events.Transfer()
    decoder = LogDecoder(transfer)
    topic = bytes(decoder.topic)
    transfers = [log for log in logs if bytes(log["topics"][0]) == topic]
    assert len(transfers) >= 2
    for log in transfers:
        assert decoder.decode(log) == transfer.process_log(log)
    other = next(log for log in logs if bytes(log["topics"][0]) != topic)
    with pytest.raises(ValueError, match="not a Transfer event"):
        decoder.decode(other)


def test_topic_of_an_event_with_a_struct_spells_the_tuple_out() -> None:
    abi = {
        "type": "event",
        "name": "Posted",
        "anonymous": False,
        "inputs": [
            {"name": "id", "type": "uint256", "indexed": True},
            {
                "name": "entry",
                "type": "tuple",
                "indexed": False,
                "components": [
                    {"name": "who", "type": "address"},
                    {"name": "sizes", "type": "uint64[]"},
                ],
            },
        ],
    }
    event = Web3().eth.contract(abi=[abi]).events.Posted
    assert LogDecoder(event()).topic == keccak(text="Posted(uint256,(address,uint64[]))")
    assert event_topic(event) == HexBytes(event().topic)  # what web3 computes


_FLAT = {
    "type": "event",
    "name": "Flat",
    "anonymous": False,
    "inputs": [
        {"name": "who", "type": "address", "indexed": True},
        {"name": "step", "type": "uint8", "indexed": False},
        {"name": "delta", "type": "int16", "indexed": False},
        {"name": "ok", "type": "bool", "indexed": False},
        {"name": "sha", "type": "bytes32", "indexed": False},
        {"name": "tag", "type": "bytes4", "indexed": False},
        {"name": "cid", "type": "bytes", "indexed": False},
        {"name": "note", "type": "string", "indexed": False},
    ],
}


def _flat_log(topic_word: bytes, data: bytes) -> AttributeDict[str, Any]:
    signature = "Flat(address,uint8,int16,bool,bytes32,bytes4,bytes,string)"
    return AttributeDict(
        {
            "address": to_checksum_address(b"\x01" * 20),
            "topics": [HexBytes(keccak(text=signature)), HexBytes(topic_word)],
            "data": HexBytes(data),
            "blockNumber": 7,
            "blockHash": HexBytes(b"\x02" * 32),
            "transactionHash": HexBytes(b"\x03" * 32),
            "transactionIndex": 0,
            "logIndex": 1,
            "removed": False,
        }
    )


def test_word_reader_matches_eth_abi_and_defers_to_it_on_irregular_words() -> None:
    event = Web3().eth.contract(abi=[_FLAT]).events.Flat()
    decoder = LogDecoder(event)
    types = ["uint8", "int16", "bool", "bytes32", "bytes4", "bytes", "string"]
    values = [200, -300, True, b"\x05" * 32, b"\xab\xcd\x00\x01", b"\x00cid\xff" * 9, "ünïcode"]
    who = encode(["address"], [to_checksum_address(b"\x09" * 20)])
    data = encode(types, values)
    good = _flat_log(who, data)
    # The word-by-word path is the one under test.
    assert decoder._read_words(good["topics"], bytes(good["data"])) is not None
    assert decoder.decode(cast(LogReceipt, good)) == event.process_log(good)
    # Words no canonical encoding has: each goes to eth_abi, which refuses it as web3 does.
    words = [data[i : i + 32] for i in range(0, len(data), 32)]

    def with_word(index: int, word: bytes) -> bytes:
        return b"".join(word if i == index else w for i, w in enumerate(words))

    bad = [
        _flat_log(b"\x01" + who[1:], data),  # address with a dirty high byte
        _flat_log(who, with_word(0, (256).to_bytes(32, "big"))),  # uint8 out of range
        _flat_log(who, with_word(1, (2**15).to_bytes(32, "big"))),  # int16 out of range
        _flat_log(who, with_word(2, (2).to_bytes(32, "big"))),  # bool neither 0 nor 1
        _flat_log(who, with_word(4, b"\xab\xcd\x00\x01" + b"\x01" * 28)),  # bytes4 padding
        _flat_log(who, with_word(5, (len(data) + 64).to_bytes(32, "big"))),  # offset outside
        _flat_log(who, data[:-1] + b"\x01"),  # string padding
    ]
    for log in bad:
        with pytest.raises(Exception) as theirs:
            event.process_log(log)
        with pytest.raises(type(theirs.value)):
            decoder.decode(cast(LogReceipt, log))
