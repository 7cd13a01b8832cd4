"""Benchmark: gas and transactions of settling one clearing cycle as the number of participants grows.

    .venv/bin/python benchmarks/settlement_gas.py [--participants 10 100 1000] [--currencies 1|2|3]
        [--max-tx-bytes 131072] [--chunk-gas 15000000]

For each size, on a fresh chain under production's rules (cancun, 30 M block gas limit, 128 KiB
transactions: ``tests.support.devnet.start_rules_chain``) and a fresh hub with the demo consortium
(8 participants, committee of 3, threshold 2), extra banks are registered and funded until N banks
take part. Every one of them then owes the next one (a ring, amounts differing per participant) in
each currency, so every participant has a non-zero net: N positions per currency. The cycle is
closed; two committee members compute the result with the oracle node's own code and approve its
header as the node does (``oracle.node.committee.approve``); the accepting member then applies the
positions in chunks as the node does (``oracle.node.settlement.apply_chunks``: at most
``--max-tx-bytes`` of calldata and ``--chunk-gas`` of gas per chunk). Figures are the ``gasUsed`` of
the real receipts.

"gas/position" = (both approvals + every chunk) / positions: the whole on-chain cost of settlement
(intrinsic gas and calldata included). The baseline is the smallest size's figure, measured in the
same run: "x smallest" shows how the cost per position moves as the cycle grows (chunking must keep
it flat or falling), and "largest tx" shows the biggest single transaction's gas against the 30 M
block. The forge test ``tests/contracts/gas/SettlementGas.t.sol`` measures the same transactions
(isolation mode) and keeps them in ``snapshots/settlement.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from ledger.chain.client import ChainClient, TxSender
from ledger.devnet.anvil import terminate
from ledger.devnet.consortium import Member
from ledger.protocol.types import CycleStatus
from ledger.submit import encode_batch, validate_obligations
from ledger.submit.submitter import submit_batch_calldata
from oracle.node.committee import ApprovalStatus, approve
from oracle.node.settlement import ChunkLimits, ChunkOutcome, apply_chunks
from tests.support.devnet import add_participants, deploy_devnet, hub_artifact, start_rules_chain
from tests.support.node import make_node

CURRENCIES = ["SGD", "USD", "EUR"]  # the demo consortium has the first two; EUR is registered here
BLOCK_GAS = 30_000_000
#: submissions sent between two mined batches while setting up
_SUBMIT_WINDOW = 500


class BatchMining:
    """Automine off while a size is set up: one block per pipeline of transactions instead of one per
    transaction (10,000 participants need some 50,000 setup transactions). Settlement itself runs
    with automine on again, one transaction per block, as measured."""

    def __init__(self, client: ChainClient) -> None:
        self.client = client

    def __enter__(self) -> BatchMining:
        self.client.rpc("evm_setAutomine", [False])
        return self

    def __exit__(self, *exc: object) -> None:
        self.mine()
        self.client.rpc("evm_setAutomine", [True])

    def mine(self) -> None:
        """Mine blocks until no transaction is pending (each block holds what its gas limit allows)."""
        while int(self.client.rpc("txpool_status", [])["pending"], 16):
            self.client.rpc("evm_mine", [])


def run_size(n: int, currencies: int, tmp: Path, limits: ChunkLimits) -> dict[str, float]:
    node, _proxy = start_rules_chain(tmp)
    try:
        devnet = deploy_devnet(node, hub_artifact(), tmp)
        plan, hub = devnet.plan, devnet.hub
        codes = CURRENCIES[:currencies]
        if "EUR" in codes:
            devnet.operator.register_currency("EUR", 2)
            for member in plan.banks:
                devnet.operator.fund(member.address, "EUR", 1_000_000_00)
        banks: list[tuple[str, TxSender]] = [(m.address, devnet.sender(m)) for m in plan.banks]
        with BatchMining(devnet.client) as batch:
            extra = add_participants(
                devnet,
                max(0, n - len(banks)),
                name="Bench Bank",
                currencies=tuple(codes),
                funding=1_000_000_00,
                debit_cap=100_000_00,
                gas=True,
                mine=batch.mine,
            )
            banks += [(s.address, s) for s in extra]
            ring = banks[:n]  # banks only, so every obligation is interbank
            sent = []
            for i, (address, sender) in enumerate(ring):
                payee = ring[(i + 1) % len(ring)][0]
                items = [
                    {
                        "reference": f"bench-{code}-{i}",
                        "payee": payee,
                        "currency": code,
                        "amount": 1_000_00 + 7 * i,
                    }
                    for code in codes
                ]
                data = submit_batch_calldata(encode_batch(validate_obligations(items, payer=address)))
                sender.refresh_fees()
                sent.append((sender, sender.send(hub.address, data, gas=1_000_000), data))
                if len(sent) % _SUBMIT_WINDOW == 0:
                    batch.mine()
            batch.mine()
            for sender, tx_hash, data in sent:  # every payer its own key: sent at once, collected after
                sender.wait([(tx_hash, hub.address, data)])
        devnet.operator.close_cycle()
        oracles: list[Member] = plan.oracles[:2]
        computation = make_node(devnet, oracles[0]).ready_result()
        assert computation is not None
        result = computation.result
        before = devnet.client.block_number()
        started = time.perf_counter()
        outcomes = [approve(hub, devnet.sender(o), result) for o in oracles]
        assert [o.status for o in outcomes] == [ApprovalStatus.APPROVED, ApprovalStatus.ACCEPTED], outcomes
        outcome, reason = apply_chunks(hub, devnet.sender(oracles[1]), result, hub.views.settlement(), limits)
        seconds = time.perf_counter() - started
        assert outcome is ChunkOutcome.SETTLED, reason
        assert hub.cycle(1).status is CycleStatus.SETTLED
        gas = [
            int(devnet.client.get_block(b)["gasUsed"])
            for b in range(before + 1, devnet.client.block_number() + 1)
        ]
        positions = len(result.positions)
        approvals = outcomes[0].gas_used + outcomes[1].gas_used
        return {
            "participants": len(ring),
            "positions": positions,
            "approvals": approvals,
            "chunks": len(gas) - 2,  # one transaction per block (automine): the rest are chunks
            "total": sum(gas),
            "largest": max(gas),
            "per_position": sum(gas) / positions,
            "seconds": seconds,
        }
    finally:
        terminate(node.pid)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--participants", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--currencies", type=int, choices=[1, 2, 3], default=1)
    parser.add_argument("--max-tx-bytes", type=int, default=131_072)
    parser.add_argument("--chunk-gas", type=int, default=BLOCK_GAS // 2)
    args = parser.parse_args()
    limits = ChunkLimits(max_tx_bytes=args.max_tx_bytes, chunk_gas=args.chunk_gas)
    print(
        f"settlement gas per cycle (committee 3, threshold 2, {args.currencies} currency/ies, chunks of at "
        f"most {limits.max_tx_bytes:,} bytes and {limits.chunk_gas:,} gas), real receipts on the rules chain"
    )
    print(
        f"{'participants':>12} {'positions':>9} {'approvals':>10} {'chunks':>6} {'total gas':>12} "
        f"{'gas/position':>12} {'x smallest':>10} {'largest tx':>11} {'% block':>7} {'seconds':>8}"
    )
    base = 0.0
    for n in sorted(args.participants):
        with tempfile.TemporaryDirectory() as tmp:
            r = run_size(n, args.currencies, Path(tmp), limits)
        base = base or r["per_position"]
        print(
            f"{r['participants']:>12.0f} {r['positions']:>9.0f} {r['approvals']:>10,.0f} {r['chunks']:>6.0f} "
            f"{r['total']:>12,.0f} {r['per_position']:>12,.0f} {r['per_position'] / base:>10.2f} "
            f"{r['largest']:>11,.0f} {100 * r['largest'] / BLOCK_GAS:>6.1f}% {r['seconds']:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
