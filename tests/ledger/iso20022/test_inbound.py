from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.iso20022.codes import uetr_reference, uetr_to_ref
from ledger.iso20022.envelope import wrap
from ledger.iso20022.inbound import parse_credit_transfer, parse_pacs008, parse_pacs009
from ledger.iso20022.models import CreditTransfer
from ledger.iso20022.writer import write_pacs008, write_pacs009
from ledger.submit.models import (
    FileValidationError,
    ObligationKind,
    ObligationRow,
    RowError,
    parse_wallet_id,
)
from tests.support.iso20022 import (
    BANK,
    BANK_BIC,
    KINDS,
    MINOR_UNITS,
    OTHER_BANK,
    OTHER_BIC,
    OTHER_LEI,
    RESOLVER,
    WALLET,
    WALLET_BIC,
    edit,
    header,
    transfers,
)


def read(data: bytes, **overrides: object) -> object:
    arguments: dict[str, object] = {
        "payer": BANK,
        "resolver": RESOLVER,
        "minor_units": MINOR_UNITS,
        "participant_kinds": KINDS,
        "source": "in.xml",
    }
    arguments.update(overrides)
    return parse_credit_transfer(data, **arguments)  # type: ignore[arg-type]


def refused(data: bytes, **overrides: object) -> list[RowError]:
    with pytest.raises(FileValidationError) as caught:
        read(data, **overrides)
    assert "refused, nothing was submitted" in str(caught.value) or "nothing was done" in str(caught.value)
    return list(caught.value.errors)


def only(errors: list[RowError], path_end: str) -> RowError:
    found = [e for e in errors if e.field.endswith(path_end)]
    assert len(found) == 1, errors
    return found[0]


def message(n: int = 3, **kwargs: object) -> bytes:
    return write_pacs008(header(), transfers(n, **kwargs), minor_units=MINOR_UNITS)  # type: ignore[arg-type]


def test_a_pacs008_maps_onto_rows_and_echoes() -> None:
    sent = transfers(3)
    result = parse_pacs008(
        message(3), payer=BANK, resolver=RESOLVER, minor_units=MINOR_UNITS, participant_kinds=KINDS
    )
    assert len(result.rows) == len(result.transactions) == 3
    for row, echo, transfer in zip(result.rows, result.transactions, sent, strict=True):
        expected = ObligationRow(
            line=row.line,
            reference=uetr_reference(transfer.uetr),
            ref=uetr_to_ref(transfer.uetr),
            payee=WALLET,
            currency="SGD",
            amount=transfer.amount,
            kind=ObligationKind.WALLET_TOPUP,
            payer_account=parse_wallet_id(bytes.fromhex(BANK[2:]), transfer.debtor_account or ""),
            payee_account=parse_wallet_id(bytes.fromhex(WALLET[2:]), transfer.creditor_account or ""),
        )
        assert row == expected
        assert row.ref == bytes(16) + uuid.UUID(transfer.uetr).bytes
        assert echo.uetr == transfer.uetr and echo.end_to_end_id == transfer.end_to_end_id
        assert echo.tx_id == transfer.tx_id and echo.purpose == "CASH" and echo.msg_id == "MSG-1"
        assert row.line > 1
    dumped = result.model_dump_json()
    assert "ACC-1" not in dumped  # account ids only as hashes


def test_kinds_follow_the_participants() -> None:
    to_bank = parse_pacs008(
        message(1, payee=OTHER_BIC),
        payer=BANK,
        resolver=RESOLVER,
        minor_units=MINOR_UNITS,
        participant_kinds=KINDS,
    )
    assert to_bank.rows[0].kind is ObligationKind.INTERBANK
    withdrawal = write_pacs008(
        header(),
        [
            t.model_copy(update={"instructing_agent": WALLET_BIC, "instructed_agent": BANK_BIC})
            for t in transfers(1)
        ],
        minor_units=MINOR_UNITS,
    )
    rows = read(withdrawal, payer=WALLET).rows  # type: ignore[attr-defined]
    assert rows[0].kind is ObligationKind.WALLET_WITHDRAWAL and rows[0].payee == BANK


def test_a_pacs009_is_interbank_and_an_lei_resolves() -> None:
    sent = transfers(2, payee=OTHER_LEI)
    data = write_pacs009(header(), sent, minor_units=MINOR_UNITS)
    result = parse_pacs009(data, payer=BANK, resolver=RESOLVER, minor_units=MINOR_UNITS)
    assert [r.kind for r in result.rows] == [ObligationKind.INTERBANK] * 2
    assert {r.payee for r in result.rows} == {OTHER_BANK}
    with pytest.raises(FileValidationError, match="not a message accepted here"):
        parse_pacs008(data, payer=BANK, resolver=RESOLVER, minor_units=MINOR_UNITS, participant_kinds=KINDS)


def test_an_envelope_with_an_application_header_is_read() -> None:
    wrapped = wrap(
        message(2),
        sender=BANK_BIC,
        receiver="LEDGSGSGXXX",
        business_message_id="BIZ-1",
        message="pacs.008.001.08",
        created_at=datetime(2026, 1, 31, tzinfo=UTC),
        service="swift.cbprplus.02",
    )
    result = read(wrapped)
    assert result.business_message_id == "BIZ-1"  # type: ignore[attr-defined]
    assert result.transactions[0].business_message_id == "BIZ-1"  # type: ignore[attr-defined]
    foreign = edit(wrapped, "AppHdr/Fr/FIId/FinInstnId/BICFI", OTHER_BIC)
    error = only(refused(foreign), "/AppHdr/Fr/FIId/FinInstnId/BICFI")
    assert "not the submitting member" in error.reason
    mislabelled = wrapped.replace(b"<MsgDefIdr>pacs.008.001.08", b"<MsgDefIdr>pacs.009.001.08")
    assert "does not name the enclosed message" in only(refused(mislabelled), "/AppHdr/MsgDefIdr").reason


# -- one test per refusal --------------------------------------------------------------------------


def test_a_bad_bic_is_refused() -> None:
    data = message(2).replace(b"<BICFI>WALTSGSG</BICFI>", b"<BICFI>WALT-SG</BICFI>", 1)
    error = only(refused(data), "CdtTrfTxInf[1]/InstdAgt/FinInstnId/BICFI")
    assert error.value == "WALT-SG" and "not a BIC" in error.reason and "DEUTDEFFXXX" in error.fix
    assert error.line > 1
    assert error.field == "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf[1]/InstdAgt/FinInstnId/BICFI"


def test_a_four_letter_currency_is_refused() -> None:
    data = message(3).replace(b'Ccy="SGD"', b'Ccy="EURO"', 1)
    error = only(refused(data), "CdtTrfTxInf[1]/IntrBkSttlmAmt/@Ccy")
    assert error.value == "EURO" and "ISO 4217" in error.reason


def test_an_unknown_instructed_agent_is_refused() -> None:
    data = message(1).replace(b"<BICFI>WALTSGSG</BICFI>", b"<BICFI>NOPESGSG</BICFI>")
    errors = refused(data)
    error = only(errors, "/CdtTrfTxInf/InstdAgt/FinInstnId/BICFI")
    assert error.value == "NOPESGSG" and "not a registered participant" in error.reason


def test_an_instructing_agent_other_than_the_payer_is_refused() -> None:
    data = edit(message(2), "CdtTrfTxInf/InstgAgt/FinInstnId/BICFI", OTHER_BIC)
    error = only(refused(data), "CdtTrfTxInf[1]/InstgAgt/FinInstnId/BICFI")
    assert error.value == "OTHRSGSG" and "not the submitting member" in error.reason
    assert OTHER_BANK.lower() in error.reason.lower()


def test_more_decimals_than_the_currency_has_are_refused() -> None:
    sent = [transfers(1, currency="EUR")[0]]
    data = write_pacs008(header(), sent, minor_units=MINOR_UNITS)
    written = data.split(b'Ccy="EUR">')[1].split(b"<")[0]
    data = data.replace(b'Ccy="EUR">' + written, b'Ccy="EUR">0.001')
    errors = refused(data)
    error = only(errors, "/CdtTrfTxInf/IntrBkSttlmAmt")
    assert error.value == "0.001" and "3 decimal places but EUR has 2" in error.reason
    assert "never rounded" in error.fix


def test_a_duplicate_uetr_is_refused() -> None:
    sent = transfers(3)
    sent[2] = sent[2].model_copy(update={"uetr": sent[0].uetr})
    data = write_pacs008(header(), sent, minor_units=MINOR_UNITS)
    errors = refused(data)
    error = only(errors, "CdtTrfTxInf[3]/PmtId/UETR")
    first_line = data[: data.index(b"<CdtTrfTxInf>")].count(b"\n") + 1
    assert f"on line {first_line}" in error.reason and error.value == sent[0].uetr


def test_a_settlement_method_other_than_clearing_is_refused() -> None:
    data = message(2).replace(b"<SttlmMtd>CLRG</SttlmMtd>", b"<SttlmMtd>INDA</SttlmMtd>")
    error = only(refused(data), "/GrpHdr/SttlmInf/SttlmMtd")
    assert error.value == "INDA" and "is not CLRG" in error.reason and "CLRG" in error.fix


def test_a_wrong_number_of_transactions_is_refused() -> None:
    data = message(3).replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>4</NbOfTxs>")
    error = only(refused(data), "/GrpHdr/NbOfTxs")
    assert error.value == "4" and "3 transactions" in error.reason and "set NbOfTxs to 3" in error.fix


def test_a_wrong_control_sum_is_refused() -> None:
    data = message(2)
    control = data.split(b"<CtrlSum>")[1].split(b"<")[0]
    error = only(refused(data.replace(control, b"1.00", 1)), "/GrpHdr/CtrlSum")
    assert error.value == "1.00" and control.decode() in error.fix


def test_every_problem_is_reported_at_once_and_nothing_is_returned() -> None:
    data = (
        message(3)
        .replace(b"<SttlmMtd>CLRG", b"<SttlmMtd>COVE")
        .replace(b"<NbOfTxs>3", b"<NbOfTxs>2")
        .replace(b'Ccy="SGD"', b'Ccy="USD"', 1)
        .replace(b"<BICFI>WALTSGSG</BICFI>", b"<BICFI>NOPESGSG</BICFI>", 1)
    )
    errors = refused(data)
    fields = {e.field.rsplit("/", 1)[-1] for e in errors}
    assert {"SttlmMtd", "NbOfTxs", "@Ccy", "BICFI"} <= fields
    assert all(e.reason and e.fix for e in errors)
    lines = [e.line for e in errors]
    assert lines == sorted(lines)


def test_a_schema_violation_is_reported_with_its_path() -> None:
    data = message(2).replace(
        b"<EndToEndId>E2E-2</EndToEndId>", b"<EndToEndId>" + b"x" * 40 + b"</EndToEndId>"
    )
    error = only(refused(data), "CdtTrfTxInf[2]/PmtId/EndToEndId")
    assert "schema" in error.reason and error.line > 1


def test_an_unaccepted_message_is_refused() -> None:
    data = message(1).replace(b"pacs.008.001.08", b"pacs.008.001.09")
    errors = refused(data)
    assert "not a message accepted here" in errors[0].reason
    assert "pacs.008.001.08 or pacs.009.001.08" in errors[0].fix


def test_pacs008_needs_participant_kinds() -> None:
    with pytest.raises(ValueError, match="participant_kinds"):
        read(message(1), participant_kinds=None)


# -- round trip ------------------------------------------------------------------------------------

_uuids = st.uuids(version=4).map(str)
_transfer = st.builds(
    CreditTransfer,
    uetr=_uuids,
    end_to_end_id=st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=35),
    amount=st.integers(min_value=1, max_value=10**15),
    currency=st.sampled_from(sorted(MINOR_UNITS)),
    instructing_agent=st.just(BANK_BIC),
    instructed_agent=st.sampled_from([WALLET_BIC, OTHER_BIC, OTHER_LEI]),
    debtor_account=st.none()
    | st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=34),
    creditor_account=st.none() | st.from_regex(r"[A-Z0-9]{1,34}", fullmatch=True),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_transfer, min_size=1, max_size=8, unique_by=lambda t: t.uetr))
def test_rows_round_trip_through_pacs008(sent: list[CreditTransfer]) -> None:
    data = write_pacs008(header(), sent, minor_units=MINOR_UNITS)
    result = read(data)
    payees = {WALLET_BIC: WALLET, OTHER_BIC: OTHER_BANK, OTHER_LEI: OTHER_BANK}
    for row, transfer in zip(result.rows, sent, strict=True):  # type: ignore[attr-defined]
        payee = payees[transfer.instructed_agent]
        assert row == ObligationRow(
            line=row.line,
            reference=uetr_reference(transfer.uetr),
            ref=uetr_to_ref(transfer.uetr),
            payee=payee,
            currency=transfer.currency,
            amount=transfer.amount,
            kind=ObligationKind.WALLET_TOPUP if payee == WALLET else ObligationKind.INTERBANK,
            payer_account=parse_wallet_id(bytes.fromhex(BANK[2:]), transfer.debtor_account or ""),
            payee_account=parse_wallet_id(bytes.fromhex(payee[2:]), transfer.creditor_account or ""),
        )
