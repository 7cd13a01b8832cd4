"""ISO 20022 in and out of the ledger: pacs.008/pacs.009 in as obligations, camt.056 in as recalls;
pacs.002, camt.054, camt.053 and camt.029 out as status, notifications, statements and resolutions.

Banks already speak ISO 20022 (CBPR+ 2019); this package lets them submit and reconcile in it
without the ledger trusting the XML: parsing is hardened (:mod:`.xml`), inbound messages are
validated against the official XSDs where a genuine one is vendored (:mod:`.schemas`), and every
problem is reported like a CSV file's (``RowError``: line, element path, value, reason, fix) in one
``FileValidationError``. The package reads neither chain nor database: callers pass the member, a
BIC/LEI resolver and the currencies' exponents in, and plain models out.

Modules, one job each: ``xml`` (hardened parsing), ``schemas`` (vendored XSDs), ``envelope``
(AppHdr), ``codes`` (BIC, LEI, UETR <-> reference), ``amounts`` (decimal text <-> minor units),
``locate`` (element paths), ``inbound`` (pacs.008/009), ``recall`` (camt.056), ``writer``
(pacs.008/009 out), ``outbound`` (pacs.002, camt.054, camt.053, camt.029), ``models``.
"""

from __future__ import annotations

from ledger.iso20022.codes import AgentResolver, ref_to_uetr, uetr_reference, uetr_to_ref
from ledger.iso20022.envelope import wrap
from ledger.iso20022.inbound import parse_credit_transfer, parse_pacs008, parse_pacs009
from ledger.iso20022.models import (
    CreditTransfer,
    Direction,
    Entry,
    InboundMessage,
    MessageHeader,
    Notification,
    ObligationStatus,
    RecallDecision,
    RecallItem,
    RecallOutcome,
    RecallRequest,
    RecallResolution,
    Statement,
    StatusReport,
    TransactionEcho,
    TransactionStatus,
)
from ledger.iso20022.outbound import build_camt029, build_camt053, build_camt054, build_pacs002
from ledger.iso20022.recall import parse_camt056
from ledger.iso20022.writer import write_pacs008, write_pacs009

__all__ = [
    "AgentResolver",
    "CreditTransfer",
    "Direction",
    "Entry",
    "InboundMessage",
    "MessageHeader",
    "Notification",
    "ObligationStatus",
    "RecallDecision",
    "RecallItem",
    "RecallOutcome",
    "RecallRequest",
    "RecallResolution",
    "Statement",
    "StatusReport",
    "TransactionEcho",
    "TransactionStatus",
    "build_camt029",
    "build_camt053",
    "build_camt054",
    "build_pacs002",
    "parse_camt056",
    "parse_credit_transfer",
    "parse_pacs008",
    "parse_pacs009",
    "ref_to_uetr",
    "uetr_reference",
    "uetr_to_ref",
    "wrap",
    "write_pacs008",
    "write_pacs009",
]
