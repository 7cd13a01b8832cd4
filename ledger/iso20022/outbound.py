"""Outbound messages a node sends its members about their obligations, built from plain models.

* **pacs.002.001.10** status report: validated -> ``ACTC``, on chain -> ``ACSP``, settled ->
  ``ACSC``, deferred to the next cycle -> ``PDNG``, refused -> ``RJCT`` with its reason code;
* **camt.054.001.08** debit/credit notification: one entry per settled obligation;
* **camt.053.001.08** statement per cycle and currency: opening and closing booked balance and the
  entries between them (the closing balance is computed, so it always reconciles);
* **camt.029.001.09** resolution of investigation: the answer to a recall (camt.056).

The inputs are the pydantic models of :mod:`ledger.iso20022.models`, filled by the caller from the
chain or its database; nothing here reads either. Amounts are ``int`` minor units rendered with the
currency's exponent. camt.053/camt.054 output validates against the official XSDs; pacs.002.001.10
and camt.029.001.09 have no genuine XSD vendored and are checked structurally in the tests.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from ledger.iso20022.amounts import format_amount
from ledger.iso20022.build import Builder, iso_datetime, serialize
from ledger.iso20022.codes import is_bic
from ledger.iso20022.models import (
    Direction,
    Entry,
    MessageHeader,
    Notification,
    RecallOutcome,
    RecallResolution,
    Statement,
    StatusReport,
)

__all__ = ["build_camt029", "build_camt053", "build_camt054", "build_pacs002"]


def _exponent(currency: str, minor_units: Mapping[str, int]) -> int:
    if currency not in minor_units:
        raise ValueError(f"minor_units has no exponent for {currency}")
    return minor_units[currency]


def build_pacs002(report: StatusReport) -> bytes:
    """A pacs.002.001.10 FI-to-FI payment status report."""
    b = Builder("pacs.002.001.10")
    document, body = b.document("FIToFIPmtStsRpt")
    _group_header(b, body, report.header)
    original = b.sub(body, "OrgnlGrpInfAndSts")
    b.sub(original, "OrgnlMsgId", report.original_msg_id)
    b.sub(original, "OrgnlMsgNmId", report.original_message)
    if report.original_created is not None:
        b.sub(original, "OrgnlCreDtTm", iso_datetime(report.original_created))
    b.sub(original, "OrgnlNbOfTxs", str(len(report.transactions)))
    statuses = {t.status for t in report.transactions}
    if len(statuses) == 1:
        b.sub(original, "GrpSts", next(iter(statuses)).value)
    for index, transaction in enumerate(report.transactions, 1):
        tx = b.sub(body, "TxInfAndSts")
        b.sub(tx, "StsId", f"{report.header.msg_id[:28]}-{index}"[:35])
        if transaction.instr_id is not None:
            b.sub(tx, "OrgnlInstrId", transaction.instr_id)
        if transaction.end_to_end_id is not None:
            b.sub(tx, "OrgnlEndToEndId", transaction.end_to_end_id)
        if transaction.tx_id is not None:
            b.sub(tx, "OrgnlTxId", transaction.tx_id)
        b.sub(tx, "OrgnlUETR", transaction.uetr)
        b.sub(tx, "TxSts", transaction.status.value)
        if transaction.reason is not None or transaction.additional_info is not None:
            reason = b.sub(tx, "StsRsnInf")
            if transaction.reason is not None:
                b.path(reason, "Rsn/Cd", transaction.reason)
            if transaction.additional_info is not None:
                b.sub(reason, "AddtlInf", transaction.additional_info)
        if transaction.settlement_date is not None:
            b.path(tx, "FctvIntrBkSttlmDt/Dt", transaction.settlement_date.isoformat())
    return serialize(document)


def _group_header(b: Builder, body: etree._Element, header: MessageHeader, agents: bool = True) -> None:
    group = b.sub(body, "GrpHdr")
    b.sub(group, "MsgId", header.msg_id)
    b.sub(group, "CreDtTm", iso_datetime(header.created_at))
    if agents and header.instructing_agent is not None:
        b.agent(group, "InstgAgt", header.instructing_agent)
    if agents and header.instructed_agent is not None:
        b.agent(group, "InstdAgt", header.instructed_agent)


def _account(b: Builder, parent: etree._Element, account_id: str, currency: str, owner: str | None) -> None:
    account = b.sub(parent, "Acct")
    b.path(account, "Id/Othr/Id", account_id)
    b.sub(account, "Ccy", currency)
    if owner is not None:
        # the member's settlement account on this ledger: its owner by BIC or LEI, never by name
        b.path(account, "Ownr/Id/OrgId/AnyBIC" if is_bic(owner) else "Ownr/Id/OrgId/LEI", owner)


def _entry(b: Builder, parent: etree._Element, entry: Entry, currency: str, exponent: int) -> None:
    amount = format_amount(entry.amount, exponent)
    node = b.sub(parent, "Ntry")
    if entry.account_servicer_ref is not None:
        b.sub(node, "NtryRef", entry.account_servicer_ref)
    b.sub(node, "Amt", amount, Ccy=currency)
    b.sub(node, "CdtDbtInd", entry.direction.value)
    b.path(node, "Sts/Cd", "BOOK")
    b.path(node, "BookgDt/DtTm", iso_datetime(entry.booked_at))
    if entry.value_date is not None:
        b.path(node, "ValDt/Dt", entry.value_date.isoformat())
    if entry.account_servicer_ref is not None:
        b.sub(node, "AcctSvcrRef", entry.account_servicer_ref)
    code = b.path(node, "BkTxCd/Domn")
    b.sub(code, "Cd", "PMNT")
    family = b.sub(code, "Fmly")
    b.sub(family, "Cd", "RCDT" if entry.direction is Direction.CREDIT else "ICDT")
    b.sub(family, "SubFmlyCd", "OTHR")
    details = b.path(node, "NtryDtls/TxDtls")
    refs = b.sub(details, "Refs")
    if entry.msg_id is not None:
        b.sub(refs, "MsgId", entry.msg_id)
    if entry.account_servicer_ref is not None:
        b.sub(refs, "AcctSvcrRef", entry.account_servicer_ref)
    if entry.end_to_end_id is not None:
        b.sub(refs, "EndToEndId", entry.end_to_end_id)
    if entry.uetr is not None:
        b.sub(refs, "UETR", entry.uetr)
    if entry.tx_id is not None:
        b.sub(refs, "TxId", entry.tx_id)
    b.sub(details, "Amt", amount, Ccy=currency)
    b.sub(details, "CdtDbtInd", entry.direction.value)
    if entry.counterparty is not None:
        agents = b.sub(details, "RltdAgts")
        b.agent(agents, "DbtrAgt" if entry.direction is Direction.CREDIT else "CdtrAgt", entry.counterparty)


def build_camt054(notification: Notification, *, minor_units: Mapping[str, int]) -> bytes:
    """A camt.054.001.08 bank-to-customer debit/credit notification."""
    exponent = _exponent(notification.currency, minor_units)
    b = Builder("camt.054.001.08")
    document, body = b.document("BkToCstmrDbtCdtNtfctn")
    _group_header(b, body, notification.header, agents=False)
    node = b.sub(body, "Ntfctn")
    b.sub(node, "Id", notification.notification_id)
    b.sub(node, "CreDtTm", iso_datetime(notification.header.created_at))
    _account(b, node, notification.account_id, notification.currency, notification.account_owner)
    for entry in notification.entries:
        _entry(b, node, entry, notification.currency, exponent)
    return serialize(document)


def _balance(
    b: Builder, parent: etree._Element, code: str, amount: int, *, currency: str, exponent: int, moment: str
) -> None:
    balance = b.sub(parent, "Bal")
    b.path(balance, "Tp/CdOrPrtry/Cd", code)
    b.sub(balance, "Amt", format_amount(abs(amount), exponent), Ccy=currency)
    b.sub(balance, "CdtDbtInd", "DBIT" if amount < 0 else "CRDT")
    b.path(balance, "Dt/DtTm", moment)


def build_camt053(statement: Statement, *, minor_units: Mapping[str, int]) -> bytes:
    """A camt.053.001.08 bank-to-customer statement for one cycle and currency."""
    exponent = _exponent(statement.currency, minor_units)
    b = Builder("camt.053.001.08")
    document, body = b.document("BkToCstmrStmt")
    _group_header(b, body, statement.header, agents=False)
    node = b.sub(body, "Stmt")
    b.sub(node, "Id", statement.statement_id)
    if statement.electronic_sequence is not None:
        b.sub(node, "ElctrncSeqNb", str(statement.electronic_sequence))
    b.sub(node, "CreDtTm", iso_datetime(statement.header.created_at))
    period = b.sub(node, "FrToDt")
    b.sub(period, "FrDtTm", iso_datetime(statement.opened_at))
    b.sub(period, "ToDtTm", iso_datetime(statement.closed_at))
    _account(b, node, statement.account_id, statement.currency, statement.account_owner)
    currency = statement.currency
    moment = iso_datetime(statement.opened_at)
    _balance(b, node, "OPBD", statement.opening_balance, currency=currency, exponent=exponent, moment=moment)
    moment = iso_datetime(statement.closed_at)
    _balance(b, node, "CLBD", statement.closing_balance, currency=currency, exponent=exponent, moment=moment)
    credits = [e.amount for e in statement.entries if e.direction is Direction.CREDIT]
    debits = [e.amount for e in statement.entries if e.direction is Direction.DEBIT]
    summary = b.sub(node, "TxsSummry")
    totals = b.sub(summary, "TtlNtries")
    b.sub(totals, "NbOfNtries", str(len(statement.entries)))
    b.sub(totals, "Sum", format_amount(sum(credits) + sum(debits), exponent))
    net = sum(credits) - sum(debits)
    net_node = b.sub(totals, "TtlNetNtry")
    b.sub(net_node, "Amt", format_amount(abs(net), exponent))
    b.sub(net_node, "CdtDbtInd", "DBIT" if net < 0 else "CRDT")
    for entry in statement.entries:
        _entry(b, node, entry, currency, exponent)
    return serialize(document)


def build_camt029(resolution: RecallResolution) -> bytes:
    """A camt.029.001.09 resolution of investigation answering a recall request."""
    b = Builder("camt.029.001.09")
    document, body = b.document("RsltnOfInvstgtn")
    assignment = b.sub(body, "Assgnmt")
    b.sub(assignment, "Id", resolution.assignment_id)
    b.agent(b.sub(assignment, "Assgnr"), "Agt", resolution.assigner)
    b.agent(b.sub(assignment, "Assgne"), "Agt", resolution.assignee)
    b.sub(assignment, "CreDtTm", iso_datetime(resolution.created_at))
    if resolution.case_id is not None:
        case = b.sub(body, "RslvdCase")
        b.sub(case, "Id", resolution.case_id)
        b.agent(b.sub(case, "Cretr"), "Agt", resolution.case_creator or resolution.assigner)
    outcomes = {d.outcome for d in resolution.decisions}
    # Sts/Conf is the external investigation-execution code: CNCL when every transaction was
    # recalled, RJCR when none was, PACR (partially executed cancellation request) otherwise
    if outcomes == {RecallOutcome.CANCELLED}:
        status = "CNCL"
    elif outcomes == {RecallOutcome.REJECTED}:
        status = "RJCR"
    else:
        status = "PACR"
    b.path(body, "Sts/Conf", status)
    details = b.sub(body, "CxlDtls")
    for decision in resolution.decisions:
        tx = b.sub(details, "TxInfAndSts")
        if decision.cancellation_id is not None:
            b.sub(tx, "CxlStsId", decision.cancellation_id)
        if decision.original_msg_id is not None:
            original = b.sub(tx, "OrgnlGrpInf")
            b.sub(original, "OrgnlMsgId", decision.original_msg_id)
            b.sub(original, "OrgnlMsgNmId", decision.original_message)
        if decision.original_end_to_end_id is not None:
            b.sub(tx, "OrgnlEndToEndId", decision.original_end_to_end_id)
        if decision.original_tx_id is not None:
            b.sub(tx, "OrgnlTxId", decision.original_tx_id)
        b.sub(tx, "OrgnlUETR", decision.uetr)
        b.sub(tx, "TxCxlSts", decision.outcome.value)
        if decision.reason is not None or decision.additional_info is not None:
            reason = b.sub(tx, "CxlStsRsnInf")
            if decision.reason is not None:
                b.path(reason, "Rsn/Cd", decision.reason)
            if decision.additional_info is not None:
                b.sub(reason, "AddtlInf", decision.additional_info)
    return serialize(document)
