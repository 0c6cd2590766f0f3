"""Beacon duty: a node that holds a VRF key fulfils the beacon requests its work waits on.

Audit panels and proof-of-learning panels are drawn with beacon outputs; the beacon assigns
each request to one registered key, and after the assigned key's window any registered key
may fulfil it. :class:`BeaconDuty` registers the node's key (bonding the beacon's minimum)
and, for a request the node is waiting on, fulfils it when the request is assigned to the
node's key or the window has passed, and says until which block to wait otherwise.

Trust assumption: the VRF makes the output unique per key and seed; the node only chooses
*whether* to fulfil, which the beacon's fallback and (trust-core) miss penalties cover.
"""

from __future__ import annotations

import contextlib

from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger.errors import BeaconAlreadyFulfilled
from ledgerlearn.randomness import BeaconClient, VrfKey

__all__ = ["BeaconDuty"]


class BeaconDuty:
    """Fulfil the beacon requests a node waits on, when assigned or overdue.

    Parameters
    ----------
    beacon
        The beacon client.
    key
        The node's account (its key holds the VRF key's bond).
    """

    def __init__(self, beacon: BeaconClient, key: Secp256k1Key) -> None:
        self.beacon = beacon
        self.key = key
        self.vrf_key = VrfKey.derive(key.unsafe_secret())
        self._index: int | None = None

    def key_index(self) -> int | None:
        """Return the node's key index in the beacon (``None`` before registering), cached."""
        if self._index is None:
            self._index = self.beacon.key_index_of(self.key.address)
        return self._index

    def register(self) -> bool:
        """Register the node's VRF key with the minimum bond unless it is registered.

        Returns
        -------
        bool
            Whether a key was registered now.
        """
        if self.key_index() is not None:
            return False
        self.beacon.register_key(self.key, self.vrf_key)
        self._index = None
        return True

    def serve(self, request_id: bytes, head: int) -> tuple[bool, int | None]:
        """Fulfil ``request_id`` if it is this node's turn.

        Parameters
        ----------
        request_id
            The beacon request.
        head
            The current block.

        Returns
        -------
        tuple
            Whether the output is there now (fulfilled before or by this call), and the
            block to look again at when it is not (``None``: nothing to wait for).
        """
        state = self.beacon.request_state(request_id)
        if state["fulfilled"]:
            return True, None
        if head <= int(state["seedBlock"]):
            return False, int(state["seedBlock"]) + 1
        mine = self.key_index()
        late = head > int(state["deadline"])
        if mine is not None and (late or self.beacon.assigned_key(request_id) == mine):
            # Another key may have fulfilled it meanwhile: the output is there all the same.
            with contextlib.suppress(BeaconAlreadyFulfilled):
                self.beacon.fulfil(self.key, self.vrf_key, request_id)
            return True, None
        return False, int(state["deadline"]) + 1
