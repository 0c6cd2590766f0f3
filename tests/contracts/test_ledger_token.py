"""LedgerToken: ERC20 + ERC20Permit + ERC20Votes + capped minting, on the embedded EVM."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from ledgerlearn.exceptions import ContractRevertError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain
from ledgerlearn.ledger.errors import (
    AccessControlUnauthorizedAccount,
    ERC20InsufficientBalance,
    ERC2612InvalidSigner,
    LedgerTokenCapExceeded,
    LedgerTokenInvalidCap,
)
from ledgerlearn.staking import sign_permit
from tests.conftest import Deployment

TOKEN = 10**18


def _permit_signature(
    d: Deployment, owner: Secp256k1Key, spender: str, value: int, deadline: int
) -> tuple[int, bytes, bytes]:
    permit = sign_permit(owner, d.token, d.chain.chain_id, spender, value, deadline)
    return permit.v, permit.r, permit.s


def test_metadata_and_initial_supply(deployment: Deployment) -> None:
    token = deployment.token.functions
    assert (token.name().call(), token.symbol().call(), token.decimals().call()) == (
        "LedgerLearn",
        "LLT",
        18,
    )
    assert token.totalSupply().call() == 1_000 * TOKEN
    assert token.balanceOf(deployment.deployer.address).call() == 1_000 * TOKEN
    assert token.maxSupply().call() == 2_000 * TOKEN


def test_transfer_moves_balance_and_insufficient_balance_reverts_by_name(
    deployment: Deployment,
) -> None:
    d = deployment
    d.chain.sender(d.deployer).transact(d.token.functions.transfer(d.alice.address, 5 * TOKEN))
    assert d.token.functions.balanceOf(d.alice.address).call() == 5 * TOKEN
    with pytest.raises(ERC20InsufficientBalance) as caught:
        d.chain.sender(d.alice).transact(d.token.functions.transfer(d.bob.address, 6 * TOKEN))
    assert caught.value.arguments == {
        "sender": d.alice.address,
        "balance": 5 * TOKEN,
        "needed": 6 * TOKEN,
    }


def test_only_minters_mint_and_the_cap_holds(deployment: Deployment) -> None:
    d = deployment
    with pytest.raises(AccessControlUnauthorizedAccount):
        d.chain.sender(d.alice).transact(d.token.functions.mint(d.alice.address, 1))
    minter_role = keccak(text="MINTER_ROLE")
    d.chain.sender(d.deployer).transact(d.token.functions.grantRole(minter_role, d.alice.address))
    d.chain.sender(d.alice).transact(d.token.functions.mint(d.bob.address, 1_000 * TOKEN))
    assert d.token.functions.totalSupply().call() == 2_000 * TOKEN
    with pytest.raises(LedgerTokenCapExceeded) as caught:
        d.chain.sender(d.alice).transact(d.token.functions.mint(d.bob.address, 1))
    assert caught.value.arguments == {
        "requestedSupply": 2_000 * TOKEN + 1,
        "maxSupply": 2_000 * TOKEN,
    }


def test_constructor_rejects_cap_below_initial_supply(chain: Chain) -> None:
    deployer = chain.accounts[0]
    with pytest.raises(LedgerTokenInvalidCap):
        chain.deploy("LedgerToken", deployer.address, deployer.address, 10, 9, sender=deployer)


def test_permit_signed_with_our_eip712_helper_is_accepted_on_chain(deployment: Deployment) -> None:
    d = deployment
    deadline = 2**40
    v, r, s = _permit_signature(d, d.deployer, d.alice.address, 7 * TOKEN, deadline)
    d.chain.sender(d.bob).transact(
        d.token.functions.permit(d.deployer.address, d.alice.address, 7 * TOKEN, deadline, v, r, s)
    )
    assert d.token.functions.allowance(d.deployer.address, d.alice.address).call() == 7 * TOKEN
    with pytest.raises(ERC2612InvalidSigner):  # replay: nonce moved on
        d.chain.sender(d.bob).transact(
            d.token.functions.permit(
                d.deployer.address, d.alice.address, 7 * TOKEN, deadline, v, r, s
            )
        )


def test_permit_signed_by_someone_else_is_rejected(deployment: Deployment) -> None:
    d = deployment
    v, r, s = _permit_signature(d, d.alice, d.alice.address, TOKEN, 2**40)
    with pytest.raises(ContractRevertError) as caught:
        d.chain.sender(d.bob).transact(
            d.token.functions.permit(d.deployer.address, d.alice.address, TOKEN, 2**40, v, r, s)
        )
    assert caught.value.error_name == "ERC2612InvalidSigner"


def test_votes_follow_delegation_and_transfers(deployment: Deployment) -> None:
    d = deployment
    token = d.token.functions
    assert token.getVotes(d.deployer.address).call() == 0  # votes need delegation
    d.chain.sender(d.deployer).transact(token.delegate(d.deployer.address))
    assert token.getVotes(d.deployer.address).call() == 1_000 * TOKEN
    d.chain.sender(d.alice).transact(token.delegate(d.alice.address))
    d.chain.sender(d.deployer).transact(token.transfer(d.alice.address, 100 * TOKEN))
    block = d.chain.block_number
    assert token.getVotes(d.deployer.address).call() == 900 * TOKEN
    assert token.getVotes(d.alice.address).call() == 100 * TOKEN
    d.chain.sender(d.deployer).transact(
        token.transfer(d.bob.address, 1)
    )  # mine a block past `block`
    assert token.getPastVotes(d.alice.address, block).call() == 100 * TOKEN
    assert token.getPastTotalSupply(block).call() == 1_000 * TOKEN
