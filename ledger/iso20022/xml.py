"""Hardened XML parsing: the only way bytes from outside become an lxml tree in this package.

ISO 20022 messages arrive from other institutions, so the parser is configured against the classic
XML attacks: no entity expansion (billion laughs), no DTD loading and no network access (XXE,
SSRF), no huge-tree mode (libxml2 keeps its limits on depth and text size). ISO 20022 messages
never need a document type declaration, so a document that has one at all is refused before and
after parsing, whatever it declares: that is simpler to reason about than deciding which DTDs are
harmless. Problems are reported as ``RowError`` values with the line, like every other input.
"""

from __future__ import annotations

from lxml import etree

from ledger.submit.models import RowError

__all__ = ["XmlRefused", "local_name", "new_parser", "parse_xml"]

_FILE = "(file)"


class XmlRefused(Exception):
    """The bytes are not a document this package will read; ``error`` says why and how to fix it."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


def new_parser() -> etree.XMLParser:
    """A parser that expands no entity, loads no DTD, touches no network and keeps libxml2's limits.

    A new one per document: lxml parsers keep state (their error log) and are not for sharing
    between threads.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def _doctype_refused(line: int) -> XmlRefused:
    return XmlRefused(
        RowError(
            line,
            _FILE,
            "",
            "the document has a document type declaration (<!DOCTYPE ...>), which ISO 20022 messages "
            "never have and which can carry entity-expansion or external-entity attacks",
            "send the message without any <!DOCTYPE> declaration",
        )
    )


def parse_xml(data: bytes) -> etree._Element:
    """The root element of ``data``, or ``XmlRefused`` (malformed, has a DOCTYPE, not UTF-8)."""
    if not isinstance(data, bytes):
        raise TypeError("give the message as bytes (its encoding is declared inside it)")
    if b"<!DOCTYPE" in data:
        line = data.count(b"\n", 0, data.index(b"<!DOCTYPE")) + 1
        raise _doctype_refused(line)
    parser = new_parser()
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line = e.lineno or 0
        message = (e.msg or str(e)).strip()
        raise XmlRefused(
            RowError(
                line, _FILE, "", f"the document is not well-formed XML ({message})", "fix the XML syntax"
            )
        ) from None
    tree = root.getroottree()
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _doctype_refused(1)  # a declaration the byte scan missed (another encoding)
    encoding = (info.encoding or "UTF-8").upper()
    if encoding not in ("UTF-8", "UTF8"):
        raise XmlRefused(
            RowError(
                1,
                _FILE,
                info.encoding or "",
                "the document is not UTF-8, the only encoding ISO 20022 messages use here",
                "send it encoded as UTF-8",
            )
        )
    return root


def local_name(element: etree._Element) -> str:
    """The tag without its namespace (``Document`` for ``{urn:...}Document``)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]
