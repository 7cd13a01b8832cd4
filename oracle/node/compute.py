"""Cycle input -> ``ClearingResult``: the deterministic computation every committee member repeats.

Input order is the protocol's: the carried-in obligations (in the order they entered the carry)
followed by the cycle's submissions in log order. Participants are handed to the engine as
lower-case ``0x`` addresses and currencies as their ASCII code, so the engine's orderings equal the
contract's (bytes3, uint160) order; positions are nonetheless re-sorted on the raw bytes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ledger.types import NettingStrategy
from oracle.netting.engine import clear
from oracle.netting.types import Obligation, Strategy
from oracle.node.chainview import ChainObligation, ClearingResult, Position
from oracle.proofs import obligation_roots

ENGINE_STRATEGY = {NettingStrategy.FIFO: Strategy.FIFO, NettingStrategy.MAX_VALUE: Strategy.MAX_VALUE}


def address_text(raw: bytes) -> str:
    return "0x" + raw.hex()


def currency_text(raw: bytes) -> str:
    """``SGD`` for an upper-case ASCII code; otherwise ``0x``+hex (still ordered like the bytes)."""
    if len(raw) == 3 and all(0x41 <= b <= 0x5A for b in raw):
        return raw.decode("ascii")
    return "0x" + raw.hex()


@dataclass(frozen=True)
class CycleComputation:
    """A computed result and the obligations behind its roots (deferred ones carry forward)."""

    result: ClearingResult
    settled: tuple[ChainObligation, ...]
    deferred: tuple[ChainObligation, ...]


def participants_and_currencies(obligations: Sequence[ChainObligation]) -> tuple[list[bytes], list[bytes]]:
    participants: set[bytes] = set()
    currencies: set[bytes] = set()
    for ob in obligations:
        participants.add(ob.payer)
        participants.add(ob.payee)
        currencies.add(ob.currency)
    return sorted(participants), sorted(currencies)


def compute_result(
    cycle_id: int,
    input_commitment: bytes,
    obligations: Sequence[ChainObligation],
    liquidity: Mapping[tuple[bytes, bytes], int],
    strategy: NettingStrategy,
) -> CycleComputation:
    """Clear ``obligations`` against ``liquidity`` (balance + cap per (participant, currency))."""
    engine_input = [
        Obligation(
            reference=address_text(ob.payer) + ":" + ob.ref.hex(),
            payer=address_text(ob.payer),
            payee=address_text(ob.payee),
            currency=currency_text(ob.currency),
            amount=ob.amount,
        )
        for ob in obligations
    ]
    engine_liquidity = {(address_text(p), currency_text(c)): value for (p, c), value in liquidity.items()}
    outcome = clear(engine_input, engine_liquidity, ENGINE_STRATEGY[strategy])
    settled = tuple(obligations[i] for i in outcome.settled)
    deferred = tuple(obligations[i] for i in outcome.deferred)
    nets: dict[tuple[bytes, bytes], int] = {}
    for ob in settled:
        nets[(ob.currency, ob.payer)] = nets.get((ob.currency, ob.payer), 0) - ob.amount
        nets[(ob.currency, ob.payee)] = nets.get((ob.currency, ob.payee), 0) + ob.amount
    positions = tuple(Position(p, c, v) for (c, p), v in sorted(nets.items()) if v != 0)
    engine_nets = {(bytes.fromhex(p.participant[2:]), p.currency, p.net) for p in outcome.net_positions}
    if engine_nets != {(p.participant, currency_text(p.currency), p.net) for p in positions}:
        raise AssertionError("engine net positions disagree with the settled set")  # engine invariant
    settled_root, deferred_root = obligation_roots(
        [ob.leaf_fields() for ob in settled], [ob.leaf_fields() for ob in deferred]
    )
    result = ClearingResult(
        cycle_id=cycle_id,
        input_commitment=input_commitment,
        settled_root=settled_root,
        deferred_root=deferred_root,
        settled_count=len(settled),
        deferred_count=len(deferred),
        positions=positions,
    )
    return CycleComputation(result, settled, deferred)
