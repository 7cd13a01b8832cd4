"""Bearer tokens for the auditor API: issued by the operator, shown once, stored as sha256.

Tokens are 32 random bytes (``secrets.token_urlsafe``): with that much entropy a plain sha256 is a
safe verifier (no dictionary to attack), and the lookup is one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine, text

__all__ = ["hash_token", "issue_token", "revoke_token", "token_name"]

TOKEN_PREFIX = "lgr_"  # noqa: S105 - a prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(engine: Engine, name: str) -> str:
    """Create a token for ``name`` and return it (the only time it exists in clear)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO api_tokens (name, token_hash, created_at, revoked) VALUES (:n, :h, :t, :r)"),
            {"n": name, "h": hash_token(token), "t": datetime.now(UTC), "r": False},
        )
    return token


def revoke_token(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(
                text("UPDATE api_tokens SET revoked = :r WHERE name = :n"), {"r": True, "n": name}
            ).rowcount
        )


def token_name(engine: Engine, token: str) -> str | None:
    """The name of a valid (known, not revoked) token."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT name, revoked FROM api_tokens WHERE token_hash = :h"), {"h": hash_token(token)}
        ).first()
    if row is None or row[1]:
        return None
    return str(row[0])
