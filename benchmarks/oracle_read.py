"""Benchmark: how fast an oracle node reads a cycle's obligations from the chain.

    .venv/bin/python benchmarks/oracle_read.py [--obligations 200000]

Builds an anvil chain of ``--obligations`` ``ObligationSubmitted`` events (packed ``submitBatch``,
2,000 per transaction, as ``index_backfill.py`` does), then reads them all, in the same run:

* the node's reader, ``oracle.node.chainview.ChainView.obligations`` (plain JSON-RPC, log-count-sized
  ranges, orjson, decoded straight from the hex);
* BASELINE: web3.py ``eth.get_logs`` over 5,000-block ranges + the same decoder (what the node did
  before), on the same blocks;
* RAW: the transport alone (fetch + parse, no decode), the ceiling.

Both readers must return the same obligations in the same order (checked).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from index_backfill import build_chain, dense_devnet, fast_raw_rate

from ledger.devnet.anvil import terminate
from ledger.protocol.record import ObligationRecord, decode_submitted
from oracle.node.chainview import ChainView


def web3_read(view: ChainView, start: int, end: int, span: int = 5_000) -> list[ObligationRecord]:
    out: list[ObligationRecord] = []
    topic = "0x" + view.topic_submitted.hex()
    for first in range(start, end + 1, span):
        params: Any = {
            "address": view.hub.address,
            "topics": [topic],
            "fromBlock": first,
            "toBlock": min(first + span - 1, end),
        }
        logs = view.client.w3.eth.get_logs(params)
        out.extend(decode_submitted(e) for e in logs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--obligations", type=int, default=200_000)
    args = ap.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    devnet = dense_devnet(Path(tempfile.mkdtemp(prefix="bench-oracle-read-")))
    node = devnet.node
    try:
        built = build_chain(devnet, args.obligations, 2_000)
        start, head = devnet.deployment.start_block, devnet.client.block_number()
        print(f"chain: {args.obligations:,} obligations in {head - start} blocks, built in {built:.1f}s")
        view = ChainView(devnet.hub)

        t = time.perf_counter()
        ours = list(view.obligations(start, head))
        t_ours = time.perf_counter() - t
        t = time.perf_counter()
        base = web3_read(view, start, head)
        t_base = time.perf_counter() - t
        if ours != base:
            raise SystemExit("the node's reader and the web3 baseline disagree")
        raw_count, t_raw = fast_raw_rate(node.url, devnet.hub.address, start, head, 20_000)

        n = len(ours)
        print(f"  BASELINE web3 get_logs + decode   {n:,} in {t_base:6.2f} s = {n / t_base:9,.0f}/s")
        print(
            f"  ChainView.obligations              {n:,} in {t_ours:6.2f} s = {n / t_ours:9,.0f}/s"
            f"   ({t_base / t_ours:.1f}x the baseline)"
        )
        print(
            f"  RAW fetch + parse (no decode)      {raw_count:,} logs in {t_raw:6.2f} s "
            f"= {raw_count / t_raw:9,.0f}/s"
        )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        terminate(node.pid)


if __name__ == "__main__":
    main()
