"""``ledger serve`` (the read-only auditor API and page) and ``ledger api-token issue|revoke``."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.context import AppContext

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

tokens = typer.Typer(help="Bearer tokens for the auditor API (stored hashed).", no_args_is_help=True)
app.add_typer(tokens, name="api-token")

DbUrl = Annotated[
    str | None, typer.Option("--database-url", help="database URL (default: database_url setting)")
]


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8080,
    database_url: DbUrl = None,
) -> None:
    """Serve the read-only auditor API (OpenAPI docs at /docs) and page (/)."""
    import uvicorn

    from ledger.api.app import create_app

    actx: AppContext = ctx.obj
    settings = actx.settings
    try:
        hub: str | None = actx.deployment.hub
    except Exception:  # no deployment file: the chain-checked reports answer 503
        hub = None
    api = create_app(database_url or settings.database_url, rpc_url=settings.rpc_url, hub=hub)
    uvicorn.run(api, host=host, port=port, log_level="info")


@tokens.command("issue")
def issue(ctx: typer.Context, name: str, database_url: DbUrl = None) -> None:
    """Create a token for NAME and print it once (only its sha256 is stored)."""
    from ledger.api.auth import issue_token
    from ledger.index.db import make_engine, migrate

    engine = make_engine(database_url or ctx.obj.settings.database_url)
    migrate(engine)
    typer.echo(issue_token(engine, name))


@tokens.command("revoke")
def revoke(ctx: typer.Context, name: str, database_url: DbUrl = None) -> None:
    """Revoke NAME's token."""
    from ledger.api.auth import revoke_token
    from ledger.index.db import make_engine

    engine = make_engine(database_url or ctx.obj.settings.database_url)
    if not revoke_token(engine, name):
        raise typer.BadParameter(f"no token named {name!r}")
    typer.echo(f"revoked {name}")
