from __future__ import annotations

from eth_abi import encode
from eth_utils import keccak

from ledgerlearn.exceptions import ContractRevertError, TransactionFailedError
from ledgerlearn.ledger import decode_revert
from ledgerlearn.ledger.errors import LedgerTokenCapExceeded, SolidityPanic


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def test_error_string_decodes() -> None:
    error = decode_revert(_selector("Error(string)") + encode(["string"], ["no way"]))
    assert isinstance(error, ContractRevertError)
    assert error.error_name == "Error" and error.arguments == {"reason": "no way"}


def test_panic_decodes_with_reason() -> None:
    error = decode_revert("0x" + (_selector("Panic(uint256)") + encode(["uint256"], [0x11])).hex())
    assert isinstance(error, SolidityPanic)
    assert error.arguments["reason"] == "arithmetic overflow or underflow"


def test_custom_error_becomes_a_class_of_its_name() -> None:
    data = _selector("LedgerTokenCapExceeded(uint256,uint256)") + encode(
        ["uint256", "uint256"], [3, 2]
    )
    error = decode_revert(data)
    assert type(error).__name__ == "LedgerTokenCapExceeded"
    assert isinstance(error, LedgerTokenCapExceeded)
    assert error.arguments == {"requestedSupply": 3, "maxSupply": 2}
    assert "LedgerTokenCapExceeded(requestedSupply=3, maxSupply=2) in LedgerToken" in str(error)


def test_empty_unknown_and_malformed_reverts_are_transaction_failed() -> None:
    assert isinstance(decode_revert(None), TransactionFailedError)
    assert "unknown error 0xdeadbeef" in str(decode_revert(b"\xde\xad\xbe\xef"))
    assert isinstance(decode_revert(_selector("Panic(uint256)") + b"\x01"), TransactionFailedError)
