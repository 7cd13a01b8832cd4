"""Small helpers for writing ISO 20022 XML: one namespace per document, elements in schema order.

Builders append children in the order the message definition lists them (XSD sequences are
ordered) and give text only as ``str``: amounts arrive already rendered by
:func:`ledger.iso20022.amounts.format_amount`, dates and times by :func:`iso_datetime`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from ledger.iso20022.codes import is_bic
from ledger.iso20022.schemas import namespace

__all__ = ["Builder", "iso_datetime", "serialize"]


def iso_datetime(moment: datetime) -> str:
    """An ISO 8601 date-time in UTC with a ``Z`` (``2026-01-31T09:30:00Z``); naive times refused."""
    if moment.tzinfo is None:
        raise ValueError("give an aware datetime (with a time zone)")
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


class Builder:
    """Creates the elements of one message's namespace."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.ns = namespace(message)
        self._prefix = "{" + self.ns + "}"

    def document(self, root: str) -> tuple[etree._Element, etree._Element]:
        """A new ``Document`` and its message element ``root`` (e.g. ``FIToFIPmtStsRpt``)."""
        document = etree.Element(self._prefix + "Document", nsmap={None: self.ns})
        return document, self.sub(document, root)

    def sub(
        self, parent: etree._Element, name: str, text: str | None = None, **attributes: str
    ) -> etree._Element:
        """Append element ``name`` to ``parent`` (with ``text`` and attributes, when given)."""
        element = etree.SubElement(parent, self._prefix + name, attributes or None)
        if text is not None:
            element.text = text
        return element

    def path(self, parent: etree._Element, names: str, text: str | None = None) -> etree._Element:
        """Append the chain ``A/B/C`` under ``parent``; ``text`` goes into the last one."""
        element = parent
        for name in names.split("/"):
            element = self.sub(element, name)
        if text is not None:
            element.text = text
        return element

    def agent(self, parent: etree._Element, name: str, identifier: str) -> etree._Element:
        """``name/FinInstnId/BICFI`` or ``name/FinInstnId/LEI`` for a BIC or an LEI."""
        institution = self.path(parent, f"{name}/FinInstnId")
        self.sub(institution, "BICFI" if is_bic(identifier) else "LEI", identifier)
        return institution.getparent()

    def account(self, parent: etree._Element, name: str, identifier: str) -> etree._Element:
        """``name/Id/Othr/Id`` (an IBAN-looking identifier is still written as ``Othr``: the ledger
        does not check IBANs, so it does not claim one)."""
        return self.path(parent, f"{name}/Id/Othr/Id", identifier)


def serialize(document: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration, one element per line (so errors name useful lines)."""
    data: bytes = etree.tostring(document, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return data
