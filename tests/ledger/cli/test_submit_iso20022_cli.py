"""``ledger submit FILE.xml``: a pacs.008 whose agents are named by BIC and LEI goes on chain through
the hub's registry; an unknown agent refuses the file with its line and element path, sending nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from eth_utils.address import to_checksum_address

from ledger.iso20022 import write_pacs008
from ledger.iso20022.codes import uetr_to_ref
from ledger.iso20022.models import CreditTransfer, MessageHeader
from tests.support.devnet import Devnet, ledger_cli

LEI = "5493001KJTIIGC8Y1R12"


def test_a_pacs008_file_settles_onto_the_chain_by_bic_and_lei(devnet: Devnet, tmp_path: Path) -> None:
    payer, bic_payee, lei_payee = (m.address for m in devnet.plan.banks[:3])
    for address, flag, value in ((payer, "--bic", "PAYRSGSG"), (bic_payee, "--bic", "PAYESGSG")):
        assert ledger_cli(devnet, "participant", "identifiers", address, flag, value).returncode == 0
    assert ledger_cli(devnet, "participant", "identifiers", lei_payee, "--lei", LEI).returncode == 0
    uetrs = [str(uuid.UUID(int=(i + 1) * 0x1234567, version=4)) for i in range(3)]

    def message(agents: list[str]) -> bytes:
        transfers = [
            CreditTransfer(
                uetr=u,
                amount=1250 + i,
                currency="SGD",
                instructing_agent="PAYRSGSGXXX",
                instructed_agent=agent,
            )
            for i, (u, agent) in enumerate(zip(uetrs, agents, strict=True))
        ]
        header = MessageHeader(msg_id="MSG-1", created_at=datetime(2026, 12, 4, 9, tzinfo=UTC))
        return write_pacs008(header, transfers, minor_units={"SGD": 2})

    bad = tmp_path / "bad.xml"
    bad.write_bytes(message(["PAYESGSG", "NOBKSGSG", LEI]))
    refused = ledger_cli(devnet, "submit", str(bad), key=devnet.plan.banks[0])
    assert refused.returncode == 1, refused.stdout
    assert "InstdAgt" in refused.stderr and "NOBKSGSG" in refused.stderr, refused.stderr
    refs = [uetr_to_ref(u) for u in uetrs]
    assert not any(devnet.hub.views.references_used(to_checksum_address(payer), refs)), "nothing was sent"

    good = tmp_path / "good.xml"
    good.write_bytes(message(["PAYESGSG", "PAYESGSGXXX", LEI]))
    sent = ledger_cli(devnet, "submit", str(good), key=devnet.plan.banks[0])
    assert sent.returncode == 0, sent.stderr
    assert all(devnet.hub.views.references_used(to_checksum_address(payer), refs))
    again = ledger_cli(devnet, "submit", str(good), key=devnet.plan.banks[0])
    assert again.returncode == 0 and "0 obligations sent" in again.stdout, again.stdout
