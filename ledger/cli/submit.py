"""``ledger submit FILE``: validate the whole file, then send what is not on chain yet."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ledger.cli.context import AppContext
from ledger.errors import LedgerError
from ledger.protocol.types import ParticipantKind, ParticipantStatus

if TYPE_CHECKING:
    from ledger.submit.models import ObligationRow

#: this module's commands; ``ledger.cli.main`` adds them to the ``ledger`` command
app = typer.Typer()

out = Console()


def _load_iso20022(  # noqa: PLR0917 - the chain's registry, read once by the caller
    actx: AppContext,
    file: Path,
    payer: str,
    currencies: dict[str, int],
    active: set[str],
    kinds: dict[str, ParticipantKind],
    max_amounts: dict[str, int],
) -> list[ObligationRow]:
    """Rows of a pacs.008 / pacs.009 file, agents resolved through the hub's BIC/LEI registry, with
    the hub's own refusals (inactive payee, amount above the currency's maximum) checked first."""
    from ledger.chain.hub import IdentifierResolver
    from ledger.iso20022 import parse_credit_transfer
    from ledger.submit.models import FileValidationError, RowError

    try:
        data = file.read_bytes()
    except OSError as exc:
        raise LedgerError(f"{file}: cannot read the file ({exc.strerror})") from None
    message = parse_credit_transfer(
        data,
        payer=payer,
        resolver=IdentifierResolver(actx.hub),
        minor_units=currencies,
        participant_kinds=kinds,
        source=file,
    )
    problems = []
    for row in message.rows:
        if row.payee.lower() not in active:
            problems.append(
                RowError(row.line, "InstdAgt", row.payee, "is not an active participant", "check the agent")
            )
        limit = max_amounts.get(row.currency)
        if limit is not None and row.amount > limit:
            problems.append(
                RowError(
                    row.line,
                    "IntrBkSttlmAmt",
                    str(row.amount),
                    f"is above the {row.currency} maximum per obligation ({limit} minor units)",
                    "split the payment or ask the operator",
                )
            )
    if problems:
        raise FileValidationError(str(file), problems)
    return list(message.rows)


@app.command("submit")
def submit(  # noqa: PLR0917 - Typer options
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="obligations file (.csv, .json, or ISO 20022 pacs.008/pacs.009 .xml)")
    ],
    key: Annotated[str | None, typer.Option("--key", help="the payer's key source")] = None,
    major_units: Annotated[
        bool, typer.Option("--major-units", help="amounts are decimal major units (12.50)")
    ] = False,
    batch_size: Annotated[
        int | None, typer.Option(help="records per transaction (default: from block gas)")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="validate and report, send nothing")] = False,
) -> None:
    """Submit obligations paid by the signing participant. All-or-nothing validation; re-runnable."""
    from ledger.submit.files import load_obligations
    from ledger.submit.submitter import Submitter

    actx: AppContext = ctx.obj
    hub = actx.hub
    sender = actx.sender(key)
    start, log_range = actx.deployment.start_block, actx.settings.log_range_blocks
    currencies = hub.registered_currencies(start, log_range)
    registry = hub.participant_registry(start, log_range)
    me = registry.get(sender.address.lower())
    if me is None or me[1] is not ParticipantStatus.ACTIVE:
        state = "not a registered participant" if me is None else "suspended"
        raise LedgerError(
            f"the signing key {sender.address} is {state}: the hub would refuse every obligation"
        )
    active = {a for a, (_, status) in registry.items() if status is ParticipantStatus.ACTIVE}
    kinds = {a: kind for a, (kind, _) in registry.items()}
    max_amounts = {code: hub.views.currency_max_amount(code) for code in sorted(currencies)}
    if file.suffix.lower() == ".xml":
        rows = _load_iso20022(actx, file, sender.address, currencies, active, kinds, max_amounts)
    else:
        # Checked here, with line numbers, what the hub would refuse at the first bad row only.
        rows = load_obligations(
            file,
            payer=sender.address,
            major_units=major_units,
            minor_units=currencies,
            known_currencies=set(currencies),
            known_participants=active,
            participant_kinds=kinds,
            max_amounts=max_amounts,
        )
    submitter = Submitter(hub, sender, max_records=batch_size, history_from=start, log_range=log_range)
    if dry_run:
        todo = submitter.pending(rows)
        submitter.check_reused(rows, todo, file)
        out.print(
            f"{file}: {len(rows)} valid obligations, {len(rows) - len(todo)} already on chain, "
            f"{len(todo)} would be sent"
        )
        return
    with Progress(
        TextColumn("[bold]submitting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=out,
    ) as bar:
        task = bar.add_task("submit", total=len(rows), rate="")
        started = bar.get_time()

        def advance(count: int) -> None:
            done = bar.tasks[task].completed + count
            elapsed = max(bar.get_time() - started, 1e-9)
            bar.update(task, completed=done, rate=f"{done / elapsed:,.0f} obligations/s")

        report = submitter.submit(rows, progress=advance, source=file)
        bar.update(task, completed=len(rows))
    out.print(
        f"{report.submitted} obligations sent in {report.batches} transactions "
        f"({report.already_on_chain} already on chain); {report.obligations_per_second:,.0f} obligations/s, "
        f"{report.gas_per_obligation:,.0f} gas per obligation"
    )


@app.command("recall")
def recall(
    ctx: typer.Context,
    references: Annotated[list[str], typer.Argument(help="references of obligations the signer submitted")],
    key: Annotated[str | None, typer.Option("--key", help="the payer's key source")] = None,
) -> None:
    """Recall obligations the signing participant submitted and that have not settled yet.

    The requests are recorded in the open cycle; the first cycle from then on that settles takes every
    named obligation that is still outstanding out of the clearing (its recalled set). One that settled
    or expired before is not affected: check with ``ledger recon proof REF`` once the cycle settled.
    """
    from ledger.submit.models import encode_reference

    actx: AppContext = ctx.obj
    hub = actx.hub
    sender = actx.sender(key)
    refs = [
        bytes.fromhex(r[2:]) if r.startswith(("0x", "0X")) and len(r) == 66 else encode_reference(r)
        for r in references
    ]
    used = hub.views.references_used(sender.address.lower(), refs)
    unknown = [r for r, seen in zip(references, used, strict=True) if not seen]
    if unknown:
        raise LedgerError(
            f"{sender.address} never submitted {', '.join(repr(r) for r in unknown)}: nothing to recall "
            "(references are the payer's own; check the signing key)"
        )
    cycle = hub.current_cycle_id()
    receipt = hub.transact(sender, "recall", refs)
    tx = bytes(receipt["transactionHash"]).hex()
    out.print(
        f"{len(refs)} recall request(s) recorded in cycle {cycle} (tx 0x{tx}); they take effect when a "
        "cycle from then on settles"
    )
