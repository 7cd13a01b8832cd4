"""``ledger devnet up|status|down``."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ledger.cli.context import AppContext

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

devnet_app = typer.Typer(help="The local anvil devnet with the demo consortium.", no_args_is_help=True)
app.add_typer(devnet_app, name="devnet")
out = Console()


@devnet_app.command("up")
def up(ctx: typer.Context) -> None:
    """Start anvil, deploy the hub, register the demo consortium and start the oracle committee.

    Idempotent: what already runs is left alone. ``[devnet] oracles = false`` (or
    ``LEDGER_DEVNET__ORACLES=false``) leaves the committee to you."""
    from ledger.devnet.lifecycle import devnet_up

    actx: AppContext = ctx.obj
    deployment, plan = devnet_up(actx.settings)
    table = Table(
        title=f"devnet: hub {deployment.hub} (chain {deployment.chain_id}, block {deployment.start_block})"
    )
    for column in ("role", "name", "address", "dev key"):
        table.add_column(column)
    table.add_row("operator", plan.admin.name, plan.admin.address, str(plan.admin.key_index))
    for m in plan.banks:
        table.add_row("bank", m.name, m.address, str(m.key_index))
    for m in plan.wallet_providers:
        table.add_row("wallet provider", m.name, m.address, str(m.key_index))
    for m in plan.oracles:
        table.add_row(f"oracle (k={plan.threshold})", m.name, m.address, str(m.key_index))
    table.add_row("auditor", plan.auditor.name, plan.auditor.address, str(plan.auditor.key_index))
    out.print(table)


@devnet_app.command("status")
def status(ctx: typer.Context) -> None:
    """Show whether anvil runs, its block height and the deployment."""
    from ledger.devnet.lifecycle import devnet_status

    actx: AppContext = ctx.obj
    st = devnet_status(actx.settings)
    if not st.running:
        out.print(f"devnet is down ({st.url})")
        raise typer.Exit(1)
    out.print(f"devnet is up: pid {st.pid}, {st.url}, block {st.block}")
    if st.deployment:
        out.print(f"hub {st.deployment.hub} deployed in block {st.deployment.start_block}")
    for proc in st.oracles:
        state = f"running, pid {proc.pid}, metrics :{proc.metrics_port}" if proc.running else "stopped"
        out.print(f"oracle {proc.name} {proc.address}: {state} (log {proc.log_file})")


@devnet_app.command("down")
def down(ctx: typer.Context) -> None:
    """Stop the oracle processes and anvil; the chain state is kept for the next ``up``."""
    from ledger.devnet.lifecycle import devnet_down

    actx: AppContext = ctx.obj
    out.print("devnet stopped" if devnet_down(actx.settings) else "devnet was not running")
