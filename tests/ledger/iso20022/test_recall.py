from __future__ import annotations

import random

import pytest

from ledger.iso20022.codes import ref_to_uetr, uetr_to_ref
from ledger.iso20022.recall import parse_camt056
from ledger.submit.models import FileValidationError, RowError
from tests.support.iso20022 import BANK, OTHER_BIC, RESOLVER, camt056, check_structure, uetr


def refused(data: bytes) -> list[RowError]:
    with pytest.raises(FileValidationError) as caught:
        parse_camt056(data, payer=BANK, resolver=RESOLVER, source="recall.xml")
    assert "nothing was recalled" in str(caught.value)
    return list(caught.value.errors)


def test_a_recall_request_gives_the_references_to_recall(rnd: random.Random) -> None:
    uetrs = [uetr(rnd) for _ in range(3)]
    data = camt056(uetrs)
    assert check_structure(data, "camt.056.001.08") == []  # the generator writes a real camt.056
    request = parse_camt056(data, payer=BANK, resolver=RESOLVER)
    assert [i.uetr for i in request.items] == uetrs
    assert [i.ref for i in request.items] == [uetr_to_ref(u) for u in uetrs]
    assert all(ref_to_uetr(i.ref) == i.uetr for i in request.items)
    assert request.items[0].reason == "DUPL" and request.items[0].original_msg_id == "MSG-1"
    assert request.case_id == "CASE-1" and request.assignment_id == "ASSGN-1"


def test_a_recall_by_another_member_is_refused(rnd: random.Random) -> None:
    errors = refused(camt056([uetr(rnd)], assigner=OTHER_BIC))
    assert errors[0].field.endswith("/Assgnmt/Assgnr/Agt/FinInstnId/BICFI")
    assert "recalls only its own" in errors[0].reason


def test_bad_duplicate_and_miscounted_uetrs_are_all_reported(rnd: random.Random) -> None:
    good = uetr(rnd)
    errors = refused(camt056([good, "not-a-uetr", good], count=5))
    by_field = {e.field: e for e in errors}
    assert "is not a UETR" in by_field["/Document/FIToFIPmtCxlReq/Undrlyg/TxInf[2]/OrgnlUETR"].reason
    assert "also recalled on line" in by_field["/Document/FIToFIPmtCxlReq/Undrlyg/TxInf[3]/OrgnlUETR"].reason
    assert by_field["/Document/FIToFIPmtCxlReq/CtrlData/NbOfTxs"].value == "5"
    assert all(e.line > 1 for e in errors)
