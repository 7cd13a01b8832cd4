"""Keys: keystores load; key material never shows up in text, errors or logs."""

from __future__ import annotations

import logging
import pickle
import traceback
from pathlib import Path

import pytest
from eth_account import Account

from ledger.errors import KeyLoadError
from ledger.keys import create_keystore, dev_signer, keystore_signer, load_signer


def test_keystore_roundtrip_and_no_leak(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "node.json"
    address = create_keystore(path, "correct horse")
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    monkeypatch.setenv("BANK_PW", "correct horse")
    with caplog.at_level(logging.DEBUG):
        signer = load_signer(f"keystore:{path}", chain_id=1337, password_env="BANK_PW")
    assert signer.address == address
    key_hex = Account.decrypt(__import__("json").loads(path.read_text()), "correct horse").hex()
    for text in (repr(signer), str(signer), caplog.text):
        assert key_hex not in text and key_hex.removeprefix("0x") not in text
    with pytest.raises(TypeError):
        pickle.dumps(signer)

    with pytest.raises(KeyLoadError) as excinfo:
        keystore_signer(path, "wrong")
    rendered = "".join(traceback.format_exception(excinfo.value))
    assert "wrong password" in str(excinfo.value)
    assert "correct horse" not in rendered and key_hex.removeprefix("0x") not in rendered


def test_prompted_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k.json"
    create_keystore(path, "pw")
    monkeypatch.delenv("LEDGER_KEYSTORE_PASSWORD", raising=False)
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return "pw"

    signer = load_signer(f"keystore:{path}", chain_id=5, prompt=prompt)
    assert asked and str(path) in asked[0] and signer.address.startswith("0x")


def test_dev_keys_only_on_the_devnet() -> None:
    assert load_signer("devnet:0", chain_id=31337).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
    with pytest.raises(KeyLoadError, match="only allowed on chain id 31337"):
        load_signer("devnet:0", chain_id=1337)
    assert dev_signer(1).address == "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_keystore_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    create_keystore(path, "a")
    with pytest.raises(KeyLoadError, match="refusing to overwrite"):
        create_keystore(path, "b")
