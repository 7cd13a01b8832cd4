"""Inbound credit transfers: pacs.008.001.08 and pacs.009.001.08 (CBPR+ 2019) -> ``ObligationRow``s.

A bank or wallet provider may submit its obligations as the ISO 20022 messages its systems already
produce instead of a CSV file. The message is read with the hardened parser, validated against
its official XSD where one is vendored (pacs.008.001.08; pacs.009.001.08 has none, see
``schemas/SOURCES.md``, so the checks below are all it gets), and mapped:

============================  ==============================================================
``PmtId/UETR``                ``reference``: the UUID's 16 bytes right-aligned in the bytes32
                              (``codes.uetr_reference``); required, unique in the message
``IntrBkSttlmAmt`` + ``@Ccy``  ``currency`` and ``amount`` in minor units (strict decimals)
``InstgAgt`` (BICFI or LEI)   must resolve to the submitting member (``payer``)
``InstdAgt`` (BICFI or LEI)   ``payee``: the address the resolver gives for it
``DbtrAcct`` / ``CdtrAcct``   ``payer_wallet`` / ``payee_wallet`` (``Id/IBAN`` or ``Id/Othr/Id``),
                              hashed into ``payer_account`` / ``payee_account``
message                       kind: pacs.009 -> interbank; pacs.008 -> by the participants'
                              kinds, as the contract requires (bank->bank interbank, bank->wallet
                              top-up, wallet->bank withdrawal, wallet->wallet)
============================  ==============================================================

``InstgAgt``/``InstdAgt`` are read from the transaction, else from the group header. The group
header's ``SttlmInf/SttlmMtd`` must be ``CLRG`` (this ledger clears), ``NbOfTxs`` must count the
transactions, and ``CtrlSum`` and ``TtlIntrBkSttlmAmt``, when present, must equal the sum of the
amounts exactly. Identifiers (``MsgId``, ``EndToEndId``, ``TxId``, purpose codes) come back beside
the rows as ``TransactionEcho`` values; names and postal addresses are never read.

Every problem is collected (schema and business rules alike, one per element: a business rule's
clearer message replaces the schema's for the same element) and raised together as
``FileValidationError``; nothing is returned partially.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Final

from lxml import etree

from ledger.iso20022.amounts import ISO_MAX_DIGITS, exponent_of, parse_amount
from ledger.iso20022.codes import UETR, AgentResolver, is_bic, is_lei, lookup_agent, uetr_to_ref
from ledger.iso20022.envelope import Envelope, open_envelope
from ledger.iso20022.locate import Locator
from ledger.iso20022.models import InboundMessage, TransactionEcho
from ledger.iso20022.schemas import has_schema, schema_problems
from ledger.protocol.references import InvalidFieldError
from ledger.submit.models import (
    FileValidationError,
    ObligationKind,
    ObligationRow,
    ParticipantKind,
    RowError,
    parse_address,
    parse_currency,
    parse_wallet_id,
)

__all__ = ["ACCEPTED", "parse_credit_transfer", "parse_pacs008", "parse_pacs009"]

log = logging.getLogger(__name__)

#: the accepted messages and their message element
ACCEPTED: Final = {"pacs.008.001.08": "FIToFICstmrCdtTrf", "pacs.009.001.08": "FICdtTrf"}
_CLEARING: Final = "CLRG"


class _Problems:
    """The problems found so far; a business rule's problem replaces the schema's for its element."""

    def __init__(self) -> None:
        self.schema: list[RowError] = []
        self.rules: list[RowError] = []
        self._paths: set[str] = set()

    def add(self, line: int | None, path: str, value: str, reason: str, fix: str) -> None:
        self.rules.append(RowError(line or 0, path, value, reason, fix))
        self._paths.add(path)

    def all(self) -> list[RowError]:
        return self.rules + [e for e in self.schema if e.field not in self._paths]


class _Mapper:
    """Maps one validated-as-far-as-possible document onto rows, collecting problems."""

    def __init__(
        self,
        message: str,
        document: etree._Element,
        *,
        payer: str,
        resolver: AgentResolver,
        minor_units: Mapping[str, int],
        participant_kinds: Mapping[str, ParticipantKind] | None,
        problems: _Problems,
    ) -> None:
        self.message = message
        self.document = document
        self.payer = payer
        self.payer_bytes = bytes.fromhex(payer[2:])
        self.resolver = resolver
        self.minor_units = minor_units
        self.problems = problems
        self.kinds = (
            {address.lower(): kind for address, kind in participant_kinds.items()}
            if participant_kinds is not None
            else None
        )
        self.ns = "{" + document.nsmap.get(None, "") + "}"
        self._resolved: dict[str, str | None] = {}
        self.root_path = f"/Document/{ACCEPTED[message]}"

    # -- helpers -----------------------------------------------------------------------------

    def text(self, parent: etree._Element | None, path: str) -> str | None:
        if parent is None:
            return None
        ns = self.ns
        found = parent.findtext("/".join(ns + step for step in path.split("/")))
        return found if found is None else str(found)

    def find(self, parent: etree._Element | None, path: str) -> etree._Element | None:
        if parent is None:
            return None
        ns = self.ns
        return parent.find("/".join(ns + step for step in path.split("/")))

    def resolve(self, identifier: str) -> str | None:
        if identifier not in self._resolved:
            found = lookup_agent(self.resolver, identifier)
            if found is not None:
                try:
                    found = parse_address(found, "participant address")
                except InvalidFieldError:
                    log.warning("the agent resolver gave an invalid address for %s", identifier)
                    found = None
            self._resolved[identifier] = found
        return self._resolved[identifier]

    def agent(
        self, tx: Flat, header: Flat, name: str, base: str, line: int
    ) -> tuple[str, str, int, str] | None:
        """(identifier, path, line, address or "") of the agent ``name``; problems reported."""
        flat, path = tx, f"{base}/{name}"
        element = tx.get(name)
        if element is None and name in header:
            flat, path, element = header, f"{self.root_path}/GrpHdr/{name}", header[name]
        if element is None:
            what = "instructing agent (the submitting member)" if name == "InstgAgt" else "instructed agent"
            self.problems.add(
                line,
                path,
                "",
                f"is missing: the transaction names no {what}",
                f"give {name}/FinInstnId/BICFI (or LEI) in the transaction or the group header",
            )
            return None
        bic = _text(flat, f"{name}/FinInstnId/BICFI")
        lei = _text(flat, f"{name}/FinInstnId/LEI")
        if bic is None and lei is None:
            self.problems.add(
                element.sourceline,
                f"{path}/FinInstnId",
                "",
                "names the agent by neither BICFI nor LEI",
                "identify the agent by its BIC (BICFI) or LEI",
            )
            return None
        candidates = []
        if bic is not None:
            if is_bic(bic):
                candidates.append((bic, f"{path}/FinInstnId/BICFI"))
            else:
                self.problems.add(
                    element.sourceline,
                    f"{path}/FinInstnId/BICFI",
                    bic,
                    "is not a BIC (4 letters or digits, 2-letter country, 2 location, optional 3 branch)",
                    "give the 8- or 11-character BIC, e.g. DEUTDEFFXXX",
                )
                return None
        if lei is not None:
            if is_lei(lei):
                candidates.append((lei, f"{path}/FinInstnId/LEI"))
            else:
                self.problems.add(
                    element.sourceline,
                    f"{path}/FinInstnId/LEI",
                    lei,
                    "is not an LEI (18 letters or digits and 2 check digits that verify)",
                    "give the 20-character LEI, e.g. as the GLEIF register shows it",
                )
                return None
        for identifier, id_path in candidates:
            address = self.resolve(identifier)
            if address is not None:
                return identifier, id_path, element.sourceline or 0, address
        identifier, id_path = candidates[0]
        return identifier, id_path, element.sourceline or 0, ""

    # -- the group header --------------------------------------------------------------------

    def group(self, body: etree._Element, count: int) -> etree._Element | None:
        header = self.find(body, "GrpHdr")
        base = f"{self.root_path}/GrpHdr"
        if header is None:
            self.problems.add(body.sourceline, base, "", "is missing", "give the group header (GrpHdr)")
            return None
        method_element = self.find(header, "SttlmInf/SttlmMtd")
        method = None if method_element is None else (method_element.text or "")
        if method != _CLEARING:
            self.problems.add(
                (method_element if method_element is not None else header).sourceline,
                f"{base}/SttlmInf/SttlmMtd",
                method or "",
                "is not CLRG: this ledger settles by clearing, not by INDA/INGA accounts or COVE",
                "set SttlmInf/SttlmMtd to CLRG",
            )
        declared_element = self.find(header, "NbOfTxs")
        declared = None if declared_element is None else (declared_element.text or "")
        if declared is None or not declared.isdigit() or int(declared) != count:
            self.problems.add(
                (declared_element if declared_element is not None else header).sourceline,
                f"{base}/NbOfTxs",
                declared or "",
                f"does not match the {count} transaction{'s' if count != 1 else ''} (CdtTrfTxInf) "
                "in the message",
                f"set NbOfTxs to {count}, or send the missing transactions",
            )
        return header

    def totals(self, header: etree._Element, amounts: list[tuple[str, str]]) -> None:
        """``CtrlSum`` and ``TtlIntrBkSttlmAmt`` against the (currency, amount text) of every row."""
        base = f"{self.root_path}/GrpHdr"
        total = sum((Decimal(text) for _, text in amounts), Decimal(0))
        control_element = self.find(header, "CtrlSum")
        control = None if control_element is None else (control_element.text or "")
        if control_element is not None and control is not None and _decimal(control) != total:
            self.problems.add(
                control_element.sourceline,
                f"{base}/CtrlSum",
                control,
                f"does not equal the sum of the transactions' amounts ({total})",
                f"set CtrlSum to {total}, or correct the amounts",
            )
        element = self.find(header, "TtlIntrBkSttlmAmt")
        if element is not None:
            currency = element.get("Ccy", "")
            others = sorted({c for c, _ in amounts if c != currency})
            if others:
                self.problems.add(
                    element.sourceline,
                    f"{base}/TtlIntrBkSttlmAmt/@Ccy",
                    currency,
                    f"differs from the transactions' currency ({', '.join(others)})",
                    "give a total only when every transaction is in its currency",
                )
            elif _decimal(element.text or "") != total:
                self.problems.add(
                    element.sourceline,
                    f"{base}/TtlIntrBkSttlmAmt",
                    element.text or "",
                    f"does not equal the sum of the transactions' amounts ({total})",
                    f"set it to {total}, or correct the amounts",
                )

    # -- one transaction ---------------------------------------------------------------------

    def amount(self, tx: Flat, base: str, tx_line: int) -> tuple[str, int, str] | None:
        element = tx.get("IntrBkSttlmAmt")
        path = f"{base}/IntrBkSttlmAmt"
        if element is None:
            self.problems.add(tx_line, path, "", "is missing", "give the amount and its Ccy")
            return None
        currency_text = element.get("Ccy")
        text = element.text or ""
        line = element.sourceline
        currency = None
        if currency_text is None:
            self.problems.add(line, f"{path}/@Ccy", "", "is missing", "give the ISO 4217 code, e.g. EUR")
        else:
            try:
                currency = parse_currency(currency_text)
                exponent = exponent_of(currency, self.minor_units)
            except InvalidFieldError as e:
                self.problems.add(line, f"{path}/@Ccy", currency_text, e.reason, e.fix)
                currency = None
        if currency is None:
            return None
        try:
            amount = parse_amount(text, currency, exponent)
        except InvalidFieldError as e:
            self.problems.add(line, path, text, e.reason, e.fix)
            return None
        if len(text.replace(".", "").lstrip("0")) > ISO_MAX_DIGITS:
            self.problems.add(
                line,
                path,
                text,
                f"has more than {ISO_MAX_DIGITS} digits",
                "ISO 20022 amounts have 18 at most",
            )
            return None
        return currency, amount, text

    def account(self, tx: Flat, name: str, base: str, participant: bytes) -> bytes | None:
        element = tx.get(f"{name}/Id")
        if element is None:
            return parse_wallet_id(participant, "")
        text = _text(tx, f"{name}/Id/IBAN")
        where = f"{base}/{name}/Id/IBAN"
        if text is None:
            text = _text(tx, f"{name}/Id/Othr/Id")
            where = f"{base}/{name}/Id/Othr/Id"
        if text is None:
            self.problems.add(
                element.sourceline,
                f"{base}/{name}/Id",
                "",
                "holds no IBAN or Othr/Id",
                "identify the account",
            )
            return None
        try:
            return parse_wallet_id(participant, text)
        except InvalidFieldError as e:
            self.problems.add(element.sourceline, where, text, e.reason, e.fix)
            return None

    def kind(self, payee: str, line: int, path: str) -> ObligationKind | None:
        if self.message == "pacs.009.001.08":
            return ObligationKind.INTERBANK
        if self.kinds is None:
            raise ValueError("reading a pacs.008 needs participant_kinds (address -> ParticipantKind)")
        payer_kind = self.kinds.get(self.payer.lower())
        payee_kind = self.kinds.get(payee.lower())
        if payer_kind is None:
            raise ValueError(f"participant_kinds lacks the payer {self.payer}")
        if payee_kind is None:
            self.problems.add(
                line,
                path,
                payee,
                "resolves to an address that is not a registered participant",
                "register the participant, or correct the agent resolver's entry",
            )
            return None
        wallet = ParticipantKind.WALLET_PROVIDER
        return ObligationKind(2 * (payer_kind is wallet) + (payee_kind is wallet))


Flat = dict[str, etree._Element]


def _flatten(element: etree._Element, ns: str) -> Flat:
    """Every element under ``element`` by its relative path of local names (``PmtId/UETR``), the
    first of each; one pass per transaction instead of an ElementPath search per field read."""
    out: Flat = {}
    size = len(ns)
    stack: list[tuple[etree._Element, str]] = [(element, "")]
    while stack:
        parent, path = stack.pop()
        for child in parent:
            tag = child.tag
            if type(tag) is not str or not tag.startswith(ns):
                continue
            key = path + tag[size:]
            if key not in out:
                out[key] = child
            if len(child):
                stack.append((child, key + "/"))
    return out


def _text(flat: Flat, path: str) -> str | None:
    element = flat.get(path)
    return None if element is None else (element.text or "")


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except ArithmeticError:
        return None


def parse_credit_transfer(
    data: bytes,
    *,
    payer: str,
    resolver: AgentResolver,
    minor_units: Mapping[str, int],
    participant_kinds: Mapping[str, ParticipantKind] | None = None,
    source: Path | str | None = None,
    accept: frozenset[str] = frozenset(ACCEPTED),
) -> InboundMessage:
    """Read a pacs.008.001.08 or pacs.009.001.08 of ``payer`` (a bare ``Document`` or an envelope
    with an ``AppHdr``); every transaction valid, or ``FileValidationError`` listing every problem.

    ``resolver`` maps BIC/LEI to participant addresses (a ``Mapping`` will do); ``minor_units`` maps
    each accepted currency to its exponent; ``participant_kinds`` (address -> kind, the payer
    included) is required for pacs.008, whose obligation kind depends on who pays whom. ``source``
    names the message in errors. Raises ``ValueError`` for bad arguments.
    """
    payer = parse_address(payer, "payer")
    envelope = open_envelope(data, accept, source, subject="credit transfer")
    message = envelope.message
    problems = _Problems()
    document = envelope.document
    locator = Locator(document)
    if has_schema(message):
        problems.schema.extend(schema_problems(document, message, locator))
    mapper = _Mapper(
        message,
        document,
        payer=payer,
        resolver=resolver,
        minor_units=minor_units,
        participant_kinds=participant_kinds,
        problems=problems,
    )
    problems.schema.extend(envelope.problems)
    _check_header(envelope, mapper)
    body = mapper.find(document, ACCEPTED[message])
    if body is None:
        problems.add(
            document.sourceline,
            mapper.root_path,
            "",
            "is missing",
            f"put the transactions in Document/{ACCEPTED[message]}",
        )
        raise _refused(source, problems)
    transactions = body.findall(mapper.ns + "CdtTrfTxInf")
    header = mapper.group(body, len(transactions))
    group_flat = _flatten(header, mapper.ns) if header is not None else {}
    msg_id = mapper.text(header, "MsgId") or ""
    created = mapper.text(header, "CreDtTm") or ""
    if header is not None and not msg_id:
        problems.add(
            header.sourceline, f"{mapper.root_path}/GrpHdr/MsgId", "", "is missing", "give the MsgId"
        )
    if not transactions:
        problems.add(
            body.sourceline, f"{mapper.root_path}/CdtTrfTxInf", "", "is missing", "give a transaction"
        )
    rows: list[ObligationRow] = []
    echoes: list[TransactionEcho] = []
    amounts: list[tuple[str, str]] = []
    amounts_ok = True
    seen: dict[str, int] = {}
    many = len(transactions) > 1
    for index, tx in enumerate(transactions, 1):
        base = f"{mapper.root_path}/CdtTrfTxInf[{index}]" if many else f"{mapper.root_path}/CdtTrfTxInf"
        line = tx.sourceline or 0
        flat = _flatten(tx, mapper.ns)
        ok = True
        uetr = _text(flat, "PmtId/UETR")
        uetr_path = f"{base}/PmtId/UETR"
        if uetr is None:
            problems.add(
                line, uetr_path, "", "is missing: the UETR is the obligation's reference", "give the UETR"
            )
            ok = False
        elif UETR.fullmatch(uetr) is None:
            problems.add(
                line,
                uetr_path,
                uetr,
                "is not a UETR (a lower-case version-4 UUID)",
                "give the UETR, e.g. 7a562c67-ca16-48ba-b074-65581be6f001",
            )
            ok = False
        elif uetr in seen:
            problems.add(
                line,
                uetr_path,
                uetr,
                f"is also the UETR of the transaction on line {seen[uetr]}: a UETR is unique",
                "give each transaction its own UETR (a resubmission is refused on chain anyway)",
            )
            ok = False
        else:
            seen[uetr] = line
        money = mapper.amount(flat, base, line)
        if money is None:
            ok = amounts_ok = False
        else:
            amounts.append((money[0], money[2]))
        instructing = mapper.agent(flat, group_flat, "InstgAgt", base, line)
        if instructing is not None:
            identifier, path, agent_line, address = instructing
            if not address:
                problems.add(
                    agent_line,
                    path,
                    identifier,
                    "is not a registered participant's BIC/LEI",
                    "give the BIC or LEI the submitting member is registered under",
                )
                ok = False
            elif address != payer:
                problems.add(
                    agent_line,
                    path,
                    identifier,
                    f"is the participant {address}, not the submitting member {payer}: a member submits "
                    "only its own payments",
                    "send the message from the instructing agent's own node, or correct InstgAgt",
                )
                ok = False
        else:
            ok = False
        instructed = mapper.agent(flat, group_flat, "InstdAgt", base, line)
        payee = ""
        if instructed is not None:
            identifier, path, agent_line, payee = instructed
            if not payee:
                problems.add(
                    agent_line,
                    path,
                    identifier,
                    "is not a registered participant's BIC/LEI",
                    "check the identifier against the participant registry",
                )
                ok = False
            elif payee == payer:
                problems.add(
                    agent_line, path, identifier, "is the submitting member itself", "pay another participant"
                )
                ok = False
        else:
            ok = False
        payer_account = mapper.account(flat, "DbtrAcct", base, mapper.payer_bytes)
        payee_account = mapper.account(flat, "CdtrAcct", base, bytes.fromhex(payee[2:])) if payee else None
        kind = mapper.kind(payee, line, f"{base}/InstdAgt") if payee else None
        if not ok or money is None or payer_account is None or payee_account is None or kind is None:
            continue
        assert uetr is not None
        ref = uetr_to_ref(uetr)
        reference = "0x" + ref.hex()
        rows.append(
            ObligationRow.model_construct(
                line=line,
                reference=reference,
                ref=ref,
                payee=payee,
                currency=money[0],
                amount=money[1],
                kind=kind,
                payer_account=payer_account,
                payee_account=payee_account,
            )
        )
        purpose = _text(flat, "Purp/Cd") or _text(flat, "Purp/Prtry")
        category = _text(flat, "PmtTpInf/CtgyPurp/Cd") or _text(flat, "PmtTpInf/CtgyPurp/Prtry")
        echoes.append(
            TransactionEcho(
                index=index,
                line=line,
                uetr=uetr,
                reference=reference,
                message=message,
                msg_id=msg_id,
                business_message_id=envelope.business_message_id,
                instr_id=_text(flat, "PmtId/InstrId"),
                end_to_end_id=_text(flat, "PmtId/EndToEndId") or "",
                tx_id=_text(flat, "PmtId/TxId"),
                clearing_system_ref=_text(flat, "PmtId/ClrSysRef"),
                purpose=purpose,
                category_purpose=category,
                settlement_date=_text(flat, "IntrBkSttlmDt") or _text(group_flat, "IntrBkSttlmDt"),
            )
        )
    if header is not None and amounts_ok and amounts:
        mapper.totals(header, amounts)
    errors = problems.all()
    if errors:
        raise _refused(source, problems)
    log.debug("read %s %s: %d transactions", message, msg_id, len(rows))
    return InboundMessage(
        message=message,
        msg_id=msg_id,
        created=created,
        business_message_id=envelope.business_message_id,
        rows=tuple(rows),
        transactions=tuple(echoes),
    )


def _check_header(envelope: Envelope, mapper: _Mapper) -> None:
    """The AppHdr's sender must be the submitting member (its schema and MsgDefIdr are checked when
    the envelope is opened)."""
    if envelope.sender is None:
        return
    identifier, path, line = envelope.sender
    address = mapper.resolve(identifier)
    if address != mapper.payer:
        mapper.problems.add(
            line,
            path,
            identifier,
            "is not the submitting member"
            + (f" (it is the participant {address})" if address else " (not a registered BIC/LEI)"),
            "send the message under the member's own BIC or LEI in AppHdr/Fr",
        )


def _refused(source: Path | str | None, problems: _Problems) -> FileValidationError:
    return FileValidationError(
        source, problems.all(), subject=_subject(source), outcome="nothing was submitted"
    )


def _subject(source: Path | str | None) -> str:
    return f"credit transfer message {str(source)!r}" if source is not None else "credit transfer message"


def parse_pacs008(
    data: bytes,
    *,
    payer: str,
    resolver: AgentResolver,
    minor_units: Mapping[str, int],
    participant_kinds: Mapping[str, ParticipantKind],
    source: Path | str | None = None,
) -> InboundMessage:
    """``parse_credit_transfer`` accepting only pacs.008.001.08 (customer and wallet transfers)."""
    return parse_credit_transfer(
        data,
        payer=payer,
        resolver=resolver,
        minor_units=minor_units,
        participant_kinds=participant_kinds,
        source=source,
        accept=frozenset({"pacs.008.001.08"}),
    )


def parse_pacs009(
    data: bytes,
    *,
    payer: str,
    resolver: AgentResolver,
    minor_units: Mapping[str, int],
    source: Path | str | None = None,
) -> InboundMessage:
    """``parse_credit_transfer`` accepting only pacs.009.001.08 (interbank transfers)."""
    return parse_credit_transfer(
        data,
        payer=payer,
        resolver=resolver,
        minor_units=minor_units,
        source=source,
        accept=frozenset({"pacs.009.001.08"}),
    )
