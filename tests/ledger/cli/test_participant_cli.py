"""``ledger participant identifiers``: BIC and LEI in the hub's registry, refused before sending when
malformed, unique on chain, shown by ``participant show`` and mirrored by the indexer."""

from __future__ import annotations

from pathlib import Path

from eth_utils.address import to_checksum_address
from sqlalchemy import create_engine, select

from ledger.index.models import participants
from tests.support.devnet import Devnet, ledger_cli

LEI = "5493001KJTIIGC8Y1R12"


def test_identifiers_are_set_looked_up_shown_and_mirrored(devnet: Devnet, tmp_path: Path) -> None:
    bank, other = devnet.plan.banks[0].address, devnet.plan.banks[1].address
    admin = to_checksum_address(devnet.plan.admin.address)
    nonce = devnet.client.w3.eth.get_transaction_count(admin)
    bad = ledger_cli(devnet, "participant", "identifiers", bank, "--bic", "dbsssgsg")
    assert bad.returncode != 0 and "write 'DBSSSGSG'" in bad.stderr, bad.stderr
    wrong_lei = ledger_cli(devnet, "participant", "identifiers", bank, "--lei", LEI[:-1] + "3")
    assert wrong_lei.returncode != 0 and "check digits" in wrong_lei.stderr, wrong_lei.stderr
    assert devnet.client.w3.eth.get_transaction_count(admin) == nonce, "nothing was sent"

    done = ledger_cli(devnet, "participant", "identifiers", bank, "--bic", "DBSSSGSG", "--lei", LEI)
    assert done.returncode == 0, done.stderr
    assert devnet.hub.participant_by_bic("DBSSSGSGXXX") == to_checksum_address(bank)
    assert devnet.hub.participant_by_bic("DBSSSGSG") == to_checksum_address(bank)
    assert devnet.hub.participant_by_lei(LEI) == to_checksum_address(bank)
    assert devnet.hub.participant_by_bic("OCBCSGSG") is None
    shown = ledger_cli(devnet, "participant", "show", bank)
    assert "BIC DBSSSGSGXXX" in shown.stdout and f"LEI {LEI}" in shown.stdout, shown.stdout

    taken = ledger_cli(devnet, "participant", "identifiers", other, "--bic", "DBSSSGSGXXX")
    assert taken.returncode == 1 and "BicTaken" in taken.stderr, taken.stderr
    moved = ledger_cli(devnet, "participant", "identifiers", bank, "--bic", "DBSSSGSG123")
    assert moved.returncode == 0, moved.stderr
    assert ledger_cli(devnet, "participant", "identifiers", other, "--bic", "DBSSSGSG").returncode == 0

    url = f"sqlite:///{tmp_path / 'mirror.db'}"
    indexed = ledger_cli(devnet, "index", env={"LEDGER_DATABASE_URL": url})
    assert indexed.returncode == 0, indexed.stderr
    with create_engine(url).connect() as conn:
        rows = dict(
            conn.execute(
                select(participants.c.address, participants.c.bic).where(participants.c.bic.is_not(None))
            ).all()
        )
        lei = conn.execute(select(participants.c.lei).where(participants.c.address == bank.lower())).scalar()
    assert rows == {bank.lower(): "DBSSSGSG123", other.lower(): "DBSSSGSGXXX"}
    assert lei is None, "the second call set the BIC only: the LEI was cleared"
