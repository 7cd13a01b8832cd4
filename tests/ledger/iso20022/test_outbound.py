from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from lxml import etree

from ledger.iso20022.models import (
    Direction,
    Entry,
    MessageHeader,
    Notification,
    ObligationStatus,
    RecallDecision,
    RecallOutcome,
    RecallResolution,
    Statement,
    StatusReport,
    TransactionStatus,
)
from ledger.iso20022.outbound import build_camt029, build_camt053, build_camt054, build_pacs002
from ledger.iso20022.schemas import load_schema
from tests.support.iso20022 import BANK_BIC, CREATED, MINOR_UNITS, OTHER_BIC, OTHER_LEI, check_structure, uetr

HEADER = MessageHeader(
    msg_id="OUT-1", created_at=CREATED, instructing_agent="LEDGSGSGXXX", instructed_agent=BANK_BIC
)


def valid(data: bytes, message: str) -> etree._Element:
    document = etree.fromstring(data)
    schema = load_schema(message)
    assert schema.validate(document), schema.error_log
    assert check_structure(document, message) == []
    return document


def entries(rnd: random.Random, n: int) -> list[Entry]:
    return [
        Entry(
            amount=rnd.randrange(1, 10**8),
            direction=rnd.choice(list(Direction)),
            booked_at=CREATED,
            value_date=date(2026, 1, 31),
            uetr=uetr(rnd),
            end_to_end_id=f"E2E-{i}",
            tx_id=f"TX-{i}",
            msg_id="MSG-1",
            account_servicer_ref=f"C7-{i}",
            counterparty=rnd.choice([OTHER_BIC, OTHER_LEI]),
        )
        for i in range(n)
    ]


def test_pacs002_reports_each_status(rnd: random.Random) -> None:
    statuses = [
        TransactionStatus(uetr=uetr(rnd), status=status, end_to_end_id="E2E-1", tx_id="TX-1")
        for status in ObligationStatus
        if status is not ObligationStatus.REFUSED
    ]
    statuses.append(
        TransactionStatus(
            uetr=uetr(rnd), status=ObligationStatus.REFUSED, reason="AM05", additional_info="duplicate UETR"
        )
    )
    data = build_pacs002(StatusReport(header=HEADER, original_msg_id="MSG-1", transactions=tuple(statuses)))
    assert check_structure(data, "pacs.002.001.10") == []
    codes = etree.fromstring(data).xpath("//*[local-name()='TxSts']/text()")
    assert codes == ["ACTC", "ACSP", "ACSC", "PDNG", "RJCT"]
    assert b"<Cd>AM05</Cd>" in data


def test_a_refusal_needs_a_reason(rnd: random.Random) -> None:
    with pytest.raises(ValueError, match="reason code"):
        TransactionStatus(uetr=uetr(rnd), status=ObligationStatus.REFUSED)


def test_camt054_notifies_settled_obligations(rnd: random.Random) -> None:
    notification = Notification(
        header=HEADER,
        notification_id="NTF-7-SGD",
        account_id="BANKSGSGXXX-SGD",
        account_owner=BANK_BIC,
        currency="SGD",
        entries=tuple(entries(rnd, 4)),
    )
    document = valid(build_camt054(notification, minor_units=MINOR_UNITS), "camt.054.001.08")
    amounts = document.xpath("//*[local-name()='Ntry']/*[local-name()='Amt']/text()")
    assert amounts == [f"{e.amount // 100}.{e.amount % 100:02d}" for e in notification.entries]


def test_camt053_statement_balances(rnd: random.Random) -> None:
    moves = entries(rnd, 6)
    statement = Statement(
        header=HEADER,
        statement_id="STMT-7-SGD",
        account_id="BANKSGSGXXX-SGD",
        account_owner=OTHER_LEI,
        currency="SGD",
        opening_balance=-12_345,
        opened_at=datetime(2026, 1, 31, 9, tzinfo=UTC),
        closed_at=datetime(2026, 1, 31, 10, tzinfo=UTC),
        entries=tuple(moves),
        electronic_sequence=7,
    )
    document = valid(build_camt053(statement, minor_units=MINOR_UNITS), "camt.053.001.08")
    balances = document.xpath("//*[local-name()='Bal']")
    ns = {"c": "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"}
    opening, closing = balances
    assert opening.findtext("c:Amt", namespaces=ns) == "123.45"
    assert opening.findtext("c:CdtDbtInd", namespaces=ns) == "DBIT"
    net = sum(e.amount if e.direction is Direction.CREDIT else -e.amount for e in moves)
    expected = -12_345 + net
    assert statement.closing_balance == expected
    text = closing.findtext("c:Amt", namespaces=ns)
    assert text == f"{abs(expected) // 100}.{abs(expected) % 100:02d}"
    assert closing.findtext("c:CdtDbtInd", namespaces=ns) == ("DBIT" if expected < 0 else "CRDT")


def test_an_empty_statement_is_valid() -> None:
    statement = Statement(
        header=HEADER,
        statement_id="STMT-8-JPY",
        account_id="X",
        currency="JPY",
        opening_balance=0,
        opened_at=CREATED,
        closed_at=CREATED,
    )
    valid(build_camt053(statement, minor_units=MINOR_UNITS), "camt.053.001.08")


def test_camt029_resolves_a_recall(rnd: random.Random) -> None:
    resolution = RecallResolution(
        assignment_id="RSLTN-1",
        created_at=CREATED,
        assigner="LEDGSGSGXXX",
        assignee=BANK_BIC,
        case_id="CASE-1",
        decisions=(
            RecallDecision(
                uetr=uetr(rnd),
                outcome=RecallOutcome.CANCELLED,
                cancellation_id="CXL-1",
                original_msg_id="MSG-1",
                original_end_to_end_id="E2E-1",
            ),
            RecallDecision(
                uetr=uetr(rnd),
                outcome=RecallOutcome.REJECTED,
                reason="ARDT",
                additional_info="already settled in cycle 7",
            ),
        ),
    )
    data = build_camt029(resolution)
    assert check_structure(data, "camt.029.001.09") == []
    document = etree.fromstring(data)
    assert document.xpath("//*[local-name()='Conf']/text()") == ["PACR"]
    assert document.xpath("//*[local-name()='TxCxlSts']/text()") == ["ACCR", "RJCR"]


def test_amounts_that_iso_20022_cannot_carry_are_refused(rnd: random.Random) -> None:
    big = Entry(amount=10**18, direction=Direction.CREDIT, booked_at=CREATED)
    notification = Notification(
        header=HEADER, notification_id="N", account_id="A", currency="SGD", entries=(big,)
    )
    with pytest.raises(ValueError, match="18 digits"):
        build_camt054(notification, minor_units=MINOR_UNITS)
