"""``ledger account cap|fund`` refuse amounts above the protocol's bound in one line, sending nothing;
the hub refuses a currency total above it with a named error (through the real CLI)."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from ledger.protocol.money import MAX_AMOUNT
from tests.support.devnet import Devnet, ledger_cli


def test_amounts_above_the_bound_are_one_line_and_send_nothing(devnet: Devnet) -> None:
    bank = devnet.plan.banks[0].address
    admin = to_checksum_address(devnet.plan.admin.address)
    nonce = devnet.client.w3.eth.get_transaction_count(admin)
    for command in ("cap", "fund"):
        refused = ledger_cli(devnet, "account", command, bank, "SGD", str(MAX_AMOUNT + 1))
        assert refused.returncode == 1, refused.stdout
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and "MAX_AMOUNT" in lines[0]
    assert devnet.client.w3.eth.get_transaction_count(admin) == nonce, "nothing was sent"

    balance, _ = devnet.hub.account_of(bank, "SGD")
    total = devnet.hub.view("totalBalance", b"SGD")
    over = ledger_cli(devnet, "account", "fund", bank, "SGD", str(MAX_AMOUNT - total + 1))
    assert over.returncode == 1 and "TotalTooLarge" in over.stderr, over.stderr
    assert devnet.hub.account_of(bank, "SGD")[0] == balance
    assert ledger_cli(devnet, "account", "fund", bank, "SGD", str(MAX_AMOUNT - total)).returncode == 0
    assert devnet.hub.view("totalBalance", b"SGD") == MAX_AMOUNT
