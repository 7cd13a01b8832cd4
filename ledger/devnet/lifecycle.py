"""``ledger devnet up|status|down``: anvil, deployment, demo consortium and oracle committee.

``up`` on a running devnet with a live deployment changes nothing; after ``down`` the chain comes
back from anvil's state file with the same deployment; if the state is gone, it redeploys. With
``[devnet] oracles = true`` (the default) ``up`` also starts one ``oracle run`` process per
committee member, so closed cycles settle without manual steps, and ``down`` stops them first.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from ledger.build import hub_artifact
from ledger.chain.client import ChainClient, TxSender
from ledger.config import Settings
from ledger.deploy import deploy_hub, open_hub, read_deployment, write_deployment
from ledger.devnet.anvil import DevnetNode
from ledger.devnet.consortium import Consortium, demo_plan, is_registered, register_consortium
from ledger.devnet.oracles import OracleProcess, oracles_dir, oracles_status, start_oracles, stop_oracles
from ledger.devnet.rules import ChainRules
from ledger.errors import ConfigError
from ledger.keys import dev_signer
from ledger.operator import Operator
from ledger.types import Deployment

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DevnetStatus:
    running: bool
    pid: int | None
    url: str
    block: int | None
    deployment: Deployment | None
    consortium_file: Path
    oracles: tuple[OracleProcess, ...] = ()


def devnet_node(settings: Settings) -> DevnetNode:
    """The devnet's anvil under production's node-side rules: the contracts' hardfork, the block gas
    limit and (when configured) no archive state. The RPC-side limits (``eth_getLogs`` range,
    transaction size) are the clients' own settings (``[indexer]``, ``[oracle]``, ``ledger submit``);
    the tests enforce them with :class:`ledger.devnet.rules.RulesProxy`."""
    d = settings.devnet
    rules = ChainRules(
        hardfork=d.hardfork, block_gas_limit=d.block_gas_limit, block_time=None, prune_history=d.prune_history
    )
    return DevnetNode(d.state_dir, d.host, d.port, d.accounts, d.block_time, chain_args=rules.anvil_args())


def consortium_file(settings: Settings) -> Path:
    return settings.devnet.state_dir / "consortium.json"


def _drop_stale_mirror(settings: Settings) -> None:
    """A fresh hub makes the devnet's own SQLite mirror (a file under the state directory) stale: the
    indexer refuses a database that mirrors another hub. Databases elsewhere are left alone."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    db = Path(url.database).resolve()
    if not db.is_relative_to(settings.devnet.state_dir.resolve()):
        return
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if path.exists():
            log.info("removing %s: it mirrors the previous devnet hub", path)
            path.unlink()


def deploy_demo(settings: Settings, client: ChainClient) -> tuple[Deployment, Consortium]:
    _drop_stale_mirror(settings)
    plan = demo_plan()
    admin = TxSender(client, dev_signer(plan.admin.key_index), settings.gas)
    artifact, compiler = hub_artifact()
    deployment = deploy_hub(client, admin, artifact, compiler)
    write_deployment(deployment, settings.deployment_file)
    hub = open_hub(client, deployment)
    register_consortium(Operator(hub, admin), plan)
    plan.save(consortium_file(settings))
    return deployment, plan


def devnet_up(settings: Settings) -> tuple[Deployment, Consortium]:
    node = devnet_node(settings)
    node.start()
    client = ChainClient(node.url, expected_chain_id=31337, timeout=settings.rpc_timeout)
    try:
        deployment = read_deployment(settings.deployment_file)
        hub = open_hub(client, deployment)
        plan = Consortium.load(consortium_file(settings))
        if not is_registered(hub, plan):
            raise ConfigError("consortium missing")
        log.info("devnet already deployed: hub %s", deployment.hub)
    except (ConfigError, OSError, ValueError) as reason:
        log.info("deploying a fresh hub (%s)", reason)
        # oracles still running would watch the old hub: restart them on the new deployment, without
        # checkpoints of a chain that no longer exists (a reset anvil redeploys at the same address)
        stop_oracles(settings)
        shutil.rmtree(oracles_dir(settings) / "state", ignore_errors=True)
        deployment, plan = deploy_demo(settings, client)
    if settings.devnet.oracles:
        for proc in start_oracles(settings, plan):
            log.info("oracle %s running (pid %s, metrics :%s)", proc.name, proc.pid, proc.metrics_port)
    return deployment, plan


def devnet_status(settings: Settings) -> DevnetStatus:
    node = devnet_node(settings)
    pid = node.running_pid()
    block = None
    deployment = None
    if pid is not None:
        client = ChainClient(node.url, timeout=settings.rpc_timeout)
        block = client.block_number()
        try:
            deployment = read_deployment(settings.deployment_file)
        except ConfigError:
            deployment = None
    oracles = tuple(oracles_status(settings))
    return DevnetStatus(pid is not None, pid, node.url, block, deployment, consortium_file(settings), oracles)


def devnet_down(settings: Settings) -> bool:
    """Stop the oracle processes, then anvil (its state file is kept); whether anvil was running."""
    stopped = stop_oracles(settings)
    if stopped:
        log.info("stopped %d oracle process(es)", stopped)
    return devnet_node(settings).stop()
