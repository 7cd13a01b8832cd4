"""The one reader of obligations files (CSV, JSON) and lists, for ``ledger submit`` and ``oracle net``.

Parse, validate everything, refuse the lot on any problem. ``load_obligations`` reads a payer's
file for submission, ``validate_obligations`` checks a list of mappings from a bank system; both
return ``ObligationRow`` values in input order. ``load_netting_obligations`` reads a file in which
every row names its payer (``oracle net``) and returns netting ``Obligation`` values. All raise
``FileValidationError`` listing *every* problem (file, line, field, value, reason, fix), sorted by
line; nothing is sent or written unless the whole input is valid. ``read_table`` gives other CSV
inputs (``oracle net``'s liquidity file) the same file, header and row rules.

Columns (CSV header / JSON keys)
--------------------------------
Required: ``reference``, ``payee``, ``currency``, ``amount``, and ``payer`` for netting. Optional:
``type`` (default ``interbank``; spellings in ``models.KIND_ALIASES``), ``payer_wallet``,
``payee_wallet`` (end-customer ids, hashed before they go on chain, see ``models``), ``payer`` for
submission (when given it must be the signing participant, so a file meant for another payer is
refused rather than sent under the wrong name), and ``note``. Both commands accept and check the
same columns, so one file can be netted offline and then submitted.

``note`` is free text for people (a memo, an invoice number) and is ignored, never checked nor sent.
Any *other* column or key is refused by both commands, with the accepted ones listed: a misspelt
``payee_walet`` silently ignored would put the wrong data on chain, and a netting run that ignored
it would disagree with what is later submitted. Ignoring unknown columns (``oracle net``'s old rule)
buys nothing ``note`` does not give, and refusing ``note`` (``ledger submit``'s old rule) made
annotated exports fail for no safety gain. CSV header names are matched after trimming spaces and
ignoring case; the header is the first non-blank row.

Participants: for submission the payee (and ``payer``, when given) is an address. For netting
payer and payee are participant ids as the clearing uses them (``A``, a bank code, or an address),
checked as text: not empty, no surrounding whitespace, printable. References are unique per payer
by their on-chain bytes in both.

Amounts
-------
By default ``amount`` is an integer number of minor units (cents): ASCII digits only. With
``major_units=True`` it is a decimal number of major units, ``12.50``, scaled by the currency's
minor-unit exponent from ``minor_units`` (``{"SGD": 2, "JPY": 0, "KWD": 3}``); more decimal places than
the currency has are refused, never rounded. Refused in both modes: signs (``-5``, ``+5``), zero,
exponent notation (``1e3``), digit-group separators (``1,000``, ``1_000``, ``1 000``), values
above ``MAX_AMOUNT`` (2**128 - 1, the protocol's bound, see :mod:`ledger.protocol.money`; an offline
netting file's limit is 2**256 - 1), and floats of any kind: a JSON number with a fraction or
exponent (``12.5``, ``1e3``, ``12.0``) is refused because it has already passed through binary
floating point; write ``"12.50"`` as a string or ``1250`` as an integer. JSON amounts may be integers
or strings.

Whitespace policy
-----------------
No value is trimmed: a value that starts or ends with whitespace (``" 12"``, ``"SGD "``) is refused
with the trimmed form in the fix. The reference's bytes are the on-chain idempotency key, so silently
trimming it would change which obligation a resubmission matches; one rule for every field is easier
to predict. Empty optional values mean "absent" (``type`` -> interbank, wallets -> none). Blank lines
and rows whose cells are all empty are skipped.

Locations
---------
Every problem is printed ``file:line: field 'name': 'value' reason — fix`` (``RowError``), the same
by both commands. ``RowError.line`` is the physical line of the file: for CSV the header is line 1
and a row is reported at the line where it starts (a quoted value may span lines); for JSON it is
the line where the item's ``{`` is, and ``RowError.item`` is the item's 1-based position in the
array. Problems with the file as a whole (unreadable, not UTF-8, bad header, empty) have ``field ==
"(file)"``.

Files must be UTF-8; a UTF-8 byte-order mark (Excel's "CSV UTF-8") is accepted and dropped. CSV is
comma-separated with ``"`` quoting, strictly parsed, and every row has exactly as many values as the
header. JSON is an array of objects; a key given twice in one object is refused (``json`` would keep
the last value silently).

Other checks: references unique per payer within the input (by their on-chain bytes; the error
names both lines), payee a valid address (EIP-55 checksum checked when mixed case) other than the
payer, and in ``known_participants`` / ``known_currencies`` when those are given. With
``participant_kinds`` the ``type`` is checked against the payer's and payee's kinds exactly as the
contract does (wallet kinds must equal 2 * payer-is-wallet-provider + payee-is-wallet-provider;
interbank is unrestricted).
"""

from __future__ import annotations

import csv
import gc
import io
import json
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, Literal

from ledger.protocol.hashing import keccak256
from ledger.protocol.money import MAX_AMOUNT, MAX_AMOUNT_TEXT
from ledger.protocol.netting.types import Obligation
from ledger.protocol.references import check_text
from ledger.submit.models import (
    ACCOUNT_HASH_DOMAIN,
    UINT256_LIMIT,
    ZERO32,
    FileValidationError,
    InvalidFieldError,
    ObligationKind,
    ObligationRow,
    ParticipantKind,
    RowError,
    encode_reference,
    parse_address,
    parse_currency,
    parse_kind,
    parse_wallet_id,
    to_checksum_address,
)

__all__ = [
    "ACCEPTED_COLUMNS",
    "IGNORED_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "load_netting_obligations",
    "load_obligations",
    "read_table",
    "validate_obligations",
]

REQUIRED_COLUMNS: Final = ("reference", "payee", "currency", "amount")
#: ``payer`` is required when netting (every row names its payer)
OPTIONAL_COLUMNS: Final = ("type", "payer_wallet", "payee_wallet", "payer", "note")
ACCEPTED_COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: accepted in every file and ignored: free text for people
IGNORED_COLUMNS: Final = ("note",)
_NETTING_REQUIRED: Final = ("reference", "payer", "payee", "currency", "amount")
#: the columns of the fast path, in the order of ``_Validator.quick``'s values
_QUICK_COLUMNS: Final = ("reference", "payee", "currency", "amount", "type", "payer_wallet", "payee_wallet")
_QUICK_SET = frozenset(_QUICK_COLUMNS)
#: the order of ``_Validator.fields`` tuples for submission rows (``ObligationRow``'s fields)
_ROW_FIELDS: Final = tuple(
    ["line", "reference", "ref", "payee", "currency", "amount", "kind", "payer_account", "payee_account"]
)
_ACCEPTED_TEXT = ", ".join(ACCEPTED_COLUMNS)
_FILE = "(file)"
_ROW = "(row)"

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]+))?")
_SEPARATORS = ",_' "
_NO_FLOAT_FIX = (
    'write amounts as integers (1250) or decimal strings ("12.50"), never as floating-point numbers'
)

Format = Literal["csv", "json"]


class _BadJsonNumber:
    """A JSON number that must not become an amount: a float, NaN/Infinity, or an absurdly long integer."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _json_int(text: str) -> int | _BadJsonNumber:
    # 2**256 has 78 digits; refuse early what int() would refuse at 4,300 digits anyway
    return int(text) if len(text) <= 90 else _BadJsonNumber(text)


class _JsonObject(dict[str, Any]):
    """A JSON object that remembers keys it saw twice (json would silently keep the last value)."""

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject(pairs)
    if len(obj) != len(pairs):
        keys = [k for k, _ in pairs]
        obj.duplicates = tuple(sorted({k for k in keys if keys.count(k) > 1}))
    return obj


_JSON = json.JSONDecoder(
    parse_float=_BadJsonNumber,
    parse_int=_json_int,
    parse_constant=_BadJsonNumber,
    object_pairs_hook=_json_object,
)


def _show(value: object) -> str:
    if isinstance(value, _BadJsonNumber):
        return value.text
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def _lower_addresses(values: Iterable[str], what: str) -> set[str]:
    out: set[str] = set()
    for v in values:
        try:
            out.add(parse_address(v, what).lower())
        except InvalidFieldError as e:
            raise ValueError(f"{what} {v!r} {e.reason}") from None
    return out


def _memo(cache: dict[str, Any], text: str, parse: Callable[[str], Any]) -> Any:
    """``parse(text)``, remembered with its ``InvalidFieldError``: payees, currencies, kinds repeat."""
    cached = cache.get(text)
    if cached is None:
        try:
            cached = parse(text)
        except InvalidFieldError as e:
            cached = e
        cache[text] = cached
    if isinstance(cached, InvalidFieldError):
        raise InvalidFieldError(cached.reason, cached.fix)  # a fresh one: no growing traceback
    return cached


class _Validator:
    """Checks items one by one, collecting every problem; ``rows()`` then returns or raises.

    With ``payer=None`` it checks a netting file: each row names its payer, participants are ids
    (see the module docstring), the fast path is off and ``obligations()`` gives the result.
    """

    def __init__(
        self,
        *,
        payer: str | None,
        major_units: bool = False,
        minor_units: Mapping[str, int] | None = None,
        known_currencies: Collection[str] | None = None,
        known_participants: Collection[str] | None = None,
        participant_kinds: Mapping[str, ParticipantKind] | None = None,
        max_amounts: Mapping[str, int] | None = None,
    ) -> None:
        self.netting = payer is None
        self.max_amounts = dict(max_amounts or {})
        self.payer = self.payer_lower = ""
        self.payer_bytes = bytes(20)
        if payer is not None:
            try:
                self.payer = parse_address(payer, "payer")
            except InvalidFieldError as e:
                raise ValueError(f"payer {payer!r} {e.reason}") from None
            self.payer_lower = self.payer.lower()
            self.payer_bytes = bytes.fromhex(self.payer[2:])
        self.major_units = major_units
        if major_units and minor_units is None:
            raise ValueError("major_units=True needs minor_units, the minor-unit exponent of each currency")
        self.minor_units = dict(minor_units or {})
        for code, exp in self.minor_units.items():
            if not isinstance(exp, int) or isinstance(exp, bool) or not 0 <= exp <= 18:
                raise ValueError(f"minor_units[{code!r}] must be an integer 0-18, got {exp!r}")
        self.known_currencies = frozenset(known_currencies) if known_currencies is not None else None
        self.known_participants = (
            _lower_addresses(known_participants, "known participant")
            if known_participants is not None
            else None
        )
        self.kinds: dict[str, ParticipantKind] | None = None
        self.payer_is_wallet = False
        if self.netting and (participant_kinds is not None or known_participants is not None):
            raise ValueError("participant checks need the payer's address; a netting file names its payers")
        if participant_kinds is not None:
            self.kinds = {}
            for address, pkind in participant_kinds.items():
                (lower,) = _lower_addresses([address], "participant")
                self.kinds[lower] = ParticipantKind(pkind)
            if self.payer_lower not in self.kinds:
                raise ValueError(f"participant_kinds does not include the payer {self.payer}")
            self.payer_is_wallet = self.kinds[self.payer_lower] is ParticipantKind.WALLET_PROVIDER

        self.errors: list[RowError] = []
        #: accepted rows: values of ``_ROW_FIELDS``, or of ``Obligation`` when netting
        self.fields: list[tuple[Any, ...]] = []
        #: first location of each reference: keyed by its bytes, or (payer, bytes) when netting
        self.seen: dict[object, tuple[int, int | None]] = {}
        # caches for values that repeat across rows: text -> result or InvalidFieldError
        self._payees: dict[str, tuple[str, bytes] | InvalidFieldError] = {}
        self._currencies: dict[str, str | InvalidFieldError] = {}
        self._kinds: dict[str, ObligationKind | InvalidFieldError] = {}

    # -- per-field rules -------------------------------------------------------------------------

    def _payee(self, text: str) -> tuple[str, bytes]:
        return _memo(self._payees, text, self._parse_payee)  # type: ignore[no-any-return]

    def _parse_payee(self, text: str) -> tuple[str, bytes]:
        if self.netting:  # an id, not an address: wallet ids are checked, not hashed
            check_text(text, "payee")
            return text, bytes(20)
        checksummed = parse_address(text, "payee")
        lower = checksummed.lower()
        if lower == self.payer_lower:
            raise _same_party()
        if self.known_participants is not None and lower not in self.known_participants:
            raise InvalidFieldError(
                "is not a known participant", "check the address against the participant registry"
            )
        if self.kinds is not None and lower not in self.kinds:
            raise InvalidFieldError(
                "is not a registered participant", "check the address against the participant registry"
            )
        return checksummed, bytes.fromhex(checksummed[2:])

    def _payer(self, text: str | None) -> str | None:
        """The row's payer: its id when netting; for submission, given or not, the signer."""
        if not text:
            return None if self.netting else self.payer
        if self.netting:
            check_text(text, "payer")
            return text
        if parse_address(text, "payer").lower() != self.payer_lower:
            raise InvalidFieldError(
                f"is not the signing participant ({self.payer})",
                "submit this file with the payer's own key, or leave the payer column empty",
            )
        return self.payer

    def _currency(self, text: str) -> str:
        return _memo(self._currencies, text, self._parse_currency)  # type: ignore[no-any-return]

    def _parse_currency(self, text: str) -> str:
        code = parse_currency(text)
        if self.known_currencies is not None and code not in self.known_currencies:
            known = ", ".join(sorted(self.known_currencies)) or "none"
            raise InvalidFieldError("is not a registered currency", f"use one of: {known}")
        return code

    def _kind(self, value: object) -> ObligationKind:
        if not isinstance(value, str):
            return parse_kind(value)
        return _memo(self._kinds, value, parse_kind)  # type: ignore[no-any-return]

    def _amount(self, value: object, currency: str | None) -> int:
        if isinstance(value, float | _BadJsonNumber):
            raise InvalidFieldError("is a floating-point number", _NO_FLOAT_FIX)
        if isinstance(value, bool):
            raise InvalidFieldError("is a boolean", "give the amount as an integer or a decimal string")
        exponent: int | None = None
        if self.major_units and currency is not None:
            exponent = self.minor_units.get(currency)
            if exponent is None:
                raise InvalidFieldError(
                    f"cannot be converted: the minor-unit exponent of {currency} is unknown",
                    f"add {currency} to minor_units, or give the amount in minor units without --major-units",
                )
        if isinstance(value, int):
            amount = value * 10**exponent if exponent else value
        elif isinstance(value, str | Decimal):
            if isinstance(value, Decimal):
                if not value.is_finite():
                    raise InvalidFieldError("is not a finite number", "give a positive amount")
                value = format(value, "f")
            amount = self._amount_text(value, currency, exponent)
        else:
            raise InvalidFieldError("is not a number", "give the amount as an integer or a decimal string")
        if amount <= 0:
            if amount == 0:
                raise InvalidFieldError("is zero", "remove the row: obligations must be positive")
            raise InvalidFieldError("is negative", _NEGATIVE_FIX)
        if self.netting:  # an offline netting file (``oracle net``) is not submitted: uint256 is its limit
            if amount >= UINT256_LIMIT:
                raise InvalidFieldError("is too large (at most 2**256 - 1 minor units)", "check the amount")
        elif amount > MAX_AMOUNT:
            raise InvalidFieldError(
                f"is too large: the protocol's bound is MAX_AMOUNT = {MAX_AMOUNT_TEXT} minor units",
                "check the amount; a larger payment is several obligations",
            )
        elif currency is not None and amount > self.max_amounts.get(currency, MAX_AMOUNT):
            raise InvalidFieldError(
                f"is above the maximum of {self.max_amounts[currency]} minor units per {currency} "
                "obligation that the operator set",
                "check the amount; a larger payment needs the operator to raise the maximum "
                "(ledger currency max-amount)",
            )
        return amount

    def _amount_text(self, text: str, currency: str | None, exponent: int | None) -> int:
        if not self.major_units:
            if _DIGITS.fullmatch(text) is not None:
                return int(text)
        else:
            match = _DECIMAL.fullmatch(text)
            if match is not None:
                whole, fraction = match.group(1), match.group(2) or ""
                if exponent is None:  # the currency is invalid and reported; still check the number
                    return int(whole + fraction)
                if len(fraction) > exponent:
                    raise InvalidFieldError(
                        f"has {_places(len(fraction))} but {currency} has {_places(exponent)}",
                        f"give at most {exponent} decimal places (amounts are never rounded for you)",
                    )
                return int(whole + fraction.ljust(exponent, "0"))
        raise _diagnose_amount(
            text, self.major_units, exponent, currency, self.minor_units, can_major=not self.netting
        )

    # -- one item --------------------------------------------------------------------------------

    def quick(self, line: int, item: int | None, values: tuple[object, ...]) -> bool:
        """The common case, fast: accept a valid item and return True, or return False (having changed
        nothing) for ``check`` to diagnose. Accepts a subset of what ``check`` accepts, same results.
        ``values`` are those of ``_QUICK_COLUMNS``, in that order; a netting file never takes it."""
        reference, payee_text, currency_text, raw_amount, raw_kind, payer_wallet, payee_wallet = values
        if (
            self.netting
            or type(reference) is not str
            or type(payee_text) is not str
            or type(currency_text) is not str
            or type(payer_wallet) is not str
            or type(payee_wallet) is not str
        ):
            return False
        try:
            ref = encode_reference(reference)
        except InvalidFieldError:
            return False
        if ref in self.seen:
            return False
        payee = self._payees.get(payee_text)
        if payee is None:
            try:
                payee = self._payee(payee_text)
            except InvalidFieldError:
                return False
        elif type(payee) is not tuple:
            return False
        currency = self._currencies.get(currency_text)
        if currency is None:
            try:
                currency = self._currency(currency_text)
            except InvalidFieldError:
                return False
        elif type(currency) is not str:
            return False
        if type(raw_amount) is str and not self.major_units:
            if not (raw_amount.isascii() and raw_amount.isdigit()):
                return False
            amount = int(raw_amount)
            if not 0 < amount <= self.max_amounts.get(currency, MAX_AMOUNT):
                return False
        else:
            try:
                amount = self._amount(raw_amount, currency)
            except InvalidFieldError:
                return False
        if raw_kind == "" or raw_kind is None:
            kind = ObligationKind.INTERBANK
        else:
            try:
                kind = self._kind(raw_kind)
            except InvalidFieldError:
                return False
            if kind and self.kinds is not None:
                payee_is_wallet = self.kinds[payee[0].lower()] is ParticipantKind.WALLET_PROVIDER
                if kind != 2 * self.payer_is_wallet + payee_is_wallet:
                    return False
        try:
            payer_account = parse_wallet_id(self.payer_bytes, payer_wallet) if payer_wallet else ZERO32
            payee_account = parse_wallet_id(payee[1], payee_wallet) if payee_wallet else ZERO32
        except InvalidFieldError:
            return False
        self.seen[ref] = (line, item)
        self.fields.append(
            (line, reference, ref, payee[0], currency, amount, kind, payer_account, payee_account)
        )
        return True

    def check(self, line: int, item: int | None, values: Mapping[str, object]) -> None:
        errors = self.errors
        n_errors = len(errors)

        def bad(field: str, value: object, problem: InvalidFieldError) -> None:
            errors.append(RowError(line, field, _show(value), problem.reason, problem.fix, item))

        def text(field: str, required: bool) -> str | None:
            value = values.get(field)
            if value is None or value == "":
                if required:
                    errors.append(RowError(line, field, "", "is missing", f"give the {field}", item))
                    return None
                return ""
            if isinstance(value, str):
                return value
            bad(field, value, InvalidFieldError("is not text", f"write the {field} as a string (in quotes)"))
            return None

        if item is not None:  # JSON / Python items: keys are not checked by a header
            for key in values:
                if key not in ACCEPTED_COLUMNS:
                    errors.append(
                        RowError(
                            line, str(key), "", "is not an accepted key", f"use only {_ACCEPTED_TEXT}", item
                        )
                    )
            for key in getattr(values, "duplicates", ()):
                errors.append(RowError(line, key, "", "appears twice in the object", "keep one value", item))

        payer: str | None = None
        payer_text = text("payer", self.netting)
        if payer_text is not None:
            try:
                payer = self._payer(payer_text)
            except InvalidFieldError as e:
                bad("payer", payer_text, e)

        reference = text("reference", True)
        ref: bytes | None = None
        if reference is not None:
            try:
                ref = encode_reference(reference)
            except InvalidFieldError as e:
                bad("reference", reference, e)
            else:
                if not self.netting or payer is not None:  # no payer: uniqueness is unknowable
                    first = self.seen.setdefault((payer, ref) if self.netting else ref, (line, item))
                    if first != (line, item):
                        where = RowError(first[0], "", "", "", "", first[1]).location
                        bad(
                            "reference",
                            reference,
                            InvalidFieldError(
                                f"is already used by {where} of the same payer (same on-chain reference)",
                                "give each obligation its own reference (unique per payer, forever)",
                            ),
                        )

        payee_text = text("payee", True)
        payee: tuple[str, bytes] | None = None
        if payee_text is not None:
            try:
                payee = self._payee(payee_text)
                if self.netting and payee[0] == payer:
                    raise _same_party()
            except InvalidFieldError as e:
                bad("payee", payee_text, e)
                payee = None

        currency_text = text("currency", True)
        currency: str | None = None
        if currency_text is not None:
            try:
                currency = self._currency(currency_text)
            except InvalidFieldError as e:
                bad("currency", currency_text, e)

        amount: int | None = None
        raw_amount = values.get("amount")
        if raw_amount is None or raw_amount == "":
            errors.append(RowError(line, "amount", "", "is missing", "give the amount", item))
        else:
            try:
                amount = self._amount(raw_amount, currency)
            except InvalidFieldError as e:
                bad("amount", raw_amount, e)

        kind = ObligationKind.INTERBANK
        raw_kind = values.get("type")
        if raw_kind is not None and raw_kind != "":
            try:
                kind = self._kind(raw_kind)
            except InvalidFieldError as e:
                bad("type", raw_kind, e)
            else:
                if self.kinds is not None and payee is not None and kind:
                    self._check_kind(kind, payee[0], raw_kind, bad)

        accounts = [ZERO32, ZERO32]
        for index, (field, owner) in enumerate(
            (("payer_wallet", self.payer_bytes), ("payee_wallet", payee[1] if payee else None))
        ):
            wallet = text(field, False)
            if wallet:
                try:
                    accounts[index] = parse_wallet_id(owner or bytes(20), wallet)
                except InvalidFieldError as e:
                    bad(field, wallet, e)

        if len(errors) == n_errors:
            assert reference is not None and ref is not None and payee is not None
            assert currency is not None and amount is not None and payer is not None
            if self.netting:
                self.fields.append((reference, payer, payee[0], currency, amount, kind.name.lower()))
            else:
                self.fields.append((line, reference, ref, payee[0], currency, amount, kind, *accounts))

    def _check_kind(
        self,
        kind: ObligationKind,
        payee: str,
        raw: object,
        bad: Callable[[str, object, InvalidFieldError], None],
    ) -> None:
        assert self.kinds is not None
        payee_is_wallet = self.kinds[payee.lower()] is ParticipantKind.WALLET_PROVIDER
        expected = ObligationKind(2 * self.payer_is_wallet + payee_is_wallet)
        if kind != expected:
            sides = (
                f"{'a wallet provider' if self.payer_is_wallet else 'a bank'} (you) to "
                f"{'a wallet provider' if payee_is_wallet else 'a bank'}"
            )
            bad(
                "type",
                raw,
                InvalidFieldError(
                    f"does not match the participants: a payment from {sides}",
                    f"use {expected.name.lower()}",
                ),
            )

    def item(self, line: int, item: int, values: Mapping[str, object]) -> None:
        """Check a JSON object or Python mapping (keys are not checked by a header)."""
        get = values.get
        if (
            getattr(values, "duplicates", ())
            or not _QUICK_SET.issuperset(values)
            or not self.quick(
                line,
                item,
                (
                    get("reference"),
                    get("payee"),
                    get("currency"),
                    get("amount"),
                    get("type"),
                    get("payer_wallet", ""),
                    get("payee_wallet", ""),
                ),
            )
        ):
            self.check(line, item, values)

    def add(self, error: RowError) -> None:
        self.errors.append(error)

    def finish(self, source: Path | str | None) -> None:
        """Raise ``FileValidationError`` with every problem, or an empty input's one."""
        if not self.errors and not self.fields:
            reason = "the file contains no obligations" if source is not None else "no obligations were given"
            self.errors.append(RowError(0, _FILE, "", reason, "give at least one obligation"))
        if self.errors:
            raise FileValidationError(source, self.errors)

    def rows(self, source: Path | str | None) -> list[ObligationRow]:
        self.finish(source)
        construct = _row_constructor()
        return [construct(dict(zip(_ROW_FIELDS, f, strict=False))) for f in self.fields]

    def obligations(self, source: Path | str | None) -> list[Obligation]:
        self.finish(source)
        return [Obligation(*f) for f in self.fields]


def _same_party() -> InvalidFieldError:
    return InvalidFieldError(
        "is the payer: payer and payee must differ", "give the participant the payer owes"
    )


def _places(n: int) -> str:
    return "no decimal places" if n == 0 else "1 decimal place" if n == 1 else f"{n} decimal places"


_NEGATIVE_FIX = (
    "amounts are positive: you owe the payee; an amount owed to you is submitted by the other participant"
)


def _diagnose_amount(
    text: str,
    major: bool,
    exponent: int | None,
    currency: str | None,
    minor_units: Mapping[str, int],
    *,
    can_major: bool,
) -> InvalidFieldError:
    stripped = text.strip()
    if stripped != text:
        return InvalidFieldError("starts or ends with whitespace", f"write '{stripped}'")
    if stripped.startswith("-"):
        return InvalidFieldError("is negative", _NEGATIVE_FIX)
    if stripped.startswith("+"):
        return InvalidFieldError("has a sign", f"write '{stripped[1:]}'")
    if any(c in stripped for c in _SEPARATORS):
        plain = stripped.translate(str.maketrans("", "", _SEPARATORS))
        return InvalidFieldError("contains digit-group separators", f"write '{plain}' (digits only)")
    if "e" in stripped.lower() and any(c.isdigit() for c in stripped):
        return InvalidFieldError("is in exponent notation", "write all the digits, e.g. 1000 rather than 1e3")
    if not major and _DECIMAL.fullmatch(stripped):
        exp = minor_units.get(currency) if currency is not None else None
        whole, _, fraction = stripped.partition(".")
        if exp is not None and len(fraction) <= exp:
            example = f"minor units ({int(whole + fraction.ljust(exp, '0'))})"
        else:
            example = "an integer number of minor units"
        return InvalidFieldError(
            "is not an integer number of minor units",
            f"use {example}" + (" or pass --major-units" if can_major else ""),
        )
    if major and re.fullmatch(r"[0-9]*\.[0-9]*", stripped):
        return InvalidFieldError(
            "is not a decimal number like 12.50", "write digits on both sides of the point"
        )
    what = "a decimal number of major units like 12.50" if major else "an integer number of minor units"
    return InvalidFieldError(
        f"is not {what}", "use ASCII digits only" + ("" if major else " (e.g. 1250 for 12.50)")
    )


_row_constructor_cache: list[Callable[[dict[str, Any]], ObligationRow]] = []


def _row_constructor() -> Callable[[dict[str, Any]], ObligationRow]:
    """How validated fields become ``ObligationRow``s without validating them a second time.

    ``model_construct`` costs about 3 µs a row (a third of the whole budget for 100k rows); setting
    the instance state directly, as ``model_construct`` does internally, costs 0.6 µs. The shortcut is
    used only if it builds a row equal in every respect to a validated one, checked once per process;
    otherwise (a pydantic change) it falls back to ``model_construct``.
    """
    if _row_constructor_cache:
        return _row_constructor_cache[0]
    fields_set = set(ObligationRow.model_fields)
    new = object.__new__
    set_attr = object.__setattr__

    def fast(fields: dict[str, Any]) -> ObligationRow:
        row = new(ObligationRow)
        set_attr(row, "__dict__", fields)
        set_attr(row, "__pydantic_fields_set__", fields_set.copy())
        set_attr(row, "__pydantic_extra__", None)
        set_attr(row, "__pydantic_private__", None)
        return row

    sample: dict[str, Any] = {
        "line": 2,
        "reference": "probe",
        "ref": encode_reference("probe"),
        "payee": to_checksum_address("0x" + "ab" * 20),
        "currency": "SGD",
        "amount": 1,
        "kind": ObligationKind.WALLET_TOPUP,
        "payer_account": keccak256(ACCOUNT_HASH_DOMAIN),
        "payee_account": ZERO32,
    }
    chosen: Callable[[dict[str, Any]], ObligationRow] = lambda f: ObligationRow.model_construct(**f)  # noqa: E731
    try:
        shortcut = fast(dict(sample))
        reference = ObligationRow.model_validate(sample)
        state = ("__dict__", "__pydantic_fields_set__", "__pydantic_extra__", "__pydantic_private__")
        if (
            shortcut == reference
            and hash(shortcut) == hash(reference)
            and all(getattr(shortcut, a) == getattr(reference, a) for a in state)
            and shortcut.model_dump_json() == reference.model_dump_json()
        ):
            chosen = fast
    except Exception:  # noqa: S110 - any surprise means: use the public API
        pass
    _row_constructor_cache.append(chosen)
    return chosen


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building rows, then restore its previous state.

    Validation allocates a few acyclic objects per row and keeps them all, so the collector's passes
    over the growing heap find nothing yet cost about 40% of the time for 100k rows (0.75 s -> 0.48 s
    here). Reference counting still frees everything; the pause lasts one call.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _file_error(source: Path | str, line: int, reason: str, fix: str) -> FileValidationError:
    return FileValidationError(source, [RowError(line, _FILE, "", reason, fix)])


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _file_error(
            path, 0, f"the file cannot be read: {e.strerror or e}", "check the path and permissions"
        ) from None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(path, 0, "the file is UTF-16 encoded", "save it as UTF-8 (in Excel: 'CSV UTF-8')")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise _file_error(
            path,
            line,
            f"the file is not valid UTF-8 (byte 0x{data[e.start]:02x} on this line)",
            "save the file as UTF-8 (Excel: 'CSV UTF-8')",
        ) from None
    if not text.strip():
        raise _file_error(path, 0, "the file is empty", "give a header row and at least one obligation")
    return text


def _csv_records(
    source: Path, text: str, required: Collection[str], accepted: Collection[str], errors: list[RowError]
) -> Iterator[tuple[int, list[str]]]:
    """The shared CSV rules: yields ``(header line, normalized column names)`` first, then
    ``(line, values)`` for each non-blank row, with ``""`` appended (read by absent columns).

    Header problems and an empty file raise ``FileValidationError``; a row of the wrong width or bad
    quoting is appended to ``errors`` (reading stops at bad quoting: the rest cannot be trusted).
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next((row for row in reader if any(row)), None)
        if header is None:
            raise _file_error(source, 0, "the file is empty", "give a header row and at least one row")
        names = _check_header(source, header, reader.line_num, required, accepted)
        yield reader.line_num, names
        width = len(names)
        end = reader.line_num
        for row in reader:
            start, end = end + 1, reader.line_num
            if not any(row):
                continue
            if len(row) != width:
                reason = f"the row has {len(row)} values but the header has {width} columns"
                fix = "give one value per column (quote values that contain commas)"
                errors.append(RowError(start, _ROW, "", reason, fix))
                continue
            row.append("")
            yield start, row
    except csv.Error as e:
        reason = f"the file is not valid CSV here ({e})"
        errors.append(RowError(reader.line_num, _FILE, "", reason, "fix the quoting on this line"))


def _read_csv(source: Path, text: str, v: _Validator) -> None:
    required = _NETTING_REQUIRED if v.netting else REQUIRED_COLUMNS
    records = _csv_records(source, text, required, ACCEPTED_COLUMNS, v.errors)
    first = next(records, None)
    if first is None:  # bad quoting in or before the header: reported
        return
    names = first[1]
    width = len(names)
    if v.netting or "payer" in names:
        for start, row in records:
            v.check(start, None, dict(zip(names, row, strict=False)))
        return
    # the values in quick()'s order; an absent optional column reads the "" appended to each row
    pick = itemgetter(*(names.index(c) if c in names else width for c in _QUICK_COLUMNS))
    for start, row in records:
        if not v.quick(start, None, pick(row)):
            v.check(start, None, dict(zip(names, row, strict=False)))


def read_table(
    path: Path, required: tuple[str, ...], optional: tuple[str, ...] = ()
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows of another CSV input (``oracle net``'s liquidity file) read by the obligations files'
    rules (encoding, header, ``note``, widths), so every input of a command behaves the same.

    Returns ``(line, {column: text})`` for each row with the row problems found so far; the caller
    adds its own per-value problems and raises. Problems with the file as a whole raise
    ``FileValidationError`` at once.
    """
    path = Path(path)
    errors: list[RowError] = []
    records = _csv_records(path, _read_text(path), required, required + optional + IGNORED_COLUMNS, errors)
    first = next(records, None)
    if first is None:  # bad quoting in or before the header
        raise FileValidationError(path, errors)
    names = first[1]
    return [(line, dict(zip(names, row, strict=False))) for line, row in records], errors


def _check_header(
    source: Path | str, header: list[str], line: int, required: Collection[str], accepted: Collection[str]
) -> list[str]:
    names = [h.strip().lower() for h in header]
    problems: list[RowError] = []

    def problem(reason: str, fix: str) -> None:
        problems.append(RowError(line, _FILE, "", reason, fix))

    # the same fix from every command for the same header: the accepted set is shared
    fix = f"the accepted columns are {', '.join(accepted)} ('note' is free text, ignored)"
    if len(names) == 1 and ";" in names[0]:
        problem("the header is separated by ';', not ','", "save the file comma-separated (CSV, not CSV;)")
    else:
        for name, original in zip(names, header, strict=True):
            if name not in accepted:
                problem(
                    f"the header has {f'an unknown column {original!r}' if name else 'an empty column name'}",
                    fix,
                )
        for name in sorted({n for n in names if n and names.count(n) > 1}):
            problem(f"the header has column '{name}' twice", "keep one")
        for name in required:
            if name not in names:
                problem(
                    f"the header lacks the required column '{name}'",
                    f"the required columns are {', '.join(required)}",
                )
    if problems:
        raise FileValidationError(source, problems)
    return names


_JSON_WS = re.compile(r"[ \t\n\r]*").match


def _read_json(source: Path | str, text: str, v: _Validator) -> None:
    def fail(pos: int, reason: str, fix: str) -> FileValidationError:
        return _file_error(source, text.count("\n", 0, pos) + 1, reason, fix)

    pos, size = 0, len(text)

    def skip(p: int) -> int:
        return _JSON_WS(text, p).end()  # type: ignore[union-attr]  # matches at least ""

    pos = skip(pos)
    if not text.startswith("[", pos):
        raise fail(pos, "the file is not a JSON array", 'give an array of objects: [{"reference": ...}, ...]')
    pos = skip(pos + 1)
    line, counted = 1, 0
    item = 0
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            try:
                value, end = _JSON.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                raise _file_error(
                    source,
                    e.lineno,
                    f"the file is not valid JSON ({e.msg}, column {e.colno})",
                    "fix the syntax",
                ) from None
            item += 1
            line += text.count("\n", counted, pos)
            counted = pos
            if isinstance(value, _JsonObject):
                v.item(line, item, value)
            else:
                v.add(
                    RowError(
                        line,
                        _ROW,
                        _show(value),
                        "the item is not a JSON object",
                        'give {"reference": ...} objects',
                        item,
                    )
                )
            pos = skip(end)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
                continue
            if text.startswith("]", pos):
                pos += 1
                break
            raise fail(pos, "the file is not valid JSON (expected ',' or ']')", "fix the syntax")
    pos = skip(pos)
    if pos != size:
        raise fail(pos, "the file has content after the JSON array", "remove it")


def load_obligations(
    path: Path,
    *,
    payer: str,
    major_units: bool = False,
    minor_units: Mapping[str, int] | None = None,
    known_currencies: Collection[str] | None = None,
    known_participants: Collection[str] | None = None,
    participant_kinds: Mapping[str, ParticipantKind] | None = None,
    max_amounts: Mapping[str, int] | None = None,
    file_format: Format | None = None,
) -> list[ObligationRow]:
    """Read and validate an obligations file of ``payer``; every row valid or ``FileValidationError``.

    ``file_format`` defaults to the extension (``.csv``/``.json``, any case). ``minor_units`` is
    required with ``major_units``. ``known_currencies``/``known_participants`` restrict currencies and
    payees when given (e.g. the registry read from the chain); ``participant_kinds`` (address -> kind,
    including the payer) additionally checks each row's ``type`` against the payer's and payee's kinds
    as the contract does; ``max_amounts`` (currency -> minor units) the operator's per-currency maximum.
    Raises ``ValueError`` for bad arguments (a wrong payer, no ``minor_units``).
    """
    path = Path(path)
    v = _Validator(
        payer=payer,
        major_units=major_units,
        minor_units=minor_units,
        known_currencies=known_currencies,
        known_participants=known_participants,
        participant_kinds=participant_kinds,
        max_amounts=max_amounts,
    )
    with _gc_paused():
        _read(path, v, file_format)
        return v.rows(path)


def load_netting_obligations(path: Path, *, file_format: Format | None = None) -> list[Obligation]:
    """Read a netting file (``oracle net``): every row names its payer; participants are ids.

    The rules are ``load_obligations``'s (same columns, amounts in integer minor units, ``note``
    ignored, unknown columns refused, every problem listed) with ``payer`` required and references
    unique per payer; ``type`` becomes the obligation's ``kind`` (``interbank`` when absent).
    """
    path = Path(path)
    v = _Validator(payer=None)
    _read(path, v, file_format)
    return v.obligations(path)


def _read(path: Path, v: _Validator, file_format: Format | None) -> None:
    fmt = file_format or _format_of(path)
    text = _read_text(path)
    if fmt == "csv":
        _read_csv(path, text, v)
    else:
        _read_json(path, text, v)


def _format_of(path: Path) -> Format:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix == ".json":
        return "json"
    raise _file_error(
        path,
        0,
        f"the file has an unknown extension '{path.suffix}'",
        "name it .csv or .json, or pass the format",
    )


def validate_obligations(
    items: Iterable[Mapping[str, object]],
    *,
    payer: str,
    major_units: bool = False,
    minor_units: Mapping[str, int] | None = None,
    known_currencies: Collection[str] | None = None,
    known_participants: Collection[str] | None = None,
    participant_kinds: Mapping[str, ParticipantKind] | None = None,
    max_amounts: Mapping[str, int] | None = None,
) -> list[ObligationRow]:
    """The typed API for bank systems: validate mappings with the file's keys (``ObligationItem``).

    Same rules as ``load_obligations``; errors carry ``item`` (1-based) and ``line == 0``. Amounts are
    ``int`` minor units, or with ``major_units`` also ``Decimal``/decimal strings; ``float`` is refused.
    """
    v = _Validator(
        payer=payer,
        major_units=major_units,
        minor_units=minor_units,
        known_currencies=known_currencies,
        known_participants=known_participants,
        participant_kinds=participant_kinds,
        max_amounts=max_amounts,
    )
    with _gc_paused():
        for index, item in enumerate(items, 1):
            if isinstance(item, Mapping):
                v.item(0, index, item)
            else:
                v.add(
                    RowError(
                        0,
                        _ROW,
                        _show(item),
                        "the item is not a mapping",
                        "give a dict with the obligation's keys",
                        index,
                    )
                )
        return v.rows(None)
