"""Obligations per second from a CSV to confirmed on anvil, against the naive baseline.

    .venv/bin/python benchmarks/submit_throughput.py [--rows 100000] [--baseline-rows 2000]

Ours: ``ledger submit``'s path — validate the whole CSV, packed ``submitBatch`` records, batches
sized to the block gas limit, up to 32 transactions in flight — measured from reading the file to
the last receipt. Baseline: one web3.py ``contract.functions.submit(...).transact()`` per
obligation (anvil's unlocked account, web3 does estimation, encoding and waiting), measured in the
same run on ``--baseline-rows`` rows. Prints both rates, their ratio and gas per obligation.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from ledger.devnet.anvil import terminate
from ledger.submit import load_obligations
from ledger.submit.submitter import Submitter
from tests.support.devnet import deploy_devnet, hub_artifact, start_anvil


def write_csv(path: Path, n: int, payees: list[str], prefix: str) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["reference", "payee", "currency", "amount", "type"])
        for i in range(n):
            # bank systems number payments: a counter as a 0x bytes32 shares a bitmap word per 256
            out.writerow([f"0x{i + 1:064x}", payees[i % len(payees)], "SGD", 100 + i % 9_000, "interbank"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--baseline-rows", type=int, default=2_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        node = start_anvil(tmp, "--gas-limit", "30000000")
        try:
            net = deploy_devnet(node, hub_artifact(), tmp)
            payer = net.plan.banks[0]
            payees = [b.address for b in net.plan.banks[1:]]
            path = tmp / "obligations.csv"
            write_csv(path, args.rows, payees, "B")

            started = time.perf_counter()
            rows = load_obligations(path, payer=payer.address, known_currencies={"SGD", "USD"})
            validated = time.perf_counter()
            report = Submitter(net.hub, net.sender(payer)).submit(rows)
            finished = time.perf_counter()
            assert report.submitted == args.rows
            ours_rate = args.rows / (finished - started)

            # Baseline: one transact per obligation, the way a quick web3.py script would do it.
            w3 = net.client.w3
            payer2 = net.plan.banks[1]
            contract = w3.eth.contract(address=net.hub.address, abi=net.hub.abi.abi)
            base_started = time.perf_counter()
            hashes = []
            for i in range(args.baseline_rows):
                ref = (i + 1).to_bytes(32, "big")
                hashes.append(
                    contract.functions.submit(
                        (payees[2], b"SGD", 0, 100 + i, ref, b"\0" * 32, b"\0" * 32)
                    ).transact({"from": payer2.address})
                )
            gas_base = sum(w3.eth.wait_for_transaction_receipt(h)["gasUsed"] for h in hashes)
            base_rate = args.baseline_rows / (time.perf_counter() - base_started)
        finally:
            terminate(node.pid)

    print(f"rows                      {args.rows:,} (baseline {args.baseline_rows:,})")
    print(f"validate CSV              {validated - started:.2f} s")
    print(f"submit to confirmed       {finished - validated:.2f} s in {report.batches} transactions")
    print(f"ours, CSV -> confirmed    {ours_rate:,.0f} obligations/s")
    print(f"baseline, transact each   {base_rate:,.0f} obligations/s")
    print(f"ratio                     {ours_rate / base_rate:,.1f}x")
    gas_baseline = gas_base / args.baseline_rows
    print(f"gas per obligation        ours {report.gas_per_obligation:,.0f}, baseline {gas_baseline:,.0f}")


if __name__ == "__main__":
    main()
