"""The read-only auditor API (FastAPI) and page.

Every ``/api`` route needs ``Authorization: Bearer <token>`` (``ledger api-token issue NAME``). The
app only reads: the database is opened read-only (SQLite ``mode=ro``; PostgreSQL
``default_transaction_read_only=on``), there is no write route, and it never sends a transaction.
Money is returned as decimal strings. Each response says the block it reflects.

Queries are built from the tables of :mod:`ledger.index.models`; a page stringifies exactly the
columns whose type is ``Money`` (ints on both backends), so the JSON is the same on SQLite and
PostgreSQL.

The API is strict, so that a mistyped filter never passes for an empty or unfiltered answer: an
unknown query parameter, a status that does not exist or an integer beyond the mirror's 64-bit
columns is a 422. Every error is ``application/problem+json`` (RFC 9457) with an ``errors`` list
naming each parameter, where it was, the value given and why it was refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from sqlalchemy import ColumnElement, Engine, Select, Table, func, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from ledger.api.auth import token_name
from ledger.api.schema import (
    ChartOut,
    CycleRow,
    ObligationRow,
    Page,
    ParticipantRow,
    PositionRow,
    ProofOut,
    ReportOut,
    StatusOut,
)
from ledger.chain.jsonrpc import JsonRpc
from ledger.chain.views import HubViews
from ledger.index import models as tables  # the route functions below take the tables' names
from ledger.index.db import make_engine
from ledger.index.money import Money
from ledger.recon.balances import balances_report
from ledger.recon.cycle import cycle_report
from ledger.recon.onchain import ChainReader
from ledger.recon.proof import ProofError, obligation_proof
from ledger.recon.report import checkpoint, ratio_string
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
#: the mirror's block, cycle and row numbers are 64-bit (PostgreSQL BIGINT)
MAX_INT = 2**63 - 1
Limit = Annotated[int, Query(ge=1, le=1000)]
Offset = Annotated[int, Query(ge=0, le=MAX_INT)]
Block = Annotated[int, Query(ge=0, le=MAX_INT)]
CycleId = Annotated[int, Query(ge=0, le=MAX_INT)]
CycleStatusName = Literal[
    "open", "closed", "ready", "settling", "unwinding", "settled", "failed", "cancelled"
]
ObligationStatusName = Literal["pending", "settled", "deferred", "recalled", "expired"]
PROBLEM_JSON = "application/problem+json"


def _known_parameters(request: Request) -> None:
    """Refuse query parameters the route does not declare (``?reference=X`` must not list everything)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    allowed: set[str] = set()
    stack = [dependant]
    while stack:
        d = stack.pop()
        allowed |= {p.alias for p in d.query_params}
        stack.extend(d.dependencies)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        accepted = ", ".join(sorted(allowed)) or "none"
        raise RequestValidationError(
            [
                {
                    "type": "unknown_parameter",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; this route accepts: {accepted}",
                    "input": request.query_params[name],
                }
                for name in unknown
            ]
        )


def _problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        loc = [str(part) for part in e.get("loc", ())]
        errors.append(
            {
                "in": loc[0] if loc else "request",
                "parameter": ".".join(loc[1:]) or (loc[0] if loc else ""),
                "value": e.get("input"),
                "reason": e.get("msg", "invalid"),
            }
        )
    detail = "; ".join(f"{e['parameter']}: {e['reason']}" for e in errors)
    return _problem(422, "Invalid request", detail, errors=errors)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    response = _problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail))
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


_TITLES = {401: "Unauthorized", 404: "Not found", 405: "Method not allowed", 503: "Unavailable"}


def create_app(database_url: str, *, rpc_url: str | None = None, hub: str | None = None) -> FastAPI:
    engine: Engine = make_engine(database_url, read_only=True)
    views = HubViews(JsonRpc(rpc_url), hub) if rpc_url and hub else None
    chain = ChainReader(JsonRpc(rpc_url), hub) if rpc_url and hub else None
    app = FastAPI(
        title="Settlement ledger — auditor API",
        version="1",
        description=__doc__,
        dependencies=[Depends(_known_parameters)],
    )
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)

    app.state.engine = engine

    def page(query: Select[Any], counted: Select[Any], limit: int, offset: int) -> dict[str, Any]:
        """``limit`` rows of ``query`` from ``offset``, with the total ``counted`` and the checkpoint."""
        money = {c.key for c in query.selected_columns if isinstance(c.type, Money)}
        with engine.connect() as conn:
            last, last_hash, _ = checkpoint(conn)
            total = conn.execute(counted).scalar_one()
            rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
        items = [{k: (str(v) if k in money and v is not None else v) for k, v in r.items()} for r in rows]
        return {
            "as_of_block": last,
            "as_of_block_hash": last_hash,
            "total": total,
            "limit": limit,
            "offset": offset,
            "items": items,
        }

    def where(table: Table, filters: dict[str, Any]) -> list[ColumnElement[bool]]:
        """Equality on each of ``table``'s columns named in ``filters`` whose value was given."""
        return [table.c[col] == value for col, value in filters.items() if value is not None]

    def count(table: Table, conditions: list[ColumnElement[bool]]) -> Select[Any]:
        return select(func.count()).select_from(table).where(*conditions)

    @app.get("/api/status", response_model=StatusOut)
    def status(_: Auth) -> dict[str, Any]:
        with engine.connect() as conn:
            last, last_hash, chain_id = checkpoint(conn)
            found = conn.execute(count(tables.discrepancies, [])).scalar_one()
        return {
            "chain_id": chain_id,
            "as_of_block": last,
            "as_of_block_hash": last_hash,
            "discrepancies": found,
        }

    @app.get("/api/cycles", response_model=Page[CycleRow])
    def cycles(
        _: Auth, status: CycleStatusName | None = None, limit: Limit = 50, offset: Offset = 0
    ) -> dict[str, Any]:
        c, s = tables.cycles.c, tables.settlements.c
        conditions = [c.status == status] if status else []
        query = (
            select(
                c.cycle_id,
                c.status,
                c.count,
                c.carried_count,
                c.ready_block,
                c.final_block,
                s.settled_count,
                s.deferred_count,
                s.settled_root,
                s.deferred_root,
                s.status_check,
                s.recalled_count,
                s.expired_count,
                s.recalled_root,
                s.expired_root,
            )
            .select_from(tables.cycles.outerjoin(tables.settlements, s.cycle_id == c.cycle_id))
            .where(*conditions)
            .order_by(c.cycle_id.desc())
        )
        return page(query, count(tables.cycles, conditions), limit, offset)

    @app.get("/api/obligations", response_model=Page[ObligationRow])
    def obligations(  # noqa: PLR0917 - query filters
        _: Auth,
        cycle: CycleId | None = None,
        status: ObligationStatusName | None = None,
        payer: str | None = None,
        payee: str | None = None,
        currency: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        conditions = where(
            tables.obligations,
            {
                "cycle_id": cycle,
                "status": status,
                "payer": payer and payer.lower(),
                "payee": payee and payee.lower(),
                "currency": currency,
            },
        )
        o = tables.obligations.c
        query = (
            select(
                o.id,
                o.block_number,
                o.log_index,
                o.tx_hash,
                o.cycle_id,
                o.payer,
                o.payee,
                o.ref,
                o.currency,
                o.kind,
                o.amount,
                o.payer_account,
                o.payee_account,
                o.status,
                o.status_cycle,
                o.settled_cycle,
            )
            .where(*conditions)
            .order_by(o.id)
        )
        return page(query, count(tables.obligations, conditions), limit, offset)

    @app.get("/api/positions", response_model=Page[PositionRow])
    def positions(
        _: Auth,
        cycle: CycleId | None = None,
        participant: str | None = None,
        currency: str | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> dict[str, Any]:
        conditions = where(
            tables.net_positions,
            {"cycle_id": cycle, "participant": participant and participant.lower(), "currency": currency},
        )
        n, p = tables.net_positions.c, tables.participants.c
        query = (
            select(n.cycle_id, n.participant, p.name, n.currency, n.net, n.balance, n.block_number)
            .select_from(tables.net_positions.outerjoin(tables.participants, p.address == n.participant))
            .where(*conditions)
            .order_by(n.cycle_id.desc(), n.currency, n.participant)
        )
        return page(query, count(tables.net_positions, conditions), limit, offset)

    @app.get("/api/participants", response_model=Page[ParticipantRow])
    def participants(_: Auth, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
        p = tables.participants.c
        query = select(p.address, p.kind, p.name, p.status, p.registered_block).order_by(p.name)
        return page(query, count(tables.participants, []), limit, offset)

    @app.get("/api/chart", response_model=ChartOut)
    def chart(_: Auth, currency: str = "SGD") -> dict[str, Any]:
        """Gross settled value against net value moved, per settled cycle (integers as strings)."""
        with engine.connect() as conn:
            last, last_hash, _chain = checkpoint(conn)
            gross: dict[int, int] = {}
            t, n = tables.cycle_totals.c, tables.net_positions.c
            for cycle_id, paid in conn.execute(select(t.cycle_id, t.paid).where(t.currency == currency)):
                gross[cycle_id] = gross.get(cycle_id, 0) + paid
            net: dict[int, int] = {}
            for position_cycle, value in conn.execute(
                select(n.cycle_id, n.net).where(n.currency == currency)
            ):
                if value > 0:
                    net[position_cycle] = net.get(position_cycle, 0) + value
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

    @app.get("/api/recon/cycle/{cycle_id}", response_model=ReportOut)
    def recon_cycle(_: Auth, cycle_id: Annotated[int, PathParam(ge=0, le=MAX_INT)]) -> dict[str, Any]:
        with engine.connect() as conn:
            return cycle_report(conn, cycle_id, chain).to_json()

    @app.get("/api/recon/statement/{participant}", response_model=ReportOut)
    def recon_statement(
        _: Auth, participant: str, from_block: Block = 0, to_block: Block | None = None
    ) -> dict[str, Any]:
        with engine.connect() as conn:
            return statement_report(conn, participant, from_block, to_block, views).to_json()

    @app.get("/api/recon/balances", response_model=ReportOut)
    def recon_balances(_: Auth, block: Block | None = None) -> dict[str, Any]:
        if views is None:
            raise HTTPException(503, "the server was started without a chain endpoint")
        with engine.connect() as conn:
            return balances_report(conn, views, block).to_json()

    @app.get("/api/proof/{reference}", response_model=ProofOut)
    def proof(
        _: Auth, reference: str, payer: str | None = None, cycle: CycleId | None = None
    ) -> dict[str, Any]:
        try:
            with engine.connect() as conn:
                return obligation_proof(conn, views, reference, payer, cycle=cycle)
        except ProofError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
