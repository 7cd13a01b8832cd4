"""``scripts/demo``: the devnet end to end.

1. ``devnet up``: anvil, the hub, the demo consortium and the three oracle processes (k = 2).
2. Cycle A: traffic from every participant (interbank, wallet top-ups, withdrawals and
   wallet-to-wallet, SGD and USD) plus payments that exceed their payers' liquidity; the operator
   closes the cycle and the committee settles it, deferring what cannot settle.
3. Cycle B carries the deferred obligations in, with new traffic and the counterparties' payments
   back, which give the short payers liquidity through netting; the committee settles it.
4. The indexer mirrors the chain into SQLite and the reconciliation reports are summarised: per-cycle
   gross, net and liquidity saving, net positions, the mirror against the contract's views, and
   Merkle proofs of a settled and a deferred obligation checked against the on-chain roots.

Exit status 0 when every check passes, 1 otherwise. Running it again adds two more cycles.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from typing import Any

from rich.console import Console
from rich.table import Table

from ledger.chain.client import ChainClient, TxSender
from ledger.chain.jsonrpc import JsonRpc
from ledger.chain.views import HubViews
from ledger.config import Settings, load_settings
from ledger.deploy import open_hub, read_deployment
from ledger.devnet.lifecycle import devnet_up
from ledger.devnet.oracles import start_oracles
from ledger.devnet.traffic import Payment, demo_traffic, gridlock_payments, unwind_payments
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.keys import dev_signer
from ledger.operator import Operator
from ledger.protocol.money import format_major
from ledger.protocol.types import CycleStatus
from ledger.recon.balances import balances_report
from ledger.recon.cycle import cycle_report
from ledger.recon.onchain import ChainReader
from ledger.recon.proof import obligation_proof
from ledger.recon.report import Report
from ledger.submit import validate_obligations
from ledger.submit.submitter import Submitter

log = logging.getLogger("ledger.demo")

#: how long the committee may take to settle a closed cycle before the demo gives up
SETTLE_TIMEOUT = 180.0


class Demo:
    def __init__(self, settings: Settings, console: Console) -> None:
        self.settings = settings
        self.console = console
        _, self.plan = devnet_up(settings)
        if not settings.devnet.oracles:  # the demo needs its committee whatever the setting
            start_oracles(settings, self.plan)
        self.client = ChainClient.from_settings(settings)
        self.deployment = read_deployment(settings.deployment_file)
        self.hub = open_hub(self.client, self.deployment)
        self.operator = Operator(self.hub, self._sender(self.plan.admin.key_index))
        self.names = {m.address.lower(): m.name for m in self.plan.participants}
        self.exponent = {c.code: c.minor_units for c in self.plan.currencies}
        self.tag = f"DEMO{int(time.time())}"

    def _sender(self, key_index: int) -> TxSender:
        return TxSender(self.client, dev_signer(key_index), self.settings.gas)

    # -- traffic and settlement -----------------------------------------------------------------

    def submit(self, payments: list[Payment]) -> int:
        by_payer: dict[int, list[dict[str, object]]] = defaultdict(list)
        payers = {}
        for p in payments:
            by_payer[p.payer.key_index].append(p.item)
            payers[p.payer.key_index] = p.payer
        total = 0
        for key_index in sorted(by_payer):
            payer = payers[key_index]
            rows = validate_obligations(by_payer[key_index], payer=payer.address)
            report = Submitter(self.hub, self._sender(key_index)).submit(rows)
            total += report.submitted
            log.info("%-14s submitted %3d obligations in %d tx", payer.name, report.submitted, report.batches)
        return total

    def close_and_settle(self) -> int:
        cycle_id = self.hub.current_cycle_id()
        self.operator.close_cycle()
        started = time.monotonic()
        with self.console.status(f"cycle {cycle_id} closed; waiting for the oracle committee (k=2 of 3)"):
            while (status := self.hub.cycle(cycle_id).status) is not CycleStatus.SETTLED:
                if (
                    status in (CycleStatus.FAILED, CycleStatus.CANCELLED)
                    or time.monotonic() - started > SETTLE_TIMEOUT
                ):
                    logs = self.settings.devnet.state_dir / "oracles"
                    raise SystemExit(
                        f"cycle {cycle_id} is {status.name.lower()}, not settled: see {logs}/*.log"
                    )
                time.sleep(0.25)
        log.info("cycle %d settled by the committee in %.1f s", cycle_id, time.monotonic() - started)
        return cycle_id

    def run_cycles(self) -> list[int]:
        first = self.hub.current_cycle_id()
        sent = self.submit(
            demo_traffic(self.plan, first, self.tag) + gridlock_payments(self.plan, first, self.tag)
        )
        log.info("cycle %d: %d obligations from %d participants", first, sent, len(self.plan.participants))
        cycle_a = self.close_and_settle()
        second = self.hub.current_cycle_id()
        sent = self.submit(
            demo_traffic(self.plan, second, self.tag) + unwind_payments(self.plan, second, self.tag)
        )
        log.info("cycle %d: %d new obligations plus the deferred ones carried in", second, sent)
        cycle_b = self.close_and_settle()
        return [cycle_a, cycle_b]

    # -- index and reconcile --------------------------------------------------------------------

    def index(self) -> None:
        engine = make_engine(self.settings.database_url)
        indexer = Indexer(
            engine,
            self.settings.rpc_url,
            self.deployment,
            IndexerOptions(max_blocks=self.settings.log_range_blocks),
        )
        progress = indexer.run_once()
        log.info(
            "indexed %d events to block %d into %s",
            progress.events,
            progress.last_block,
            self.settings.database_url,
        )

    def money(self, amount: int, currency: str) -> str:
        return format_major(amount, self.exponent.get(currency, 0))

    def reconcile(self, cycles: list[int]) -> bool:
        engine = make_engine(self.settings.database_url, read_only=True)
        views = HubViews(JsonRpc(self.settings.rpc_url), self.deployment.hub)
        checks: list[tuple[str, bool]] = []
        with engine.connect() as conn:
            chain = ChainReader(JsonRpc(self.settings.rpc_url), self.deployment.hub)
            reports = {c: cycle_report(conn, c, chain) for c in cycles}
            self._cycles_table(reports)
            self._positions_table(cycles[0], reports[cycles[0]])
            for cycle_id, report in reports.items():
                checks.append(
                    (
                        f"cycle {cycle_id}: net positions recomputed from the mirrored obligations equal "
                        f"those settled on chain ({len(report.rows)} positions)",
                        report.clean,
                    )
                )
            balances = balances_report(conn, views)
            checks.append(
                (
                    f"balances replayed from events equal the contract's accounts at block "
                    f"{balances.as_of_block} ({len(balances.rows)} accounts)",
                    balances.clean,
                )
            )
            checks += self._proofs(conn, views, cycles[0])
        table = Table("check", "result", title="Reconciliation", title_justify="left")
        for label, ok in checks:
            table.add_row(label, "[green]ok[/]" if ok else "[bold red]FAILED[/]")
        self.console.print(table)
        return all(ok for _, ok in checks)

    def _cycles_table(self, reports: dict[int, Report]) -> None:
        table = Table(
            "cycle",
            "settled",
            "deferred",
            "currency",
            "gross value",
            "net value",
            "liquidity saving",
            title="Settled cycles (from the SQL mirror)",
            title_justify="left",
        )
        for cycle_id, report in reports.items():
            s = report.summary
            for n, currency in enumerate(sorted(self.exponent)):
                if f"gross_value_{currency}" not in s:
                    continue
                saving = str(s[f"liquidity_saving_{currency}"]).split("≈ ")[-1].rstrip(")")
                table.add_row(
                    *(
                        [str(cycle_id), str(s["settled_count"]), str(s["deferred_count"])]
                        if n == 0
                        else ["", "", ""]
                    ),
                    currency,
                    self.money(s[f"gross_value_{currency}"], currency),
                    self.money(s[f"net_value_{currency}"], currency),
                    f"{saving}x",
                )
        self.console.print(table)

    def _positions_table(self, cycle_id: int, report: Report) -> None:
        currencies = sorted(self.exponent)
        table = Table(
            "participant",
            *(f"net {c}" for c in currencies),
            title=f"Cycle {cycle_id} net positions on chain (+ receives)",
            title_justify="left",
        )
        nets: dict[str, dict[str, int]] = defaultdict(dict)
        for row in report.rows:
            nets[row["participant"]][row["currency"]] = row["net_on_chain"]
        for address in sorted(nets, key=lambda a: self.names.get(a, a)):
            table.add_row(
                self.names.get(address, address),
                *(self.money(nets[address].get(c, 0), c) for c in currencies),
            )
        self.console.print(table)

    def _proofs(self, conn: Any, views: HubViews, cycle_id: int) -> list[tuple[str, bool]]:
        """Proofs for the large payments of ``cycle_id``: settled at once, settled after being carried,
        and still deferred - each checked against the root on chain and by ``verifyObligation``."""
        out = []
        seen: set[tuple[str, int]] = set()
        payer = {"ember": self.plan.member("Ember Bank"), "moss": self.plan.member("Moss Wallet")}
        for suffix in ("ember-large-0", "ember-large-1", "ember-large-2", "ember-large-3", "moss-huge"):
            reference = f"{self.tag}-c{cycle_id}-{suffix}"
            proof: dict[str, Any] = obligation_proof(
                conn, views, reference, payer[suffix.split("-")[0]].address
            )
            if (proof["set"], proof["cycleId"]) in seen:
                continue
            seen.add((proof["set"], proof["cycleId"]))
            ok = bool(proof["root_matches_chain"] and proof["verifyObligation"])
            out.append(
                (
                    f"{reference}: in cycle {proof['cycleId']}'s {proof['set']} set; its Merkle proof "
                    "verifies against the on-chain root",
                    ok,
                )
            )
        return out


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for chatty in ("ledger.submit", "alembic"):  # per-batch and migration lines: the demo summarises them
        logging.getLogger(chatty).setLevel(logging.WARNING)
    console = Console() if sys.stdout.isatty() else Console(width=130)
    settings = load_settings()
    demo = Demo(settings, console)
    cycles = demo.run_cycles()
    demo.index()
    ok = demo.reconcile(cycles)
    console.print(
        "\nExplore: [bold]ledger recon cycle {0}[/], [bold]ledger recon proof {1}-c{0}-moss-huge "
        "--payer {2}[/], [bold]ledger serve[/] (auditor page), [bold]ledger devnet down[/].".format(
            cycles[0], demo.tag, demo.plan.member("Moss Wallet").address
        )
    )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
