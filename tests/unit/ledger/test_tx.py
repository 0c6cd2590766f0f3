from __future__ import annotations

import pytest
import requests

from ledgerlearn.exceptions import ChainUnavailableError, TransactionFailedError
from ledgerlearn.ledger import RetryPolicy
from ledgerlearn.ledger._tx import is_transient, with_retries
from tests.conftest import Deployment


def test_with_retries_recovers_from_transient_failures() -> None:
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise requests.ConnectionError("connection reset")
        return "ok"

    assert with_retries(flaky, RetryPolicy(attempts=5, backoff=0.001), "probe") == "ok"
    assert len(calls) == 3


def test_with_retries_gives_up_with_chain_unavailable() -> None:
    def down() -> None:
        raise requests.Timeout("read timed out")

    with pytest.raises(ChainUnavailableError, match="failed 3 times"):
        with_retries(down, RetryPolicy(attempts=3, backoff=0.001), "probe")


def test_non_transient_errors_are_not_retried() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad params")

    with pytest.raises(ValueError):
        with_retries(broken, RetryPolicy(attempts=5, backoff=0.001), "probe")
    assert len(calls) == 1


def test_transient_classification() -> None:
    response = requests.Response()
    response.status_code = 503
    assert is_transient(requests.HTTPError(response=response))
    response.status_code = 400
    assert not is_transient(requests.HTTPError(response=response))
    assert is_transient(ConnectionResetError())


def test_sender_fills_nonce_gas_and_fees(deployment: Deployment) -> None:
    d = deployment
    sender = d.chain.sender(d.alice)
    before = d.chain.w3.eth.get_transaction_count(d.alice.address)
    receipt = sender.send({"to": d.bob.address, "value": 12345})
    tx = d.chain.w3.eth.get_transaction(receipt["transactionHash"])
    assert tx["nonce"] == before and tx["gas"] >= 21000 and tx["maxFeePerGas"] > 0
    assert d.chain.sender(d.alice) is sender  # one sender per account


def test_out_of_gas_in_block_is_reported(deployment: Deployment) -> None:
    d = deployment
    call = d.token.functions.transfer(d.alice.address, 1)
    with pytest.raises(TransactionFailedError, match=r"ran out of gas"):
        d.chain.sender(d.deployer).send(
            {"to": d.token.address, "data": call._encode_transaction_data(), "gas": 22_000}
        )
    assert d.token.functions.balanceOf(d.alice.address).call() == 0


def test_a_broadcast_whose_reply_was_lost_is_not_sent_again(
    devnet_deployment: Deployment,
) -> None:
    d = devnet_deployment
    sender = d.chain.sender(d.alice)
    real = sender._send_raw
    sent: list[bytes] = []

    def reply_lost_once(raw: bytes) -> bytes:
        sent.append(raw)
        tx_hash = real(raw)  # the node has it (anvil mines it at once) ...
        if len(sent) == 1:
            raise ConnectionResetError("... but the reply is lost")  # transient: retried
        return tx_hash

    before = d.chain.w3.eth.get_transaction_count(d.alice.address)
    sender._send_raw = reply_lost_once  # type: ignore[method-assign]
    try:
        receipt = sender.send({"to": d.bob.address, "value": 7})
    finally:
        del sender._send_raw
    # The retry met "nonce too low"; the sender saw its own transaction, not a conflict.
    assert len(sent) == 2 and sent[0] == sent[1]
    assert d.chain.w3.eth.get_transaction_count(d.alice.address) == before + 1
    assert d.chain.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == before
