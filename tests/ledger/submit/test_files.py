"""Obligations files and lists: parsing, every validation rule, error reporting, references, wallet ids."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from eth_utils.address import to_checksum_address as eth_checksum
from eth_utils.crypto import keccak as eth_keccak
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from ledger.protocol.money import MAX_AMOUNT
from ledger.protocol.netting.types import Obligation
from ledger.submit import (
    ACCOUNT_HASH_DOMAIN,
    FileValidationError,
    ObligationKind,
    ObligationRow,
    RowError,
    account_hash,
    decode_reference,
    encode_reference,
    load_obligations,
    validate_obligations,
)
from ledger.submit.files import _Validator, load_netting_obligations, read_table
from ledger.submit.models import InvalidFieldError, ParticipantKind, parse_kind, to_checksum_address

PAYER = eth_checksum("0x" + "ab" * 20)
BANK_B = eth_checksum("0x" + "0b" * 20)
BANK_C = eth_checksum("0x" + "0c" * 20)
WALLET_W = eth_checksum("0x" + "e1" * 20)
HEADER = "reference,payee,currency,amount,type,payer_wallet,payee_wallet"
MINOR = {"SGD": 2, "JPY": 0, "KWD": 3, "USD": 2}


def write(tmp_path: Path, text: str | bytes, name: str = "obligations.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return path


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def load(path: Path, **kwargs: Any) -> list[ObligationRow]:
    return load_obligations(path, payer=PAYER, **kwargs)


def refused(path: Path, **kwargs: Any) -> FileValidationError:
    with pytest.raises(FileValidationError) as info:
        load(path, **kwargs)
    return info.value


def one_error(path: Path, **kwargs: Any) -> RowError:
    errors = refused(path, **kwargs).errors
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# -- good files ------------------------------------------------------------------------------------


GOOD_ROWS = (
    f"INV-0001,{BANK_B.lower()},SGD,1250,interbank,,",
    f"INV-0002,{BANK_C},USD,1,,,",
    f"0x{'12' * 32},{WALLET_W.upper().replace('0X', '0x')},SGD,99,wallet_topup,cust-42,wallet-7",
)


def test_good_csv(tmp_path: Path) -> None:
    rows = load(write(tmp_path, csv_text(*GOOD_ROWS)))
    assert [r.line for r in rows] == [2, 3, 4]
    first, second, third = rows
    assert first.reference == "INV-0001"
    assert first.ref == b"\x00" * 24 + b"INV-0001"
    assert first.payee == BANK_B  # checksummed
    assert (first.currency, first.amount, first.kind) == ("SGD", 1250, ObligationKind.INTERBANK)
    assert first.payer_account == first.payee_account == bytes(32)
    assert second.kind is ObligationKind.INTERBANK  # empty type -> interbank
    assert third.ref == bytes.fromhex("12" * 32)
    assert third.payee == WALLET_W
    assert third.kind is ObligationKind.WALLET_TOPUP
    payer_bytes, payee_bytes = bytes.fromhex(PAYER[2:]), bytes.fromhex(WALLET_W[2:])
    assert third.payer_account == eth_keccak(
        b"settlement-ledger/account/v1\x00" + payer_bytes + b"\x00cust-42"
    )
    assert third.payee_account == eth_keccak(
        b"settlement-ledger/account/v1\x00" + payee_bytes + b"\x00wallet-7"
    )


def test_good_csv_minimal_columns_any_header_case(tmp_path: Path) -> None:
    text = f" Reference , PAYEE,Currency,amount\r\nR1,{BANK_B},SGD,5\r\n"
    (row,) = load(write(tmp_path, text))
    assert (row.line, row.reference, row.amount, row.kind) == (2, "R1", 5, ObligationKind.INTERBANK)


def test_good_json_same_rows_as_csv(tmp_path: Path) -> None:
    items = [
        {
            "reference": "INV-0001",
            "payee": BANK_B.lower(),
            "currency": "SGD",
            "amount": 1250,
            "type": "interbank",
        },
        {"reference": "INV-0002", "payee": BANK_C, "currency": "USD", "amount": "1", "payer_wallet": ""},
        {
            "reference": "0x" + "12" * 32,
            "payee": WALLET_W.lower(),
            "currency": "SGD",
            "amount": 99,
            "type": 1,
            "payer_wallet": "cust-42",
            "payee_wallet": "wallet-7",
        },
    ]
    from_json = load(write(tmp_path, json.dumps(items, indent=2), "o.json"))
    from_csv = load(write(tmp_path, csv_text(*GOOD_ROWS)))
    strip = [r.model_copy(update={"line": 0}) for r in from_json]
    assert strip == [r.model_copy(update={"line": 0}) for r in from_csv]
    assert [r.line for r in from_json] == [2, 9, 16]  # line of each item's "{"


def test_format_by_parameter_and_unknown_extension(tmp_path: Path) -> None:
    path = write(
        tmp_path, json.dumps([{"reference": "a", "payee": BANK_B, "currency": "SGD", "amount": 1}]), "o.txt"
    )
    err = one_error(path)
    assert err.field == "(file)" and "extension" in err.reason
    assert load(path, file_format="json")[0].reference == "a"


def test_bom_prefixed_csv_accepted(tmp_path: Path) -> None:
    data = "\ufeff".encode() + csv_text(f"R1,{BANK_B},SGD,5,,,").encode()
    (row,) = load(write(tmp_path, data))
    assert row.reference == "R1" and row.line == 2


def test_blank_lines_skipped_and_physical_line_numbers(tmp_path: Path) -> None:
    text = "\n".join([HEADER, "", f"R1,{BANK_B},SGD,5,,,", ",,,,,,", "", f"R2,{BANK_B},SGD,x,,,"]) + "\n"
    err = one_error(write(tmp_path, text))
    assert (err.line, err.field) == (6, "amount")


def test_quoted_multiline_value_keeps_physical_lines(tmp_path: Path) -> None:
    text = csv_text(f'R1,{BANK_B},SGD,5,,"line one\nline two",', f"R2,{BANK_B},SGD,0,,,")
    errors = refused(write(tmp_path, text)).errors
    assert [(e.line, e.field) for e in errors] == [(2, "payer_wallet"), (4, "amount")]
    assert "non-printable" in errors[0].reason


# -- every kind of bad row ---------------------------------------------------------------------------


def _bad_payee_checksum() -> str:
    """BANK_B with the case of one letter flipped: mixed case with a wrong checksum."""
    i = next(i for i, c in enumerate(BANK_B) if i >= 2 and c.isalpha())
    return BANK_B[:i] + BANK_B[i].swapcase() + BANK_B[i + 1 :]


GOOD = {
    "reference": "R1",
    "payee": BANK_B,
    "currency": "SGD",
    "amount": "100",
    "type": "",
    "payer_wallet": "",
}

BAD_CELLS = [
    # (field, bad value, substring of the reason)
    ("reference", "", "is missing"),
    ("reference", " R1", "whitespace"),
    ("reference", "R1 ", "whitespace"),
    ("reference", "R\t1", "non-printable"),
    ("reference", "x" * 33, "33 bytes"),
    ("reference", "é" * 17, "34 bytes"),
    ("reference", "0x1234", "64 hex digits"),
    ("reference", "0x" + "g" * 64, "64 hex digits"),
    ("reference", "0X12", "64 hex digits"),
    ("reference", "0x" + "0" * 64, "zero reference"),
    ("payee", "", "is missing"),
    ("payee", "0x123", "not an address"),
    ("payee", BANK_B[2:], "not an address"),
    ("payee", "0x" + "0" * 40, "zero address"),
    ("payee", _bad_payee_checksum(), "checksum"),
    ("payee", PAYER, "is the payer"),
    ("payee", PAYER.lower(), "is the payer"),
    ("payee", f" {BANK_B}", "whitespace"),
    ("currency", "", "is missing"),
    ("currency", "sgd", "upper-case"),
    ("currency", "SGD ", "upper-case"),
    ("currency", "SG", "ISO 4217"),
    ("currency", "S1D", "ISO 4217"),
    ("amount", "", "is missing"),
    ("amount", "1e3", "exponent notation"),
    ("amount", "-5", "negative"),
    ("amount", "+5", "sign"),
    ("amount", "0", "is zero"),
    ("amount", "000", "is zero"),
    ("amount", "1,000", "separators"),
    ("amount", "1_000", "separators"),
    ("amount", "1 000", "separators"),
    ("amount", " 12", "whitespace"),
    ("amount", "12 ", "whitespace"),
    ("amount", "12.5", "not an integer number of minor units"),
    ("amount", "12.", "not an integer number of minor units"),
    ("amount", "１２", "not an integer"),  # full-width digits: int() would accept them
    ("amount", "٣", "not an integer"),  # Arabic-Indic digit
    ("amount", "0x10", "not an integer"),
    ("amount", "abc", "not an integer"),
    ("amount", str(2**256), "too large"),
    ("amount", str(2**128), "MAX_AMOUNT = 2**128 - 1"),
    ("type", "bogus", "not an obligation type"),
    ("type", "4", "not an obligation type"),
    ("type", " interbank", "whitespace"),
    ("payer_wallet", " c1", "whitespace"),
    ("payer_wallet", "c\n1", "non-printable"),
    ("payer_wallet", "x" * 257, "257 bytes"),
    ("payer_wallet", "0x" + "0" * 64, "zero hash"),
]


@pytest.mark.parametrize(
    ("field", "value", "reason"), BAD_CELLS, ids=[f"{f}={v[:20]!r}" for f, v, _ in BAD_CELLS]
)
def test_each_bad_value_refused_with_line_and_field(
    tmp_path: Path, field: str, value: str, reason: str
) -> None:
    cells = dict(GOOD, **{field: value})
    good_row = ",".join(GOOD[c] if c != "reference" else "R0" for c in GOOD)
    bad_row = ",".join(f'"{cells[c]}"' if "\n" in cells[c] or "," in cells[c] else cells[c] for c in GOOD)
    header = ",".join(GOOD)
    path = write(tmp_path, csv_text(good_row, bad_row, header=header))
    error = one_error(path, known_currencies={"SGD"}, minor_units=MINOR)
    assert (error.line, error.field) == (3, field)
    assert reason in error.reason
    assert error.fix
    assert f"{path}:3: field '{field}': " in str(error)


def test_same_bad_values_refused_through_the_python_api() -> None:
    for field, value, reason in BAD_CELLS:
        with pytest.raises(FileValidationError) as info:
            validate_obligations([dict(GOOD, **{field: value})], payer=PAYER)
        (error,) = info.value.errors
        assert (error.item, error.field) == (1, field) and reason in error.reason, (field, value, str(error))


def test_error_message_format() -> None:
    error = RowError(7, "amount", "12.5", "is not an integer number of minor units", "use minor units (1250)")
    assert (
        str(error)
        == "line 7: field 'amount': '12.5' is not an integer number of minor units — use minor units (1250)"
    )
    in_file = RowError(7, "amount", "12.5", "is bad", "fix it", file="o.csv")
    assert str(in_file) == "o.csv:7: field 'amount': '12.5' is bad — fix it"
    assert str(RowError(3, "amount", "", "is bad", "fix it", item=2, file="o.json")).startswith(
        "o.json:3 (item 2): field 'amount'"
    )
    assert str(RowError(0, "(file)", "", "the file is empty", "fill it", file="o.csv")) == (
        "o.csv: the file is empty — fill it"
    )


def test_minor_units_decimal_fix_names_the_minor_amount(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text(f"R1,{BANK_B},SGD,12.5,,,"))
    assert str(one_error(path, minor_units=MINOR)) == (
        f"{path}:2: field 'amount': '12.5' is not an integer number of minor units "
        "— use minor units (1250) or pass --major-units"
    )


def test_every_bad_row_listed_sorted_and_nothing_returned(tmp_path: Path) -> None:
    rows = [
        f"R1,{BANK_B},SGD,100,,,",
        f"R2,{BANK_B},SGD,12.5,,,",  # line 3
        "R3,0x12,sgd,-1,nope,,",  # line 4: four problems
        f"R4,{BANK_C},SGD,7,,,",
        f"R1,{BANK_C},SGD,7,,,",  # line 6: duplicate of line 2
        "R6,x",  # line 7: wrong number of values
    ]
    error = refused(write(tmp_path, csv_text(*rows)))
    assert [(e.line, e.field) for e in error.errors] == [
        (3, "amount"),
        (4, "payee"),
        (4, "currency"),
        (4, "amount"),
        (4, "type"),
        (6, "reference"),
        (7, "(row)"),
    ]
    message = str(error)
    assert "nothing was sent: 7 problems" in message
    assert all(str(e) in message for e in error.errors)
    assert f"{error.source}:6: field 'reference': 'R1' is already used by line 2" in message
    assert f"{error.source}:7: the row has 2 values but the header has 7 columns" in message


def test_duplicate_reference_by_encoding(tmp_path: Path) -> None:
    hex_a = "0x" + "00" * 31 + "41"  # the bytes32 of the text reference "A"
    error = one_error(write(tmp_path, csv_text(f"A,{BANK_B},SGD,1,,,", f"{hex_a},{BANK_C},SGD,1,,,")))
    assert (error.line, error.field) == (3, "reference") and "line 2" in error.reason


def test_known_participants_and_currencies(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text(f"R1,{BANK_B},SGD,1,,,", f"R2,{BANK_C},JPY,1,,,"))
    errors = refused(path, known_participants=[BANK_B.lower()], known_currencies=["SGD", "USD"]).errors
    assert [(e.line, e.field) for e in errors] == [(3, "payee"), (3, "currency")]
    assert "not a known participant" in errors[0].reason
    assert "use one of: SGD, USD" in errors[1].fix
    assert len(load(path, known_participants=[BANK_B, BANK_C], known_currencies={"SGD", "JPY"})) == 2


def test_valid_checksum_and_single_case_addresses_accepted(tmp_path: Path) -> None:
    upper = "0x" + BANK_C[2:].upper()
    rows = load(write(tmp_path, csv_text(f"R1,{BANK_B},SGD,1,,,", f"R2,{upper},SGD,1,,,")))
    assert [r.payee for r in rows] == [BANK_B, BANK_C]


@given(st.binary(min_size=20, max_size=20))
def test_checksum_matches_eth_utils(raw: bytes) -> None:
    assert to_checksum_address("0x" + raw.hex()) == eth_checksum("0x" + raw.hex())


def test_participant_kinds_check_the_type(tmp_path: Path) -> None:
    kinds = {
        PAYER: ParticipantKind.BANK,
        BANK_B: ParticipantKind.BANK,
        WALLET_W: ParticipantKind.WALLET_PROVIDER,
    }
    rows = [
        f"R1,{BANK_B},SGD,1,interbank,,",
        f"R2,{WALLET_W},SGD,1,topup,,",
        f"R3,{WALLET_W},SGD,1,interbank,,",  # the contract leaves interbank unrestricted
        f"R4,{BANK_B},SGD,1,wallet_topup,,",  # line 5: bank -> bank is not a top-up
        f"R5,{WALLET_W},SGD,1,w2w,,",  # line 6: the payer is a bank
        f"R6,{BANK_C},SGD,1,,,",  # line 7: not registered
    ]
    errors = refused(write(tmp_path, csv_text(*rows)), participant_kinds=kinds).errors
    assert [(e.line, e.field) for e in errors] == [(5, "type"), (6, "type"), (7, "payee")]
    assert "from a bank (you) to a bank" in errors[0].reason and errors[0].fix == "use interbank"
    assert errors[1].fix == "use wallet_topup"
    with pytest.raises(ValueError, match="payer"):
        load(write(tmp_path, csv_text(*rows[:1])), participant_kinds={BANK_B: ParticipantKind.BANK})


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("interbank", 0),
        ("Interbank", 0),
        ("wallet_topup", 1),
        ("wallet-top-up", 1),
        ("WalletTopUp", 1),
        ("topup", 1),
        ("wallet_withdrawal", 2),
        ("withdrawal", 2),
        ("wallet_to_wallet", 3),
        ("wallet-to-wallet", 3),
        ("W2W", 3),
        ("3", 3),
    ],
)
def test_kind_aliases(text: str, kind: int) -> None:
    assert parse_kind(text) == ObligationKind(kind)


# -- major units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [
        ("SGD", "12.50", 1250),
        ("SGD", "12.5", 1250),
        ("SGD", "12", 1200),
        ("SGD", "0.01", 1),
        ("JPY", "1200", 1200),
        ("KWD", "1.234", 1234),
        ("KWD", "1.2", 1200),
        ("KWD", "0012.000", 12000),
    ],
)
def test_major_units(tmp_path: Path, currency: str, amount: str, minor: int) -> None:
    (row,) = load(
        write(tmp_path, csv_text(f"R1,{BANK_B},{currency},{amount},,,")), major_units=True, minor_units=MINOR
    )
    assert row.amount == minor


@pytest.mark.parametrize(
    ("currency", "amount", "reason"),
    [
        ("SGD", "12.505", "has 3 decimal places but SGD has 2 decimal places"),
        ("JPY", "12.5", "has 1 decimal place but JPY has no decimal places"),
        ("JPY", "1200.0", "but JPY has no decimal places"),
        ("KWD", "1.2345", "has 4 decimal places but KWD has 3 decimal places"),
        ("SGD", "0.00", "is zero"),
        ("SGD", ".5", "not a decimal number like 12.50"),
        ("SGD", "12.", "not a decimal number like 12.50"),
        ("SGD", "1,000.00", "separators"),
        ("SGD", "-1.00", "negative"),
        ("SGD", "1e2", "exponent"),
        ("EUR", "1.00", "exponent of EUR is unknown"),
    ],
)
def test_major_units_refused(tmp_path: Path, currency: str, amount: str, reason: str) -> None:
    path = write(tmp_path, csv_text(f'R1,{BANK_B},{currency},"{amount}",,,'))
    error = one_error(path, major_units=True, minor_units=MINOR)
    assert error.field == "amount" and reason in error.reason, str(error)


def test_major_units_needs_minor_units(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="minor_units"):
        load(write(tmp_path, csv_text(f"R1,{BANK_B},SGD,1,,,")), major_units=True)


def test_major_units_through_python_api() -> None:
    rows = validate_obligations(
        [
            {"reference": "a", "payee": BANK_B, "currency": "SGD", "amount": Decimal("12.50")},
            {"reference": "b", "payee": BANK_B, "currency": "JPY", "amount": 7},
            {"reference": "c", "payee": BANK_B, "currency": "KWD", "amount": "0.001"},
        ],
        payer=PAYER,
        major_units=True,
        minor_units=MINOR,
    )
    assert [r.amount for r in rows] == [1250, 7, 1]


# -- JSON --------------------------------------------------------------------------------------------


def json_item(**overrides: object) -> dict[str, object]:
    return {"reference": "J1", "payee": BANK_B, "currency": "SGD", "amount": 100, **overrides}


@pytest.mark.parametrize("number", ["12.5", "1e3", "12.0", "1E+2", "NaN", "Infinity", "-0.0"])
def test_json_float_amount_refused(tmp_path: Path, number: str) -> None:
    text = json.dumps([json_item(amount="AMOUNT")]).replace('"AMOUNT"', number)
    for major in (False, True):
        error = one_error(write(tmp_path, text, "o.json"), major_units=major, minor_units=MINOR)
        assert (error.item, error.field, error.value) == (1, "amount", number)
        assert "floating-point" in error.reason and '"12.50"' in error.fix


def test_json_integer_and_string_amounts(tmp_path: Path) -> None:
    items = [
        json_item(amount=5),
        json_item(reference="J2", amount="6"),
        json_item(reference="J3", amount=MAX_AMOUNT),
    ]
    rows = load(write(tmp_path, json.dumps(items), "o.json"))
    assert [r.amount for r in rows] == [5, 6, MAX_AMOUNT]


def test_json_problems_with_item_and_line(tmp_path: Path) -> None:
    text = "\n".join(
        [
            "[",
            json.dumps(json_item()) + ",",  # item 1, line 2: fine
            json.dumps(json_item(reference="J2", amount=True)) + ",",
            json.dumps(json_item(reference=12)) + ",",
            json.dumps(json_item(reference="J4", extra="x")) + ",",
            json.dumps(json_item(reference="J5")).replace('{"reference"', '{"reference": "J6", "reference"')
            + ",",
            '"not an object",',
            json.dumps(json_item(reference="J7", payer_wallet=None, type=None)),  # null optional = absent
            "]",
        ]
    )
    errors = refused(write(tmp_path, text, "o.json")).errors
    assert [(e.item, e.line, e.field) for e in errors] == [
        (2, 3, "amount"),
        (3, 4, "reference"),
        (4, 5, "extra"),
        (5, 6, "reference"),
        (6, 7, "(row)"),
    ]
    assert str(errors[0]).startswith(f"{tmp_path / 'o.json'}:3 (item 2): field 'amount': 'true' is a boolean")
    assert "as a string" in errors[1].fix
    assert "reference, payee, currency, amount, type, payer_wallet, payee_wallet" in errors[2].fix
    assert "twice" in errors[3].reason


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("{}", 1, "not a JSON array"),
        ("[]", 0, "contains no obligations"),
        ('[\n{"reference": "a",\n "payee": }\n]', 3, "not valid JSON"),
        ('[{"reference": "a"}\n\n{"b": 1}]', 3, "expected ',' or ']'"),
        (
            json.dumps([json_item()]) + " x",
            1,
            "after the JSON array",
        ),
    ],
)
def test_json_file_problems(tmp_path: Path, text: str, line: int, reason: str) -> None:
    error = one_error(write(tmp_path, text, "o.json"))
    assert (error.field, error.line) == ("(file)", line) and reason in error.reason


# -- CSV header and file problems --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "reasons"),
    [
        ("reference,payee,currency,amount,memo", ["unknown column 'memo'"]),
        ("reference,payee,currency,amount,payee_walet", ["unknown column 'payee_walet'"]),
        ("reference,payee,currency", ["lacks the required column 'amount'"]),
        ("reference,payee,currency,amount,amount", ["column 'amount' twice"]),
        ("reference;payee;currency;amount", ["separated by ';'"]),
        ("reference,payee,,currency,amount", ["an empty column name"]),
    ],
)
def test_bad_header(tmp_path: Path, header: str, reasons: list[str]) -> None:
    errors = refused(write(tmp_path, csv_text(f"R1,{BANK_B},SGD,1", header=header))).errors
    assert [e.line for e in errors] == [1] * len(reasons)
    assert all(r in e.reason for r, e in zip(reasons, errors, strict=True)), [str(e) for e in errors]
    if "unknown" in reasons[0]:
        assert "reference, payee, currency, amount, type, payer_wallet, payee_wallet" in errors[0].fix


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"", 0, "is empty"),
        (b"\n\r\n  \n", 0, "is empty"),
        (HEADER.encode() + b"\n", 0, "contains no obligations"),
        (HEADER.encode() + b"\n,,,,,,\n", 0, "contains no obligations"),
        (HEADER.encode() + b"\nR1,\xff\xfe,SGD,1,,,\n", 2, "not valid UTF-8 (byte 0xff"),
        ("\ufeff".encode("utf-16-le") + HEADER.encode("utf-16-le"), 0, "UTF-16"),
        (HEADER.encode() + b'\nR1,"unterminated,SGD,1,,,\n', 2, "not valid CSV"),
    ],
)
def test_file_problems(tmp_path: Path, data: bytes, line: int, reason: str) -> None:
    error = one_error(write(tmp_path, data))
    assert (error.field, error.line) == ("(file)", line) and reason in error.reason, str(error)


def test_unreadable_file_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    error = refused(missing)
    assert "nope.csv" in str(error) and "cannot be read" in str(error)


def test_bad_arguments_raise_value_error(tmp_path: Path) -> None:
    path = write(tmp_path, csv_text(f"R1,{BANK_B},SGD,1,,,"))
    with pytest.raises(ValueError, match="payer"):
        load_obligations(path, payer="0x1234")
    with pytest.raises(ValueError, match="known participant"):
        load(path, known_participants=["bank-b"])


# -- Python API and the model ------------------------------------------------------------------------


def test_validate_obligations_matches_files(tmp_path: Path) -> None:
    items = [json_item(reference=f"R{i}", amount=i + 1, payer_wallet=f"c{i}") for i in range(5)]
    rows = validate_obligations(items, payer=PAYER)
    from_json = load(write(tmp_path, json.dumps(items), "o.json"))
    assert [r.model_copy(update={"line": 0}) for r in from_json] == rows
    with pytest.raises(FileValidationError) as info:
        validate_obligations([*items, json_item(amount=1.5), "x"], payer=PAYER)  # type: ignore[list-item]
    assert [(e.item, e.line, e.field) for e in info.value.errors] == [(6, 0, "amount"), (7, 0, "(row)")]
    assert str(info.value.errors[0]).startswith("item 6: field 'amount': '1.5' is a floating-point number")
    with pytest.raises(FileValidationError, match="no obligations were given"):
        validate_obligations([], payer=PAYER)


def test_rows_equal_validated_models(tmp_path: Path) -> None:
    rows = load(write(tmp_path, csv_text(*GOOD_ROWS)))
    for row in rows:
        assert ObligationRow.model_validate(row.model_dump()) == row
        assert ObligationRow.model_validate_json(row.model_dump_json()) == row
        assert json.loads(row.model_dump_json())["ref"] == "0x" + row.ref.hex()
        assert hash(row) == hash(ObligationRow.model_validate(row.model_dump()))
    with pytest.raises(ValidationError):
        rows[0].amount = 5  # type: ignore[misc]
    copy = rows[0].model_copy(update={"amount": 7})
    assert copy.amount == 7 and rows[0].amount == 1250
    assert rows[0].model_fields_set == set(ObligationRow.model_fields)


def test_model_validates_on_its_own() -> None:
    row = ObligationRow.model_validate(
        {
            "line": 0,
            "reference": "INV-1",
            "payee": BANK_B.lower(),
            "currency": "SGD",
            "amount": 5,
            "kind": "topup",
        }
    )
    assert (
        row.ref == encode_reference("INV-1")
        and row.payee == BANK_B
        and row.kind is ObligationKind.WALLET_TOPUP
    )
    assert not row.has_accounts
    base: dict[str, Any] = {
        "line": 0,
        "reference": "INV-1",
        "payee": BANK_B,
        "currency": "SGD",
        "amount": 5,
        "kind": 0,
    }
    for bad in (
        {"amount": 0},
        {"amount": "5"},  # strict: no strings
        {"amount": 5.0},  # strict: no floats
        {"amount": 2**256},
        {"amount": MAX_AMOUNT + 1},
        {"currency": "sgd"},
        {"payee": "0x12"},
        {"reference": " x"},
        {"ref": encode_reference("INV-2")},  # does not match the reference
        {"payer_account": b"\x01"},
        {"kind": 9},
        {"surprise": 1},
    ):
        with pytest.raises(ValidationError):
            ObligationRow.model_validate({**base, **bad})


# -- references --------------------------------------------------------------------------------------


def test_reference_mapping_examples() -> None:
    assert encode_reference("INV-0001") == bytes(24) + b"INV-0001"
    assert encode_reference("0x" + "AB" * 32) == b"\xab" * 32
    assert encode_reference("é") == bytes(30) + "é".encode()
    assert encode_reference("x" * 32) == b"x" * 32
    # references differing only in the last character share the contract's bitmap word (ref >> 8)
    a, b = (int.from_bytes(encode_reference(f"INV-000{i}"), "big") for i in (1, 9))
    assert a >> 8 == b >> 8 and a & 0xFF == ord("1")
    assert decode_reference(bytes(24) + b"INV-0001") == "INV-0001"
    assert decode_reference(b"\x01" * 32) == "0x" + "01" * 32  # not printable -> hex
    assert decode_reference(bytes(31) + b"\x01") == "0x" + "00" * 31 + "01"
    assert decode_reference(bytes(28) + b" abc") == "0x" + (bytes(28) + b" abc").hex()  # leading space
    assert decode_reference(bytes(28) + b"0x12") == "0x" + (bytes(28) + b"0x12").hex()  # looks like hex
    assert decode_reference(bytes(31) + b"\xff") == "0x" + "00" * 31 + "ff"  # not UTF-8
    with pytest.raises(ValueError, match="32 bytes"):
        decode_reference(b"abc")


valid_text_references = st.text(min_size=1, max_size=32).filter(
    lambda t: t.isprintable() and t.strip() == t and len(t.encode()) <= 32 and t[:2] not in ("0x", "0X")
)


@given(valid_text_references)
def test_reference_text_round_trip(text: str) -> None:
    ref = encode_reference(text)
    assert len(ref) == 32
    assert ref.endswith(text.encode()) and int.from_bytes(ref, "big") == int.from_bytes(text.encode(), "big")
    assert decode_reference(ref) == text


@given(st.binary(min_size=32, max_size=32).filter(any))
def test_reference_bytes_round_trip(ref: bytes) -> None:
    text = decode_reference(ref)
    assert encode_reference(text) == ref


@given(st.text(max_size=40))
def test_encode_reference_accepts_or_explains(text: str) -> None:
    try:
        ref = encode_reference(text)
    except InvalidFieldError as e:
        assert e.reason and e.fix
    else:
        assert len(ref) == 32 and any(ref)


# -- wallet ids --------------------------------------------------------------------------------------


def test_wallet_ids_are_hashed_per_participant() -> None:
    b, w = bytes.fromhex(BANK_B[2:]), bytes.fromhex(WALLET_W[2:])
    assert ACCOUNT_HASH_DOMAIN == b"settlement-ledger/account/v1\x00"
    assert account_hash(b, "cust-1") == eth_keccak(ACCOUNT_HASH_DOMAIN + b + b"\x00" + b"cust-1")
    assert account_hash(b, "cust-1") != account_hash(w, "cust-1")  # same customer id, two providers


def test_wallet_ids_in_rows(tmp_path: Path) -> None:
    pre = "0x" + "5a" * 32
    rows = [
        f"R1,{WALLET_W},SGD,1,topup,cust-1,{pre}",
        f"R2,{BANK_B},SGD,1,,,cust-1",
        f"R3,{BANK_C},SGD,1,,,cust-1",
    ]
    r1, r2, r3 = load(write(tmp_path, csv_text(*rows)))
    payer = bytes.fromhex(PAYER[2:])
    assert r1.payer_account == account_hash(payer, "cust-1")
    assert r1.payee_account == bytes.fromhex("5a" * 32)  # pre-hashed: used as is
    assert r2.payer_account == bytes(32)
    assert r2.payee_account == account_hash(bytes.fromhex(BANK_B[2:]), "cust-1")
    assert r3.payee_account != r2.payee_account
    personal = b"cust-1"
    assert all(
        personal not in getattr(r, f) for r in (r1, r2, r3) for f in ("payer_account", "payee_account")
    )


# -- scale -------------------------------------------------------------------------------------------


def test_100k_rows_validate(tmp_path: Path) -> None:
    """A 100,000-row file loads whole (its speed is ``benchmarks/submit_throughput.py``'s business)."""
    payees = [BANK_B, BANK_C, WALLET_W]
    lines = [
        f"INV-{i:08d},{payees[i % 3]},SGD,{i + 1},,{'c' + str(i) if i % 4 == 0 else ''},"
        for i in range(100_000)
    ]
    path = write(tmp_path, csv_text(*lines))
    rows = load(path, known_currencies={"SGD"}, known_participants=payees)
    assert len(rows) == 100_000 and rows[-1].line == 100_001 and rows[-1].amount == 100_000


# -- the fast path agrees with the diagnosing path ---------------------------------------------------

_SAMPLES: dict[str, list[object]] = {
    "reference": ["R1", "R2", "0x" + "00" * 31 + "52", "", " R", "x" * 33, 7],
    "payee": [BANK_B, BANK_C.lower(), WALLET_W, PAYER, "0x12", "", None, _bad_payee_checksum()],
    "currency": ["SGD", "JPY", "KWD", "EUR", "sgd", "", None],
    "amount": [
        "1",
        "0012",
        "12.50",
        "1.5",
        "0",
        "-1",
        "1e3",
        " 1",
        5,
        0,
        True,
        1.5,
        Decimal("2.5"),
        "",
        None,
    ],
    "type": ["", None, "interbank", "topup", "w2w", 2, "bogus", " topup"],
    "payer_wallet": ["", None, "c1", "0x" + "11" * 32, " c1", 5],
    "payee_wallet": ["", None, "w1", "0x" + "00" * 32],
}


@given(
    st.lists(
        st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _SAMPLES.items()}), min_size=1, max_size=6
    ),
    st.booleans(),
    st.booleans(),
)
def test_fast_path_accepts_only_what_the_full_check_accepts(
    items: list[dict[str, object]], major: bool, with_kinds: bool
) -> None:
    kinds = {
        PAYER: ParticipantKind.BANK,
        BANK_B: ParticipantKind.BANK,
        WALLET_W: ParticipantKind.WALLET_PROVIDER,
    }
    options: dict[str, Any] = {
        "payer": PAYER,
        "major_units": major,
        "minor_units": MINOR,
        "known_currencies": {"SGD", "JPY", "KWD", "EUR"},
        "known_participants": None,
        "participant_kinds": kinds if with_kinds else None,
    }
    fast, full = _Validator(**options), _Validator(**options)
    for index, values in enumerate(items, 1):
        accepted = fast.quick(0, index, tuple(values.get(c) for c in _SAMPLES))
        if not accepted:
            fast.check(0, index, values)
        full.check(0, index, values)
    assert fast.fields == full.fields
    assert fast.errors == full.errors


# -- the rules shared with oracle net: payer and note columns, netting files, other tables ------------


def test_payer_column_must_be_the_signer(tmp_path: Path) -> None:
    header = "reference,payer,payee,currency,amount"
    rows = [f"R1,{PAYER.lower()},{BANK_B},SGD,1", f"R2,,{BANK_B},SGD,2", f"R3,{BANK_C},{BANK_B},SGD,3"]
    error = one_error(write(tmp_path, csv_text(*rows, header=header)))
    assert (error.line, error.field, error.value) == (4, "payer", BANK_C)
    assert f"is not the signing participant ({PAYER})" in error.reason and "own key" in error.fix
    assert [r.reference for r in load(write(tmp_path, csv_text(*rows[:2], header=header)))] == ["R1", "R2"]


def test_note_is_accepted_and_ignored_everywhere(tmp_path: Path) -> None:
    with_note = load(
        write(
            tmp_path,
            csv_text(f'R1,{BANK_B},SGD,5,"any, text",', header="reference,payee,currency,amount,note,type"),
        )
    )
    without = load(write(tmp_path, csv_text(f"R1,{BANK_B},SGD,5", header="reference,payee,currency,amount")))
    assert with_note == without
    items = [json_item(note="free text"), json_item(reference="J2", note=7)]
    assert [r.reference for r in validate_obligations(items, payer=PAYER)] == ["J1", "J2"]
    error = one_error(
        write(tmp_path, csv_text(f"R1,{BANK_B},SGD,5,x", header="reference,payee,currency,amount,notes"))
    )
    assert "unknown column 'notes'" in error.reason and "note" in error.fix


def test_netting_file_names_its_payers(tmp_path: Path) -> None:
    text = csv_text(
        "T1,A,B,SGD,5,,",
        "T1,B,A,SGD,6,topup,",  # another payer may reuse a reference
        f"T2,A,{BANK_B},USD,7,,hello",
        header="reference,payer,payee,currency,amount,type,note",
    )
    obligations = load_netting_obligations(write(tmp_path, text))
    assert obligations == [
        Obligation("T1", "A", "B", "SGD", 5),
        Obligation("T1", "B", "A", "SGD", 6, "wallet_topup"),
        Obligation("T2", "A", BANK_B, "USD", 7),
    ]
    bad = csv_text(
        "T1,A,B,SGD,5",
        "0x" + "00" * 30 + "5431,A,C,SGD,5",  # line 3: the bytes32 of T1 again, same payer
        ",B,A,SGD,1",  # line 4: no reference
        "T3,,A,SGD,1",  # line 5: no payer
        "T4,A,A,SGD,1",  # line 6: payee is the payer
        "T5,A, B,SGD,1.5",  # line 7: spaces, a decimal amount
        header="reference,payer,payee,currency,amount",
    )
    errors = refused_netting(write(tmp_path, bad))
    assert [(e.line, e.field) for e in errors] == [
        (3, "reference"),
        (4, "reference"),
        (5, "payer"),
        (6, "payee"),
        (7, "payee"),
        (7, "amount"),
    ]
    assert "already used by line 2 of the same payer" in errors[0].reason
    assert errors[-1].fix == "use an integer number of minor units"  # no --major-units for netting
    header_error = refused_netting(
        write(tmp_path, csv_text("T1,B,SGD,5", header="reference,payee,currency,amount"))
    )
    assert [e.reason for e in header_error] == ["the header lacks the required column 'payer'"]


def refused_netting(path: Path) -> tuple[RowError, ...]:
    with pytest.raises(FileValidationError) as info:
        load_netting_obligations(path)
    assert all(e.file == str(path) for e in info.value.errors)
    return info.value.errors


def test_read_table_applies_the_file_rules(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffParticipant , currency,note\r\n\r\nA,SGD,x\nB,USD\n")
    rows, errors = read_table(path, ("participant", "currency"))
    assert rows == [(3, {"participant": "A", "currency": "SGD", "note": "x"})]  # BOM, case, blank line
    assert [(e.line, e.field) for e in errors] == [(4, "(row)")]
    with pytest.raises(FileValidationError) as info:
        read_table(write(tmp_path, "participant,currency,memo\nA,SGD,x\n"), ("participant", "currency"))
    (error,) = info.value.errors
    assert "unknown column 'memo'" in error.reason


# -- the protocol's amount bound -------------------------------------------------------------------


def test_amount_bound_is_the_contracts(tmp_path: Path) -> None:
    """MAX_AMOUNT itself is accepted (CSV and JSON, fast path and full check); MAX_AMOUNT + 1 is refused
    in validation, before anything is encoded or sent, with the row error's file, line, field, value,
    reason naming the bound, and fix."""
    ok = load(
        write(tmp_path, csv_text(f"R1,{BANK_B},SGD,{MAX_AMOUNT},,,", f"R2,{BANK_B},SGD,{MAX_AMOUNT},,c,"))
    )
    assert [r.amount for r in ok] == [MAX_AMOUNT, MAX_AMOUNT]
    path = write(tmp_path, csv_text(f"R1,{BANK_B},SGD,1,,,", f"R2,{BANK_B},SGD,{MAX_AMOUNT + 1},,,"))
    error = one_error(path)
    assert (error.line, error.field, error.value) == (3, "amount", str(MAX_AMOUNT + 1))
    assert "MAX_AMOUNT = 2**128 - 1 minor units" in error.reason and error.fix
    assert str(error).startswith(f"{path}:3: field 'amount': ")
    items = [json_item(amount=MAX_AMOUNT), json_item(reference="J2", amount=str(MAX_AMOUNT + 1))]
    error = one_error(write(tmp_path, json.dumps(items), "o.json"))
    assert (error.item, error.field, error.value) == (2, "amount", str(MAX_AMOUNT + 1))
    assert "MAX_AMOUNT" in error.reason


def test_amount_bound_applies_after_major_unit_scaling(tmp_path: Path) -> None:
    whole, cents = divmod(MAX_AMOUNT, 100)
    ok = load(
        write(tmp_path, csv_text(f"R1,{BANK_B},SGD,{whole}.{cents:02d},,,")),
        major_units=True,
        minor_units=MINOR,
    )
    assert ok[0].amount == MAX_AMOUNT
    over = MAX_AMOUNT + 1
    path = write(tmp_path, csv_text(f"R1,{BANK_B},SGD,{over // 100}.{over % 100:02d},,,"))
    error = one_error(path, major_units=True, minor_units=MINOR)
    assert error.field == "amount" and "MAX_AMOUNT" in error.reason


def test_amount_bound_through_the_python_api() -> None:
    (row,) = validate_obligations([dict(GOOD, amount=MAX_AMOUNT)], payer=PAYER)
    assert row.amount == MAX_AMOUNT
    for amount in (MAX_AMOUNT + 1, 2**256 - 1):
        with pytest.raises(FileValidationError) as info:
            validate_obligations([dict(GOOD, amount=amount)], payer=PAYER)
        (error,) = info.value.errors
        assert (error.item, error.field) == (1, "amount") and "MAX_AMOUNT" in error.reason
