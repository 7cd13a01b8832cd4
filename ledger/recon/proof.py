"""``recon proof``: an obligation's Merkle proof of inclusion in a cycle's settled, deferred, recalled
or expired set, in @openzeppelin/merkle-tree's format (``StandardMerkleTree.verify(root,
leafEncoding, value, proof)`` and the ``standard-v1`` dump), checked against the root stored on chain
(``roots(cycleId)``, ``endedRoots(cycleId)``) and by the hub's own ``verifyObligation`` /
``verifyEndedObligation``. Every decision has its proof: an obligation deferred in cycle 1 and
settled in cycle 2 is proven deferred with ``cycle=1`` and settled with ``cycle=2`` (default: the
latest decision); the result lists all of them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from ledger.chain.views import HubViews
from ledger.errors import ReportError
from ledger.index.models import deferrals, obligations, settlements
from ledger.index.settlement_status import mirror_leaf
from ledger.protocol.proofs import OBLIGATION_LEAF_ENCODING, ObligationTree, obligation_leaf_values
from ledger.recon.report import checkpoint
from ledger.submit.models import encode_reference

__all__ = ["ProofError", "obligation_proof"]

#: The sets an obligation ends in without settling (``obligations.status``).
_ENDED_SETS = ("recalled", "expired")


class ProofError(ReportError, LookupError):
    """No such obligation, or it is not (yet) in a settled or deferred set."""


def _ref_hex(reference: str) -> str:
    if reference.startswith(("0x", "0X")) and len(reference) == 66:
        return reference.lower()
    return "0x" + encode_reference(reference).hex()


def obligation_proof(
    conn: Connection,
    views: HubViews | None,
    reference: str,
    payer: str | None = None,
    *,
    cycle: int | None = None,
    include_tree: bool = False,
) -> dict[str, Any]:
    last, last_hash, _ = checkpoint(conn)
    ref = _ref_hex(reference)
    o = obligations.c
    query = select(
        o.id,
        o.cycle_id,
        o.payer,
        o.payee,
        o.currency,
        o.amount,
        o.ref,
        o.settled_cycle,
        o.status,
        o.ended_cycle,
    ).where(o.ref == ref)
    if payer:
        query = query.where(o.payer == payer.lower())
    found = conn.execute(query).all()
    if not found:
        raise ProofError(
            f"no obligation with reference {reference!r}" + (f" paid by {payer}" if payer else "")
        )
    if len(found) > 1:
        raise ProofError(f"{len(found)} payers used reference {reference!r}: pass --payer")
    oid, origin, o_payer, payee, currency, amount, _, settled_cycle, status, ended_cycle = found[0]
    decisions = [
        (int(c), "deferred")
        for c in conn.execute(
            select(deferrals.c.cycle_id)
            .where(deferrals.c.obligation_id == oid)
            .order_by(deferrals.c.cycle_id)
        ).scalars()
    ]
    if settled_cycle is not None:
        decisions.append((int(settled_cycle), "settled"))
    elif status in _ENDED_SETS and ended_cycle is not None:
        decisions.append((int(ended_cycle), status))
    if not decisions:
        raise ProofError(f"obligation {reference!r} is pending: no settlement has decided it yet")
    if cycle is None:
        cycle, decided = decisions[-1]
    else:
        chosen = [d for c, d in decisions if c == cycle]
        if not chosen:
            listed = ", ".join(f"{d} in cycle {c}" for c, d in decisions)
            raise ProofError(f"obligation {reference!r} was not decided in cycle {cycle} ({listed})")
        decided = chosen[0]
    settled = decided == "settled"
    ended = decided in _ENDED_SETS
    leaves = select(o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref)
    if settled:
        leaves = leaves.where(o.settled_cycle == cycle)
    elif ended:
        leaves = leaves.where(o.ended_cycle == cycle, o.status == decided)
    else:
        leaves = leaves.join(deferrals, deferrals.c.obligation_id == o.id).where(
            deferrals.c.cycle_id == cycle
        )
    members = conn.execute(leaves).all()
    rows = [mirror_leaf(m) for m in members]
    tree = ObligationTree.build(rows)
    index = next(i for i, r in enumerate(rows) if r[1] == o_payer and r[5] == bytes.fromhex(ref[2:]))
    proof = tree.proof(index)
    s = settlements.c
    stored = conn.execute(
        select(s.settled_root, s.deferred_root, s.block_number, s.recalled_root, s.expired_root).where(
            s.cycle_id == cycle
        )
    ).one()
    mirror_root = {"settled": stored[0], "deferred": stored[1], "recalled": stored[3], "expired": stored[4]}[
        decided
    ]
    leaf = (int(origin), o_payer, payee, currency, amount, ref)
    result: dict[str, Any] = {
        "as_of_block": last,
        "as_of_block_hash": last_hash,
        "cycleId": int(cycle),
        "set": decided,
        "decisions": [{"cycleId": c, "set": d} for c, d in decisions],
        "settledInBlock": int(stored[2]),
        "leafEncoding": list(OBLIGATION_LEAF_ENCODING),
        "value": obligation_leaf_values(*leaf),
        "proof": proof,
        "root": tree.root,
        "root_matches_mirror": tree.root == mirror_root,
    }
    if views is not None:
        on_chain = views.ended_roots(int(cycle)) if ended else views.roots(int(cycle))
        chain_root = "0x" + (on_chain[0] if settled or decided == "recalled" else on_chain[1]).hex()
        result["root_on_chain"] = chain_root
        result["root_matches_chain"] = chain_root == tree.root
        origin, payer, payee, currency, amount, ref = leaf
        result["verifyObligation"] = views.verify_obligation(
            int(cycle),
            settled or decided == "recalled",
            [bytes.fromhex(p[2:]) for p in proof],
            (origin, payer, payee, currency, amount, bytes.fromhex(ref[2:])),
            ended=ended,
        )
    if include_tree:
        result["tree"] = tree.dump()
    return result
