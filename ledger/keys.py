"""Signing keys: encrypted keystores for real nodes, anvil's public dev keys on the devnet only.

The private key lives inside :class:`Signer` and nowhere else: ``repr``/``str`` show only the
address, nothing here logs or formats key material, and errors name the key *source*, never the
key. (The CLI also disables rich's "show locals" tracebacks, which would print frames' variables.)
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from ledger.config import DEVNET_CHAIN_ID
from ledger.errors import KeyLoadError

#: anvil's default mnemonic; its keys are public and fund every anvil chain.
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"


class Signer:
    """A local signing key with its address. Key material is never exposed in text."""

    __slots__ = ("_account", "address")

    def __init__(self, account: LocalAccount) -> None:
        self._account = account
        self.address: str = account.address

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """Sign a transaction dict and return the raw signed bytes."""
        signed = self._account.sign_transaction(tx)
        return bytes(signed.raw_transaction)

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Signer holds a private key and cannot be pickled")


def dev_signer(index: int) -> Signer:
    """anvil's dev key ``index`` (m/44'/60'/0'/0/index of the public test mnemonic)."""
    Account.enable_unaudited_hdwallet_features()
    account = Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{index}")
    return Signer(account)


def keystore_signer(path: Path, password: str) -> Signer:
    """Decrypt an eth-account (Web3 Secret Storage) keystore file."""
    try:
        keyfile = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KeyLoadError(f"cannot read keystore {path}: {exc.__class__.__name__}") from None
    if not isinstance(keyfile, dict):
        raise KeyLoadError(f"cannot read keystore {path}: not a JSON object (corrupt file?)")
    try:
        key = Account.decrypt(keyfile, password)
    except (KeyError, TypeError):  # a JSON object without the keystore's fields
        raise KeyLoadError(
            f"cannot read keystore {path}: not a Web3 Secret Storage file (corrupt file?)"
        ) from None
    except ValueError:
        # eth-account says "MAC mismatch"; do not chain the exception (its frames hold the password).
        raise KeyLoadError(f"cannot decrypt keystore {path}: wrong password or corrupt file") from None
    return Signer(Account.from_key(key))


def create_keystore(path: Path, password: str) -> str:
    """Create a new random key, write it encrypted to ``path`` (mode 0600) and return its address."""
    if path.exists():
        raise KeyLoadError(f"{path} exists; refusing to overwrite a keystore")
    account = Account.create()
    encrypted = Account.encrypt(account.key, password)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(encrypted, handle)
    return str(account.address)


def load_signer(
    source: str,
    *,
    chain_id: int,
    password_env: str = "LEDGER_KEYSTORE_PASSWORD",  # noqa: S107 - a variable name, not a password
    prompt: Callable[[str], str] | None = None,
) -> Signer:
    """Load the signer named by a key source (``keystore:PATH`` or ``devnet:N``).

    Dev keys are refused unless ``chain_id`` is anvil's (31337): they are public. A keystore's
    password comes from ``$password_env`` or, when that is unset, from ``prompt`` (default: a
    hidden terminal prompt).
    """
    kind, _, value = source.partition(":")
    if kind == "devnet":
        if chain_id != DEVNET_CHAIN_ID:
            raise KeyLoadError(
                f"devnet keys are public and only allowed on chain id {DEVNET_CHAIN_ID}; "
                f"this chain is {chain_id}: use a keystore"
            )
        try:
            index = int(value)
        except ValueError:
            raise KeyLoadError(f"key source {source!r}: devnet:N needs an account index") from None
        return dev_signer(index)
    if kind == "keystore":
        path = Path(value)
        password = os.environ.get(password_env)
        if password is None:
            ask = prompt or getpass.getpass
            password = ask(f"Password for {path}: ")
        return keystore_signer(path, password)
    raise KeyLoadError(f"unknown key source {source!r}: use keystore:PATH or devnet:N")
