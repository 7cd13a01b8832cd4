"""JSON-RPC client: connection, retries, fees, nonces, receipts and readable reverts.

Works against any EVM endpoint: anvil (EIP-1559, automine), and permissioned Besu/QBFT networks
(POA extra-data, zero gas price). Sending is split from waiting so that many transactions can be
in flight: :meth:`TxSender.send` signs with a locally tracked nonce and returns at once,
:meth:`TxSender.wait` collects the receipts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import requests
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes
from web3 import HTTPProvider, Web3
from web3.exceptions import ContractLogicError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint

from ledger.chain.abi import HubAbi
from ledger.chain.retry import DEFAULT_RETRY, OVERLOADED, RetryPolicy
from ledger.config import GasSettings, Settings
from ledger.errors import ChainError, ConfigError, TransactionReverted, TransactionTimeout
from ledger.keys import Signer
from ledger.protocol.hashing import keccak256
from ledger.types import GasMode

log = logging.getLogger(__name__)

T = TypeVar("T")

#: errors worth retrying: the node is unreachable or overloaded, not "your request is wrong"
_TRANSIENT = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)


def retry_transient(fn: Callable[[], T], *, what: str, policy: RetryPolicy = DEFAULT_RETRY) -> T:
    """``fn()`` under ``policy``, retrying only transient transport errors (see :mod:`ledger.chain.retry`)."""

    def attempt() -> T:
        try:
            return fn()
        except requests.HTTPError as exc:  # web3 raises the provider's HTTP status as HTTPError
            status = exc.response.status_code if exc.response is not None else None
            if status in OVERLOADED:
                raise requests.ConnectionError(f"HTTP {status}") from exc
            raise

    return policy.call(attempt, what=what, transient=_TRANSIENT)


class Receipt(dict[str, Any]):
    """The receipt fields the client uses, without web3's per-log formatting.

    web3 formats every log of a receipt into attribute dicts: for a 1,300-obligation batch that is
    half a second per receipt. Keys: ``transactionHash`` (bytes), ``status``, ``gasUsed``,
    ``blockNumber`` (ints), ``contractAddress`` (checksummed or None), ``logs`` (raw JSON).
    """

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Receipt:
        address = raw.get("contractAddress")
        return cls(
            transactionHash=bytes.fromhex(raw["transactionHash"][2:]),
            status=int(raw["status"], 16),
            gasUsed=int(raw["gasUsed"], 16),
            blockNumber=int(raw["blockNumber"], 16),
            contractAddress=to_checksum_address(address) if address else None,
            logs=raw.get("logs", []),
        )


def revert_data(exc: BaseException) -> bytes | None:
    """The revert payload carried by a web3 exception, if any."""
    data: Any = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return bytes.fromhex(data[2:])
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return None


class ChainClient:
    """One endpoint, checked against the expected chain id on connect."""

    def __init__(
        self,
        rpc_url: str,
        *,
        timeout: float = 30.0,
        poa: bool | None = None,
        expected_chain_id: int | None = None,
        abi: HubAbi | None = None,
        receipt_timeout: float = 120.0,
        retry_policy: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.rpc_url = rpc_url
        self.retry_policy = retry_policy
        self.timeout = timeout
        self.abi = abi
        self.receipt_timeout = receipt_timeout
        # web3's provider would retry each call itself (5 tries) inside our policy: switched off.
        provider = HTTPProvider(
            rpc_url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
        )
        self.w3 = Web3(provider)
        self.chain_id: int = self.retry(lambda: self.w3.eth.chain_id, what=f"eth_chainId at {rpc_url}")
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise ConfigError(
                f"{rpc_url} is chain {self.chain_id}, configuration expects {expected_chain_id}"
            )
        if poa is None:
            # QBFT/Clique put validator data in extraData (> 32 bytes): web3 rejects it without the middleware
            extra = self.retry(
                lambda: self.w3.eth.get_block("latest")["extraData"], what="eth_getBlockByNumber"
            )
            poa = len(extra) > 32
        if poa:
            self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)

    def retry(self, fn: Callable[[], T], *, what: str) -> T:
        """``fn()`` under this client's retry policy (transient transport errors only)."""
        return retry_transient(fn, what=what, policy=self.retry_policy)

    @classmethod
    def from_settings(cls, settings: Settings, abi: HubAbi | None = None) -> ChainClient:
        return cls(
            settings.rpc_url,
            timeout=settings.rpc_timeout,
            poa=settings.poa,
            expected_chain_id=settings.chain_id,
            abi=abi,
            receipt_timeout=settings.receipt_timeout,
        )

    # -- reads --------------------------------------------------------------------------

    def block_number(self) -> int:
        return self.retry(lambda: self.w3.eth.block_number, what="eth_blockNumber")

    def get_block(self, number: int | str) -> Any:
        return self.retry(lambda: self.w3.eth.get_block(number), what="eth_getBlockByNumber")  # type: ignore[arg-type]

    def code_at(self, address: str) -> bytes:
        return bytes(
            self.retry(lambda: self.w3.eth.get_code(to_checksum_address(address)), what="eth_getCode")
        )

    def call(self, to: str, data: bytes, *, block: int | str = "latest", sender: str | None = None) -> bytes:
        """``eth_call``; a revert raises :class:`TransactionReverted` with the decoded error."""
        tx: dict[str, Any] = {"to": to_checksum_address(to), "data": HexBytes(data)}
        if sender:
            tx["from"] = to_checksum_address(sender)
        try:
            return bytes(self.retry(lambda: self.w3.eth.call(tx, block_identifier=block), what="eth_call"))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise self._reverted(exc) from None

    def eth_call(self, to: str, data: bytes, block: int | str) -> bytes:
        """``eth_call`` in the transport shape :class:`ledger.chain.views.HubViews` reads through."""
        return self.call(to, data, block=block)

    def estimate_gas(self, sender: str, to: str, data: bytes) -> int:
        tx: dict[str, Any] = {
            "from": to_checksum_address(sender),
            "to": to_checksum_address(to),
            "data": HexBytes(data),
        }
        try:
            return int(self.retry(lambda: self.w3.eth.estimate_gas(tx), what="eth_estimateGas"))  # type: ignore[arg-type]
        except ContractLogicError as exc:
            raise self._reverted(exc) from None

    def decode_revert(self, data: bytes | None) -> str:
        if data is None:
            return "reverted (the node returned no revert data)"
        return self.abi.decode_error(data) if self.abi else f"reverted with data 0x{data.hex()}"

    def _reverted(self, exc: ContractLogicError, tx_hash: str | None = None) -> TransactionReverted:
        data = revert_data(exc)
        return TransactionReverted(self.decode_revert(data), tx_hash=tx_hash, data=data)

    # -- fees ---------------------------------------------------------------------------

    def fee_fields(self, gas: GasSettings) -> dict[str, int]:
        """Price fields for the next transactions under ``gas.mode``."""
        if gas.mode is GasMode.ZERO:
            return {"gasPrice": 0}
        if gas.mode is GasMode.LEGACY:
            return {"gasPrice": int(self.retry(lambda: self.w3.eth.gas_price, what="eth_gasPrice"))}
        base_fee = self.get_block("latest").get("baseFeePerGas")
        if base_fee is None:
            if gas.mode is GasMode.EIP1559:
                raise ConfigError("gas mode eip1559, but the chain's blocks have no base fee")
            return {"gasPrice": int(self.retry(lambda: self.w3.eth.gas_price, what="eth_gasPrice"))}
        tip = gas.priority_fee_wei if base_fee > 0 else 0
        return {"maxFeePerGas": int(base_fee) * gas.max_fee_multiplier + tip, "maxPriorityFeePerGas": tip}

    # -- transactions -------------------------------------------------------------------

    def send_raw(self, raw: bytes) -> str:
        """``eth_sendRawTransaction`` without web3's middleware (a 120 KB batch costs ~30 ms there)."""
        response = self.retry(
            lambda: self.w3.provider.make_request(RPCEndpoint("eth_sendRawTransaction"), ["0x" + raw.hex()]),
            what="eth_sendRawTransaction",
        )
        if "error" in response:
            message = str(response["error"].get("message", response["error"]))
            if "already known" in message or "AlreadyKnown" in message:
                return "0x" + keccak256(raw).hex()
            raise ChainError(f"transaction refused by the node: {message}")
        return str(response["result"])

    def rpc(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call (no web3 formatting); errors raise :class:`ChainError`."""
        response = self.retry(lambda: self.w3.provider.make_request(RPCEndpoint(method), params), what=method)
        if "error" in response:
            raise ChainError(f"{method}: {response['error']}")
        return response.get("result")

    def wait_receipts(self, hashes: Sequence[str], *, timeout: float | None = None) -> list[Receipt]:
        """Receipts for ``hashes`` in order, polling until ``timeout`` (default: receipt_timeout)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.receipt_timeout)
        receipts: dict[str, Receipt] = {}
        pending = list(hashes)
        delay = 0.002
        while pending:
            still: list[str] = []
            for tx_hash in pending:
                raw = self.rpc("eth_getTransactionReceipt", [tx_hash])
                if raw is None:
                    still.append(tx_hash)
                else:
                    receipts[tx_hash] = Receipt.from_json(raw)
            pending = still
            if pending:
                if time.monotonic() > deadline:
                    raise TransactionTimeout(
                        f"{len(pending)} transaction(s) without receipt after the timeout, "
                        f"first {pending[0]}; "
                        "they may still be mined: re-run to resume"
                    )
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        return [receipts[h] for h in hashes]

    def explain_failure(self, receipt: Receipt, sender: str, to: str, data: bytes) -> TransactionReverted:
        """Decode why a mined transaction failed by replaying it against the state before its block."""
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        block = max(int(receipt["blockNumber"]) - 1, 0)
        try:
            self.call(to, data, block=block, sender=sender)
        except TransactionReverted as exc:
            return TransactionReverted(exc.reason, tx_hash=tx_hash, data=exc.data)
        return TransactionReverted(
            "reverted (replay did not reproduce: out of gas or state changed)", tx_hash=tx_hash
        )


class TxSender:
    """Signs and sends transactions for one key, with a local nonce so many can be in flight."""

    def __init__(self, client: ChainClient, signer: Signer, gas: GasSettings) -> None:
        self.client = client
        self.signer = signer
        self.gas = gas
        self._nonce: int | None = None
        self._fees: dict[str, int] | None = None

    @property
    def address(self) -> str:
        return self.signer.address

    def sync_nonce(self) -> int:
        """Re-read the next nonce from the node (pending block)."""
        w3 = self.client.w3
        address = to_checksum_address(self.signer.address)
        self._nonce = int(
            self.client.retry(lambda: w3.eth.get_transaction_count(address, "pending"), what="nonce")
        )
        return self._nonce

    def refresh_fees(self) -> None:
        self._fees = self.client.fee_fields(self.gas)

    def gas_limit(self, to: str, data: bytes) -> int:
        """``eth_estimateGas`` with the configured headroom; a revert raises the decoded error."""
        estimate = self.client.estimate_gas(self.signer.address, to, data)
        return estimate * self.gas.limit_multiplier_percent // 100

    def send(self, to: str | None, data: bytes, *, gas: int | None = None) -> str:
        """Sign and send without waiting; returns the transaction hash. ``to=None`` creates a contract."""
        if self._nonce is None:
            self.sync_nonce()
        if self._fees is None:
            self.refresh_fees()
        assert self._nonce is not None and self._fees is not None
        if gas is None:
            if to is None:
                raise ValueError("contract creation needs an explicit gas limit")
            gas = self.gas_limit(to, data)
        tx: dict[str, Any] = {
            "data": HexBytes(data),
            "value": 0,
            "gas": gas,
            "nonce": self._nonce,
            "chainId": self.client.chain_id,
            **self._fees,
        }
        if to is not None:
            tx["to"] = to_checksum_address(to)
        raw = self.signer.sign_transaction(tx)
        try:
            tx_hash = self.client.send_raw(raw)
        except ChainError:
            self._nonce = None  # resynchronise on the next send (nonce too low / replaced / gapped)
            raise
        self._nonce += 1
        return tx_hash

    def wait(self, sent: Iterable[tuple[str, str, bytes]], *, timeout: float | None = None) -> list[Receipt]:
        """Wait for ``(tx_hash, to, data)`` triples; the first failed one raises its decoded revert."""
        triples = list(sent)
        try:
            receipts = self.client.wait_receipts([h for h, _, _ in triples], timeout=timeout)
        except TransactionTimeout:
            # Dropped by a reorg, evicted, replaced, or stuck behind a nonce gap: the local nonce may
            # be ahead of the chain's, and every later send would queue behind the gap. Re-read it.
            self._nonce = None
            raise
        for receipt, (_, to, data) in zip(receipts, triples, strict=True):
            if receipt["status"] != 1:
                self._nonce = None
                raise self.client.explain_failure(receipt, self.signer.address, to, data)
        return receipts

    def transact(self, to: str, data: bytes, *, gas: int | None = None) -> Receipt:
        """Send one transaction and wait for its successful receipt."""
        self.refresh_fees()
        tx_hash = self.send(to, data, gas=gas)
        return self.wait([(tx_hash, to, data)])[0]
