"""The protocol token: balances, allowances and EIP-2612 permits of LedgerToken.

:class:`TokenClient` wraps the ERC-20 calls every layer makes (approve before a contract
pulls a stake, a pool or a fee); a permit lets a holder approve a spender with an off-chain
EIP-712 signature, so a staking or fee contract can pull tokens in the same transaction that
uses them.

Trust assumption: the token contract (OpenZeppelin ``ERC20Permit``) checks the signature,
the nonce and the deadline; this module only produces the signature it checks.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address
from web3.contract import Contract
from web3.types import TxReceipt

from ledgerlearn.keys import Secp256k1Key, sign_typed_data
from ledgerlearn.ledger import ContractClient

__all__ = ["PERMIT_TYPES", "PermitSignature", "TokenClient", "sign_permit"]

PERMIT_TYPES = {
    "Permit": [
        {"name": "owner", "type": "address"},
        {"name": "spender", "type": "address"},
        {"name": "value", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}
"""The EIP-2612 ``Permit`` struct."""


@dataclass(frozen=True, slots=True)
class PermitSignature:
    """A permit signature split as ``permit(owner, spender, value, deadline, v, r, s)`` takes it."""

    v: int
    r: bytes
    s: bytes


def sign_permit(
    owner: Secp256k1Key,
    token: Contract,
    chain_id: int,
    spender: str,
    value: int,
    deadline: int,
    nonce: int | None = None,
) -> PermitSignature:
    """Sign an EIP-2612 permit for ``token``.

    Parameters
    ----------
    owner
        The holder granting the allowance.
    token
        The bound LedgerToken contract (its name and address enter the EIP-712 domain).
    chain_id
        The chain the token is on.
    spender
        Who may spend.
    value
        The allowance, in the token's smallest unit.
    deadline
        Unix time after which the permit is void.
    nonce
        The owner's permit nonce; read from the token when omitted.

    Returns
    -------
    PermitSignature
        ``v``, ``r``, ``s`` for ``permit``.
    """
    if nonce is None:
        nonce = int(token.functions.nonces(owner.address).call())
    signature = sign_typed_data(
        owner,
        {
            "name": str(token.functions.name().call()),
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": token.address,
        },
        PERMIT_TYPES,
        "Permit",
        {
            "owner": owner.address,
            "spender": spender,
            "value": value,
            "nonce": nonce,
            "deadline": deadline,
        },
    )
    return PermitSignature(v=signature[64], r=signature[:32], s=signature[32:64])


class TokenClient(ContractClient):
    """The protocol token (``LedgerToken``): ERC-20, votes and permits."""

    contract_name = "LedgerToken"

    def balance_of(self, account: str) -> int:
        """Return ``account``'s balance in the token's smallest unit."""
        return self._call_int(self.functions.balanceOf(to_checksum_address(account)))

    def allowance(self, owner: str, spender: str) -> int:
        """Return what ``spender`` may still pull from ``owner``."""
        return self._call_int(
            self.functions.allowance(to_checksum_address(owner), to_checksum_address(spender))
        )

    def approve(self, key: Secp256k1Key, spender: str, amount: int) -> TxReceipt:
        """Let ``spender`` pull up to ``amount`` from ``key``'s account."""
        return self._transact(key, self.functions.approve(to_checksum_address(spender), amount))

    def transfer(self, key: Secp256k1Key, to: str, amount: int) -> TxReceipt:
        """Send ``amount`` from ``key``'s account to ``to``."""
        return self._transact(key, self.functions.transfer(to_checksum_address(to), amount))

    def total_supply(self) -> int:
        """Return the tokens in existence."""
        return self._call_int(self.functions.totalSupply())

    def sign_permit(
        self, owner: Secp256k1Key, spender: str, value: int, deadline: int
    ) -> PermitSignature:
        """Sign an EIP-2612 permit for this token (see :func:`sign_permit`)."""
        return sign_permit(owner, self.contract, self.chain.chain_id, spender, value, deadline)
