"""The Business Application Header (head.001.001.02 ``AppHdr``) and the envelope convention.

An inbound message is either a bare ``Document`` or an **envelope**: a root element of any name
(SWIFT uses ``Envelope``, others ``BizMsgEnvlp``) whose element children are exactly an ``AppHdr``
of head.001.001.02 followed by one ``Document``. The header is validated against its official XSD;
its ``MsgDefIdr`` must name the document's message, and its sender (``Fr/FIId/FinInstnId``) must be
the submitting member. ``wrap`` writes the same envelope, as ``Envelope`` in no namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final

from lxml import etree

from ledger.iso20022.build import Builder, iso_datetime, serialize
from ledger.iso20022.codes import is_bic
from ledger.iso20022.locate import Locator
from ledger.iso20022.schemas import NAMESPACE_PREFIX, schema_problems
from ledger.iso20022.xml import XmlRefused, local_name, parse_xml
from ledger.submit.models import FileValidationError, RowError

__all__ = ["ENVELOPE", "HEADER_MESSAGE", "Envelope", "open_envelope", "wrap"]

HEADER_MESSAGE: Final = "head.001.001.02"
ENVELOPE: Final = "Envelope"


def wrap(
    document: bytes,
    *,
    sender: str,
    receiver: str,
    business_message_id: str,
    message: str,
    created_at: datetime,
    service: str | None = None,
) -> bytes:
    """``document`` inside an envelope with a head.001.001.02 header (``Fr``/``To`` as BICFI or LEI)."""
    b = Builder(HEADER_MESSAGE)
    envelope = etree.Element(ENVELOPE)
    header = etree.SubElement(envelope, "{" + b.ns + "}AppHdr", nsmap={None: b.ns})
    _party(b, header, "Fr", sender)
    _party(b, header, "To", receiver)
    b.sub(header, "BizMsgIdr", business_message_id)
    b.sub(header, "MsgDefIdr", message)
    if service is not None:
        b.sub(header, "BizSvc", service)
    b.sub(header, "CreDt", iso_datetime(created_at))
    envelope.append(parse_xml(document))
    return serialize(envelope)


def _party(b: Builder, header: etree._Element, name: str, identifier: str) -> None:
    institution = b.path(header, f"{name}/FIId/FinInstnId")
    b.sub(institution, "BICFI" if is_bic(identifier) else "LEI", identifier)


@dataclass
class Envelope:
    """An opened inbound message: its ``Document``, which message it is, and what its header said."""

    message: str
    document: etree._Element
    business_message_id: str | None = None
    #: (identifier, path, line) of ``AppHdr/Fr/FIId/FinInstnId/BICFI`` (or ``LEI``), if a header came
    sender: tuple[str, str, int] | None = None
    #: problems of the header (schema, ``MsgDefIdr``), to be reported with the document's
    problems: list[RowError] = field(default_factory=list)


def _refuse(source: Path | str | None, subject: str, error: RowError) -> FileValidationError:
    name = f"{subject} message {str(source)!r}" if source is not None else f"{subject} message"
    return FileValidationError(source, [error], subject=name, outcome="nothing was done with it")


def _message_of(element: etree._Element) -> str | None:
    tag = element.tag if isinstance(element.tag, str) else ""
    ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if name != "Document" or not ns.startswith(NAMESPACE_PREFIX):
        return None
    return ns[len(NAMESPACE_PREFIX) :]


def open_envelope(
    data: bytes, accept: frozenset[str], source: Path | str | None, *, subject: str
) -> Envelope:
    """Parse ``data`` (hardened), find its ``Document`` and check it is one of ``accept``.

    Problems that leave nothing to read (not XML, a DOCTYPE, no ``Document``, another message) raise
    ``FileValidationError`` at once; the header's own problems are returned for the caller to list.
    """
    expected = " or ".join(sorted(accept))
    try:
        root = parse_xml(data)
    except XmlRefused as e:
        raise _refuse(source, subject, e.error) from None
    header = None
    document = root
    if _message_of(root) is None:
        children = [c for c in root if isinstance(c.tag, str)]
        names = [local_name(c) for c in children]
        if names != ["AppHdr", "Document"]:
            raise _refuse(
                source,
                subject,
                RowError(
                    root.sourceline or 0,
                    "/" + local_name(root),
                    ", ".join(names),
                    "is neither a Document nor an envelope holding exactly an AppHdr and then a Document",
                    f"send a {expected} Document, or wrap it as <Envelope><AppHdr/><Document/></Envelope>",
                ),
            )
        header, document = children
    message = _message_of(document)
    if message not in accept:
        raise _refuse(
            source,
            subject,
            RowError(
                document.sourceline or 0,
                "/" + local_name(document),
                document.tag if isinstance(document.tag, str) else "",
                "is not a message accepted here",
                f"send {expected} (namespace {NAMESPACE_PREFIX}{sorted(accept)[0]})",
            ),
        )
    assert message is not None
    envelope = Envelope(message=message, document=document)
    if header is not None:
        _read_header(header, envelope)
    return envelope


def _read_header(header: etree._Element, envelope: Envelope) -> None:
    ns = "{" + NAMESPACE_PREFIX + HEADER_MESSAGE + "}"
    locator = Locator(header)
    if header.tag != ns + "AppHdr":
        envelope.problems.append(
            RowError(
                header.sourceline or 0,
                "/AppHdr",
                header.tag,
                f"is not a {HEADER_MESSAGE} business application header",
                f"use the namespace {NAMESPACE_PREFIX}{HEADER_MESSAGE}",
            )
        )
        return
    envelope.problems.extend(schema_problems(header, HEADER_MESSAGE, locator))
    envelope.business_message_id = header.findtext(ns + "BizMsgIdr")
    definition = header.findtext(ns + "MsgDefIdr")
    if definition is not None and definition != envelope.message:
        envelope.problems.append(
            RowError(
                header.sourceline or 0,
                "/AppHdr/MsgDefIdr",
                definition,
                f"does not name the enclosed message ({envelope.message})",
                f"set MsgDefIdr to {envelope.message}",
            )
        )
    for name in ("BICFI", "LEI"):
        element = header.find(f"{ns}Fr/{ns}FIId/{ns}FinInstnId/{ns}{name}")
        if element is not None and element.text:
            envelope.sender = (element.text, f"/AppHdr/Fr/FIId/FinInstnId/{name}", element.sourceline or 0)
            return
