"""``ledger committee add|remove`` never leaves an invalid (n, k), and says what to run instead.

Through the real CLI against a real anvil with the demo consortium (n = 3, k = 2).
"""

from __future__ import annotations

import pytest

from ledger.devnet.consortium import Member
from ledger.errors import TransactionReverted
from tests.support.devnet import Devnet, ledger_cli

NEWCOMER = "0x000000000000000000000000000000000000dEaD"


def _committee(devnet: Devnet) -> tuple[int, int]:
    size, threshold, _ = devnet.hub.view("committee")
    return int(size), int(threshold)


def _address(member: Member) -> str:
    return str(member.address)


def test_remove_refuses_k_above_n_and_add_refuses_a_lost_majority(devnet: Devnet) -> None:
    assert _committee(devnet) == (3, 2)
    first, second, _ = (_address(o) for o in devnet.plan.oracles)

    assert ledger_cli(devnet, "committee", "remove", first).returncode == 0
    assert _committee(devnet) == (2, 2)
    refused = ledger_cli(devnet, "committee", "remove", second)
    assert refused.returncode == 1, refused.stderr
    assert "leaves n=1 with k=2" in refused.stderr and "at least 2 members" in refused.stderr
    assert _committee(devnet) == (2, 2), "nothing was sent"

    assert ledger_cli(devnet, "committee", "add", first).returncode == 0  # n = 3, k = 2: valid
    refused = ledger_cli(devnet, "committee", "add", NEWCOMER)
    assert refused.returncode == 1
    assert "leaves n=4 with k=2" in refused.stderr and "rerun with --threshold 3" in refused.stderr
    assert _committee(devnet) == (3, 2)

    added = ledger_cli(devnet, "committee", "add", NEWCOMER, "--threshold", "3")
    assert added.returncode == 0, added.stderr
    assert "threshold 3" in added.stdout
    assert _committee(devnet) == (4, 3)
    assert devnet.hub.view("isOracle", NEWCOMER)

    # the hub itself refuses what the CLI would have caught (another client, same rule)
    epoch = devnet.hub.view("committee")[2]
    with pytest.raises(TransactionReverted, match=r"InvalidThreshold\(.*2.*4"):
        devnet.operator.set_threshold(2)
    assert devnet.hub.view("committee")[2] == epoch
