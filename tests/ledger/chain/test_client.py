"""Deployment, registration, revert decoding and pricing modes against a real anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_typing import HexStr
from eth_utils.address import to_checksum_address

from ledger.abi import hub_abi
from ledger.build.artifacts import canonical_abi_json, forge_artifact_path, load_artifact
from ledger.build.compiler import compile_hub
from ledger.chain.client import ChainClient, TxSender
from ledger.config import GasSettings
from ledger.deploy import read_deployment
from ledger.devnet.anvil import terminate
from ledger.errors import ConfigError, TransactionReverted
from ledger.keys import dev_signer
from ledger.protocol.hashing import keccak256
from ledger.protocol.types import CycleStatus, ParticipantStatus
from ledger.submit import validate_obligations
from ledger.submit.submitter import Submitter
from ledger.types import GasMode
from tests.support.devnet import Devnet, deploy_devnet, hub_artifact, start_anvil


def test_deploy_registers_the_demo_consortium(devnet: Devnet) -> None:
    hub, plan = devnet.hub, devnet.plan
    assert len(plan.banks) == 5 and len(plan.wallet_providers) == 3
    for member in plan.participants:
        assert hub.participant(member.address) == (member.kind, ParticipantStatus.ACTIVE)
        for currency in plan.currencies:
            assert hub.account_of(member.address, currency.code) == (currency.funding, currency.debit_cap)
    assert hub.committee() == (3, 2, 4)  # 3 additions + threshold: 4 committee epochs
    assert all(hub.view("isOracle", o.address) for o in plan.oracles)
    assert hub.view("isAuditor", plan.auditor.address)
    assert hub.cycle(1).status is CycleStatus.OPEN
    saved = read_deployment(devnet.settings.deployment_file)
    assert saved == devnet.deployment and saved.start_block >= 1


def test_python_compile_equals_forge_and_packaged_abi_is_current() -> None:
    if not forge_artifact_path().is_file():
        pytest.fail("out/ has no forge artifact: run `forge build` (scripts/test does)")
    ours, settings = compile_hub()
    forge = load_artifact()
    assert ours.bytecode == forge.bytecode, "py-solc-x and forge must produce identical creation bytecode"
    assert settings.evm_version == "cancun" and settings.via_ir
    assert canonical_abi_json(hub_abi()) == canonical_abi_json(ours.abi), (
        "regenerate ledger/abi/SettlementHub.json"
    )


def test_reverts_are_decoded_into_custom_errors(devnet: Devnet) -> None:
    bank = devnet.plan.banks[0]
    with pytest.raises(TransactionReverted) as excinfo:
        devnet.hub.transact(devnet.sender(bank), "registerCurrency", b"EUR", 2)
    assert excinfo.value.reason == f"OwnableUnauthorizedAccount(account={bank.address})"

    payee = devnet.plan.banks[1].address
    rows = validate_obligations(
        [{"reference": "dup-1", "payee": payee, "currency": "SGD", "amount": 100}], payer=bank.address
    )
    record = devnet.sender(bank)
    Submitter(devnet.hub, record).submit(rows)
    obligation = (payee, b"SGD", 0, 100, rows[0].ref, b"\0" * 32, b"\0" * 32)
    with pytest.raises(TransactionReverted) as excinfo:
        devnet.hub.transact(record, "submit", obligation)
    assert excinfo.value.reason == f"DuplicateReference(payer={bank.address}, ref=0x{rows[0].ref.hex()})"
    assert "tx" not in excinfo.value.reason


def test_failed_mined_transaction_is_explained(devnet: Devnet) -> None:
    """A transaction mined with status 0 (gas limit given, no estimate) is replayed for its reason."""
    bank = devnet.plan.banks[0]
    sender = devnet.sender(bank)
    data = devnet.hub.encode("closeCycle")
    with pytest.raises(TransactionReverted) as excinfo:
        sender.transact(devnet.hub.address, data, gas=100_000)
    assert excinfo.value.reason == "CycleStillRunning(cycleId=1, closesAt=0)"
    assert excinfo.value.tx_hash is not None


def test_wrong_chain_is_refused(devnet: Devnet) -> None:
    with pytest.raises(ConfigError, match="expects 1"):
        ChainClient(devnet.node.url, expected_chain_id=1)


def test_zero_gas_price_network(tmp_path: Path) -> None:
    """Besu/QBFT style: base fee and gas price 0; transactions are legacy at price 0."""
    node = start_anvil(tmp_path, "--base-fee", "0", "--gas-price", "0")
    try:
        net = deploy_devnet(node, hub_artifact(), tmp_path, gas=GasSettings(mode=GasMode.ZERO))
        bank = net.plan.banks[0]
        before = net.client.w3.eth.get_balance(to_checksum_address(bank.address))
        rows = validate_obligations(
            [
                {"reference": f"z-{i}", "payee": net.plan.banks[1].address, "currency": "SGD", "amount": 5}
                for i in range(50)
            ],
            payer=bank.address,
        )
        report = Submitter(net.hub, net.sender(bank)).submit(rows)
        assert report.submitted == 50
        assert net.client.w3.eth.get_balance(to_checksum_address(bank.address)) == before, (
            "zero gas price: no fee was paid"
        )
        tx = net.client.w3.eth.get_transaction(HexStr(report.tx_hashes[0]))
        assert tx["gasPrice"] == 0 and tx["type"] == 0
    finally:
        terminate(node.pid)


def test_many_transactions_in_flight_keep_nonces(devnet: Devnet) -> None:
    sender = TxSender(devnet.client, dev_signer(devnet.plan.admin.key_index), devnet.settings.gas)
    sender.refresh_fees()
    data = devnet.hub.encode("setCycleDuration", 0)
    sent = [(sender.send(devnet.hub.address, data, gas=60_000), devnet.hub.address, data) for _ in range(25)]
    receipts = sender.wait(sent)
    assert [r["status"] for r in receipts] == [1] * 25
    nonces = [devnet.client.w3.eth.get_transaction(HexStr(h))["nonce"] for h, _, _ in sent]
    assert nonces == list(range(nonces[0], nonces[0] + 25))


def test_packaged_abi_matches_deployment_hash(devnet: Devnet) -> None:
    data = json.loads(devnet.settings.deployment_file.read_text())
    assert data["abi_hash"] == devnet.deployment.abi_hash


def test_accounts_of_any_number_of_accounts_stays_under_the_call_gas_cap(devnet: Devnet) -> None:
    """10,000 accounts in one accountsOf need ~42 M gas, past the 30 M block a node caps eth_call at:
    the view reads them in calls of ACCOUNTS_PER_CALL."""
    members = [m.address for m in devnet.plan.participants]
    strangers = [to_checksum_address(keccak256(i.to_bytes(8, "big"))[:20]) for i in range(10_000)]
    accounts = [*strangers[:5_000], *members, *strangers[5_000:]]
    read = devnet.hub.views.accounts_of(accounts, "SGD")
    assert len(read) == len(accounts)
    assert read[5_000 : 5_000 + len(members)] == [devnet.hub.account_of(m, "SGD") for m in members]
    assert set(read[:5_000] + read[5_000 + len(members) :]) == {(0, 0)}
