"""Beacon client: register VRF keys, request randomness, fulfil with verified proofs.

Drives ``contracts/randomness/RandomnessBeacon.sol``. A key holder registers the ECVRF key
derived from its identity (:meth:`VrfKey.derive`) from its own account, with a bond; a
requester asks for randomness for a purpose; the assigned holder proves the VRF on the seed
and the contract verifies the proof (``EcVrf.sol``) before the output becomes final.

Trust assumption: the requester, the key holders and the caller of this client may all be
Byzantine. The seed mixes the request with a block hash the requester cannot know, the
output is unique for the key and seed, and the contract checks every proof, so nobody can
steer an output; a holder can only withhold it, which the deadline and fallback handle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from eth_utils import keccak

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, ContractClient, DeploymentManifest
from ledgerlearn.ledger.errors import BeaconUnknownKey
from ledgerlearn.randomness._ecvrf import SECP256K1_SHA256_TAI, VerificationHelpers, VrfKey
from ledgerlearn.randomness._groups import Point
from ledgerlearn.staking import TokenClient

__all__ = ["BeaconClient", "Fulfilment", "purpose_id", "solidity_proof"]

_REQUEST_FIELDS = (
    "requester",
    "purpose",
    "requestBlock",
    "seedBlock",
    "deadline",
    "keyCount",
    "fulfilled",
    "missRecorded",
    "fulfiller",
    "output",
)


def purpose_id(*parts: str | int | bytes) -> bytes:
    """Build a 32-byte purpose from parts, e.g. ``purpose_id("round", task_id, 3)``.

    Parameters
    ----------
    *parts
        Strings, integers (uint256) or byte strings, ABI-encoded then hashed.

    Returns
    -------
    bytes
        keccak256 of the encoding.
    """
    types = [
        "string" if isinstance(p, str) else "uint256" if isinstance(p, int) else "bytes"
        for p in parts
    ]
    return keccak(encode(types, list(parts)))


def solidity_proof(helpers: VerificationHelpers) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Arrange a verified proof as the contract's ``(Proof, Helpers)`` tuples.

    Parameters
    ----------
    helpers
        From :meth:`EcvrfSuite.helpers`.

    Returns
    -------
    tuple[tuple[int, ...], tuple[int, ...]]
        ``(gammaX, gammaY, c, s)`` and ``(uX, uY, sHX, sHY, cGammaX, cGammaY)``.
    """
    proof = (helpers.gamma.x, helpers.gamma.y, helpers.c, helpers.s)
    points = (helpers.u, helpers.s_h, helpers.c_gamma)
    return proof, tuple(coordinate for point in points for coordinate in (point.x, point.y))


@dataclass(frozen=True, slots=True)
class Fulfilment:
    """A fulfilled request.

    Attributes
    ----------
    request_id
        The request.
    output
        The verified VRF output (32 bytes).
    key_index
        The key that fulfilled it.
    gas_used
        Gas of the fulfilment transaction.
    block
        Its block.
    """

    request_id: bytes
    output: bytes
    key_index: int
    gas_used: int
    block: int


class BeaconClient(ContractClient):
    """Typed access to a deployed RandomnessBeacon.

    Parameters
    ----------
    chain
        The connected chain.
    deployment
        The deployment manifest (``RandomnessBeacon``); use :meth:`at` for a beacon outside
        a manifest.

    Attributes
    ----------
    token
        The token bonds are paid in.
    """

    contract_name = "RandomnessBeacon"

    def __init__(self, chain: Chain, deployment: DeploymentManifest) -> None:
        super().__init__(chain, deployment)
        token_address = self._call(self.functions.parameters())[0]
        self.token = TokenClient.at(chain, token_address)

    @property
    def minimum_bond(self) -> int:
        """The smallest bond a key may register with."""
        return int(self._call(self.functions.parameters())[1])

    def register_key(self, owner: Secp256k1Key, vrf_key: VrfKey, bond: int | None = None) -> int:
        """Approve the bond and register ``vrf_key`` from ``owner``'s account.

        Parameters
        ----------
        owner
            The identity's account; it pays the bond.
        vrf_key
            A secp256k1-suite VRF key (usually ``VrfKey.derive(owner.unsafe_secret())``).
        bond
            Tokens to bond; the minimum when omitted.

        Returns
        -------
        int
            The key index.
        """
        bond = self.minimum_bond if bond is None else bond
        self.token.approve(owner, self.address, bond)
        point = vrf_key.public_key
        self._transact(owner, self.functions.registerKey([point.x, point.y], bond))
        return self._call_int(self.functions.keyIndexOf(owner.address))

    def key_index_of(self, owner: str) -> int | None:
        """Return the key index ``owner`` registered, or ``None`` if it has none.

        Parameters
        ----------
        owner
            The key holder's address.

        Returns
        -------
        int | None
            The index, or ``None``.
        """
        try:
            return self._call_int(self.functions.keyIndexOf(owner))
        except BeaconUnknownKey:
            return None

    def request(self, requester: Secp256k1Key, purpose: bytes) -> bytes:
        """Request randomness for ``purpose``.

        Parameters
        ----------
        requester
            Who asks (the request id depends on it).
        purpose
            32 bytes, e.g. from :func:`purpose_id`.

        Returns
        -------
        bytes
            The request id.
        """
        self._transact(requester, self.functions.requestRandomness(purpose))
        return keccak(encode(["address", "bytes32"], [requester.address, purpose]))

    def request_state(self, request_id: bytes) -> dict[str, Any]:
        """Return a request's on-chain state.

        Parameters
        ----------
        request_id
            The request.

        Returns
        -------
        dict[str, Any]
            Requester, purpose, blocks, key count, fulfilment.
        """
        values = self._call(self.functions.getRequest(request_id))
        return dict(zip(_REQUEST_FIELDS, values, strict=True))

    def wait_for_seed(self, request_id: bytes) -> bytes:
        """Wait until the seed block is final (mining on development chains); return the seed.

        Parameters
        ----------
        request_id
            The request.

        Returns
        -------
        bytes
            The 32-byte seed the VRF is evaluated on.
        """
        seed_block = int(self.request_state(request_id)["seedBlock"])
        self.chain.wait_for_block(seed_block + 1)
        return self._seed(request_id, seed_block)

    def seed_of(self, request_id: bytes) -> bytes:
        """Compute a request's seed exactly as the contract does.

        Parameters
        ----------
        request_id
            The request.

        Returns
        -------
        bytes
            keccak256(chain id, beacon, request id, seed block hash).
        """
        return self._seed(request_id, int(self.request_state(request_id)["seedBlock"]))

    def _seed(self, request_id: bytes, seed_block: int) -> bytes:
        block_hash = bytes(self.chain.w3.eth.get_block(seed_block)["hash"])
        return keccak(
            encode(
                ["uint256", "address", "bytes32", "bytes32"],
                [self.chain.chain_id, self.address, request_id, block_hash],
            )
        )

    def assigned_key(self, request_id: bytes) -> int:
        """Return the key index assigned to fulfil ``request_id``.

        Parameters
        ----------
        request_id
            The request (its seed block must be mined).

        Returns
        -------
        int
            The key index.
        """
        return self._call_int(self.functions.assignedKey(request_id))

    def fulfil(self, owner: Secp256k1Key, vrf_key: VrfKey, request_id: bytes) -> Fulfilment:
        """Prove the VRF on the request's seed and submit the proof.

        Parameters
        ----------
        owner
            The key holder's account (registered with ``vrf_key``).
        vrf_key
            Its VRF key.
        request_id
            The request.

        Returns
        -------
        Fulfilment
            The verified output and the transaction's gas.
        """
        seed = self.wait_for_seed(request_id)
        pi = vrf_key.prove(seed)
        helpers = SECP256K1_SHA256_TAI.helpers(vrf_key.public_key, pi, seed)
        proof, points = solidity_proof(helpers)
        receipt = self._transact(owner, self.functions.fulfil(request_id, proof, points))
        event = self._receipt_event("RandomnessFulfilled", receipt)["args"]
        return Fulfilment(
            request_id=request_id,
            output=bytes(event["output"]),
            key_index=int(event["keyIndex"]),
            gas_used=int(receipt["gasUsed"]),
            block=int(receipt["blockNumber"]),
        )

    def output_of(self, request_id: bytes) -> bytes:
        """Return the final output of a fulfilled request.

        Parameters
        ----------
        request_id
            The request.

        Returns
        -------
        bytes
            32 bytes.
        """
        return self._call_bytes(self.functions.randomnessOf(request_id))

    def select_on_chain(self, seed: bytes, weights: Sequence[int], k: int) -> list[int]:
        """Run the contract's weighted selection (a view call).

        Parameters
        ----------
        seed
            32 bytes.
        weights
            Candidate weights.
        k
            Members to pick.

        Returns
        -------
        list[int]
            Indices in draw order.
        """
        chosen = self._call(self.functions.select(seed, list(weights), k))
        return [int(i) for i in chosen]

    def verify_on_chain(self, public_key: Point, pi: bytes, alpha: bytes) -> bytes:
        """Verify a proof with the contract's verifier (a view call).

        Parameters
        ----------
        public_key
            The VRF key.
        pi
            The proof.
        alpha
            The input.

        Returns
        -------
        bytes
            beta, as the contract computes it.
        """
        helpers = SECP256K1_SHA256_TAI.helpers(public_key, pi, alpha)
        proof, points = solidity_proof(helpers)
        call = self.functions.verifyProof([public_key.x, public_key.y], proof, alpha, points)
        return self._call_bytes(call)
