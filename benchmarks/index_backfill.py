"""Backfill benchmark: index N ObligationSubmitted events (default 1,000,000) from a local anvil into
SQLite and PostgreSQL, against (a) the raw rate of fetching + JSON-parsing the same logs with plain
eth_getLogs POSTs and (b) web3.py's get_logs + process_log. Builds the chain itself with pre-encoded
packed ``submitBatch`` transactions from the five demo banks.

    .venv/bin/python benchmarks/index_backfill.py [--obligations 1000000] [--batch 2000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import requests

from ledger.chain.client import TxSender
from ledger.devnet.anvil import free_port, launch, terminate
from ledger.index.db import make_engine
from ledger.index.decode import EventDecoder
from ledger.index.indexer import Indexer, IndexerOptions
from ledger.index.testing import fresh_postgres_url
from ledger.keys import dev_signer
from ledger.submit.submitter import submit_batch_calldata
from ledger.testing import Devnet, deploy_devnet, hub_artifact


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
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "eth_getLogs",
            "params": [{"address": hub, "fromBlock": hex(block), "toBlock": hex(to)}],
        }
        reply = json.loads(session.post(url, json=body, timeout=300).content)
        count += len(reply["result"])
        block = to + 1
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
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-index-"))
    _, node = launch(
        port=free_port(),
        accounts=20,
        log_file=tmp / "anvil.log",
        extra_args=("--gas-limit", "300000000", "--disable-code-size-limit"),
    )
    try:
        devnet = deploy_devnet(node, hub_artifact(), tmp)
        seconds = build_chain(devnet, args.obligations, args.batch)
        head = devnet.client.block_number()
        start = devnet.deployment.start_block
        print(f"chain: {args.obligations:,} obligations in {head - start} blocks, built in {seconds:.1f}s")
        per_block = max(1, args.obligations // max(head - start, 1))
        raw_count, raw_seconds = raw_rate(
            node.url, devnet.hub.address, start, head, max(1, 20_000 // per_block)
        )
        raw = raw_count / raw_seconds
        print(f"raw eth_getLogs + json.loads: {raw_count:,} logs in {raw_seconds:.2f}s = {raw:,.0f} logs/s")
        sample_blocks = max(1, 20_000 // per_block)
        w3_count, w3_seconds = web3_rate(devnet, max(start, head - sample_blocks + 1), sample_blocks)
        w3 = w3_count / w3_seconds
        print(f"web3 get_logs + process_log (sample): {w3_count:,} events in {w3_seconds:.2f}s = {w3:,.0f}/s")
        backends = [("sqlite", f"sqlite:///{tmp / 'bench.db'}")]
        if not args.skip_postgres:
            backends.append(("postgresql", fresh_postgres_url()))
        for name, url in backends:
            engine = make_engine(url)
            indexer = Indexer(engine, node.url, devnet.deployment, IndexerOptions(max_blocks=100_000))
            began = time.perf_counter()
            progress = indexer.run_once()
            elapsed = time.perf_counter() - began
            rate = progress.events / elapsed
            print(
                f"indexer -> {name}: {progress.events:,} events in {elapsed:.2f}s = {rate:,.0f} events/s; "
                f"{rate / raw:.2f} of raw, {rate / w3:.1f}x web3"
            )
    finally:
        terminate(node.pid)


if __name__ == "__main__":
    main()
