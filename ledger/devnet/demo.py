"""``scripts/demo``: the devnet end to end — traffic, a gridlocked cycle, committee settlement,
indexing and a reconciliation summary."""

from __future__ import annotations

import logging
import subprocess
import sys
import time

from ledger.chain.client import ChainClient, TxSender
from ledger.config import load_settings
from ledger.deploy import open_hub, read_deployment
from ledger.devnet.lifecycle import devnet_up
from ledger.devnet.oracles import start_oracles
from ledger.keys import dev_signer
from ledger.operator import Operator
from ledger.submit import validate_obligations
from ledger.submit.submitter import Submitter
from ledger.types import CycleStatus

log = logging.getLogger("demo")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = load_settings()
    _, plan = devnet_up(settings)
    start_oracles(settings, plan)
    client = ChainClient.from_settings(settings)
    hub = open_hub(client, read_deployment(settings.deployment_file))
    stamp = int(time.time())
    banks, wallets = plan.banks, plan.wallet_providers
    for i, payer in enumerate(plan.participants):
        items: list[dict[str, object]] = []
        for j in range(40):
            if payer in banks:
                payee = wallets[j % 3] if j % 4 == 0 else banks[(i + 1 + j % 4) % 5]
                kind = "wallet_topup" if payee in wallets else "interbank"
            else:
                payee = banks[j % 5] if j % 2 else wallets[(wallets.index(payer) + 1) % 3]
                kind = "wallet_withdrawal" if payee in banks else "wallet_to_wallet"
            if payee.address == payer.address:
                continue
            items.append({"reference": f"D{stamp}-{j:04d}", "payee": payee.address, "currency": "SGD",
                          "amount": 1_000_00 * (1 + j % 7), "type": kind})
        # one payment that exceeds the payer's liquidity: gridlock resolution must defer it
        if i == 0:
            items.append({"reference": f"D{stamp}-big", "payee": banks[1].address, "currency": "SGD",
                          "amount": 900_000_00, "type": "interbank"})
        rows = validate_obligations(items, payer=payer.address)
        report = Submitter(hub, TxSender(client, dev_signer(payer.key_index), settings.gas)).submit(rows)
        log.info("%-14s submitted %d obligations", payer.name, report.submitted)
    cycle_id = hub.current_cycle_id()
    Operator(hub, TxSender(client, dev_signer(plan.admin.key_index), settings.gas)).close_cycle()
    log.info("cycle %d closed; waiting for the oracle committee", cycle_id)
    deadline = time.monotonic() + 120
    while hub.cycle(cycle_id).status is not CycleStatus.SETTLED:
        if time.monotonic() > deadline:
            sys.exit(f"cycle {cycle_id} did not settle: see {settings.devnet.state_dir}/oracles/*.log")
        time.sleep(0.5)
    log.info("cycle %d settled by the committee", cycle_id)
    for args in (["index"], ["recon", "cycle", str(cycle_id)]):
        subprocess.run([sys.executable, "-m", "ledger.cli", *args], check=False)


if __name__ == "__main__":
    main()
