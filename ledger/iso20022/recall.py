"""Inbound recall requests: camt.056.001.08 (FI-to-FI payment cancellation request) -> references.

A member recalls its own obligations that have not settled (``recall(refs)`` on chain, see the
README). A camt.056 names them by ``OrgnlUETR``; each becomes the ``bytes32`` reference the
obligation was submitted under (:func:`ledger.iso20022.codes.uetr_to_ref`). The request's assigner
(``Assgnmt/Assgnr/Agt``) must be the submitting member, every ``TxInf`` must carry a valid UETR,
UETRs must be unique, and ``CtrlData/NbOfTxs``, when present, must count the ``TxInf``. No official
camt.056.001.08 XSD is vendored (``schemas/SOURCES.md``), so these checks and the hardened parser
are what the message gets. Problems are collected and raised together as ``FileValidationError``,
like every other input.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from lxml import etree

from ledger.iso20022.codes import UETR, AgentResolver, is_bic, is_lei, lookup_agent, uetr_to_ref
from ledger.iso20022.envelope import open_envelope
from ledger.iso20022.models import RecallItem, RecallRequest
from ledger.protocol.references import InvalidFieldError
from ledger.submit.models import FileValidationError, RowError, parse_address

__all__ = ["RECALL_MESSAGE", "parse_camt056"]

RECALL_MESSAGE: Final = "camt.056.001.08"
_ROOT: Final = "/Document/FIToFIPmtCxlReq"


def parse_camt056(
    data: bytes, *, payer: str, resolver: AgentResolver, source: Path | str | None = None
) -> RecallRequest:
    """The obligations ``payer`` asks to recall, or ``FileValidationError`` listing every problem."""
    payer = parse_address(payer, "payer")
    envelope = open_envelope(data, frozenset({RECALL_MESSAGE}), source, subject="recall request")
    document = envelope.document
    ns = "{" + document.nsmap.get(None, "") + "}"
    problems: list[RowError] = list(envelope.problems)

    def add(element: etree._Element | None, path: str, value: str, reason: str, fix: str) -> None:
        line = element.sourceline if element is not None else 0
        problems.append(RowError(line or 0, path, value, reason, fix))

    def find(parent: etree._Element | None, path: str) -> etree._Element | None:
        if parent is None:
            return None
        return parent.find("/".join(ns + step for step in path.split("/")))

    def text(parent: etree._Element | None, path: str) -> str | None:
        found = find(parent, path)
        return None if found is None else (found.text or "")

    body = find(document, "FIToFIPmtCxlReq")
    if body is None:
        add(document, _ROOT, "", "is missing", "put the request in Document/FIToFIPmtCxlReq")
        raise _refused(source, problems)
    assignment = find(body, "Assgnmt")
    assignment_id = text(assignment, "Id") or ""
    assigner = ""
    assignee = text(assignment, "Assgne/Agt/FinInstnId/BICFI") or text(
        assignment, "Assgne/Agt/FinInstnId/LEI"
    )
    if assignment is None:
        add(body, f"{_ROOT}/Assgnmt", "", "is missing", "give the assignment (Id, Assgnr, Assgne, CreDtTm)")
    else:
        if not assignment_id:
            add(assignment, f"{_ROOT}/Assgnmt/Id", "", "is missing", "give the assignment's Id")
        for name in ("BICFI", "LEI"):
            path = f"Assgnr/Agt/FinInstnId/{name}"
            value = text(assignment, path)
            if value is None:
                continue
            assigner = value
            where = f"{_ROOT}/Assgnmt/{path}"
            if not (is_bic(value) if name == "BICFI" else is_lei(value)):
                add(
                    find(assignment, path),
                    where,
                    value,
                    f"is not a valid {name}",
                    "give the member's BIC or LEI",
                )
                break
            found = lookup_agent(resolver, value)
            try:
                address = parse_address(found, "participant address") if found is not None else None
            except InvalidFieldError:
                address = None
            if address != payer:
                add(
                    find(assignment, path),
                    where,
                    value,
                    "is not the submitting member: a member recalls only its own obligations"
                    + (f" (it is the participant {address})" if address else " (not a registered BIC/LEI)"),
                    "send the recall from the payer's own node under its BIC or LEI",
                )
            break
        else:
            add(
                assignment,
                f"{_ROOT}/Assgnmt/Assgnr",
                "",
                "names no agent by BICFI or LEI",
                "give Assgnr/Agt/FinInstnId/BICFI (or LEI): the recalling member",
            )
    transactions = [
        tx for underlying in body.findall(ns + "Undrlyg") for tx in underlying.findall(ns + "TxInf")
    ]
    if not transactions:
        add(body, f"{_ROOT}/Undrlyg/TxInf", "", "is missing", "name each transaction to recall in a TxInf")
    declared = text(body, "CtrlData/NbOfTxs")
    if declared is not None and (not declared.isdigit() or int(declared) != len(transactions)):
        add(
            find(body, "CtrlData/NbOfTxs"),
            f"{_ROOT}/CtrlData/NbOfTxs",
            declared,
            f"does not match the {len(transactions)} transactions (TxInf) in the request",
            f"set NbOfTxs to {len(transactions)}",
        )
    items: list[RecallItem] = []
    seen: dict[str, int] = {}
    underlyings = body.findall(ns + "Undrlyg")
    for u_index, underlying in enumerate(underlyings, 1):
        u_path = f"{_ROOT}/Undrlyg[{u_index}]" if len(underlyings) > 1 else f"{_ROOT}/Undrlyg"
        txs = underlying.findall(ns + "TxInf")
        for t_index, tx in enumerate(txs, 1):
            path = f"{u_path}/TxInf[{t_index}]" if len(txs) > 1 else f"{u_path}/TxInf"
            line = tx.sourceline or 0
            uetr = text(tx, "OrgnlUETR")
            if uetr is None:
                add(
                    tx, f"{path}/OrgnlUETR", "", "is missing: the UETR names the obligation", "give OrgnlUETR"
                )
                continue
            if UETR.fullmatch(uetr) is None:
                add(
                    find(tx, "OrgnlUETR"),
                    f"{path}/OrgnlUETR",
                    uetr,
                    "is not a UETR (a lower-case version-4 UUID)",
                    "give the UETR of the original pacs.008/pacs.009 transaction",
                )
                continue
            if uetr in seen:
                add(
                    find(tx, "OrgnlUETR"),
                    f"{path}/OrgnlUETR",
                    uetr,
                    f"is also recalled on line {seen[uetr]}",
                    "name each transaction once",
                )
                continue
            seen[uetr] = line
            ref = uetr_to_ref(uetr)
            items.append(
                RecallItem(
                    index=len(items) + 1,
                    line=line,
                    uetr=uetr,
                    reference="0x" + ref.hex(),
                    ref=ref,
                    cancellation_id=text(tx, "CxlId"),
                    original_msg_id=text(tx, "OrgnlGrpInf/OrgnlMsgId"),
                    original_end_to_end_id=text(tx, "OrgnlEndToEndId"),
                    original_tx_id=text(tx, "OrgnlTxId"),
                    reason=text(tx, "CxlRsnInf/Rsn/Cd") or text(tx, "CxlRsnInf/Rsn/Prtry"),
                )
            )
    if problems:
        raise _refused(source, problems)
    return RecallRequest(
        assignment_id=assignment_id,
        case_id=text(body, "Case/Id"),
        assigner=assigner,
        assignee=assignee or "",
        created=text(assignment, "CreDtTm") or "",
        items=tuple(items),
    )


def _refused(source: Path | str | None, problems: list[RowError]) -> FileValidationError:
    subject = f"recall request {str(source)!r}" if source is not None else "recall request"
    return FileValidationError(source, problems, subject=subject, outcome="nothing was recalled")
