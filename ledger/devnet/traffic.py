"""Demo traffic for the devnet: every participant pays, with every obligation type, and a few
payments larger than their payer's liquidity so that gridlock resolution has something to defer.

The generator is a pure function of ``(plan, cycle, tag)`` (a seeded ``random.Random``), so a demo run
is reproducible and the same rows can be written to a CSV for ``ledger submit``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ledger.devnet.consortium import Consortium, Member

__all__ = ["Payment", "demo_traffic", "gridlock_payments", "unwind_payments"]


@dataclass(frozen=True)
class Payment:
    """One obligation as a bank system would hand it to ``validate_obligations``."""

    payer: Member
    item: dict[str, object]


def _amount(rng: random.Random, low_major: int, high_major: int) -> int:
    """An amount in minor units (cents) between the two major-unit bounds."""
    return rng.randint(low_major * 100, high_major * 100)


def demo_traffic(plan: Consortium, cycle: int, tag: str, per_participant: int = 24) -> list[Payment]:
    """Ordinary traffic for one cycle: interbank transfers and wallet top-ups from banks, wallet
    withdrawals and wallet-to-wallet payments from wallet providers, in SGD and USD."""
    rng = random.Random(f"{tag}/{cycle}")  # noqa: S311 - reproducible demo data, not secrets
    banks, wallets = plan.banks, plan.wallet_providers
    out: list[Payment] = []
    for payer in plan.participants:
        for j in range(per_participant):
            currency = "SGD" if j % 3 else "USD"
            item: dict[str, object] = {
                "reference": f"{tag}-c{cycle}-{payer.key_index:02d}-{j:03d}",
                "currency": currency,
            }
            if payer in banks:
                if j % 4 == 0:  # a customer tops up a wallet from a bank account
                    payee = wallets[rng.randrange(len(wallets))]
                    item.update(
                        type="wallet_topup",
                        payee_wallet=f"wallet-{rng.randrange(10_000):05d}",
                        amount=_amount(rng, 20, 2_000),
                    )
                else:
                    payee = rng.choice([b for b in banks if b != payer])
                    item.update(type="interbank", amount=_amount(rng, 500, 25_000))
            elif j % 2 == 0:  # a wallet holder cashes out to a bank account
                payee = banks[rng.randrange(len(banks))]
                item.update(
                    type="wallet_withdrawal",
                    payer_wallet=f"wallet-{rng.randrange(10_000):05d}",
                    amount=_amount(rng, 20, 3_000),
                )
            else:  # a wallet holder pays a holder at another provider
                payee = rng.choice([w for w in wallets if w != payer])
                item.update(
                    type="wallet_to_wallet",
                    payer_wallet=f"wallet-{rng.randrange(10_000):05d}",
                    payee_wallet=f"wallet-{rng.randrange(10_000):05d}",
                    amount=_amount(rng, 5, 800),
                )
            item["payee"] = payee.address
            out.append(Payment(payer, item))
    return out


def _repeated(payer: Member, payee: Member, label: str, count: int, **fields: object) -> list[Payment]:
    """``count`` identical payments ``payer -> payee`` with references ``<label>-0`` ..."""
    return [
        Payment(payer, {"reference": f"{label}-{i}", "payee": payee.address, **fields}) for i in range(count)
    ]


def gridlock_payments(plan: Consortium, cycle: int, tag: str) -> list[Payment]:
    """Payments that cannot all settle: Ember Bank owes Atlas Bank 4 x 300,000.00 SGD against
    600,000.00 of liquidity, Lumen Pay owes Kite Wallet 3 x 150,000.00 USD against 350,000.00, and
    Moss Wallet owes Cedar Bank 1,000,000.00 USD that nothing covers (it stays deferred, carried from
    cycle to cycle, until Moss is funded)."""
    m = plan.member
    wallets = {"payer_wallet": "treasury", "payee_wallet": "treasury"}
    return [
        *_repeated(
            m("Ember Bank"),
            m("Atlas Bank"),
            f"{tag}-c{cycle}-ember-large",
            4,
            currency="SGD",
            amount=300_000_00,
            type="interbank",
        ),
        *_repeated(
            m("Lumen Pay"),
            m("Kite Wallet"),
            f"{tag}-c{cycle}-lumen-large",
            3,
            currency="USD",
            amount=150_000_00,
            type="wallet_to_wallet",
            **wallets,
        ),
        Payment(
            m("Moss Wallet"),
            {
                "reference": f"{tag}-c{cycle}-moss-huge",
                "payee": m("Cedar Bank").address,
                "currency": "USD",
                "amount": 1_000_000_00,
                "type": "wallet_withdrawal",
                "payer_wallet": "treasury",
            },
        ),
    ]


def unwind_payments(plan: Consortium, cycle: int, tag: str) -> list[Payment]:
    """The next cycle's flows back (Atlas Bank returns 1,200,000.00 SGD to Ember Bank, Kite Wallet
    450,000.00 USD to Lumen Pay): they give the short payers the liquidity their deferred payments
    need, through netting alone, and leave balances where they were so the demo can run again."""
    m = plan.member
    return [
        *_repeated(
            m("Atlas Bank"),
            m("Ember Bank"),
            f"{tag}-c{cycle}-atlas-unwind",
            4,
            currency="SGD",
            amount=300_000_00,
            type="interbank",
        ),
        *_repeated(
            m("Kite Wallet"),
            m("Lumen Pay"),
            f"{tag}-c{cycle}-kite-unwind",
            3,
            currency="USD",
            amount=150_000_00,
            type="wallet_to_wallet",
            payer_wallet="treasury",
            payee_wallet="treasury",
        ),
    ]
