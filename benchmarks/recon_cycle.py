"""`recon cycle` over a settled cycle of N obligations (default 1,000,000) on PostgreSQL, against a
naive GROUP BY over the obligations table measured in the same run.

Builds the chain itself (the same packed ``submitBatch`` transactions as ``index_backfill.py``),
closes the cycle, settles it with the committee stand-in (``tests.support.committee.CommitteeSim``:
clears the cycle, computes the Merkle roots, approves from k oracles), mirrors it with the indexer
(which re-clears the cycle, verifies the roots and stores per participant/currency totals), then:

* ``recon cycle`` in process: ``cycle_report`` + rendering, on a read-only engine as the CLI opens
  it (a new connection each time), best and median of ``--repeat`` runs;
* BASELINE: the same gross paid/received figures by GROUP BY over the cycle's settled obligations
  (checked equal to what the report shows), best and median of ``--repeat`` runs;
* ``recon cycle`` proving against the chain (``cycle_report`` with a ``ChainReader``: the cycle's
  obligations summed and hashed into the hub's roots, the nets read from its logs), which is what
  the CLI runs;
* the whole CLI, ``ledger recon cycle 1`` in a subprocess, next to ``ledger --help`` (the
  interpreter's and the CLI's start-up alone), for what an operator waits for end to end.

    .venv/bin/python benchmarks/recon_cycle.py [--obligations 1000000] [--repeat 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support
from index_backfill import build_chain, dense_devnet

from ledger.chain.jsonrpc import JsonRpc
from ledger.devnet.anvil import terminate
from ledger.index.db import make_engine
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.recon.cycle import cycle_report
from ledger.recon.onchain import ChainReader
from ledger.recon.report import render
from tests.support.committee import CommitteeSim
from tests.support.mirror import fresh_postgres_url

NAIVE = """
SELECT participant, currency, SUM(paid), SUM(received), SUM(paid_count), SUM(received_count) FROM (
    SELECT payer AS participant, currency, amount AS paid, 0 AS received, 1 AS paid_count,
           0 AS received_count
    FROM obligations WHERE settled_cycle = :c
    UNION ALL
    SELECT payee, currency, 0, amount, 0, 1 FROM obligations WHERE settled_cycle = :c
) flows GROUP BY participant, currency
"""


def naive_totals(conn: Connection, cycle_id: int) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    """The BASELINE, plain SQL on PostgreSQL: its SUMs are NUMERIC, read as exact Decimals."""
    return {
        (p, c): (int(paid), int(received), int(pc), int(rc))
        for p, c, paid, received, pc, rc in conn.execute(text(NAIVE), {"c": cycle_id})
    }


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Best and median seconds of ``repeat`` calls, and the last result."""
    seconds = []
    result = None
    for _ in range(repeat):
        began = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - began)
    return min(seconds), statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--obligations", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    devnet = dense_devnet(Path(tempfile.mkdtemp(prefix="bench-recon-")))
    node = devnet.node
    try:
        seconds = build_chain(devnet, args.obligations, args.batch)
        print(f"chain: {args.obligations:,} obligations submitted to cycle 1 in {seconds:.1f}s")
        devnet.operator.close_cycle()
        began = time.perf_counter()
        settled, deferred = CommitteeSim(devnet.hub, devnet.deployment.start_block).settle(
            1, [devnet.sender(o) for o in devnet.plan.oracles[:2]]
        )
        print(
            f"cycle 1 settled on chain: {len(settled):,} settled, {len(deferred):,} deferred "
            f"(clearing, roots and approvals in {time.perf_counter() - began:.1f}s)"
        )
        url = fresh_postgres_url()
        began = time.perf_counter()
        progress = Indexer(make_engine(url), node.url, devnet.deployment, IndexerOptions()).run_once()
        print(
            f"mirrored into PostgreSQL: {progress.events:,} events in {time.perf_counter() - began:.1f}s "
            "(including the indexer's own re-clearing and root check of the cycle)"
        )
        engine = make_engine(url, read_only=True)
        with engine.connect() as conn:
            check = conn.execute(text("SELECT status_check FROM settlements WHERE cycle_id = 1")).scalar()
            assert check == "verified", check
            settled_rows = conn.execute(
                text("SELECT COUNT(*) FROM obligations WHERE settled_cycle = 1")
            ).scalar_one()
        print(f"settlement verified by the indexer; {settled_rows:,} obligations settled in cycle 1")

        def recon() -> Any:
            with engine.connect() as conn:
                report = cycle_report(conn, 1)
                render(report, "table")
            return report

        reader = ChainReader(JsonRpc(node.url), devnet.hub.address)

        def proving() -> Any:
            with engine.connect() as conn:
                report = cycle_report(conn, 1, reader)
                render(report, "table")
            return report

        def naive() -> Any:
            with engine.connect() as conn:
                return naive_totals(conn, 1)

        recon()  # first use of the engine's pool and of the rendering imports, outside the timings
        report_best, report_median, report = timed(recon, args.repeat)
        naive_best, naive_median, totals = timed(naive, args.repeat)
        proving_best, proving_median, proven = timed(proving, max(1, args.repeat // 3))
        assert proven.clean, proven.discrepancies
        shown = {
            (r["participant"], r["currency"]): (
                r["gross_paid"],
                r["gross_received"],
                r["paid_count"],
                r["received_count"],
            )
            for r in report.rows
            if r["paid_count"] or r["received_count"]
        }
        assert shown == totals, (shown, totals)
        assert not report.discrepancies, report.discrepancies
        assert sum(v[2] for v in totals.values()) == settled_rows

        env = {
            **os.environ,
            "LEDGER_RPC_URL": node.url,
            "LEDGER_CHAIN_ID": "31337",
            "LEDGER_DEPLOYMENT_FILE": str(devnet.settings.deployment_file),
            "LEDGER_DATABASE_URL": url,
        }
        cli = [sys.executable, "-c", "from ledger.cli.main import run; run()"]

        def run_cli(*argv: str) -> None:
            subprocess.run([*cli, *argv], env=env, check=True, capture_output=True, timeout=120)

        cli_best, cli_median, _ = timed(lambda: run_cli("recon", "cycle", "1"), 5)
        startup_best, startup_median, _ = timed(lambda: run_cli("--help"), 5)

        print(f"\ncycle of {settled_rows:,} settled obligations, PostgreSQL, best / median of {args.repeat}:")
        print(
            f"  BASELINE GROUP BY over obligations: {naive_best * 1e3:8.1f} ms / {naive_median * 1e3:8.1f} ms"
        )
        print(
            f"  recon cycle (report + rendering):   {report_best * 1e3:8.1f} ms / "
            f"{report_median * 1e3:8.1f} ms"
            f"   -> {naive_median / report_median:,.0f}x faster than the baseline (medians); "
            f"limit 200 ms: {'met' if report_median <= 0.2 else 'MISSED'}"
        )
        print(
            f"  recon cycle proving against the chain (obligations summed and hashed into the roots, nets "
            f"from the logs), best / median of {max(1, args.repeat // 3)}: {proving_best * 1e3:.0f} ms / "
            f"{proving_median * 1e3:.0f} ms ({proving_median / naive_median:.1f}x the baseline)"
        )
        print(
            f"  whole CLI `ledger recon cycle 1` (subprocess, proving), best / median of 5: "
            f"{cli_best * 1e3:.0f} ms / "
            f"{cli_median * 1e3:.0f} ms, of which start-up (`ledger --help`) {startup_best * 1e3:.0f} ms / "
            f"{startup_median * 1e3:.0f} ms"
        )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        terminate(node.pid)


if __name__ == "__main__":
    main()
