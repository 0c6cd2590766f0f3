"""Attacks on the training network that must fail: each is a participant's move.

A trainer commits bytes that are no CID (the coordinator only checks that they are not
empty): before, every honest node stopped at that event and the task stalled.
"""

from __future__ import annotations

from pathlib import Path

from ledgerlearn.devnet import make_nodes, run_in_process
from ledgerlearn.ledger.enums import TrainingCoordinatorPhase
from ledgerlearn.node import TrainerNode
from ledgerlearn.training import TaskView, TrainingClient, training_trail
from tests.integration.test_training_network import CONFIG, TOKEN, _network


class NonCidTrainer(TrainerNode):
    """Commits bytes that are no CID: the contract only checks that they are not empty."""

    def _commit(self, task: TaskView) -> bool:
        action = f"commit:{task.round}"
        if action in self.state.done:
            return False
        function = self.client.functions.commitUpdate(self.task_id, task.round, b"\1" * 32, b"\1")
        self.send_once("commit", action, lambda: self.client._transact(self.key, function))
        return True


def test_a_commit_that_is_no_cid_is_rejected_and_stalls_nobody(tmp_path: Path) -> None:
    chain, manifest, store, setup = _network(tmp_path)
    with chain:
        nodes = make_nodes(chain, manifest, store, setup, CONFIG, tmp_path / "nodes")
        index = next(
            i for i, key in enumerate(setup.trainer_keys) if key.address not in setup.attackers
        )
        key = setup.trainer_keys[index]
        honest = nodes[index]
        assert isinstance(honest, TrainerNode)
        nodes[index] = NonCidTrainer(
            chain,
            manifest,
            store,
            key,
            setup.task_id,
            tmp_path / "garbage",
            data=honest.data,
            stake=200 * TOKEN,
        )
        run_in_process(chain, nodes)
        client = TrainingClient(chain, manifest)
        assert client.task(setup.task_id).phase is TrainingCoordinatorPhase.COMPLETED
        trail = training_trail(client, store, setup.task_id)
        assert [row.round for row in trail] == [1, 2]
        for row in trail:
            assert "unavailable" in row.rejected[key.address]
            assert key.address not in row.included
