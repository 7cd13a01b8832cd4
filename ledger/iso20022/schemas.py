"""The vendored official ISO 20022 XSDs: which exist, loading them once, and validating against them.

Schemas live in ``schemas/<message>/<message>.xsd`` (their provenance and checksums are in
``schemas/SOURCES.md`` and ``schemas/SHA256SUMS``). Only genuine schemas are vendored: for
pacs.009.001.08, pacs.002.001.10, camt.029.001.09 and camt.056.001.08 none was available, and
``has_schema`` says so; their structure is checked by the code that reads or writes them (and in
the tests against pyiso20022's bindings) instead.

A compiled schema is cached per process by ``load_schema`` (compiling pacs.008 takes tens of
milliseconds; validating with it is then fast). Validation problems become ``RowError`` values
with the element's line, path, value and a reason without namespace noise.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Final

from lxml import etree

from ledger.iso20022.locate import Locator
from ledger.iso20022.xml import new_parser
from ledger.submit.models import RowError

__all__ = ["NAMESPACE_PREFIX", "VENDORED", "has_schema", "load_schema", "namespace", "schema_problems"]

NAMESPACE_PREFIX: Final = "urn:iso:std:iso:20022:tech:xsd:"
#: the messages whose official XSD is vendored (checked against SHA256SUMS by the tests)
VENDORED: Final = frozenset({"pacs.008.001.08", "camt.053.001.08", "camt.054.001.08", "head.001.001.02"})


def namespace(message: str) -> str:
    """The XML namespace of ``message`` (``urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08``)."""
    return NAMESPACE_PREFIX + message


def has_schema(message: str) -> bool:
    """Whether the official XSD of ``message`` is vendored."""
    return message in VENDORED


@functools.cache
def load_schema(message: str) -> etree.XMLSchema:
    """The compiled XSD of ``message`` (parsed with the hardened parser; compiled once per process)."""
    if message not in VENDORED:
        raise KeyError(f"no official XSD of {message} is vendored (see ledger/iso20022/schemas/SOURCES.md)")
    data = (resources.files("ledger.iso20022") / "schemas" / message / f"{message}.xsd").read_bytes()
    return etree.XMLSchema(etree.fromstring(data, new_parser()))


_NS = re.compile(r"\{[^}]*\}")
_VALUE = re.compile(r"The value '(.*?)' is not")
_ATTRIBUTE = re.compile(r", attribute '([^']+)'")
_ELEMENT = re.compile(r"^Element '[^']*'(?:, attribute '[^']*')?: ")

#: what to do about a bad value of a well-known element, beyond "make it match the schema"
_FIXES: Final = {
    "BICFI": "give an 8- or 11-character BIC (ISO 9362), e.g. DEUTDEFFXXX",
    "AnyBIC": "give an 8- or 11-character BIC (ISO 9362), e.g. DEUTDEFFXXX",
    "LEI": "give a 20-character LEI (ISO 17442)",
    "UETR": "give the UETR as a lower-case version-4 UUID, e.g. 7a562c67-ca16-48ba-b074-65581be6f001",
    "OrgnlUETR": "give the UETR as a lower-case version-4 UUID, e.g. 7a562c67-ca16-48ba-b074-65581be6f001",
    "Ccy": "give the ISO 4217 code: three upper-case letters, e.g. EUR",
    "CreDtTm": "give an ISO 8601 date-time, e.g. 2026-01-31T09:30:00Z",
    "IntrBkSttlmDt": "give an ISO 8601 date, e.g. 2026-01-31",
    "NbOfTxs": "give the number of transactions as digits",
}


def _reason(message: str) -> str:
    text = _ELEMENT.sub("", _NS.sub("", message)).strip()
    if text.startswith("[facet "):
        text = text.split("] ", 1)[-1]
    text = text.rstrip(".")
    return f"breaks the message's schema: {text}"


def schema_problems(element: etree._Element, message: str, locator: Locator) -> list[RowError]:
    """Every problem the XSD of ``message`` finds in ``element`` (a ``Document`` or ``AppHdr``)."""
    schema = load_schema(message)
    if schema.validate(element):
        return []
    problems: list[RowError] = []
    for entry in schema.error_log:
        found = locator.resolve(entry.path or "")
        path, target = found if found is not None else (locator.root_path, None)
        attribute = _ATTRIBUTE.search(entry.message)
        value_match = _VALUE.search(entry.message)
        if attribute is not None:
            path = f"{path}/@{attribute.group(1)}"
        value = value_match.group(1) if value_match else ""
        if not value and target is not None and attribute is None and len(target) == 0:
            value = target.text or ""
        name = path.rsplit("/", 1)[-1].lstrip("@").split("[")[0]
        fix = _FIXES.get(name, "correct it as the ISO 20022 message definition requires")
        line = target.sourceline if target is not None and target.sourceline else entry.line
        problems.append(RowError(line or 0, path, value, _reason(entry.message), fix))
    return problems
