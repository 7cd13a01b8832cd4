"""Writing pacs.008.001.08 / pacs.009.001.08 from credit transfers: the inverse of ``inbound``.

For banks whose systems produce rows rather than ISO 20022 (they can hand a gateway the same
messages every other member sends), and for the tests and the benchmark, which round-trip
generated traffic through the reader. The output carries identifiers only: the debtor and creditor
are written as empty parties (the schema requires the elements; no name or address is needed to
settle), their accounts by identifier. ``SttlmMtd`` is ``CLRG``; ``NbOfTxs`` and ``CtrlSum``
(when it fits ISO 20022's 18 digits) are filled in, and pacs.008 output validates against the
official XSD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from ledger.iso20022.amounts import ISO_MAX_DIGITS, format_amount
from ledger.iso20022.build import Builder, iso_datetime, serialize
from ledger.iso20022.models import CreditTransfer, MessageHeader

__all__ = ["write_credit_transfers", "write_pacs008", "write_pacs009"]

_ROOTS: Final = {"pacs.008.001.08": "FIToFICstmrCdtTrf", "pacs.009.001.08": "FICdtTrf"}


def write_credit_transfers(
    message: str,
    header: MessageHeader,
    transfers: Sequence[CreditTransfer],
    *,
    minor_units: Mapping[str, int],
) -> bytes:
    """A ``message`` (pacs.008.001.08 or pacs.009.001.08) document carrying ``transfers``."""
    if message not in _ROOTS:
        raise ValueError(f"can write {' or '.join(_ROOTS)}, not {message}")
    if not transfers:
        raise ValueError("a credit transfer message carries at least one transaction")
    b = Builder(message)
    document, body = b.document(_ROOTS[message])
    texts = [format_amount(t.amount, _exponent(t.currency, minor_units)) for t in transfers]
    group = b.sub(body, "GrpHdr")
    b.sub(group, "MsgId", header.msg_id)
    b.sub(group, "CreDtTm", iso_datetime(header.created_at))
    b.sub(group, "NbOfTxs", str(len(transfers)))
    control = str(sum((Decimal(t) for t in texts), Decimal(0)))
    if len(control.replace(".", "")) <= ISO_MAX_DIGITS:  # optional; left out when too long to carry
        b.sub(group, "CtrlSum", control)
    b.path(group, "SttlmInf/SttlmMtd", "CLRG")
    if header.instructing_agent is not None:
        b.agent(group, "InstgAgt", header.instructing_agent)
    if header.instructed_agent is not None:
        b.agent(group, "InstdAgt", header.instructed_agent)
    customer = message == "pacs.008.001.08"
    sub = b.sub
    for transfer, amount in zip(transfers, texts, strict=True):
        tx = sub(body, "CdtTrfTxInf")
        ids = sub(tx, "PmtId")
        if transfer.instr_id is not None:
            sub(ids, "InstrId", transfer.instr_id)
        sub(ids, "EndToEndId", transfer.end_to_end_id)
        if transfer.tx_id is not None:
            sub(ids, "TxId", transfer.tx_id)
        sub(ids, "UETR", transfer.uetr)
        sub(tx, "IntrBkSttlmAmt", amount, Ccy=transfer.currency)
        if transfer.settlement_date is not None:
            sub(tx, "IntrBkSttlmDt", transfer.settlement_date.isoformat())
        if customer:
            sub(tx, "ChrgBr", "SHAR")
        b.agent(tx, "InstgAgt", transfer.instructing_agent)
        b.agent(tx, "InstdAgt", transfer.instructed_agent)
        if customer:
            sub(tx, "Dbtr")
        else:
            b.agent(tx, "Dbtr", transfer.instructing_agent)
        if transfer.debtor_account is not None:
            b.account(tx, "DbtrAcct", transfer.debtor_account)
        if customer:
            b.agent(tx, "DbtrAgt", transfer.instructing_agent)
            b.agent(tx, "CdtrAgt", transfer.instructed_agent)
            sub(tx, "Cdtr")
        else:
            b.agent(tx, "Cdtr", transfer.instructed_agent)
        if transfer.creditor_account is not None:
            b.account(tx, "CdtrAcct", transfer.creditor_account)
        if transfer.purpose is not None:
            b.path(tx, "Purp/Cd", transfer.purpose)
    return serialize(document)


def _exponent(currency: str, minor_units: Mapping[str, int]) -> int:
    if currency not in minor_units:
        raise ValueError(f"minor_units has no exponent for {currency}")
    return minor_units[currency]


def write_pacs008(
    header: MessageHeader, transfers: Sequence[CreditTransfer], *, minor_units: Mapping[str, int]
) -> bytes:
    """A pacs.008.001.08 (customer credit transfer) carrying ``transfers``."""
    return write_credit_transfers("pacs.008.001.08", header, transfers, minor_units=minor_units)


def write_pacs009(
    header: MessageHeader, transfers: Sequence[CreditTransfer], *, minor_units: Mapping[str, int]
) -> bytes:
    """A pacs.009.001.08 (financial institution credit transfer) carrying ``transfers``."""
    return write_credit_transfers("pacs.009.001.08", header, transfers, minor_units=minor_units)
