"""The auditor API: tokens, pagination, filters, reports, and that it never writes."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from ledger.api.app import create_app
from ledger.api.auth import hash_token, revoke_token
from ledger.cli.main import app as cli_app
from ledger.index.db import make_engine

from .conftest import Served


def client(s: Served) -> TestClient:
    return TestClient(create_app(s.url, rpc_url=s.devnet.node.url, hub=s.devnet.hub.address))


def auth(s: Served) -> dict[str, str]:
    return {"Authorization": f"Bearer {s.token}"}


def test_tokens_are_required_and_checked(served: Served) -> None:
    c = client(served)
    assert c.get("/api/status").status_code == 401
    assert c.get("/api/status", headers={"Authorization": "Bearer lgr_wrong"}).status_code == 401
    assert c.get("/api/status", headers={"Authorization": "Basic abc"}).status_code == 401
    ok = c.get("/api/status", headers=auth(served))
    assert ok.status_code == 200 and ok.json()["discrepancies"] == 0
    with make_engine(served.url).connect() as conn:  # stored hashed only
        stored = conn.execute(text("SELECT token_hash FROM api_tokens")).scalars().all()
    assert stored == [hash_token(served.token)] and served.token not in stored
    revoke_token(make_engine(served.url), "auditor-1")
    assert c.get("/api/status", headers=auth(served)).status_code == 401


def test_pagination_and_filters(served: Served) -> None:
    c = client(served)
    h = auth(served)
    first = c.get("/api/obligations?limit=5&offset=0", headers=h).json()
    second = c.get("/api/obligations?limit=5&offset=5", headers=h).json()
    rest = c.get("/api/obligations?limit=5&offset=10", headers=h).json()
    assert first["total"] == 12 and len(first["items"]) == 5 and len(rest["items"]) == 2
    ids = [o["id"] for o in first["items"] + second["items"] + rest["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 12
    assert c.get("/api/obligations?status=pending", headers=h).json()["total"] == 1
    atlas = served.devnet.plan.banks[0].address
    by_payer = c.get(f"/api/obligations?payer={atlas}", headers=h).json()
    assert by_payer["total"] == 4 and all(o["payer"] == atlas.lower() for o in by_payer["items"])
    assert c.get("/api/obligations?cycle=2&currency=USD", headers=h).json()["total"] == 1
    assert c.get("/api/obligations?limit=0", headers=h).status_code == 422
    cycles = c.get("/api/cycles?status=settled", headers=h).json()
    assert [x["cycle_id"] for x in cycles["items"]] == [2, 1]
    assert all(x["status_check"] == "verified" for x in cycles["items"])
    positions = c.get("/api/positions?cycle=1&currency=SGD", headers=h).json()
    assert sum(int(p["net"]) for p in positions["items"]) == 0 and positions["total"] >= 2
    chart = c.get("/api/chart", headers=h).json()
    assert [p["cycle_id"] for p in chart["points"]] == [1, 2]
    assert all(int(p["gross"]) >= int(p["net"]) for p in chart["points"])
    report = c.get("/api/recon/cycle/1", headers=h).json()
    assert report["clean"] and report["as_of_block"] == c.get("/api/status", headers=h).json()["as_of_block"]
    assert c.get("/api/recon/balances", headers=h).json()["clean"]
    proof = c.get(f"/api/proof/ATL-1?payer={atlas}", headers=h).json()
    assert proof["verifyObligation"] and proof["root_matches_chain"]
    assert c.get("/api/proof/NOPE", headers=h).status_code == 404
    schema = c.get("/openapi.json").json()
    paths = schema["paths"]
    assert {"/api/cycles", "/api/obligations", "/api/positions", "/api/recon/cycle/{cycle_id}"} <= set(paths)
    # every route promises a typed response, money as decimal strings
    for path, operations in paths.items():
        if path.startswith("/api/"):
            ok = operations["get"]["responses"]["200"]["content"]["application/json"]["schema"]
            assert "$ref" in ok, (path, ok)
    amount = schema["components"]["schemas"]["ObligationRow"]["properties"]["amount"]
    assert amount["type"] == "string" and amount["pattern"] == r"^-?\d+$"
    assert schema["openapi"].startswith("3.1")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_nothing_writes(served: Served) -> None:
    c = client(served)
    h = auth(served)
    sqlite_file = Path(served.url.removeprefix("sqlite:///")) if served.url.startswith("sqlite") else None
    before = _digest(sqlite_file) if sqlite_file else None
    head = served.devnet.client.block_number()
    for path in ("/api/cycles", "/api/obligations", "/api/positions", "/api/recon/cycle/2", "/api/chart"):
        assert c.get(path, headers=h).status_code == 200
        assert c.post(path, headers=h, json={}).status_code == 405
        assert c.delete(path, headers=h).status_code == 405
    assert served.devnet.client.block_number() == head  # no transaction sent
    if sqlite_file:
        assert _digest(sqlite_file) == before
    engine = make_engine(served.url, read_only=True)
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text("DELETE FROM obligations"))


def test_cli_issues_a_token_once(sqlite_served: Served) -> None:
    env = {"LEDGER_DATABASE_URL": sqlite_served.url}
    result = CliRunner().invoke(cli_app, ["api-token", "issue", "auditor-2"], env=env)
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("lgr_") and len(token) > 40
    c = client(sqlite_served)
    assert c.get("/api/status", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_mistyped_filters_and_out_of_range_values_are_problems_not_answers(served: Served) -> None:
    c = client(served)
    h = auth(served)

    def problem(path: str) -> Any:
        response = c.get(path, headers=h)
        assert response.status_code == 422, (path, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["status"] == 422 and body["title"] and body["detail"]
        return body

    unknown = problem("/api/obligations?reference=ATL-1")  # not a filter of this route
    assert unknown["errors"] == [
        {
            "in": "query",
            "parameter": "reference",
            "value": "ATL-1",
            "reason": unknown["errors"][0]["reason"],
        }
    ]
    assert "payer" in str(unknown["detail"])  # names what the route accepts
    bad_status = problem("/api/obligations?status=foo")
    assert [e["parameter"] for e in bad_status["errors"]] == ["status"]
    problem("/api/cycles?status=done")
    for path in (
        f"/api/obligations?cycle={2**63}",
        f"/api/recon/cycle/{2**63}",
        f"/api/recon/statement/{served.devnet.plan.banks[0].address}?to_block={2**64}",
        f"/api/recon/balances?block={2**63}",
        "/api/obligations?offset=-1",
    ):
        problem(path)
    # the largest accepted values still answer
    assert c.get(f"/api/obligations?cycle={2**63 - 1}", headers=h).json()["total"] == 0
    # other errors are problems too, with their headers
    unauthorised = c.get("/api/status")
    assert unauthorised.status_code == 401
    assert unauthorised.headers["content-type"].startswith("application/problem+json")
    assert unauthorised.headers["www-authenticate"] == "Bearer"
    missing = c.get("/api/proof/NOPE", headers=h)
    assert missing.status_code == 404 and missing.json()["title"] == "Not found"
