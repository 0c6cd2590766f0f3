"""The three chain back ends behave the same; devnet is a real anvil on loopback."""

from __future__ import annotations

import contextlib
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ledgerlearn.config import ChainSettings
from ledgerlearn.exceptions import (
    AnvilNotFoundError,
    ChainIdMismatchError,
    ChainUnavailableError,
    TransactionTimeoutError,
)
from ledgerlearn.ledger import (
    Chain,
    ChainBackend,
    DevnetBackend,
    EmbeddedBackend,
    EventCursor,
    RpcBackend,
    open_chain,
)
from ledgerlearn.ledger.errors import ERC20InsufficientBalance
from ledgerlearn.protocol import BeaconParameters, TokenParameters, deploy_protocol
from ledgerlearn.randomness import BeaconClient, VrfKey, purpose_id

slow = pytest.mark.slow


def _backend(kind: str, devnet: Chain) -> ChainBackend:
    if kind == "embedded":
        return EmbeddedBackend()
    if kind == "devnet":
        return DevnetBackend()
    assert devnet.rpc_url is not None
    return RpcBackend(devnet.rpc_url, use_dev_accounts=True)


@slow
@pytest.mark.parametrize("kind", ["embedded", "devnet", "rpc"])
def test_same_flow_on_every_backend(kind: str, devnet: Chain) -> None:
    with Chain(_backend(kind, devnet)) as chain:
        deployer, alice = chain.accounts[:2]
        manifest = deploy_protocol(
            chain,
            deployer,
            TokenParameters(initial_supply=10, max_supply=10),
            BeaconParameters(minimum_bond=2, fulfilment_window=3, unbonding_blocks=5),
        )
        manifest.verify(chain)
        token = chain.contract("LedgerToken", manifest.get_address("LedgerToken"))
        chain.sender(deployer).transact(token.functions.transfer(alice.address, 4))
        assert token.functions.balanceOf(alice.address).call() == 4
        with pytest.raises(ERC20InsufficientBalance):
            chain.sender(alice).transact(token.functions.transfer(deployer.address, 5))
        events: list[str] = []
        EventCursor(
            chain,
            token,
            None,
            start_block=manifest.deploy_block,
            events=["Transfer", "RoleGranted"],
        ).poll(lambda e: events.append(e["event"]))
        assert events == ["RoleGranted", "Transfer", "Transfer"]

        beacon = BeaconClient(chain, manifest)
        holder = chain.accounts[2]
        vrf = VrfKey.derive(holder.unsafe_secret())
        chain.sender(deployer).transact(token.functions.transfer(holder.address, 2))
        beacon.register_key(holder, vrf, beacon.minimum_bond)
        request_id = beacon.request(alice, purpose_id("backend", kind))
        fulfilment = beacon.fulfil(holder, vrf, request_id)
        assert fulfilment.output == vrf.evaluate(beacon.seed_of(request_id))[0]


@slow
def test_devnet_stop_ends_anvil() -> None:
    backend = DevnetBackend()
    chain = Chain(backend)
    process = backend.process
    assert process is not None and process.poll() is None
    url = chain.rpc_url
    chain.close()
    assert process.poll() is not None
    with pytest.raises(ChainUnavailableError):
        RpcBackend(str(url), timeout=1).start()


@slow
def test_devnet_restart_keeps_every_acknowledged_transaction(tmp_path: Path) -> None:
    # anvil writes its --state file while still serving; a block mined in that window
    # used to be acknowledged and then missing after the restart (a silent reorg).
    backend = DevnetBackend(state_path=tmp_path / "state.json")
    with Chain(backend, tx_timeout=5) as chain:
        sender, to = chain.sender(chain.accounts[1]), chain.accounts[2].address
        before = chain.w3.eth.get_balance(to)
        acknowledged: list[int] = []
        done = threading.Event()

        def send_until_done() -> None:
            while not done.is_set():
                with contextlib.suppress(Exception):  # down, or no receipt: send again
                    sender.send({"to": to, "value": 1})
                    acknowledged.append(1)

        thread = threading.Thread(target=send_until_done)
        thread.start()
        for _ in range(3):
            time.sleep(0.5)
            backend.stop()
            backend.start()
        time.sleep(0.5)
        done.set()
        thread.join(60)
        assert len(acknowledged) > 10
        assert chain.w3.eth.get_balance(to) - before == len(acknowledged)


@slow
def test_anvil_dies_with_its_owner(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from ledgerlearn.ledger import Chain, DevnetBackend\n"
        "b = DevnetBackend(); c = Chain(b)\n"
        "print(b.process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    anvil_pid = int(owner.stdout.readline())
    os.kill(owner.pid, signal.SIGKILL)
    owner.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(anvil_pid, 0)
        except ProcessLookupError:
            return
        with contextlib.suppress(ChildProcessError):  # reap it if it became our zombie
            os.waitpid(anvil_pid, os.WNOHANG)
        time.sleep(0.1)
    pytest.fail(f"anvil {anvil_pid} outlived its owner")


def test_missing_anvil_names_make_setup(tmp_path: Path) -> None:
    with pytest.raises(AnvilNotFoundError, match="make setup"):
        DevnetBackend(tmp_path / "no-anvil")


def test_unreachable_rpc_is_chain_unavailable() -> None:
    with pytest.raises(ChainUnavailableError, match="cannot reach"):
        Chain(RpcBackend("http://127.0.0.1:9", timeout=1))
    with pytest.raises(ChainUnavailableError, match="http"):
        RpcBackend("ftp://example")


@slow
def test_rpc_refuses_a_chain_other_than_the_manifests(devnet: Chain) -> None:
    settings = ChainSettings(backend="rpc", rpc_url=devnet.rpc_url)
    with pytest.raises(ChainIdMismatchError, match="chain 1"):
        open_chain(settings, expected_chain_id=1)
    with open_chain(settings, expected_chain_id=devnet.chain_id) as chain:
        assert chain.chain_id == 31337 and chain.accounts == []


@slow
def test_dev_accounts_are_refused_on_non_dev_chains() -> None:
    with Chain(DevnetBackend(chain_id=8453)) as mainnet_like:
        rpc = RpcBackend(str(mainnet_like.rpc_url), use_dev_accounts=True)
        with Chain(rpc) as chain:
            assert chain.accounts == []


@slow
def test_threads_sharing_one_account_get_distinct_nonces(devnet: Chain) -> None:
    deployer, alice = devnet.accounts[3], devnet.accounts[4]
    manifest = deploy_protocol(
        devnet, deployer, TokenParameters(initial_supply=1000, max_supply=1000)
    )
    token = devnet.contract("LedgerToken", manifest.get_address("LedgerToken"))
    sender = devnet.sender(deployer)
    start = devnet.w3.eth.get_transaction_count(deployer.address)
    with ThreadPoolExecutor(4) as pool:
        receipts = list(
            pool.map(
                lambda _: sender.transact(token.functions.transfer(alice.address, 1)), range(20)
            )
        )
    nonces = sorted(devnet.w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts)
    assert nonces == list(range(start, start + 20))
    assert token.functions.balanceOf(alice.address).call() == 20


@slow
def test_processes_meet_only_through_the_chain(devnet: Chain, tmp_path: Path) -> None:
    deployer = devnet.accounts[5]
    manifest = deploy_protocol(
        devnet, deployer, TokenParameters(initial_supply=1000, max_supply=1000)
    )
    path = manifest.save(tmp_path / "deployment.json")
    token = devnet.contract("LedgerToken", manifest.get_address("LedgerToken"))
    for index in (6, 7, 8):
        devnet.sender(deployer).transact(
            token.functions.transfer(devnet.accounts[index].address, 10)
        )
    script = (
        "import sys\n"
        "from ledgerlearn.ledger import Chain, DeploymentManifest, RpcBackend\n"
        "url, manifest_path, index = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
        "manifest = DeploymentManifest.load(manifest_path)\n"
        "with Chain(RpcBackend(url, use_dev_accounts=True)) as chain:\n"
        "    manifest.verify(chain)\n"
        "    me = chain.accounts[index]\n"
        "    token = chain.contract('LedgerToken', manifest.get_address('LedgerToken'))\n"
        "    for _ in range(5):\n"
        "        to = chain.accounts[9].address\n"
        "        chain.sender(me).transact(token.functions.transfer(to, 1))\n"
    )
    workers = [
        subprocess.Popen([sys.executable, "-c", script, str(devnet.rpc_url), str(path), str(i)])
        for i in (6, 7, 8)
    ]
    assert [w.wait(120) for w in workers] == [0, 0, 0]
    assert token.functions.balanceOf(devnet.accounts[9].address).call() == 15


@slow
def test_receipt_timeout_when_nothing_is_mined() -> None:
    with Chain(DevnetBackend(), tx_timeout=0.5) as chain:
        chain.w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
        alice = chain.accounts[1]
        with pytest.raises(TransactionTimeoutError, match=r"may still be mined|no receipt"):
            chain.sender(chain.accounts[0]).send({"to": alice.address, "value": 1})
        chain.w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
        assert chain.w3.eth.get_balance(alice.address) == 10_000 * 10**18 + 1


@slow
def test_after_a_receipt_timeout_the_next_transaction_reuses_a_lost_nonce() -> None:
    with Chain(DevnetBackend(), tx_timeout=0.5) as chain:
        rpc = chain.w3.provider.make_request
        rpc("evm_setAutomine", [False])  # type: ignore[arg-type]
        sender, to = chain.sender(chain.accounts[0]), chain.accounts[4].address
        with pytest.raises(TransactionTimeoutError):
            sender.send({"to": to, "value": 1})
        (by_nonce,) = rpc("txpool_content", [])["result"]["pending"].values()  # type: ignore[arg-type]
        (lost,) = by_nonce.values()
        rpc("anvil_dropTransaction", [lost["hash"]])  # type: ignore[arg-type]
        rpc("evm_setAutomine", [True])  # type: ignore[arg-type]
        sender.timeout = 30
        receipt = sender.send({"to": to, "value": 2})  # nonce of the lost one, not after it
        assert receipt["status"] == 1
        assert chain.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == int(
            lost["nonce"], 16
        )


@slow
def test_a_transaction_sent_while_the_node_restarts_is_broadcast_again(tmp_path: Path) -> None:
    backend = DevnetBackend(state_path=tmp_path / "state.json")
    with Chain(backend, tx_timeout=90) as chain:
        rpc = chain.w3.provider.make_request
        rpc("evm_setAutomine", [False])  # type: ignore[arg-type]
        sender, to = chain.sender(chain.accounts[0]), chain.accounts[5].address
        before = chain.w3.eth.get_balance(to)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(sender.send, {"to": to, "value": 9})
            deadline = time.monotonic() + 10
            while not rpc("txpool_content", [])["result"]["pending"]:  # type: ignore[arg-type]
                assert time.monotonic() < deadline, "the transaction never reached the pool"
                time.sleep(0.05)
            backend.stop()  # the pool is lost with the process
            # down for longer than the transport's retries: the receipt polls give up and
            # the sender must keep waiting rather than fail
            time.sleep(4.0)
            backend.start()  # automining again
            receipt = pending.result(90)
        assert receipt["status"] == 1
        assert chain.w3.eth.get_balance(to) - before == 9


@slow
def test_a_dropped_transaction_is_broadcast_again() -> None:
    with Chain(DevnetBackend(), tx_timeout=30) as chain:
        rpc = chain.w3.provider.make_request
        rpc("evm_setAutomine", [False])  # type: ignore[arg-type]
        sender = chain.sender(chain.accounts[0])
        sender.rebroadcast_after = 0.3
        to = chain.accounts[3].address
        before = chain.w3.eth.get_balance(to)
        with ThreadPoolExecutor(1) as pool:
            pending = pool.submit(sender.send, {"to": to, "value": 7})
            deadline = time.monotonic() + 10
            while not rpc("txpool_content", [])["result"]["pending"]:  # type: ignore[arg-type]
                assert time.monotonic() < deadline, "the transaction never reached the pool"
                time.sleep(0.05)
            (by_nonce,) = rpc("txpool_content", [])["result"]["pending"].values()  # type: ignore[arg-type]
            (tx,) = by_nonce.values()
            rpc("anvil_dropTransaction", [tx["hash"]])  # type: ignore[arg-type]
            time.sleep(1.0)  # the sender notices and sends the same bytes again
            rpc("evm_setAutomine", [True])  # type: ignore[arg-type]
            rpc("evm_mine", [])  # type: ignore[arg-type]
            receipt = pending.result(30)
        assert (
            receipt["status"] == 1 and "0x" + bytes(receipt["transactionHash"]).hex() == tx["hash"]
        )
        assert chain.w3.eth.get_balance(to) - before == 7


class _FlakyProxy(http.server.BaseHTTPRequestHandler):
    """Forwards JSON-RPC to anvil, but answers every third request with HTTP 503."""

    target = ""
    count = 0
    lock = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            type(self).count += 1
            fail = type(self).count % 3 == 0
        if fail:
            self.send_response(503)
            self.end_headers()
            return
        request = urllib.request.Request(self.target, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as upstream:
            payload = upstream.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def flaky_url(devnet: Chain) -> Iterator[str]:
    _FlakyProxy.target = str(devnet.rpc_url)
    _FlakyProxy.count = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyProxy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@slow
def test_transient_rpc_failures_are_retried(flaky_url: str) -> None:
    with Chain(RpcBackend(flaky_url, use_dev_accounts=True)) as chain:
        deployer, alice = chain.accounts[0], chain.accounts[2]
        manifest = deploy_protocol(
            chain, deployer, TokenParameters(initial_supply=100, max_supply=100)
        )
        token = chain.contract("LedgerToken", manifest.get_address("LedgerToken"))
        for _ in range(5):
            chain.sender(deployer).transact(token.functions.transfer(alice.address, 1))
    assert _FlakyProxy.count >= 30 and _FlakyProxy.count // 3 >= 10  # many 503s were absorbed
