"""Bearer tokens for the auditor API: issued by the operator, shown once, stored as sha256.

Tokens are 32 random bytes (``secrets.token_urlsafe``): with that much entropy a plain sha256 is a
safe verifier (no dictionary to attack), and the lookup is one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledger.errors import LedgerError
from ledger.index.models import api_tokens

__all__ = ["hash_token", "issue_token", "revoke_token", "token_name"]

TOKEN_PREFIX = "lgr_"  # noqa: S105 - a prefix, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_token(engine: Engine, name: str) -> str:
    """Create a token for ``name`` and return it (the only time it exists in clear)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(api_tokens).values(
                    name=name, token_hash=hash_token(token), created_at=datetime.now(UTC), revoked=False
                )
            )
    except IntegrityError:
        # Names stay taken after a revocation, so the audit trail keeps one meaning per name.
        raise LedgerError(
            f"a token named {name!r} already exists (names are never reused, even once revoked): "
            "pick another name"
        ) from None
    return token


def revoke_token(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        return bool(
            conn.execute(update(api_tokens).where(api_tokens.c.name == name).values(revoked=True)).rowcount
        )


def token_name(engine: Engine, token: str) -> str | None:
    """The name of a valid (known, not revoked) token."""
    with engine.connect() as conn:
        row = conn.execute(
            select(api_tokens.c.name, api_tokens.c.revoked).where(
                api_tokens.c.token_hash == hash_token(token)
            )
        ).first()
    if row is None or row[1]:
        return None
    return str(row[0])
