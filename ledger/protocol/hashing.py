"""Keccak-256, the one hash function of the chain, as fast as this machine allows.

``safe-pysha3`` (a C extension, about 1.1M hashes/s here) is a declared dependency; eth-hash's
default backend does about 200k/s. Netting 1M obligations hashes 3M times, so the choice matters.
"""

from __future__ import annotations

import sha3


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte Keccak-256 digest of ``data`` (Ethereum's, not NIST SHA3-256)."""
    digest: bytes = sha3.keccak_256(data).digest()
    return digest
