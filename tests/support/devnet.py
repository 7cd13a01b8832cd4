"""A real anvil on a free port and freshly deployed hubs with the demo consortium.

For the project's tests and benchmarks (not shipped). Nothing is mocked.
"""

from __future__ import annotations

__all__ = [
    "TEST_RULES",
    "Devnet",
    "add_participants",
    "deploy_devnet",
    "hub_artifact",
    "ledger_cli",
    "start_anvil",
    "start_rules_chain",
]

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from eth_account import Account
from eth_utils.address import to_checksum_address

from ledger.build import Artifact, hub_artifact
from ledger.chain.client import ChainClient, TxSender
from ledger.chain.hub import Hub, currency_bytes
from ledger.config import Settings, load_settings
from ledger.deploy import deploy_hub, open_hub, write_deployment
from ledger.devnet.anvil import AnvilNode, free_port, launch
from ledger.devnet.consortium import Consortium, Member, demo_plan, register_consortium
from ledger.devnet.rules import ChainRules, RulesProxy
from ledger.keys import Signer, dev_signer
from ledger.operator import Operator
from ledger.protocol.types import ParticipantKind
from ledger.types import CompilerSettings, Deployment

#: the chain every shared test runs on: production's fork, block gas limit, eth_getLogs range and
#: transaction size (history is kept: tests of non-archive nodes start their own pruned chain)
TEST_RULES = ChainRules(prune_history=None)


def start_anvil(tmp: Path, *extra: str) -> AnvilNode:
    """A plain anvil (anvil's own defaults plus ``extra``)."""
    _, node = launch(port=free_port(), accounts=20, log_file=tmp / "anvil.log", extra_args=tuple(extra))
    return node


def start_rules_chain(tmp: Path, rules: ChainRules = TEST_RULES) -> tuple[AnvilNode, RulesProxy]:
    """Anvil under ``rules`` behind the rules proxy; the node's ``url`` is the proxy's (its ``pid`` is
    anvil's: terminating it ends the chain, the proxy thread ends with the process)."""
    _, node = launch(port=free_port(), accounts=20, log_file=tmp / "anvil.log", extra_args=rules.anvil_args())
    proxy = RulesProxy(node.url, rules).start()
    port = urlparse(proxy.url).port
    assert port is not None
    return replace(node, port=port), proxy


def mine(client: ChainClient, blocks: int, *, chunk: int = 500) -> None:
    """Mine ``blocks`` empty blocks in calls of at most ``chunk``: one ``anvil_mine`` of thousands
    of blocks on a chain holding a whole test session's state can outlast the client's timeout."""
    left = blocks
    while left > 0:
        step = min(chunk, left)
        client.rpc("anvil_mine", [hex(step)])
        left -= step


@dataclass
class Devnet:
    """A fresh hub with the demo consortium, and handles to act as any member."""

    settings: Settings
    client: ChainClient
    hub: Hub
    deployment: Deployment
    plan: Consortium
    node: AnvilNode

    def sender(self, member: Member | int) -> TxSender:
        index = member if isinstance(member, int) else member.key_index
        return TxSender(self.client, dev_signer(index), self.settings.gas)

    @property
    def operator(self) -> Operator:
        return Operator(self.hub, self.sender(self.plan.admin))


def deploy_devnet(
    node: AnvilNode, artifact: tuple[Artifact, CompilerSettings], tmp: Path, **overrides: object
) -> Devnet:
    settings = load_settings(
        None,
        rpc_url=node.url,
        chain_id=31337,
        deployment_file=tmp / "deployment.json",
        database_url=f"sqlite:///{tmp / 'ledger.db'}",
        key="devnet:0",
        **overrides,
    )
    client = ChainClient.from_settings(settings)
    plan = demo_plan()
    admin = TxSender(client, dev_signer(plan.admin.key_index), settings.gas)
    deployment = deploy_hub(client, admin, artifact[0], artifact[1])
    write_deployment(deployment, settings.deployment_file)
    hub = open_hub(client, deployment)
    register_consortium(Operator(hub, admin), plan)
    return Devnet(settings, client, hub, deployment, plan, node)


#: admin transactions sent before waiting for their receipts (one nonce sequence: they mine in order)
_PIPELINE = 200
#: gas limit of one registration, funding or cap (each uses under 120,000): blocks are packed by limit
_ADMIN_GAS = 150_000


def add_participants(
    devnet: Devnet,
    count: int,
    *,
    name: str = "Extra Bank",
    currencies: tuple[str, ...] = (),
    funding: int = 0,
    debit_cap: int = 0,
    gas: bool = False,
    mine: Callable[[], None] | None = None,
) -> list[TxSender]:
    """Register ``count`` new banks (fresh keys), fund and cap them in ``currencies``, the admin's
    transactions pipelined; with ``gas`` each gets ether to send its own transactions. ``mine`` is
    called before waiting for each pipeline's receipts (for a chain with automine off)."""
    admin = devnet.sender(devnet.plan.admin)
    hub = devnet.hub
    senders = []
    calls: list[bytes] = []
    for i in range(count):
        signer = Signer(Account.create())
        if gas:
            devnet.client.rpc("anvil_setBalance", [signer.address, hex(10**21)])
        account = to_checksum_address(signer.address)
        calls.append(hub.encode("registerParticipant", account, int(ParticipantKind.BANK), f"{name} {i}"))
        for code in currencies:
            if funding:
                calls.append(hub.encode("fund", account, currency_bytes(code), funding))
            if debit_cap:
                calls.append(hub.encode("setDebitCap", account, currency_bytes(code), debit_cap))
        senders.append(TxSender(devnet.client, signer, devnet.settings.gas))
    admin.refresh_fees()
    for start in range(0, len(calls), _PIPELINE):
        sent = [
            (admin.send(hub.address, data, gas=_ADMIN_GAS), hub.address, data)
            for data in calls[start : start + _PIPELINE]
        ]
        if mine is not None:
            mine()
        admin.wait(sent)
    return senders


def ledger_cli(
    devnet: Devnet, *args: str, key: Member | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``ledger ARGS`` as an operator runs it (a subprocess), against ``devnet``, signing as ``key``
    (default: the admin), with ``env`` added to the environment."""
    env = dict(
        os.environ,
        LEDGER_RPC_URL=devnet.settings.rpc_url,
        LEDGER_DEPLOYMENT_FILE=str(devnet.settings.deployment_file),
        LEDGER_KEY=f"devnet:{(key or devnet.plan.admin).key_index}",
        **(env or {}),
    )
    env.pop("LEDGER_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "ledger.cli", *args], env=env, capture_output=True, text=True, timeout=120
    )
