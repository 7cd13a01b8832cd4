"""The demo consortium registered on the devnet: 5 banks, 3 wallet providers, a committee of 3 with
threshold 2, an auditor, SGD and USD accounts funded, with debit caps.

Every member signs with one of anvil's public dev keys (index recorded in ``consortium.json``), so
the demo can act as any of them. Dev keys are refused on any chain but 31337.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from ledger.chain.hub import Hub
from ledger.keys import dev_signer
from ledger.operator import Operator
from ledger.protocol.types import ParticipantKind, Strategy


class Member(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    address: str
    key_index: int
    kind: ParticipantKind | None = None


class CurrencyPlan(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    minor_units: int
    funding: int
    debit_cap: int


class Consortium(BaseModel):
    model_config = ConfigDict(frozen=True)

    admin: Member
    banks: list[Member]
    wallet_providers: list[Member]
    oracles: list[Member]
    auditor: Member
    threshold: int
    currencies: list[CurrencyPlan]
    strategy: Strategy

    @property
    def participants(self) -> list[Member]:
        return [*self.banks, *self.wallet_providers]

    def member(self, name: str) -> Member:
        for m in [self.admin, *self.participants, *self.oracles, self.auditor]:
            if m.name == name:
                return m
        raise KeyError(f"no consortium member named {name!r}")

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Consortium:
        return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))


BANK_NAMES = ["Atlas Bank", "Borealis Bank", "Cedar Bank", "Delta Bank", "Ember Bank"]
WALLET_NAMES = ["Kite Wallet", "Lumen Pay", "Moss Wallet"]


def demo_plan(strategy: Strategy = Strategy.MAX_VALUE) -> Consortium:
    """Who is who on the devnet, by dev key index: 0 admin, 1-5 banks, 6-8 wallets, 9-11 oracles,
    12 auditor."""

    def member(name: str, index: int, kind: ParticipantKind | None = None) -> Member:
        return Member(name=name, address=dev_signer(index).address, key_index=index, kind=kind)

    return Consortium(
        admin=member("operator", 0),
        banks=[member(n, 1 + i, ParticipantKind.BANK) for i, n in enumerate(BANK_NAMES)],
        wallet_providers=[
            member(n, 6 + i, ParticipantKind.WALLET_PROVIDER) for i, n in enumerate(WALLET_NAMES)
        ],
        oracles=[member(f"oracle-{i + 1}", 9 + i) for i in range(3)],
        auditor=member("auditor", 12),
        threshold=2,
        currencies=[
            CurrencyPlan(code="SGD", minor_units=2, funding=500_000_00, debit_cap=100_000_00),
            CurrencyPlan(code="USD", minor_units=2, funding=300_000_00, debit_cap=50_000_00),
        ],
        strategy=strategy,
    )


def register_consortium(operator: Operator, plan: Consortium) -> None:
    """Apply ``plan`` to a fresh hub (currencies, members, funding, caps, committee, auditor, strategy)."""
    for currency in plan.currencies:
        operator.register_currency(currency.code, currency.minor_units)
    for m in plan.participants:
        assert m.kind is not None
        operator.register_participant(m.address, m.kind, m.name)
        for currency in plan.currencies:
            operator.fund(m.address, currency.code, currency.funding)
            operator.set_debit_cap(m.address, currency.code, currency.debit_cap)
    for oracle in plan.oracles:
        operator.add_oracle(oracle.address)
    operator.set_threshold(plan.threshold)
    operator.add_auditor(plan.auditor.address)
    operator.set_strategy(plan.strategy)


def is_registered(hub: Hub, plan: Consortium) -> bool:
    kind, _ = hub.participant(plan.participants[-1].address)
    return kind is not ParticipantKind.NONE
