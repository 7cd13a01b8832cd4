"""Operator commands: participants, currencies, caps, funding, cycles, committee, auditors, pause."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from ledger.cli.context import AppContext
from ledger.errors import LedgerError
from ledger.protocol.money import MAX_AMOUNT, MAX_AMOUNT_TEXT
from ledger.protocol.types import ParticipantKind, Strategy

if TYPE_CHECKING:
    from ledger.operator import Operator

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

out = Console()
KeyOption = Annotated[
    str | None, typer.Option("--key", help="signing key source (default: the config's key)")
]


def _operator(ctx: typer.Context, key: str | None) -> Operator:
    from ledger.operator import Operator

    actx: AppContext = ctx.obj
    return Operator(actx.hub, actx.sender(key))


def _done(what: str, receipt: object) -> None:
    tx = receipt["transactionHash"]  # type: ignore[index]
    out.print(f"{what} (tx 0x{bytes(tx).hex()}, block {receipt['blockNumber']})")  # type: ignore[index]


participant_app = typer.Typer(help="Register, suspend and reinstate participants.", no_args_is_help=True)
app.add_typer(participant_app, name="participant")


@participant_app.command("register")
def register(
    ctx: typer.Context,
    address: str,
    kind: Annotated[str, typer.Argument(help="bank | wallet-provider")],
    name: str,
    key: KeyOption = None,
) -> None:
    """Register a bank or wallet provider."""
    kinds = {"bank": ParticipantKind.BANK, "wallet-provider": ParticipantKind.WALLET_PROVIDER}
    if kind not in kinds:
        raise typer.BadParameter("kind must be 'bank' or 'wallet-provider'", param_hint="KIND")
    _done(
        f"registered {name} ({address})", _operator(ctx, key).register_participant(address, kinds[kind], name)
    )


@participant_app.command("suspend")
def suspend(ctx: typer.Context, address: str, reason: str, key: KeyOption = None) -> None:
    """Suspend a participant: its new obligations (as payer or payee) are refused."""
    _done(f"suspended {address}", _operator(ctx, key).suspend(address, reason))


@participant_app.command("reinstate")
def reinstate(ctx: typer.Context, address: str, key: KeyOption = None) -> None:
    """Reinstate a suspended participant."""
    _done(f"reinstated {address}", _operator(ctx, key).reinstate(address))


@participant_app.command("identifiers")
def identifiers(
    ctx: typer.Context,
    address: str,
    bic: Annotated[str, typer.Option("--bic", help="ISO 9362, 8 or 11 characters; '' for none")] = "",
    lei: Annotated[str, typer.Option("--lei", help="ISO 17442, 20 characters; '' for none")] = "",
    key: KeyOption = None,
) -> None:
    """Set the BIC and LEI by which back offices and ISO 20022 messages name a participant
    (replacing what it had; each identifier names one participant only)."""
    from ledger.protocol.identifiers import normalise_bic, normalise_lei
    from ledger.protocol.references import InvalidFieldError

    for option, value, check in (("--bic", bic, normalise_bic), ("--lei", lei, normalise_lei)):
        if value:
            try:
                check(value)
            except InvalidFieldError as exc:
                raise typer.BadParameter(f"{value!r} {exc.reason} — {exc.fix}", param_hint=option) from None
    if not bic and not lei:
        out.print("[yellow]neither --bic nor --lei given: the participant's identifiers are cleared[/]")
    _done(
        f"identifiers of {address}: BIC {bic or '-'}, LEI {lei or '-'}",
        _operator(ctx, key).set_identifiers(address, bic, lei),
    )


@participant_app.command("show")
def show(ctx: typer.Context, address: str) -> None:
    """Kind, status and identifiers of a participant."""
    actx: AppContext = ctx.obj
    kind, status = actx.hub.participant(address)
    bic, lei = actx.hub.identifiers_of(address)
    out.print(f"{address}: {kind.name.lower()}, {status.name.lower()}", soft_wrap=True)
    out.print(f"  BIC {bic or '-'}, LEI {lei or '-'}", soft_wrap=True)


currency_app = typer.Typer(help="Currencies.", no_args_is_help=True)
app.add_typer(currency_app, name="currency")


@currency_app.command("register")
def register_currency(ctx: typer.Context, code: str, minor_units: int, key: KeyOption = None) -> None:
    """Register an ISO 4217 currency with its minor-unit exponent."""
    _done(f"registered {code}", _operator(ctx, key).register_currency(code, minor_units))


@currency_app.command("max-amount")
def currency_max_amount(
    ctx: typer.Context,
    code: str,
    maximum: Annotated[
        int | None, typer.Argument(help="minor units; omit to show the current maximum")
    ] = None,
    key: KeyOption = None,
) -> None:
    """Show or set the largest amount one obligation in CODE may carry (larger ones are refused at
    submission; a new currency starts at the protocol's maximum, 2^128 - 1)."""
    actx: AppContext = ctx.obj
    if maximum is None:
        out.print(f"{code}: at most {actx.hub.views.currency_max_amount(code)} minor units per obligation")
        return
    _done(
        f"{code}: at most {maximum} minor units per obligation",
        _operator(ctx, key).set_currency_max_amount(code, _bounded("maximum", maximum)),
    )


account_app = typer.Typer(help="Settlement accounts: funding, defunding, debit caps.", no_args_is_help=True)
app.add_typer(account_app, name="account")


def _bounded(what: str, amount: int) -> int:
    """``amount`` if it is within the protocol's bound; refused before anything is sent otherwise (the
    contract refuses it too: ``AmountTooLarge``). A fund within the bound can still be refused by the
    contract with ``TotalTooLarge`` when the currency's total would exceed ``MAX_AMOUNT``."""
    if amount > MAX_AMOUNT:
        raise LedgerError(
            f"{what} {amount} is above MAX_AMOUNT = {MAX_AMOUNT_TEXT} minor units, the protocol's bound "
            "for amounts, debit caps and a currency's total balance"
        )
    return amount


@account_app.command("fund")
def fund(
    ctx: typer.Context,
    address: str,
    currency: str,
    amount: Annotated[int, typer.Argument(help="minor units")],
    key: KeyOption = None,
) -> None:
    """Credit a settlement balance (money entering the system); a currency's total is at most 2**128 - 1."""
    _bounded("the amount", amount)
    _done(f"funded {address} {currency} {amount}", _operator(ctx, key).fund(address, currency, amount))


@account_app.command("defund")
def defund(
    ctx: typer.Context,
    address: str,
    currency: str,
    amount: Annotated[int, typer.Argument(help="minor units")],
    key: KeyOption = None,
) -> None:
    """Debit a settlement balance (money leaving the system)."""
    _bounded("the amount", amount)
    _done(f"defunded {address} {currency} {amount}", _operator(ctx, key).defund(address, currency, amount))


@account_app.command("cap")
def cap(
    ctx: typer.Context,
    address: str,
    currency: str,
    amount: Annotated[int, typer.Argument(help="minor units")],
    key: KeyOption = None,
) -> None:
    """Set a debit cap (intraday credit), at most 2**128 - 1 minor units."""
    _bounded("the debit cap", amount)
    _done(
        f"cap of {address} {currency} set to {amount}",
        _operator(ctx, key).set_debit_cap(address, currency, amount),
    )


@account_app.command("show")
def account_show(ctx: typer.Context, address: str, currency: str) -> None:
    """Balance and cap of one account."""
    actx: AppContext = ctx.obj
    balance, cap_ = actx.hub.account_of(address, currency)
    out.print(f"{address} {currency}: balance {balance}, debit cap {cap_}")


cycle_app = typer.Typer(help="Clearing cycles.", no_args_is_help=True)
app.add_typer(cycle_app, name="cycle")


@cycle_app.command("close")
def close(ctx: typer.Context, key: KeyOption = None) -> None:
    """Close the open cycle (the next one opens at once)."""
    actx: AppContext = ctx.obj
    current = actx.hub.current_cycle_id()
    _done(f"closed cycle {current}", _operator(ctx, key).close_cycle())


@cycle_app.command("cancel")
def cancel(ctx: typer.Context, cycle_id: int, reason: str, key: KeyOption = None) -> None:
    """Cancel the next cycle in line; all its obligations carry into the next cycle. A settling cycle
    unwinds first: the committee nodes reverse the positions applied so far, chunk by chunk."""
    _done(f"cancelled cycle {cycle_id}", _operator(ctx, key).cancel_cycle(cycle_id, reason))


@cycle_app.command("fail")
def fail(ctx: typer.Context, cycle_id: int, key: KeyOption = None) -> None:
    """Fail the next cycle in line once its settlement timeout has passed (any member may); all its
    obligations carry into the next cycle, no balance changes."""
    _done(f"failed cycle {cycle_id}", _operator(ctx, key).fail_cycle(cycle_id))


@cycle_app.command("timeout")
def timeout(ctx: typer.Context, seconds: int, key: KeyOption = None) -> None:
    """Set the settlement timeout after readiness (0: a cycle never fails on its own)."""
    _done(f"settlement timeout set to {seconds}s", _operator(ctx, key).set_settlement_timeout(seconds))


@cycle_app.command("duration")
def duration(ctx: typer.Context, seconds: int, key: KeyOption = None) -> None:
    """Set the automatic cycle length (0: close by the operator only)."""
    _done(f"cycle duration set to {seconds}s", _operator(ctx, key).set_cycle_duration(seconds))


@cycle_app.command("expiry")
def expiry(
    ctx: typer.Context,
    cycles: Annotated[
        int | None, typer.Argument(help="cycles after submission; 0 = never; omit to show")
    ] = None,
    key: KeyOption = None,
) -> None:
    """Show or set the obligation expiry: an obligation submitted to cycle s that has not settled by
    cycle s + CYCLES ends in that cycle's expired set instead of being deferred again."""
    actx: AppContext = ctx.obj
    if cycles is None:
        current = actx.hub.views.obligation_expiry()
        out.print(
            "obligations never expire" if current == 0 else f"obligations expire after {current} cycles"
        )
        return
    if cycles < 0:
        raise typer.BadParameter("CYCLES must be 0 (never) or more", param_hint="CYCLES")
    _done(f"obligation expiry set to {cycles} cycles", _operator(ctx, key).set_obligation_expiry(cycles))


@cycle_app.command("strategy")
def strategy(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="fifo | max-value")], key: KeyOption = None
) -> None:
    """Set the committee's gridlock-resolution strategy."""
    choices = {"fifo": Strategy.FIFO, "max-value": Strategy.MAX_VALUE}
    if name not in choices:
        raise typer.BadParameter("strategy must be fifo or max-value", param_hint="NAME")
    _done(f"strategy set to {name}", _operator(ctx, key).set_strategy(choices[name]))


@cycle_app.command("show")
def cycle_show(ctx: typer.Context, cycle_id: Annotated[int | None, typer.Argument()] = None) -> None:
    """A cycle's state (default: the open one)."""
    actx: AppContext = ctx.obj
    hub = actx.hub
    info = hub.cycle(cycle_id if cycle_id is not None else hub.current_cycle_id())
    out.print(
        f"cycle {info.cycle_id}: {info.status.name.lower()}, {info.count} obligations submitted, "
        f"next to finalise: {hub.next_cycle_to_finalize()}"
    )
    progress = hub.views.settlement()
    if progress.cycle_id == info.cycle_id:
        if progress.unwinding:
            out.print(f"unwinding: {progress.unwound} of {progress.applied} applied positions reversed")
        else:
            out.print(f"settling: {progress.applied} of {progress.count} net positions applied")


committee_app = typer.Typer(help="The oracle committee and auditors.", no_args_is_help=True)
app.add_typer(committee_app, name="committee")


ThresholdOption = Annotated[
    int | None,
    typer.Option(
        "--threshold",
        "-k",
        help="also set k, in the same transaction (needed when the current k is invalid for the new n)",
    ),
]


@committee_app.command("add")
def add_oracle(
    ctx: typer.Context, address: str, threshold: ThresholdOption = None, key: KeyOption = None
) -> None:
    """Add an oracle (starts a new committee epoch); refused if k would no longer be a majority."""
    operator = _operator(ctx, key)
    k = operator.plan_committee_change(1, 0, threshold)
    if k is None:
        _done(f"oracle {address} added", operator.add_oracle(address))
    else:
        _done(f"oracle {address} added, threshold {k}", operator.update_committee([address], [], k))


@committee_app.command("remove")
def remove_oracle(
    ctx: typer.Context, address: str, threshold: ThresholdOption = None, key: KeyOption = None
) -> None:
    """Remove an oracle (starts a new committee epoch); refused if k would exceed the members left."""
    operator = _operator(ctx, key)
    k = operator.plan_committee_change(0, 1, threshold)
    if k is None:
        _done(f"oracle {address} removed", operator.remove_oracle(address))
    else:
        _done(f"oracle {address} removed, threshold {k}", operator.update_committee([], [address], k))


@committee_app.command("threshold")
def threshold(ctx: typer.Context, k: int, key: KeyOption = None) -> None:
    """Set the number of approvals a result needs (2 <= k <= n, 2k > n)."""
    _done(f"threshold set to {k}", _operator(ctx, key).set_threshold(k))


@committee_app.command("add-auditor")
def add_auditor(ctx: typer.Context, address: str, key: KeyOption = None) -> None:
    """Grant the auditor role."""
    _done(f"auditor {address} added", _operator(ctx, key).add_auditor(address))


@committee_app.command("remove-auditor")
def remove_auditor(ctx: typer.Context, address: str, key: KeyOption = None) -> None:
    """Revoke the auditor role."""
    _done(f"auditor {address} removed", _operator(ctx, key).remove_auditor(address))


@app.command("pause")
def pause(ctx: typer.Context, key: KeyOption = None) -> None:
    """Emergency stop of submission and settlement."""
    _done("hub paused", _operator(ctx, key).pause())


@app.command("unpause")
def unpause(ctx: typer.Context, key: KeyOption = None) -> None:
    """Resume submission and settlement."""
    _done("hub unpaused", _operator(ctx, key).unpause())
