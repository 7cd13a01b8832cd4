from __future__ import annotations

import pytest
from lxml import etree

from ledger.iso20022.schemas import load_schema
from ledger.iso20022.writer import write_credit_transfers, write_pacs008, write_pacs009
from tests.support.iso20022 import MINOR_UNITS, check_structure, header, transfers


def test_pacs008_output_is_valid_against_the_official_schema() -> None:
    document = etree.fromstring(write_pacs008(header(), transfers(5), minor_units=MINOR_UNITS))
    schema = load_schema("pacs.008.001.08")
    assert schema.validate(document), schema.error_log
    # the structural checker agrees with the XSD on a valid document (so it can stand in for one)
    assert check_structure(document, "pacs.008.001.08") == []


def test_pacs009_output_matches_the_generated_bindings() -> None:
    data = write_pacs009(header(), transfers(3), minor_units=MINOR_UNITS)
    assert check_structure(data, "pacs.009.001.08") == []


def test_the_structural_checker_finds_mistakes() -> None:
    data = write_pacs009(header(), transfers(1), minor_units=MINOR_UNITS)
    broken = data.replace(b"<ChrgBr>", b"<Nope>").replace(b"</ChrgBr>", b"</Nope>")
    broken = broken.replace(b"<NbOfTxs>1</NbOfTxs>", b"")
    problems = check_structure(broken, "pacs.009.001.08")
    assert any("lacks NbOfTxs" in p for p in problems)
    bad_uetr = data.replace(b"<UETR>", b"<UETR>X")
    assert any("UETR" in p for p in check_structure(bad_uetr, "pacs.009.001.08"))


def test_amounts_are_written_with_the_currency_exponent() -> None:
    sent = [transfers(1, currency="JPY")[0].model_copy(update={"amount": 1250})]
    assert b'Ccy="JPY">1250<' in write_pacs008(header(), sent, minor_units=MINOR_UNITS)
    sent = [sent[0].model_copy(update={"currency": "KWD"})]
    assert b'Ccy="KWD">1.250<' in write_pacs008(header(), sent, minor_units=MINOR_UNITS)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        write_pacs008(header(), [], minor_units=MINOR_UNITS)
    with pytest.raises(ValueError, match="can write"):
        write_credit_transfers("pacs.008.001.09", header(), transfers(1), minor_units=MINOR_UNITS)
    with pytest.raises(ValueError, match="no exponent"):
        write_pacs008(header(), transfers(1), minor_units={})
