"""The backfill's fast paths against their plain counterparts: the slicing decoders for each backend
against the protocol's ``decode_submitted``, and the unparsed ``eth_getLogs`` answer (``RawRange``)
against the checks the parsed one gets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.chain.jsonrpc import _RESULT_HEAD, BlockHeader, RawRange, StaleRange
from ledger.index.decode import (
    EventDecoder,
    MalformedLog,
    obligation_copy_line,
    obligation_row_text,
)
from ledger.index.money import decode_text
from ledger.protocol.record import decode_submitted

TOPIC = EventDecoder().obligation_topic
BLOCK_HASH = "0x" + "aa" * 32


def word(value: int) -> str:
    return f"{value:064x}"


def obligation_log(
    block: int, index: int, *, amount: int, accounts: bool, block_hash: str = BLOCK_HASH
) -> dict[str, Any]:
    data = (
        "0x"
        + word(7)  # cycle
        + "ab" * 32  # ref
        + "534744"
        + "00" * 29  # SGD, left-aligned bytes3
        + word(2)  # kind
        + word(amount)
        + (("11" * 32 + "22" * 32) if accounts else "00" * 64)
    )
    return {
        "address": "0x" + "5f" * 20,
        "topics": [TOPIC, "0x" + "00" * 12 + "AB" * 20, "0x" + "00" * 12 + "cd" * 20],
        "data": data,
        "blockNumber": hex(block),
        "blockHash": block_hash,
        "transactionHash": "0x" + "ee" * 32,
        "logIndex": hex(index),
        "removed": False,
    }


@pytest.mark.parametrize("amount", [0, 1, 10**18, 2**256 - 1])
@pytest.mark.parametrize("accounts", [False, True])
def test_backend_rows_equal_the_plain_decode(amount: int, accounts: bool) -> None:
    entry = obligation_log(12, 3, amount=amount, accounts=accounts)
    record = decode_submitted(entry)
    plain = (
        12 << 24 | 3,
        12,
        3,
        entry["transactionHash"],
        record.origin_cycle,
        "0x" + record.payer.hex(),
        "0x" + record.payee.hex(),
        "0x" + record.ref.hex(),
        record.currency.decode("ascii"),
        record.kind,
        record.amount,
        "0x" + record.payer_account.hex() if accounts else None,
        "0x" + record.payee_account.hex() if accounts else None,
    )
    assert plain[5] == "0x" + "ab" * 20  # addresses lower-cased
    text_row = obligation_row_text(entry, 12, 3)
    assert text_row[:10] == plain[:10] and text_row[11:] == plain[11:]
    assert decode_text(text_row[10]) == amount
    fields = obligation_copy_line(entry, 12, 3).rstrip("\n").split("\t")
    expected = [*plain[:10], plain[10], *(v if v is not None else "\\N" for v in plain[11:]), "pending"]
    assert fields == [str(v) for v in expected]


def test_malformed_obligation_logs_are_refused() -> None:
    entry = obligation_log(1, 0, amount=5, accounts=False)
    entry["data"] = entry["data"][:-64]
    for decode in (obligation_row_text, obligation_copy_line):
        with pytest.raises(MalformedLog):
            decode(entry, 1, 0)
    with pytest.raises(MalformedLog):
        decode_submitted(entry)


def header(number: int, block_hash: str) -> BlockHeader:
    return BlockHeader(number, block_hash, "0x" + "00" * 32, 0)


def raw_range(logs: list[dict[str, Any]], end_hash: str) -> RawRange:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "result": logs}).encode()
    return RawRange(10, 11, body, body.count(b'"logIndex"'), header(10, "0x01"), header(11, end_hash), 0.0)


def test_raw_range_counts_parses_and_checks_the_last_block() -> None:
    logs = [obligation_log(10, 0, amount=1, accounts=False), obligation_log(11, 0, amount=2, accounts=False)]
    good = raw_range(logs, BLOCK_HASH)
    assert good.count == 2
    assert good.parse().logs == logs
    with pytest.raises(StaleRange):
        raw_range(logs, "0x" + "bb" * 32).parse()  # the head moved between the header read and the logs


def test_result_and_error_bodies_are_told_apart() -> None:
    assert _RESULT_HEAD.match(b'{"jsonrpc":"2.0","id":1,"result":[]}')
    assert _RESULT_HEAD.match(b'{"id": 3, "jsonrpc": "2.0", "result": [{"address": "0x"}]}')
    assert not _RESULT_HEAD.match(b'{"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"limit"}}')
    assert not _RESULT_HEAD.match(
        b'{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"the \\"result\\": too large"}}'
    )
