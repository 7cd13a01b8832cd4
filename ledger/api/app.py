"""The read-only auditor API (FastAPI) and page.

Every ``/api`` route needs ``Authorization: Bearer <token>`` (``ledger api-token issue NAME``). The
app only reads: the database is opened read-only (SQLite ``mode=ro``; PostgreSQL
``default_transaction_read_only=on``), there is no write route, and it never sends a transaction.
Money is returned as decimal strings. Each response says the block it reflects.
"""

# ruff: noqa: S608 - SQL is assembled from fixed column names only; values are bound parameters
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text

from ledger.api.auth import token_name
from ledger.chain.jsonrpc import JsonRpc
from ledger.index.db import make_engine
from ledger.recon.balances import balances_report
from ledger.recon.chain import HubViews
from ledger.recon.cycle import cycle_report
from ledger.recon.proof import ProofError, obligation_proof
from ledger.recon.report import as_int, checkpoint, ratio_string
from ledger.recon.statement import statement_report

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"
_bearer = HTTPBearer(auto_error=False)


def _auth(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    name = token_name(request.app.state.engine, credentials.credentials)
    if name is None:
        raise HTTPException(401, "invalid or revoked token", headers={"WWW-Authenticate": "Bearer"})
    return name


Auth = Annotated[str, Depends(_auth)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0)]


def create_app(database_url: str, *, rpc_url: str | None = None, hub: str | None = None) -> FastAPI:
    engine: Engine = make_engine(database_url, read_only=True)
    views = HubViews(JsonRpc(rpc_url), hub) if rpc_url and hub else None
    app = FastAPI(title="Settlement ledger — auditor API", version="1", description=__doc__)

    app.state.engine = engine

    def page(  # noqa: PLR0917
        sql: str, count_sql: str, params: dict[str, Any], limit: int, offset: int, money: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        with engine.connect() as conn:
            last, last_hash, _ = checkpoint(conn)
            total = conn.execute(text(count_sql), params).scalar_one()
            rows = (
                conn.execute(
                    text(sql + " LIMIT :limit OFFSET :offset"), {**params, "limit": limit, "offset": offset}
                )
                .mappings()
                .all()
            )
        items = [{k: (str(as_int(v)) if k in money else v) for k, v in r.items()} for r in rows]
        return {
            "as_of_block": last,
            "as_of_block_hash": last_hash,
            "total": total,
            "limit": limit,
            "offset": offset,
            "items": items,
        }

    def where(filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        clauses = [f"{col} = :{col}" for col, value in filters.items() if value is not None]
        params = {col: value for col, value in filters.items() if value is not None}
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    @app.get("/api/status")
    def status(_: Auth) -> dict[str, Any]:
        with engine.connect() as conn:
            last, last_hash, chain_id = checkpoint(conn)
            discrepancies = conn.execute(text("SELECT COUNT(*) FROM discrepancies")).scalar_one()
        return {
            "chain_id": chain_id,
            "as_of_block": last,
            "as_of_block_hash": last_hash,
            "discrepancies": discrepancies,
        }

    @app.get("/api/cycles")
    def cycles(_: Auth, status: str | None = None, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
        clause, params = ("WHERE c.status = :status", {"status": status}) if status else ("", {})
        return page(
            "SELECT c.cycle_id, c.status, c.count, c.carried_count, c.ready_block, c.final_block, "
            "s.settled_count, "
            "s.deferred_count, s.settled_root, s.deferred_root, s.status_check FROM cycles c "
            f"LEFT JOIN settlements s ON s.cycle_id = c.cycle_id {clause} ORDER BY c.cycle_id DESC",
            f"SELECT COUNT(*) FROM cycles c {clause}",
            params,
            limit,
            offset,
        )

    @app.get("/api/obligations")
    def obligations(  # noqa: PLR0917 - query filters
        _: Auth,
        cycle: int | None = None,
        status: str | None = None,
        payer: str | None = None,
        payee: str | None = None,
        currency: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        clause, params = where(
            {
                "cycle_id": cycle,
                "status": status,
                "payer": payer and payer.lower(),
                "payee": payee and payee.lower(),
                "currency": currency,
            }
        )
        return page(
            "SELECT id, block_number, log_index, tx_hash, cycle_id, payer, payee, ref, currency, kind, "
            "amount, "
            "payer_account, payee_account, status, status_cycle, settled_cycle "
            f"FROM obligations{clause} ORDER BY id",
            f"SELECT COUNT(*) FROM obligations{clause}",
            params,
            limit,
            offset,
            money=("amount",),
        )

    @app.get("/api/positions")
    def positions(
        _: Auth,
        cycle: int | None = None,
        participant: str | None = None,
        currency: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        clause, params = where(
            {"cycle_id": cycle, "participant": participant and participant.lower(), "currency": currency}
        )
        return page(
            "SELECT n.cycle_id, n.participant, p.name, n.currency, n.net, n.balance, n.block_number "
            f"FROM net_positions n LEFT JOIN participants p ON p.address = n.participant{clause} "
            "ORDER BY n.cycle_id DESC, n.currency, n.participant",
            f"SELECT COUNT(*) FROM net_positions{clause}",
            params,
            limit,
            offset,
            money=("net", "balance"),
        )

    @app.get("/api/participants")
    def participants(_: Auth, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        return page(
            "SELECT address, kind, name, status, registered_block FROM participants ORDER BY name",
            "SELECT COUNT(*) FROM participants",
            {},
            limit,
            offset,
        )

    @app.get("/api/chart")
    def chart(_: Auth, currency: str = "SGD") -> dict[str, Any]:
        """Gross settled value against net value moved, per settled cycle (integers as strings)."""
        with engine.connect() as conn:
            last, last_hash, _chain = checkpoint(conn)
            gross: dict[int, int] = {}
            for cycle_id, paid in conn.execute(
                text("SELECT cycle_id, paid FROM cycle_totals WHERE currency = :c"), {"c": currency}
            ):
                gross[cycle_id] = gross.get(cycle_id, 0) + as_int(paid)
            net: dict[int, int] = {}
            for position_cycle, value in conn.execute(
                text("SELECT cycle_id, net FROM net_positions WHERE currency = :c"), {"c": currency}
            ):
                if as_int(value) > 0:
                    net[position_cycle] = net.get(position_cycle, 0) + as_int(value)
        from ledger.recon.cycle import liquidity_saving  # noqa: PLC0415

        points = [
            {
                "cycle_id": c,
                "gross": str(gross.get(c, 0)),
                "net": str(net.get(c, 0)),
                "saving": ratio_string(liquidity_saving(gross.get(c, 0), net.get(c, 0)), 2),
            }
            for c in sorted(set(gross) | set(net))
        ]
        return {"as_of_block": last, "as_of_block_hash": last_hash, "currency": currency, "points": points}

    @app.get("/api/recon/cycle/{cycle_id}")
    def recon_cycle(_: Auth, cycle_id: int) -> dict[str, Any]:
        with engine.connect() as conn:
            return cycle_report(conn, cycle_id).to_json()

    @app.get("/api/recon/statement/{participant}")
    def recon_statement(
        _: Auth, participant: str, from_block: int = 0, to_block: int | None = None
    ) -> dict[str, Any]:
        with engine.connect() as conn:
            return statement_report(conn, participant, from_block, to_block).to_json()

    @app.get("/api/recon/balances")
    def recon_balances(_: Auth, block: int | None = None) -> dict[str, Any]:
        if views is None:
            raise HTTPException(503, "the server was started without a chain endpoint")
        with engine.connect() as conn:
            return balances_report(conn, views, block).to_json()

    @app.get("/api/proof/{reference}")
    def proof(_: Auth, reference: str, payer: str | None = None) -> dict[str, Any]:
        try:
            with engine.connect() as conn:
                return obligation_proof(conn, views, reference, payer)
        except ProofError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
