"""``recon proof``: an obligation's Merkle proof of inclusion in its cycle's settled or deferred set,
in @openzeppelin/merkle-tree's format (``StandardMerkleTree.verify(root, leafEncoding, value, proof)``
and the ``standard-v1`` dump), checked against the root stored on chain (``roots(cycleId)``) and by
the hub's own ``verifyObligation``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from ledger.recon.chain import HubViews
from ledger.recon.report import as_int, checkpoint
from ledger.submit.models import encode_reference
from oracle.proofs import OBLIGATION_LEAF_ENCODING, ObligationTree, obligation_leaf_values

__all__ = ["ProofError", "obligation_proof"]


class ProofError(LookupError):
    pass


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
    include_tree: bool = False,
) -> dict[str, Any]:
    last, last_hash, _ = checkpoint(conn)
    ref = _ref_hex(reference)
    query = (
        "SELECT id, cycle_id, payer, payee, currency, amount, ref, status, status_cycle "
        "FROM obligations WHERE ref = :r"
    )
    params: dict[str, Any] = {"r": ref}
    if payer:
        query += " AND payer = :p"
        params["p"] = payer.lower()
    found = conn.execute(text(query), params).all()
    if not found:
        raise ProofError(
            f"no obligation with reference {reference!r}" + (f" paid by {payer}" if payer else "")
        )
    if len(found) > 1:
        raise ProofError(f"{len(found)} payers used reference {reference!r}: pass --payer")
    _, origin, o_payer, payee, currency, amount, _, status, cycle = found[0]
    if status not in ("settled", "deferred") or cycle is None:
        raise ProofError(f"obligation {reference!r} is {status}: no settlement has decided it yet")
    settled = status == "settled"
    if settled:
        members = conn.execute(
            text(
                "SELECT cycle_id, payer, payee, currency, amount, ref FROM obligations "
                "WHERE settled_cycle = :c"
            ),
            {"c": cycle},
        ).all()
    else:
        members = conn.execute(
            text(
                "SELECT o.cycle_id, o.payer, o.payee, o.currency, o.amount, o.ref FROM obligations o "
                "JOIN deferrals d ON d.obligation_id = o.id WHERE d.cycle_id = :c"
            ),
            {"c": cycle},
        ).all()
    rows = [(int(m[0]), m[1], m[2], m[3], as_int(m[4]), bytes.fromhex(m[5][2:])) for m in members]
    tree = ObligationTree.build(rows)
    index = next(i for i, r in enumerate(rows) if r[1] == o_payer and r[5] == bytes.fromhex(ref[2:]))
    proof = tree.proof(index)
    stored = conn.execute(
        text("SELECT settled_root, deferred_root, block_number FROM settlements WHERE cycle_id = :c"),
        {"c": cycle},
    ).one()
    mirror_root = stored[0] if settled else stored[1]
    leaf = (int(origin), o_payer, payee, currency, as_int(amount), ref)
    result: dict[str, Any] = {
        "as_of_block": last,
        "as_of_block_hash": last_hash,
        "cycleId": int(cycle),
        "set": "settled" if settled else "deferred",
        "settledInBlock": int(stored[2]),
        "leafEncoding": list(OBLIGATION_LEAF_ENCODING),
        "value": obligation_leaf_values(*leaf),
        "proof": proof,
        "root": tree.root,
        "root_matches_mirror": tree.root == mirror_root,
    }
    if views is not None:
        on_chain = views.roots(int(cycle))
        chain_root = on_chain[0] if settled else on_chain[1]
        result["root_on_chain"] = chain_root
        result["root_matches_chain"] = chain_root == tree.root
        result["verifyObligation"] = views.verify_obligation(int(cycle), settled, proof, *leaf)
    if include_tree:
        result["tree"] = tree.dump()
    return result
