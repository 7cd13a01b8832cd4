from __future__ import annotations

import pytest

from ledger.iso20022.inbound import parse_pacs008
from ledger.iso20022.xml import XmlRefused, parse_xml
from ledger.submit.models import FileValidationError
from tests.support.iso20022 import BANK, KINDS, MINOR_UNITS, RESOLVER

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><x>&lol9;</x></Document>
"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><x>&xxe;</x></Document>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_a_document_with_a_doctype_is_refused(data: bytes) -> None:
    with pytest.raises(XmlRefused) as caught:
        parse_xml(data)
    assert "document type declaration" in caught.value.error.reason
    assert caught.value.error.line == 2


@pytest.mark.parametrize("data", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "xxe"])
def test_the_attacks_are_refused_by_the_reader_with_a_clear_error(data: bytes) -> None:
    with pytest.raises(FileValidationError) as caught:
        parse_pacs008(data, payer=BANK, resolver=RESOLVER, minor_units=MINOR_UNITS, participant_kinds=KINDS)
    text = str(caught.value)
    assert "<!DOCTYPE" in text and "nothing was done" in text
    assert "root:" not in text  # /etc/passwd never read


def test_a_doctype_in_another_encoding_is_still_refused() -> None:
    data = XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>').decode()
    with pytest.raises(XmlRefused) as caught:
        parse_xml(data.encode("utf-16"))
    assert "DOCTYPE" in caught.value.error.reason or "UTF-8" in caught.value.error.reason


def test_malformed_xml_names_its_line() -> None:
    with pytest.raises(XmlRefused) as caught:
        parse_xml(b"<a>\n<b>\n</a>")
    assert caught.value.error.line == 3
    assert "not well-formed" in caught.value.error.reason


def test_text_is_refused_for_bytes() -> None:
    with pytest.raises(TypeError):
        parse_xml("<a/>")  # type: ignore[arg-type]
