"""Nodes: the long-running process of every role — one loop, one state file, one way to send.

:class:`Node` is the template every role fills in, as Flower's ``Strategy`` is for its
strategies: :meth:`Node.step` reads what must be read before the head (:meth:`prepare`),
reads the head, polls the role's event cursor, sets the role up once (:meth:`setup`), lets
the role decide and act (:meth:`act`) and checkpoints; :meth:`Node.run` repeats it,
retrying transient failures. A role is a small class that only decides what to do next.

What the base owns, once for every role:

- **typed state** — a :class:`NodeState` dataclass per role, saved as compact JSON with an
  atomic rename (never half written), and only when it changed;
- **idempotent sends** — :meth:`Node.send_once` records each action by a stable name, so a
  node killed at any instant and restarted never sends it twice; a revert the role lists as
  "already done" (another node, or this one before a crash, did it) counts as done;
- **metrics and logs** — Prometheus counters and gauges (:class:`NodeMetrics`) and one JSON
  log line per noted event, also kept (the last 500) in the state file.

Experiments (attacks, faults) wrap a node from outside (:mod:`ledgerlearn.devnet`); nothing
here knows about them.

Trust assumption: a node trusts its key and its state directory; the chain, the content
store and other nodes are checked by each role before it acts on what they say.
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar

from ledgerlearn._atomic import atomic_write_bytes
from ledgerlearn.exceptions import ContractRevertError, LedgerLearnError, NodeStateError
from ledgerlearn.keys import Secp256k1Key
from ledgerlearn.ledger import Chain, DeploymentManifest, EventCursor
from ledgerlearn.node._metrics import NodeMetrics
from ledgerlearn.storage import ContentStore

__all__ = ["Node", "NodeState"]

log = logging.getLogger("ledgerlearn.node")

T = TypeVar("T")
_LOG_ENTRIES = 500


@dataclass
class NodeState:
    """What every node persists besides its event cursor.

    Attributes
    ----------
    done
        Names of actions already sent (or found done on chain), in order.
    log
        The last noted events, newest last.
    unconfirmed
        Transactions signed but not yet confirmed, as ``[hash, raw, nonce]`` (hex, hex,
        int), written before each is broadcast: a node that stopped while one was pending
        waits for it (or sees another take its nonce) before it sends anything again.
    """

    done: list[str] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    unconfirmed: list[list[Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the state as JSON-ready data (the log trimmed to its last 500 entries)."""
        data = asdict(self)
        data["log"] = data["log"][-_LOG_ENTRIES:]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Build a state from :meth:`to_json`'s output.

        Raises
        ------
        NodeStateError
            If ``data`` has keys this state does not know (another role's state directory).
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise NodeStateError(
                f"the state file holds {', '.join(unknown)}, which a {cls.__name__} does not "
                "have: is this another role's state directory? Give each node its own "
                "state_dir"
            )
        return cls(**data)


StateT = TypeVar("StateT", bound=NodeState)


class Node(ABC, Generic[StateT]):
    """Base of every long-running role.

    Parameters
    ----------
    chain, deployment, store
        Where the protocol lives.
    key
        The node's account.
    state_dir
        Where the node keeps its state and cursor; reused on restart.
    state_type
        The role's :class:`NodeState` subclass.

    Attributes
    ----------
    wake_block
        After an idle :meth:`step`, the block at which this node will act next on its own
        (a deadline it waits for), or ``None`` when it waits for others. In-process drivers
        mine up to it.
    cursor
        The role's event cursor, or ``None`` for a role that follows no events.
    """

    role: ClassVar[str]
    """The role's name in logs and metrics (``trainer``, ``provider`` ...)."""

    done_reverts: ClassVar[tuple[type[ContractRevertError], ...]] = ()
    """Reverts that mean "someone already did this" for the role's actions."""

    def __init__(
        self,
        chain: Chain,
        deployment: DeploymentManifest,
        store: ContentStore,
        key: Secp256k1Key,
        state_dir: str | Path,
        *,
        state_type: type[StateT],
    ) -> None:
        self.chain = chain
        self.deployment = deployment
        self.store = store
        self.key = key
        self.address = key.address
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.metrics = NodeMetrics(self.role, self.address)
        self._state_type = state_type
        self.state: StateT = self._load()
        self._saved = b""
        self.cursor: EventCursor | None = None
        self.wake_block: int | None = None
        self.head: int | None = None
        """The head the current :meth:`step` read; a step's reads refer to it."""
        self.sent: set[str] = set()
        """Actions whose transaction this process saw succeed (not kept across restarts)."""
        chain.sender(key).journal = self  # one node per key and process

    # --- the template --------------------------------------------------------------------

    def step(self) -> bool:
        """Read the chain and do whatever the role calls for now.

        Returns
        -------
        bool
            Whether the node did something (sent a transaction or stored something).
        """
        self.wake_block = None
        self.head = None
        self.settle_unconfirmed()  # what an earlier run left pending comes first
        self.prepare()
        head = self.head = self.chain.block_number
        self.metrics.block.set(head)
        if self.cursor is not None:
            self.cursor.poll(self.on_event, checkpoint=self.save, head=head)
        if not self.ready:
            self.setup()
            self.save()
            return True
        acted = self.act(head)
        self.save()
        return acted

    def prepare(self) -> None:
        """Read what must be read before the head and the events (optional hook).

        A training node reads its task here: every event behind that read is then in the
        poll that follows.
        """

    def on_event(self, event: Any) -> None:
        """Record one event of the role's cursor (idempotent; saved at the checkpoint)."""

    @property
    def ready(self) -> bool:
        """Whether :meth:`setup` is done (stake, keys, registrations)."""
        return True

    def setup(self) -> object:
        """Stake, publish keys, join: what the role does once (each step skipped if done).

        Returns
        -------
        object
            What the role made ready (a provider returns its :class:`Provider`).
        """
        return None

    @abstractmethod
    def act(self, head: int) -> bool:
        """Decide and do what the chain's state calls for at ``head``; return whether acted."""

    @property
    def finished(self) -> bool:
        """Whether the node has nothing left to do (its task ended); never for services."""
        return "finished" in self.state.done

    def run(self, *, poll_seconds: float = 0.5, stop: threading.Event | None = None) -> None:
        """Step until :attr:`finished` or ``stop`` is set, retrying transient failures.

        Parameters
        ----------
        poll_seconds
            Pause after a step that did nothing.
        stop
            Set it (a SIGTERM handler does) to end the loop after the current step.
        """
        stop = stop or threading.Event()
        while not stop.is_set():
            try:
                acted = self.step()
                if self.finished:
                    return
            except (LedgerLearnError, OSError) as exc:
                self.metrics.errors.inc()
                self.note("step-failed", error=f"{type(exc).__name__}: {exc}")
                acted = False
            if not acted:
                stop.wait(poll_seconds)

    # --- sending -------------------------------------------------------------------------

    def send_once(self, kind: str, action: str, call: Callable[[], T]) -> T | None:
        """Send ``call`` unless ``action`` is already done; remember it as done.

        Parameters
        ----------
        kind
            The metric label (``commit``, ``post`` ...).
        action
            A name that identifies this one action across restarts (``commit:3``).
        call
            Sends the transaction.

        Returns
        -------
        T or None
            What ``call`` returned; ``None`` when the action was done before, or the chain
            answered with one of :attr:`done_reverts`.
        """
        if action in self.state.done:
            return None
        try:
            result = call()
        except self.done_reverts:
            self.mark(action)
            return None
        self.metrics.actions.labels(kind=kind).inc()
        self.sent.add(action)
        self.mark(action)
        return result

    def send(self, kind: str, call: Callable[[], object]) -> bool:
        """Send ``call`` now (for actions the chain's state already guards).

        Returns
        -------
        bool
            False when the chain answered with one of :attr:`done_reverts`.
        """
        try:
            call()
        except self.done_reverts:
            return False
        self.metrics.actions.labels(kind=kind).inc()
        return True

    def tx_signed(self, tx_hash: bytes, raw: bytes, nonce: int) -> None:
        """Write a transaction of this node's key to the state before its broadcast.

        Every transaction the node's sender signs passes here (the node is its sender's
        :class:`~ledgerlearn.ledger.TxJournal`), whatever client sends it: staking, keys,
        reports and actions alike.
        """
        entry = [bytes(tx_hash).hex(), bytes(raw).hex(), nonce]
        self.state.unconfirmed.append(entry)
        try:
            self.save()
        except BaseException:
            self.state.unconfirmed.remove(entry)  # not written, so not broadcast
            raise

    def tx_resolved(self, tx_hash: bytes) -> None:
        """Drop a transaction that has a receipt, or that the chain's node refused."""
        name = bytes(tx_hash).hex()
        kept = [entry for entry in self.state.unconfirmed if entry[0] != name]
        if len(kept) != len(self.state.unconfirmed):
            self.state.unconfirmed = kept
            self.save()

    def settle_unconfirmed(self) -> None:
        """Wait for the transactions an earlier run signed and did not see confirmed.

        Raises
        ------
        TransactionTimeoutError
            If one is still pending after the sender's timeout (the next step tries again).
        """
        if not self.state.unconfirmed:
            return
        sender = self.chain.sender(self.key)
        for entry in list(self.state.unconfirmed):
            tx_hash, raw, nonce = bytes.fromhex(entry[0]), bytes.fromhex(entry[1]), int(entry[2])
            receipt = sender.settle(tx_hash, raw, nonce)
            self.note(
                "settled",
                tx=entry[0],
                outcome="replaced" if receipt is None else f"mined:{receipt['status']}",
            )
            self.tx_resolved(tx_hash)

    def mark(self, action: str) -> None:
        """Record ``action`` as done and save."""
        if action not in self.state.done:
            self.state.done.append(action)
        self.save()

    # --- state and logs ------------------------------------------------------------------

    def note(self, event: str, **entry: Any) -> None:
        """Log ``event`` as a JSON line and keep it in the state's log."""
        block = self.head if self.head is not None else self.chain.block_number
        record = {"event": event, "block": block, **entry}
        self.state.log.append(record)
        if len(self.state.log) > 2 * _LOG_ENTRIES:  # a service runs for months
            del self.state.log[:-_LOG_ENTRIES]
        log.info(json.dumps({"node": self.address, "role": self.role, **record}, default=str))

    def save(self) -> None:
        """Write the state atomically (compact JSON), unless it did not change."""
        raw = json.dumps(self.state.to_json(), separators=(",", ":"), default=str).encode()
        if raw == self._saved:
            return
        atomic_write_bytes(self.state_dir / "state.json", raw)
        self._saved = raw

    def _load(self) -> StateT:
        path = self.state_dir / "state.json"
        if not path.exists():
            return self._state_type()
        try:
            data = json.loads(path.read_text())
        except ValueError as exc:
            raise NodeStateError(
                f"{path} is not JSON ({exc}); it is written atomically, so something else "
                "wrote it: move it aside and restart (the node rebuilds from the chain)"
            ) from exc
        return self._state_type.from_json(data)
