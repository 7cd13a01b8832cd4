"""Benchmark: a pacs.008.001.08 of 10,000 transactions read into obligation rows.

    .venv/bin/python benchmarks/iso20022_parse.py [--transactions 10000] [--repeat 3]

Measures, in one run and on the same generated document (``ledger.iso20022.writer`` from random
transfers between three members):

* ``ledger.iso20022.parse_pacs008``: hardened parse + validation against the official XSD (lxml)
  + mapping of every transaction to an ``ObligationRow`` and its echo (the whole inbound path),
  and its stages on their own (parse; XSD validation);
* a BASELINE: ``xmlschema``'s validation of the same document against the same XSD (the pure-Python
  validator a gateway might reach for), which checks the schema only and maps nothing.

Issue target: at least 10,000 transactions/s for the whole inbound path. Timings are wall-clock on
a shared machine (best of ``--repeat`` runs; the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import xmlschema  # type: ignore[import-untyped]
from lxml import etree  # type: ignore[import-untyped]

from ledger.iso20022 import CreditTransfer, MessageHeader, parse_pacs008, write_pacs008
from ledger.iso20022.schemas import load_schema
from ledger.iso20022.xml import parse_xml
from ledger.submit.models import ParticipantKind

_T = TypeVar("_T")

MEMBERS = {
    "BANKSGSGXXX": ("0x" + "11" * 20, ParticipantKind.BANK),
    "WALTSGSGXXX": ("0x" + "22" * 20, ParticipantKind.WALLET_PROVIDER),
    "OTHRSGSGXXX": ("0x" + "33" * 20, ParticipantKind.BANK),
}
MINOR_UNITS = {"SGD": 2, "USD": 2, "JPY": 0}


def document(n: int, seed: int = 2026) -> bytes:
    rnd = random.Random(seed)
    payees = ["WALTSGSGXXX", "OTHRSGSGXXX"]
    transfers = [
        CreditTransfer(
            uetr=str(uuid.UUID(int=rnd.getrandbits(128), version=4)),
            end_to_end_id=f"E2E-{i}",
            tx_id=f"TX-{i}",
            amount=rnd.randrange(1, 10**10),
            currency=rnd.choice(sorted(MINOR_UNITS)),
            instructing_agent="BANKSGSGXXX",
            instructed_agent=rnd.choice(payees),
            debtor_account=f"ACC-{rnd.randrange(10**6)}",
            creditor_account=f"WALLET-{rnd.randrange(10**6)}",
        )
        for i in range(n)
    ]
    header = MessageHeader(msg_id="BENCH-1", created_at=datetime(2026, 1, 31, tzinfo=UTC))
    return write_pacs008(header, transfers, minor_units=MINOR_UNITS)


def best_of(repeat: int, fn: Callable[[], _T]) -> tuple[float, _T]:
    best = float("inf")
    result: _T | None = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    assert result is not None
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--transactions", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.transactions
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    data = document(n)
    print(f"pacs.008.001.08 with {n:,} transactions: {len(data) / 1e6:.1f} MB")

    resolver = {bic: address for bic, (address, _) in MEMBERS.items()}
    kinds = dict(MEMBERS.values())
    payer = MEMBERS["BANKSGSGXXX"][0]
    load_schema("pacs.008.001.08")  # compiled once per process: not part of a message's cost

    def whole() -> int:
        result = parse_pacs008(
            data, payer=payer, resolver=resolver, minor_units=MINOR_UNITS, participant_kinds=kinds
        )
        return len(result.rows)

    t_whole, rows = best_of(args.repeat, whole)
    assert rows == n
    t_parse, root = best_of(args.repeat, lambda: parse_xml(data))
    schema = load_schema("pacs.008.001.08")
    t_validate, ok = best_of(args.repeat, lambda: bool(schema.validate(root)))
    assert ok

    xsd_path = Path(
        str(resources.files("ledger.iso20022") / "schemas" / "pacs.008.001.08" / "pacs.008.001.08.xsd")
    )
    baseline_schema = xmlschema.XMLSchema(str(xsd_path))
    t_base, valid = best_of(
        max(1, args.repeat // 2), lambda: baseline_schema.is_valid(etree.tostring(root).decode())
    )
    assert valid

    rate = n / t_whole
    print()
    print(f"{'path':<58} {'seconds':>8} {'tx/s':>10} {'vs baseline':>12}")
    rows_out = [
        ("ledger.iso20022.parse_pacs008 (parse + XSD + mapping)", t_whole),
        ("  stage: hardened lxml parse", t_parse),
        ("  stage: lxml XSD validation", t_validate),
        ("BASELINE: xmlschema validation only (same XSD)", t_base),
    ]
    for name, seconds in rows_out:
        print(f"{name:<58} {seconds:8.3f} {n / seconds:10,.0f} {t_base / seconds:11.1f}x")
    print()
    print(f"target 10,000 tx/s: {'met' if rate >= 10_000 else 'NOT met'} ({rate:,.0f} tx/s)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
