"""Test support: a real anvil on a free port and freshly deployed hubs with the demo consortium.

Used by the project's own tests and usable by bank systems that test their integration against a
real chain. Nothing is mocked.
"""

from __future__ import annotations

__all__ = ["Devnet", "deploy_devnet", "hub_artifact", "start_anvil"]

from dataclasses import dataclass
from pathlib import Path

from ledger.build import Artifact, hub_artifact
from ledger.chain.client import ChainClient, TxSender
from ledger.chain.hub import Hub
from ledger.config import Settings, load_settings
from ledger.deploy import deploy_hub, open_hub, write_deployment
from ledger.devnet.anvil import AnvilNode, free_port, launch
from ledger.devnet.consortium import Consortium, Member, demo_plan, register_consortium
from ledger.keys import dev_signer
from ledger.operator import Operator
from ledger.types import CompilerSettings, Deployment


def start_anvil(tmp: Path, *extra: str) -> AnvilNode:
    _, node = launch(port=free_port(), accounts=20, log_file=tmp / "anvil.log", extra_args=tuple(extra))
    return node


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
