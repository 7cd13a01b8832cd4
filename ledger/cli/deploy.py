"""``ledger deploy``: deploy a SettlementHub to the configured endpoint and write the deployment file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ledger.cli.context import AppContext
from ledger.errors import ConfigError

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

out = Console()


@app.command("deploy")
def deploy(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    key: Annotated[
        str | None, typer.Option("--key", help="deployer key source (default: the config's key)")
    ] = None,
    admin: Annotated[str | None, typer.Option(help="the hub's admin (default: the deployer)")] = None,
    artifact: Annotated[Path | None, typer.Option(help="a forge artifact JSON to deploy")] = None,
    compile_sources: Annotated[
        bool, typer.Option("--compile", help="compile contracts/ with py-solc-x instead of loading out/")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="replace an existing deployment file")] = False,
) -> None:
    """Deploy the hub (compiled with foundry.toml's settings) and write the deployment file that every
    other component reads: chain id, hub address, start block, ABI hash and compiler settings."""
    actx: AppContext = ctx.obj
    settings = actx.settings
    target = settings.deployment_file
    if target.exists() and not force:
        raise ConfigError(
            f"{target} already exists: pass --force to deploy a new hub and replace it "
            "(indexers and oracles must then be pointed at the new deployment)"
        )
    from ledger.build import hub_artifact
    from ledger.deploy import deploy_hub, write_deployment

    built, compiler = hub_artifact(compile_sources=compile_sources, artifact=artifact)
    deployment = deploy_hub(actx.client, actx.sender(key), built, compiler, admin=admin)
    write_deployment(deployment, target)
    out.print(
        f"SettlementHub deployed at {deployment.hub} on chain {deployment.chain_id} in block "
        f"{deployment.start_block} (solc {compiler.version}, evm {compiler.evm_version}); wrote {target}"
    )
