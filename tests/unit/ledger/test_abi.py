"""decode_return gives exactly what web3's ContractFunction.call gives, for every function."""

from __future__ import annotations

import random
from typing import Any, cast

import pytest
from eth_abi import encode
from eth_utils import to_checksum_address
from web3 import Web3
from web3.providers.base import BaseProvider
from web3.types import FilterParams, RPCEndpoint, RPCResponse

from ledgerlearn.exceptions import ContractRevertError, LedgerError
from ledgerlearn.ledger._abi import abi_type, decode_return
from ledgerlearn.ledger._artifacts import all_artifacts
from tests.conftest import Deployment
from tests.unit.ledger.abi_values import value_for

_FUNCTIONS = [
    (artifact.name, entry)
    for artifact in all_artifacts()
    for entry in artifact.abi
    if entry.get("type") == "function" and entry.get("outputs")
]


class _Returns(BaseProvider):
    """Answers every eth_call with preset bytes, so web3 decodes what we chose."""

    data = b""

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        result = "0x1" if method == "eth_chainId" else "0x" + self.data.hex()
        return {"jsonrpc": "2.0", "id": 1, "result": result}

    def is_connected(self, show_traceback: bool = False) -> bool:
        return True


def _same(ours: Any, theirs: Any) -> None:
    assert type(ours) is type(theirs)
    if isinstance(theirs, list | tuple):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            _same(a, b)
    else:
        assert ours == theirs


@pytest.mark.parametrize(
    ("contract", "abi"), _FUNCTIONS, ids=[f"{c}.{f['name']}" for c, f in _FUNCTIONS]
)
def test_decode_return_equals_web3_call(contract: str, abi: dict[str, Any]) -> None:
    provider = _Returns()
    w3 = Web3(provider)
    address = to_checksum_address("0x" + "11" * 20)
    instance = w3.eth.contract(address=address, abi=cast(Any, [abi]))
    rng = random.Random(f"{contract}.{abi['name']}")
    types = [abi_type(item) for item in abi["outputs"]]
    for _ in range(10):
        args = [value_for(item, rng) for item in abi["inputs"]]
        values = [value_for(item, rng) for item in abi["outputs"]]
        provider.data = encode(types, values)
        theirs = getattr(instance.functions, abi["name"])(*args).call()
        _same(decode_return(abi["outputs"], provider.data), theirs)


def test_chain_call_decodes_and_explains_a_missing_contract(deployment: Deployment) -> None:
    d = deployment
    assert d.chain.call(d.token.functions.balanceOf(d.alice.address)) == int(
        d.token.functions.balanceOf(d.alice.address).call()
    )
    assert d.chain.call(d.token.functions.symbol()) == d.token.functions.symbol().call()
    nowhere = d.chain.w3.eth.contract(
        address=to_checksum_address("0x" + "22" * 20), abi=d.token.abi
    )
    with pytest.raises(LedgerError, match="is the contract deployed there"):
        d.chain.call(nowhere.functions.balanceOf(d.alice.address))


def test_devnet_json_rpc_reads_equal_web3(devnet_deployment: Deployment) -> None:
    """Over HTTP the chain's reads skip web3's formatters; they must give the same values."""
    d = devnet_deployment
    sender = d.chain.sender(d.deployer)
    receipts = [
        sender.transact(d.token.functions.transfer(d.alice.address, 7)),
        sender.transact(d.token.functions.approve(d.alice.address, 9)),
    ]
    for receipt in receipts:  # the sender's JSON-RPC receipts are web3's
        web3s = d.chain.w3.eth.get_transaction_receipt(receipt["transactionHash"])
        assert receipt == web3s and len(receipt["logs"]) == 1
        assert {k: type(v) for k, v in receipt.items()} == {k: type(v) for k, v in web3s.items()}
    assert d.chain.block_number == d.chain.w3.eth.block_number
    params: FilterParams = {
        "address": d.token.address,
        "fromBlock": d.manifest.deploy_block,
        "toBlock": d.chain.block_number,
    }
    ours, theirs = d.chain.get_logs(params), d.chain.w3.eth.get_logs(params)
    assert len(ours) >= 2 and ours == theirs
    for mine, reference in zip(ours, theirs, strict=True):
        assert {k: type(v) for k, v in mine.items()} == {k: type(v) for k, v in reference.items()}
    balance = d.token.functions.balanceOf(d.alice.address)
    assert d.chain.call(balance) == balance.call()
    earlier = d.chain.block_number - 1
    assert d.chain.call(balance, block=earlier) == balance.call(block_identifier=earlier)
    # A revert over JSON-RPC is decoded to the contract's named error, as through web3.
    too_much = d.token.functions.transferFrom(d.alice.address, d.deployer.address, 10**30)
    with pytest.raises(ContractRevertError) as caught:
        d.chain.call(too_much)
    assert type(caught.value).__name__ == "ERC20InsufficientAllowance"
