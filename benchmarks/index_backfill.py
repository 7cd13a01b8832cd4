"""Backfill benchmark: index N ObligationSubmitted events (default 1,000,000) from a local anvil into
SQLite and PostgreSQL, against, measured in the same run on the same chain:

* RAW: the rate at which the same logs can merely be fetched and JSON-parsed, twice: (a) plain
  ``requests`` POSTs + ``json.loads`` with ranges of about 20,000 logs (the issue's yardstick), and
  (b) the indexer's own transport (one-piece reads, orjson) with ranges of ``--target-logs`` logs, the
  fastest fetch+parse this code knows - the indexer's rate is printed as a fraction of both;
* BASELINE: web3.py's ``get_logs`` + ``process_log`` on a sample of about 20,000 logs.

Builds the chain itself with pre-encoded packed ``submitBatch`` transactions from the five demo banks
(2,000 obligations per transaction and block). Each backend is indexed ``--repeat`` times into a fresh
database; best and median are printed.

    .venv/bin/python benchmarks/index_backfill.py [--obligations 1000000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support

from ledger.chain.client import TxSender
from ledger.chain.jsonrpc import JsonRpc, LogSource
from ledger.devnet.anvil import free_port, launch, terminate
from ledger.index.db import make_engine
from ledger.index.decode import EventDecoder
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.keys import dev_signer
from ledger.submit.submitter import submit_batch_calldata
from tests.support.devnet import Devnet, deploy_devnet, hub_artifact
from tests.support.mirror import fresh_postgres_url


def dense_devnet(tmp: Path) -> Devnet:
    """A fresh anvil in ``tmp`` with room for 2,000-obligation transactions (300M gas blocks), the hub
    deployed and the demo consortium registered. Stop it with ``terminate(devnet.node.pid)``."""
    _, node = launch(
        port=free_port(),
        accounts=20,
        log_file=tmp / "anvil.log",
        extra_args=("--gas-limit", "300000000", "--disable-code-size-limit"),
    )
    try:
        return deploy_devnet(node, hub_artifact(), tmp)
    except BaseException:
        terminate(node.pid)
        raise


def build_chain(devnet: Devnet, total: int, batch: int) -> float:
    banks = devnet.plan.banks
    senders = [TxSender(devnet.client, dev_signer(b.key_index), devnet.settings.gas) for b in banks]
    for s in senders:
        s.sync_nonce()
        s.refresh_fees()
    payees = [bytes.fromhex(b.address[2:]) for b in banks]
    started = time.perf_counter()
    sent = 0
    pending: list[tuple[TxSender, str, bytes]] = []
    counter = [0] * len(banks)
    k = 0
    while sent < total:
        i = k % len(banks)
        k += 1
        n = min(batch, total - sent)
        payee = payees[(i + 1) % len(banks)]
        records = b"".join(
            payee
            + b"SGD"
            + b"\x00"
            + (1 + (counter[i] + j) % 97).to_bytes(32, "big")
            + (counter[i] + j + 1).to_bytes(32, "big")
            for j in range(n)
        )
        counter[i] += n
        data = submit_batch_calldata(records)
        tx = senders[i].send(devnet.hub.address, data, gas=min(n * 9_000 + 400_000, 290_000_000))
        pending.append((senders[i], tx, data))
        sent += n
        if len(pending) >= 20:
            s, h, d = pending.pop(0)
            s.wait([(h, devnet.hub.address, d)])
    for s, h, d in pending:
        s.wait([(h, devnet.hub.address, d)])
    return time.perf_counter() - started


def raw_rate(url: str, hub: str, start: int, end: int, per_request_blocks: int) -> tuple[int, float]:
    session = requests.Session()
    count = 0
    began = time.perf_counter()
    block = start
    while block <= end:
        to = min(end, block + per_request_blocks - 1)
        body: Any = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_getLogs",
            "params": [{"address": hub, "fromBlock": hex(block), "toBlock": hex(to)}],
        }
        reply = json.loads(session.post(url, json=body, timeout=300).content)
        count += len(reply["result"])
        block = to + 1
    return count, time.perf_counter() - began


def fast_raw_rate(url: str, hub: str, start: int, end: int, target_logs: int) -> tuple[int, float]:
    """Fetch + parse only, with the indexer's transport and log-count-sized ranges (no decode, no DB)."""
    source = LogSource(JsonRpc(url, timeout=300), hub.lower(), max_blocks=100_000, target_logs=target_logs)
    count = 0
    began = time.perf_counter()
    block = start
    while block <= end:
        result = source.fetch(block, end)
        count += len(result.logs)
        block = result.end + 1
    return count, time.perf_counter() - began


def web3_rate(devnet: Devnet, start: int, sample_blocks: int) -> tuple[int, float]:
    event = devnet.hub.contract.events.ObligationSubmitted()
    topic = EventDecoder().obligation_topic
    began = time.perf_counter()
    logs = devnet.client.w3.eth.get_logs(
        {
            "address": devnet.hub.address,
            "fromBlock": start,
            "toBlock": start + sample_blocks - 1,
            "topics": [topic],
        }
    )
    decoded = [event.process_log(entry) for entry in logs]
    return len(decoded), time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--obligations", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=1, help="backfills per backend (fresh database each)")
    parser.add_argument("--target-logs", type=int, default=IndexerOptions.target_logs)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    devnet = dense_devnet(tmp)
    node = devnet.node
    try:
        seconds = build_chain(devnet, args.obligations, args.batch)
        head = devnet.client.block_number()
        start = devnet.deployment.start_block
        print(f"chain: {args.obligations:,} obligations in {head - start} blocks, built in {seconds:.1f}s")
        per_block = max(1, args.obligations // max(head - start, 1))
        raw_count, raw_seconds = raw_rate(
            node.url, devnet.hub.address, start, head, max(1, 20_000 // per_block)
        )
        raw = raw_count / raw_seconds
        print(
            f"RAW (a) requests + json.loads, ~20,000 logs/request: {raw_count:,} logs in {raw_seconds:.2f}s "
            f"= {raw:,.0f} logs/s"
        )
        fast_count, fast_seconds = fast_raw_rate(node.url, devnet.hub.address, start, head, args.target_logs)
        fast = fast_count / fast_seconds
        print(
            f"RAW (b) indexer transport + orjson, ~{args.target_logs:,} logs/request: {fast_count:,} logs in "
            f"{fast_seconds:.2f}s = {fast:,.0f} logs/s"
        )
        sample_blocks = max(1, 20_000 // per_block)
        w3_count, w3_seconds = web3_rate(devnet, max(start, head - sample_blocks + 1), sample_blocks)
        w3 = w3_count / w3_seconds
        print(
            f"BASELINE web3 get_logs + process_log (sample): {w3_count:,} events in {w3_seconds:.2f}s "
            f"= {w3:,.0f}/s"
        )
        backends: list[tuple[str, Callable[[int], str]]] = []
        if not args.skip_sqlite:
            backends.append(("sqlite", lambda i: f"sqlite:///{tmp / f'bench{i}.db'}"))
        if not args.skip_postgres:
            backends.append(("postgresql", lambda _: fresh_postgres_url()))
        for name, make_url in backends:
            rates = []
            for i in range(args.repeat):
                engine = make_engine(make_url(i))
                indexer = Indexer(
                    engine, node.url, devnet.deployment, IndexerOptions(target_logs=args.target_logs)
                )
                began = time.perf_counter()
                progress = indexer.run_once()
                elapsed = time.perf_counter() - began
                assert progress.last_block == head
                rates.append(progress.events / elapsed)
                print(
                    f"  indexer -> {name}: {progress.events:,} events in {elapsed:.2f}s = {rates[-1]:,.0f}/s"
                )
                engine.dispose()
            best, median = max(rates), statistics.median(rates)
            print(
                f"indexer -> {name}: best {best:,.0f} events/s, median {median:,.0f} of {len(rates)}; "
                f"median = {median / raw:.2f} of RAW (a), {median / fast:.2f} of RAW (b), "
                f"{median / w3:.1f}x the web3 BASELINE"
            )
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        terminate(node.pid)


if __name__ == "__main__":
    main()
