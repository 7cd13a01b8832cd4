"""A devnet scenario with every kind of event the mirror handles, for tests and demos.

Three cycles: cycle 1 settles with a deferred obligation (Cedar's 700,000.00 SGD exceeds its
liquidity), Borealis is funded, cycle 2 settles the carried obligation, cycle 3 stays open with
pending obligations; a participant is suspended, a balance defunded, a cap changed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.protocol.types import ObligationKind
from ledger.submit.models import ObligationRow, account_hash
from ledger.submit.submitter import Submitter
from tests.support.committee import CommitteeSim
from tests.support.devnet import Devnet

__all__ = ["ScenarioResult", "obligation", "run_scenario", "submit"]


def obligation(
    reference: str,
    payee: str,
    amount: int,
    currency: str = "SGD",
    kind: ObligationKind = ObligationKind.INTERBANK,
    payer_account: bytes | None = None,
) -> ObligationRow:
    extra = {"payer_account": payer_account} if payer_account else {}
    return ObligationRow(
        line=0, reference=reference, payee=payee, currency=currency, amount=amount, kind=kind, **extra
    )


def submit(devnet: Devnet, payer_index: int, rows: list[ObligationRow]) -> None:
    Submitter(devnet.hub, devnet.sender(payer_index)).submit(rows)


@dataclass
class ScenarioResult:
    sim: CommitteeSim
    deferred_ref: str


def run_scenario(devnet: Devnet) -> ScenarioResult:
    banks = devnet.plan.banks
    wallets = devnet.plan.wallet_providers
    b = [m.address for m in banks]
    w = [m.address for m in wallets]
    sim = CommitteeSim(devnet.hub, devnet.deployment.start_block)
    oracles = [devnet.sender(o) for o in devnet.plan.oracles[:2]]
    # cycle 1
    submit(
        devnet,
        banks[0].key_index,
        [
            obligation("ATL-1", b[1], 100_00),
            obligation(
                "ATL-2",
                w[0],
                25_00,
                kind=ObligationKind.WALLET_TOPUP,
                payer_account=account_hash(bytes.fromhex(b[0][2:]), "cust-7"),
            ),
            obligation("ATL-3", b[3], 10_00, currency="USD"),
        ],
    )
    submit(devnet, banks[2].key_index, [obligation("CED-1", b[1], 700_000_00)])
    submit(devnet, banks[1].key_index, [obligation("BOR-1", b[0], 40_00), obligation("BOR-2", b[2], 5_00)])
    submit(devnet, banks[3].key_index, [obligation("DEL-1", b[4], 7_00, currency="USD")])
    submit(
        devnet,
        wallets[0].key_index,
        [obligation("KITE-1", b[2], 3_00, kind=ObligationKind.WALLET_WITHDRAWAL)],
    )
    devnet.operator.close_cycle()
    _, deferred = sim.settle(1, oracles)
    assert [d.amount for d in deferred] == [700_000_00], deferred
    devnet.operator.fund(b[2], "SGD", 200_000_00)
    # cycle 2: the carried obligation settles now
    submit(
        devnet, banks[4].key_index, [obligation("EMB-1", b[0], 1_23), obligation("EMB-2", b[1], 9_99, "USD")]
    )
    submit(devnet, banks[0].key_index, [obligation("ATL-4", b[4], 2_00)])
    devnet.operator.close_cycle()
    _, deferred = sim.settle(2, oracles)
    assert not deferred
    # cycle 3 stays open
    submit(devnet, banks[1].key_index, [obligation("BOR-3", b[3], 11_00)])
    op = devnet.operator
    op.suspend(w[2], "audit finding 42")
    op.defund(b[4], "USD", 1_000_00)
    op.set_debit_cap(b[3], "SGD", 123_456)
    return ScenarioResult(sim, "CED-1")
